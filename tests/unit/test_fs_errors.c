/* test_fs_errors.c - the error map of the filesystem primitives
 * (src/lib/fs/errmap.c): tool texts, script markers, transport failures and
 * the messages built from them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs/errmap.h"
#include "lib/fs/script.h"

static int map(int code, const char *text, struct sbx_err *e)
{
	memset(e, 0, sizeof(*e));
	return sbx_fs_errmap(code, text, strlen(text), "op 'p'", e);
}

/* Real messages of GNU coreutils, busybox, dash and bash under LC_ALL=C. */
static const struct {
	const char *text;
	int want;
} table[] = {
    {"cat: /x: No such file or directory\n", -SBX_ENOTFOUND},
    {"mkdir: cannot create directory '/x': File exists\n", -SBX_EEXIST},
    {"rmdir: failed to remove 'd': Directory not empty\n", -SBX_ENOTEMPTY},
    {"sh: 1: cannot create /x: Permission denied\n", -SBX_EPERM},
    {"rm: cannot remove 'x': Operation not permitted\n", -SBX_EPERM},
    {"cat: d: Is a directory\n", -SBX_EISDIR},
    {"mkdir: cannot create directory 'f/x': Not a directory\n", -SBX_ENOTDIR},
    {"cat: write error: No space left on device\n", -SBX_ENOSPC},
    {"head: error writing 'x': Disk quota exceeded\n", -EDQUOT},
    {"sh: 1: cannot create /x: Read-only file system\n", -EROFS},
    {"mkdir: cannot create directory 'aaa': File name too long\n", -ENAMETOOLONG},
    {"cat: l: Too many levels of symbolic links\n", -ELOOP},
    {"mv: cannot move 'a' to 'b': Invalid cross-device link\n", -EXDEV},
    {"sh: 1: cannot create x: Text file busy\n", -ETXTBSY},
    {"rmdir: '/': Device or resource busy\n", -EBUSY},
    {"rmdir: failed to remove '.': Invalid argument\n", -SBX_EINVAL},
    {"cat: x: Input/output error\n", -SBX_EIO},
    {"sh: 1: cannot create nodir/x: Directory nonexistent\n", -SBX_ENOTFOUND},
    {"sh: can't create nodir/x: nonexistent directory\n", -SBX_ENOTFOUND},
    {"rm: '/tmp' is a directory\n", -SBX_EISDIR},
    {"mv: cannot overwrite directory 'd/a' with non-directory\n", -SBX_EISDIR},
    {"mv: cannot overwrite non-directory 'f' with directory 'd'\n", -SBX_ENOTDIR},
    {"mv: cannot move 'a' to a subdirectory of itself, 'a/b'\n", -SBX_EINVAL},
    {"something odd happened\n", -SBX_EIO},
    {"", -SBX_EIO},
};

START_TEST(tool_texts)
{
	struct sbx_err e;
	int rc = map(1, table[_i].text, &e);

	ck_assert_msg(rc == table[_i].want, "'%s': want %d got %d", table[_i].text, table[_i].want,
		      rc);
	ck_assert_int_eq(e.code, rc);
	ck_assert_ptr_nonnull(strstr(e.msg, "op 'p': "));
}
END_TEST

START_TEST(first_match_wins)
{
	struct sbx_err e;

	ck_assert_int_eq(map(1, "rm: x: Permission denied\nrm: y: No such file or directory\n", &e),
			 -SBX_EPERM);
	ck_assert_int_eq(map(1, "a: No such file or directory / b: Permission denied", &e),
			 -SBX_ENOTFOUND);
	/* case-sensitive: a file name "file exists" is not EEXIST */
	ck_assert_int_eq(map(1, "weird: file exists\n", &e), -SBX_EIO);
}
END_TEST

START_TEST(markers)
{
	static const char *const toks[] = {"ENOENT",  "EEXIST", "ENOTEMPTY", "EACCES", "EISDIR",
					   "ENOTDIR", "ENOSPC", "EROFS",     "EINVAL", "EIO"};
	static const int want[] = {-SBX_ENOTFOUND, -SBX_EEXIST,	 -SBX_ENOTEMPTY, -SBX_EPERM,
				   -SBX_EISDIR,	   -SBX_ENOTDIR, -SBX_ENOSPC,	 -EROFS,
				   -SBX_EINVAL,	   -SBX_EIO};
	struct sbx_err e;
	char text[128];

	for (size_t k = 0; k < sizeof(toks) / sizeof(toks[0]); k++) {
		snprintf(text, sizeof(text), SBX_FS_MARK "%s\n", toks[k]);
		ck_assert_int_eq(map(SBX_FS_MARK_EXIT, text, &e), want[k]);
		ck_assert_int_eq(sbx_fs_errmap_token(toks[k], strlen(toks[k])), want[k]);
	}
	ck_assert_int_eq(sbx_fs_errmap_token("EBOGUS", 6), 0);
	/* a marker beats the texts before it */
	ck_assert_int_eq(
	    map(SBX_FS_MARK_EXIT,
		"dash: cd: can't cd to x: No such file or directory\n" SBX_FS_MARK "EACCES\n", &e),
	    -SBX_EPERM);
	/* the detail of a marker goes into the message */
	ck_assert_int_eq(map(SBX_FS_MARK_EXIT, SBX_FS_MARK "EIO short write\n", &e), -SBX_EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "short write"));
	/* not the last line, or not exit 3: not ours (a forged name in a message) */
	ck_assert_int_eq(map(SBX_FS_MARK_EXIT, SBX_FS_MARK "EEXIST\nrm: x: Is a directory\n", &e),
			 -SBX_EISDIR);
	ck_assert_int_eq(map(1, "rm: cannot remove '\n" SBX_FS_MARK "EEXIST\n", &e), -SBX_EIO);
	ck_assert_int_eq(map(SBX_FS_MARK_EXIT, SBX_FS_MARK "ENOPE\n", &e), -SBX_EIO);
}
END_TEST

