/* ops_file.c - FUSE handlers for file content: open, create, read, write,
 * flush, fsync, release.
 *
 * Handles of one node share its fcache (fcache.h): reads and writes are
 * local once the content is there; flush (every close) and fsync store the
 * changes and return the store's error, so close-to-open holds and a
 * failed upload is never a silent success (answered when the store is
 * made, holding no thread meanwhile: fcache_astore.c).
 */
#include "fs/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/cred.h"
#include "fs/ctl/ctl.h"
#include "fs/dattr.h"
#include "fs/dirlist.h"
#include "fs/fcache.h"
#include "fs/later.h"
#include "fs/wback.h"

struct sbxfs_fh {
	struct fs_handle link; /* first: in fs->fhs */
	struct fcache *fc;
	bool append;
	uint64_t wb_seen; /* atomic: wback_errseq() already reported to it */
};

/* What a release does with a handle, once out of fs->fhs: its file's
 * cache released (the last one stores what is left), the handle freed. */
static void fh_end(struct sbx_fs *fs, struct sbxfs_fh *fh)
{
	fcache_release(fs, fh->fc);
	free(fh);
}

static struct sbxfs_fh *fh_of(struct fuse_file_info *fi)
{
	return (struct sbxfs_fh *)(uintptr_t)fi->fh;
}

/* A create that is not answered after all: the kernel will not forget
 * the node it did not get (e: the entry of the create, or NULL). */
static void undo_create(struct sbx_fs *fs, const struct fuse_entry_param *e)
{
	struct node *n;

	if (!e)
		return;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, e->ino);
	if (n)
		node_forget(&fs->nodes, n, 1);
	pthread_mutex_unlock(&fs->lock);
}

/* Wraps fc in a handle and replies; undoes everything if the reply fails
 * (the open was interrupted: no release will come). e: reply a create.
 * A writable open makes its caller the one the stores act as (unless
 * writer_set: the open did). */
