/* fs.c - helpers shared by the handlers: errno mapping, attribute and
 * entry replies, cache freshness, negative entries, whole-cache drops and
 * the flush of every dirty file. See fs.h for the locking rules.
 */
#include "fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/dirlist.h"
#include "fs/fcache.h"
#include "fs/wback.h"
#include "util/log.h"
#include "util/timeutil.h"

static bool watched(const struct sbx_fs *fs, const struct node *dir)
{
	return fs->watching && dir && dir->watched;
}

double fs_attr_timeout(struct sbx_fs *fs, const struct node *dir)
{
	return watched(fs, dir) ? fs->opts->watch_timeout : fs->opts->attr_timeout;
}

double fs_node_attr_timeout(struct sbx_fs *fs, const struct node *n)
{
	if (S_ISDIR(n->attr.mode) && watched(fs, n))
		return fs->opts->watch_timeout; /* it reports changes to itself */
	return fs_attr_timeout(fs, n->parent);
}

double fs_entry_timeout(struct sbx_fs *fs, const struct node *dir)
{
	return watched(fs, dir) ? fs->opts->watch_timeout : fs->opts->entry_timeout;
}

double fs_list_timeout(struct sbx_fs *fs, const struct node *dir)
{
	return watched(fs, dir) ? fs->opts->watch_timeout : fs->opts->dir_cache_timeout;
}

double fs_neg_timeout(struct sbx_fs *fs, const struct node *dir)
{
	return watched(fs, dir) ? fs->opts->watch_timeout : fs->opts->negative_timeout;
}

void fs_watch_dir(struct sbx_fs *fs, struct node *dir)
{
	struct sbx_buf p = SBX_BUF_INIT;

	if (!fs->watching || dir->watched || !S_ISDIR(dir->attr.mode))
		return;
	if (node_path(dir, fs->root, &p) == 0 && sbx_rfs_watch(fs->rfs, p.data, NULL) == 0)
		dir->watched = true;
	sbx_buf_release(&p);
}

static bool below(const struct node *n, const struct node *top)
{
	for (; n; n = n->parent)
		if (n == top)
			return true;
	return false;
}

static void unwatch_one(struct node *n, void *ud)
{
	if (n->watched && below(n, ud))
		n->watched = false;
}

void fs_unwatch_subtree(struct sbx_fs *fs, struct node *dir)
{
	node_foreach(&fs->nodes, unwatch_one, dir);
}

int fs_errno(int rc)
{
	if (rc >= 0)
		return 0;
	if (!sbx_rfs_is_transport_error(rc))
		return -rc;
	switch (rc) {
	case -SBX_ETIMEDOUT:
	case -SBX_EPROTO:
	case -EBADMSG: return EIO;
	default: return ENOTCONN;
	}
}

int64_t fs_now(void)
{
	return sbx_now_ms();
}

int64_t fs_expiry(double timeout)
{
	return timeout > 0 ? sbx_now_ms() + (int64_t)(timeout * 1000) : 0;
}

double fs_left(int64_t expire)
{
	int64_t left = expire - sbx_now_ms();

	return left > 0 ? (double)left / 1000 : 0;
}

void fs_stat_of(const struct sbx_rfs_attr *a, uint64_t id, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	/* the remote inode, with the low bits of its device on top, so that
	 * names of one file agree (hard links) and devices do not collide */
	st->st_ino = (ino_t)(a->ino ^ ((a->dev & 0xffff) << 48));
	if (!st->st_ino)
		st->st_ino = (ino_t)id;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = 4096;
	st->st_atim = a->atime;
	st->st_mtim = a->mtime;
	st->st_ctim = a->ctime;
}

bool fs_attr_fresh(struct sbx_fs *fs, const struct node *n)
{
	uint64_t ep = fs_epoch(fs);

	if ((n->local && n->local_dirty) || n->attrs_behind)
		return true;
	if (n->attr_epoch != ep || !n->attr_expire)
		return false;
	return n->local || n->attr_expire > fs_now();
}

void fs_attr_keep_behind(const struct node *n, struct sbx_rfs_attr *v)
{
	if (!n->attrs_behind)
		return;
	v->mode = (v->mode & S_IFMT) | (n->attr.mode & 07777);
	v->uid = n->attr.uid;
	v->gid = n->attr.gid;
	v->atime = n->attr.atime;
	v->mtime = n->attr.mtime;
	v->ctime = n->attr.ctime;
}

