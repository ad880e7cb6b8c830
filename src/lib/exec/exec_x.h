/* exec_x.h - one command over the executor's /run_streaming
 * (docs/executor-protocol.md §5.5), for exec.c's executor transport.
 *
 * The executor sends output as lines with their CR and LF removed; each
 * line is handed on with a "\n" appended, so a last line without newline
 * gains one and a CR before a newline is lost. Output bytes that are not
 * UTF-8 arrive as U+FFFD. There is no stdin (the command's is empty) and
 * no terminal. Leaving the stream kills the command: a cancel does so at
 * the next line the command prints, or at the deadline.
 *
 * The command runs on a thread of its own, where every callback is made.
 */
#ifndef SBX_EXEC_X_H
#define SBX_EXEC_X_H

#include <stdbool.h>
#include <stddef.h>

#include "sbx/exec.h"
#include "util/buf.h"

struct xc;

struct exec_x_ops {
	/* One line of output, with its "\n". */
	void (*on_output)(void *ud, bool is_stderr, const char *data, size_t n);
	/* Polled at each event: true ends the stream (the command is killed). */
	bool (*cancelled)(void *ud);
	/* Exactly once, last: the outcome (no collected data in it). */
	void (*on_end)(void *ud, const struct sbx_exec_result *r);
};

/* The executor's command line for argv (as sbx_exec_build_argv gives it):
 * the arguments quoted (as base64 for eval when they are not UTF-8), run by
 * a shell that then exits with $?, so that a signal death reads 128+N as
 * over the WebSocket, and whose own messages are dropped. 0, -E2BIG (longer than one argument of sh
 * may be) or -ENOMEM. */
int sbx_exec_x_cmd(char *const *argv, size_t argc, struct sbx_buf *out);

/* Starts @p cmd (copied) with a deadline of timeout_s (0: none). 0, then
 * ops->on_end follows exactly once; or a negative errno with err filled and
 * no callback. */
int sbx_exec_x_start(struct xc *xc, const char *cmd, double timeout_s, const struct exec_x_ops *ops,
		     void *ud, struct sbx_err *err);

#endif
