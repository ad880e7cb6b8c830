/* lowlevel.c - the FUSE low-level operations table of sbxfs and its init.
 *
 * Capabilities asked for: READDIRPLUS always (a listing carries every
 * entry's attributes, so plus costs nothing and saves a lookup each), and
 * ATOMIC_O_TRUNC (open with O_TRUNC needs no separate setattr round trip).
 * Not asked for: the writeback cache (writes are ours to store at close)
 * and splice (contents come from a local file anyway).
 *
 * Every request but those that only free something (forget, release,
 * releasedir) passes the access guard first (access.h): a caller who may
 * not make it gets EACCES, its one reply, and the handler never runs.
 * Freeing requests are exempt because the kernel may send them on behalf
 * of anyone (the last close of a shared descriptor) and they must run.
 */
#include "fs/fs.h"

#include <errno.h>
#include <string.h>

#include "fs/ctl/ctl.h"
#include "fs/ops.h"

/* true when the request was refused (and answered). */
static bool refused(fuse_req_t req, bool ctl)
{
	struct sbx_fs *fs = fs_of(req);
	int r =
	    fs_access_check(&fs->access, fuse_req_ctx(req)->uid, ctl ? FS_AREA_CTL : FS_AREA_FILES);

	if (r == 0)
		return false;
	FS_COUNT(fs, refused);
	fuse_reply_err(req, -r);
	return true;
}

/* Whether parent/name is in /.ctl or is /.ctl itself. */
static bool ctl_name(fuse_ino_t parent, const char *name)
{
	return ctl_is(parent) || (parent == NODE_ROOT_ID && name && !strcmp(name, CTL_NAME));
}

static void g_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (refused(req, ctl_name(parent, name)))
		return;
	ops_lookup(req, parent, name);
}

static void g_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_getattr(req, ino, fi);
}

static void g_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		      struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_setattr(req, ino, attr, to_set, fi);
}

static void g_readlink(fuse_req_t req, fuse_ino_t ino)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_readlink(req, ino);
}

static void g_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	if (refused(req, ctl_name(parent, name)))
		return;
	ops_mknod(req, parent, name, mode, rdev);
}

static void g_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	if (refused(req, ctl_name(parent, name)))
		return;
	ops_mkdir(req, parent, name, mode);
}

static void g_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (refused(req, ctl_name(parent, name)))
		return;
	ops_unlink(req, parent, name);
}

static void g_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (refused(req, ctl_name(parent, name)))
		return;
	ops_rmdir(req, parent, name);
}

static void g_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	if (refused(req, ctl_name(parent, name)))
		return;
	ops_symlink(req, link, parent, name);
}

static void g_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags)
{
	if (refused(req, ctl_name(parent, name) || ctl_name(newparent, newname)))
		return;
	ops_rename(req, parent, name, newparent, newname, flags);
}

static void g_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	if (refused(req, ctl_is(ino) || ctl_name(newparent, newname)))
		return;
	ops_link(req, ino, newparent, newname);
}

static void g_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_open(req, ino, fi);
}

static void g_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_read(req, ino, size, off, fi);
}

static void g_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_write(req, ino, buf, size, off, fi);
}

static void g_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_flush(req, ino, fi);
}

static void g_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_fsync(req, ino, datasync, fi);
}

static void g_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_opendir(req, ino, fi);
}

static void g_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_readdir(req, ino, size, off, fi);
}

static void g_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_readdirplus(req, ino, size, off, fi);
}

static void g_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_fsyncdir(req, ino, datasync, fi);
}

static void g_statfs(fuse_req_t req, fuse_ino_t ino)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_statfs(req, ino);
}

static void g_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi)
{
	if (refused(req, ctl_name(parent, name)))
		return;
	ops_create(req, parent, name, mode, fi);
}

static void g_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_getxattr(req, ino, name, size);
}

static void g_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		       size_t size, int flags)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_setxattr(req, ino, name, value, size, flags);
}

static void g_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_listxattr(req, ino, size);
}

static void g_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	if (refused(req, ctl_is(ino)))
		return;
	ops_removexattr(req, ino, name);
}

/* With FUSE_CAP_POSIX_ACL the kernel keeps each file's ACLs and asks for
 * them once, where without it every `ls -l` asks every file again (a FUSE
 * request per entry: a warm `ls -lR` of 350 entries took 12 ms, 5 ms with
 * them kept), and it applies them in its permission checks as the
 * sandbox does (without it, default_permissions checks the mode bits
 * only). It also turns on those checks (default_permissions), so it is
 * asked for where they are on already, and where the mount's owner is
 * root: root passes them (but for exec without an x bit, which the kernel
 * refuses anyway), and only the owner may use a mount without allow_other.
 * Elsewhere it would stop the owner acting as the sandbox's user. A check
 * wants fresh attributes of the directory a create goes into, which the
 * kernel drops after each create: the change reports and the parent's
 * attributes in MKDIR's reply keep ours fresh, so that costs a FUSE
 * request, not a round trip. */
static bool kernel_acls(const struct sbx_fs *fs)
{
	return fs->opts->default_permissions || fs->opts->allow_other || fs->uid == 0;
}

/* Whether opendir may be left to the kernel (ops_dir.c): it then keeps
 * every listing, /.ctl's too, so only where ours are kept (with their
 * timeouts) and the root's is everyone's (not with ctl_visible). /.ctl's
 * changing directories show a new mtime when their list may have changed,
 * and the kernel compares it before it reuses a listing only with
 * AUTO_INVAL_DATA (ctl.c). */
static bool kernel_opendir(const struct sbx_fs *fs, const struct fuse_conn_info *conn)
{
	return (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) &&
	       (conn->want & FUSE_CAP_AUTO_INVAL_DATA) && fs->opts->dir_cache_timeout > 0 &&
	       !fs->opts->ctl_visible;
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct sbx_fs *fs = userdata;

	if ((conn->capable & FUSE_CAP_POSIX_ACL) && kernel_acls(fs))
		conn->want |= FUSE_CAP_POSIX_ACL;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->want &= ~(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE);
	conn->time_gran = 1;
	fs->no_opendir = kernel_opendir(fs, conn);
	/* a first read is answered when its fetch ends (fcache_aread.c), so
	 * many may be in flight: the kernel's default of 12 background
	 * requests (its read-ahead) would cap a parallel cold read there */
	conn->max_background = SBXFS_MAX_BACKGROUND;
	conn->congestion_threshold = SBXFS_MAX_BACKGROUND * 3 / 4;
}

const struct fuse_lowlevel_ops sbxfs_ll_ops = {
    .init = ll_init,
    .lookup = g_lookup,
    .forget = ops_forget,
    .forget_multi = ops_forget_multi,
    .getattr = g_getattr,
    .setattr = g_setattr,
    .readlink = g_readlink,
    .mknod = g_mknod,
    .mkdir = g_mkdir,
    .unlink = g_unlink,
    .rmdir = g_rmdir,
    .symlink = g_symlink,
    .rename = g_rename,
    .link = g_link,
    .open = g_open,
    .read = g_read,
    .write = g_write,
    .flush = g_flush,
    .release = ops_release,
    .fsync = g_fsync,
    .opendir = g_opendir,
    .readdir = g_readdir,
    .readdirplus = g_readdirplus,
    .releasedir = ops_releasedir,
    .fsyncdir = g_fsyncdir,
    .statfs = g_statfs,
    .create = g_create,
    .getxattr = g_getxattr,
    .setxattr = g_setxattr,
    .listxattr = g_listxattr,
    .removexattr = g_removexattr,
};
