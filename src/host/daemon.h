/* daemon.h - the sbxd context and the operations that tie the API, the
 * records and the runtime together.
 *
 * One struct sbxd exists, created in main() and passed to every module;
 * there is no global state. Everything runs on the event loop's thread.
 */
#ifndef SBX_HOST_DAEMON_H
#define SBX_HOST_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "host/http/server.h"
#include "host/loop.h"
#include "host/runtime/cgroup.h"
#include "host/runtime/seccomp.h"
#include "host/runtime/userns.h"
#include "host/store/store.h"
#include "util/buf.h"

struct sbxd_exec;
struct sbxd_executor;

/* Helper programs, resolved once at start. */
struct sbxd_tools {
	char bwrap[256];
	char slirp4netns[256]; /* empty with host networking */
	char rm[256];
};

/* How sandboxes reach the network (sbxd --network). */
enum sbxd_netmode {
	SBX_NET_PRIVATE, /* own namespace; outbound through slirp4netns, no host loopback */
	SBX_NET_HOST,	 /* the host's namespace, loopback included: an explicit opt-in */
};

struct sbxd {
	struct sbxd_loop *loop;
	struct sbxd_http_server *http;
	struct sbxd_store store;
	struct sbx_buf state_dir; /* absolute, no trailing slash */
	struct sbx_buf token;	  /* never logged */
	const char *listen;	  /* borrowed from argv */
	char listen_host[128];	  /* host part for URLs ("127.0.0.1") */
	struct sbxd_tools tools;
	struct sbxd_idmap idmap;    /* host ids behind every sandbox's 0..65535 */
	enum sbxd_netmode network;  /* for sandboxes started from now on */
	struct sbxd_seccomp filter; /* built at start; every sandbox process runs under it */
	struct sbxd_cg_root cg;
	int ncpu;
	int lock_fd;
	int sig_fd;
	struct sbxd_watch sig_w;
	struct sbxd_exec *execs;	/* live exec sessions */
	struct sbxd_executor *executor; /* executor API state (executor.h), or NULL */
	size_t nxfiles;			/* live file-operation children (xfile.h) */
	size_t nchildren;		/* live children watched by pidfd */
	struct sbxd_timer start_timer;	/* starts services waiting in ALLOCATING */
	bool stopping;
	int64_t stop_deadline;
	struct sbxd_timer stop_timer;
	bool test_mode; /* unit tests: never touch the system */
};

/* Paths under the state dir, appended to out. 0 or -ENOMEM. */
int sbxd_path(const struct sbxd *d, struct sbx_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes db.json; a failure is logged (the in-memory state stays right). */
void sbxd_save(struct sbxd *d);

/* Starts a new or restored service's sandbox soon (from the loop). */
void sbxd_sandbox_schedule(struct sbxd *d, struct sbxd_svc *v);
/* Begins deleting a service: stop, remove its state, bury the record. */
void sbxd_service_delete(struct sbxd *d, struct sbxd_svc *v);
/* Deletes an app and any service it still has. */
void sbxd_app_delete(struct sbxd *d, struct sbxd_app *a);

/* Called by the runtime when a sandbox finished stopping (processes gone,
 * overlay unmounted); continues a pending deletion. */
void sbxd_sandbox_stopped(struct sbxd *d, struct sbxd_svc *v);

/* Full daemon run: lock, token, namespaces, restore, serve until SIGTERM or
 * SIGINT, then stop every sandbox. Returns the exit status for main(). */
int sbxd_run(struct sbxd *d);

#endif
