/* shquote.c - POSIX sh quoting; see shquote.h. */
#include "util/shquote.h"

#include <string.h>

static int is_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_@%+=:,./-", c));
}

int sbx_shquote(struct sbx_buf *out, const char *s)
{
	const char *p;
	int r;

	if (!*s)
		return sbx_buf_puts(out, "''");
	for (p = s; *p && is_safe((unsigned char)*p); p++)
		;
	if (!*p)
		return sbx_buf_puts(out, s);
	r = sbx_buf_putc(out, '\'');
	for (p = s; !r && *p; p++) {
		if (*p == '\'')
			r = sbx_buf_puts(out, "'\"'\"'");
		else
			r = sbx_buf_putc(out, *p);
	}
	if (!r)
		r = sbx_buf_putc(out, '\'');
	return r;
}

int sbx_shquote_argv(struct sbx_buf *out, const char *const *argv, size_t argc)
{
	size_t i;
	int r = 0;

	for (i = 0; !r && i < argc; i++) {
		if (i)
			r = sbx_buf_putc(out, ' ');
		if (!r)
			r = sbx_shquote(out, argv[i]);
	}
	return r;
}
