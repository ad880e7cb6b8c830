/* xcmd.h - a command run inside a sandbox for sbxd's own callers (the
 * executor API), with its output read through callbacks.
 *
 * The command goes the same confined way as an exec of the WebSocket: the
 * sandbox's spawner when it takes it, else the one-fork path (nsexec.h),
 * with the same environment (PATH, HOME, LANG, HOSTNAME, the service's env)
 * plus the caller's extra variables, which win. Its stdin is empty.
 *
 * Callbacks, on the loop: on_started once the pid is known, on_output for each chunk read (stream 1
 * or 2, at most SBX_XCMD_CHUNK bytes), then exactly one on_exit with the wait status once the
 * command exited and its pipes reached EOF, or SBX_XCMD_DRAIN_MS passed without a byte (a
 * background child may keep a pipe open). A command that could not be started at all gives on_exit
 * with status -1 (start failure after sbxd_xcmd_start() returned).
 *
 * Ownership: the caller owns the handle until sbxd_xcmd_release(); after
 * that no callback runs, a command still running gets its whole process
 * tree killed, and the memory goes once the process was reaped.
 */
#ifndef SBX_HOST_XCMD_H
#define SBX_HOST_XCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sbxd;
struct sbxd_svc;
struct sbxd_xcmd;

#define SBX_XCMD_CHUNK	  (64u * 1024)
#define SBX_XCMD_DRAIN_MS 250

struct sbxd_xcmd_ops {
	/* the command's pid is known (from the loop, never inside start) */
	void (*on_started)(void *user, pid_t pid);
	void (*on_output)(void *user, int stream, const char *data, size_t len);
	void (*on_exit)(void *user, int wstatus);
};

/* Starts argv (borrowed) in v's sandbox with extra "K=V" variables (NULL or
 * NULL-terminated, borrowed). 0 with *ret; -ESRCH when the sandbox is not
 * running; -errno. */
int sbxd_xcmd_start(struct sbxd *d, struct sbxd_svc *v, char *const *argv, char *const *extra_env,
		    const struct sbxd_xcmd_ops *ops, void *user, struct sbxd_xcmd **ret);

/* Stops (true) or resumes reading the command's output (backpressure). */
void sbxd_xcmd_pause(struct sbxd_xcmd *x, bool paused);

/* SIGKILLs the command's process tree (it still ends with on_exit). */
void sbxd_xcmd_kill(struct sbxd_xcmd *x);

/* The command's pid as the sandbox sees it (the host pid when unknown),
 * 0 before it started. */
pid_t sbxd_xcmd_pid(const struct sbxd_xcmd *x);

/* The caller lets go (see above). Accepts NULL. */
void sbxd_xcmd_release(struct sbxd_xcmd *x);

#endif
