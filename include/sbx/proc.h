/**
 * @file sbx/proc.h
 * @brief Background processes and the exposed port of a sandbox, through
 * its executor (docs/executor-protocol.md §5).
 *
 * These need the sandbox's in-sandbox executor: Koyeb's sandbox image has
 * one, and sbxd serves one for every sandbox. A sandbox whose deployment
 * names no executor URL and whose app has no domain (or that has no
 * secret) gives -SBX_ENOTSUP with a message that says so. When an address
 * is known but nothing answers there, the call fails as the connection or
 * the reply does (-SBX_ECONN, or the code of the HTTP status).
 *
 * Processes started here outlive the call and the client: they run in the
 * sandbox until they exit or are killed, and the executor keeps their
 * status and their last output lines in memory (until it restarts). The
 * executor, not libsbx, owns that list: any client of the same sandbox
 * (the official SDKs included) sees the same processes.
 *
 * One port of the sandbox can be bound at a time. Connections to the
 * sandbox's proxy port are then joined to it; sbx_port_bind() says where
 * that proxy port is reachable from outside.
 *
 * Threading: every call here is synchronous, thread-safe on one sandbox
 * handle, and must not be made from an exec callback (-EDEADLK). The
 * executor's replies come from inside the sandbox and are treated as
 * untrusted: every length and count in them is bounded.
 */
#ifndef SBX_PROC_H
#define SBX_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "sbx/error.h"
#include "sbx/export.h"
#include "sbx/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Status of a background process, as the executor reports it. */
enum sbx_proc_status {
	SBX_PROC_RUNNING,
	SBX_PROC_COMPLETED, /**< exited with code 0 */
	SBX_PROC_FAILED,    /**< exited with another code */
	SBX_PROC_KILLED,    /**< ended by a signal (any, not only sbx_proc_kill) */
	SBX_PROC_UNKNOWN,   /**< a word this library does not know */
};

/** "running", "completed", "failed", "killed", "unknown". */
SBX_API const char *sbx_proc_status_name(enum sbx_proc_status s);

/** Longest process id accepted from the executor (a UUID is 36). */
#define SBX_PROC_ID_MAX 64

/** Is @p id a process id as the executor gives them: 1 to SBX_PROC_ID_MAX
 *  of [A-Za-z0-9_-] (a UUID)? Every call here checks its id so; a caller
 *  may check first to tell a typo from an unknown process. */
SBX_API bool sbx_proc_id_valid(const char *id);

/** One background process. */
struct sbx_proc_info {
	char id[SBX_PROC_ID_MAX + 1]; /**< the executor's id (a UUID) */
	int pid;		      /**< in the sandbox's pid namespace; 0 if unknown */
	enum sbx_proc_status status;
	char *command; /**< the shell command line; owned, may be "" */
};

/** Frees what one entry owns (not the entry). Accepts NULL. */
SBX_API void sbx_proc_info_release(struct sbx_proc_info *p);
/** Frees an array from sbx_proc_list(). Accepts NULL. */
SBX_API void sbx_proc_info_free(struct sbx_proc_info *v, size_t n);

/** What to start. Zero-initialise; set either argv or command (as in
 *  struct sbx_exec_opts: argv is quoted for sh). */
struct sbx_proc_opts {
	const char *const *argv;
	size_t argc;
	const char *command;
	const char *cwd;	/**< NULL: the executor's default */
	const char *const *env; /**< "KEY=VALUE" strings, added */
	size_t n_env;
};

/** Starts a background process (`sh -c` of the command, stdin empty). On
 *  success returns 0 and fills *ret (release with sbx_proc_info_release);
 *  the process may already have ended by the time this returns. */
SBX_API int sbx_proc_start(struct sbx_sandbox *sb, const struct sbx_proc_opts *opts,
			   struct sbx_proc_info *ret, struct sbx_err *err);

/** Lists the processes the executor knows, running and ended, in its order.
 *  Returns 0, an array in *ret (NULL when empty) and its length in *ret_n;
 *  free with sbx_proc_info_free(*ret, *ret_n). */
SBX_API int sbx_proc_list(struct sbx_sandbox *sb, struct sbx_proc_info **ret, size_t *ret_n,
			  struct sbx_err *err);

/** Kills a process (SIGKILL to its shell). -SBX_ENOTFOUND for an unknown
 *  id; -ESRCH when it is no longer running. Its status turns `killed` once
 *  the sandbox has reaped it, shortly after this returns. */
SBX_API int sbx_proc_kill(struct sbx_sandbox *sb, const char *id, struct sbx_err *err);

/** Which stream a log line came from. */
enum sbx_proc_stream { SBX_PROC_STDOUT = 1, SBX_PROC_STDERR = 2 };

/** Called once per log line, on the calling thread. @p line has no line end
 *  (the executor sends lines, not bytes) and is not NUL-terminated; @p ts
 *  is the executor's RFC 3339 time of the line ("" if none). Returning
 *  non-zero stops the stream: sbx_proc_logs() then returns that value. */
typedef int (*sbx_proc_log_fn)(void *ud, enum sbx_proc_stream stream, const char *ts,
			       const char *line, size_t n);

/** Delivers a process's output lines: the kept ones first (the executor
 *  sends all kept stdout lines, then all kept stderr lines), then, with
 *  @p follow, live lines until the process ends. Without @p follow it
 *  returns once the kept lines are delivered. The stream does not mark
 *  where the kept lines end, so without @p follow: for a process that has
 *  ended (asked with one /list_processes first) the stream ends by itself
 *  and the result is exact; for one still running the stream is read until
 *  it has been quiet for 0.5 s (checked about once a second), an
 *  approximation that can miss kept lines held up longer in the network
 *  and can include lines printed meanwhile. Returns 0 at the end,
 *  -SBX_ENOTFOUND for an unknown id, -SBX_ETIMEDOUT when timeout_s (0: none)
 *  passes, a dropped stream as -SBX_ECONN (never as a silent end). */
SBX_API int sbx_proc_logs(struct sbx_sandbox *sb, const char *id, bool follow, double timeout_s,
			  sbx_proc_log_fn fn, void *ud, struct sbx_err *err);

/** Binds the sandbox's port @p port (1..65535) to its proxy port. On
 *  success returns 0 and, in *ret_url (caller frees), where the port is
 *  reachable from outside: "tcp://HOST:PORT" for a raw TCP proxy port, or
 *  an "https://…" URL when the sandbox publishes it over HTTP. Binding the
 *  port already bound is a success; another one bound gives -SBX_EEXIST
 *  (unbind it first). */
SBX_API int sbx_port_bind(struct sbx_sandbox *sb, unsigned port, char **ret_url,
			  struct sbx_err *err);

/** Removes the binding (a success when there is none). */
SBX_API int sbx_port_unbind(struct sbx_sandbox *sb, struct sbx_err *err);

#ifdef __cplusplus
}
#endif
#endif
