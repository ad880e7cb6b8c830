/* test_ws_hs.c - the client's half of the WebSocket opening handshake
 * (src/lib/exec/ws_hs.c): the nonce, the request, and the verdict on the
 * server's reply. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "exec/ws_hs.h"
#include "sbx/error.h"
#include "util/ws_frame.h"

/* The RFC 6455 example nonce and its accept value. */
static const struct sbx_wsh_key RFC_KEY = {"dGhlIHNhbXBsZSBub25jZQ==",
					   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="};

static int reply(const char *head, struct sbx_wsh_reply *r)
{
	return sbx_wsh_reply(head, strlen(head), &RFC_KEY, "Bearer", r);
}

START_TEST(key_is_fresh_and_matches_its_accept)
{
	struct sbx_wsh_key a, b;
	char acc[29];

	ck_assert_int_eq(sbx_wsh_key_new(&a), 0);
	ck_assert_int_eq(sbx_wsh_key_new(&b), 0);
	ck_assert_uint_eq(strlen(a.key), 24);
	ck_assert_str_ne(a.key, b.key);
	ck_assert_int_eq(sbx_ws_accept_key(a.key, true, acc), 0);
	ck_assert_str_eq(a.accept, acc);
}
END_TEST

START_TEST(request_has_every_header)
{
	struct sbx_buf b = SBX_BUF_INIT;
	struct sbx_wsh_request q = {"api.example:8443", "/v1/streams/instances/exec?id=x",
				    "Bearer, tok", "Bearer tok", "sbx/1"};

	ck_assert_int_eq(sbx_wsh_request(&b, &q, &RFC_KEY), 0);
	ck_assert_str_eq(b.data, "GET /v1/streams/instances/exec?id=x HTTP/1.1\r\n"
				 "Host: api.example:8443\r\n"
				 "Upgrade: websocket\r\n"
				 "Connection: Upgrade\r\n"
				 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				 "Sec-WebSocket-Version: 13\r\n"
				 "Sec-WebSocket-Protocol: Bearer, tok\r\n"
				 "Authorization: Bearer tok\r\n"
				 "User-Agent: sbx/1\r\n"
				 "\r\n");
	sbx_buf_release(&b);
}
END_TEST

START_TEST(request_refuses_line_breaks)
{
	struct sbx_buf b = SBX_BUF_INIT;
	struct sbx_wsh_request q = {"h", "/p", "Bearer, tok\r\nX-Evil: 1", NULL, NULL};

	ck_assert_int_eq(sbx_wsh_request(&b, &q, &RFC_KEY), -EINVAL);
	q.protos = NULL;
	q.auth = "Bearer a\nb";
	ck_assert_int_eq(sbx_wsh_request(&b, &q, &RFC_KEY), -EINVAL);
	q.auth = NULL;
	q.path = "no-slash";
	ck_assert_int_eq(sbx_wsh_request(&b, &q, &RFC_KEY), -EINVAL);
	q.path = "/a b";
	ck_assert_int_eq(sbx_wsh_request(&b, &q, &RFC_KEY), -EINVAL);
	q.path = "/ok";
	ck_assert_int_eq(sbx_wsh_request(&b, &q, &RFC_KEY), 0);
	sbx_buf_release(&b);
}
END_TEST

START_TEST(accepts_a_proper_upgrade)
{
	static const char head[] = "HTTP/1.1 101 Switching Protocols\r\n"
				   "upgrade: WebSocket\r\n"
				   "Connection: keep-alive, Upgrade\r\n"
				   "Sec-WebSocket-Accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n"
				   "Sec-WebSocket-Protocol: Bearer\r\n"
				   "\r\n";
	char buf[sizeof(head) + 4];
	struct sbx_wsh_reply r;

	/* the frames that follow the head are not part of it */
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + sizeof(head) - 1, "\x81\x02hi", 4);
	ck_assert_int_eq(sbx_wsh_reply(buf, sizeof(buf) - 1, &RFC_KEY, "Bearer", &r),
			 (int)sizeof(head) - 1);
	ck_assert(r.accepted);
	ck_assert_int_eq(r.status, 101);
	ck_assert_str_eq(r.reason, "");
}
END_TEST

