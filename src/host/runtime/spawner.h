/* spawner.h - sbxd's side of a sandbox's spawner (the process is
 * spawner_proc.h; the messages spawn_msg.h).
 *
 * One spawner per running sandbox, owned by sandbox.c and started lazily by
 * the first exec: a sandbox that never runs an exec costs nothing, the first
 * exec does not wait for more than a socket write (the spawner reads the
 * request once it has entered the sandbox), and a restart after a loss is the
 * same path as the first start.
 *
 * Everything here is non-blocking and runs on sbxd's loop. A job is one
 * command: sbxd_spawner_spawn() sends it and returns; its callback then
 * fires with, in order,
 *   STARTED (value = host pid) then exactly one EXITED (value = wait status), or
 *   exactly one RETRY (value = -errno): nothing ran and nothing will; the
 *   caller runs the command the one-fork way (nsexec.h) or reports an error.
 * The job is active (sbxd_spawn_job_active) from a successful spawn until
 * its EXITED or RETRY.
 *
 * Failures, all logged with the sandbox's id: a request not answered with
 * STARTED or FAILED within SBX_SPAWNER_DEADLINE_MS (a stopped or stuck
 * spawner), a malformed reply or the socket's EOF make sbxd SIGKILL the
 * spawner. When its pidfd says it is gone, every job still waiting for
 * STARTED gets RETRY (its child, if it forked one, got no go and died with
 * the spawner), and every started one gets EXITED with SIGKILL (the kernel
 * killed it with its parent, PR_SET_PDEATHSIG, and sbxd kills its process
 * tree in case it cleared that). A dead spawner is never reused; the next
 * exec starts another. A FAILED reply (the spawner could not fork) is a
 * RETRY too, and a full socket fails only that one sbxd_spawner_spawn(): the
 * deadlines of the requests already queued judge the spawner.
 */
#ifndef SBX_HOST_SPAWNER_H
#define SBX_HOST_SPAWNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/child.h"
#include "host/loop.h"
#include "host/runtime/spawner_proc.h"
#include "util/buf.h"

#define SBX_SPAWNER_DEADLINE_MS 2000

struct sbxd_spawner;
struct sbxd_spawn_job;

enum sbxd_spawn_event { SBX_SPAWN_EV_STARTED, SBX_SPAWN_EV_EXITED, SBX_SPAWN_EV_RETRY };

typedef void (*sbxd_spawn_fn)(struct sbxd_spawn_job *j, enum sbxd_spawn_event ev, int value);

/* Embedded in its owner (an exec session), which must keep it alive while
 * it is active. Zero it before the first use. */
struct sbxd_spawn_job {
	struct sbxd_spawner *s; /* NULL when not active */
	struct sbxd_spawn_job *prev, *next;
	uint32_t id;
	pid_t pid; /* host pid once STARTED, else 0 */
	struct sbxd_timer deadline;
	sbxd_spawn_fn fn;
	void *arg;
};

/* Forks a spawner for the sandbox whose init is cfg->target (cfg and what it
 * points to are copied or must outlive the spawner: cg and filter are the
 * sandbox's and sbxd's). name is for the log. live counts sbxd's children
 * (borrowed). 0 with *ret, or -errno. */
int sbxd_spawner_new(struct sbxd_loop *l, const struct sbxd_spawner_cfg *cfg, const char *name,
		     size_t *live, struct sbxd_spawner **ret);

/* False once the spawner is known to be lost (it is then only freed). */
bool sbxd_spawner_usable(const struct sbxd_spawner *s);

/* Sends pkt (a SPAWN from sbxd_spawn_msg_encode; its id is set here) with
 * fds (borrowed: the caller closes its copies once STARTED or RETRY came).
 * 0: j is active and fn will fire as above. -errno (nothing was sent,
 * fn never fires): the caller takes the other way at once. */
int sbxd_spawner_spawn(struct sbxd_spawner *s, struct sbxd_spawn_job *j, const struct sbx_buf *pkt,
		       const int fds[3], sbxd_spawn_fn fn, void *arg);

bool sbxd_spawn_job_active(const struct sbxd_spawn_job *j);

/* Kills the spawner (and so every command it started), reaps it, and fires
 * EXITED (SIGKILL) or RETRY on every active job before returning. The memory
 * goes at the end of the loop iteration. Accepts NULL. */
void sbxd_spawner_free(struct sbxd_spawner *s);

#endif
