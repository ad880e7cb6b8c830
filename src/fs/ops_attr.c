/* ops_attr.c - FUSE handlers for names and attributes: lookup, forget,
 * getattr, setattr, readlink, statfs.
 *
 * Lookups are answered, in order, from a node with fresh attributes, from a
 * fresh listing of the parent (positive or negative, no round trip), or by
 * one remote stat. Every handler replies exactly once; every positive entry
 * reply counts one kernel reference (fs_entry_of), matched by forget.
 */
#include "fs/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ctl/ctl.h"
#include "fs/dattr.h"
#include "fs/dirlist.h"
#include "fs/cred.h"
#include "fs/fcache.h"
#include "fs/later.h"
#include "fs/wback.h"
#include "util/timeutil.h"

#define NAME_MAX_LEN 255

/* Attaches (or refreshes) the child name of parent with attributes a; a
 * node of another file type under that name is detached first (the remote
 * replaced it). fs->lock held. NULL on ENOMEM. */
struct node *ops_child_with_attr(struct sbx_fs *fs, struct node *parent, const char *name,
				 const struct sbx_rfs_attr *a, int64_t expire, uint64_t gen0)
{
	struct node *n = node_child(&fs->nodes, parent, name);

	if (n && (n->attr.mode & S_IFMT) != (a->mode & S_IFMT) && n->attr_expire) {
		node_detach(&fs->nodes, n);
		n = NULL;
	}
	if (!n) {
		n = node_new_child(&fs->nodes, parent, name);
		if (!n)
			return NULL;
		gen0 = n->gen;
	}
	fs_node_set_attr(fs, n, a, gen0);
	if (expire && n->gen == gen0 && !(n->local && n->local_dirty))
		n->attr_expire = expire;
	return n;
}

/* Lookup from caches; true when it replied. fs->lock held on entry, released
 * before a reply. */
static bool lookup_cached(struct sbx_fs *fs, fuse_req_t req, struct node *p, const char *name)
{
	struct fuse_entry_param e;
	const struct sbx_rfs_dirent *de;
	struct dirlist *l;
	struct node *n = node_child(&fs->nodes, p, name);

	if (n && fs_attr_fresh(fs, n)) {
		FS_COUNT(fs, attr_hit);
		fs_entry_of(fs, n, &e);
		pthread_mutex_unlock(&fs->lock);
		fuse_reply_entry(req, &e);
		return true;
	}
	l = fs_fresh_list(fs, p);
	de = l ? dirlist_find(l, name) : NULL;
	if ((l && !de) || (!l && fs_neg_known(fs, p, name))) {
		double t = fs_neg_timeout(fs, p);

		FS_COUNT(fs, neg_hit);
		pthread_mutex_unlock(&fs->lock);
		fs_reply_negative(fs, req, t);
		return true;
	}
	if (!l)
		return false;
	n = ops_child_with_attr(fs, p, name, &de->attr, l->expire, n ? n->gen : 0);
	if (!n)
		return false;
	FS_COUNT(fs, dir_hit);
	fs_entry_of(fs, n, &e);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_entry(req, &e);
	return true;
}

/* Should a lookup miss in p list p instead of asking for the one name?
 * With change reports and tree listings on, when p has no listing yet. */
static bool list_first(struct sbx_fs *fs, struct node *p)
{
	return fs->watching && fs->opts->tree_entries > 0 && S_ISDIR(p->attr.mode) &&
	       !fs_fresh_list(fs, p);
}

/* lookup's second half: the stat of the one name. */
static void lookup_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	struct fuse_entry_param e;
	struct node *p, *n;
	int r = l->q.rc;

	if (r == -ENOENT || r == -ENOTDIR) {
		pthread_mutex_lock(&fs->lock);
		p = node_get(&fs->nodes, l->parent);
		double t = p ? fs_neg_timeout(fs, p) : 0;

		if (p && r == -ENOENT && p->gen == l->pgen0)
			fs_neg_remember(fs, p, l->name);
		pthread_mutex_unlock(&fs->lock);
		fs_reply_negative(fs, l->req, t);
		return;
	}
	if (r < 0) {
		fuse_reply_err(l->req, fs_errno(r));
		return;
	}
	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, l->parent);
	n = p ? ops_child_with_attr(fs, p, l->name, &l->q.attr, 0, l->gen0) : NULL;
	if (n)
		fs_entry_of(fs, n, &e);
	pthread_mutex_unlock(&fs->lock);
	if (n)
		fuse_reply_entry(l->req, &e);
	else
		fuse_reply_err(l->req, p ? ENOMEM : ESTALE);
}

/* The rest of a lookup no cache answered: one stat. fs->lock held on
 * entry (p: the parent's node, NULL if gone), released. */
