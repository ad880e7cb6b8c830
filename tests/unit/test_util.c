/* test_util.c - the util layer (src/lib/util): base64 (RFC 4648 vectors,
 * random round trips, wrapped input, invalid input), sh quoting (every byte
 * 1..255 through a real /bin/sh), the growable buffer, lenient JSON ints. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/b64.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/rand.h"
#include "util/shquote.h"

static const char *const VEC[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

START_TEST(b64_rfc4648_vectors)
{
	size_t i;

	for (i = 0; i < sizeof(VEC) / sizeof(VEC[0]); i++) {
		struct sbx_buf e = SBX_BUF_INIT, d = SBX_BUF_INIT;

		ck_assert_int_eq(sbx_b64_encode(&e, VEC[i][0], strlen(VEC[i][0])), 0);
		ck_assert_str_eq(e.data ? e.data : "", VEC[i][1]);
		ck_assert_uint_eq(sbx_b64_encoded_len(strlen(VEC[i][0])), strlen(VEC[i][1]));
		ck_assert_int_eq(sbx_b64_decode(&d, VEC[i][1], strlen(VEC[i][1])), 0);
		ck_assert_uint_eq(d.len, strlen(VEC[i][0]));
		if (d.len)
			ck_assert_mem_eq(d.data, VEC[i][0], d.len);
		sbx_buf_release(&e);
		sbx_buf_release(&d);
	}
}
END_TEST

START_TEST(b64_random_round_trip)
{
	unsigned char raw[4099];
	size_t n;

	for (n = 0; n < sizeof(raw); n += 1 + n / 3) {
		struct sbx_buf e = SBX_BUF_INIT, d = SBX_BUF_INIT, u = SBX_BUF_INIT;

		ck_assert_int_eq(sbx_rand_bytes(raw, n), 0);
		ck_assert_int_eq(sbx_b64_encode(&e, raw, n), 0);
		ck_assert_uint_eq(e.len, sbx_b64_encoded_len(n));
		ck_assert_int_eq(sbx_b64_decode(&d, e.data, e.len), 0);
		ck_assert_uint_eq(d.len, n);
		if (n)
			ck_assert_mem_eq(d.data, raw, n);
		/* URL-safe, unpadded: no '+', '/', '=' */
		ck_assert_int_eq(sbx_b64url_encode(&u, raw, n), 0);
		ck_assert_uint_eq(u.len, (n * 4 + 2) / 3);
		ck_assert(!u.data || strcspn(u.data, "+/=") == u.len);
		sbx_buf_release(&e);
		sbx_buf_release(&d);
		sbx_buf_release(&u);
	}
}
END_TEST

/* The strict decoder: the same bytes as the lenient one for every
 * whitespace-free input it accepts, and a refusal where that one refuses
 * or where there is whitespace. */
START_TEST(b64_decode_raw)
{
	static const char *const ok[] = {
	    "", "=", "==", "Zg", "Zg==", "Zm8", "Zm8=", "Zm9v", "Zm9vYg=", "Zm9vYmFy"};
	static const char *const bad[] = {
	    "Z", "Zm9vY", "===", "Zg===", "Z===", "Zg=g", "Zm9v\n", "Zm 9v", "Zm$v", "Zm9v\0Zg"};
	unsigned char raw[64];
	size_t i;

	for (i = 0; i < sizeof(VEC) / sizeof(VEC[0]); i++) {
		long n = sbx_b64_decode_raw(raw, VEC[i][1], strlen(VEC[i][1]));

		ck_assert_int_eq(n, (long)strlen(VEC[i][0]));
		if (n)
			ck_assert_mem_eq(raw, VEC[i][0], (size_t)n);
	}
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct sbx_buf d = SBX_BUF_INIT;
		long n = sbx_b64_decode_raw(raw, ok[i], strlen(ok[i]));

		ck_assert_int_eq(sbx_b64_decode(&d, ok[i], strlen(ok[i])), 0);
		ck_assert_msg(n == (long)d.len, "%s: %ld bytes, %zu wanted", ok[i], n, d.len);
		ck_assert_uint_le((size_t)n, sbx_b64_decoded_max(strlen(ok[i])));
		if (n)
			ck_assert_mem_eq(raw, d.data, (size_t)n);
		sbx_buf_release(&d);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sbx_b64_decode_raw(raw, bad[i], strlen(bad[i]) + (i == 9) * 3) ==
				  -EINVAL,
			      "%s accepted", bad[i]);
}
END_TEST

