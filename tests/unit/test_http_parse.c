/* test_http_parse.c - the HTTP/1.x request head parser of sbxd
 * (src/host/http/http_parse.c): request line, headers, framing, limits,
 * malformed input, query strings. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/http/http_parse.h"
#include "util/buf.h"

static int parse(const char *s, struct sbxd_http_req *req)
{
	memset(req, 0, sizeof(*req));
	return sbxd_http_parse_head(s, strlen(s), req);
}

START_TEST(simple_get)
{
	const char *s = "GET /v1/apps?limit=10&name=a%20b HTTP/1.1\r\nHost: x\r\n"
			"Authorization:  Bearer abc \r\n\r\n";
	struct sbxd_http_req req;
	int r = parse(s, &req);

	ck_assert_int_eq(r, (int)strlen(s));
	ck_assert_str_eq(req.method, "GET");
	ck_assert_str_eq(req.path, "/v1/apps");
	ck_assert_str_eq(req.query, "limit=10&name=a%20b");
	ck_assert_int_eq(req.version_minor, 1);
	ck_assert_uint_eq(req.nheaders, 2);
	ck_assert_str_eq(sbxd_http_header(&req, "authorization"), "Bearer abc");
	ck_assert_ptr_null(sbxd_http_header(&req, "Content-Length"));
	ck_assert(req.keep_alive);
	ck_assert_uint_eq(req.content_length, 0);
	sbxd_http_req_release(&req);
}
END_TEST

START_TEST(incomplete_needs_more)
{
	struct sbxd_http_req req;
	const char *full = "POST /v1/apps HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
	size_t i, hl = strlen(full) - 2;

	for (i = 0; i < hl; i++) {
		memset(&req, 0, sizeof(req));
		ck_assert_int_eq(sbxd_http_parse_head(full, i, &req), 0);
	}
	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(sbxd_http_parse_head(full, hl, &req), (int)hl);
	ck_assert_uint_eq(req.content_length, 2);
	sbxd_http_req_release(&req);
}
END_TEST

START_TEST(bare_lf_and_leading_blank_lines)
{
	struct sbxd_http_req req;
	const char *s = "\r\n\nDELETE /v1/apps/x HTTP/1.0\nConnection: keep-alive\n\n";

	ck_assert_int_eq(parse(s, &req), (int)strlen(s));
	ck_assert_str_eq(req.method, "DELETE");
	ck_assert_str_eq(req.path, "/v1/apps/x");
	ck_assert_str_eq(req.query, "");
	ck_assert_int_eq(req.version_minor, 0);
	ck_assert(req.keep_alive);
	sbxd_http_req_release(&req);
}
END_TEST

START_TEST(connection_close_and_tokens)
{
	struct sbxd_http_req req;

	ck_assert_int_gt(parse("GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n"
			       "Upgrade: WebSocket\r\n\r\n",
			       &req),
			 0);
	ck_assert(!req.keep_alive);
	ck_assert(sbxd_http_header_has_token(&req, "connection", "upgrade"));
	ck_assert(sbxd_http_header_has_token(&req, "Upgrade", "websocket"));
	ck_assert(!sbxd_http_header_has_token(&req, "Upgrade", "web"));
	sbxd_http_req_release(&req);
	ck_assert_int_gt(parse("GET / HTTP/1.0\r\n\r\n", &req), 0);
	ck_assert(!req.keep_alive);
	sbxd_http_req_release(&req);
}
END_TEST

static void expect_status(const char *s, int status)
{
	struct sbxd_http_req req;

	ck_assert_int_eq(parse(s, &req), -EBADMSG);
	ck_assert_int_eq(req.error_status, status);
	ck_assert_ptr_null(req.storage);
}

START_TEST(bad_input)
{
	expect_status("GET\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1 extra\r\n\r\n", 400);
	expect_status("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_status("G(T / HTTP/1.1\r\n\r\n", 400);
	expect_status("GET x HTTP/1.1\r\n\r\n", 400);
	expect_status("GET / FTP/1.1\r\n\r\n", 400);
	expect_status("GET / HTTP/2.0\r\n\r\n", 505);
	expect_status("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\n: empty\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400);
	expect_status("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400);
	expect_status("GET /\x7f HTTP/1.1\r\n\r\n", 400);
}
END_TEST

START_TEST(framing)
{
	struct sbxd_http_req req;

	expect_status("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n", 413);
	expect_status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413);
	expect_status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	ck_assert_int_gt(parse("POST / HTTP/1.1\r\nContent-Length: 1048576\r\n"
			       "content-length: 1048576\r\n\r\n",
			       &req),
			 0);
	ck_assert_uint_eq(req.content_length, 1048576);
	sbxd_http_req_release(&req);
}
END_TEST

START_TEST(limits)
{
	size_t n = SBX_HTTP_MAX_HEAD + 10, i;
	char *big = malloc(n + 1);
	struct sbxd_http_req req;
	struct sbx_buf b = SBX_BUF_INIT;

	/* a head that never ends within the limit: 431 */
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	memset(big + 19, 'a', n - 19);
	big[n] = '\0';
	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(sbxd_http_parse_head(big, n, &req), -EBADMSG);
	ck_assert_int_eq(req.error_status, 431);
	/* below the limit and unfinished: need more */
	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(sbxd_http_parse_head(big, SBX_HTTP_MAX_HEAD - 1, &req), 0);
	free(big);

	/* too many header lines: 431 */
	sbx_buf_puts(&b, "GET / HTTP/1.1\r\n");
	for (i = 0; i <= SBX_HTTP_MAX_HEADERS; i++)
		sbx_buf_printf(&b, "H%zu: v\r\n", i);
	sbx_buf_puts(&b, "\r\n");
	expect_status(b.data, 431);
	sbx_buf_release(&b);
}
END_TEST