START_TEST(accepts_bare_newlines_and_no_subprotocol)
{
	struct sbx_wsh_reply r;
	const char *h = "HTTP/1.1 101\nUpgrade: websocket\nConnection: upgrade\n"
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n";

	ck_assert_int_eq(reply(h, &r), (int)strlen(h));
	ck_assert(r.accepted);
}
END_TEST

START_TEST(waits_for_the_whole_head)
{
	static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				   "Connection: Upgrade\r\n"
				   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
	struct sbx_wsh_reply r;
	size_t n;

	for (n = 0; n < sizeof(head) - 1; n++)
		ck_assert_int_eq(sbx_wsh_reply(head, n, &RFC_KEY, "Bearer", &r), 0);
	ck_assert_int_eq(sbx_wsh_reply(head, n, &RFC_KEY, "Bearer", &r), (int)n);
	ck_assert(r.accepted);
}
END_TEST

START_TEST(refuses_what_is_not_an_upgrade)
{
	static const struct {
		const char *head, *reason;
	} cases[] = {
	    {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	     "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
	     "wrong or missing Sec-WebSocket-Accept"},
	    {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	     "wrong or missing Sec-WebSocket-Accept"},
	    {"HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
	     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
	     "the reply does not upgrade the connection to WebSocket"},
	    {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n"
	     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
	     "the reply does not upgrade the connection to WebSocket"},
	    {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	     "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
	     "the server chose an extension that was not offered"},
	    {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	     "Sec-WebSocket-Protocol: tok\r\n\r\n",
	     "the server selected an unexpected subprotocol"},
	    {"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	     "Sec-WebSocket-Protocol: Bearer\r\nSec-WebSocket-Protocol: Bearer\r\n\r\n",
	     "the server selected an unexpected subprotocol"},
	};
	struct sbx_wsh_reply r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(reply(cases[i].head, &r), (int)strlen(cases[i].head));
		ck_assert_msg(!r.accepted, "case %zu accepted", i);
		ck_assert_str_eq(r.reason, cases[i].reason);
	}
}
END_TEST

START_TEST(keeps_the_status_of_a_refusal)
{
	struct sbx_wsh_reply r;
	const char *h = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";

	ck_assert_int_eq(reply(h, &r), (int)strlen(h));
	ck_assert(!r.accepted);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(r.reason, "HTTP 401 instead of 101");
}
END_TEST

START_TEST(refuses_garbage_and_floods)
{
	static char big[SBX_WSH_REPLY_MAX + 10];
	struct sbx_wsh_reply r;

	ck_assert_int_eq(reply("SSH-2.0-OpenSSH\r\n\r\n", &r), -SBX_EPROTO);
	ck_assert_int_eq(reply("HTTP/1.1 1O1 x\r\n\r\n", &r), -SBX_EPROTO);
	ck_assert_int_eq(reply("HTTP/1.1 101x\r\n\r\n", &r), -SBX_EPROTO);
	ck_assert_int_eq(reply("HTTP/1.1 101 OK\r\nno colon here\r\n\r\n", &r), -SBX_EPROTO);
	ck_assert_str_eq(r.reason, "malformed header line in the reply");
	ck_assert_int_eq(reply("HTTP/1.1 101 OK\r\n: empty name\r\n\r\n", &r), -SBX_EPROTO);
	memcpy(big, "HTTP/1.1 101 OK\r\nX: ", 20);
	memset(big + 20, 'a', sizeof(big) - 21);
	ck_assert_int_eq(sbx_wsh_reply(big, SBX_WSH_REPLY_MAX - 1, &RFC_KEY, NULL, &r), 0);
	ck_assert_int_eq(sbx_wsh_reply(big, sizeof(big) - 1, &RFC_KEY, NULL, &r), -SBX_EPROTO);
	ck_assert_ptr_nonnull(strstr(r.reason, "longer than"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ws_hs");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, key_is_fresh_and_matches_its_accept);
	tcase_add_test(tc, request_has_every_header);
	tcase_add_test(tc, request_refuses_line_breaks);
	tcase_add_test(tc, accepts_a_proper_upgrade);
	tcase_add_test(tc, accepts_bare_newlines_and_no_subprotocol);
	tcase_add_test(tc, waits_for_the_whole_head);
	tcase_add_test(tc, refuses_what_is_not_an_upgrade);
	tcase_add_test(tc, keeps_the_status_of_a_refusal);
	tcase_add_test(tc, refuses_garbage_and_floods);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
