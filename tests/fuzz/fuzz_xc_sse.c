/* fuzz_xc_sse.c - the executor client's server-sent-events parser
 * (src/lib/xc/sse.c) on arbitrary bytes from an executor.
 *
 * The first byte picks the piece size; the rest is the stream. It is parsed
 * twice, whole and in pieces, with a small bound so that the bound is hit
 * often: both runs must give the same events and the same end code (a
 * split must never change what is parsed), the parser must never hold more
 * than its bound, a failure must stay, and an event's length must be what
 * the callback is told.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "xc/sse.h"

#define MAX 256

static int on_ev(void *ud, const char *name, const char *data, size_t n)
{
	struct sbx_buf *b = ud;

	if (n > MAX || strlen(name) > MAX || data[n] != '\0')
		abort();
	/* name, a NUL, the data, a NUL: a record both runs must agree on */
	sbx_buf_append(b, name, strlen(name) + 1);
	sbx_buf_append(b, data, n);
	sbx_buf_putc(b, '\0');
	return 0;
}

static int run(const char *s, size_t n, size_t piece, struct sbx_buf *out)
{
	struct xc_sse p;
	size_t off = 0;
	int rc = 0;

	xc_sse_init(&p, MAX);
	while (!rc && off < n) {
		size_t k = n - off < piece ? n - off : piece;

		rc = xc_sse_feed(&p, s + off, k, on_ev, out);
		if (p.line.len + p.name.len + p.data.len > MAX + MAX)
			abort();
		off += k;
	}
	if (rc && xc_sse_feed(&p, "\n\n", 2, on_ev, out) != rc)
		abort(); /* a failure is sticky */
	if (!rc)
		rc = xc_sse_finish(&p);
	else if (xc_sse_finish(&p) != rc)
		abort();
	xc_sse_release(&p);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_buf a = SBX_BUF_INIT, b = SBX_BUF_INIT;
	size_t piece;
	int ra, rb;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] % 17 + 1;
	ra = run((const char *)data + 1, size - 1, size, &a);
	rb = run((const char *)data + 1, size - 1, piece, &b);
	if (ra != rb || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
		abort();
	if (ra != 0 && ra != -EPROTO && ra != -EMSGSIZE)
		abort();
	sbx_buf_release(&a);
	sbx_buf_release(&b);
	return 0;
}
