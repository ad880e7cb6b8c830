/* spawner_proc.h - the body of a sandbox's spawner process.
 *
 * A spawner is a child sbxd forks once per sandbox (spawner.h is sbxd's
 * side). It is sbxd's own code and never runs anything of the sandbox's:
 * it makes itself non-dumpable first (it is a copy of sbxd's memory, and
 * no process without CAP_SYS_PTRACE over the host may then ptrace it or
 * open its /proc files), dies with sbxd (PR_SET_PDEATHSIG), joins the
 * sandbox's cgroups, then every namespace of the sandbox's init and its
 * root, as the sandbox's root with the full capability set of the
 * sandbox's user namespace (a superset of what any sandbox process
 * keeps). It is not a member of the sandbox's PID namespace (setns only
 * moves its children there), so nothing inside sees it in /proc or can
 * name it in kill() or ptrace().
 *
 * Then it serves spawn_msg.h requests on its socket, one at a time: for
 * a SPAWN it forks the command in the sandbox's PID namespace, reports
 * STARTED with the host pid, and only then lets the child go on (a pipe):
 * a command never runs unless sbxd was told its pid. The child dies with
 * the spawner (PR_SET_PDEATHSIG), starts a session, takes the three
 * received descriptors as stdin, stdout and stderr and runs
 * sbxd_nsexec_run() (the same confinement as the one-fork path). The
 * spawner is the parent: it reports EXITED with the wait status and reaps
 * the zombie on RELEASE. At most SBX_SPAWNER_KIDS commands at once (then
 * FAILED with EAGAIN).
 *
 * A malformed request, a failed reply or the socket's EOF ends the
 * spawner; sbxd notices (pidfd) and starts another when needed.
 */
#ifndef SBX_HOST_SPAWNER_PROC_H
#define SBX_HOST_SPAWNER_PROC_H

#include <sys/types.h>

#include "host/runtime/cgroup.h"
#include "host/runtime/seccomp.h"

#define SBX_SPAWNER_KIDS 1024

struct sbxd_spawner_cfg {
	pid_t target;			   /* the sandbox's PID-namespace init (host pid) */
	const struct sbxd_cg *cg;	   /* may be NULL */
	const struct sbxd_seccomp *filter; /* required */
};

/* Runs the spawner in a freshly forked child of sbxd (parent: sbxd's pid)
 * on sock (its end of the socketpair). Never returns. */
_Noreturn void sbxd_spawner_main(int sock, pid_t parent, const struct sbxd_spawner_cfg *cfg);

#endif
