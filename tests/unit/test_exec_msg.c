/* test_exec_msg.c - sbxd's decoding of exec WebSocket client messages
 * (src/host/exec_msg.c): the target, the argv and stdin of a message. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/exec_msg.h"

static void parse(const char *s, struct sbxd_exec_msg *m)
{
	ck_assert_int_eq(sbxd_exec_msg_parse(s, strlen(s), m), 0);
}

START_TEST(not_an_object)
{
	static const char *const bad[] = {"", "[]", "\"x\"", "1", "{", "{} x", "null"};
	struct sbxd_exec_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(sbxd_exec_msg_parse(bad[i], strlen(bad[i]), &m), -EINVAL);
		ck_assert_ptr_null(m.root);
		sbxd_exec_msg_release(&m); /* harmless on an empty message */
	}
}
END_TEST

START_TEST(tty_request_and_size)
{
	struct sbxd_exec_msg m;

	parse("{\"body\":{\"command\":[\"sh\"]}}", &m);
	ck_assert(!m.want_tty); /* absent: no terminal, as the SDKs expect */
	ck_assert_uint_eq(m.rows, 0);
	sbxd_exec_msg_release(&m);
	parse("{\"body\":{\"command\":[\"sh\"],\"disableTty\":true}}", &m);
	ck_assert(!m.want_tty);
	sbxd_exec_msg_release(&m);
	parse("{\"body\":{\"command\":[\"sh\"],\"disableTty\":false,"
	      "\"tty_size\":{\"height\":40,\"width\":120}}}",
	      &m);
	ck_assert(m.want_tty);
	ck_assert_uint_eq(m.rows, 40);
	ck_assert_uint_eq(m.cols, 120);
	sbxd_exec_msg_release(&m);
	parse("{\"body\":{\"tty_size\":{\"height\":25,\"width\":80}}}", &m);
	ck_assert_uint_eq(m.rows, 25);
	ck_assert_uint_eq(m.cols, 80);
	sbxd_exec_msg_release(&m);
	/* out of range, half a size, or the wrong type: no size at all */
	parse("{\"body\":{\"tty_size\":{\"height\":0,\"width\":80}}}", &m);
	ck_assert_uint_eq(m.rows, 0);
	sbxd_exec_msg_release(&m);
	parse("{\"body\":{\"tty_size\":{\"height\":70000,\"width\":80}}}", &m);
	ck_assert_uint_eq(m.rows, 0);
	sbxd_exec_msg_release(&m);
	parse("{\"body\":{\"tty_size\":{\"height\":25}}}", &m);
	ck_assert_uint_eq(m.rows, 0);
	sbxd_exec_msg_release(&m);
	parse("{\"body\":{\"tty_size\":{\"height\":\"25\",\"width\":80},"
	      "\"disableTty\":\"false\"}}",
	      &m);
	ck_assert_uint_eq(m.rows, 0);
	ck_assert(!m.want_tty);
	sbxd_exec_msg_release(&m);
}
END_TEST

START_TEST(first_message)
{
	struct sbxd_exec_msg m;
	const char *id;
	bool svc;
	char **argv;

	parse("{\"id\":\"i1\",\"idType\":\"INSTANCE_ID\",\"body\":{\"command\":[\"sh\",\"-c\","
	      "\"echo hi\"],\"disableTty\":true,\"stdin\":{\"data\":\"aGk=\",\"close\":true}}}",
	      &m);
	ck_assert(sbxd_exec_msg_target(&m, "q", true, &id, &svc));
	ck_assert_str_eq(id, "i1");
	ck_assert(!svc);
	argv = sbxd_exec_msg_argv(&m);
	ck_assert_ptr_nonnull(argv);
	ck_assert_str_eq(argv[0], "sh");
	ck_assert_str_eq(argv[2], "echo hi");
	ck_assert_ptr_null(argv[3]);
	free(argv);
	ck_assert(m.stdin_close);
	{
		struct sbx_buf b = SBX_BUF_INIT;

		ck_assert_int_eq(sbxd_exec_msg_stdin(&m, &b), 0);
		ck_assert_uint_eq(b.len, 2);
		ck_assert_int_eq(memcmp(b.data, "hi", 2), 0);
		sbx_buf_release(&b);
	}
	sbxd_exec_msg_release(&m);
}
END_TEST

START_TEST(targets)
{
	struct sbxd_exec_msg m;
	const char *id;
	bool svc;

	parse("{\"body\":{}}", &m);
	ck_assert(sbxd_exec_msg_target(&m, "q1", true, &id, &svc));
	ck_assert_str_eq(id, "q1");
	ck_assert(svc);
	ck_assert(!sbxd_exec_msg_target(&m, "", true, &id, &svc));
	ck_assert(!sbxd_exec_msg_target(&m, NULL, false, &id, &svc));
	sbxd_exec_msg_release(&m);
	/* an id without a type is an instance, whatever the query said */
	parse("{\"id\":\"x\"}", &m);
	ck_assert(sbxd_exec_msg_target(&m, "q1", true, &id, &svc));
	ck_assert_str_eq(id, "x");
	ck_assert(!svc);
	sbxd_exec_msg_release(&m);
	/* the type alone decides for the query's id; id_type is accepted */
	parse("{\"id\":\"\",\"id_type\":\"SERVICE_ID\"}", &m);
	ck_assert(sbxd_exec_msg_target(&m, "q1", false, &id, &svc));
	ck_assert_str_eq(id, "q1");
	ck_assert(svc);
	sbxd_exec_msg_release(&m);
}
END_TEST

