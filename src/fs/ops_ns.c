/* ops_ns.c - FUSE handlers that change the namespace: mkdir, mknod,
 * unlink, rmdir, rename, link, symlink.
 *
 * Each is one remote operation (which also returns the new attributes
 * where there are any), then the same change in the node table: the
 * parents' listings and attributes are dropped, a removed or replaced node
 * is detached (the kernel forgets it later), a renamed node moves (its
 * children's paths follow, since paths are built from the tree).
 *
 * Every change acts with the caller's credential (cred.h), so the
 * sandbox's kernel applies its own ownership and sticky-directory rules.
 */
#include "fs/ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/cred.h"
#include "fs/ctl/ctl.h"
#include "fs/dattr.h"
#include "fs/dirlist.h"
#include "fs/fcache.h"
#include "fs/later.h"
#include "fs/wback.h"

#define NAME_MAX_LEN 255

/* Common refusals of a change under parent/name: 0 or a positive errno. */
static int refuse(struct sbx_fs *fs, fuse_ino_t parent, const char *name)
{
	if (ctl_is(parent) || (parent == NODE_ROOT_ID && name && !strcmp(name, CTL_NAME)))
		return EPERM;
	if (fs->opts->ro)
		return EROFS;
	if (name && strlen(name) > NAME_MAX_LEN)
		return ENAMETOOLONG;
	if (fs_check_alive(fs) < 0)
		return ENOTCONN;
	return 0;
}

/* A directory we just made is listed empty for dir_cache_timeout only:
 * its watch starts after the mkdir, so the sandbox may have put names
 * into it in between. One listing made after the watch settles that (a
 * tree listing: the agent watches each directory before it reads it),
 * sent behind the reply, waited for by nothing: when it holds no name
 * our listing lacks (ours has every name made through the mount since),
 * nothing came in between, and ours lives as long as a watched
 * directory's. Otherwise it expires as before. Without this, creates in a
 * directory made by tar x or cp -a longer ago than dir_cache_timeout
 * needed a listing, which could not be kept while the directory's stores
 * kept landing: each such create waited for three round trips. */
#define NEW_DIR_ENTRIES 64

static void new_dir_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	const struct sbx_rfs_tree *t = &l->q.tree;
	bool none_new = l->q.rc == 0 && t->n > 0;
	struct dirlist *own;
	struct node *n;
	size_t i;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, l->ino);
	own = n && n->watched && l->ep == fs_epoch(fs) ? fs_fresh_list(fs, n) : NULL;
	for (i = 0; own && none_new && i < t->dirs[0].dir.n; i++)
		none_new = dirlist_find(own, t->dirs[0].dir.ents[i].name) != NULL;
	if (own && none_new)
		own->expire = fs_expiry(fs_list_timeout(fs, n));
	pthread_mutex_unlock(&fs->lock);
}

static void check_new_dir(struct sbx_fs *fs, uint64_t id)
{
	struct sbx_buf path = SBX_BUF_INIT;
	struct later *l = later_new(fs, NULL, SBX_RFS_OP_READDIR, new_dir_then, NULL, NULL);

	if (!l || fs_path(fs, id, &path) < 0) {
		later_drop(l);
		sbx_buf_release(&path);
		return;
	}
	l->ino = id;
	l->ep = fs_epoch(fs);
	l->q.path = path.data;
	l->q.max_entries = NEW_DIR_ENTRIES;
	FS_COUNT(fs, dir_checked);
	later_submit(l);
	sbx_buf_release(&path);
}

/* Replies an entry for a new name with attributes a (and a symlink target
 * to remember); pa: the parent's attributes after it, when the reply
 * brought them (mode 0: not known, the parent's are stale now). */
