/* test_cgroup.c - joining a sandbox's cgroups fails loudly: a child that
 * could not join must not run anything (it would escape the limits). Uses
 * the real pids hierarchy when this machine has one (needs root). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/runtime/cgroup.h"

START_TEST(test_join_nothing_is_fine)
{
	struct sbxd_cg cg = {0};

	ck_assert_int_eq(sbxd_cg_join(&cg, (int)getpid()), 0);
}
END_TEST

START_TEST(test_join_a_vanished_group_fails)
{
	struct sbxd_cg cg = {0};

	cg.n = 1;
	snprintf(cg.dirs[0], sizeof(cg.dirs[0]), "/sys/fs/cgroup/pids/sbx-test-gone-%d",
		 (int)getpid());
	snprintf(cg.procs[0], sizeof(cg.procs[0]), "%s/cgroup.procs", cg.dirs[0]);
	ck_assert_int_eq(sbxd_cg_join(&cg, (int)getpid()), -ENOENT);
}
END_TEST

/* A child joins a real group and reports where /proc says it is. */
START_TEST(test_join_a_real_group)
{
	struct sbxd_cg cg = {0};
	char line[512], want[64];
	int st, found = 0;
	pid_t pid;
	FILE *f;

	if (access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) < 0)
		return; /* no v1 pids hierarchy here: nothing to join */
	cg.n = 1;
	snprintf(cg.dirs[0], sizeof(cg.dirs[0]), "/sys/fs/cgroup/pids/sbx-test-%d", (int)getpid());
	snprintf(cg.procs[0], sizeof(cg.procs[0]), "%s/cgroup.procs", cg.dirs[0]);
	ck_assert_int_eq(mkdir(cg.dirs[0], 0755), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sbxd_cg_join(&cg, (int)getpid()) < 0)
			_exit(2);
		f = fopen("/proc/self/cgroup", "r");
		snprintf(want, sizeof(want), ":pids:/sbx-test-%d", (int)getppid());
		while (f && fgets(line, sizeof(line), f))
			found |= strstr(line, want) != NULL;
		_exit(found ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	rmdir(cg.dirs[0]);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_join_nothing_is_fine);
	tcase_add_test(tc, test_join_a_vanished_group_fails);
	tcase_add_test(tc, test_join_a_real_group);
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