static void reply_opened(struct sbx_fs *fs, fuse_req_t req, struct fcache *fc,
			 struct fuse_file_info *fi, const struct fuse_entry_param *e,
			 bool writer_set)
{
	struct sbxfs_fh *fh = calloc(1, sizeof(*fh));
	struct sbx_rfs_cred cb;
	int r;

	if (!fh || (!writer_set && (fi->flags & O_ACCMODE) != O_RDONLY &&
		    fcache_set_writer(fc, fs_cred_of(req, fs->uid, &cb)) < 0)) {
		free(fh);
		undo_create(fs, e);
		fcache_release(fs, fc);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fh->fc = fc;
	fh->append = fi->flags & O_APPEND;
	fh->wb_seen = wback_errseq(fs->wb);
	fi->fh = (uintptr_t)fh;
	fi->keep_cache = !e && fcache_kernel_keeps(fs, fc);
	fi->direct_io = 0;
	/* before the reply: its release may come at once */
	fs_handle_link(fs, &fs->fhs, &fh->link);
	r = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	if (r < 0) {
		fs_handle_unlink(fs, &fs->fhs, &fh->link);
		undo_create(fs, e);
		fh_end(fs, fh);
	}
}

/* An open in flight: answered at once, or once the file's lock came
 * (fcache_open_req). */
struct openq {
	struct fcache_oreq o; /* first */
	struct sbx_fs *fs;
	fuse_req_t req;
	struct fuse_file_info fi;
	struct sbx_rfs_cred cred; /* o.writer's */
};

static void opened(struct fcache_oreq *o, int r)
{
	struct openq *q = (struct openq *)o;

	if (r < 0)
		fuse_reply_err(q->req, fs_errno(r));
	else
		reply_opened(q->fs, q->req, o->fc, &q->fi, NULL, true);
	free(q);
}

void ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	int acc = fi->flags & O_ACCMODE;
	struct openq *q = NULL;
	struct node *n;
	int r;

	FS_COUNT_OP(fs, FS_OPEN);
	if (ctl_is(ino)) {
		ctl_open(req, ino, fi);
		return;
	}
	if (fs->opts->ro && (acc != O_RDONLY || (fi->flags & O_TRUNC))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	r = !n ? -ESTALE : S_ISDIR(n->attr.mode) ? -EISDIR : 0;
	pthread_mutex_unlock(&fs->lock);
	r = r ?: fs_check_alive(fs) ?: (q = calloc(1, sizeof(*q))) ? 0 : -ENOMEM;
	if (r == 0) {
		q->fs = fs;
		q->req = req;
		q->fi = *fi;
		q->o.trunc = (fi->flags & O_TRUNC) && acc != O_RDONLY;
		q->o.writes = acc != O_RDONLY;
		q->o.writer = fs_cred_of(req, fs->uid, &q->cred);
		q->o.done = opened;
		r = fcache_open_req(fs, ino, &q->o);
	}
	if (r == 1)
		return; /* queued: opened() replies */
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	else
		reply_opened(fs, req, q->o.fc, fi, NULL, true);
	free(q);
}

/* Can the create of name in parent wait for the file's first store? When
 * change reports keep parent's listing true and it has no such name, the
 * sandbox would create it (the kernel checked the caller's permissions,
 * or the caller is the agent's own user): the reply is made here with the
 * attributes the create would give, and the store at flush, fsync or close
 * makes the file, so a `tar x` or `cp -r` pays one round trip a file, not
 * two. The first create of a mount is never deferred: its reply tells the
 * owner and group the agent's files get. fs->lock held. */
static bool create_here(struct sbx_fs *fs, struct node *p, const char *name, mode_t mode,
			struct sbx_rfs_attr *a)
{
	struct dirlist *l;
	struct timespec now;

	if (fs->opts->sync_create || !fs->watching || !fs->create_ids_known || !p || !p->watched ||
	    !S_ISDIR(p->attr.mode))
		return false;
	l = fs_fresh_list(fs, p);
	if (!l || dirlist_find(l, name))
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	memset(a, 0, sizeof(*a));
	a->mode = S_IFREG | (mode & 07777);
	a->nlink = 1;
	a->uid = fs->create_uid;
	a->gid = (p->attr.mode & S_ISGID) ? p->attr.gid : fs->create_gid;
	/* ino and dev 0: the node id stands in for the inode number (distinct
	 * names must not look like one file: vim tests for that) */
	a->atime = a->mtime = a->ctime = now;
	/* newer than every report received: a late report of a file of
	 * that name gone before (the agent sends a request's reports before
	 * its reply) is not taken for news of this one */
	a->seq = sbx_rfs_seq(fs->rfs);
	return true;
}

/* The create's part after the sandbox's (or, here, the mount's own)
 * answer a: the name, the node, the open cache, the reply. others: made
 * as another user (their ids say nothing of the agent's files). Runs on
 * the worker, or on the completion thread for a create answered later:
 * the node then has no cache (create_later), so nothing here waits. */
static void create_rest(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t parent, const char *name,
			bool others, bool here, struct sbx_rfs_attr *a, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct fcache *fc;
	struct node *p, *n = NULL;
	int r;

	if (!S_ISREG(a->mode)) {
		fuse_reply_err(req, S_ISDIR(a->mode) ? EISDIR : EINVAL);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	if (p && !here && !others && !fs->create_ids_known && !(p->attr.mode & S_ISGID)) {
		/* a create made in the sandbox tells whose files the agent makes */
		fs->create_uid = a->uid;
		fs->create_gid = a->gid;
		fs->create_ids_known = true;
	}
	if (p) {
		if (here)
			fs_dir_entry_set_keep(fs, p, name, a, NULL);
		else
			fs_dir_entry_set(fs, p, name, a, NULL);
		n = node_child(&fs->nodes, p, name);
		n = ops_child_with_attr(fs, p, name, a, 0, n ? n->gen : 0);
	}
	if (n && a->nlink == 1 && a->size == 0)
		fs_nocap_set_locked(fs, n); /* we made it (or it is empty): no capability */
	if (n) {
		n->unstored = here;
		fs_entry_of(fs, n, &e);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!n) {
		fuse_reply_err(req, p ? ENOMEM : ESTALE);
		return;
	}
	r = fcache_open(fs, e.ino, fi->flags & O_TRUNC, a->size == 0, &fc);
	if (r == 0 && here)
		fcache_mark_unstored(fs, fc);
	if (r < 0) {
		pthread_mutex_lock(&fs->lock);
		if (here)
			fs_dir_entry_del(fs, p, name); /* it never was */
		n->unstored = false;
		node_forget(&fs->nodes, n, 1);
		pthread_mutex_unlock(&fs->lock);
		fuse_reply_err(req, fs_errno(r));
		return;
	}
	if (here)
		FS_COUNT(fs, creates_deferred);
	reply_opened(fs, req, fc, fi, &e, false);
}

static void create_then(struct later *l)
{
	if (!later_failed(l))
		create_rest(l->fs, l->req, l->parent, l->name, l->has_cred, false, &l->q.attr,
			    &l->fi);
}

/* A create that waits for the sandbox, answered later (later.h) when the
 * node it may meet has no cache: opening one that has may wait for its
 * lock (a read in flight), which the completion thread must not. While
 * the kernel waits for this create it lets no other open or lookup into
 * parent, so no cache for the name appears meanwhile. true when sent. */
static bool create_later(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t parent, const char *name,
			 const char *path, mode_t mode, const struct sbx_rfs_cred *cred,
			 struct fuse_file_info *fi)
{
	struct node *p, *n;
	struct later *l;
	bool cached;

	if (!sbx_rfs_submits_async(fs->rfs))
		return false;
	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	n = p ? node_child(&fs->nodes, p, name) : NULL;
	cached = n && n->fc;
	pthread_mutex_unlock(&fs->lock);
	if (cached || !(l = later_new(fs, req, SBX_RFS_OP_CREATE, create_then, name, NULL)))
		return false;
	l->parent = parent;
	l->fi = *fi;
	l->has_cred = cred != NULL; /* whose create: all create_rest needs of it */
	l->q.cred = cred;
	l->q.path = path;
	l->q.mode = S_IFREG | (mode & 07777);
	l->q.flags = fi->flags & O_EXCL ? 0 : SBX_RFS_CREATE_SHARED;
	later_submit(l);
	return true;
}

void ops_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct sbx_rfs_attr a;
	bool here = false;
	int r;

	FS_COUNT_OP(fs, FS_CREATE);
	if (ctl_is(parent) || (parent == NODE_ROOT_ID && !strcmp(name, CTL_NAME))) {
		fuse_reply_err(req, EPERM);
		return;
	}
	r = fs->opts->ro ? -EROFS : strlen(name) > 255 ? -ENAMETOOLONG : fs_check_alive(fs);
	if (r == 0) {
		pthread_mutex_lock(&fs->lock);
		/* others' creates wait: ownership and group rules are the sandbox's */
		here = !cred && create_here(fs, node_get(&fs->nodes, parent), name, mode, &a);
		pthread_mutex_unlock(&fs->lock);
	}
	if (r == 0 && !here) {
		dattr_settle(fs, parent);
		r = fs_child_path(fs, parent, name, &path);
		if (r == 0 && create_later(fs, req, parent, name, path.data, mode, cred, fi)) {
			sbx_buf_release(&path);
			return;
		}
		r = r
			?: sbx_rfs_create(fs->rfs, cred, path.data, S_IFREG | (mode & 07777),
					  fi->flags & O_EXCL, &a, NULL);
	}
	sbx_buf_release(&path);
	if (r < 0) {
		fuse_reply_err(req, fs_errno(r));
		return;
	}
	create_rest(fs, req, parent, name, cred != NULL, here, &a, fi);
}

void ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);

	FS_COUNT_OP(fs, FS_READ);
	if (ctl_is(ino)) {
		ctl_read(req, ino, size, off, fi);
		return;
	}
	fcache_read_req(fs, fh_of(fi)->fc, req, size, off < 0 ? 0 : (uint64_t)off);
}

