/* sse.h - an incremental parser of server-sent events (text/event-stream).
 *
 * Fed the bytes of a stream in pieces of any size, it emits each complete
 * event as (name, data): the name is the last `event:` field ("message"
 * when there was none), the data the `data:` lines joined by '\n'. Lines
 * end in LF, CRLF or CR (a CRLF split between two feeds is one line end);
 * `:` lines are comments; `id:`, `retry:` and unknown fields are ignored; an
 * event without a `data:` line is dropped, as the WHATWG rules say.
 *
 * Bound: one event (its name, data and the line being read) may hold at
 * most the `max` given to xc_sse_init(); past it the parser fails with
 * -EMSGSIZE and stays failed. The parser never reads past what it is given
 * and keeps no pointer into it.
 */
#ifndef SBX_LIB_XC_SSE_H
#define SBX_LIB_XC_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Called once per event. @p name and @p data are NUL-terminated and
 * borrowed for the call (data may hold NUL bytes: use n). A non-zero return
 * stops xc_sse_feed(), which returns it. */
typedef int (*xc_sse_fn)(void *ud, const char *name, const char *data, size_t n);

struct xc_sse {
	struct sbx_buf line; /* the line being read, without its end */
	struct sbx_buf name; /* the current event's name ("" = none) */
	struct sbx_buf data; /* its data lines, each followed by '\n' */
	size_t max;	     /* bound on line + name + data */
	bool after_cr;	     /* the last byte was a CR: skip an LF next */
	int failed;	     /* sticky negative errno, or 0 */
};

void xc_sse_init(struct xc_sse *p, size_t max);
/* Frees what the parser holds. Accepts a zeroed or released parser. */
void xc_sse_release(struct xc_sse *p);

/* Parses n more bytes, calling fn for each event they complete. Returns 0,
 * fn's non-zero value (the rest of the bytes are not parsed), -EMSGSIZE past
 * the bound or -ENOMEM; after a failure every later call returns it. */
int xc_sse_feed(struct xc_sse *p, const char *buf, size_t n, xc_sse_fn fn, void *ud);

/* Says whether the stream may end here: 0 when it ended between events
 * (nothing pending but blank lines or comments), -EPROTO when it was cut
 * inside an event or a line, or the parser's failure. */
int xc_sse_finish(const struct xc_sse *p);

#endif
