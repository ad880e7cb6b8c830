/* test_confine.c - the seccomp filter and the capability drop, tried in a
 * forked child (they cannot be undone). Needs root, as sbxd does. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/runtime/confine.h"
#include "host/runtime/seccomp.h"

/* Runs fn in a child; its exit code (0 = all its checks held). */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(arg));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* errno of a raw system call, 0 when it succeeded */
static int err_of(long r)
{
	return r < 0 ? errno : 0;
}

static int confined(void *arg)
{
	const struct sbxd_seccomp *f = arg;
	char line[256];
	FILE *st;
	int bad = 0;

	if (sbxd_confine_apply(f) < 0)
		return 10;
	if (err_of(mount("none", "/nonexistent", "tmpfs", 0, NULL)) != EPERM)
		bad |= 1;
	if (err_of(unshare(CLONE_NEWUSER)) != EPERM)
		bad |= 2;
	if (err_of(syscall(SYS_clone3, NULL, 0)) != ENOSYS)
		bad |= 4;
	if (err_of(syscall(SYS_keyctl, -1, 0, 0, 0, 0)) != EPERM)
		bad |= 8;
	if (getpid() <= 0 || err_of(unshare(CLONE_FILES)) != 0) /* harmless ones still work */
		bad |= 16;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		bad |= 32;
	st = fopen("/proc/self/status", "r");
	while (st && fgets(line, sizeof(line), st))
		if (!strncmp(line, "CapBnd:", 7) && !strstr(line, "00000000a80405fb"))
			bad |= 64;
	if (st)
		fclose(st);
	return bad;
}

START_TEST(test_filter_and_caps)
{
	struct sbxd_seccomp f;

	ck_assert_int_eq(sbxd_seccomp_build(&f), 0);
	ck_assert_ptr_nonnull(f.prog);
	ck_assert_uint_gt(f.len, 20);
	ck_assert_int_eq(in_child(confined, &f), 0);
	sbxd_seccomp_release(&f);
	ck_assert_ptr_null(f.prog);
}
END_TEST

START_TEST(test_memfd_holds_the_program)
{
	struct sbxd_seccomp f;
	char buf[8];
	int fd;

	ck_assert_int_eq(sbxd_seccomp_build(&f), 0);
	fd = sbxd_seccomp_memfd(&f);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), (off_t)(f.len * 8));
	ck_assert_int_eq(pwrite(fd, buf, 1, 0), -1); /* sealed */
	close(fd);
	sbxd_seccomp_release(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("confine");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_filter_and_caps);
	tcase_add_test(tc, test_memfd_holds_the_program);
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
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