static void reply_new(struct sbx_fs *fs, fuse_req_t req, fuse_ino_t parent, const char *name,
		      const struct sbx_rfs_attr *a, const char *link, const struct sbx_rfs_attr *pa)
{
	struct fuse_entry_param e;
	struct node *p, *n = NULL;
	bool check = false, learn = false;
	uint64_t id = 0;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	if (p) {
		fs_dir_entry_set(fs, p, name, a, link);
		/* with default_permissions the kernel checks the next create
		 * in p against p's attributes, which it dropped: kept fresh,
		 * that costs no round trip */
		if (pa && S_ISDIR(pa->mode) && S_ISDIR(p->attr.mode))
			fs_node_set_attr(fs, p, pa, p->gen);
		n = node_child(&fs->nodes, p, name);
		n = ops_child_with_attr(fs, p, name, a, 0, n ? n->gen : 0);
	}
	if (n && S_ISDIR(a->mode)) {
		n->made_dir = true; /* its owner, mode and times may go behind */
		learn = fs->watching && !ops_xattr_new_dir_locked(fs, p, n);
	}
	/* we just made it: it is empty, lookups in it need no round trip. The
	 * watch starts only now, so what the sandbox may have put there since
	 * is seen when this short-lived listing expires, unless a listing
	 * after the watch says nothing came (check_new_dir) */
	if (n && S_ISDIR(a->mode) && !n->list && fs->opts->dir_cache_timeout > 0) {
		n->list =
		    dirlist_new_empty(a, fs_expiry(fs->opts->dir_cache_timeout), fs_epoch(fs));
		check = n->list && fs->watching && !n->watched;
	}
	if (n && S_ISDIR(a->mode))
		fs_watch_dir(fs, n);
	check = check && n->watched;
	id = n ? n->id : 0;
	if (n && S_ISREG(a->mode) && a->nlink == 1)
		fs_nocap_set_locked(fs, n); /* a new file has none */
	if (n && link) {
		free(n->link);
		n->link = strdup(link);
		n->link_epoch = fs_epoch(fs);
	}
	if (n)
		fs_entry_of(fs, n, &e);
	pthread_mutex_unlock(&fs->lock);
	if (n)
		fuse_reply_entry(req, &e);
	else
		fuse_reply_err(req, p ? ENOMEM : ESTALE);
	if (check)
		check_new_dir(fs, id);
	if (learn)
		ops_xattr_learn(fs, id);
}

/* The second half of mkdir, mknod, symlink and link: the new name. */
static void new_then(struct later *l)
{
	if (!later_failed(l))
		reply_new(l->fs, l->req, l->parent, l->name, &l->q.attr, l->link, &l->q.parent_attr);
}

/* Sends a request that makes parent/name (op's other fields set by the
 * caller in *l), or replies the error that stops it. l: NULL on ENOMEM. */
static void make_name(struct later *l, fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	int r = l ? fs_child_path(fs, parent, name, &path) : -ENOMEM;

	if (r < 0) {
		fuse_reply_err(req, fs_errno(r));
		later_drop(l);
		return;
	}
	dattr_settle(fs, parent);
	l->parent = parent;
	l->q.cred = fs_cred_of(req, fs->uid, &cb);
	l->q.path = path.data;
	later_naming(l);
	later_submit(l);
	sbx_buf_release(&path);
}

void ops_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct sbx_fs *fs = fs_of(req);
	struct later *l;
	int r;

	FS_COUNT_OP(fs, FS_MKDIR);
	r = refuse(fs, parent, name);
	if (r) {
		fuse_reply_err(req, r);
		return;
	}
	l = later_new(fs, req, SBX_RFS_OP_MKDIR, new_then, name, NULL);
	if (l)
		l->q.mode = mode & 07777;
	make_name(l, req, parent, name);
}

void ops_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct sbx_fs *fs = fs_of(req);
	struct later *l;
	int r;

	FS_COUNT_OP(fs, FS_MKNOD);
	r = refuse(fs, parent, name);
	if (r) {
		fuse_reply_err(req, r);
		return;
	}
	/* sockets and devices with the agent (the sandbox kernel decides);
	 * without it files and FIFOs only (EPERM) */
	l = later_new(fs, req, SBX_RFS_OP_CREATE, new_then, name, NULL);
	if (l) {
		l->q.mode = (mode & S_IFMT) | (mode & 07777);
		l->q.rdev = (uint64_t)rdev;
	}
	make_name(l, req, parent, name);
}

