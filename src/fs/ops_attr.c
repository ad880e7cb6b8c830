/* ops_attr.c - FUSE handlers for names and attributes: lookup, forget,
 * getattr, readlink, statfs (setattr: ops_setattr.c).
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

void ops_reply_attr_unlock(struct sbx_fs *fs, fuse_req_t req, struct node *n)
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
	ops_reply_attr_unlock(fs, l->req, n);
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
		ops_reply_attr_unlock(fs, req, n);
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
