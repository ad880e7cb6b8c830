/* test_mounts.c - mountinfo parsing of the CLI (src/cli/mounts.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/mounts.h"

static char path[64];

static void write_info(const char *text)
{
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_mounts.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
}

static const char INFO[] =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "40 22 0:45 / /mnt/a\\040b rw,nosuid,nodev shared:9 - fuse.sbxfs sbxfs#x rw,user_id=0\n"
    "41 40 0:46 / /mnt/a\\040b/inner rw - fuse.sbxfs sbxfs#y rw\n"
    "42 22 0:47 / /mnt/other rw - fuse.sshfs h:/ rw\n"
    "43 22 0:48 / /mnt/nl\\012x rw - fuse.sbxfs sbxfs#z rw\n";

START_TEST(unescape)
{
	char s[] = "a\\040b\\011c\\134d\\012";

	mounts_unescape(s);
	ck_assert_str_eq(s, "a b\tc\\d\n");
}
END_TEST

START_TEST(find_innermost)
{
	struct sbx_buf b = SBX_BUF_INIT, src = SBX_BUF_INIT;

	write_info(INFO);
	ck_assert_int_eq(mounts_find(path, "/mnt/a b/x/y", &b, &src), 0);
	ck_assert_str_eq(b.data, "/mnt/a b");
	ck_assert_str_eq(src.data, "sbxfs#x");
	ck_assert_int_eq(mounts_find(path, "/mnt/a b/inner/z", &b, &src), 0);
	ck_assert_str_eq(b.data, "/mnt/a b/inner");
	ck_assert_int_eq(mounts_find(path, "/mnt/a b", &b, &src), 0);
	ck_assert_str_eq(b.data, "/mnt/a b");
	ck_assert_int_eq(mounts_find(path, "/mnt/nl\nx/q", &b, &src), 0);
	ck_assert_str_eq(b.data, "/mnt/nl\nx");
	ck_assert_int_eq(mounts_find(path, "/mnt/other/q", &b, &src), -ENOENT);
	ck_assert_int_eq(mounts_find(path, "/mnt/a bc", &b, &src), -ENOENT);
	ck_assert_int_eq(mounts_is_sbxfs(path, "/mnt/a b"), 1);
	ck_assert_int_eq(mounts_is_sbxfs(path, "/mnt/a b/x"), 0);
	ck_assert_int_eq(mounts_is_sbxfs(path, "/mnt/other"), 0);
	ck_assert_int_eq(mounts_find("/nonexistent/mountinfo", "/", &b, NULL), -ENOENT);
	sbx_buf_release(&b);
	sbx_buf_release(&src);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mounts");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, unescape);
	tcase_add_test(tc, find_innermost);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