/* Where the attributes of directory parent stand in the agent's stream. */
static uint64_t dir_seq(struct sbx_fs *fs, fuse_ino_t parent)
{
	struct node *p;
	uint64_t seq;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	seq = p ? p->attr.seq : 0;
	pthread_mutex_unlock(&fs->lock);
	return seq;
}

/* The node table side of a removal: detach parent/name. here: the name
 * was only in the mount (never stored), the sandbox's directory is as it
 * was. pseq0: dir_seq() before the request; when a report of the agent
 * refreshed parent's attributes since, they are kept (the report of our
 * removal follows: watched directories report their own attributes after
 * a name went, see agent/watch.c), else they are stale. */
static void removed(struct sbx_fs *fs, fuse_ino_t parent, const char *name, bool here,
		    uint64_t pseq0)
{
	struct fs_ids sib = {.n = 0};
	struct node *p, *n;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	n = p ? node_child(&fs->nodes, p, name) : NULL;
	if (p && (here || (fs->watching && p->watched && p->attr.seq != pseq0)))
		fs_dir_entry_del_keep(fs, p, name);
	else if (p)
		fs_dir_entry_del(fs, p, name);
	if (n) {
		fs_siblings_stale(fs, n, &sib);
		n->gen++;
		n->attr_expire = 0;
		if (n->attr.nlink > 0)
			n->attr.nlink--;
		fcache_evict_locked(fs, n);
		node_detach(&fs->nodes, n);
	}
	pthread_mutex_unlock(&fs->lock);
	fcache_reap(fs);
	fs_notify_attrs(fs, &sib);
}

/* A file created here but not yet stored must exist in the sandbox
 * before an operation reaches it there by name (fcache_settle). */
static uint64_t unstored_id(struct sbx_fs *fs, fuse_ino_t parent, const char *name)
{
	struct node *p, *n;
	uint64_t id = 0;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	n = p ? node_child(&fs->nodes, p, name) : NULL;
	if (n && n->unstored)
		id = n->id;
	pthread_mutex_unlock(&fs->lock);
	return id;
}

static int settle_name(struct sbx_fs *fs, fuse_ino_t parent, const char *name)
{
	uint64_t id = unstored_id(fs, parent, name);

	return id ? fcache_settle(fs, id) : 0;
}

/* Before rmdir, or a rename of a directory: the stores queued at closes
 * (wback.h) name paths below it, so they land first; else a store would
 * follow the rename to the old path, or an rmdir would remove a directory
 * whose files are still on their way. Nothing to wait for when the name
 * is not a directory's. */
static void settle_below(struct sbx_fs *fs, fuse_ino_t parent, const char *name)
{
	struct node *p, *n;
	bool dir;

	if (!fs->wb)
		return;
	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	n = p ? node_child(&fs->nodes, p, name) : NULL;
	dir = n && S_ISDIR(n->attr.mode);
	pthread_mutex_unlock(&fs->lock);
	if (dir)
		wback_drain(fs->wb);
}

static void remove_then(struct later *l)
{
	if (l->q.rc == 0)
		removed(l->fs, l->parent, l->name, false, l->seq0);
	fuse_reply_err(l->req, fs_errno(l->q.rc));
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct later *l = NULL;
	int r;

	FS_COUNT_OP(fs, dir ? FS_RMDIR : FS_UNLINK);
	r = refuse(fs, parent, name);
	if (r) {
		fuse_reply_err(req, r);
		return;
	}
	if (!dir && !cred && fcache_drop_unstored(fs, unstored_id(fs, parent, name))) {
		/* never in the sandbox: a lock file given up (git), a temporary */
		removed(fs, parent, name, true, 0);
		fuse_reply_err(req, 0);
		return;
	}
	if (dir)
		settle_below(fs, parent, name);
	dattr_settle(fs, parent);
	r = (dir ? 0 : settle_name(fs, parent, name)) ?: fs_child_path(fs, parent, name, &path);
	l = later_start(fs, req, r, dir ? SBX_RFS_OP_RMDIR : SBX_RFS_OP_UNLINK, remove_then,
			name, NULL);
	if (l) {
		l->parent = parent;
		l->seq0 = dir_seq(fs, parent);
		l->q.cred = cred;
		l->q.path = path.data;
		later_submit(l);
	}
	sbx_buf_release(&path);
}