static void lookup_remote(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t parent, const char *name,
			  struct node *p)
{
	struct sbx_buf path = SBX_BUF_INIT;
	struct later *l;
	struct node *n;
	uint64_t gen0, pgen0;
	int r;

	r = p ? node_child_path(p, fs->root, name, &path) : -ESTALE;
	if (p)
		fs_watch_dir(fs, p); /* before the stat: no change is missed */
	n = p ? node_child(&fs->nodes, p, name) : NULL;
	gen0 = n ? n->gen : 0;
	pgen0 = p ? p->gen : 0;
	pthread_mutex_unlock(&fs->lock);
	FS_COUNT(fs, attr_miss);
	l = later_start(fs, req, r, SBX_RFS_OP_STAT, lookup_then, name, NULL);
	if (l) {
		l->parent = parent;
		l->gen0 = gen0;
		l->pgen0 = pgen0;
		l->q.path = path.data;
		later_submit(l);
	}
	sbx_buf_release(&path);
}

/* The parent was listed (or the listing failed: then the one name is
 * asked for). */
static void lookup_listed(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	struct node *p;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, l->parent);
	if (p && lookup_cached(fs, l->req, p, l->name))
		return;
	lookup_remote(fs, l->req, l->parent, l->name, p);
}

void ops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct sbx_fs *fs = fs_of(req);
	struct later *l;
	struct node *p;

	FS_COUNT_OP(fs, FS_LOOKUP);
	if (ctl_is(parent) || (parent == NODE_ROOT_ID && !strcmp(name, CTL_NAME))) {
		ctl_lookup(req, parent, name);
		return;
	}
	if (strlen(name) > NAME_MAX_LEN) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	if (p && lookup_cached(fs, req, p, name))
		return;
	if (p && list_first(fs, p)) {
		/* list the directory (its subtree) rather than stat one name:
		 * the lookups that follow (git status, make) need no round trip */
		pthread_mutex_unlock(&fs->lock);
		l = later_new(fs, req, SBX_RFS_OP_READDIR, NULL, name, NULL);
		if (!l) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		l->parent = parent;
		l->after = lookup_listed;
		ops_get_list_later(l, parent);
		return;
	}
	lookup_remote(fs, req, parent, name, p);
}

void ops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct sbx_fs *fs = fs_of(req);
	struct node *n;

	FS_COUNT_OP(fs, FS_FORGET);
	if (!ctl_is(ino)) {
		pthread_mutex_lock(&fs->lock);
		n = node_get(&fs->nodes, ino);
		if (n && n->nlookup <= nlookup)
			fcache_evict_locked(fs, n);
		if (n)
			node_forget(&fs->nodes, n, nlookup);
		pthread_mutex_unlock(&fs->lock);
		fcache_reap(fs);
	}
	fuse_reply_none(req);
}

void ops_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct sbx_fs *fs = fs_of(req);
	struct node *n;
	size_t i;

	pthread_mutex_lock(&fs->lock);
	for (i = 0; i < count; i++) {
		FS_COUNT_OP(fs, FS_FORGET);
		if (ctl_is(forgets[i].ino))
			continue;
		n = node_get(&fs->nodes, forgets[i].ino);
		if (n && n->nlookup <= forgets[i].nlookup)
			fcache_evict_locked(fs, n);
		if (n)
			node_forget(&fs->nodes, n, forgets[i].nlookup);
	}
	pthread_mutex_unlock(&fs->lock);
	fcache_reap(fs);
	fuse_reply_none(req);
}

/* Replies the node's attributes (fs->lock held; released). */
static void reply_attr_unlock(struct sbx_fs *fs, fuse_req_t req, struct node *n)
{
	struct stat st;
	double t = n->unstored ? 0 /* inode number to come */
		   : n->local  ? fs_node_attr_timeout(fs, n)
			       : fs_left(n->attr_expire);

	fs_stat_of(&n->attr, n->id, &st);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_attr(req, &st, t);
}

/* getattr's second half: the stat's reply. */
static void getattr_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	const struct sbx_rfs_attr *a = &l->q.attr;
	struct node *n;

	if (later_failed(l))
		return;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, l->ino);
	if (!n || (n->attr.mode & S_IFMT) != (a->mode & S_IFMT)) {
		/* another file took the name: the kernel must look it up again */
		if (n && n->id != NODE_ROOT_ID)
			node_detach(&fs->nodes, n);
		pthread_mutex_unlock(&fs->lock);
		fuse_reply_err(l->req, ESTALE);
		return;
	}
	/* when the node changed meanwhile through us, this keeps the newer
	 * truth and replies it */
	fs_node_set_attr(fs, n, a, l->gen0);
	reply_attr_unlock(fs, l->req, n);
}

void ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct later *l;
	struct node *n;
	uint64_t gen0;
	int r;

	(void)fi;
	FS_COUNT_OP(fs, FS_GETATTR);
	if (ctl_is(ino)) {
		ctl_getattr(req, ino);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	/* a detached node (unlinked, still open) has no path: its last
	 * attributes are the truth, like fstat of an unlinked local file */
	if (n && (fs_attr_fresh(fs, n) || (!n->parent && n->id != NODE_ROOT_ID))) {
		FS_COUNT(fs, attr_hit);
		reply_attr_unlock(fs, req, n);
		return;
	}
	r = n ? node_path(n, fs->root, &path) : -ESTALE;
	gen0 = n ? n->gen : 0;
	pthread_mutex_unlock(&fs->lock);
	FS_COUNT(fs, attr_miss);
	l = later_start(fs, req, r, SBX_RFS_OP_STAT, getattr_then, NULL, NULL);
	if (l) {
		l->ino = ino;
		l->gen0 = gen0;
		l->q.path = path.data;
		later_submit(l);
	}
	sbx_buf_release(&path);
}

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

/* setattr on an open file: the rest pending while the file has unstored
 * changes. A size goes to the sandbox when the file has none (its kernel
 * answers, e.g. EFBIG past its filesystem's largest file, and a truncate
 * to 1 GiB costs no upload), else it is applied locally and stored with
 * the rest. Returns 1 when nothing is left to do remotely. */
static int setattr_local(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_setattr *sa,
			 const struct sbx_rfs_cred *cred)
{
	int r = 0;

	if ((sa->valid & SBX_RFS_SET_SIZE) && fcache_forget_clean(fs, fc))
		return 0;
	if (sa->valid & SBX_RFS_SET_SIZE) {
		r = fcache_truncate(fs, fc, sa->size);
		if (r < 0)
			return r;
		sa->valid &= ~SBX_RFS_SET_SIZE;
	}
	if (!(sa->valid & ~SBX_RFS_SET_SIZE))
		return 1;
	return fcache_pend_attrs(fs, fc, sa, cred);
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

/* setattr's second half, for a file not open (no cache to release). */
static void setattr_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	struct node *n;

	if (later_failed(l))
		return;
	setattr_done(fs, l->ino, &l->q.attr, l->gen0);
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, l->ino);
	if (!n) {
		pthread_mutex_unlock(&fs->lock);
		fuse_reply_err(l->req, ESTALE);
		return;
	}
	reply_attr_unlock(fs, l->req, n);
}

void ops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct sbx_rfs_setattr sa;
	struct sbx_rfs_attr a;
	struct fcache *fc = NULL;
	struct later *l;
	struct node *n;
	uint64_t gen0 = 0;
	bool dir_times;
	int r;

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
	if (dattr_defer(fs, ino, &sa, cred)) {
		/* a directory made here: answered now, made behind (dattr.h) */
		pthread_mutex_lock(&fs->lock);
		n = node_get(&fs->nodes, ino);
		if (n)
			reply_attr_unlock(fs, req, n);
		else {
			pthread_mutex_unlock(&fs->lock);
			fuse_reply_err(req, ESTALE);
		}
		return;
	}
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
	r = n ? 0 : -ESTALE;
	if (!r && fc)
		r = setattr_local(fs, fc, &sa, cred);
	if (r == 0) {
		pthread_mutex_lock(&fs->lock);
		r = node_path(n, fs->root, &path);
		gen0 = ++n->gen;
		pthread_mutex_unlock(&fs->lock);
		r = r ?: fs_check_alive(fs);
		/* a file not open: answered later. An open one keeps its
		 * cache (so its store waits) until the sandbox answered, and
		 * the last release may store: that stays on this thread */
		l = r || fc ? NULL
			    : later_new(fs, req, SBX_RFS_OP_SETATTR, setattr_then, NULL, NULL);
		if (l) {
			l->ino = ino;
			l->gen0 = gen0;
			l->q.cred = cred;
			l->q.path = path.data;
			l->q.sa = &sa;
			later_submit(l);
			sbx_buf_release(&path);
			return;
		}
		r = r ?: sbx_rfs_setattr(fs->rfs, cred, path.data, &sa, &a, NULL);
		if (r == 0)
			setattr_done(fs, ino, &a, gen0);
	}
	if (fc)
		fcache_release(fs, fc);
	sbx_buf_release(&path);
	if (r < 0) {
		fuse_reply_err(req, fs_errno(r));
		return;
	}
	pthread_mutex_lock(&fs->lock);
	reply_attr_unlock(fs, req, n);
}

