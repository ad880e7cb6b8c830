/* ops_dir.c - FUSE handlers for reading directories: opendir, readdir,
 * readdirplus, releasedir.
 *
 * A listing is the directory's cached one when fresh, else one remote
 * readdir that returns every entry's attributes (with change reports a
 * tree listing, answered later: later.h). Offsets are keys made from the
 * names (dirlist.h), so a read in several requests continues right from
 * any listing of the directory.
 *
 * Where the kernel may keep every listing (fs->no_opendir: listings are
 * cached, and the root's is the same for all users, as without
 * ctl_visible), opendir answers ENOSYS: the kernel then opens directories
 * without asking, keeps what readdir gave it (FOPEN_CACHE_DIR is its
 * default there) and sends no releasedir, so a warm walk of a tree makes
 * no request at all, where it made two per directory. readdir then takes
 * the listing itself. Otherwise opendir takes it, and the handle keeps a
 * reference. readdirplus hands the attributes to the kernel and counts one
 * lookup for each entry that fit in the buffer, and only for those
 * (libfuse's rule: an entry that did not fit is not returned, so it must
 * not be counted).
 */
#include "fs/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ctl/ctl.h"
#include "fs/dirlist.h"
#include "fs/fcache.h"
#include "fs/later.h"

struct dir_handle {
	struct fs_handle link; /* first: in fs->dhs */
	struct dirlist *l;
	uint64_t id;
};

static void dir_handle_free(struct sbx_fs *fs, struct dir_handle *dh)
{
	pthread_mutex_lock(&fs->lock);
	dirlist_unref(dh->l);
	pthread_mutex_unlock(&fs->lock);
	free(dh);
}

/* Refreshes the attributes of the children we know from a new listing,
 * unless they hold newer truth (fs->lock held). */
static void note_children(struct sbx_fs *fs, struct node *dir, const struct dirlist *l)
{
	size_t i;

	for (i = 0; i < l->d.n; i++) {
		struct node *c = node_child(&fs->nodes, dir, l->d.ents[i].name);

		if (c && !fs_attr_fresh(fs, c) &&
		    (c->attr.mode & S_IFMT) == (l->d.ents[i].attr.mode & S_IFMT)) {
			fs_node_set_attr(fs, c, &l->d.ents[i].attr, c->gen);
			c->attr_expire = l->expire ? l->expire : 1;
		}
	}
}

/* The small files whose content a listing of n brought along (prefetch)
 * become idle file caches, so that reading them (grep -r, cp -a, git)
 * costs no round trip; the data is taken out of the listing either way.
 * n NULL: dropped only. fs->lock held; the number primed. */
size_t ops_prime_locked(struct sbx_fs *fs, struct node *n, struct sbx_rfs_dir *d)
{
	char val[SBX_RFS_VALIDATOR_MAX];
	size_t i, primed = 0;
	struct node *c;

	for (i = 0; i < d->n; i++) {
		struct sbx_rfs_dirent *e = &d->ents[i];

		if (!e->data)
			continue;
		if (n && sbx_rfs_validator(fs->rfs, &e->attr, val) == 0) {
			c = node_child(&fs->nodes, n, e->name);
			c = ops_child_with_attr(fs, n, e->name, &e->attr, 0, c ? c->gen : 0);
			if (c && (c->attr.mode & S_IFMT) == S_IFREG && c->attr.ino == e->attr.ino &&
			    c->attr.size == e->data_len) {
				fcache_prime_locked(fs, c, e->data, e->data_len, &e->attr, val);
				primed++;
			}
		}
		free(e->data);
		e->data = NULL;
		e->data_len = 0;
	}
	return primed;
}

static void prime_files(struct sbx_fs *fs, uint64_t id, struct sbx_rfs_dir *d, uint64_t gen0,
			uint64_t ep)
{
	struct node *n;
	size_t primed;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, id);
	if (n && (n->gen != gen0 || ep != fs_epoch(fs)))
		n = NULL;
	primed = ops_prime_locked(fs, n, d);
	pthread_mutex_unlock(&fs->lock);
	if (primed)
		fcache_reap(fs);
}

/* The node of the directory path below top (whose remote path is tpath),
 * made from attr when only its last name is missing; NULL when it cannot
 * be placed. fs->lock held. */
