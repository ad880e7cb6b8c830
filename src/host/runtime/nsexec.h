/* nsexec.h - running a command inside a running sandbox, and killing it.
 *
 * Two users: the spawner (spawner_proc.h), which enters a sandbox once with
 * sbxd_nsexec_enter() and runs every command through sbxd_nsexec_run(), and
 * the one-fork path below, the fallback when no spawner takes a request.
 *
 * On the one-fork path, the child sbxd forks joins the sandbox's cgroups, becomes a session
 * leader (setsid), gets three pipes as stdin/stdout/stderr, makes itself
 * non-dumpable (it is a copy of sbxd's memory), and then, in one setns()
 * on a pidfd of the sandbox's init, joins its user namespace and every
 * other namespace the sandbox has of its own, becoming the sandbox's root
 * (host uid = the sandbox's range, no power over the host) and chrooting to
 * the init's root. It forks once more, so the command is inside the PID
 * namespace; that grandchild drops capabilities to the kept set, sets
 * no_new_privs and the seccomp filter (confine.h), and only then executes
 * the command, found through the PATH of envp. The first child waits and
 * re-raises a signal death of the command on itself, so the exit status
 * sbxd sees is the command's (128+N for signal N, as a shell shows it);
 * 126 or 127 with a line on stderr when the command could not be started.
 *
 * Every process of an exec keeps the session id of that first child unless
 * it calls setsid() itself; sbxd_proctree_kill() finds the session and every
 * descendant by parent pid, so it also gets those.
 */
#ifndef SBX_HOST_NSEXEC_H
#define SBX_HOST_NSEXEC_H

#include <sys/types.h>

#include "host/runtime/cgroup.h"
#include "host/runtime/seccomp.h"

struct sbxd_nsexec {
	pid_t target;			   /* the sandbox's PID-namespace init */
	const struct sbxd_cg *cg;	   /* may be NULL */
	const struct sbxd_seccomp *filter; /* required */
	char *const *argv;		   /* the command, NULL-terminated, non-empty */
	char *const *envp;		   /* the complete environment */
};

/* Makes the three pipes of an exec: parent[0] the write end of the
 * command's stdin, parent[1] and parent[2] the read ends of its stdout and
 * stderr (O_NONBLOCK), child[] the other ends; all O_CLOEXEC and owned by
 * the caller. 0 or -errno (nothing left open). */
int sbxd_nsexec_pipes(int parent[3], int child[3]);

/* Forks the exec child with child_fds (borrowed; the caller closes its
 * copies) as its stdin, stdout and stderr. On success *ret_pid is the child,
 * a session leader. 0 or -errno. This is the path of one fork per exec;
 * spawner.h is the fast one, and falls back to this. */
int sbxd_nsexec_start(const struct sbxd_nsexec *x, const int child_fds[3], pid_t *ret_pid);

/* For a forked child still in sbxd's namespaces as host root: joins every
 * namespace of target at once (setns on a pidfd), becomes the sandbox's
 * root and chroots to target's root. Its later children are in the
 * sandbox's PID namespace, itself is not. Only async-signal-safe calls.
 * 0 or -errno (the caller must then run nothing). */
int sbxd_nsexec_enter(pid_t target);

/* For a child in the sandbox's PID namespace with its stdio on 0-2:
 * confines it (confine.h), closes every other descriptor and executes argv
 * through the PATH of envp. Never returns: on failure a line goes to
 * stderr and the process exits 127 (not found) or 126. */
_Noreturn void sbxd_nsexec_run(const struct sbxd_seccomp *filter, char *const *argv,
			       char *const *envp);

/* SIGKILLs every process in session sid and every descendant of them,
 * rescanning until none is left alive (bounded). Returns the number of
 * signals sent. */
int sbxd_proctree_kill(pid_t sid);

#endif
