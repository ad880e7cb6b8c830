/* test_xc_sse.c - the server-sent-events parser of the executor client
 * (src/lib/xc/sse.c): events split at every byte boundary, line ends,
 * missing names, the bound, a cut stream, a caller's stop. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "xc/sse.h"

/* Events as "name=data|" text. */
struct rec {
	struct sbx_buf out;
	int stop_after; /* return 9 from this event on (0: never) */
	int n;
};

static int on_ev(void *ud, const char *name, const char *data, size_t n)
{
	struct rec *r = ud;

	ck_assert_uint_eq(strlen(data), n);
	sbx_buf_printf(&r->out, "%s=%.*s|", name, (int)n, data);
	r->n++;
	return r->stop_after && r->n >= r->stop_after ? 9 : 0;
}

/* Counts events and checks the length of a data with a NUL in it. */
static int on_ev_len(void *ud, const char *name, const char *data, size_t n)
{
	struct rec *r = ud;

	ck_assert_uint_eq(n, 3);
	ck_assert(!memcmp(data, "a\0b", 4));
	r->n++;
	return 0;
}

/* Feeds s in pieces cut at a and b; returns finish()'s code, *out the events. */
static int run3(const char *s, size_t a, size_t b, size_t max, char **out)
{
	struct xc_sse p;
	struct rec r = {SBX_BUF_INIT, 0, 0};
	size_t n = strlen(s);
	int rc;

	xc_sse_init(&p, max);
	rc = xc_sse_feed(&p, s, a, on_ev, &r);
	if (!rc)
		rc = xc_sse_feed(&p, s + a, b - a, on_ev, &r);
	if (!rc)
		rc = xc_sse_feed(&p, s + b, n - b, on_ev, &r);
	if (!rc)
		rc = xc_sse_finish(&p);
	xc_sse_release(&p);
	sbx_buf_puts(&r.out, "");
	*out = sbx_buf_detach(&r.out, NULL);
	return rc;
}

/* Every split into three pieces gives the same events and code. */
static void every_split(const char *s, int want_rc, const char *want)
{
	size_t n = strlen(s);

	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			char *got = NULL;
			int rc = run3(s, a, b, 1 << 20, &got);

			ck_assert_msg(rc == want_rc && !strcmp(got, want),
				      "split %zu/%zu of %s: rc %d events %s", a, b, s, rc, got);
			free(got);
		}
}

START_TEST(executor_shapes)
{
	every_split("event: output\ndata: {\"stream\":\"stdout\",\"data\":\"hi\"}\n\n"
		    "event: complete\ndata: {\"code\":0,\"error\":false}\n\n",
		    0,
		    "output={\"stream\":\"stdout\",\"data\":\"hi\"}|"
		    "complete={\"code\":0,\"error\":false}|");
}
END_TEST

START_TEST(line_ends)
{
	every_split("event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n", 0,
		    "a=1|b=2|message=3|");
	/* a CR then an LF in the next piece is one line end, not two */
	every_split("data: x\r\n\r\n", 0, "message=x|");
}
END_TEST

START_TEST(fields)
{
	/* no name: "message"; multi-line data joined by LF; no space after ':' */
	every_split("data:a\ndata: b\n\n", 0, "message=a\nb|");
	/* comments, id, retry and unknown fields are skipped; a line without ':'
	 * is a field with an empty value */
	every_split(": keep-alive\nid: 7\nretry: 10\nfoo: bar\nevent: e\ndata\n\n", 0, "e=|");
	/* an event without data is dropped; its name does not leak to the next */
	every_split("event: lost\n\ndata: d\n\n", 0, "message=d|");
	/* only the first space after ':' is dropped */
	every_split("data:  two\n\n", 0, "message= two|");
	/* blank lines between events and a last name wins */
	every_split("\n\nevent: a\nevent: b\ndata: x\n\n\n", 0, "b=x|");
}
END_TEST

