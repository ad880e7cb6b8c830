/* fs_dir.c - names and directories: mkdir, list_dir, delete_file,
 * delete_dir, rename_file, move_file, rm; and sbx_strv_free.
 *
 * rename_file and move_file differ when the target exists: rename_file has
 * rename(2) semantics (the target is the new name: an empty directory is
 * replaced by a directory, a file onto a directory fails EISDIR, a
 * directory onto a file ENOTDIR, a symlink is replaced, not followed);
 * move_file has mv semantics (into the target when it is a directory).
 *
 * Each primitive has one *_start() that both forms use: the asynchronous
 * form passes the caller's callback, the synchronous form an fs_wait.
 */
#include <stdlib.h>

#include "fs_op.h"
#include "script.h"

void sbx_strv_free(char **v)
{
	char **p;

	if (!v)
		return;
	for (p = v; *p; p++)
		free(*p);
	free(v);
}

/* Runs a started primitive to its end (synchronous forms). */
static int wait_simple(struct sbx_sandbox *sb, struct fs_wait *w, int start_rc, struct sbx_err *err)
{
	int rc = fs_wait_finish(w, sb, start_rc, err);

	fs_wait_release(w);
	return rc;
}

static int mkdir_start(struct sbx_sandbox *sb, const char *path, bool recursive, sbx_fs_cb cb,
		       void *ud, struct sbx_err *err)
{
	struct fs_spec s;

	fs_spec_init(&s, recursive ? "mkdir -p" : "mkdir", path, NULL);
	s.native = recursive ? FS_NATIVE_MKDIR_P : FS_NATIVE_MKDIR;
	s.native_path = path;
	return fs_start(sb, &s, sbx_fs_script_mkdir(&s.script, path, recursive), cb, ud, NULL, err);
}

int sbx_fs_mkdir_async(struct sbx_sandbox *sb, const char *path, bool recursive, sbx_fs_cb cb,
		       void *ud)
{
	return mkdir_start(sb, path, recursive, cb, ud, NULL);
}

int sbx_fs_mkdir(struct sbx_sandbox *sb, const char *path, bool recursive, struct sbx_err *err)
{
	struct fs_wait w;

	fs_wait_init(&w);
	return wait_simple(sb, &w, mkdir_start(sb, path, recursive, fs_wait_cb, &w, err), err);
}

static int list_start(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud,
		      struct sbx_err *err)
{
	struct fs_spec s;

	if (!path)
		path = ".";
	fs_spec_init(&s, "list_dir", path, NULL);
	s.fast = FS_FAST_LIST;
	s.fast_path = path;
	s.parse = FS_PARSE_NAMES;
	s.out_max = SBX_FS_LIST_MAX;
	s.native = FS_NATIVE_LIST;
	s.native_path = path;
	return fs_start(sb, &s, sbx_fs_script_list(&s.script, path), cb, ud, NULL, err);
}

int sbx_fs_list_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud)
{
	return list_start(sb, path, cb, ud, NULL);
}

int sbx_fs_list_dir(struct sbx_sandbox *sb, const char *path, char ***ret_names, size_t *ret_n,
		    struct sbx_err *err)
{
	struct fs_wait w;
	int rc;

	fs_wait_init(&w);
	rc = list_start(sb, path, fs_wait_cb, &w, err);
	rc = fs_wait_finish(&w, sb, rc, err);
	if (rc == 0) {
		*ret_names = w.res.names;
		if (ret_n)
			*ret_n = w.res.n_names;
		w.res.names = NULL;
	}
	fs_wait_release(&w);
	return rc;
}

static int delete_file_start(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud,
			     struct sbx_err *err)
{
	struct fs_spec s;

	fs_spec_init(&s, "delete_file", path, NULL);
	s.native = FS_NATIVE_DELETE_FILE;
	s.native_path = path;
	return fs_start(sb, &s, sbx_fs_script_delete_file(&s.script, path), cb, ud, NULL, err);
}

