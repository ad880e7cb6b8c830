/* test_xfer.c - the byte-exact transfers of the executor transport
 * (src/lib/fs/xfer.c): the UTF-8 check, the Go error texts, and the
 * commands, run for real by the local sh (as the executor runs them: one
 * `sh -c CMD` argument, so the kernel's 128 KiB limit applies here too).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fs/xfer.h"
#include "lib/util/b64.h"
#include "lib/util/buf.h"
#include "sbx/error.h"

#define U8(s) sbx_xfer_utf8_exact(s, sizeof(s) - 1)

START_TEST(utf8)
{
	ck_assert(U8(""));
	ck_assert(U8("plain ascii\n"));
	ck_assert(U8("with a \0 NUL"));
	ck_assert(U8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	ck_assert(U8("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	ck_assert(!U8("\xff"));
	ck_assert(!U8("\xc0\x80"));	    /* overlong NUL */
	ck_assert(!U8("\xe0\x80\xaf"));	    /* overlong '/' */
	ck_assert(!U8("\xed\xa0\x80"));	    /* a surrogate */
	ck_assert(!U8("\xf4\x90\x80\x80")); /* past U+10FFFF */
	ck_assert(!U8("cut \xe2\x82"));
	ck_assert(!U8("\x80 lone continuation"));
	/* valid, but it is what the executor puts in place of bad bytes */
	ck_assert(!U8("a\xef\xbf\xbd"));
	ck_assert(sbx_xfer_has_fffd("a\xef\xbf\xbd", 4));
	ck_assert(!sbx_xfer_has_fffd("\xef\xbf", 2));
}
END_TEST

START_TEST(go_texts)
{
	ck_assert_int_eq(sbx_xfer_errno_go("open /x: no such file or directory"), -SBX_ENOTFOUND);
	ck_assert_int_eq(sbx_xfer_errno_go("read /d: is a directory\n"), -SBX_EISDIR);
	ck_assert_int_eq(sbx_xfer_errno_go("readdirent /f: not a directory"), -SBX_ENOTDIR);
	ck_assert_int_eq(sbx_xfer_errno_go("open /r: permission denied"), -SBX_EPERM);
	ck_assert_int_eq(sbx_xfer_errno_go("open /big: file too large"), -EFBIG);
	ck_assert_int_eq(sbx_xfer_errno_go("open /l: too many levels of symbolic links"), -ELOOP);
	/* the reason is the last part: a path cannot fake it */
	ck_assert_int_eq(sbx_xfer_errno_go("open /a: is a directory: permission denied"),
			 -SBX_EPERM);
	ck_assert_int_eq(sbx_xfer_errno_go("open /no such file or directory: weird"), 0);
	ck_assert_int_eq(sbx_xfer_errno_go("No such file or directory"), 0); /* not Go's */
	ck_assert_int_eq(sbx_xfer_errno_go(""), 0);
	ck_assert_int_eq(sbx_xfer_errno_go(NULL), 0);
}
END_TEST

