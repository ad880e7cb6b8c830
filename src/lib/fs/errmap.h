/* errmap.h - from a failed filesystem command to a negative errno and a
 * message.
 *
 * Three sources, in this order of trust:
 *  1. the marker line of our own scripts (script.h): exact, honoured only as
 *     the last line of stderr of a command that exited SBX_FS_MARK_EXIT, so
 *     a path that holds a fake marker in a tool's message cannot forge it;
 *  2. the strerror() texts that the tools print under LC_ALL=C ("No such
 *     file or directory" → -SBX_ENOTFOUND, …); the match that comes first in
 *     stderr wins (the first error a tool reports is the cause);
 *  3. anything else: -SBX_EIO with the remote stderr, trimmed and bounded,
 *     in the message.
 * A transport failure of the exec (no exit code) keeps its own code, except
 * that "instance not found" becomes -SBX_ENOTHEALTHY: -SBX_ENOTFOUND from a
 * filesystem call must only ever mean "no such file".
 */
#ifndef SBX_LIB_FS_ERRMAP_H
#define SBX_LIB_FS_ERRMAP_H

#include <stddef.h>

#include "sbx/error.h"
#include "sbx/exec.h"

/** Size of a description built by sbx_fs_describe(). */
#define SBX_FS_WHAT_MAX 256

/** Writes "VERB 'A'" or "VERB 'A' -> 'B'" into out (cap bytes, always
 *  NUL-terminated), with control bytes of the paths escaped as \xHH and
 *  long paths shortened. @p b may be NULL. */
void sbx_fs_describe(char *out, size_t cap, const char *verb, const char *a, const char *b);

/** The errno named by a marker token ("ENOENT", …), or 0 if unknown. */
int sbx_fs_errmap_token(const char *tok, size_t n);

/** The class of a tool's error text: a negative errno, or 0 when no known
 *  text is in it. *ret_reason (if not NULL) gets the matched text. */
int sbx_fs_errmap_text(const char *text, size_t len, const char **ret_reason);

/** Maps a command that exited with @p exit_code (not 0) and printed
 *  @p stderr_data. Returns the negative errno (never 0) and fills @p err
 *  (may be NULL) with "WHAT: reason". */
int sbx_fs_errmap(int exit_code, const char *stderr_data, size_t stderr_len, const char *what,
		  struct sbx_err *err);

/** Maps the outcome of an exec that did not finish with exit 0: a transport
 *  error, a timeout, a cancel, or a non-zero exit (then as sbx_fs_errmap()).
 *  Returns the negative errno and fills @p err. */
int sbx_fs_errmap_exec(const struct sbx_exec_result *r, const char *stderr_data, size_t stderr_len,
		       const char *what, struct sbx_err *err);

#endif
