/* test_frames.c - exec WebSocket message codec (src/lib/exec/frames.c):
 * the three client frames field by field, every server frame shape of
 * docs/executor-protocol.md §3.3 (data, exit, both in one frame, missing exit_code,
 * error frames), and what must be refused (bad base64, non-objects). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec/frames.h"
#include "sbx/error.h"
#include "util/b64.h"
#include "util/json.h"

static const char *const ARGV[] = {"sh", "-c", "echo \"hi\" 'x'\n"};

static json_object *parse(const struct sbx_buf *b)
{
	json_object *o = NULL;

	ck_assert_int_eq(sbx_json_parse(b->data, b->len, &o), 0);
	return o;
}

static void check_head(json_object *o)
{
	json_object *cmd = sbx_json_get(o, "body.command");
	size_t i;

	ck_assert_str_eq(sbx_json_str(o, "id"), "inst-1");
	ck_assert_str_eq(sbx_json_str(o, "idType"), "INSTANCE_ID");
	ck_assert(cmd && json_object_is_type(cmd, json_type_array));
	ck_assert_uint_eq(json_object_array_length(cmd), 3);
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(cmd, i)),
				 ARGV[i]);
}

START_TEST(first_frame)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *o;

	ck_assert_int_eq(sbx_frame_first(&b, "inst-1", ARGV, 3), 0);
	o = parse(&b);
	check_head(o);
	ck_assert(sbx_json_bool(o, "body.disableTty", false));
	ck_assert_ptr_null(sbx_json_get(o, "body.stdin"));
	sbx_json_put(o);
	sbx_buf_reset(&b);
	ck_assert_int_eq(sbx_frame_first(&b, "inst-1", ARGV, 0), -EINVAL);
	sbx_buf_release(&b);
}
END_TEST

START_TEST(tty_frames)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *o;
	int64_t v;

	ck_assert_int_eq(sbx_frame_first_tty(&b, "inst-1", ARGV, 3, 40, 120), 0);
	o = parse(&b);
	check_head(o);
	ck_assert(!sbx_json_bool(o, "body.disableTty", true));
	ck_assert_int_eq(sbx_json_int(o, "body.tty_size.height", &v), 0);
	ck_assert_int_eq(v, 40);
	ck_assert_int_eq(sbx_json_int(o, "body.tty_size.width", &v), 0);
	ck_assert_int_eq(v, 120);
	sbx_json_put(o);
	sbx_buf_reset(&b);
	ck_assert_int_eq(sbx_frame_first_tty(&b, "inst-1", ARGV, 3, 0, 0), 0);
	o = parse(&b);
	ck_assert_ptr_null(sbx_json_get(o, "body.tty_size"));
	sbx_json_put(o);
	sbx_buf_reset(&b);
	/* a resize carries no id, as the Koyeb CLI sends it */
	ck_assert_int_eq(sbx_frame_resize(&b, 33, 111), 0);
	ck_assert_str_eq(b.data, "{\"body\":{\"tty_size\":{\"height\":33,\"width\":111}}}");
	sbx_buf_release(&b);
}
END_TEST

START_TEST(stdin_frame)
{
	struct sbx_buf b = SBX_BUF_INIT, d = SBX_BUF_INIT;
	unsigned char raw[SBX_FRAME_STDIN_MAX];
	const char *data;
	json_object *o;
	size_t i;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 7 + 3);
	ck_assert_int_eq(sbx_frame_stdin(&b, "inst-1", ARGV, 3, raw, sizeof(raw)), 0);
	o = parse(&b);
	check_head(o);
	data = sbx_json_str(o, "body.stdin.data");
	ck_assert_ptr_nonnull(data);
	/* standard alphabet, padded, no line breaks */
	ck_assert_uint_eq(strlen(data), sbx_b64_encoded_len(sizeof(raw)));
	ck_assert_ptr_null(strchr(data, '\n'));
	ck_assert_int_eq(sbx_b64_decode(&d, data, strlen(data)), 0);
	ck_assert_uint_eq(d.len, sizeof(raw));
	ck_assert_mem_eq(d.data, raw, sizeof(raw));
	ck_assert_ptr_null(sbx_json_get(o, "body.stdin.close"));
	sbx_json_put(o);

	sbx_buf_reset(&b);
	ck_assert_int_eq(sbx_frame_stdin(&b, "inst-1", ARGV, 3, "a", 1), 0);
	o = parse(&b);
	ck_assert_str_eq(sbx_json_str(o, "body.stdin.data"), "YQ==");
	sbx_json_put(o);

	sbx_buf_reset(&b);
	ck_assert_int_eq(sbx_frame_stdin(&b, "inst-1", ARGV, 3, raw, sizeof(raw) + 1), -EINVAL);
	ck_assert_uint_eq(SBX_FRAME_STDIN_MAX % 3, 0);
	ck_assert_uint_le(SBX_FRAME_STDIN_MAX, 32768);
	sbx_buf_release(&b);
	sbx_buf_release(&d);
}
END_TEST

