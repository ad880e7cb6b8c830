/* meta.c - the metadata operations of rfs.h: one script, one session, and
 * the attributes it prints at the end parsed into the caller's struct.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "fs/store.h"
#include "rfs/call.h"
#include "rfs/parse.h"
#include "rfs/scripts.h"
#include "rfs/shell.h"

/* Parses output that is exactly one attribute record and its NUL. */
static int one_attr(const struct sbx_buf *out, struct sbx_rfs_attr *ret, const char *what,
		    struct sbx_err *err)
{
	const char *p = out->data ? out->data : "", *f;
	size_t n = out->len, len;
	struct sbx_rfs_attr a;

	if (!sbx_rfs_next_field(&p, &n, &f, &len) || n != 0 || sbx_rfs_parse_attr(f, len, &a) < 0)
		return sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output from the sandbox",
				   what);
	if (ret)
		*ret = a;
	return 0;
}

/* Runs a built script (build_rc is the builder's result); on success the
 * collected stdout is moved into *out when out is not NULL. */
static int run(struct sbx_rfs *r, enum sbx_rfs_op op, const char *what, int build_rc,
	       struct sbx_buf *script, struct sbx_buf *out, struct sbx_err *err)
{
	struct rfs_call c;
	int rc = build_rc;

	if (rc < 0) {
		rfs_count_local_failure(r, op);
		rc = sbx_err_set(err, rc, 0, "%s: %s", what,
				 rc == -EINVAL ? "not an absolute path" : strerror(-rc));
		goto out;
	}
	rfs_call_init(&c, r, op, what, script->data);
	rc = rfs_call_run(&c, err);
	if (rc == 0 && out) {
		*out = c.out;
		sbx_buf_init(&c.out);
	}
	rfs_call_release(&c);
out:
	sbx_buf_release(script);
	return rc;
}

/* run() then one_attr() into ret (ret may be NULL: output ignored). */
static int run_attr(struct sbx_rfs *r, enum sbx_rfs_op op, const char *what, int build_rc,
		    struct sbx_buf *script, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbx_buf out = SBX_BUF_INIT;
	int rc = run(r, op, what, build_rc, script, &out, err);

	if (rc == 0)
		rc = one_attr(&out, ret, what, err);
	sbx_buf_release(&out);
	return rc;
}

int rfs_shell_stat(struct sbx_rfs *r, const char *path, struct sbx_rfs_attr *ret,
		   struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "stat", path, NULL);
	return run_attr(r, SBX_RFS_OP_STAT, what, sbx_rfs_script_stat(&s, path), &s, ret, err);
}

int rfs_shell_readdir(struct sbx_rfs *r, const char *path, struct sbx_rfs_dir *ret,
		      struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT, out = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];
	int rc;

	sbx_fs_describe(what, sizeof(what), "readdir", path, NULL);
	rc = run(r, SBX_RFS_OP_READDIR, what, sbx_rfs_script_readdir(&s, path), &s, &out, err);
	if (rc == 0) {
		rc = sbx_rfs_parse_dir(out.data ? out.data : "", out.len, ret);
		if (rc == -ENOTDIR)
			sbx_err_set(err, rc, 0, "%s: Not a directory", what);
		else if (rc == -EFBIG)
			sbx_err_set(err, rc, 0, "%s: more than %d entries", what, SBX_RFS_DIR_MAX);
		else if (rc < 0)
			rc = sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output", what);
	}
	sbx_buf_release(&out);
	return rc;
}

int rfs_shell_readlink(struct sbx_rfs *r, const char *path, char **ret, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT, out = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];
	const char *p, *type, *target;
	size_t n, tlen, len;
	int rc;

	sbx_fs_describe(what, sizeof(what), "readlink", path, NULL);
	rc = run(r, SBX_RFS_OP_READLINK, what, sbx_rfs_script_readlink(&s, path), &s, &out, err);
	if (rc < 0)
		goto out;
	p = out.data ? out.data : "";
	n = out.len;
	if (!sbx_rfs_next_field(&p, &n, &type, &tlen) ||
	    !sbx_rfs_next_field(&p, &n, &target, &len) || n != 0 || tlen != 1) {
		rc = sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output", what);
		goto out;
	}
	if (type[0] != 'l') {
		rc = sbx_err_set(err, -EINVAL, 0, "%s: not a symbolic link", what);
		goto out;
	}
	*ret = strndup(target, len);
	if (!*ret)
		rc = sbx_err_set(err, -ENOMEM, 0, "out of memory");
