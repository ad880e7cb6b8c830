/* lowlevel.c - the FUSE low-level operations table of sbxfs and its init.
 *
 * Capabilities asked for: READDIRPLUS always (a listing carries every
 * entry's attributes, so plus costs nothing and saves a lookup each), and
 * ATOMIC_O_TRUNC (open with O_TRUNC needs no separate setattr round trip).
 * Not asked for: the writeback cache (writes are ours to store at close)
 * and splice (contents come from a local file anyway).
 */
#include "fs/fs.h"

#include "fs/ops.h"

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
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
}

const struct fuse_lowlevel_ops sbxfs_ll_ops = {
    .init = ll_init,
    .lookup = ops_lookup,
    .forget = ops_forget,
    .forget_multi = ops_forget_multi,
    .getattr = ops_getattr,
    .setattr = ops_setattr,
    .readlink = ops_readlink,
    .mknod = ops_mknod,
    .mkdir = ops_mkdir,
    .unlink = ops_unlink,
    .rmdir = ops_rmdir,
    .symlink = ops_symlink,
    .rename = ops_rename,
    .link = ops_link,
    .open = ops_open,
    .read = ops_read,
    .write = ops_write,
    .flush = ops_flush,
    .release = ops_release,
    .fsync = ops_fsync,
    .opendir = ops_opendir,
    .readdir = ops_readdir,
    .readdirplus = ops_readdirplus,
    .releasedir = ops_releasedir,
    .fsyncdir = ops_fsyncdir,
    .statfs = ops_statfs,
    .create = ops_create,
};