START_TEST(close_frame)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *o;

	ck_assert_int_eq(sbx_frame_stdin_close(&b, "inst-1", ARGV, 3), 0);
	o = parse(&b);
	check_head(o);
	ck_assert(sbx_json_bool(o, "body.stdin.close", false));
	ck_assert_ptr_null(sbx_json_get(o, "body.stdin.data"));
	sbx_json_put(o);
	sbx_buf_release(&b);
}
END_TEST

START_TEST(id_is_escaped)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *o;

	ck_assert_int_eq(sbx_frame_first(&b, "a\"b\\c", ARGV, 1), 0);
	o = parse(&b);
	ck_assert_str_eq(sbx_json_str(o, "id"), "a\"b\\c");
	sbx_json_put(o);
	sbx_buf_release(&b);
}
END_TEST

static int dec(const char *s, struct sbx_frame_in *f)
{
	sbx_frame_in_reset(f);
	return sbx_frame_decode(s, strlen(s), f);
}

START_TEST(decode_data)
{
	struct sbx_frame_in f = {0};

	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{\"data\":\"aGVsbG8K\"}}}", &f), 0);
	ck_assert_uint_eq(f.out.len, 6);
	ck_assert_mem_eq(f.out.data, "hello\n", 6);
	ck_assert_uint_eq(f.err.len, 0);
	ck_assert(!f.exited && !f.has_code && !f.is_error);

	ck_assert_int_eq(dec("{\"result\":{\"stderr\":{\"data\":\"AP8=\"}}}", &f), 0);
	ck_assert_uint_eq(f.err.len, 2);
	ck_assert_mem_eq(f.err.data, "\0\377", 2);
	ck_assert_uint_eq(f.out.len, 0);
	sbx_frame_in_release(&f);
}
END_TEST

START_TEST(decode_combined)
{
	struct sbx_frame_in f = {0};

	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{\"data\":\"b3V0\"},"
			     "\"stderr\":{\"data\":\"bHM6IG5vcGUK\"},"
			     "\"exited\":true,\"exit_code\":2}}",
			     &f),
			 0);
	ck_assert_uint_eq(f.out.len, 3);
	ck_assert_mem_eq(f.out.data, "out", 3);
	ck_assert_uint_eq(f.err.len, 9);
	ck_assert_mem_eq(f.err.data, "ls: nope\n", 9);
	ck_assert(f.exited);
	ck_assert(f.has_code);
	ck_assert_int_eq(f.exit_code, 2);
	sbx_frame_in_release(&f);
}
END_TEST