/* Runs cmd with sh -c; its stdout in *out; the exit status. */
static int sh(const char *cmd, struct sbx_buf *out)
{
	char buf[65536];
	FILE *f = popen(cmd, "r");
	size_t n;
	int st;

	ck_assert_ptr_nonnull(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ck_assert_int_eq(sbx_buf_append(out, buf, n), 0);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* Writes data as the pieces of stage, base64 text files as /write_file
 * leaves them; returns how many. */
static unsigned write_pieces(const char *stage, const unsigned char *data, size_t n)
{
	struct sbx_buf b64 = SBX_BUF_INIT;
	char name[SBX_XFER_STAGE_MAX + 16];
	unsigned i = 0;
	size_t off, k;
	FILE *f;

	for (off = 0; off < n; off += k, i++) {
		k = n - off < SBX_XFER_PIECE ? n - off : SBX_XFER_PIECE;
		if (i == 0 && k > SBX_XFER_CHUNK)
			k = SBX_XFER_CHUNK; /* the first piece is the inline probe's */
		sbx_buf_reset(&b64);
		ck_assert_int_eq(sbx_b64_encode(&b64, data + off, k), 0);
		ck_assert_int_eq(sbx_xfer_piece_name(name, sizeof(name), stage, i), 0);
		f = fopen(name, "we");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(b64.data, 1, b64.len, f), b64.len);
		fclose(f);
	}
	sbx_buf_release(&b64);
	return i;
}

START_TEST(non_utf8_script)
{
	struct sbx_buf cmd = SBX_BUF_INIT, out = SBX_BUF_INIT;
	struct sbx_xfer_in in = {NULL, 0, NULL, 0};

	/* a path that is not UTF-8 makes a script the JSON string cannot carry:
	 * it travels as base64 and still prints its bytes and keeps its code */
	ck_assert_int_eq(sbx_xfer_cmd_run(&cmd, "printf '%s' '\xff\xfe'; exit 5", &in, NULL), 0);
	ck_assert(sbx_xfer_utf8_valid(cmd.data, cmd.len));
	ck_assert_int_eq(sh(cmd.data, &out), 5);
	ck_assert_uint_eq(out.len, 2);
	ck_assert(!memcmp(out.data, "\xff\xfe", 2));
	sbx_buf_release(&cmd);
	sbx_buf_release(&out);
}
END_TEST

/* The base64 stdout of a run with an out stage, decoded. */
static void decode_run(const struct sbx_buf *out, struct sbx_buf *ret, bool want_inline)
{
	uint64_t len;
	size_t off;
	bool inl;

	ck_assert_int_eq(sbx_xfer_parse_head(out->data, out->len, &inl, &len, &off), 0);
	ck_assert(inl == want_inline);
	if (inl) {
		ck_assert_int_eq(sbx_b64_decode(ret, out->data + off, out->len - off), 0);
		ck_assert_uint_eq(ret->len, len);
	}
}

START_TEST(run_inline)
{
	unsigned char data[5000];
	struct sbx_buf cmd = SBX_BUF_INIT, out = SBX_BUF_INIT, dec = SBX_BUF_INIT;
	struct sbx_xfer_in in = {data, sizeof(data), NULL, 0};
	char stage[SBX_XFER_STAGE_MAX];

	fill(data, sizeof(data), 3);
	ck_assert_int_eq(sbx_xfer_stage_name(stage, sizeof(stage), "out"), 0);
	/* stdin in the command, binary stdout back as base64 */
	ck_assert_int_eq(sbx_xfer_cmd_run(&cmd, "cat; printf 'x\\0y'", &in, stage), 0);
	ck_assert_int_eq(sh(cmd.data, &out), 0);
	decode_run(&out, &dec, true);
	ck_assert_uint_eq(dec.len, sizeof(data) + 3);
	ck_assert(!memcmp(dec.data, data, sizeof(data)));
	ck_assert(!memcmp(dec.data + sizeof(data), "x\0y", 3));
	ck_assert_int_ne(access(stage, F_OK), 0); /* removed */
	/* a failing script: its code, nothing left behind */
	sbx_buf_reset(&cmd);
	sbx_buf_reset(&out);
	ck_assert_int_eq(sbx_xfer_cmd_run(&cmd, "echo part; exit 3", &in, stage), 0);
	ck_assert_int_eq(sh(cmd.data, &out), 3);
	ck_assert_int_ne(access(stage, F_OK), 0);
	/* no stdin, no stage: the script is the command */
	sbx_buf_reset(&cmd);
	in = (struct sbx_xfer_in){NULL, 0, NULL, 0};
	ck_assert_int_eq(sbx_xfer_cmd_run(&cmd, "exit 4", &in, NULL), 0);
	ck_assert_str_eq(cmd.data, "exit 4");
	sbx_buf_release(&cmd);
	sbx_buf_release(&out);
	sbx_buf_release(&dec);
}
END_TEST

START_TEST(run_staged_and_ranges)
{
	size_t n = SBX_XFER_INLINE_MAX + SBX_XFER_RANGE / 2 + 3;
	unsigned char *data = malloc(n);
	struct sbx_buf cmd = SBX_BUF_INIT, out = SBX_BUF_INIT, dec = SBX_BUF_INIT;
	char in_stage[SBX_XFER_STAGE_MAX], out_stage[SBX_XFER_STAGE_MAX];
	struct sbx_xfer_in in = {NULL, 0, in_stage, 0};
	char first[SBX_XFER_STAGE_MAX + 16];

	fill(data, n, 11);
	ck_assert_int_eq(sbx_xfer_stage_name(in_stage, sizeof(in_stage), "in"), 0);
	ck_assert_int_eq(sbx_xfer_stage_name(out_stage, sizeof(out_stage), "out"), 0);
	in.n_pieces = write_pieces(in_stage, data, n);
	ck_assert_uint_ge(in.n_pieces, 3);
	ck_assert_int_eq(sbx_xfer_cmd_run(&cmd, "cat", &in, out_stage), 0);
	ck_assert_int_eq(sh(cmd.data, &out), 0);
	ck_assert_int_eq(sbx_xfer_piece_name(first, sizeof(first), in_stage, 0), 0);
	ck_assert_int_ne(access(first, F_OK), 0); /* the run removes its stdin */
	decode_run(&out, &dec, false);		  /* too big: left for ranges */
	for (uint64_t i = 0; i < 2; i++) {
		sbx_buf_reset(&cmd);
		sbx_buf_reset(&out);
		ck_assert_int_eq(sbx_xfer_cmd_range(&cmd, out_stage, i, i == 1), 0);
		ck_assert_int_eq(sh(cmd.data, &out), 0);
		ck_assert_int_eq(sbx_b64_decode(&dec, out.data, out.len), 0);
	}
	ck_assert_uint_eq(dec.len, n);
	ck_assert(!memcmp(dec.data, data, n));
	ck_assert_int_ne(access(out_stage, F_OK), 0);
	sbx_buf_release(&cmd);
	sbx_buf_release(&out);
	sbx_buf_release(&dec);
	free(data);
}
END_TEST

START_TEST(heads)
{
	uint64_t len;
	size_t off;
	bool inl;

	ck_assert_int_eq(sbx_xfer_parse_head("I 12\nAAAA", 9, &inl, &len, &off), 0);
	ck_assert(inl);
	ck_assert_uint_eq(len, 12);
	ck_assert_uint_eq(off, 5);
	ck_assert_int_eq(sbx_xfer_parse_head("F 0\n", 4, &inl, &len, &off), 0);
	ck_assert(!inl);
	ck_assert_int_eq(sbx_xfer_parse_head("I \n", 3, &inl, &len, &off), -EPROTO);
	ck_assert_int_eq(sbx_xfer_parse_head("X 1\n", 4, &inl, &len, &off), -EPROTO);
	ck_assert_int_eq(sbx_xfer_parse_head("I 12", 4, &inl, &len, &off), -EPROTO);
	ck_assert_int_eq(sbx_xfer_parse_head("I 99999999999999999999999\n", 26, &inl, &len, &off),
			 -EPROTO);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("xfer");
	TCase *tc = tcase_create("xfer");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, utf8);
	tcase_add_test(tc, go_texts);
	tcase_add_test(tc, non_utf8_script);
	tcase_add_test(tc, run_inline);
	tcase_add_test(tc, run_staged_and_ranges);
	tcase_add_test(tc, heads);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
