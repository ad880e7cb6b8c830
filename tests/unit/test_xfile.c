/* test_xfile.c - the file operations of the executor API as the child does
 * them (xfile_child.c), run here in a private temp dir with this process's
 * own root, and the JSON string encoding with Go's U+FFFD for bytes that
 * are not UTF-8. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/xfile.h"
#include "host/xfile_child.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_xfile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	struct sbx_buf b = SBX_BUF_INIT;

	sbxd_xfile_child_run(&b, SBXD_XF_RMDIR, dir, NULL, 0, 0);
	sbx_buf_release(&b);
}

/* Runs op on dir/rel; returns the reply (static buffer). */
static const char *run(int op, const char *rel, const char *data)
{
	static char out[4096];
	struct sbx_buf b = SBX_BUF_INIT;
	char path[256];

	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	sbxd_xfile_child_run(&b, op, path, data, data ? strlen(data) : 0, 0640);
	ck_assert_uint_lt(b.len, sizeof(out));
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	sbx_buf_release(&b);
	/* error texts hold the temp dir: cut it out */
	for (char *p; (p = strstr(out, dir));)
		memmove(p, p + strlen(dir), strlen(p + strlen(dir)) + 1);
	return out;
}

START_TEST(write_read_list)
{
	ck_assert_str_eq(run(SBXD_XF_WRITE, "f", "a\"b\n"), "{\"success\":true}");
	ck_assert_str_eq(run(SBXD_XF_READ, "f", NULL), "{\"content\":\"a\\\"b\\n\"}");
	ck_assert_str_eq(run(SBXD_XF_WRITE, "e", ""), "{\"success\":true}");
	ck_assert_str_eq(run(SBXD_XF_READ, "e", NULL), "{}"); /* empty: no content */
	ck_assert_str_eq(run(SBXD_XF_MKDIR, "d/x/y", NULL), "{\"success\":true}");
	ck_assert_str_eq(run(SBXD_XF_MKDIR, "d/x/y", NULL), "{\"success\":true}");
	ck_assert_str_eq(run(SBXD_XF_LIST, "", NULL), "{\"entries\":[\"d\",\"e\",\"f\"]}");
	ck_assert_str_eq(run(SBXD_XF_LIST, "d/x/y", NULL), "{}");
	ck_assert_str_eq(run(SBXD_XF_ISDIR, "d", NULL), "{\"dir\":true}");
	ck_assert_str_eq(run(SBXD_XF_ISDIR, "f", NULL), "{\"dir\":false}");
}
END_TEST

START_TEST(go_errors)
{
	ck_assert_str_eq(run(SBXD_XF_READ, "nope", NULL),
			 "{\"error\":\"open /nope: no such file or directory\"}");
	ck_assert_str_eq(run(SBXD_XF_WRITE, "no/f", "x"),
			 "{\"success\":false,\"error\":\"open /no/f: no such file or directory\"}");
	ck_assert_str_eq(
	    run(SBXD_XF_DELETE, "nope", NULL),
	    "{\"success\":false,\"error\":\"remove /nope: no such file or directory\"}");
	run(SBXD_XF_WRITE, "f", "x");
	ck_assert_str_eq(run(SBXD_XF_MKDIR, "f/g", NULL),
			 "{\"success\":false,\"error\":\"mkdir /f: not a directory\"}");
	ck_assert_str_eq(run(SBXD_XF_READ, "", NULL), "{\"error\":\"read : is a directory\"}");
	ck_assert_str_eq(run(SBXD_XF_LIST, "f", NULL),
			 "{\"error\":\"readdirent /f: not a directory\"}");
}
END_TEST

START_TEST(delete_dir_keeps_link_targets)
{
	char target[128], link[128];

	run(SBXD_XF_MKDIR, "keep", NULL);
	run(SBXD_XF_WRITE, "keep/k", "x");
	run(SBXD_XF_MKDIR, "gone/sub", NULL);
	snprintf(target, sizeof(target), "%s/keep", dir);
	snprintf(link, sizeof(link), "%s/gone/sub/l", dir);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_str_eq(run(SBXD_XF_RMDIR, "gone", NULL), "{\"success\":true}");
	ck_assert_str_eq(run(SBXD_XF_RMDIR, "gone", NULL), "{\"success\":true}"); /* missing: ok */
	ck_assert_str_eq(run(SBXD_XF_READ, "keep/k", NULL), "{\"content\":\"x\"}");
	ck_assert_str_eq(run(SBXD_XF_DELETE, "keep/k", NULL), "{\"success\":true}");
	ck_assert_str_eq(run(SBXD_XF_DELETE, "keep", NULL), "{\"success\":true}");
}
END_TEST

START_TEST(config_file_mode_and_parents)
{
	struct stat st;
	char p[128];

	ck_assert_str_eq(run(SBXD_XF_CONFIGFILE, "etc/app/conf", "v=1\n"), "{\"success\":true}");
	snprintf(p, sizeof(p), "%s/etc/app/conf", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
}
END_TEST

START_TEST(utf8_strings)
{
	struct sbx_buf b = SBX_BUF_INIT;
	static const char in[] = "\xc3\xa9\xff\xed\xa0\x80\xf0\x9f\x98\x80\x01\t";

	ck_assert_int_eq(sbxd_json_str_utf8(&b, in, sizeof(in) - 1), 0);
	sbx_buf_putc(&b, '\0');
	/* é kept, a lone 0xff and the three bytes of a surrogate replaced,
	 * the emoji kept, control bytes escaped */
	ck_assert_str_eq(b.data, "\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				 "\xf0\x9f\x98\x80\\u0001\\t");
	sbx_buf_release(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xfile");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, write_read_list);
	tcase_add_test(tc, go_errors);
	tcase_add_test(tc, delete_dir_keeps_link_targets);
	tcase_add_test(tc, config_file_mode_and_parents);
	tcase_add_test(tc, utf8_strings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