out:
	sbx_buf_release(&out);
	return rc;
}

int rfs_shell_mkdir(struct sbx_rfs *r, const char *path, uint32_t mode, struct sbx_rfs_attr *ret,
		    struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "mkdir", path, NULL);
	return run_attr(r, SBX_RFS_OP_MKDIR, what, sbx_rfs_script_mkdir(&s, path, mode), &s, ret,
			err);
}

int rfs_shell_create(struct sbx_rfs *r, const char *path, uint32_t mode, bool excl,
		     struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "create", path, NULL);
	return run_attr(r, SBX_RFS_OP_CREATE, what, sbx_rfs_script_create(&s, path, mode, excl), &s,
			ret, err);
}

int rfs_shell_unlink(struct sbx_rfs *r, const char *path, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "unlink", path, NULL);
	return run(r, SBX_RFS_OP_UNLINK, what, sbx_rfs_script_unlink(&s, path), &s, NULL, err);
}

int rfs_shell_rmdir(struct sbx_rfs *r, const char *path, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "rmdir", path, NULL);
	return run(r, SBX_RFS_OP_RMDIR, what, sbx_rfs_script_rmdir(&s, path), &s, NULL, err);
}

int rfs_shell_rename(struct sbx_rfs *r, const char *from, const char *to, unsigned flags,
		     struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "rename", from, to);
	return run(r, SBX_RFS_OP_RENAME, what, sbx_rfs_script_rename(&s, from, to, flags), &s, NULL,
		   err);
}

int rfs_shell_link(struct sbx_rfs *r, const char *from, const char *to, struct sbx_rfs_attr *ret,
		   struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "link", from, to);
	return run_attr(r, SBX_RFS_OP_LINK, what, sbx_rfs_script_link(&s, from, to), &s, ret, err);
}

int rfs_shell_symlink(struct sbx_rfs *r, const char *target, const char *path,
		      struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "symlink", path, target);
	return run_attr(r, SBX_RFS_OP_SYMLINK, what, sbx_rfs_script_symlink(&s, target, path), &s,
			ret, err);
}

int rfs_shell_setattr(struct sbx_rfs *r, const char *path, const struct sbx_rfs_setattr *sa,
		      struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "setattr", path, NULL);
	return run_attr(r, SBX_RFS_OP_SETATTR, what, sbx_rfs_script_setattr(&s, path, sa), &s, ret,
			err);
}

int rfs_shell_statfs(struct sbx_rfs *r, const char *path, struct statvfs *ret, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT, out = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX];
	int rc;

	sbx_fs_describe(what, sizeof(what), "statfs", path, NULL);
	rc = run(r, SBX_RFS_OP_STATFS, what, sbx_rfs_script_statfs(&s, path), &s, &out, err);
	if (rc == 0 && sbx_rfs_parse_statfs(out.data ? out.data : "", out.len, ret) < 0)
		rc = sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output", what);
	sbx_buf_release(&out);
	return rc;
}

int rfs_shell_signal_env(struct sbx_rfs *r, const char *env_marker, const char *sig_name,
			 unsigned *ret_count, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT, out = SBX_BUF_INIT;
	int rc;

	rc = run(r, SBX_RFS_OP_SIGNAL, "signal",
		 sbx_rfs_script_signal_env(&s, env_marker, sig_name), &s, &out, err);
	if (rc == 0 && ret_count)
		*ret_count = (unsigned)strtoul(out.data ? out.data : "0", NULL, 10);
	sbx_buf_release(&out);
	return rc;
}

int rfs_shell_sweep(struct sbx_rfs *r, unsigned *ret_removed, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT, out = SBX_BUF_INIT;
	unsigned n = 0;
	int rc;

	rc = run(r, SBX_RFS_OP_SWEEP, "sweep", sbx_fs_store_sweep_script(&s), &s, &out, err);
	if (rc == 0 && sbx_fs_store_sweep_parse(out.data ? out.data : "", out.len, &n) < 0)
		rc = sbx_err_set(err, -SBX_EPROTO, 0, "sweep: unexpected output from the sandbox");
	if (rc == 0 && ret_removed)
		*ret_removed = n;
	sbx_buf_release(&out);
	return rc;
}