/* The target of symlink n known here, as a copy, or NULL: the one kept
 * with n, else the one its parent's listing brought (same file). A target
 * is valid while n's attributes are fresh: a symlink cannot be changed in
 * place, only replaced, which changes them. fs->lock held. */
static char *known_target(struct sbx_fs *fs, const struct node *n)
{
	const struct sbx_rfs_dirent *de;
	struct dirlist *l;

	if (!S_ISLNK(n->attr.mode) || !fs_attr_fresh(fs, n))
		return NULL;
	if (n->link && n->link_epoch == fs_epoch(fs))
		return strdup(n->link);
	l = n->parent ? fs_fresh_list(fs, n->parent) : NULL;
	de = l ? dirlist_find(l, n->name) : NULL;
	if (de && de->link && fs_same_inode_version(&de->attr, &n->attr))
		return strdup(de->link);
	return NULL;
}

/* Keeps the target read for the version of the symlink the request saw
 * (l->seen: its ino and ctime then), unless the node changed since. */
static void readlink_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	struct node *n;
	char *keep;

	if (later_failed(l))
		return;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, l->ino);
	if (n && l->ep == fs_epoch(fs) && n->gen == l->gen0 && S_ISLNK(n->attr.mode) &&
	    fs_same_inode_version(&n->attr, &l->seen) && (keep = strdup(l->q.link))) {
		free(n->link);
		n->link = keep;
		n->link_epoch = l->ep;
	}
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_readlink(l->req, l->q.link);
}

void ops_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct later *l;
	struct node *n;
	struct sbx_rfs_attr seen = {0};
	uint64_t gen0 = 0, epoch0 = 0;
	char *target = NULL;
	int r;

	FS_COUNT_OP(fs, FS_READLINK);
	if (ctl_is(ino)) {
		ctl_readlink(req, ino);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, ino);
	if (n) {
		target = known_target(fs, n);
		seen = n->attr;
		gen0 = n->gen;
		epoch0 = fs_epoch(fs);
	}
	r = n ? node_path(n, fs->root, &path) : -ESTALE;
	pthread_mutex_unlock(&fs->lock);
	if (target) {
		FS_COUNT(fs, link_hit);
		fuse_reply_readlink(req, target);
		free(target);
		sbx_buf_release(&path);
		return;
	}
	l = later_start(fs, req, r, SBX_RFS_OP_READLINK, readlink_then, NULL, NULL);
	if (l) {
		l->ino = ino;
		l->gen0 = gen0;
		l->ep = epoch0;
		l->seen = seen;
		l->q.path = path.data;
		later_submit(l);
	}
	sbx_buf_release(&path);
}

/* What moves the free space as far as the mount can tell: its stores and
 * the changes the agent reports (ours included). */
static uint64_t usage_seq(struct sbx_fs *fs)
{
	return __atomic_load_n(&fs->stats.stores, __ATOMIC_RELAXED) +
	       __atomic_load_n(&fs->stats.changes, __ATOMIC_RELAXED);
}

/* statfs is cached: grep -r and find ask on every walk. Without change
 * reports for attr_timeout; with them until a store or a report (any
 * change in a watched directory may move the free space), at most
 * watch_timeout: so a warm grep -r asks nothing, and `df` lags only
 * changes made outside the directories the mount watches. */
static void statfs_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;

	if (later_failed(l))
		return;
	pthread_mutex_lock(&fs->lock);
	fs->statfs = l->q.vfs;
	fs->statfs_expire =
	    fs_expiry(fs->watching ? fs->opts->watch_timeout : fs->opts->attr_timeout);
	fs->statfs_epoch = l->ep;
	fs->statfs_usage = l->seq0; /* as of before the request: a change meanwhile drops it */
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_statfs(l->req, &l->q.vfs);
}

void ops_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct sbx_fs *fs = fs_of(req);
	uint64_t usage = usage_seq(fs), ep = fs_epoch(fs);
	struct statvfs st;
	struct later *l;
	int r;

	(void)ino;
	FS_COUNT_OP(fs, FS_STATFS);
	pthread_mutex_lock(&fs->lock);
	r = fs->statfs_expire > sbx_now_ms() && fs->statfs_epoch == ep && fs->statfs_usage == usage;
	st = fs->statfs;
	pthread_mutex_unlock(&fs->lock);
	if (r && fs_check_alive(fs) == 0) {
		fuse_reply_statfs(req, &st);
		return;
	}
	l = later_start(fs, req, 0, SBX_RFS_OP_STATFS, statfs_then, NULL, NULL);
	if (l) {
		l->ep = ep;
		l->seq0 = usage;
		l->q.path = fs->root[0] ? fs->root : "/";
		later_submit(l);
	}
}
