/* ops_setattr.c - the FUSE setattr handler: chmod, chown, truncate,
 * utimensat.
 *
 * A file not open: the change is sent (answered later, later.h). A
 * directory made here: its change is queued behind (dattr.h). An open
 * file: a size change is made in its cache when it holds unstored changes
 * (stored with them), else sent, so that the errno and a sparse file are
 * the sandbox's; other changes ride on its next store while it has one
 * to come (fcache_pend_attrs), else are sent. The sent change holds the
 * file's lock until the sandbox answered, so that a store does not pass
 * it, and a request that needs the lock meanwhile queues for it
 * (fcache_lock_or_queue): no worker thread waits, neither for this
 * change nor, before it, for a store or read of the file in flight.
 */
#include "fs/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/cred.h"
#include "fs/ctl/ctl.h"
#include "fs/dattr.h"
#include "fs/fcache.h"
#include "fs/later.h"
#include "fs/wback.h"

/* FUSE setattr bits to rfs ones. */
static void to_rfs(const struct stat *st, int to_set, struct sbx_rfs_setattr *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (to_set & FUSE_SET_ATTR_MODE)
		sa->valid |= SBX_RFS_SET_MODE, sa->mode = st->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		sa->valid |= SBX_RFS_SET_UID, sa->uid = st->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		sa->valid |= SBX_RFS_SET_GID, sa->gid = st->st_gid;
	if (to_set & FUSE_SET_ATTR_SIZE)
		sa->valid |= SBX_RFS_SET_SIZE, sa->size = (uint64_t)st->st_size;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		sa->valid |= SBX_RFS_SET_ATIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		sa->valid |= SBX_RFS_SET_ATIME, sa->atime = st->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		sa->valid |= SBX_RFS_SET_MTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		sa->valid |= SBX_RFS_SET_MTIME, sa->mtime = st->st_mtim;
}

/* The sandbox's attributes after a setattr of ino, made through the mount
 * (the node's generation was gen0 when it was sent). */
static void setattr_done(struct sbx_fs *fs, fuse_ino_t ino, const struct sbx_rfs_attr *a,
			 uint64_t gen0)
{
	struct fs_ids sib = {.n = 0};
	struct node *n;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n) {
		fs_node_set_attr(fs, n, a, gen0);
		if (n->parent) /* its entry's attributes: the directory is as it was */
			fs_dir_entry_set_keep(fs, n->parent, n->name, &n->attr, n->link);
		fs_siblings_stale(fs, n, &sib);
	}
	pthread_mutex_unlock(&fs->lock);
	fs_notify_attrs(fs, &sib);
}

/* Replies ino's attributes, or ESTALE when it is gone. */
static void reply_attr(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t ino)
{
	struct node *n;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n) {
		ops_reply_attr_unlock(fs, req, n);
		return;
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, ESTALE);
}

/* setattr's second half: the sandbox's answer. For an open file (l->ctx:
 * its cache) its lock goes, and its reference, then. */
static void setattr_then(struct later *l)
{
	struct fcache *fc = l->ctx;

	if (l->q.rc >= 0)
		setattr_done(l->fs, l->ino, &l->q.attr, l->gen0);
	if (fc) {
		fcache_unlock(fc);
		fcache_release_nowait(l->fs, fc);
	}
	if (!later_failed(l))
		reply_attr(l->fs, l->req, l->ino);
}

/* Sends sa for ino as cred (fc: its cache, locked and referenced, both
 * given to the second half); or replies the error. */
static void send_setattr(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t ino, struct fcache *fc,
			 const struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *cred)
{
	struct sbx_buf path = SBX_BUF_INIT;
	struct later *l;
	struct node *n;
	uint64_t gen0 = 0;
	int r;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	r = n ? node_path(n, fs->root, &path) : -ESTALE;
	if (r == 0)
		gen0 = ++n->gen;
	pthread_mutex_unlock(&fs->lock);
	r = r ?: fs_check_alive(fs);
	l = later_start(fs, req, r, SBX_RFS_OP_SETATTR, setattr_then, NULL, NULL);
	if (!l) {
		if (fc) {
			fcache_unlock(fc);
			fcache_release(fs, fc);
		}
		sbx_buf_release(&path);
		return;
	}
	l->ino = ino;
	l->gen0 = gen0;
	l->ctx = fc;
	if (cred) {
		l->cred = *cred;
		l->q.cred = &l->cred;
	}
	l->q.path = path.data;
	l->q.sa = sa;
	if (fc)
		fcache_hold_long(fc); /* requests for it queue meanwhile */
	later_submit(l);
	sbx_buf_release(&path);
}

