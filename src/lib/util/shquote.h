/* shquote.h - quoting for POSIX sh, the rule of Python's shlex.quote.
 *
 * A string of only [A-Za-z0-9_@%+=:,./-] is emitted as is; the empty string
 * becomes ''; anything else is wrapped in single quotes with each ' written
 * as '"'"'. Every byte 1..255 round-trips through sh. A NUL cannot be in a
 * C string, and cannot be in a path or an argument either.
 */
#ifndef SBX_UTIL_SHQUOTE_H
#define SBX_UTIL_SHQUOTE_H

#include "util/buf.h"

/* Appends the quoted form of s to out. 0 or -ENOMEM. */
int sbx_shquote(struct sbx_buf *out, const char *s);
/* Appends each argument quoted, separated by single spaces. */
int sbx_shquote_argv(struct sbx_buf *out, const char *const *argv, size_t argc);

#endif
