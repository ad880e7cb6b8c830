/* test_ws_frame.c - RFC 6455 framing (src/lib/util/ws_frame.c), sbxd's and
 * the exec client's:
 * accept key, header encoding, masking, message reassembly from fragments
 * and byte-by-byte input, control frames, protocol errors, size limits. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_frame.h"

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Appends a masked client frame to b. */
static void client_frame(struct sbx_buf *b, bool fin, int op, const void *p, size_t n)
{
	uint8_t h[SBX_WS_MAX_HEADER];
	size_t hl = sbx_ws_encode_header(h, fin, op, n, MASK);
	size_t at;

	sbx_buf_append(b, h, hl);
	at = b->len;
	sbx_buf_append(b, p, n);
	sbx_ws_mask((uint8_t *)b->data + at, n, MASK, 0);
}

START_TEST(accept_key_rfc_example)
{
	char out[29];

	ck_assert_int_eq(sbx_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", true, out), 0);
	/* RFC 6455 section 1.3 */
	ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	ck_assert_int_eq(sbx_ws_accept_key("short", true, out), -EINVAL);
	ck_assert_int_eq(sbx_ws_accept_key("short", false, out), 0);
}
END_TEST

START_TEST(header_encoding)
{
	uint8_t h[SBX_WS_MAX_HEADER];
	struct sbx_ws_hdr d;

	ck_assert_uint_eq(sbx_ws_encode_header(h, true, SBX_WS_TEXT, 5, NULL), 2);
	ck_assert_uint_eq(h[0], 0x81);
	ck_assert_uint_eq(h[1], 5);
	ck_assert_uint_eq(sbx_ws_encode_header(h, true, SBX_WS_BINARY, 126, NULL), 4);
	ck_assert_uint_eq(h[1], 126);
	ck_assert_uint_eq(h[2] << 8 | h[3], 126);
	ck_assert_uint_eq(sbx_ws_encode_header(h, false, SBX_WS_TEXT, 70000, MASK), 14);
	ck_assert_uint_eq(h[0], 0x01);
	ck_assert_uint_eq(h[1], 0x80 | 127);
	ck_assert_int_eq(sbx_ws_parse_header(h, 13, &d), 0);
	ck_assert_int_eq(sbx_ws_parse_header(h, 14, &d), 14);
	ck_assert(!d.fin);
	ck_assert(d.masked);
	ck_assert_uint_eq(d.len, 70000);
	ck_assert_mem_eq(d.mask, MASK, 4);
}
END_TEST

START_TEST(header_errors)
{
	uint8_t h[10] = {0xC1, 0x00}; /* RSV1 set */
	struct sbx_ws_hdr d;

	ck_assert_int_eq(sbx_ws_parse_header(h, 2, &d), -EPROTO);
	h[0] = 0x83; /* reserved opcode */
	ck_assert_int_eq(sbx_ws_parse_header(h, 2, &d), -EPROTO);
	h[0] = 0x09; /* fragmented ping */
	ck_assert_int_eq(sbx_ws_parse_header(h, 2, &d), -EPROTO);
	h[0] = 0x89;
	h[1] = 126; /* ping longer than 125 */
	h[2] = 0;
	h[3] = 126;
	ck_assert_int_eq(sbx_ws_parse_header(h, 4, &d), -EPROTO);
	h[0] = 0x82;
	h[1] = 127;
	memset(h + 2, 0xff, 8); /* 64-bit length with the top bit set */
	ck_assert_int_eq(sbx_ws_parse_header(h, 10, &d), -EPROTO);
}
END_TEST

START_TEST(mask_roundtrip)
{
	uint8_t p[11] = "hello world";
	size_t i;

	sbx_ws_mask(p, 11, MASK, 0);
	ck_assert_mem_ne(p, "hello world", 11);
	/* unmasking in two pieces with the offset gives the same result */
	sbx_ws_mask(p, 3, MASK, 0);
	sbx_ws_mask(p + 3, 8, MASK, 3);
	ck_assert_mem_eq(p, "hello world", 11);
	for (i = 0; i < 11; i++)
		;
}
END_TEST

/* RFC 6455 5.3 byte by byte, against the word-wise version: every length
 * around a word and every starting offset. */
START_TEST(mask_matches_rfc)
{
	uint8_t p[40], want[40];
	size_t n, i;
	uint64_t off;

	for (off = 0; off < 9; off++)
		for (n = 0; n <= sizeof(p); n++) {
			for (i = 0; i < n; i++)
				p[i] = want[i] = (uint8_t)(i * 37 + 11);
			for (i = 0; i < n; i++)
				want[i] ^= MASK[(off + i) % 4];
			sbx_ws_mask(p, n, MASK, off);
			if (n)
				ck_assert_mem_eq(p, want, n);
		}
}
END_TEST

/* Feeds all of b to r as if it arrived step bytes at a time (unconsumed
 * bytes stay in the window, like a connection's receive buffer), collecting
 * messages. */
static int feed(struct sbx_ws_reader *r, const struct sbx_buf *b, size_t step,
		struct sbx_buf *msgs, struct sbx_ws_event *last)
{
	size_t pos = 0, avail = 0;
	int count = 0;

	while (pos < b->len) {
		size_t used;
		struct sbx_ws_event ev;

		avail += step;
		if (pos + avail > b->len)
			avail = b->len - pos;
		ck_assert_int_eq(
		    sbx_ws_reader_next(r, (const uint8_t *)b->data + pos, avail, &used, &ev), 0);
		pos += used;
		avail -= used;
		if (ev.type == SBX_WS_EV_NONE) {
			ck_assert_uint_lt(avail, SBX_WS_MAX_HEADER);
			continue;
		}
		*last = ev;
		count++;
		if (ev.type == SBX_WS_EV_MESSAGE) {
			sbx_buf_append(msgs, ev.data, ev.len);
			sbx_buf_putc(msgs, '|');
		}
		if (ev.type == SBX_WS_EV_ERROR || ev.type == SBX_WS_EV_CLOSE)
			break;
	}
	return count;
}

START_TEST(fragmented_message_any_split)
{
	static const size_t steps[] = {1, 2, 3, 7, 100, 100000};
	struct sbx_buf b = SBX_BUF_INIT;
	size_t i;

	client_frame(&b, false, SBX_WS_TEXT, "{\"a\":", 5);
	client_frame(&b, true, SBX_WS_PING, "pp", 2); /* interleaved control */
	client_frame(&b, false, SBX_WS_CONT, "", 0);
	client_frame(&b, true, SBX_WS_CONT, "1}", 2);
	client_frame(&b, true, SBX_WS_BINARY, "xyz", 3);
	client_frame(&b, true, SBX_WS_CLOSE,
		     "\x03\xe8"
		     "bye",
		     5);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct sbx_ws_reader r;
		struct sbx_buf msgs = SBX_BUF_INIT;
		struct sbx_ws_event last;

		sbx_ws_reader_init(&r, 1024, true);
		ck_assert_int_eq(feed(&r, &b, steps[i], &msgs, &last), 4);
		ck_assert_str_eq(msgs.data, "{\"a\":1}|xyz|");
		ck_assert_int_eq(last.type, SBX_WS_EV_CLOSE);
		ck_assert_uint_eq(last.close_code, 1000);
		ck_assert_uint_eq(last.len, 3);
		ck_assert_mem_eq(last.data, "bye", 3);
		sbx_buf_release(&msgs);
		sbx_ws_reader_release(&r);
	}
	sbx_buf_release(&b);
}
END_TEST

