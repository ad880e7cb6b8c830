/* test_fs_xlist.c - lists of xattr names (src/fs/xlist.c). */
#include <check.h>
#include <string.h>

#include "fs/xlist.h"

#define L(s) s, sizeof(s) - 1 /* a literal list, its last NUL included */

START_TEST(has_names)
{
	ck_assert(xlist_has(L("user.a\0security.capability\0"), "security.capability"));
	ck_assert(xlist_has(L("user.a\0security.capability\0"), "user.a"));
	ck_assert(!xlist_has(L("user.a\0security.capability\0"), "user."));
	ck_assert(!xlist_has(L("user.a\0security.capability\0"), "user.ab"));
	ck_assert(!xlist_has(L("user.ab\0"), "user.a"));
	ck_assert(!xlist_has("", 0, "user.a"));
	ck_assert(!xlist_has(L("\0\0"), "user.a"));
	/* a last name without its NUL */
	ck_assert(xlist_has("user.a\0user.b", 13, "user.b"));
	ck_assert(!xlist_has("user.a\0user.b", 12, "user.b"));
}
END_TEST

START_TEST(drop_prefix)
{
	char l[] = "trusted.x\0user.a\0trusted.y\0security.selinux\0trusted.";
	size_t n = xlist_drop_prefix(l, sizeof(l) - 1, "trusted.");

	ck_assert_uint_eq(n, sizeof("user.a\0security.selinux\0") - 1);
	ck_assert(!memcmp(l, "user.a\0security.selinux\0", n));
	ck_assert_uint_eq(xlist_drop_prefix(l, n, "nothing."), n);
	ck_assert_uint_eq(xlist_drop_prefix(l, n, ""), 0);
	ck_assert_uint_eq(xlist_drop_prefix(l, 0, "user."), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_xlist");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, has_names);
	tcase_add_test(tc, drop_prefix);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
