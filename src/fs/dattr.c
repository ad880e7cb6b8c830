/* dattr.c - attribute changes of a directory made behind the caller (see
 * dattr.h).
 */
#include "fs/dattr.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "fs/fs.h"
#include "fs/wback.h"
#include "util/buf.h"
#include "util/log.h"

#define DATTR_KINDS                                                                        \
	(SBX_RFS_SET_MODE | SBX_RFS_SET_UID | SBX_RFS_SET_GID | SBX_RFS_SET_ATIME |        \
	 SBX_RFS_SET_MTIME | SBX_RFS_SET_ATIME_NOW | SBX_RFS_SET_MTIME_NOW |                \
	 SBX_RFS_SET_ACL_PLAIN)

/* Whether the changes sa of n may go behind. fs->lock held. */
static bool may_defer(struct sbx_fs *fs, const struct node *n, const struct sbx_rfs_setattr *sa)
{
	if (!n || !n->made_dir || !n->parent || !S_ISDIR(n->attr.mode) || !fs_attr_fresh(fs, n) ||
	    n->attr_epoch != fs_epoch(fs))
		return false;
	if (!sa->valid || (sa->valid & ~DATTR_KINDS))
		return false;
	/* the sandbox's own rules must not tell the caller apart from what
	 * the kernel here checked: the agent acts as root there */
	return fs->create_ids_known && fs->create_uid == 0;
}

/* n's attributes after sa, made now (fs->lock held). */
static void apply_local(struct sbx_fs *fs, struct node *n, const struct sbx_rfs_setattr *sa)
{
	struct sbx_rfs_attr *a = &n->attr;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (sa->valid & SBX_RFS_SET_MODE)
		a->mode = (a->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & SBX_RFS_SET_UID)
		a->uid = sa->uid;
	if (sa->valid & SBX_RFS_SET_GID)
		a->gid = sa->gid;
	if (sa->valid & SBX_RFS_SET_ATIME)
		a->atime = sa->atime;
	else if (sa->valid & SBX_RFS_SET_ATIME_NOW)
		a->atime = now;
	if (sa->valid & SBX_RFS_SET_MTIME)
		a->mtime = sa->mtime;
	else if (sa->valid & SBX_RFS_SET_MTIME_NOW)
		a->mtime = now;
	a->ctime = now;
	/* newer than every report received: none of before may undo it */
	a->seq = sbx_rfs_seq(fs->rfs);
	n->gen++; /* answers in flight predate it */
	n->attr_expire = fs_expiry(fs_node_attr_timeout(fs, n));
	if (!n->attr_expire)
		n->attr_expire = 1;
	fs_dir_entry_set_keep(fs, n->parent, n->name, a, NULL);
}

bool dattr_defer(struct sbx_fs *fs, uint64_t ino, const struct sbx_rfs_setattr *sa,
		 const struct sbx_rfs_cred *cred)
{
	struct sbx_buf path = SBX_BUF_INIT;
	struct node *n;
	int q;

	if (cred || !fs->wb || !fs->watching)
		return false;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (!may_defer(fs, n, sa) || node_path(n, fs->root, &path) < 0) {
		pthread_mutex_unlock(&fs->lock);
		sbx_buf_release(&path);
		return false;
	}
	/* one for a new item (its end takes it back), one held here so that
	 * no end sees the last of them before the attributes are set */
	n->attrs_behind += 2;
	pthread_mutex_unlock(&fs->lock);
	q = wback_queue_dir(fs->wb, ino, path.data, sa);
	sbx_buf_release(&path);
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n) {
		if (q >= 0)
			apply_local(fs, n, sa);
		n->attrs_behind -= q <= 0 ? 2 : 1; /* added to a queued item, or none */
		if (!n->attrs_behind && q >= 0)
			n->attr_expire = 0; /* made already: its answer was not taken */
	}
	pthread_mutex_unlock(&fs->lock);
	if (q < 0)
		return false;
	FS_COUNT(fs, dir_attrs);
	return true;
}

void dattr_merge(struct sbx_rfs_setattr *sa, const struct sbx_rfs_setattr *later)
{
	unsigned v = later->valid;

	if (v & SBX_RFS_SET_MODE)
		sa->mode = later->mode;
	if (v & SBX_RFS_SET_UID)
		sa->uid = later->uid;
	if (v & SBX_RFS_SET_GID)
		sa->gid = later->gid;
	if (v & (SBX_RFS_SET_ATIME | SBX_RFS_SET_ATIME_NOW))
		sa->valid &= ~(SBX_RFS_SET_ATIME | SBX_RFS_SET_ATIME_NOW);
	if (v & SBX_RFS_SET_ATIME)
		sa->atime = later->atime;
	if (v & (SBX_RFS_SET_MTIME | SBX_RFS_SET_MTIME_NOW))
		sa->valid &= ~(SBX_RFS_SET_MTIME | SBX_RFS_SET_MTIME_NOW);
	if (v & SBX_RFS_SET_MTIME)
		sa->mtime = later->mtime;
	sa->valid |= v;
}

void dattr_apply(struct sbx_fs *fs, uint64_t ino, const char *path,
		 const struct sbx_rfs_setattr *sa)
{
	struct sbx_rfs_attr a;
	struct node *n;
	bool tell = false;
	int r;

	r = fs_check_alive(fs) ?: sbx_rfs_setattr(fs->rfs, NULL, path, sa, &a, NULL);
	if (r < 0) {
		sbx_log(SBX_LOG_ERR, "attributes of directory %s set earlier could not be made: %s",
			path, strerror(-r));
		wback_failed(fs->wb);
	}
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n && n->attrs_behind > 0 && --n->attrs_behind == 0) {
		/* the last of them: the sandbox's answer is the truth (ctime),
		 * a failure's the attributes to ask for again */
		n->gen++;
		if (r == 0) {
			fs_node_set_attr(fs, n, &a, n->gen);
			if (n->parent)
				fs_dir_entry_set_keep(fs, n->parent, n->name, &n->attr, NULL);
		} else {
			n->attr_expire = 0;
			if (n->parent)
				fs_dir_changed(fs, n->parent);
		}
		tell = fs->se != NULL;
	}
	pthread_mutex_unlock(&fs->lock);
	if (tell)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
}

void dattr_settle(struct sbx_fs *fs, uint64_t ino)
{
	struct node *n;
	bool behind;

	if (!fs->wb)
		return;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	behind = n && n->attrs_behind;
	pthread_mutex_unlock(&fs->lock);
	if (behind)
		wback_drain_dirs(fs->wb); /* its changes are among them */
}