START_TEST(decode_exit_shapes)
{
	struct sbx_frame_in f = {0};

	/* exited without exit_code: code 0 was left out */
	ck_assert_int_eq(dec("{\"result\":{\"exited\":true}}", &f), 0);
	ck_assert(f.exited && f.has_code);
	ck_assert_int_eq(f.exit_code, 0);
	/* exit_code without exited: remembered, not the end */
	ck_assert_int_eq(dec("{\"result\":{\"exit_code\":3}}", &f), 0);
	ck_assert(!f.exited && f.has_code);
	ck_assert_int_eq(f.exit_code, 3);
	/* int as a string, exited false */
	ck_assert_int_eq(dec("{\"result\":{\"exit_code\":\"137\",\"exited\":false}}", &f), 0);
	ck_assert(!f.exited && f.has_code);
	ck_assert_int_eq(f.exit_code, 137);
	/* out of range, wrong type */
	ck_assert_int_eq(dec("{\"result\":{\"exit_code\":4294967296}}", &f), -EPROTO);
	ck_assert_int_eq(dec("{\"result\":{\"exit_code\":[1]}}", &f), -EPROTO);
	/* nothing at all, unknown keys, null members */
	ck_assert_int_eq(dec("{}", &f), 0);
	ck_assert(!f.exited && !f.has_code && !f.is_error && !f.out.len);
	ck_assert_int_eq(dec("{\"result\":{\"stdout\":null,\"x\":1},\"y\":[]}", &f), 0);
	ck_assert_int_eq(dec("{\"result\":null}", &f), 0);
	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{}}}", &f), 0);
	sbx_frame_in_release(&f);
}
END_TEST

START_TEST(decode_error)
{
	struct sbx_frame_in f = {0};

	ck_assert_int_eq(dec("{\"error\":{\"code\":5,\"message\":\"instance not found\","
			     "\"details\":[]}}",
			     &f),
			 0);
	ck_assert(f.is_error);
	ck_assert_int_eq(f.error_code, 5);
	ck_assert_str_eq(f.error_msg, "instance not found");
	ck_assert_int_eq(dec("{\"error\":{}}", &f), 0);
	ck_assert(f.is_error);
	ck_assert_int_eq(f.error_code, 2);
	ck_assert_str_eq(f.error_msg, "remote error");
	ck_assert_int_eq(dec("{\"error\":{\"code\":\"16\",\"message\":\"no\"}}", &f), 0);
	ck_assert_int_eq(f.error_code, 16);
	sbx_frame_in_release(&f);

	ck_assert_int_eq(sbx_frame_grpc_errno(5), -SBX_ENOTFOUND);
	ck_assert_int_eq(sbx_frame_grpc_errno(16), -SBX_EAUTH);
	ck_assert_int_eq(sbx_frame_grpc_errno(7), -SBX_EPERM);
	ck_assert_int_eq(sbx_frame_grpc_errno(9), -SBX_ENOTHEALTHY);
	ck_assert_int_eq(sbx_frame_grpc_errno(14), -SBX_ENOTHEALTHY);
	ck_assert_int_eq(sbx_frame_grpc_errno(4), -SBX_ETIMEDOUT);
	ck_assert_int_eq(sbx_frame_grpc_errno(13), -SBX_EIO);
	ck_assert_int_eq(sbx_frame_grpc_errno(0), -SBX_EIO);
}
END_TEST

START_TEST(decode_refused)
{
	struct sbx_frame_in f = {0};

	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{\"data\":\"a$==\"}}}", &f), -EPROTO);
	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{\"data\":\"aGVsbG8K=x\"}}}", &f), -EPROTO);
	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{\"data\":5}}}", &f), -EPROTO);
	ck_assert_int_eq(dec("{\"result\":{\"stdout\":\"aGk=\"}}", &f), -EPROTO);
	ck_assert_int_eq(dec("{\"result\":[]}", &f), -EPROTO);
	ck_assert_int_eq(dec("[1,2]", &f), -EPROTO);
	ck_assert_int_eq(dec("\"text\"", &f), -EPROTO);
	ck_assert_int_eq(dec("42", &f), -EPROTO);
	ck_assert_int_eq(dec("{\"result\":", &f), -EPROTO);
	ck_assert_int_eq(dec("", &f), -EPROTO);
	ck_assert_int_eq(dec("{} trailing", &f), -EPROTO);
	sbx_frame_in_release(&f);
}
END_TEST