void fs_node_set_attr(struct sbx_fs *fs, struct node *n, const struct sbx_rfs_attr *a,
		      uint64_t gen0)
{
	struct sbx_rfs_attr v = *a;

	if (n->gen != gen0)
		return; /* we changed it meanwhile: this answer may predate that */
	if (a->seq && n->attr.seq > a->seq)
		return; /* a change event newer than this answer came first */
	if (n->local && n->local_dirty) {
		v.size = n->attr.size;
		v.blocks = n->attr.blocks;
		v.mtime = n->attr.mtime;
		v.ctime = n->attr.ctime;
		v.mode = (v.mode & S_IFMT) | (n->attr.mode & 07777);
		v.uid = n->attr.uid;
		v.gid = n->attr.gid;
	}
	fs_attr_keep_behind(n, &v);
	if (n->link && !fs_same_inode_version(&v, &n->attr)) {
		free(n->link); /* another file, or another version of it */
		n->link = NULL;
	}
	n->attr = v;
	n->attr_expire = fs_expiry(fs_node_attr_timeout(fs, n));
	if (!n->attr_expire)
		n->attr_expire = 1; /* valid, but already expired for the kernel */
	n->attr_epoch = fs_epoch(fs);
}

void fs_dir_changed(struct sbx_fs *fs, struct node *dir)
{
	fs->dir_changes++;
	dirlist_unref(dir->list);
	dir->list = NULL;
	dir->gen++;
	dir->attr_expire = 0;
}

/* The node's own listing when it may be changed in place, else NULL (and
 * then any listing is dropped). remote: the change was made in the
 * sandbox, so dir's mtime and link count moved there. */
static struct dirlist *own_list(struct sbx_fs *fs, struct node *dir, bool remote)
{
	struct dirlist *l = fs_fresh_list(fs, dir);

	fs->dir_changes++;
	dir->gen++;
	if (remote)
		dir->attr_expire = 0;
	if (l && l->refs == 1)
		return l;
	dirlist_unref(dir->list);
	dir->list = NULL;
	return NULL;
}

static void entry_set(struct sbx_fs *fs, struct node *dir, const char *name,
		      const struct sbx_rfs_attr *a, const char *link, bool remote)
{
	struct dirlist *l = own_list(fs, dir, remote);

	if (l && dirlist_set(l, name, a, link) < 0) {
		dirlist_unref(dir->list);
		dir->list = NULL;
	}
}

static void entry_del(struct sbx_fs *fs, struct node *dir, const char *name, bool remote)
{
	struct dirlist *l = own_list(fs, dir, remote);

	if (l)
		dirlist_del(l, name);
}

void fs_dir_entry_set(struct sbx_fs *fs, struct node *dir, const char *name,
		      const struct sbx_rfs_attr *a, const char *link)
{
	entry_set(fs, dir, name, a, link, true);
}

void fs_dir_entry_del(struct sbx_fs *fs, struct node *dir, const char *name)
{
	entry_del(fs, dir, name, true);
}

void fs_dir_entry_set_keep(struct sbx_fs *fs, struct node *dir, const char *name,
			   const struct sbx_rfs_attr *a, const char *link)
{
	entry_set(fs, dir, name, a, link, false);
}

void fs_dir_entry_del_keep(struct sbx_fs *fs, struct node *dir, const char *name)
{
	entry_del(fs, dir, name, false);
}

struct sib_ctx {
	struct sbx_fs *fs;
	const struct sbx_rfs_attr *a; /* the file's */
	const struct node *self;      /* the name not to count, and its node */
	const struct node *dir;
	const char *name;
	struct fs_ids *ids;
};

/* Whether listing l has another name of the file a (skip: a name not to
 * count, the node's own). */
static bool list_names(const struct dirlist *l, const struct sbx_rfs_attr *a, const char *skip)
{
	size_t i;

	for (i = 0; i < l->d.n; i++) {
		const struct sbx_rfs_dirent *e = &l->d.ents[i];

		if (e->attr.ino == a->ino && e->attr.dev == a->dev && !S_ISDIR(e->attr.mode) &&
		    !(skip && !strcmp(e->name, skip)))
			return true;
	}
	return false;
}

static void find_sibling(struct node *n, void *ud)
{
	struct sib_ctx *c = ud;
	const struct sbx_rfs_attr *a = c->a;

	if (n != c->self && n->attr.ino == a->ino && n->attr.dev == a->dev &&
	    !S_ISDIR(n->attr.mode) && c->ids->n < FS_IDS_MAX) {
		n->attr_expire = 0;
		c->ids->id[c->ids->n++] = n->id;
	}
	/* a listing's entries give the kernel attributes too (readdirplus,
	 * lookups it answers): one that names the file shows the old link
	 * count, and the listing is asked for again */
	if (n->list && list_names(n->list, a, n == c->dir ? c->name : NULL))
		fs_dir_changed(c->fs, n);
}

