/* userns.h - the user namespace a sandbox runs in.
 *
 * A sandbox's root is not the host's root: uid and gid 0..count-1 inside
 * map to base..base+count-1 on the host, a range no host user owns. Every
 * file a sandbox creates is owned by that range on the host, and the
 * capabilities the sandbox's processes hold count only inside namespaces
 * its user namespace owns, never over the host's sysctls, devices or
 * kernel.
 *
 * sbxd_userns_open() creates one such namespace and returns an fd that
 * keeps it alive. The sandbox's init (bwrap) and every exec enter it with
 * setns() (sbxd_userns_enter) before they create or join anything else, so
 * all the sandbox's other namespaces are owned by it. One namespace per
 * sandbox: two sandboxes never share the owner of their namespaces.
 */
#ifndef SBX_HOST_USERNS_H
#define SBX_HOST_USERNS_H

#include <stdint.h>
#include <sys/types.h>

/* The host range behind a sandbox's ids. */
struct sbxd_idmap {
	uid_t base;	/* host uid (and gid) of the sandbox's 0 */
	uint32_t count; /* ids mapped: 0..count-1 */
};

#define SBX_IDMAP_BASE_DEFAULT	1000000000u
#define SBX_IDMAP_COUNT_DEFAULT 65536u

/* True when [base, base+count) is a sane range: not 0, no overflow, and
 * clear of the overflow ids (65534) and of (uid_t)-1. */
int sbxd_idmap_valid(const struct sbxd_idmap *m);

/* Creates a user namespace with map m for both uids and gids (setgroups
 * denied). Returns an O_CLOEXEC fd of /proc/PID/ns/user or -errno. Needs
 * CAP_SETUID/CAP_SETGID over the range (sbxd runs as root). Blocks for the
 * few milliseconds a helper process takes to unshare. */
int sbxd_userns_open(const struct sbxd_idmap *m);

/* In a freshly forked, single-threaded child: joins the namespace behind
 * fd and becomes its root (uid, gid 0, no supplementary groups), with the
 * full capability set inside it and none over the host. 0 or -errno. */
int sbxd_userns_enter(int fd);

#endif