START_TEST(cut_stream)
{
	/* ended inside an event or a line: EPROTO, and the event is not given */
	every_split("event: output\ndata: {}\n", -EPROTO, "");
	every_split("data: {}", -EPROTO, "");
	every_split("event: x\n", -EPROTO, "");
	every_split("data: a\n\ndata: b\n", -EPROTO, "message=a|");
	every_split(": comment without end", -EPROTO, "");
	every_split("", 0, "");
}
END_TEST

START_TEST(bound)
{
	const size_t max = 64;
	struct rec r = {SBX_BUF_INIT, 0, 0};
	struct xc_sse p;
	char big[200];
	char *got = NULL;

	/* at the bound: a line of max - 1 bytes (+ the '\n' a data line adds) */
	memset(big, 'x', sizeof(big));
	memcpy(big, "data: ", 6);
	big[max - 1] = '\0';
	ck_assert_int_eq(run3(big, 0, 0, max, &got), -EPROTO); /* cut, but not over */
	free(got);
	big[max - 1] = 'x';
	big[max] = '\0';
	ck_assert_int_eq(run3(big, 0, 0, max, &got), -EMSGSIZE);
	free(got);
	big[max] = 'x';
	/* one byte past: EMSGSIZE, whatever the split, and it stays failed */
	for (size_t a = 0; a < 80; a++) {
		xc_sse_init(&p, max);
		big[76] = '\0';
		int rc = xc_sse_feed(&p, big, a, on_ev, &r);

		if (!rc)
			rc = xc_sse_feed(&p, big + a, strlen(big) - a, on_ev, &r);
		ck_assert_int_eq(rc, -EMSGSIZE);
		ck_assert_int_eq(xc_sse_feed(&p, "\n\n", 2, on_ev, &r), -EMSGSIZE);
		ck_assert_int_eq(xc_sse_finish(&p), -EMSGSIZE);
		ck_assert_int_eq(r.n, 0);
		ck_assert_uint_le(p.line.len + p.name.len + p.data.len, max);
		xc_sse_release(&p);
	}
	/* the bound is per event: many small events pass */
	xc_sse_init(&p, max);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(xc_sse_feed(&p, "data: 0123456789\n\n", 18, on_ev, &r), 0);
	ck_assert_int_eq(r.n, 100);
	ck_assert_int_eq(xc_sse_finish(&p), 0);
	xc_sse_release(&p);
	/* name and data count together */
	xc_sse_init(&p, max);
	memset(big, 'n', 40);
	memcpy(big, "event: ", 7);
	memcpy(big + 40, "\ndata: ", 7);
	memset(big + 47, 'd', 30);
	big[77] = '\0';
	ck_assert_int_eq(xc_sse_feed(&p, big, strlen(big), on_ev, &r), -EMSGSIZE);
	xc_sse_release(&p);
	sbx_buf_release(&r.out);
}
END_TEST

START_TEST(caller_stops)
{
	struct rec r = {SBX_BUF_INIT, 2, 0};
	const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
	struct xc_sse p;

	xc_sse_init(&p, 1024);
	ck_assert_int_eq(xc_sse_feed(&p, s, strlen(s), on_ev, &r), 9);
	ck_assert_int_eq(r.n, 2);
	ck_assert_str_eq(r.out.data, "message=1|message=2|");
	xc_sse_release(&p);
	sbx_buf_release(&r.out);
}
END_TEST

START_TEST(nul_in_data)
{
	struct rec r = {SBX_BUF_INIT, 0, 0};
	static const char s[] = "data: a\0b\n\n";
	struct xc_sse p;

	xc_sse_init(&p, 1024);
	ck_assert_int_eq(xc_sse_feed(&p, s, sizeof(s) - 1, on_ev_len, &r), 0);
	ck_assert_int_eq(r.n, 1);
	xc_sse_release(&p);
	sbx_buf_release(&r.out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xc_sse");
	TCase *tc = tcase_create("sse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, executor_shapes);
	tcase_add_test(tc, line_ends);
	tcase_add_test(tc, fields);
	tcase_add_test(tc, cut_stream);
	tcase_add_test(tc, bound);
	tcase_add_test(tc, caller_stops);
	tcase_add_test(tc, nul_in_data);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