void ops_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, false);
}

void ops_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, true);
}

/* The replaced target t of a rename goes (fs->lock held): its other names
 * (hard links) lost a link, so their attributes are stale at once. */
static void replaced(struct sbx_fs *fs, struct node *t, struct fs_ids *sib)
{
	fs_siblings_stale(fs, t, sib);
	t->gen++;
	t->attr_expire = 0;
	fcache_evict_locked(fs, t);
	node_detach(&fs->nodes, t);
}

/* RENAME_EXCHANGE: n and t trade places; both stay the same inodes (the
 * kernel swapped its dentries too). fs->lock held. */
static int exchanged(struct sbx_fs *fs, struct node *p, const char *name, struct node *np,
		     const char *newname, struct node *n, struct node *t)
{
	int r = 0;

	fs_dir_changed(fs, p);
	fs_dir_changed(fs, np);
	if (n) {
		n->gen++;
		n->attr_expire = n->local ? n->attr_expire : 0; /* ctime changed */
		r = node_move(&fs->nodes, n, np, newname);
		if (r < 0)
			node_detach(&fs->nodes, n);
	}
	if (t) {
		t->gen++;
		t->attr_expire = t->local ? t->attr_expire : 0;
		if (node_move(&fs->nodes, t, p, name) < 0) {
			node_detach(&fs->nodes, t);
			r = -ENOMEM;
		}
	}
	if (n && S_ISDIR(n->attr.mode))
		fs_unwatch_subtree(fs, n);
	if (t && S_ISDIR(t->attr.mode))
		fs_unwatch_subtree(fs, t);
	return r;
}

/* The node table side of a rename; moved: the moved entry's attributes
 * after it, from the sandbox (mode 0: not known). */
static int renamed(struct sbx_fs *fs, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		   const char *newname, bool exchange, const struct sbx_rfs_attr *moved)
{
	struct fs_ids sib = {.n = 0};
	struct node *p, *np, *n, *t;
	bool known = false;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, parent);
	np = node_get(&fs->nodes, newparent);
	n = p ? node_child(&fs->nodes, p, name) : NULL;
	t = np ? node_child(&fs->nodes, np, newname) : NULL;
	if (exchange && p && np) {
		r = exchanged(fs, p, name, np, newname, n, t);
		goto out;
	}
	if (p)
		fs_dir_entry_del(fs, p, name);
	/* the sandbox's word on the moved file: it stays fresh (its ctime
	 * moved), and so does the listing it moves into, whatever a report
	 * of the rename, handled first, made of it */
	known = n && moved->mode && (moved->mode & S_IFMT) == (n->attr.mode & S_IFMT) &&
		(!n->attr.ino || moved->ino == n->attr.ino);
	if (known) {
		n->gen++;
		fs_node_set_attr(fs, n, moved, n->gen);
	}
	if (np && n && fs_attr_fresh(fs, n))
		fs_dir_entry_set(fs, np, newname, &n->attr, n->link);
	else if (np)
		fs_dir_changed(fs, np);
	if (t && t != n)
		replaced(fs, t, &sib);
	if (n && np && t != n) {
		n->gen++;
		if (!n->local && !known)
			n->attr_expire = 0; /* ctime changed */
		r = node_move(&fs->nodes, n, np, newname);
		if (r < 0)
			node_detach(&fs->nodes, n);
		else if (S_ISDIR(n->attr.mode))
			fs_unwatch_subtree(fs, n);
	}
out:
	pthread_mutex_unlock(&fs->lock);
	fcache_reap(fs);
	fs_notify_attrs(fs, &sib);
	return r;
}

static void rename_then(struct later *l)
{
	int r = l->q.rc;

	if (r == 0)
		renamed(l->fs, l->parent, l->name, l->newparent, l->newname,
			l->q.flags & SBX_RFS_EXCHANGE, &l->q.attr);
	fuse_reply_err(l->req, fs_errno(r));
}