void ops_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbxfs_fh *fh;

	FS_COUNT_OP(fs, FS_WRITE);
	if (ctl_is(ino)) {
		ctl_write(req, ino, buf, size, off, fi);
		return;
	}
	fh = fh_of(fi);
	if (fs->opts->ro)
		fuse_reply_err(req, EROFS);
	else
		fcache_write_req(fs, fh->fc, req, buf, size, off < 0 ? 0 : (uint64_t)off,
				 fh->append);
}

/* -EIO once per handle when a write-behind store failed since it was
 * opened or last told (wback.h), else 0. */
static int behind_error(struct sbx_fs *fs, struct sbxfs_fh *fh)
{
	uint64_t now = wback_errseq(fs->wb);

	return __atomic_exchange_n(&fh->wb_seen, now, __ATOMIC_ACQ_REL) != now ? -EIO : 0;
}

/* The answer of a close or fsync whose store returned r (fcache_flush_req):
 * else a write-behind failure is its error. */
static void reply_synced(void *ctx, fuse_req_t req, int r)
{
	fuse_reply_err(req, fs_errno(r ?: behind_error(fs_of(req), ctx)));
}

/* A close: the store of a file only created here is queued (wback.h),
 * for a while when the file is empty (a lock file, likely removed at
 * once); others are made now, so close-to-open holds for files the
 * sandbox had. */
void ops_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);

	FS_COUNT_OP(fs, FS_FLUSH);
	if (ctl_is(ino)) {
		fuse_reply_err(req, 0);
		return;
	}
	fcache_flush_req(fs, fh_of(fi)->fc, req, FCACHE_BEHIND, reply_synced, fh_of(fi));
}

void ops_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);

	(void)datasync;
	FS_COUNT_OP(fs, FS_FSYNC);
	if (ctl_is(ino)) {
		fuse_reply_err(req, 0);
		return;
	}
	fcache_flush_req(fs, fh_of(fi)->fc, req, FCACHE_FSYNC, reply_synced, fh_of(fi));
}

void ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbxfs_fh *fh;

	FS_COUNT_OP(fs, FS_RELEASE);
	if (ctl_is(ino)) {
		ctl_release(req, ino, fi);
		return;
	}
	fh = fh_of(fi);
	fs_handle_unlink(fs, &fs->fhs, &fh->link);
	/* the kernel does not wait for this answer: a store at the last
	 * release is answered later (fs_flush_all() waits for it) */
	fcache_release_later(fs, fh->fc);
	free(fh);
	fuse_reply_err(req, 0);
}

void ops_release_all(struct sbx_fs *fs)
{
	struct fs_handle *h;

	while ((h = fs_handle_take(fs, &fs->fhs)))
		fh_end(fs, (struct sbxfs_fh *)h);
}
