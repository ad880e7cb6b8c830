/* fs_test.c - exists, is_file, is_dir: test -e / -f / -d.
 *
 * The script prints "y" or "n" and exits 0, so "false" is an answer read
 * from stdout and never a failed command: a transport failure, a missing
 * shell or a killed command is an error, not false (the seed SDK reads any
 * failure as false). Like test(1), a symlink is followed: a dangling one
 * does not exist.
 */
#include "fs_op.h"
#include "script.h"

static int test_start(struct sbx_sandbox *sb, const char *path, enum sbx_fs_test t, sbx_fs_cb cb,
		      void *ud, struct sbx_err *err)
{
	static const char *const verbs[] = {"exists", "is_file", "is_dir"};
	struct fs_spec s;

	fs_spec_init(&s, verbs[t], path, NULL);
	s.parse = FS_PARSE_FLAG;
	s.out_max = 16;
	s.native = t == SBX_FS_TEST_EXISTS ? FS_NATIVE_EXISTS
		   : t == SBX_FS_TEST_FILE ? FS_NATIVE_IS_FILE
					   : FS_NATIVE_IS_DIR;
	s.native_path = path;
	return fs_start(sb, &s, sbx_fs_script_test(&s.script, path, t), cb, ud, NULL, err);
}

static int test_sync(struct sbx_sandbox *sb, const char *path, enum sbx_fs_test t, bool *ret,
		     struct sbx_err *err)
{
	struct fs_wait w;
	int rc;

	fs_wait_init(&w);
	rc = test_start(sb, path, t, fs_wait_cb, &w, err);
	rc = fs_wait_finish(&w, sb, rc, err);
	if (rc == 0)
		*ret = w.res.flag;
	fs_wait_release(&w);
	return rc;
}

int sbx_fs_exists(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err)
{
	return test_sync(sb, path, SBX_FS_TEST_EXISTS, ret, err);
}

int sbx_fs_is_file(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err)
{
	return test_sync(sb, path, SBX_FS_TEST_FILE, ret, err);
}

int sbx_fs_is_dir(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err)
{
	return test_sync(sb, path, SBX_FS_TEST_DIR, ret, err);
}

int sbx_fs_exists_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud)
{
	return test_start(sb, path, SBX_FS_TEST_EXISTS, cb, ud, NULL);
}

int sbx_fs_is_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud)
{
	return test_start(sb, path, SBX_FS_TEST_FILE, cb, ud, NULL);
}

int sbx_fs_is_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud)
{
	return test_start(sb, path, SBX_FS_TEST_DIR, cb, ud, NULL);
}
