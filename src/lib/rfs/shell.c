/* shell.c - the table of the shell transport (see transport.h).
 *
 * Credentials: every script runs as the user of its exec session, and
 * nothing in POSIX sh can act as another, so the entries that take a
 * credential drop it here (rfs.h: "the shell transport ignores it"). The
 * shell transport has no extended attributes: -ENOTSUP.
 */
#include <errno.h>

#include "rfs/shell.h"
#include "rfs/transport.h"

static int sh_mkdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		    uint32_t mode, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_mkdir(r, path, mode, ret, err);
}

static int sh_create(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     uint32_t mode, bool excl, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_create(r, path, mode, excl, ret, err);
}

static int sh_unlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_unlink(r, path, err);
}

static int sh_rmdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		    struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_rmdir(r, path, err);
}

static int sh_rename(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		     const char *to, unsigned flags, struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_rename(r, from, to, flags, err);
}

static int sh_link(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		   const char *to, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_link(r, from, to, ret, err);
}

static int sh_symlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *target,
		      const char *path, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_symlink(r, target, path, ret, err);
}

static int sh_setattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		      const struct sbx_rfs_setattr *sa, struct sbx_rfs_attr *ret,
		      struct sbx_err *err)
{
	(void)cred;
	return rfs_shell_setattr(r, path, sa, ret, err);
}

static int no_xattr(struct sbx_err *err)
{
	return sbx_err_set(err, -ENOTSUP, 0, "extended attributes need the agent transport");
}

static int sh_getxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		       const char *name, void *buf, size_t size, size_t *ret_len,
		       struct sbx_err *err)
{
	(void)r, (void)cred, (void)path, (void)name, (void)buf, (void)size, (void)ret_len;
	return no_xattr(err);
}

static int sh_listxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			void *buf, size_t size, size_t *ret_len, struct sbx_err *err)
{
	(void)r, (void)cred, (void)path, (void)buf, (void)size, (void)ret_len;
	return no_xattr(err);
}

static int sh_setxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		       const char *name, const void *value, size_t len, int flags,
		       struct sbx_err *err)
{
	(void)r, (void)cred, (void)path, (void)name, (void)value, (void)len, (void)flags;
	return no_xattr(err);
}

static int sh_removexattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			  const char *name, struct sbx_err *err)
{
	(void)r, (void)cred, (void)path, (void)name;
	return no_xattr(err);
}

const struct rfs_transport rfs_shell_transport = {
    .name = "shell",
    .stat = rfs_shell_stat,
    .readdir = rfs_shell_readdir,
    .readlink = rfs_shell_readlink,
    .mkdir = sh_mkdir,
    .create = sh_create,
    .unlink = sh_unlink,
    .rmdir = sh_rmdir,
    .rename = sh_rename,
    .link = sh_link,
    .symlink = sh_symlink,
    .setattr = sh_setattr,
    .getxattr = sh_getxattr,
    .listxattr = sh_listxattr,
    .setxattr = sh_setxattr,
    .removexattr = sh_removexattr,
    .statfs = rfs_shell_statfs,
    .fetch = rfs_shell_fetch,
    .read_range = rfs_shell_read_range,
    .store = rfs_shell_store,
    .read_start = rfs_shell_read_start,
    .read_finish = rfs_shell_read_finish,
    .signal_env = rfs_shell_signal_env,
    .sweep = rfs_shell_sweep,
};