/* The names of the file a but self (the node of dir/name, if any). */
static void others_stale(struct sbx_fs *fs, const struct sbx_rfs_attr *a, const struct node *self,
			 const struct node *dir, const char *name, struct fs_ids *ids)
{
	struct sib_ctx c = {fs, a, self, dir, name, ids};

	if (a->nlink > 1 && !S_ISDIR(a->mode))
		node_foreach(&fs->nodes, find_sibling, &c);
}

void fs_siblings_stale(struct sbx_fs *fs, const struct node *n, struct fs_ids *ids)
{
	others_stale(fs, &n->attr, n, n->parent, n->name, ids);
}

void fs_names_stale(struct sbx_fs *fs, const struct sbx_rfs_attr *a, const struct node *dir,
		    const char *name, struct fs_ids *ids)
{
	others_stale(fs, a, node_child(&fs->nodes, dir, name), dir, name, ids);
}

void fs_notify_attrs(struct sbx_fs *fs, const struct fs_ids *ids)
{
	size_t i;

	for (i = 0; fs->se && i < ids->n; i++)
		fuse_lowlevel_notify_inval_inode(fs->se, ids->id[i], -1, 0);
}

void fs_entry_of(struct sbx_fs *fs, struct node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = n->id;
	e->generation = 0;
	fs_stat_of(&n->attr, n->id, &e->attr);
	e->attr_timeout = n->local ? fs_node_attr_timeout(fs, n) : fs_left(n->attr_expire);
	if (n->unstored)
		e->attr_timeout = 0; /* its inode number comes with the store */
	e->entry_timeout = fs_entry_timeout(fs, n->parent);
	n->nlookup++;
}

void fs_reply_negative(struct sbx_fs *fs, fuse_req_t req, double t)
{
	struct fuse_entry_param e;

	if (t <= 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.entry_timeout = t;
	fuse_reply_entry(req, &e);
}

void fs_neg_remember(struct sbx_fs *fs, const struct node *parent, const char *name)
{
	double t = fs_list_timeout(fs, parent) > fs_neg_timeout(fs, parent)
		       ? fs_list_timeout(fs, parent)
		       : fs_neg_timeout(fs, parent);
	struct neg_entry *ne;
	char *copy;

	if (t <= 0 || !(copy = strdup(name)))
		return;
	ne = &fs->negs[fs->neg_next++ % FS_NEG_MAX];
	free(ne->name);
	ne->parent = parent->id;
	ne->name = copy;
	ne->expire = fs_expiry(t);
	ne->parent_gen = parent->gen;
	ne->epoch = fs_epoch(fs);
}

bool fs_neg_known(struct sbx_fs *fs, const struct node *parent, const char *name)
{
	int64_t now = fs_now();
	uint64_t ep = fs_epoch(fs);
	size_t i;

	if (fs_list_timeout(fs, parent) <= 0)
		return false;
	for (i = 0; i < FS_NEG_MAX; i++) {
		const struct neg_entry *ne = &fs->negs[i];

		if (ne->parent == parent->id && ne->name && ne->parent_gen == parent->gen &&
		    ne->epoch == ep && ne->expire > now && !strcmp(ne->name, name))
			return true;
	}
	return false;
}

static void handle_unlink_locked(struct fs_handle **list, struct fs_handle *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		*list = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
}

void fs_handle_link(struct sbx_fs *fs, struct fs_handle **list, struct fs_handle *h)
{
	pthread_mutex_lock(&fs->lock);
	h->prev = NULL;
	h->next = *list;
	if (*list)
		(*list)->prev = h;
	*list = h;
	pthread_mutex_unlock(&fs->lock);
}

void fs_handle_unlink(struct sbx_fs *fs, struct fs_handle **list, struct fs_handle *h)
{
	pthread_mutex_lock(&fs->lock);
	handle_unlink_locked(list, h);
	pthread_mutex_unlock(&fs->lock);
}

struct fs_handle *fs_handle_take(struct sbx_fs *fs, struct fs_handle **list)
{
	struct fs_handle *h;

	pthread_mutex_lock(&fs->lock);
	h = *list;
	if (h)
		handle_unlink_locked(list, h);
	pthread_mutex_unlock(&fs->lock);
	return h;
}

struct dirlist *fs_fresh_list(struct sbx_fs *fs, struct node *n)
{
	struct dirlist *l = n->list;

	if (!l || l->epoch != fs_epoch(fs) || l->expire <= fs_now())
		return NULL;
	return l;
}

int fs_path(struct sbx_fs *fs, uint64_t id, struct sbx_buf *out)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, id);
	r = n ? node_path(n, fs->root, out) : -ESTALE;
	pthread_mutex_unlock(&fs->lock);
	return r;
}