static uint16_t error_of(const struct sbx_buf *b, size_t max, bool require_mask)
{
	struct sbx_ws_reader r;
	struct sbx_buf msgs = SBX_BUF_INIT;
	struct sbx_ws_event last = {0};

	sbx_ws_reader_init(&r, max, require_mask);
	feed(&r, b, 1 << 20, &msgs, &last);
	sbx_buf_release(&msgs);
	sbx_ws_reader_release(&r);
	return last.type == SBX_WS_EV_ERROR ? last.close_code : 0;
}

START_TEST(protocol_errors)
{
	struct sbx_buf b = SBX_BUF_INIT;
	uint8_t h[SBX_WS_MAX_HEADER];
	size_t hl;

	/* unmasked client frame */
	hl = sbx_ws_encode_header(h, true, SBX_WS_TEXT, 2, NULL);
	sbx_buf_append(&b, h, hl);
	sbx_buf_append(&b, "{}", 2);
	ck_assert_uint_eq(error_of(&b, 100, true), 1002);
	ck_assert_uint_eq(error_of(&b, 100, false), 0);
	sbx_buf_reset(&b);
	/* continuation without a start */
	client_frame(&b, true, SBX_WS_CONT, "x", 1);
	ck_assert_uint_eq(error_of(&b, 100, true), 1002);
	sbx_buf_reset(&b);
	/* a new message inside a fragmented one */
	client_frame(&b, false, SBX_WS_TEXT, "x", 1);
	client_frame(&b, true, SBX_WS_TEXT, "y", 1);
	ck_assert_uint_eq(error_of(&b, 100, true), 1002);
	sbx_buf_reset(&b);
	/* close with a 1-byte payload, and with a reserved code */
	client_frame(&b, true, SBX_WS_CLOSE, "x", 1);
	ck_assert_uint_eq(error_of(&b, 100, true), 1002);
	sbx_buf_reset(&b);
	client_frame(&b, true, SBX_WS_CLOSE, "\x03\xed", 2); /* 1005 */
	ck_assert_uint_eq(error_of(&b, 100, true), 1002);
	sbx_buf_release(&b);
}
END_TEST