static struct node *subdir_node(struct sbx_fs *fs, struct node *top, const char *tpath,
				const char *path, const struct sbx_rfs_attr *attr)
{
	size_t tl = strlen(tpath);
	const char *p = path + (tl == 1 ? 0 : tl), *e;
	struct node *n = top, *c;
	char comp[256];

	if (strncmp(path, tpath, tl) || *p != '/')
		return NULL;
	while (*p == '/') {
		p++;
		e = strchr(p, '/');
		e = e ? e : p + strlen(p);
		if ((size_t)(e - p) >= sizeof(comp) || e == p)
			return NULL;
		memcpy(comp, p, (size_t)(e - p));
		comp[e - p] = '\0';
		c = node_child(&fs->nodes, n, comp);
		if (!c && !*e)
			c = ops_child_with_attr(fs, n, comp, attr, 0, 0);
		if (!c || !S_ISDIR(c->attr.mode))
			return NULL;
		n = c;
		p = e;
	}
	return n;
}

/* Does listing d hold the content of every file a prefetch could have
 * brought (regular, within prefetch_kb)? Before ops_prime_locked. */
static bool all_small_files_came(const struct sbx_fs *fs, const struct sbx_rfs_dir *d)
{
	uint64_t max = (uint64_t)fs->opts->prefetch_kb << 10;
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct sbx_rfs_dirent *e = &d->ents[i];

		if (S_ISREG(e->attr.mode) && e->attr.size <= max && !e->data)
			return false;
	}
	return true;
}

void ops_install_subdirs(struct sbx_fs *fs, uint64_t id, const char *tpath, struct sbx_rfs_tree *t,
			 uint64_t ep, uint64_t own0, bool with_data)
{
	struct node *top, *n;
	struct dirlist *l;
	size_t i, primed = 0;
	bool keep;

	pthread_mutex_lock(&fs->lock);
	top = node_get(&fs->nodes, id);
	if (ep != fs_epoch(fs) || fs->dir_changes != own0)
		top = NULL;
	for (i = 1; i < t->n; i++) {
		struct sbx_rfs_tree_dir *td = &t->dirs[i];

		n = top ? subdir_node(fs, top, tpath, td->path, &td->dir.self) : NULL;
		if (n && with_data && all_small_files_came(fs, &td->dir)) {
			n->data_epoch = ep + 1; /* its first read needs no listing */
			n->data_evicted = fs->idle_evicted;
			n->data_top = false; /* the bytes bound may have cut its subdirectories */
		}
		keep = n && n->list && fs_fresh_list(fs, n); /* keep what is cached */
		primed += ops_prime_locked(fs, n, &td->dir);
		if (!n || keep)
			continue;
		n->watched = n->watched || (td->watched && fs->watching);
		l = dirlist_new(&td->dir, fs_expiry(fs_list_timeout(fs, n)), ep);
		if (!l)
			continue;
		dirlist_unref(n->list);
		n->list = l;
		fs_node_set_attr(fs, n, &l->d.self, n->gen);
		note_children(fs, n, l);
	}
	pthread_mutex_unlock(&fs->lock);
	if (primed)
		fcache_reap(fs);
}

/* A listing of a directory on its way from the sandbox. */
struct list_req {
	uint64_t id, gen0, ep, own0;
	double t;
};

/* Before a listing of lr->id: 1 and *ret when a cached one serves; 0
 * with path and lr set for a remote one; or a negative errno. */
static int list_begin(struct sbx_fs *fs, struct list_req *lr, struct dirlist **ret,
		      struct sbx_buf *path)
{
	struct dirlist *l;
	struct node *n;
	int r;

	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, lr->id);
	l = n ? fs_fresh_list(fs, n) : NULL;
	if (l) {
		*ret = dirlist_ref(l);
		pthread_mutex_unlock(&fs->lock);
		FS_COUNT(fs, dir_hit);
		return 1;
	}
	r = n ? node_path(n, fs->root, path) : -ESTALE;
	if (n)
		fs_watch_dir(fs, n); /* before the listing: no change is missed */
	lr->t = n ? fs_list_timeout(fs, n) : 0;
	lr->gen0 = n ? n->gen : 0;
	lr->own0 = fs->dir_changes;
	lr->ep = fs_epoch(fs);
	pthread_mutex_unlock(&fs->lock);
	FS_COUNT(fs, dir_miss);
	return r ?: fs_check_alive(fs);
}

