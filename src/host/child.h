/* child.h - watching child processes through pidfds.
 *
 * sbxd never installs a SIGCHLD handler: each child it forks is watched by a
 * pidfd in the event loop and reaped with waitid(P_PIDFD) when it becomes
 * readable, so no other code path can steal its exit status.
 */
#ifndef SBX_HOST_CHILD_H
#define SBX_HOST_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "host/loop.h"

struct sbxd_child;
typedef void (*sbxd_child_fn)(struct sbxd_child *c, int wstatus);

struct sbxd_child {
	struct sbxd_loop *loop;
	pid_t pid; /* 0 when not watching */
	int pidfd;
	struct sbxd_watch w;
	sbxd_child_fn fn; /* called once, after the child was reaped */
	void *arg;
	size_t *live; /* optional counter of live children, borrowed */
};

/* Starts watching pid (a child of ours). 0 or -errno; on failure the caller
 * still owns the process and must kill and reap it. */
int sbxd_child_watch(struct sbxd_loop *l, struct sbxd_child *c, pid_t pid, size_t *live,
		     sbxd_child_fn fn, void *arg);
/* True while the child has not been reaped. */
bool sbxd_child_running(const struct sbxd_child *c);
/* Sends sig to the child if it has not been reaped yet (through the pidfd,
 * so never to a recycled pid). */
void sbxd_child_kill(struct sbxd_child *c, int sig);

/* SIGKILLs the child and reaps it at once (blocking for the moment a
 * killed process takes to go); its callback never fires. For owners that
 * are about to go away. */
void sbxd_child_kill_reap(struct sbxd_child *c);

/* Raw pidfd helpers for processes that are not our children. */
int sbxd_pidfd_open(pid_t pid); /* fd (O_CLOEXEC) or -errno */
bool sbxd_pidfd_alive(int fd);	/* false once it exited */
void sbxd_pidfd_kill(int fd, int sig);

/* Exit status as a shell shows it: the code, or 128 + signal number. */
int sbxd_child_exit_code(int wstatus);

/* Forks; the child resets signal state and execs argv[0] with argv/envp
 * (stdin/stdout/stderr on /dev/null). 0 with *ret_pid, or -errno. */
int sbxd_spawn_simple(char *const argv[], char *const envp[], pid_t *ret_pid);

#endif
