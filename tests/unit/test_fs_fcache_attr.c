/* test_fs_fcache_attr.c - which attribute changes may wait until after a
 * store in flight, and how pending changes add up (src/fs/fcache_attr.c). */
#include <check.h>

#include "fs/fcache.h"

#define TIMES (SBX_RFS_SET_ATIME | SBX_RFS_SET_MTIME)

static const struct sbx_rfs_cred user = {.uid = 1000, .gid = 1000};
static const struct sbx_rfs_cred other = {.uid = 1001, .gid = 1000};
static const struct sbx_rfs_cred root = {.uid = 0, .gid = 0};

START_TEST(after_times_and_mode_of_the_owner)
{
	struct sbx_rfs_setattr t = {.valid = TIMES}, m = {.valid = SBX_RFS_SET_MODE},
			       now = {.valid = SBX_RFS_SET_MTIME_NOW | SBX_RFS_SET_ATIME_NOW};

	/* the store makes the file: its credential owns it */
	ck_assert(fcache_after_allowed(&t, &user, &user, true, false));
	ck_assert(fcache_after_allowed(&m, &user, &user, true, false));
	ck_assert(fcache_after_allowed(&now, &user, &user, true, false));
	/* a file the sandbox had: the writer may not own it */
	ck_assert(!fcache_after_allowed(&t, &user, &user, false, false));
	/* another caller than the store's */
	ck_assert(!fcache_after_allowed(&t, &other, &user, true, false));
	ck_assert(!fcache_after_allowed(&t, NULL, &user, true, false));
	ck_assert(!fcache_after_allowed(&t, &user, NULL, true, false));
}
END_TEST

START_TEST(after_owner_only_as_root)
{
	struct sbx_rfs_setattr o = {.valid = SBX_RFS_SET_UID | SBX_RFS_SET_GID | TIMES |
					     SBX_RFS_SET_MODE};

	ck_assert(!fcache_after_allowed(&o, &user, &user, true, false));
	ck_assert(fcache_after_allowed(&o, &root, &root, true, true));
	/* the mount owner's requests act with the transport's ids (NULL) */
	ck_assert(fcache_after_allowed(&o, NULL, NULL, true, true));
	ck_assert(fcache_after_allowed(&o, NULL, NULL, false, true));
	ck_assert(!fcache_after_allowed(&o, NULL, NULL, true, false));
}
END_TEST

START_TEST(after_never_a_size)
{
	struct sbx_rfs_setattr s = {.valid = SBX_RFS_SET_SIZE | SBX_RFS_SET_MTIME}, none = {0};

	ck_assert(!fcache_after_allowed(&s, NULL, NULL, true, true));
	ck_assert(!fcache_after_allowed(&none, NULL, NULL, true, true));
}
END_TEST

START_TEST(merge_later_wins)
{
	struct sbx_rfs_setattr d = {
	    .valid = SBX_RFS_SET_MODE | SBX_RFS_SET_MTIME, .mode = 0600, .mtime = {.tv_sec = 5}};
	struct sbx_rfs_setattr s = {
	    .valid = SBX_RFS_SET_MODE | SBX_RFS_SET_UID, .mode = 0644, .uid = 7};

	fcache_setattr_merge(&d, &s);
	ck_assert_uint_eq(d.valid, SBX_RFS_SET_MODE | SBX_RFS_SET_MTIME | SBX_RFS_SET_UID);
	ck_assert_uint_eq(d.mode, 0644);
	ck_assert_uint_eq(d.uid, 7);
	ck_assert_int_eq(d.mtime.tv_sec, 5);
}
END_TEST

START_TEST(merge_a_time_is_one_field)
{
	struct sbx_rfs_setattr d = {.valid = SBX_RFS_SET_MTIME_NOW | SBX_RFS_SET_ATIME,
				    .atime = {.tv_sec = 3}};
	struct sbx_rfs_setattr s = {.valid = SBX_RFS_SET_MTIME | SBX_RFS_SET_ATIME_NOW,
				    .mtime = {.tv_sec = 9}};

	fcache_setattr_merge(&d, &s);
	ck_assert_uint_eq(d.valid, SBX_RFS_SET_MTIME | SBX_RFS_SET_ATIME_NOW);
	ck_assert_int_eq(d.mtime.tv_sec, 9);
	fcache_setattr_merge(&d, &(struct sbx_rfs_setattr){.valid = SBX_RFS_SET_MTIME_NOW});
	ck_assert_uint_eq(d.valid, SBX_RFS_SET_MTIME_NOW | SBX_RFS_SET_ATIME_NOW);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_fcache_attr");
	TCase *tc = tcase_create("attrs");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, after_times_and_mode_of_the_owner);
	tcase_add_test(tc, after_owner_only_as_root);
	tcase_add_test(tc, after_never_a_size);
	tcase_add_test(tc, merge_later_wins);
	tcase_add_test(tc, merge_a_time_is_one_field);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