/* After it: d (taken) becomes the listing of lr->id; 0 and *ret, or
 * -ENOMEM. */
static int list_end(struct sbx_fs *fs, const struct list_req *lr, struct sbx_rfs_dir *d,
		    struct dirlist **ret)
{
	struct dirlist *l;
	struct node *n;

	prime_files(fs, lr->id, d, lr->gen0, lr->ep);
	l = dirlist_new(d, fs_expiry(lr->t), lr->ep);
	if (!l) {
		sbx_rfs_dir_release(d);
		return -ENOMEM;
	}
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, lr->id);
	if (n && n->gen == lr->gen0 && lr->t > 0 && lr->ep == fs_epoch(fs)) {
		dirlist_unref(n->list);
		n->list = dirlist_ref(l);
	}
	if (n) {
		fs_node_set_attr(fs, n, &l->d.self, lr->gen0);
		note_children(fs, n, l);
	}
	pthread_mutex_unlock(&fs->lock);
	*ret = l;
	return 0;
}

/* The tree listing of ops_get_list_later came: its subdirectories are
 * cached, its top becomes the listing, then the caller's second half. */
static void list_then(struct later *l)
{
	struct list_req lr = {
	    .id = l->ino, .gen0 = l->gen0, .ep = l->ep, .own0 = l->own0, .t = l->t};
	struct sbx_rfs_tree *t = &l->q.tree;
	struct sbx_rfs_dir d;
	int r = l->q.rc;

	if (r == 0) {
		ops_install_subdirs(l->fs, l->ino, t->dirs[0].path, t, lr.ep, lr.own0, false);
		d = t->dirs[0].dir; /* taken */
		memset(&t->dirs[0].dir, 0, sizeof(t->dirs[0].dir));
		r = list_end(l->fs, &lr, &d, &l->list);
	}
	sbx_rfs_tree_release(t);
	l->q.rc = r;
	l->after(l);
}

void ops_get_list_later(struct later *l, uint64_t id)
{
	struct sbx_fs *fs = l->fs;
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_dir d = {0};
	struct list_req lr = {.id = id};
	int r = list_begin(fs, &lr, &l->list, &path);

	l->ino = id;
	if (r == 0 && fs->watching && fs->opts->tree_entries > 0) {
		l->gen0 = lr.gen0;
		l->ep = lr.ep;
		l->own0 = lr.own0;
		l->t = lr.t;
		l->then = list_then;
		l->q.op = SBX_RFS_OP_READDIR;
		l->q.path = path.data;
		l->q.max_entries = (uint32_t)fs->opts->tree_entries;
		later_submit(l);
		sbx_buf_release(&path);
		return;
	}
	/* a plain listing (no change reports): the waiting call */
	if (r == 0)
		r = sbx_rfs_readdir(fs->rfs, path.data, &d, NULL)
			?: list_end(fs, &lr, &d, &l->list);
	sbx_buf_release(&path);
	l->q.rc = r < 0 ? r : 0;
	l->after(l);
	later_drop(l);
}

static void opendir_then(struct later *l)
{
	struct dir_handle *dh = l->q.rc < 0 ? NULL : calloc(1, sizeof(*dh));

	if (!dh) {
		fuse_reply_err(l->req, l->q.rc < 0 ? fs_errno(l->q.rc) : ENOMEM);
		return;
	}
	dh->id = l->ino;
	dh->l = l->list; /* taken */
	l->list = NULL;
	l->fi.fh = (uintptr_t)dh;
	/* The kernel may keep the listing and serve the next opens from it:
	 * it drops it when the directory's mtime moves and when we
	 * invalidate the directory (a change report that adds or removes a
	 * name, a cache drop), and checks the mtime when it refreshes the
	 * attributes, so it is as fresh as our own listing. Not with
	 * dir_cache_timeout=0 (no listing is kept), nor the root's with
	 * ctl_visible, whose /.ctl entry is listed to some users only: the
	 * kernel's copy is shared by all. */
	l->fi.cache_readdir = l->fs->opts->dir_cache_timeout > 0 &&
			      !(l->ino == FUSE_ROOT_ID && l->fs->opts->ctl_visible);
	l->fi.keep_cache = l->fi.cache_readdir;
	fs_handle_link(l->fs, &l->fs->dhs, &dh->link); /* its release may come at once */
	/* a failed reply: the opendir was interrupted, no release will come */
	if (fuse_reply_open(l->req, &l->fi) < 0) {
		fs_handle_unlink(l->fs, &l->fs->dhs, &dh->link);
		dir_handle_free(l->fs, dh);
	}
}

void ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct later *l;

	FS_COUNT_OP(fs, FS_OPENDIR);
	if (fs->no_opendir) {
		fuse_reply_err(req, ENOSYS); /* for good: the kernel's alone */
		return;
	}
	if (ctl_is(ino)) {
		ctl_opendir(req, ino, fi);
		return;
	}
	l = later_new(fs, req, SBX_RFS_OP_READDIR, NULL, NULL, NULL);
	if (!l) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	l->fi = *fi;
	l->after = opendir_then;
	ops_get_list_later(l, ino);
}

/* A readdir reply being filled. */
struct fill {
	fuse_req_t req;
	char *buf;
	size_t size, rem;
	bool plus;
};

/* Adds an entry, next the offset after it; false when it did not fit
 * (the buffer is full). */
static bool fill_add(struct fill *f, const char *name, const struct fuse_entry_param *e,
		     uint64_t next)
{
	char *p = f->buf + (f->size - f->rem);
	size_t sz = f->plus ? fuse_add_direntry_plus(f->req, p, f->rem, name, e, (off_t)next)
			    : fuse_add_direntry(f->req, p, f->rem, name, &e->attr, (off_t)next);

	if (sz > f->rem)
		return false;
	f->rem -= sz;
	return true;
}

/* Adds entry de (key key) of listing l of dir (NULL: attach nothing);
 * readdirplus counts a lookup of its node only when it fit (libfuse's
 * rule: an entry that did not fit is not returned). fs->lock held. */
static bool fill_listed(struct sbx_fs *fs, struct fill *f, struct node *dir,
			const struct dirlist *l, const struct sbx_rfs_dirent *de, uint64_t key)
{
	struct fuse_entry_param e = {0};
	struct node *c = f->plus && dir ? node_child(&fs->nodes, dir, de->name) : NULL;

	if (f->plus && dir && (!c || !fs_attr_fresh(fs, c)))
		c = ops_child_with_attr(fs, dir, de->name, &de->attr, l->expire, c ? c->gen : 0);
	if (!c) {
		fs_stat_of(&de->attr, 0, &e.attr);
		return fill_add(f, de->name, &e, key);
	}
	fs_entry_of(fs, c, &e);
	if (fill_add(f, de->name, &e, key))
		return true;
	node_forget(&fs->nodes, c, 1);
	return false;
}

/* Fills f from listing l of directory id at offset at: "." at offset 1,
 * ".." at 2, /.ctl at 3 (in the root with ctl_visible, to those who may
 * use it), then the entries in key order, each at its key (dirlist.h), as
 * many as fit. 0 or -ENOMEM; fs->lock held. */
static int fill_listing(struct sbx_fs *fs, struct fill *f, uint64_t id, struct dirlist *l,
			uint64_t at)
{
	struct fuse_entry_param e = {0};
	const struct sbx_rfs_dirent *de;
	struct node *dir;
	uint64_t key;
	size_t k;
	int r = dirlist_walk(l);

	dir = node_get(&fs->nodes, id);
	if (dir && !dir->parent && dir->id != NODE_ROOT_ID)
		dir = NULL; /* removed: list what we have, attach nothing */
	e.attr.st_mode = S_IFDIR;
	e.attr.st_ino = id;
	if (r < 0 || (at < 1 && !fill_add(f, ".", &e, 1)))
		return r;
	e.attr.st_ino = NODE_ROOT_ID; /* 0 would hide it */
	if (at < 2 && !fill_add(f, "..", &e, 2))
		return 0;
	if (at < 3 && id == NODE_ROOT_ID && fs->opts->ctl_visible &&
	    fs_access_check(&fs->access, fuse_req_ctx(f->req)->uid, FS_AREA_CTL) == 0) {
		ctl_root_entry(fs, &e); /* not to those who may not use it */
		if (!fill_add(f, CTL_NAME, &e, 3))
			return 0;
	}
	for (k = dirlist_after(l, at); k < l->d.n; k++) {
		de = dirlist_at(l, k, &key);
		if (id == NODE_ROOT_ID && !strcmp(de->name, CTL_NAME))
			continue; /* shadowed by the control tree */
		if (!fill_listed(fs, f, dir, l, de, key))
			break;
	}
	return 0;
}