int fs_child_path(struct sbx_fs *fs, uint64_t parent, const char *name, struct sbx_buf *out)
{
	struct node *n;
	int r;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, parent);
	r = n ? node_child_path(n, fs->root, name, out) : -ESTALE;
	pthread_mutex_unlock(&fs->lock);
	return r;
}

int fs_check_alive(struct sbx_fs *fs)
{
	return __atomic_load_n(&fs->deleted, __ATOMIC_ACQUIRE) ? -SBX_ECONN : 0;
}

/* ---- whole-cache drop ---- */

struct drop_ctx {
	uint64_t *ids;
	size_t n, cap;
};

static void drop_node(struct node *n, void *ud)
{
	struct drop_ctx *d = ud;

	dirlist_unref(n->list);
	n->list = NULL;
	free(n->link);
	n->link = NULL;
	if (!(n->local && n->local_dirty))
		n->attr_expire = 0;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 256;
		uint64_t *p = realloc(d->ids, ncap * sizeof(*p));

		if (!p)
			return; /* the kernel keeps that one until its timeout */
		d->ids = p;
		d->cap = ncap;
	}
	d->ids[d->n++] = n->id;
}

void fs_drop_caches(struct sbx_fs *fs)
{
	struct drop_ctx d = {0};
	struct neg_entry negs[64];
	size_t nn = 0, i;
	int64_t now = fs_now();

	pthread_mutex_lock(&fs->lock);
	__atomic_add_fetch(&fs->epoch, 1, __ATOMIC_RELEASE);
	node_foreach(&fs->nodes, drop_node, &d);
	for (i = 0; i < FS_NEG_MAX; i++) {
		struct neg_entry *ne = &fs->negs[i];

		if (ne->name && ne->expire > now && fs->opts->negative_timeout > 0 &&
		    nn < sizeof(negs) / sizeof(negs[0])) {
			negs[nn++] = *ne; /* takes the name */
			ne->name = NULL;
		}
		free(ne->name);
		ne->name = NULL;
	}
	pthread_mutex_unlock(&fs->lock);
	FS_COUNT(fs, invalidations);
	for (i = 0; fs->se && i < d.n; i++)
		fuse_lowlevel_notify_inval_inode(fs->se, d.ids[i], 0, 0);
	for (i = 0; i < nn; i++) {
		if (fs->se)
			fuse_lowlevel_notify_inval_entry(fs->se, negs[i].parent, negs[i].name,
							 strlen(negs[i].name));
		free(negs[i].name);
	}
	free(d.ids);
}

/* ---- flush of every dirty file ---- */

struct flush_ctx {
	struct sbx_fs *fs;
	struct fcache **fcs;
	size_t n, cap;
};

static void collect_dirty(struct node *n, void *ud)
{
	struct flush_ctx *f = ud;
	struct fcache *fc;

	if (!n->fc || !n->local_dirty)
		return;
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 16;
		struct fcache **p = realloc(f->fcs, ncap * sizeof(*p));

		if (!p)
			return;
		f->fcs = p;
		f->cap = ncap;
	}
	fc = fcache_get_unsettled_locked(f->fs, n); /* a store at a release too */
	if (fc)
		f->fcs[f->n++] = fc;
}

int fs_flush_all(struct sbx_fs *fs)
{
	struct flush_ctx f = {.fs = fs};
	uint64_t seq = wback_errseq(fs->wb);
	size_t i;
	int r, first = 0;

	pthread_mutex_lock(&fs->lock);
	node_foreach(&fs->nodes, collect_dirty, &f);
	pthread_mutex_unlock(&fs->lock);
	for (i = 0; i < f.n; i++) {
		r = fcache_flush(fs, f.fcs[i]);
		if (r < 0 && !first)
			first = r;
		fcache_release(fs, f.fcs[i]);
	}
	free(f.fcs);
	/* a store taken off the queue before the walk may still be running */
	wback_drain(fs->wb);
	if (!first && wback_errseq(fs->wb) != seq)
		first = -EIO;
	return first;
}
