/* test_mounts.c - mountinfo parsing of the CLI (src/cli/mounts.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Reads DIR/.ctl/ctl into buf ("" when absent). */
static void read_ctl(const char *dir, char *buf, size_t cap)
{
	char p[256];
	FILE *f;
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/.ctl/ctl", dir);
	f = fopen(p, "r");
	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* sync reaches the mounts of the sandbox that this user made, and only
 * those: another user's "sbxfs" could be any FUSE server, one that never
 * answers (each "mount" here is a directory whose .ctl/ctl is a file) */
START_TEST(sync_own_mounts_only)
{
	char root[] = "/tmp/test_mounts_sync.XXXXXX", d[4][300], info[2048], buf[64];
	const char *names[] = {"web", "id-1", NULL};
	unsigned me = (unsigned)getuid();
	size_t off = 0;
	int i;

	ck_assert_ptr_nonnull(mkdtemp(root));
	for (i = 0; i < 4; i++) {
		char ctl[1300], f[1400];

		snprintf(d[i], sizeof(d[i]), "%s/m%d", root, i);
		snprintf(ctl, sizeof(ctl), "%s/.ctl", d[i]);
		snprintf(f, sizeof(f), "%s/ctl", ctl);
		ck_assert_int_eq(mkdir(d[i], 0700), 0);
		ck_assert_int_eq(mkdir(ctl, 0700), 0);
		fclose(fopen(f, "w"));
	}
	/* 0: mine, by name; 1: another user's, same name; 2: mine, another
	 * sandbox; 3: mine, by id, user_id not first */
	off += (size_t)snprintf(
	    info + off, sizeof(info) - off,
	    "50 22 0:50 / %s rw - fuse.sbxfs web:/srv rw,user_id=%u,group_id=0\n", d[0], me);
	off += (size_t)snprintf(info + off, sizeof(info) - off,
				"51 22 0:51 / %s rw - fuse.sbxfs web:/ rw,user_id=%u1,group_id=0\n",
				d[1], me);
	off +=
	    (size_t)snprintf(info + off, sizeof(info) - off,
			     "52 22 0:52 / %s rw - fuse.sbxfs other:/ rw,user_id=%u\n", d[2], me);
	snprintf(info + off, sizeof(info) - off,
		 "53 22 0:53 / %s rw - fuse.sbxfs id-1 rw,group_id=0,user_id=%u\n", d[3], me);
	write_info(info);
	ck_assert_int_eq(mounts_sync_sandbox(path, names, 3, false), 0);
	read_ctl(d[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "sync\n");
	read_ctl(d[1], buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	read_ctl(d[2], buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	read_ctl(d[3], buf, sizeof(buf));
	ck_assert_str_eq(buf, "sync\n");
	unlink(path);
	for (i = 0; i < 4; i++) {
		char p[1400];

		snprintf(p, sizeof(p), "%s/.ctl/ctl", d[i]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/.ctl", d[i]);
		rmdir(p);
		rmdir(d[i]);
	}
	rmdir(root);
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
	tcase_add_test(tc, sync_own_mounts_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
