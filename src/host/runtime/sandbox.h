/* sandbox.h - one running sandbox: overlay, cgroups and the bwrap process.
 *
 * Start: a user namespace is made for the sandbox (userns.h), the overlay
 * prepared and mounted and bound at SBX_RUN_DIR/sandboxes/<id> (the state
 * dir is closed to the sandbox's uids; that tmpfs exists only in sbxd's
 * mount namespace), the cgroups made, and bwrap started inside them as
 * root of that user namespace, with new PID, UTS, IPC, cgroup, mount and
 * (unless sbxd runs with --network host) network namespaces, /proc's
 * kernel-wide parts read-only or hidden, the kept capabilities and the
 * seccomp filter (--die-with-parent, so sandboxes never outlive sbxd).
 * The instance is STARTING until bwrap's info fd gave the namespace's init
 * pid, that process's root is the overlay (its pivot_root is done) and its
 * network is up (net.h), then HEALTHY.
 *
 * Stop: the exec spawner (spawner.h) is killed and reaped, bwrap and the
 * namespace's init get SIGKILL (the PID namespace dies
 * with its init, taking every sandbox process, exec'd ones included), the
 * cgroups are emptied and removed, the overlay detached. Then
 * sbxd_sandbox_stopped() is called. Files are never removed here.
 *
 * A sandbox whose main process exits on its own goes to ERROR with the exit
 * status and the last line it printed.
 */
#ifndef SBX_HOST_SANDBOX_H
#define SBX_HOST_SANDBOX_H

#include <sys/types.h>

#include "host/runtime/cgroup.h"
#include "host/store/store.h"

struct sbxd;
struct sbxd_spawner;

#define SBX_START_TIMEOUT_MS 30000
#define SBX_RUN_DIR	     "/run/sbxd"

/* Starts v's sandbox; v->sb is set while runtime state exists. On failure
 * the instance is ERROR with a message and v->sb is NULL. 0 or -errno. */
int sbxd_sandbox_start(struct sbxd *d, struct sbxd_svc *v);

/* Stops v's sandbox (asynchronously); sbxd_sandbox_stopped(d, v) follows,
 * also when nothing was running. */
void sbxd_sandbox_stop(struct sbxd *d, struct sbxd_svc *v);

/* The host pid of the sandbox's PID-namespace init, 0 when not running. */
pid_t sbxd_sandbox_pid(const struct sbxd_svc *v);

/* The sandbox's exec spawner (spawner.h), started now if there is none or
 * the last one was lost; NULL when the sandbox is not running or no
 * spawner could be started (the caller then forks the exec itself).
 * Borrowed: valid until the sandbox stops (which frees it). */
struct sbxd_spawner *sbxd_sandbox_spawner(struct sbxd_svc *v);

/* The sandbox's cgroups (for exec children), or NULL. Borrowed. */
const struct sbxd_cg *sbxd_sandbox_cgroups(const struct sbxd_svc *v);

/* STATE/sandboxes/<id> of a service, appended to out. */
int sbxd_sandbox_dir(const struct sbxd *d, const char *svc_id, struct sbx_buf *out);

#endif