/* Replies to a readdir of directory id at offset off from listing l, or,
 * l NULL, from the directory's own when it is fresh: false then when it
 * is not (nothing replied). size: the reply's bound. */
static bool reply_listing(struct sbx_fs *fs, fuse_req_t req, uint64_t id, struct dirlist *l,
			  size_t size, off_t off, bool plus)
{
	struct fill f = {.req = req, .size = size, .rem = size, .plus = plus};
	struct node *n;
	int r = 0;

	f.buf = malloc(size ? size : 1);
	if (!f.buf) {
		fuse_reply_err(req, ENOMEM);
		return true;
	}
	pthread_mutex_lock(&fs->lock);
	if (!l && (n = node_get(&fs->nodes, id))) {
		l = fs_fresh_list(fs, n);
		if (off <= 0 && n->read_list) { /* a new read: that one's done */
			dirlist_unref(n->read_list);
			n->read_list = NULL;
		}
		/* the rest of a read whose listing could not be kept: one
		 * fetch a read, not one per request of it */
		if (!l && off > 0 && n->read_list && n->read_list->epoch == fs_epoch(fs) &&
		    n->read_list->expire > fs_now())
			l = n->read_list;
		if (l)
			FS_COUNT(fs, dir_hit);
	}
	if (l)
		r = fill_listing(fs, &f, id, l, off > 0 ? (uint64_t)off : 0);
	pthread_mutex_unlock(&fs->lock);
	if (l && r < 0)
		fuse_reply_err(req, -r);
	else if (l)
		fuse_reply_buf(req, f.buf, size - f.rem);
	free(f.buf);
	return l != NULL;
}

/* A readdir without a handle: its listing came (or was cached). */
static void readdir_then(struct later *l)
{
	struct sbx_fs *fs = l->fs;
	struct node *n;

	if (l->q.rc < 0) {
		fuse_reply_err(l->req, fs_errno(l->q.rc));
		return;
	}
	reply_listing(fs, l->req, l->ino, l->list, l->size, l->off, l->plus);
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, l->ino);
	if (n && n->list != l->list) { /* not kept: for the rest of this read */
		dirlist_unref(n->read_list);
		n->read_list = l->list;
	} else {
		dirlist_unref(l->list);
	}
	l->list = NULL;
	pthread_mutex_unlock(&fs->lock);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct sbx_fs *fs = fs_of(req);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;
	struct later *l;

	FS_COUNT_OP(fs, FS_READDIR);
	if (ctl_is(ino)) {
		ctl_readdir(req, ino, size, off, fi, plus);
		return;
	}
	if (dh) {
		reply_listing(fs, req, dh->id, dh->l, size, off, plus);
		return;
	}
	/* no handle (opendir is the kernel's alone: ops_opendir): the
	 * directory's own listing, used under fs->lock (a reference would
	 * make our own changes drop it meanwhile: dirlist.h), or one fetched
	 * now; the keys make any listing continue where the last request
	 * stopped */
	if (reply_listing(fs, req, ino, NULL, size, off, plus))
		return;
	l = later_new(fs, req, SBX_RFS_OP_READDIR, NULL, NULL, NULL);
	if (!l) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	l->size = size;
	l->off = off;
	l->plus = plus;
	l->after = readdir_then;
	ops_get_list_later(l, ino);
}

void ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sbx_fs *fs = fs_of(req);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;

	FS_COUNT_OP(fs, FS_RELEASEDIR);
	if (ctl_is(ino)) {
		ctl_releasedir(req, ino, fi);
		return;
	}
	fs_handle_unlink(fs, &fs->dhs, &dh->link);
	dir_handle_free(fs, dh);
	fuse_reply_err(req, 0);
}

void ops_releasedir_all(struct sbx_fs *fs)
{
	struct fs_handle *h;

	while ((h = fs_handle_take(fs, &fs->dhs)))
		dir_handle_free(fs, (struct dir_handle *)h);
}

void ops_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0);
}
