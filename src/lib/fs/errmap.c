/* errmap.c - failed filesystem commands to errno; see errmap.h.
 *
 * The table holds the glibc/musl strerror() texts (the tools print them
 * under LC_ALL=C), plus a few tool-specific phrasings that carry no
 * strerror text (dash and busybox redirections, GNU mv refusals). Matching is
 * case-sensitive, like the seed SDK's.
 */
#include "errmap.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "script.h"

struct text_map {
	const char *text;
	int code; /* negative errno */
};

static const struct text_map texts[] = {
    {"No such file or directory", -SBX_ENOTFOUND},
    {"File exists", -SBX_EEXIST},
    {"Directory not empty", -SBX_ENOTEMPTY},
    {"Permission denied", -SBX_EPERM},
    {"Operation not permitted", -SBX_EPERM},
    {"Is a directory", -SBX_EISDIR},
    {"Not a directory", -SBX_ENOTDIR},
    {"No space left on device", -SBX_ENOSPC},
    {"Disk quota exceeded", -EDQUOT},
    {"Read-only file system", -EROFS},
    {"File name too long", -ENAMETOOLONG},
    {"Too many levels of symbolic links", -ELOOP},
    {"Invalid cross-device link", -EXDEV},
    {"Text file busy", -ETXTBSY},
    {"Device or resource busy", -EBUSY},
    {"Invalid argument", -SBX_EINVAL},
    {"Input/output error", -SBX_EIO},
    /* dash: "cannot create P: Directory nonexistent" (ENOENT or ENOTDIR) */
    {"Directory nonexistent", -SBX_ENOTFOUND},
    /* busybox ash: "can't create P: nonexistent directory" */
    {"nonexistent directory", -SBX_ENOTFOUND},
    /* busybox rm: "rm: 'P' is a directory" */
    {"is a directory", -SBX_EISDIR},
    /* GNU mv refusals that rename(2) reports as EISDIR / ENOTDIR / EINVAL */
    {"cannot overwrite directory", -SBX_EISDIR},
    {"cannot overwrite non-directory", -SBX_ENOTDIR},
    {"subdirectory of itself", -SBX_EINVAL},
};

struct tok_map {
	const char *tok;
	int code;
};

static const struct tok_map tokens[] = {
    {"ENOENT", -SBX_ENOTFOUND}, {"EEXIST", -SBX_EEXIST}, {"ENOTEMPTY", -SBX_ENOTEMPTY},
    {"EACCES", -SBX_EPERM},	{"EISDIR", -SBX_EISDIR}, {"ENOTDIR", -SBX_ENOTDIR},
    {"ENOSPC", -SBX_ENOSPC},	{"EROFS", -EROFS},	 {"EINVAL", -SBX_EINVAL},
    {"EIO", -SBX_EIO},
};

/* Appends src[0..n) to out (cap, NUL-terminated) as one readable line:
 * control bytes become \xHH, except newlines become " / " in lines mode
 * (stderr); stops before overflow with "...". */
static void put_clean(char *out, size_t cap, const char *src, size_t n, bool lines)
{
	size_t o = strlen(out);
	size_t i;

	for (i = 0; i < n && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\n' && lines) {
			memcpy(out + o, " / ", 3);
			o += 3;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(out + o, cap - o, "\\x%02x", c);
			o += 4;
		} else {
			out[o++] = (char)c;
		}
	}
	if (i < n && cap >= 4) {
		o = o + 3 < cap ? o : cap - 4;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void put_str(char *out, size_t cap, const char *s)
{
	size_t o = strlen(out);

	snprintf(out + o, cap - o, "%s", s);
}

static void put_path(char *out, size_t cap, const char *p)
{
	size_t room = cap - strlen(out);

	put_str(out, cap, "'");
	/* leave room for the rest of the description */
	put_clean(out, room > 140 ? strlen(out) + 100 : cap, p, strlen(p), false);
	put_str(out, cap, "'");
}

void sbx_fs_describe(char *out, size_t cap, const char *verb, const char *a, const char *b)
{
	if (!cap)
		return;
	out[0] = '\0';
	put_str(out, cap, verb);
	if (a) {
		put_str(out, cap, " ");
		put_path(out, cap, a);
	}
	if (b) {
		put_str(out, cap, " -> ");
		put_path(out, cap, b);
	}
}

int sbx_fs_errmap_token(const char *tok, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (strlen(tokens[i].tok) == n && !memcmp(tokens[i].tok, tok, n))
			return tokens[i].code;
	return 0;
}

int sbx_fs_errmap_text(const char *text, size_t len, const char **ret_reason)
{
	const char *best = NULL;
	size_t i, best_i = 0;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *hit = memmem(text, len, texts[i].text, strlen(texts[i].text));

		if (hit && (!best || hit < best)) {
			best = hit;
			best_i = i;
		}
	}
	if (!best)
		return 0;
	if (ret_reason)
		*ret_reason = texts[best_i].text;
	return texts[best_i].code;
}