/* A setattr of an open file, fc->lock held (and one reference of fc,
 * given back here or by the second half). */
static void open_locked(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t ino, struct fcache *fc,
			struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *cred)
{
	int r = 0;

	if (!((sa->valid & SBX_RFS_SET_SIZE) && fcache_forget_clean_locked(fs, fc))) {
		if (sa->valid & SBX_RFS_SET_SIZE)
			r = fcache_truncate_locked(fs, fc, sa->size);
		sa->valid &= ~SBX_RFS_SET_SIZE;
		if (r == 0 && (!sa->valid || fcache_pend_attrs_locked(fs, fc, sa)))
			r = 1; /* nothing left to send */
	}
	if (r == 0) {
		send_setattr(fs, req, ino, fc, sa, cred);
		return;
	}
	fcache_unlock(fc);
	fcache_release(fs, fc);
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	else
		reply_attr(fs, req, ino);
}

/* A setattr of an open file queued for its lock. */
struct saq {
	struct fcache_lwait w; /* first */
	struct fcache *fc;
	fuse_req_t req;
	fuse_ino_t ino;
	struct sbx_rfs_setattr sa;
	struct sbx_rfs_cred cred;
	bool has_cred;
};

static void open_run(struct fcache_lwait *w)
{
	struct saq *q = (struct saq *)w;

	open_locked(w->fs, q->req, q->ino, q->fc, &q->sa, q->has_cred ? &q->cred : NULL);
	free(q);
}

/* A setattr of open file fc (one reference, given back): answered now,
 * or once its lock came, or once the sandbox answered. */
static void setattr_open(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t ino, struct fcache *fc,
			 struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *cred)
{
	enum fcache_lq got;
	struct saq *q;

	if (!(sa->valid & SBX_RFS_SET_SIZE) && fcache_pend_attrs_nowait(fs, fc, sa, cred)) {
		fcache_release(fs, fc); /* a store queued or in flight takes it */
		reply_attr(fs, req, ino);
		return;
	}
	got = fcache_lock_or_queue(fs, fc, NULL, 0);
	if (got == FCACHE_BUSY && (q = calloc(1, sizeof(*q)))) {
		q->fc = fc;
		q->req = req;
		q->ino = ino;
		q->sa = *sa;
		q->has_cred = cred != NULL;
		if (cred)
			q->cred = *cred;
		q->w.run = open_run;
		if (fcache_lock_or_queue(fs, fc, &q->w, 0) == FCACHE_QUEUED)
			return;
		free(q);
	} else if (got == FCACHE_BUSY) {
		fcache_lock(fc);
	}
	open_locked(fs, req, ino, fc, sa, cred);
}

/* A directory made here: its change answered now, made behind (dattr.h);
 * false when it is not one. */
static bool setattr_behind(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t ino,
			   const struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *cred)
{
	if (!dattr_defer(fs, ino, sa, cred))
		return false;
	reply_attr(fs, req, ino);
	return true;
}

void ops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct sbx_rfs_setattr sa;
	struct fcache *fc = NULL;
	struct node *n;
	bool dir_times;

	(void)fi;
	FS_COUNT_OP(fs, FS_SETATTR);
	if (ctl_is(ino)) {
		ctl_setattr(req, ino, attr, to_set);
		return;
	}
	if (fs->opts->ro) {
		fuse_reply_err(req, EROFS);
		return;
	}
	to_rfs(attr, to_set, &sa);
	if (setattr_behind(fs, req, ino, &sa, cred))
		return;
	dattr_settle(fs, ino); /* after the changes behind */
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	fc = n ? fcache_get_locked(fs, n) : NULL;
	if (n && !fc)
		fcache_evict_locked(fs, n); /* the content may change remotely */
	dir_times = n && S_ISDIR(n->attr.mode) &&
		    (sa.valid & (SBX_RFS_SET_ATIME | SBX_RFS_SET_MTIME | SBX_RFS_SET_ATIME_NOW |
				 SBX_RFS_SET_MTIME_NOW));
	pthread_mutex_unlock(&fs->lock);
	fcache_reap(fs);
	/* tar and cp -a set a directory's times after its files were closed:
	 * the stores of those still behind would land after the times and
	 * move the mtime again (write-behind, wback.h) */
	if (dir_times)
		wback_drain(fs->wb);
	if (!n)
		fuse_reply_err(req, ESTALE);
	else if (fc)
		setattr_open(fs, req, ino, fc, &sa, cred);
	else
		send_setattr(fs, req, ino, NULL, &sa, cred);
}