START_TEST(b64_decode_wrapped_and_unpadded)
{
	struct sbx_buf d = SBX_BUF_INIT;
	const char *wrapped = "Zm9v\nYmFy\r\n Zm9v\tYg==\n";

	ck_assert_int_eq(sbx_b64_decode(&d, wrapped, strlen(wrapped)), 0);
	ck_assert_uint_eq(d.len, 10);
	ck_assert_mem_eq(d.data, "foobarfoob", 10);
	sbx_buf_reset(&d);
	ck_assert_int_eq(sbx_b64_decode(&d, "Zm9\nvYm Fy", 10), 0); /* inside a group */
	ck_assert_uint_eq(d.len, 6);
	ck_assert_mem_eq(d.data, "foobar", 6);
	sbx_buf_reset(&d);
	ck_assert_int_eq(sbx_b64_decode(&d, "Zm9vYg", 6), 0); /* padding optional */
	ck_assert_uint_eq(d.len, 4);
	ck_assert_mem_eq(d.data, "foob", 4);
	sbx_buf_release(&d);
}
END_TEST

START_TEST(b64_invalid)
{
	static const char *const bad[] = {"Zm9v!", "Zm-v",  "Zm_v",	 "Zg==Zg==", "Z",
					  "Zm9vY", "Zg===", "Zm9v=Zm9v", "=Zm9v"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sbx_buf d = SBX_BUF_INIT;

		ck_assert_msg(sbx_b64_decode(&d, bad[i], strlen(bad[i])) == -EINVAL, "%s", bad[i]);
		sbx_buf_release(&d);
	}
}
END_TEST

