/* test_fs_access.c - who may use a mount (src/fs/access.c): the owner and
 * root always; other users never without allow_other, and with it the
 * files only, never /.ctl.
 */
#include <check.h>
#include <errno.h>

#include "fs/access.h"

START_TEST(owner_and_root_always)
{
	const struct fs_access priv = {.owner = 1000, .allow_other = false};
	const struct fs_access open = {.owner = 1000, .allow_other = true};

	ck_assert_int_eq(fs_access_check(&priv, 1000, FS_AREA_FILES), 0);
	ck_assert_int_eq(fs_access_check(&priv, 1000, FS_AREA_CTL), 0);
	ck_assert_int_eq(fs_access_check(&priv, 0, FS_AREA_FILES), 0);
	ck_assert_int_eq(fs_access_check(&priv, 0, FS_AREA_CTL), 0);
	ck_assert_int_eq(fs_access_check(&open, 1000, FS_AREA_CTL), 0);
	ck_assert_int_eq(fs_access_check(&open, 0, FS_AREA_CTL), 0);
}
END_TEST

START_TEST(others_without_allow_other)
{
	const struct fs_access a = {.owner = 1000, .allow_other = false};

	ck_assert_int_eq(fs_access_check(&a, 1001, FS_AREA_FILES), -EACCES);
	ck_assert_int_eq(fs_access_check(&a, 1001, FS_AREA_CTL), -EACCES);
	ck_assert_int_eq(fs_access_check(&a, 65534, FS_AREA_FILES), -EACCES);
}
END_TEST

START_TEST(others_with_allow_other)
{
	const struct fs_access a = {.owner = 1000, .allow_other = true};

	ck_assert_int_eq(fs_access_check(&a, 1001, FS_AREA_FILES), 0);
	ck_assert_int_eq(fs_access_check(&a, 1001, FS_AREA_CTL), -EACCES);
	ck_assert_int_eq(fs_access_check(&a, (uid_t)-1, FS_AREA_CTL), -EACCES);
}
END_TEST

START_TEST(mounted_by_root)
{
	const struct fs_access a = {.owner = 0, .allow_other = true};

	ck_assert_int_eq(fs_access_check(&a, 0, FS_AREA_CTL), 0);
	ck_assert_int_eq(fs_access_check(&a, 1000, FS_AREA_FILES), 0);
	ck_assert_int_eq(fs_access_check(&a, 1000, FS_AREA_CTL), -EACCES);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_access");
	TCase *tc = tcase_create("access");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, owner_and_root_always);
	tcase_add_test(tc, others_without_allow_other);
	tcase_add_test(tc, others_with_allow_other);
	tcase_add_test(tc, mounted_by_root);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