int sbx_fs_delete_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud)
{
	return delete_file_start(sb, path, cb, ud, NULL);
}

int sbx_fs_delete_file(struct sbx_sandbox *sb, const char *path, struct sbx_err *err)
{
	struct fs_wait w;

	fs_wait_init(&w);
	return wait_simple(sb, &w, delete_file_start(sb, path, fs_wait_cb, &w, err), err);
}

static int delete_dir_start(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud,
			    struct sbx_err *err)
{
	struct fs_spec s;

	fs_spec_init(&s, "delete_dir", path, NULL);
	s.native = FS_NATIVE_DELETE_DIR;
	s.native_path = path;
	return fs_start(sb, &s, sbx_fs_script_delete_dir(&s.script, path), cb, ud, NULL, err);
}

int sbx_fs_delete_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud)
{
	return delete_dir_start(sb, path, cb, ud, NULL);
}

int sbx_fs_delete_dir(struct sbx_sandbox *sb, const char *path, struct sbx_err *err)
{
	struct fs_wait w;

	fs_wait_init(&w);
	return wait_simple(sb, &w, delete_dir_start(sb, path, fs_wait_cb, &w, err), err);
}

static int mv_start(struct sbx_sandbox *sb, const char *from, const char *to, bool rename_sem,
		    sbx_fs_cb cb, void *ud, struct sbx_err *err)
{
	struct fs_spec s;
	int r;

	fs_spec_init(&s, rename_sem ? "rename_file" : "move_file", from, to);
	r = rename_sem ? sbx_fs_script_rename(&s.script, from, to)
		       : sbx_fs_script_move(&s.script, from, to);
	return fs_start(sb, &s, r, cb, ud, NULL, err);
}

int sbx_fs_rename_file_async(struct sbx_sandbox *sb, const char *from, const char *to, sbx_fs_cb cb,
			     void *ud)
{
	return mv_start(sb, from, to, true, cb, ud, NULL);
}

int sbx_fs_rename_file(struct sbx_sandbox *sb, const char *from, const char *to,
		       struct sbx_err *err)
{
	struct fs_wait w;

	fs_wait_init(&w);
	return wait_simple(sb, &w, mv_start(sb, from, to, true, fs_wait_cb, &w, err), err);
}

int sbx_fs_move_file_async(struct sbx_sandbox *sb, const char *from, const char *to, sbx_fs_cb cb,
			   void *ud)
{
	return mv_start(sb, from, to, false, cb, ud, NULL);
}

int sbx_fs_move_file(struct sbx_sandbox *sb, const char *from, const char *to, struct sbx_err *err)
{
	struct fs_wait w;

	fs_wait_init(&w);
	return wait_simple(sb, &w, mv_start(sb, from, to, false, fs_wait_cb, &w, err), err);
}

static int rm_start(struct sbx_sandbox *sb, const char *path, bool recursive, sbx_fs_cb cb,
		    void *ud, struct sbx_err *err)
{
	struct fs_spec s;

	fs_spec_init(&s, recursive ? "rm -rf" : "rm", path, NULL);
	s.native = recursive ? FS_NATIVE_NONE : FS_NATIVE_DELETE_FILE; /* the same script */
	s.native_path = path;
	return fs_start(sb, &s, sbx_fs_script_rm(&s.script, path, recursive), cb, ud, NULL, err);
}

int sbx_fs_rm_async(struct sbx_sandbox *sb, const char *path, bool recursive, sbx_fs_cb cb,
		    void *ud)
{
	return rm_start(sb, path, recursive, cb, ud, NULL);
}

int sbx_fs_rm(struct sbx_sandbox *sb, const char *path, bool recursive, struct sbx_err *err)
{
	struct fs_wait w;

	fs_wait_init(&w);
	return wait_simple(sb, &w, rm_start(sb, path, recursive, fs_wait_cb, &w, err), err);
}
