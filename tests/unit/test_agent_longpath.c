/* test_agent_longpath.c - long absolute paths in steps (src/agent/
 * longpath.c), on a real directory tree deeper than PATH_MAX.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/longpath.h"

static char top[64];
static char deep[8192]; /* top + 20 names of 250 bytes */
static char name[251];

static void setup(void)
{
	size_t len;
	int i, fd;

	snprintf(top, sizeof(top), "/tmp/sbx-longpath.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	memset(name, 'n', 250);
	ck_assert_int_eq(chdir(top), 0);
	len = (size_t)snprintf(deep, sizeof(deep), "%s", top);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(mkdir(name, 0755), 0);
		ck_assert_int_eq(chdir(name), 0);
		/* within bounds: 64 + 20 * 251 < sizeof(deep) */
		len += (size_t)snprintf(deep + len, sizeof(deep) - len, "/%s", name);
	}
	fd = open("f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(chdir("/"), 0);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(short_path_is_itself)
{
	const char *rest;
	int fd = 0;

	ck_assert_int_eq(longpath_at("/etc/passwd", &fd, &rest), 0);
	ck_assert_int_eq(fd, AT_FDCWD);
	ck_assert_str_eq(rest, "/etc/passwd");
}
END_TEST

START_TEST(long_path_in_steps)
{
	char p[sizeof(deep) + 8];
	struct stat st;
	const char *rest;
	int fd;

	snprintf(p, sizeof(p), "%s/f", deep);
	ck_assert_uint_gt(strlen(p), PATH_MAX);
	ck_assert_int_eq(stat(p, &st), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(longpath_at(p, &fd, &rest), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_le(strlen(rest), LONGPATH_STEP);
	ck_assert_int_eq(fstatat(fd, rest, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	close(fd);
	/* a missing directory on the way: the kernel's ENOENT */
	p[strlen(top) + 3] = 'X';
	ck_assert_int_eq(longpath_at(p, &fd, &rest), -ENOENT);
}
END_TEST

START_TEST(enter_and_leave)
{
	struct agent_req *q = calloc(1, sizeof(*q));
	struct stat st;
	bool entered;

	q->op = SBXA_OP_LSTAT;
	snprintf(q->path, sizeof(q->path), "%s/f", deep);
	ck_assert_int_eq(longpath_enter(q, &entered), 0);
	ck_assert(entered);
	ck_assert_int_eq(lstat(q->path, &st), 0); /* relative to the directory */
	longpath_leave();
	ck_assert_int_ne(lstat(q->path, &st), 0);
	/* WATCH keeps its path: never entered */
	q->op = SBXA_OP_WATCH;
	snprintf(q->path, sizeof(q->path), "%s", deep);
	ck_assert_int_eq(longpath_enter(q, &entered), 0);
	ck_assert(!entered);
	free(q);
}
END_TEST

START_TEST(no_slash_in_a_step)
{
	static char p[LONGPATH_STEP + 100];
	const char *rest;
	int fd;

	memset(p, 'x', sizeof(p) - 1);
	p[0] = '/';
	ck_assert_int_eq(longpath_at(p, &fd, &rest), -ENAMETOOLONG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_longpath");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, short_path_is_itself);
	tcase_add_test(tc, long_path_in_steps);
	tcase_add_test(tc, enter_and_leave);
	tcase_add_test(tc, no_slash_in_a_step);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