START_TEST(exit_codes_and_messages)
{
	struct sbx_err e;
	char big[4000];

	ck_assert_int_eq(map(127, "sh: 1: head: not found\n", &e), -SBX_EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
	ck_assert_ptr_nonnull(strstr(e.msg, "head: not found"));
	ck_assert_int_eq(map(137, "", &e), -SBX_EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "signal 9"));
	ck_assert_int_eq(map(2, "  \n first line\n\tsecond\x01line \n\n", &e), -SBX_EIO);
	ck_assert_str_eq(e.msg,
			 "op 'p': failed with exit code 2 (first line / \\x09second\\x01line)");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(map(1, big, &e), -SBX_EIO);
	ck_assert_uint_lt(strlen(e.msg), SBX_ERR_MSG_MAX);
	ck_assert_ptr_nonnull(strstr(e.msg, "...)"));
	/* NULL err is fine */
	ck_assert_int_eq(sbx_fs_errmap(1, "File exists", 11, "x", NULL), -SBX_EEXIST);
	ck_assert_int_eq(sbx_fs_errmap(1, NULL, 0, "x", NULL), -SBX_EIO);
}
END_TEST

START_TEST(transport)
{
	struct sbx_exec_result r;
	struct sbx_err e;

	memset(&r, 0, sizeof(r));
	r.status = SBX_EXEC_TIMEOUT;
	r.error = -SBX_ETIMEDOUT;
	ck_assert_int_eq(sbx_fs_errmap_exec(&r, NULL, 0, "w", &e), -SBX_ETIMEDOUT);
	r.status = SBX_EXEC_KILLED;
	r.error = 0;
	ck_assert_int_eq(sbx_fs_errmap_exec(&r, NULL, 0, "w", &e), -SBX_ECANCELED);
	r.status = SBX_EXEC_FAILED;
	r.error = -SBX_ECONN;
	snprintf(r.message, sizeof(r.message), "connection reset by peer");
	ck_assert_int_eq(sbx_fs_errmap_exec(&r, "No such file or directory", 25, "w", &e),
			 -SBX_ECONN);
	ck_assert_str_eq(e.msg, "w: connection reset by peer");
	r.error = -SBX_EAUTH;
	ck_assert_int_eq(sbx_fs_errmap_exec(&r, NULL, 0, "w", &e), -SBX_EAUTH);
	/* an exec-level "not found" is the instance, never a file */
	r.error = -SBX_ENOTFOUND;
	ck_assert_int_eq(sbx_fs_errmap_exec(&r, NULL, 0, "w", &e), -SBX_ENOTHEALTHY);
	r.error = 0;
	r.exit_code = 1;
	ck_assert_int_eq(sbx_fs_errmap_exec(&r, "Directory not empty", 19, "w", &e),
			 -SBX_ENOTEMPTY);
}
END_TEST

START_TEST(describe)
{
	char out[SBX_FS_WHAT_MAX], longp[1000];

	sbx_fs_describe(out, sizeof(out), "mv", "a\nb", "c'd");
	ck_assert_str_eq(out, "mv 'a\\x0ab' -> 'c'd'");
	sbx_fs_describe(out, sizeof(out), "ls", NULL, NULL);
	ck_assert_str_eq(out, "ls");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	sbx_fs_describe(out, sizeof(out), "mv", longp, longp);
	ck_assert_uint_lt(strlen(out), sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, "...' -> '"));
	sbx_fs_describe(out, 8, "mkdir", longp, NULL);
	ck_assert_uint_lt(strlen(out), 8);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("fs_errors");
	TCase *tc = tcase_create("errmap");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, tool_texts, 0, (int)(sizeof(table) / sizeof(table[0])));
	tcase_add_test(tc, first_match_wins);
	tcase_add_test(tc, markers);
	tcase_add_test(tc, exit_codes_and_messages);
	tcase_add_test(tc, transport);
	tcase_add_test(tc, describe);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
