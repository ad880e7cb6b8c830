/* xfer.c - byte-exact transfers over the executor API; see xfer.h. */
#include "xfer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sbx/error.h"
#include "util/b64.h"
#include "util/rand.h"
#include "util/shquote.h"

/* The dd block of sbx_xfer_cmd_range(). */
#define RANGE_BS ((size_t)64 << 10)

bool sbx_xfer_has_fffd(const char *s, size_t n)
{
	return n >= 3 && memmem(s, n, "\xef\xbf\xbd", 3) != NULL;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool sbx_xfer_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

bool sbx_xfer_utf8_exact(const char *s, size_t n)
{
	return sbx_xfer_utf8_valid(s, n) && !sbx_xfer_has_fffd(s, n);
}

struct go_text {
	const char *reason;
	int code;
};

/* Go's syscall.Errno texts (lower case, as the executor sends them). */
static const struct go_text go_texts[] = {
    {"no such file or directory", -SBX_ENOTFOUND},
    {"file exists", -SBX_EEXIST},
    {"directory not empty", -SBX_ENOTEMPTY},
    {"permission denied", -SBX_EPERM},
    {"operation not permitted", -SBX_EPERM},
    {"is a directory", -SBX_EISDIR},
    {"not a directory", -SBX_ENOTDIR},
    {"no space left on device", -SBX_ENOSPC},
    {"disk quota exceeded", -EDQUOT},
    {"read-only file system", -EROFS},
    {"file name too long", -ENAMETOOLONG},
    {"too many levels of symbolic links", -ELOOP},
    {"file too large", -EFBIG},
    {"invalid argument", -SBX_EINVAL},
    {"input/output error", -SBX_EIO},
};

int sbx_xfer_errno_go(const char *text)
{
	const char *reason, *p;
	size_t i, n;

	if (!text)
		return 0;
	/* the reason is after the last ": " (a path may hold one, the reason not) */
	for (reason = text; (p = strstr(reason, ": ")); reason = p + 2)
		;
	n = strlen(reason);
	while (n && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
		n--;
	for (i = 0; i < sizeof(go_texts) / sizeof(go_texts[0]); i++)
		if (strlen(go_texts[i].reason) == n && !memcmp(go_texts[i].reason, reason, n))
			return go_texts[i].code;
	return 0;
}

int sbx_xfer_stage_name(char *out, size_t cap, const char *kind)
{
	char hex[17];
	int r = sbx_rand_hex(hex, 8);

	if (r < 0)
		return r;
	if ((size_t)snprintf(out, cap, "/tmp/.sbx-x%s-%s", kind, hex) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* Appends "printf %s B64 | base64 -d". */
static int put_b64(struct sbx_buf *out, const void *data, size_t n)
{
	int r = sbx_buf_puts(out, "printf %s ");

	if (!r)
		r = n ? sbx_b64_encode(out, data, n) : sbx_buf_puts(out, "''");
	return r ? r : sbx_buf_puts(out, " | base64 -d");
}

int sbx_xfer_piece_name(char *out, size_t cap, const char *stage, unsigned idx)
{
	return (size_t)snprintf(out, cap, "%s.%06u", stage, idx) >= cap ? -ENAMETOOLONG : 0;
}

/* Appends the loop that decodes the pieces of a stage, in order. */
static int put_pieces(struct sbx_buf *out, const struct sbx_xfer_in *in)
{
	int r = sbx_buf_printf(
	    out, "i=0; while [ $i -lt %u ]; do base64 -d < \"$(printf '%%s.%%06d' ", in->n_pieces);

	if (!r)
		r = sbx_shquote(out, in->stage);
	return r ? r : sbx_buf_puts(out, " $i)\" || exit 1; i=$((i+1)); done | ");
}

int sbx_xfer_sh_word(struct sbx_buf *out, const char *script)
{
	size_t n = strlen(script);
	int r;

	if (sbx_xfer_utf8_valid(script, n))
		return sbx_shquote(out, script);
	r = sbx_buf_puts(out, "\"$(");
	if (!r)
		r = put_b64(out, script, n);
	return r ? r : sbx_buf_puts(out, ")\"");
}

/* Appends "sh -c SCRIPT" with its stdin and, when out_stage, stdout. */
static int put_script(struct sbx_buf *out, const char *script, const struct sbx_xfer_in *in,
		      bool to_stage)
{
	int r = 0;

	if (in->inline_data)
		r = put_b64(out, in->inline_data, in->inline_len);
	else if (in->stage)
		r = put_pieces(out, in);
	if (!r && in->inline_data)
		r = sbx_buf_puts(out, " | ");
	if (!r)
		r = sbx_buf_puts(out, "sh -c ");
	if (!r)
		r = sbx_xfer_sh_word(out, script);
	if (!r && !in->inline_data && !in->stage)
		r = sbx_buf_puts(out, " < /dev/null");
	if (!r && to_stage)
		r = sbx_buf_puts(out, " > \"$o\"");
	if (!r)
		r = sbx_buf_puts(out, "; r=$?");
	if (!r && in->stage) {
		r = sbx_buf_puts(out, "; rm -f ");
		if (!r)
			r = sbx_shquote(out, in->stage);
		if (!r)
			r = sbx_buf_puts(out, ".*");
	}
	return r;
}

int sbx_xfer_cmd_run(struct sbx_buf *out, const char *script, const struct sbx_xfer_in *in,
		     const char *out_stage)
{
	bool direct = !out_stage && !in->inline_data && !in->stage &&
		      sbx_xfer_utf8_valid(script, strlen(script));
	int r;

	if (direct) {
		r = sbx_buf_puts(out, script); /* the executor runs it with sh -c */
	} else if (!out_stage) {
		r = put_script(out, script, in, false);
		if (!r)
			r = sbx_buf_puts(out, "; exit $r");
	} else {
		r = sbx_buf_puts(out, "o=");
		if (!r)
			r = sbx_shquote(out, out_stage);
		if (!r)
			r = sbx_buf_puts(out, "; ");
		if (!r)
			r = put_script(out, script, in, true);
		if (!r)
			r = sbx_buf_printf(out,
					   "\nif [ $r -ne 0 ]; then rm -f \"$o\"; exit $r; fi\n"
					   "set -- $(wc -c < \"$o\") || exit 1\n"
					   "if [ \"$1\" -le %zu ]; then printf 'I %%s\\n' \"$1\"; "
					   "base64 < \"$o\"; r=$?; rm -f \"$o\"; exit $r\n"
					   "else printf 'F %%s\\n' \"$1\"; fi\n",
					   SBX_XFER_INLINE_MAX);
	}
	if (r)
		return r;
	return out->len > SBX_XFER_CMD_MAX ? -E2BIG : 0;
}

int sbx_xfer_cmd_range(struct sbx_buf *out, const char *stage, uint64_t idx, bool last)
{
	const size_t per = SBX_XFER_RANGE / RANGE_BS;
	int r = sbx_buf_puts(out, "dd if=");

	if (!r)
		r = sbx_shquote(out, stage);
	if (!r)
		r = sbx_buf_printf(out, " bs=%zu skip=%llu count=%zu 2>/dev/null | base64",
				   RANGE_BS, (unsigned long long)(idx * per), per);
	if (!r && last) {
		r = sbx_buf_puts(out, "; r=$?; rm -f ");
		if (!r)
			r = sbx_shquote(out, stage);
		if (!r)
			r = sbx_buf_puts(out, "; exit $r");
	}
	return r;
}

int sbx_xfer_parse_head(const char *s, size_t n, bool *ret_inline, uint64_t *ret_len,
			size_t *ret_off)
{
	uint64_t v = 0;
	size_t i;

	if (n < 4 || (s[0] != 'I' && s[0] != 'F') || s[1] != ' ')
		return -EPROTO;
	for (i = 2; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (i > 2 + 18)
			return -EPROTO;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 2 || i >= n || s[i] != '\n')
		return -EPROTO;
	*ret_inline = s[0] == 'I';
	*ret_len = v;
	*ret_off = i + 1;
	return 0;
}