/* Finds the last non-empty line of s[0..n): *ret_line, *ret_len. */
static bool last_line(const char *s, size_t n, const char **ret_line, size_t *ret_len)
{
	size_t end = n, start;

	while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r'))
		end--;
	if (end == 0)
		return false;
	start = end;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	*ret_line = s + start;
	*ret_len = end - start;
	return true;
}

/* The marker of our script, when it is the last line: code and detail. */
static int marker(const char *s, size_t n, const char **ret_detail, size_t *ret_dlen)
{
	const size_t ml = strlen(SBX_FS_MARK);
	const char *line, *sp;
	size_t len;
	int code;

	if (!last_line(s, n, &line, &len) || len <= ml || memcmp(line, SBX_FS_MARK, ml))
		return 0;
	line += ml;
	len -= ml;
	sp = memchr(line, ' ', len);
	code = sbx_fs_errmap_token(line, sp ? (size_t)(sp - line) : len);
	*ret_detail = sp ? sp + 1 : line + len;
	*ret_dlen = sp ? len - (size_t)(sp + 1 - line) : 0;
	return code;
}

/* Trims ASCII whitespace at both ends. */
static void trim(const char **s, size_t *n)
{
	while (*n && strchr(" \t\r\n", (*s)[0]))
		(*s)++, (*n)--;
	while (*n && strchr(" \t\r\n", (*s)[*n - 1]))
		(*n)--;
}

static int set_msg(struct sbx_err *err, int code, const char *what, const char *reason,
		   const char *detail, size_t dlen)
{
	char msg[SBX_ERR_MSG_MAX] = "";

	put_str(msg, sizeof(msg), what);
	put_str(msg, sizeof(msg), ": ");
	put_str(msg, sizeof(msg), reason);
	if (dlen) {
		put_str(msg, sizeof(msg), " (");
		put_clean(msg, sizeof(msg) - 1, detail, dlen, true);
		put_str(msg, sizeof(msg), ")");
	}
	return sbx_err_set(err, code, 0, "%s", msg);
}

int sbx_fs_errmap(int exit_code, const char *stderr_data, size_t stderr_len, const char *what,
		  struct sbx_err *err)
{
	const char *s = stderr_data ? stderr_data : "", *detail = NULL, *reason = NULL;
	size_t n = stderr_data ? stderr_len : 0, dlen = 0;
	char why[64];
	int code = 0;

	if (exit_code == SBX_FS_MARK_EXIT)
		code = marker(s, n, &detail, &dlen);
	if (code)
		return set_msg(err, code, what, strerror(-code), detail, dlen);
	code = sbx_fs_errmap_text(s, n, &reason);
	trim(&s, &n);
	if (code)
		return set_msg(err, code, what, reason, s, n);
	if (exit_code == 126 || exit_code == 127)
		snprintf(why, sizeof(why), "a tool is missing or not executable (exit %d)",
			 exit_code);
	else if (exit_code > 128 && exit_code < 128 + 65)
		snprintf(why, sizeof(why), "killed by signal %d", exit_code - 128);
	else
		snprintf(why, sizeof(why), "failed with exit code %d", exit_code);
	return set_msg(err, -SBX_EIO, what, why, s, n);
}

int sbx_fs_errmap_exec(const struct sbx_exec_result *r, const char *stderr_data, size_t stderr_len,
		       const char *what, struct sbx_err *err)
{
	const char *m = r->message[0] ? r->message : NULL;
	int code = r->error;

	if (r->status == SBX_EXEC_TIMEOUT)
		return sbx_err_set(err, -SBX_ETIMEDOUT, 0, "%s: timed out", what);
	if (r->status == SBX_EXEC_KILLED)
		return sbx_err_set(err, -SBX_ECANCELED, 0, "%s: cancelled", what);
	if (code == 0 && r->status == SBX_EXEC_FAILED)
		return sbx_fs_errmap(r->exit_code ? r->exit_code : 1, stderr_data, stderr_len, what,
				     err);
	if (code == 0)
		code = -SBX_EIO;
	if (code == -SBX_ENOTFOUND)
		return sbx_err_set(err, -SBX_ENOTHEALTHY, 0, "%s: sandbox instance not found%s%s",
				   what, m ? ": " : "", m ? m : "");
	return sbx_err_set(err, code, 0, "%s: %s", what, m ? m : strerror(-code));
}
