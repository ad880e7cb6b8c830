/**
 * @file sbx/exec.h
 * @brief Run commands in a sandbox over the exec WebSocket.
 *
 * Each exec is one WebSocket session on /v1/streams/instances/exec
 * (docs/executor-protocol.md §3). Output arrives as bytes, in order, per stream.
 *
 * With the executor transport (sbx_client_opts.transport or
 * $SBX_EXEC_TRANSPORT=executor; never chosen for exec automatically, see
 * docs/libsbx-transports.md) an exec is one /run_streaming request instead,
 * and some of the above is lost: output comes as lines, each handed on with
 * a "\n" (CR and LF stripped by the executor: a last line without newline
 * gains one, CRLF becomes LF), and bytes that are not UTF-8 arrive as
 * U+FFFD; there is no stdin and no terminal (an exec that asks for either
 * fails with -ENOTSUP); a cancel takes effect at the next output line or the
 * deadline. Callbacks then run on a thread of the exec's own, one at a
 * time; on_done still comes exactly once. Exit codes are unchanged. The
 * sandbox handle must outlive such an exec (it owns the executor client).
 * The agent transport (SBX_TRANSPORT_AGENT) carries the filesystem
 * primitives only: exec keeps the WebSocket under it.
 *
 * Threading rules of the asynchronous form:
 *  - Callbacks run on the client's transport thread, one at a time, never
 *    concurrently for the same client. They must not block and must not call
 *    a synchronous libsbx function (that would deadlock the transport).
 *  - From a callback, and from any other thread, a caller may call
 *    sbx_exec_write_stdin(), sbx_exec_close_stdin(), sbx_exec_cancel() and
 *    sbx_exec_unref(), and start new asynchronous execs.
 *  - on_done is called exactly once per started exec, also on failure or
 *    cancel, and nothing is called after it.
 *
 * Cancel and timeout close the session, which makes the host kill the remote
 * command and every process it started (sbxd does; for Koyeb see the doc).
 */
#ifndef SBX_EXEC_H
#define SBX_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "sbx/error.h"
#include "sbx/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_exec;

enum sbx_exec_status {
	SBX_EXEC_FINISHED, /**< exited with code 0 */
	SBX_EXEC_FAILED,   /**< exited non-zero (a signal death is 128+N), or error */
	SBX_EXEC_TIMEOUT,  /**< the deadline passed; the remote command was killed */
	SBX_EXEC_KILLED,   /**< cancelled by the caller; the remote command was killed */
};

/** "finished", "failed", "timeout", "killed". */
SBX_API const char *sbx_exec_status_name(enum sbx_exec_status s);

/** What to run. Zero-initialise; set either argv or command. */
struct sbx_exec_opts {
	const char *const *argv; /**< program and arguments, quoted for sh */
	size_t argc;
	const char *command;	/**< a shell command line, run by sh -c */
	const char *cwd;	/**< NULL: the sandbox default */
	const char *const *env; /**< "KEY=VALUE" strings, exported */
	size_t n_env;
	double timeout_s; /**< 0: no deadline */
	/** Synchronous form only: bytes for stdin, sent then closed. NULL with
	 *  stdin_len 0 closes stdin at once. */
	const void *stdin_data;
	size_t stdin_len;
	/** Asynchronous form only: keep stdin open for sbx_exec_write_stdin()
	 *  until sbx_exec_close_stdin(). When false, stdin is closed at start. */
	bool stdin_open;
	/** Synchronous form: when true, do not collect stdout/stderr in the
	 *  result (use callbacks for big outputs). */
	bool no_capture;
	/** Asynchronous form with stdin_open: run the command on a terminal
	 *  in the sandbox (disableTty false). Its stdin, stdout and stderr are
	 *  then that terminal: all output arrives through on_stdout, with the
	 *  terminal's line handling; a 0x03 byte on stdin is a Ctrl-C. */
	bool tty;
	/** The terminal's size; 0 leaves the host's default. */
	unsigned short tty_rows, tty_cols;
};