START_TEST(size_limit)
{
	struct sbx_buf b = SBX_BUF_INIT;
	char *big = calloc(1, 101);
	uint8_t h[SBX_WS_MAX_HEADER];
	size_t hl;

	/* one frame past the limit: refused from its header alone */
	hl = sbx_ws_encode_header(h, true, SBX_WS_BINARY, (uint64_t)1 << 40, MASK);
	sbx_buf_append(&b, h, hl);
	ck_assert_uint_eq(error_of(&b, 100, true), 1009);
	sbx_buf_reset(&b);
	/* fragments that add up past the limit */
	client_frame(&b, false, SBX_WS_TEXT, big, 60);
	client_frame(&b, true, SBX_WS_CONT, big, 41);
	ck_assert_uint_eq(error_of(&b, 100, true), 1009);
	sbx_buf_reset(&b);
	/* exactly the limit is fine */
	client_frame(&b, false, SBX_WS_TEXT, big, 60);
	client_frame(&b, true, SBX_WS_CONT, big, 40);
	ck_assert_uint_eq(error_of(&b, 100, true), 0);
	sbx_buf_release(&b);
	free(big);
}
END_TEST

START_TEST(empty_close_and_pong)
{
	struct sbx_buf b = SBX_BUF_INIT, msgs = SBX_BUF_INIT;
	struct sbx_ws_reader r;
	struct sbx_ws_event ev;
	size_t used;

	client_frame(&b, true, SBX_WS_PONG, "", 0);
	client_frame(&b, true, SBX_WS_CLOSE, "", 0);
	sbx_ws_reader_init(&r, 100, true);
	ck_assert_int_eq(sbx_ws_reader_next(&r, (uint8_t *)b.data, b.len, &used, &ev), 0);
	ck_assert_int_eq(ev.type, SBX_WS_EV_PONG);
	ck_assert_int_eq(
	    sbx_ws_reader_next(&r, (uint8_t *)b.data + used, b.len - used, &used, &ev), 0);
	ck_assert_int_eq(ev.type, SBX_WS_EV_CLOSE);
	ck_assert_uint_eq(ev.close_code, 1005);
	sbx_ws_reader_release(&r);
	sbx_buf_release(&b);
	sbx_buf_release(&msgs);
}
END_TEST

START_TEST(large_message_streams)
{
	size_t n = 3u << 20, i;
	char *p = malloc(n);
	struct sbx_buf b = SBX_BUF_INIT, msgs = SBX_BUF_INIT;
	struct sbx_ws_reader r;
	struct sbx_ws_event last;

	for (i = 0; i < n; i++)
		p[i] = (char)('a' + i % 26);
	client_frame(&b, true, SBX_WS_BINARY, p, n);
	sbx_ws_reader_init(&r, 4u << 20, true);
	ck_assert_int_eq(feed(&r, &b, 65536, &msgs, &last), 1);
	ck_assert_uint_eq(msgs.len, n + 1);
	ck_assert_mem_eq(msgs.data, p, n);
	sbx_ws_reader_release(&r);
	sbx_buf_release(&b);
	sbx_buf_release(&msgs);
	free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ws_frame");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, accept_key_rfc_example);
	tcase_add_test(tc, header_encoding);
	tcase_add_test(tc, header_errors);
	tcase_add_test(tc, mask_roundtrip);
	tcase_add_test(tc, mask_matches_rfc);
	tcase_add_test(tc, fragmented_message_any_split);
	tcase_add_test(tc, protocol_errors);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, empty_close_and_pong);
	tcase_add_test(tc, large_message_streams);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
