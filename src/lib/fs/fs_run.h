/* fs_run.h - one run of a primitive's script whose output and end arrive as
 * the callbacks of sbx/exec.h (struct sbx_exec_cbs): an exec session
 * (fs_tp_exec) or a job on the agent's session (fs_tp_agent), which give
 * the same callbacks with the same contract. The run collects stdout (at
 * most out_max bytes, or hands it to the spec's sink), keeps the first
 * SBX_FS_STDERR_MAX bytes of stderr and turns the end into the struct
 * sbx_fs_result of the caller's callback, exactly once; so a primitive's
 * result and error are the same, byte for byte, whichever of the two ran
 * it.
 *
 * Lifetime: two references from fs_run_new(), one for the starter (dropped
 * with fs_run_unref once the start is over), one for the command, dropped
 * by the on_done of fs_run_cbs (or by fs_run_fail_start when nothing
 * started). Callbacks may come before the start returned, so what runs the
 * command is published with fs_run_attach_*(), under the run's lock; a
 * failure recorded before that leaves a cancel for the starter.
 */
#ifndef SBX_LIB_FS_RUN_H
#define SBX_LIB_FS_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "fs_op.h"

struct fs_run;
struct sbx_rfs_proc;

/* A new run of @p s: takes its script (the spec's is left empty) and copies
 * what the callbacks need. NULL when out of memory. */
struct fs_run *fs_run_new(struct fs_spec *s, sbx_fs_cb cb, void *ud);
/* Drops a reference. */
void fs_run_unref(struct fs_run *run);

/* The callbacks that feed a run; their ud is the run. */
extern const struct sbx_exec_cbs fs_run_cbs;

/* The script to run, as the command of `sh -c` (borrowed from the run). */
const char *fs_run_script(const struct fs_run *run);
/* "mkdir '/p'", for messages (borrowed). */
const char *fs_run_what(const struct fs_run *run);

/* Publish what runs the command (a reference is taken), so that a local
 * failure can cancel it. true when a failure came first: the caller then
 * cancels it. */
bool fs_run_attach_exec(struct fs_run *run, struct sbx_exec *e);
bool fs_run_attach_proc(struct fs_run *run, struct sbx_rfs_proc *p);

/* Calls @p fn(@p fn_ud) once the run ended, right after the caller's
 * callback, on its thread (the agent transport's job bound). Set it before
 * the command starts. */
void fs_run_on_end(struct fs_run *run, void (*fn)(void *fn_ud), void *fn_ud);

/* Records a local failure (the first one wins: it becomes the result) and
 * cancels the command when it is known. */
void fs_run_fail(struct fs_run *run, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The command could not start after the starter returned 0: ends the run
 * as an exec that failed with @p rc and @p msg would (the caller's callback
 * runs now, on this thread; -SBX_ENOTFOUND becomes -SBX_ENOTHEALTHY as for
 * any exec). Drops the command's reference. */
void fs_run_fail_start(struct fs_run *run, int rc, const char *msg);

/* Ends the run with @p res, a result made without the command (the agent
 * transport's native requests): the caller's callback runs now, on this
 * thread, then @p res is released. Drops the command's reference; nothing
 * may have started it. */
void fs_run_deliver(struct fs_run *run, struct sbx_fs_result *res);

/* Runs @p run over a new exec session of @p sb: @p iov written to stdin
 * (copied) then closed, unless @p stdin_open (the caller feeds it through
 * *ret_exec). 0: the run's callbacks follow; or a negative errno with err
 * filled, and the command's reference left to the caller: drop it with
 * fs_run_unref (no callback) or end the run with fs_run_fail_start. With
 * ret_exec the caller gets a reference to the exec. */
int fs_run_exec(struct sbx_sandbox *sb, struct fs_run *run, const struct iovec *iov, size_t iovcnt,
		bool stdin_open, struct sbx_exec **ret_exec, struct sbx_err *err);

#endif