/* Runs /bin/sh -c "printf %s <quoted>" and returns what it printed. */
static char *sh_printf(const char *quoted, size_t *len)
{
	struct sbx_buf script = SBX_BUF_INIT, out = SBX_BUF_INIT;
	char buf[4096];
	int fd[2], st;
	ssize_t k;
	pid_t pid;

	sbx_buf_puts(&script, "printf %s ");
	sbx_buf_puts(&script, quoted);
	ck_assert_int_eq(pipe2(fd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		execl("/bin/sh", "sh", "-c", script.data, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while ((k = read(fd[0], buf, sizeof(buf))) > 0)
		sbx_buf_append(&out, buf, (size_t)k);
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	sbx_buf_release(&script);
	return sbx_buf_detach(&out, len);
}

START_TEST(shquote_every_byte)
{
	char all[256], *got;
	struct sbx_buf q = SBX_BUF_INIT;
	size_t i, len;

	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	ck_assert_int_eq(sbx_shquote(&q, all), 0);
	got = sh_printf(q.data, &len);
	ck_assert_uint_eq(len, 255);
	ck_assert_mem_eq(got, all, 255);
	free(got);
	sbx_buf_release(&q);
}
END_TEST

START_TEST(shquote_each_byte_alone)
{
	char s[4], *got;
	size_t len;
	int c;

	for (c = 1; c < 256; c++) {
		struct sbx_buf q = SBX_BUF_INIT;

		s[0] = 'x';
		s[1] = (char)c;
		s[2] = '\'';
		s[3] = '\0';
		ck_assert_int_eq(sbx_shquote(&q, s), 0);
		got = sh_printf(q.data, &len);
		ck_assert_msg(len == 3 && !memcmp(got, s, 3), "byte %d", c);
		free(got);
		sbx_buf_release(&q);
	}
}
END_TEST

START_TEST(shquote_rules)
{
	struct sbx_buf q = SBX_BUF_INIT;
	const char *argv[] = {"ls", "-la", "my file", "", "it's"};

	sbx_shquote(&q, "");
	ck_assert_str_eq(q.data, "''");
	sbx_buf_reset(&q);
	sbx_shquote(&q, "safe_@%+=:,./-Az09");
	ck_assert_str_eq(q.data, "safe_@%+=:,./-Az09");
	sbx_buf_reset(&q);
	sbx_shquote(&q, "it's");
	ck_assert_str_eq(q.data, "'it'\"'\"'s'");
	sbx_buf_reset(&q);
	sbx_shquote_argv(&q, argv, 5);
	ck_assert_str_eq(q.data, "ls -la 'my file' '' 'it'\"'\"'s'");
	sbx_buf_release(&q);
}
END_TEST

START_TEST(buf_growth)
{
	struct sbx_buf b = SBX_BUF_INIT;
	size_t i, len;
	char *p;

	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(sbx_buf_putc(&b, (char)('a' + i % 26)), 0);
	ck_assert_uint_eq(b.len, 100000);
	ck_assert_uint_ge(b.cap, b.len + 1);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(b.data[99999], 'a' + 99999 % 26);
	sbx_buf_consume(&b, 99990);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(b.data[0], 'a' + 99990 % 26);
	ck_assert_int_eq(b.data[10], '\0');
	ck_assert_int_eq(sbx_buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_uint_eq(b.len, 14);
	ck_assert_int_eq(sbx_buf_append(&b, "\0z", 2), 0);
	ck_assert_uint_eq(b.len, 16);
	ck_assert_int_eq(sbx_buf_reserve(&b, (size_t)-1 / 2), -ENOMEM);
	p = sbx_buf_detach(&b, &len);
	ck_assert_uint_eq(len, 16);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	free(p);
	p = sbx_buf_detach(&b, &len); /* empty buffer: a fresh "" */
	ck_assert_str_eq(p, "");
	ck_assert_uint_eq(len, 0);
	free(p);
	sbx_buf_release(&b);
}
END_TEST

START_TEST(json_lenient_ints)
{
	json_object *o = NULL;
	const char *s = "{\"a\":5,\"b\":\"17\",\"c\":\"-3\",\"d\":\"1x\",\"e\":1.5,\"f\":\"\","
			"\"g\":{\"h\":\"9223372036854775807\"},\"i\":true}";
	int64_t v = -1;

	ck_assert_int_eq(sbx_json_parse(s, strlen(s), &o), 0);
	ck_assert_int_eq(sbx_json_int(o, "a", &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(sbx_json_int(o, "b", &v), 0);
	ck_assert_int_eq(v, 17);
	ck_assert_int_eq(sbx_json_int(o, "c", &v), 0);
	ck_assert_int_eq(v, -3);
	ck_assert_int_eq(sbx_json_int(o, "g.h", &v), 0);
	ck_assert(v == INT64_MAX);
	v = 77;
	ck_assert_int_eq(sbx_json_int(o, "d", &v), -EINVAL);
	ck_assert_int_eq(sbx_json_int(o, "e", &v), -EINVAL);
	ck_assert_int_eq(sbx_json_int(o, "f", &v), -EINVAL);
	ck_assert_int_eq(sbx_json_int(o, "i", &v), -EINVAL);
	ck_assert_int_eq(sbx_json_int(o, "zz", &v), -ENOENT);
	ck_assert_int_eq(sbx_json_int(o, "g.zz", &v), -ENOENT);
	ck_assert_int_eq(v, 77); /* untouched on failure */
	ck_assert(sbx_json_bool(o, "i", false));
	ck_assert(sbx_json_bool(o, "a", true)); /* not a bool: the default */
	sbx_json_put(o);
	ck_assert_int_eq(sbx_json_parse("{\"a\":1} x", 9, &o), -EBADMSG);
	ck_assert_int_eq(sbx_json_parse("{\"a\":1}  \n", 10, &o), 0);
	sbx_json_put(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, b64_rfc4648_vectors);
	tcase_add_test(tc, b64_random_round_trip);
	tcase_add_test(tc, b64_decode_wrapped_and_unpadded);
	tcase_add_test(tc, b64_invalid);
	tcase_add_test(tc, b64_decode_raw);
	tcase_add_test(tc, shquote_every_byte);
	tcase_add_test(tc, shquote_each_byte_alone);
	tcase_add_test(tc, shquote_rules);
	tcase_add_test(tc, buf_growth);
	tcase_add_test(tc, json_lenient_ints);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
