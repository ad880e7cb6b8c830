/* test_fs_dattr.c - directory attribute changes made behind: how the
 * changes of one directory queued in a row become one (src/fs/dattr.c). */
#include <check.h>

#include "fs/dattr.h"

START_TEST(merge_adds_kinds)
{
	/* tar: utimensat, then chown, then chmod */
	struct sbx_rfs_setattr sa = {.valid = SBX_RFS_SET_MTIME, .mtime = {1500000000, 5}};
	struct sbx_rfs_setattr own = {.valid = SBX_RFS_SET_UID | SBX_RFS_SET_GID, .uid = 7, .gid = 8};
	struct sbx_rfs_setattr mode = {.valid = SBX_RFS_SET_MODE, .mode = 0750};

	dattr_merge(&sa, &own);
	dattr_merge(&sa, &mode);
	ck_assert_uint_eq(sa.valid,
			  SBX_RFS_SET_MTIME | SBX_RFS_SET_UID | SBX_RFS_SET_GID | SBX_RFS_SET_MODE);
	ck_assert_int_eq(sa.mtime.tv_sec, 1500000000);
	ck_assert_int_eq(sa.mtime.tv_nsec, 5);
	ck_assert_uint_eq(sa.uid, 7);
	ck_assert_uint_eq(sa.gid, 8);
	ck_assert_uint_eq(sa.mode, 0750);
}
END_TEST

START_TEST(merge_later_wins)
{
	struct sbx_rfs_setattr sa = {.valid = SBX_RFS_SET_MODE | SBX_RFS_SET_UID,
				     .mode = 0700, .uid = 1};
	struct sbx_rfs_setattr later = {.valid = SBX_RFS_SET_MODE, .mode = 0755};

	dattr_merge(&sa, &later);
	ck_assert_uint_eq(sa.valid, SBX_RFS_SET_MODE | SBX_RFS_SET_UID);
	ck_assert_uint_eq(sa.mode, 0755);
	ck_assert_uint_eq(sa.uid, 1); /* untouched by a change without it */
}
END_TEST

START_TEST(merge_times_now_and_given)
{
	/* touch (now), then touch -d: the given time, no longer now */
	struct sbx_rfs_setattr sa = {.valid = SBX_RFS_SET_ATIME_NOW | SBX_RFS_SET_MTIME_NOW};
	struct sbx_rfs_setattr given = {.valid = SBX_RFS_SET_ATIME | SBX_RFS_SET_MTIME,
					.atime = {10, 0},
					.mtime = {20, 0}};
	struct sbx_rfs_setattr now = {.valid = SBX_RFS_SET_MTIME_NOW};

	dattr_merge(&sa, &given);
	ck_assert_uint_eq(sa.valid, SBX_RFS_SET_ATIME | SBX_RFS_SET_MTIME);
	ck_assert_int_eq(sa.atime.tv_sec, 10);
	ck_assert_int_eq(sa.mtime.tv_sec, 20);
	/* and back to now for the mtime alone */
	dattr_merge(&sa, &now);
	ck_assert_uint_eq(sa.valid, SBX_RFS_SET_ATIME | SBX_RFS_SET_MTIME_NOW);
	ck_assert_int_eq(sa.atime.tv_sec, 10);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_dattr");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, merge_adds_kinds);
	tcase_add_test(tc, merge_later_wins);
	tcase_add_test(tc, merge_times_now_and_given);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