START_TEST(query_get)
{
	char out[16];

	ck_assert_int_eq(sbxd_http_query_get("a=1&b=x%2Fy+z&c", "b", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "x/y z");
	ck_assert_int_eq(sbxd_http_query_get("a=1&b=2&c", "c", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(sbxd_http_query_get("a=1&ab=2", "b", out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(sbxd_http_query_get("", "a", out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(sbxd_http_query_get("a=%zz", "a", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sbxd_http_query_get("a=%2", "a", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sbxd_http_query_get("a=%00", "a", out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(sbxd_http_query_get("a=0123456789abcdef", "a", out, sizeof(out)),
			 -ENAMETOOLONG);
	ck_assert_int_eq(sbxd_http_query_get("a=0123456789abcde", "a", out, sizeof(out)), 0);
}
END_TEST

START_TEST(reasons)
{
	ck_assert_str_eq(sbxd_http_reason(404), "Not Found");
	ck_assert_str_eq(sbxd_http_reason(431), "Request Header Fields Too Large");
	ck_assert_str_eq(sbxd_http_reason(799), "Unknown");
}
END_TEST

/* Parses n bytes (which may hold NULs); returns the status or 0 when parsed. */
static int status_of(const char *s, size_t n, const char **why)
{
	struct sbxd_http_req req;
	int r;

	memset(&req, 0, sizeof(req));
	r = sbxd_http_parse_head(s, n, &req);
	*why = req.error_message;
	if (r > 0) {
		sbxd_http_req_release(&req);
		return 0;
	}
	ck_assert_int_eq(r, -EBADMSG);
	return req.error_status;
}

#define STATUS(lit, why) status_of(lit, sizeof(lit) - 1, why)

START_TEST(bad_bytes)
{
	const char *why;

	/* a NUL inside a value used to cut the head silently there */
	ck_assert_int_eq(STATUS("GET / HTTP/1.1\r\nX-A: a\0b\r\nAuthorization: x\r\n\r\n", &why),
			 400);
	ck_assert_str_eq(why, "the request head holds a NUL byte");
	ck_assert_int_eq(STATUS("GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n", &why), 400);
	ck_assert_str_eq(why, "a header value holds a control character");
	ck_assert_int_eq(STATUS("GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", &why), 400);
	ck_assert_int_eq(STATUS("GET / HTTP/1.1\r\nX-A: \xff\xfe\r\n\r\n", &why), 400);
	ck_assert_str_eq(why, "a header value is not valid UTF-8");
	/* overlong '/', a surrogate, a truncated sequence */
	ck_assert_int_eq(STATUS("GET / HTTP/1.1\r\nX-A: \xc0\xaf\r\n\r\n", &why), 400);
	ck_assert_int_eq(STATUS("GET / HTTP/1.1\r\nX-A: \xed\xa0\x80\r\n\r\n", &why), 400);
	ck_assert_int_eq(STATUS("GET / HTTP/1.1\r\nX-A: \xe2\x82\r\n\r\n", &why), 400);
	ck_assert_int_eq(STATUS("GET /a\xff HTTP/1.1\r\n\r\n", &why), 400);
	ck_assert_str_eq(why, "the request target is not valid UTF-8");
	/* well-formed UTF-8 and tabs are fine */
	ck_assert_int_eq(STATUS("GET /caf\xc3\xa9 HTTP/1.1\r\nX-A: \xe2\x82\xac\tx\r\n\r\n", &why),
			 0);
	ck_assert_ptr_null(why);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, simple_get);
	tcase_add_test(tc, incomplete_needs_more);
	tcase_add_test(tc, bare_lf_and_leading_blank_lines);
	tcase_add_test(tc, connection_close_and_tokens);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, framing);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, query_get);
	tcase_add_test(tc, reasons);
	tcase_add_test(tc, bad_bytes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
