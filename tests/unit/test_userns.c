/* test_userns.c - the sandbox's user namespace: the map, and what its root
 * can no longer do on the host. Needs root, as sbxd does. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/runtime/userns.h"

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

static int in_userns(void *arg)
{
	int fd = *(int *)arg, bad = 0;
	char map[128] = "";
	FILE *m;

	if (sbxd_userns_enter(fd) < 0)
		return 10;
	if (getuid() != 0 || getgid() != 0)
		bad |= 1;
	m = fopen("/proc/self/uid_map", "r");
	if (!m || !fgets(map, sizeof(map), m) || !strstr(map, "1000000000") ||
	    !strstr(map, "65536"))
		bad |= 2;
	if (m)
		fclose(m);
	/* the host's files are not the sandbox root's: /etc/shadow is unmapped */
	if (open("/etc/shadow", O_RDONLY | O_CLOEXEC) >= 0)
		bad |= 4;
	return bad;
}

START_TEST(test_userns_maps_the_range)
{
	struct sbxd_idmap m = {SBX_IDMAP_BASE_DEFAULT, SBX_IDMAP_COUNT_DEFAULT};
	int fd = sbxd_userns_open(&m);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(in_child(in_userns, &fd), 0);
	close(fd);
}
END_TEST

START_TEST(test_idmap_valid)
{
	struct sbxd_idmap ok = {1000000000u, 65536}, zero = {0, 65536}, nobody = {60000, 65536},
			  wrap = {4294967295u - 10, 65536}, low = {100000, 65536};

	ck_assert(sbxd_idmap_valid(&ok));
	ck_assert(sbxd_idmap_valid(&low));
	ck_assert(!sbxd_idmap_valid(&zero));
	ck_assert(!sbxd_idmap_valid(&nobody));
	ck_assert(!sbxd_idmap_valid(&wrap));
	ck_assert_int_eq(sbxd_userns_open(&zero), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("userns");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_userns_maps_the_range);
	tcase_add_test(tc, test_idmap_valid);
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