START_TEST(decode_base64_with_newlines)
{
	struct sbx_frame_in f = {0};

	/* tolerated: some encoders wrap lines */
	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{\"data\":\"aGVs\\nbG8K\"}}}", &f), 0);
	ck_assert_uint_eq(f.out.len, 6);
	ck_assert_mem_eq(f.out.data, "hello\n", 6);
	sbx_frame_in_release(&f);
}
END_TEST

/* The fast path for output frames (sbxd's exact shape) and json-c must give
 * the same result; near misses of that shape go to json-c. */
static void same_as_json(const char *msg, size_t n)
{
	struct sbx_frame_in f = {0}, ref = {0};

	ck_assert_int_eq(sbx_frame_decode(msg, n, &f), sbx_frame_decode_json(msg, n, &ref));
	ck_assert_uint_eq(f.out.len, ref.out.len);
	ck_assert_uint_eq(f.err.len, ref.err.len);
	if (f.out.len)
		ck_assert_mem_eq(f.out.data, ref.out.data, f.out.len);
	if (f.err.len)
		ck_assert_mem_eq(f.err.data, ref.err.data, f.err.len);
	ck_assert(f.exited == ref.exited && f.has_code == ref.has_code && !f.is_error);
	sbx_frame_in_release(&f);
	sbx_frame_in_release(&ref);
}

START_TEST(decode_fast_path)
{
	static const char *const shapes[] = {
	    "{\"result\":{\"stdout\":{\"data\":\"aGVsbG8K\"}}}",
	    "{\"result\":{\"stderr\":{\"data\":\"AP8=\"}}}",
	    "{\"result\":{\"stdout\":{\"data\":\"\"}}}",
	    "{\"result\":{\"stdout\":{\"data\":\"aGVsbG8\\/Cg==\"}}}", /* escaped '/' */
	    "{\"result\":{\"stdout\":{\"data\":\"aGVs\\u0062G8K\"}}}",
	    "{\"result\":{\"stdout\":{\"data\":\"aGVs\\nbG8K\"}}}",
	    "{\"result\":{\"stdout\":{\"data\":\"aGVsbG8K\"}}} ",
	    "{\"result\":{\"stdout\":{\"data\":\"aGVsbG8K\"}},\"exited\":true}}",
	    "{\"result\":{\"stdout\":{\"data\":\"aG\"},\"x\":{\"data\":\"aGVsbG8K\"}}}",
	};
	struct sbx_frame_in f = {0};
	struct sbx_buf msg = SBX_BUF_INIT;
	unsigned char raw[200000];
	size_t i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		same_as_json(shapes[i], strlen(shapes[i]));
	/* a bulk frame as sbxd sends it */
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 7 + i / 251);
	ck_assert_int_eq(sbx_buf_puts(&msg, "{\"result\":{\"stdout\":{\"data\":\""), 0);
	ck_assert_int_eq(sbx_b64_encode(&msg, raw, sizeof(raw)), 0);
	ck_assert_int_eq(sbx_buf_puts(&msg, "\"}}}"), 0);
	same_as_json(msg.data, msg.len);
	ck_assert_int_eq(sbx_frame_decode(msg.data, msg.len, &f), 0);
	ck_assert_uint_eq(f.out.len, sizeof(raw));
	ck_assert_mem_eq(f.out.data, raw, sizeof(raw));
	/* bad base64 in the exact shape is still refused, as json-c's path does */
	ck_assert_int_eq(dec("{\"result\":{\"stdout\":{\"data\":\"a$==\"}}}", &f), -EPROTO);
	sbx_buf_release(&msg);
	sbx_frame_in_release(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frames");
	TCase *tc = tcase_create("frames");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, first_frame);
	tcase_add_test(tc, stdin_frame);
	tcase_add_test(tc, tty_frames);
	tcase_add_test(tc, close_frame);
	tcase_add_test(tc, id_is_escaped);
	tcase_add_test(tc, decode_data);
	tcase_add_test(tc, decode_combined);
	tcase_add_test(tc, decode_exit_shapes);
	tcase_add_test(tc, decode_error);
	tcase_add_test(tc, decode_refused);
	tcase_add_test(tc, decode_base64_with_newlines);
	tcase_add_test(tc, decode_fast_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
