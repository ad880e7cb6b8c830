/* test_fs_cred.c - whose ids a request acts with (src/fs/cred.c): the
 * mount's owner with the transport's own (NULL), anyone else with their
 * own uid, gid and groups, at most SBX_RFS_GROUPS_MAX of them.
 */
#include <check.h>

#include "fs/cred.h"

START_TEST(owner_is_the_transport)
{
	struct sbx_rfs_cred c;
	gid_t g[] = {5, 6};

	ck_assert_ptr_null(fs_cred_pick(0, 0, 0, g, 2, &c));
	ck_assert_ptr_null(fs_cred_pick(1000, 1000, 1000, g, 2, &c));
}
END_TEST

START_TEST(others_carry_their_ids)
{
	struct sbx_rfs_cred c;
	gid_t g[] = {5, 6, 7};
	const struct sbx_rfs_cred *p = fs_cred_pick(0, 1000, 100, g, 3, &c);

	ck_assert_ptr_eq(p, &c);
	ck_assert_uint_eq(c.uid, 1000);
	ck_assert_uint_eq(c.gid, 100);
	ck_assert_uint_eq(c.ngroups, 3);
	ck_assert_uint_eq(c.groups[0], 5);
	ck_assert_uint_eq(c.groups[2], 7);
	/* root is someone else when another user mounted */
	p = fs_cred_pick(1000, 0, 0, NULL, 0, &c);
	ck_assert_ptr_eq(p, &c);
	ck_assert_uint_eq(c.uid, 0);
	ck_assert_uint_eq(c.ngroups, 0);
}
END_TEST

START_TEST(groups_bounded)
{
	struct sbx_rfs_cred c;
	gid_t g[SBX_RFS_GROUPS_MAX + 10];
	int i;

	for (i = 0; i < SBX_RFS_GROUPS_MAX + 10; i++)
		g[i] = (gid_t)(100 + i);
	fs_cred_pick(0, 7, 7, g, SBX_RFS_GROUPS_MAX + 10, &c);
	ck_assert_uint_eq(c.ngroups, SBX_RFS_GROUPS_MAX);
	ck_assert_uint_eq(c.groups[SBX_RFS_GROUPS_MAX - 1], 100 + SBX_RFS_GROUPS_MAX - 1);
	fs_cred_pick(0, 7, 7, g, -1, &c);
	ck_assert_uint_eq(c.ngroups, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_cred");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, owner_is_the_transport);
	tcase_add_test(tc, others_carry_their_ids);
	tcase_add_test(tc, groups_bounded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
