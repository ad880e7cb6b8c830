/* test_fs_fcache.c - the bound on idle file caches (src/fs/fcache.c):
 * it follows the descriptor limit, keeps a reserve, and stays within
 * FCACHE_IDLE_MIN..FCACHE_IDLE_MAX.
 */
#include <check.h>
#include <stdint.h>

#include "fs/fcache.h"

START_TEST(idle_limit_follows_nofile)
{
	/* the old fixed bound (1024) is far below what a usual limit allows */
	ck_assert_uint_eq(fcache_idle_limit(524288), FCACHE_IDLE_MAX);
	ck_assert_uint_eq(fcache_idle_limit(1048576), FCACHE_IDLE_MAX);
	ck_assert_uint_eq(fcache_idle_limit(8192), (8192 - 512) / 2);
	ck_assert_uint_gt(fcache_idle_limit(20000), 4000);
}
END_TEST

START_TEST(idle_limit_bounds)
{
	ck_assert_uint_eq(fcache_idle_limit(0), FCACHE_IDLE_MIN);
	ck_assert_uint_eq(fcache_idle_limit(512), FCACHE_IDLE_MIN);
	ck_assert_uint_eq(fcache_idle_limit(1024), FCACHE_IDLE_MIN * 4);
	ck_assert_uint_eq(fcache_idle_limit(UINT64_MAX), FCACHE_IDLE_MAX);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_fcache");
	TCase *tc = tcase_create("idle");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, idle_limit_follows_nofile);
	tcase_add_test(tc, idle_limit_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
