/* sandbox.h - one running sandbox: overlay, cgroups and the bwrap process.
 *
 * Start: the overlay is prepared and mounted, the cgroups made, and bwrap
 * started inside them with new PID, UTS, IPC, cgroup and mount namespaces
 * (--die-with-parent, so sandboxes never outlive sbxd). The instance is
 * STARTING until bwrap's info fd gave the namespace's init pid *and* that
 * process's root is the overlay (its pivot_root is done), then HEALTHY.
 *
 * Stop: bwrap and the namespace's init get SIGKILL (the PID namespace dies
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

#define SBX_START_TIMEOUT_MS 30000

/* Starts v's sandbox; v->sb is set while runtime state exists. On failure
 * the instance is ERROR with a message and v->sb is NULL. 0 or -errno. */
int sbx_sandbox_start(struct sbxd *d, struct sbx_svc *v);

/* Stops v's sandbox (asynchronously); sbxd_sandbox_stopped(d, v) follows,
 * also when nothing was running. */
void sbx_sandbox_stop(struct sbxd *d, struct sbx_svc *v);

/* The host pid of the sandbox's PID-namespace init, 0 when not running. */
pid_t sbx_sandbox_pid(const struct sbx_svc *v);

/* The sandbox's cgroups (for exec children), or NULL. Borrowed. */
const struct sbx_cg *sbx_sandbox_cgroups(const struct sbx_svc *v);

/* STATE/sandboxes/<id> of a service, appended to out. */
int sbx_sandbox_dir(const struct sbxd *d, const char *svc_id, struct sbx_buf *out);

#endif