START_TEST(bad_commands_and_stdin)
{
	static const char *const bad[] = {
	    "{}",
	    "{\"body\":{\"command\":[]}}",
	    "{\"body\":{\"command\":\"ls\"}}",
	    "{\"body\":{\"command\":[\"\"]}}",
	    "{\"body\":{\"command\":[\"ls\",1]}}",
	    "{\"body\":{\"command\":[\"a\\u0000b\"]}}",
	};
	struct sbxd_exec_msg m;
	struct sbx_buf b = SBX_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i], &m);
		ck_assert_msg(sbxd_exec_msg_argv(&m) == NULL, "%s", bad[i]);
		sbxd_exec_msg_release(&m);
	}
	parse("{\"body\":{\"stdin\":{\"data\":\"@@\",\"close\":\"yes\"}}}", &m);
	ck_assert_int_eq(sbxd_exec_msg_stdin(&m, &b), -EINVAL);
	ck_assert(!m.stdin_close);
	sbxd_exec_msg_release(&m);
	sbx_buf_reset(&b);
	parse("{\"body\":{\"stdin\":{\"data\":7}}}", &m);
	ck_assert_ptr_null(m.stdin_b64);
	ck_assert_int_eq(sbxd_exec_msg_stdin(&m, &b), 0);
	ck_assert_uint_eq(b.len, 0);
	sbxd_exec_msg_release(&m);
	sbx_buf_release(&b);
}
END_TEST

/* The fast path for libsbx's stdin frames and json-c over the whole message
 * must agree: fields, stdin bytes, refusals. Near misses go to json-c. */
static void same_as_json(const char *s)
{
	struct sbxd_exec_msg a, b;
	struct sbx_buf ia = SBX_BUF_INIT, ib = SBX_BUF_INIT;
	int ra = sbxd_exec_msg_parse(s, strlen(s), &a);

	ck_assert_int_eq(ra, sbxd_exec_msg_parse_json(s, strlen(s), &b));
	if (!ra) {
		ck_assert_int_eq(sbxd_exec_msg_stdin(&a, &ia), sbxd_exec_msg_stdin(&b, &ib));
		ck_assert_uint_eq(ia.len, ib.len);
		if (ia.len)
			ck_assert_mem_eq(ia.data, ib.data, ia.len);
		ck_assert_str_eq(a.id ? a.id : "-", b.id ? b.id : "-");
		ck_assert(a.stdin_close == b.stdin_close && a.want_tty == b.want_tty);
	}
	sbx_buf_release(&ia);
	sbx_buf_release(&ib);
	sbxd_exec_msg_release(&a);
	sbxd_exec_msg_release(&b);
}

START_TEST(stdin_fast_path)
{
	static const char *const msgs[] = {
	    /* libsbx's shape: taken by the fast path */
	    "{\"id\":\"i\",\"idType\":\"INSTANCE_ID\",\"body\":{\"command\":[\"sh\"],"
	    "\"stdin\":{\"data\":\"aGVsbG8K\"}}}",
	    "{\"body\":{\"stdin\":{\"data\":\"\"}}}",
	    /* near misses and traps: json-c decides */
	    "{\"body\":{\"stdin\":{\"data\":\"aGVs\\/bG8K\"}}}",
	    "{\"body\":{\"stdin\":{\"data\":\"aGVs\\nbG8K\"}}}",
	    "{\"body\":{\"stdin\":{\"data\":\"aG$s\"}}}",
	    "{\"x\":{\"stdin\":{\"data\":\"aGVsbG8K\"}}}",
	    "{\"body\":{\"stdin\":{\"data\":\"\"}},\"x\":{\"stdin\":{\"data\":\"aGVsbG8K\"}}}",
	    "{\"body\":{\"stdin\":{\"data\":\"aGk=\"}},\"body\":{\"stdin\":{\"data\":\"aGVsbG8K\"}}"
	    "}",
	    "{\"body\":{\"a\":{\"b\":1,\"stdin\":{\"data\":\"aGVsbG8K\"}}}}",
	    "{\"body\":{\"s\":\"x,\\\"stdin\\\":{\\\"data\\\":\"aGVsbG8K\"}}}",
	    "{\"body\":{\"stdin\":{\"close\":true},\"stdin\":{\"data\":\"aGVsbG8K\"}}}",
	    "[{\"body\":{\"stdin\":{\"data\":\"aGVsbG8K\"}}}",
	    "{\"body\":{\"stdin\":{\"data\":\"aGVsbG8K\"}}}}",
	};
	struct sbxd_exec_msg m;
	struct sbx_buf in = SBX_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		same_as_json(msgs[i]);
	parse(msgs[0], &m);
	ck_assert(m.stdin_decoded); /* the fast path took it */
	ck_assert_str_eq(m.id, "i");
	ck_assert_int_eq(sbxd_exec_msg_stdin(&m, &in), 0);
	ck_assert_str_eq(in.data, "hello\n");
	sbx_buf_release(&in);
	sbxd_exec_msg_release(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exec_msg");
	TCase *tc = tcase_create("msg");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, not_an_object);
	tcase_add_test(tc, first_message);
	tcase_add_test(tc, tty_request_and_size);
	tcase_add_test(tc, targets);
	tcase_add_test(tc, bad_commands_and_stdin);
	tcase_add_test(tc, stdin_fast_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
