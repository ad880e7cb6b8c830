/* buf.c - growable byte buffer; see buf.h for the invariants. */
#include "util/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbx_buf_init(struct sbx_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void sbx_buf_release(struct sbx_buf *b)
{
	if (!b)
		return;
	free(b->data);
	sbx_buf_init(b);
}

int sbx_buf_reserve(struct sbx_buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > (size_t)-1 / 2 - b->len)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(b->data, ncap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int sbx_buf_append(struct sbx_buf *b, const void *p, size_t n)
{
	int r = sbx_buf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int sbx_buf_puts(struct sbx_buf *b, const char *s)
{
	return sbx_buf_append(b, s, strlen(s));
}

int sbx_buf_putc(struct sbx_buf *b, char c)
{
	return sbx_buf_append(b, &c, 1);
}

int sbx_buf_vprintf(struct sbx_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	r = sbx_buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int sbx_buf_printf(struct sbx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sbx_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void sbx_buf_consume(struct sbx_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void sbx_buf_reset(struct sbx_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *sbx_buf_detach(struct sbx_buf *b, size_t *ret_len)
{
	char *p;

	if (!b->data) {
		p = calloc(1, 1);
		if (!p)
			return NULL;
	} else {
		p = b->data;
	}
	if (ret_len)
		*ret_len = b->len;
	sbx_buf_init(b);
	return p;
}
