/* net.h - a sandbox's private network: slirp4netns on its namespace.
 *
 * With sbxd's default --network private, bwrap gives each sandbox a network
 * namespace of its own (only loopback). sbxd_net_start() attaches
 * slirp4netns to it: a tap device with 10.0.2.100/24, gateway 10.0.2.2,
 * DNS 10.0.2.3, and outbound TCP/UDP made as ordinary sockets of the host.
 * --disable-host-loopback refuses connections to the host's 127.0.0.0/8,
 * so sbxd's API and every other loopback service of the host stay out of
 * reach. slirp4netns starts as host root, because creating the tap device
 * opens /dev/net/tun, which is often root's alone; once the device exists
 * (--enable-sandbox) it moves into an empty mount namespace of its own
 * and drops every capability but CAP_NET_BIND_SERVICE, under its own
 * seccomp filter (--enable-seccomp). It is never inside the sandbox: the
 * sandbox's code reaches it only as packets on the tap device. It exits
 * when sbxd closes the exit pipe, or with sbxd.
 *
 * Lifecycle: start (once the init's pid is known) -> ready (callback, once)
 * -> stop. A slirp4netns that dies early is reported through on_exit.
 */
#ifndef SBX_HOST_NET_H
#define SBX_HOST_NET_H

#include <stdbool.h>
#include <sys/types.h>

#include "host/child.h"
#include "host/loop.h"

#define SBX_NET_DNS "10.0.2.3"

struct sbxd_net {
	struct sbxd_loop *loop;
	struct sbxd_child child;
	int exit_w;  /* closing it ends slirp4netns */
	int ready_r; /* slirp4netns writes "1" here once configured */
	struct sbxd_watch ready_w;
	bool ready;
	void (*on_ready)(void *arg);
	void (*on_exit)(void *arg, int wstatus);
	void *arg;
};

/* Initialises n as stopped (safe to sbxd_net_stop). */
void sbxd_net_init(struct sbxd_net *n);

/* Starts slirp4netns (host path slirp) on the network namespace of target
 * (the sandbox's init, in the sandbox's user namespace). live counts children
 * (borrowed). on_ready fires once, on the loop; on_exit when slirp4netns
 * ended while not stopped. 0 or -errno. */
int sbxd_net_start(struct sbxd_net *n, struct sbxd_loop *l, const char *slirp, pid_t target,
		   size_t *live, void (*on_ready)(void *arg),
		   void (*on_exit)(void *arg, int wstatus), void *arg);

/* Stops it (no callback fires after this). */
void sbxd_net_stop(struct sbxd_net *n);

#endif