void ops_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf from = SBX_BUF_INIT, to = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct later *l = NULL;
	unsigned rf = 0;
	int r;

	FS_COUNT_OP(fs, FS_RENAME);
	r = refuse(fs, parent, name) ?: refuse(fs, newparent, newname);
	if (!r && (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)))
		r = EINVAL; /* whiteouts are overlayfs's, not ours */
	if (r) {
		fuse_reply_err(req, r);
		return;
	}
	rf |= (flags & RENAME_NOREPLACE) ? SBX_RFS_NOREPLACE : 0;
	rf |= (flags & RENAME_EXCHANGE) ? SBX_RFS_EXCHANGE : 0; /* the shell's: EINVAL */
	settle_below(fs, parent, name);
	if (flags & RENAME_EXCHANGE)
		settle_below(fs, newparent, newname);
	dattr_settle(fs, parent);
	dattr_settle(fs, newparent);
	/* the target too: a store of it still on its way would land after the
	 * rename and undo it */
	r = settle_name(fs, parent, name) ?: settle_name(fs, newparent, newname)
		?: fs_child_path(fs, parent, name, &from)
		?: fs_child_path(fs, newparent, newname, &to);
	l = later_start(fs, req, r, SBX_RFS_OP_RENAME, rename_then, name, newname);
	if (l) {
		l->parent = parent;
		l->newparent = newparent;
		l->q.cred = cred;
		l->q.from = from.data;
		l->q.path = to.data;
		l->q.flags = rf;
		later_submit(l);
	}
	sbx_buf_release(&from);
	sbx_buf_release(&to);
}

static void link_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	struct fs_ids sib = {.n = 0};
	struct node *n;

	if (later_failed(l))
		return;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, l->ino);
	if (n) {
		n->gen++;
		fs_node_set_attr(fs, n, &l->q.attr, n->gen); /* nlink went up */
		if (n->parent) /* the new name is in newparent, not here */
			fs_dir_entry_set_keep(fs, n->parent, n->name, &l->q.attr, n->link);
		fs_siblings_stale(fs, n, &sib);
	}
	if (sib.n < FS_IDS_MAX)
		sib.id[sib.n++] = l->ino; /* the kernel's copy says nlink 1 */
	pthread_mutex_unlock(&fs->lock);
	fs_notify_attrs(fs, &sib);
	reply_new(fs, l->req, l->parent, l->name, &l->q.attr, NULL, NULL);
}

void ops_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct sbx_fs *fs = fs_of(req);
	struct sbx_buf from = SBX_BUF_INIT, to = SBX_BUF_INIT;
	struct sbx_rfs_cred cb;
	const struct sbx_rfs_cred *cred = fs_cred_of(req, fs->uid, &cb);
	struct later *l = NULL;
	int r;

	FS_COUNT_OP(fs, FS_LINK);
	r = ctl_is(ino) ? EPERM : refuse(fs, newparent, newname);
	if (r) {
		fuse_reply_err(req, r);
		return;
	}
	dattr_settle(fs, newparent);
	r = fcache_settle(fs, ino) ?: fs_path(fs, ino, &from)
		?: fs_child_path(fs, newparent, newname, &to);
	l = later_start(fs, req, r, SBX_RFS_OP_LINK, link_then, newname, NULL);
	if (l) {
		l->ino = ino;
		l->parent = newparent;
		l->q.cred = cred;
		l->q.from = from.data;
		l->q.path = to.data;
		later_submit(l);
	}
	sbx_buf_release(&from);
	sbx_buf_release(&to);
}

void ops_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct sbx_fs *fs = fs_of(req);
	struct later *l;
	int r;

	FS_COUNT_OP(fs, FS_SYMLINK);
	r = refuse(fs, parent, name);
	if (r) {
		fuse_reply_err(req, r);
		return;
	}
	l = later_new(fs, req, SBX_RFS_OP_SYMLINK, new_then, name, NULL);
	if (l && !(l->link = strdup(link))) {
		later_drop(l);
		l = NULL;
	}
	if (l)
		l->q.from = l->link;
	make_name(l, req, parent, name);
}
