/* sse.c - the server-sent-events parser; see sse.h.
 *
 * Bytes are copied line by line into p->line (a run up to the next CR or LF
 * at a time, not byte by byte); a complete line is then applied to the
 * current event. The bound is checked before anything grows, so a failed
 * parser holds at most max bytes.
 */
#include "xc/sse.h"

#include <errno.h>
#include <string.h>

void xc_sse_init(struct xc_sse *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	sbx_buf_init(&p->line);
	sbx_buf_init(&p->name);
	sbx_buf_init(&p->data);
	p->max = max;
}

void xc_sse_release(struct xc_sse *p)
{
	sbx_buf_release(&p->line);
	sbx_buf_release(&p->name);
	sbx_buf_release(&p->data);
	p->after_cr = false;
	p->failed = 0;
}

static size_t held(const struct xc_sse *p)
{
	return p->line.len + p->name.len + p->data.len;
}

static int dispatch(struct xc_sse *p, xc_sse_fn fn, void *ud)
{
	const char *name = p->name.len ? p->name.data : "message";
	int r = 0;

	if (p->data.len) {
		p->data.len--; /* the '\n' after the last data line */
		p->data.data[p->data.len] = '\0';
		r = fn(ud, name, p->data.data, p->data.len);
	}
	sbx_buf_reset(&p->name);
	sbx_buf_reset(&p->data);
	return r;
}

/* Applies one complete line (p->line) to the current event. */
static int apply_line(struct xc_sse *p, xc_sse_fn fn, void *ud)
{
	const char *l = p->line.data, *colon, *val;
	size_t n = p->line.len, flen, vlen;
	int r = 0;

	if (n == 0)
		return dispatch(p, fn, ud);
	if (l[0] == ':')
		goto out;
	colon = memchr(l, ':', n);
	flen = colon ? (size_t)(colon - l) : n;
	val = colon ? colon + 1 : l + n;
	if (val < l + n && *val == ' ')
		val++;
	vlen = (size_t)(l + n - val);
	if (flen == 5 && memcmp(l, "event", 5) == 0) {
		sbx_buf_reset(&p->name);
		r = sbx_buf_append(&p->name, val, vlen);
	} else if (flen == 4 && memcmp(l, "data", 4) == 0) {
		r = sbx_buf_append(&p->data, val, vlen);
		if (!r)
			r = sbx_buf_putc(&p->data, '\n');
	}
out:
	sbx_buf_reset(&p->line);
	return r;
}

/* Length of the run before the next CR or LF. */
static size_t run_len(const char *buf, size_t n)
{
	size_t i = 0;

	while (i < n && buf[i] != '\n' && buf[i] != '\r')
		i++;
	return i;
}

int xc_sse_feed(struct xc_sse *p, const char *buf, size_t n, xc_sse_fn fn, void *ud)
{
	size_t i = 0;
	int r;

	if (p->failed)
		return p->failed;
	while (i < n) {
		size_t k;

		if (p->after_cr && buf[i] == '\n') {
			p->after_cr = false;
			i++;
			continue;
		}
		p->after_cr = false;
		k = run_len(buf + i, n - i);
		/* + 1: room for the '\n' a data line adds */
		if (k > p->max || held(p) + k + 1 > p->max) {
			p->failed = -EMSGSIZE;
			return p->failed;
		}
		if (k && sbx_buf_append(&p->line, buf + i, k) < 0) {
			p->failed = -ENOMEM;
			return p->failed;
		}
		i += k;
		if (i == n)
			break;
		p->after_cr = buf[i] == '\r';
		i++;
		r = apply_line(p, fn, ud);
		if (r == -ENOMEM) { /* from the buffers (or fn: then also final) */
			p->failed = r;
			return r;
		}
		if (r)
			return r;
	}
	return 0;
}

int xc_sse_finish(const struct xc_sse *p)
{
	if (p->failed)
		return p->failed;
	if (p->line.len || p->name.len || p->data.len)
		return -EPROTO;
	return 0;
}