/** Outcome of an exec. */
struct sbx_exec_result {
	enum sbx_exec_status status;
	int exit_code;	   /**< meaningful for FINISHED/FAILED with error 0 */
	int error;	   /**< 0, or the negative errno of a transport failure */
	char *stdout_data; /**< collected stdout (sync, capture on), NUL-terminated */
	size_t stdout_len;
	char *stderr_data;
	size_t stderr_len;
	double duration_s;
	char message[SBX_ERR_MSG_MAX]; /**< error text when error != 0 */
};

/** Frees the collected data. Accepts NULL and a zeroed result. */
SBX_API void sbx_exec_result_release(struct sbx_exec_result *r);

/** Streaming callbacks; any may be NULL. */
struct sbx_exec_cbs {
	void (*on_stdout)(void *ud, const char *data, size_t n);
	void (*on_stderr)(void *ud, const char *data, size_t n);
	/** @p r is borrowed for the duration of the call (no collected data in
	 *  the asynchronous form). */
	void (*on_done)(void *ud, const struct sbx_exec_result *r);
	/** Asynchronous form: stdin bytes left the queue; @p pending is what
	 *  sbx_exec_stdin_pending() would say now. Lets a writer that keeps a
	 *  bounded window wait for an event instead of polling. */
	void (*on_stdin_sent)(void *ud, size_t pending);
};

/** Runs a command and waits for it. Returns 0 when the command ran to an
 *  exit (whatever its code; look at r->status and r->exit_code), or a
 *  negative errno when it could not run or the session failed (r->error is
 *  set too). r must be released with sbx_exec_result_release() either way.
 *  On timeout returns -SBX_ETIMEDOUT with r->status SBX_EXEC_TIMEOUT. When
 *  the instance turns out to be gone (not found, before any output), the
 *  instance id is resolved again and, if it changed, the command is run once
 *  more on the new instance. Must not be called from an exec callback
 *  (-EDEADLK). */
SBX_API int sbx_exec_run(struct sbx_sandbox *sb, const struct sbx_exec_opts *opts,
			 const struct sbx_exec_cbs *cbs, void *ud, struct sbx_exec_result *r,
			 struct sbx_err *err);

/** Starts a command without waiting. On success returns 0 and a reference in
 *  *ret that the caller drops with sbx_exec_unref() (the exec runs on even if
 *  unreferenced; dropping the last reference does not cancel it). On failure
 *  nothing was started and on_done is not called. */
SBX_API int sbx_exec_start(struct sbx_sandbox *sb, const struct sbx_exec_opts *opts,
			   const struct sbx_exec_cbs *cbs, void *ud, struct sbx_exec **ret,
			   struct sbx_err *err);
/** Queues bytes for the command's stdin (copied). -EPIPE once closed. */
SBX_API int sbx_exec_write_stdin(struct sbx_exec *e, const void *data, size_t n);
/** Queues end of stdin. */
SBX_API int sbx_exec_close_stdin(struct sbx_exec *e);
/** Kills the remote command; on_done follows with SBX_EXEC_KILLED. */
SBX_API int sbx_exec_cancel(struct sbx_exec *e);
/** Tells the terminal of a tty exec its new size (on SIGWINCH, say); the
 *  last size set before the frame leaves is the one sent. -EINVAL when the
 *  exec has no terminal or a side is 0; -EPIPE once the session is over. */
SBX_API int sbx_exec_resize(struct sbx_exec *e, unsigned short rows, unsigned short cols);
/** Bytes queued for stdin and not yet sent (for flow control). */
SBX_API size_t sbx_exec_stdin_pending(struct sbx_exec *e);
SBX_API struct sbx_exec *sbx_exec_ref(struct sbx_exec *e);
SBX_API void sbx_exec_unref(struct sbx_exec *e);

#ifdef __cplusplus
}
#endif
#endif
