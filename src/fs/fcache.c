/* fcache.c - the shared local cache of an open file; see fcache.h.
 *
 * Ordering: every change of the content happens under fc->lock, and bumps
 * the node's gen under fs->lock, so that an attribute answer that left the
 * sandbox before the change is not stored over the local truth (the write
 * counter of sshfs's cache). The node mirrors (local, local_dirty, size,
 * mtime) are updated in the same fs->lock section as the gen.
 */
#include "fs/fcache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/changes.h"
#include "fs/dirlist.h"
#include "fs/inval.h"
#include "fs/later.h"
#include "fs/fcache_range.h"
#include "fs/wback.h"
#include "fs/ops.h"
#include "fs/prefetch.h"
#include "util/log.h"
#include "util/rand.h"
#include "util/timeutil.h"

int fcache_disk_fd(struct sbx_fs *fs)
{
	char name[40], hex[17];
	int fd;

	fd = openat(fs->cache_dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd >= 0 ? fd : -errno;
	/* no O_TMPFILE here: a named file, unlinked at once */
	if (sbx_rand_hex(hex, 8) < 0)
		return -EIO;
	snprintf(name, sizeof(name), ".sbxfs-%s", hex);
	fd = openat(fs->cache_dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	unlinkat(fs->cache_dirfd, name, 0);
	return fd;
}

/* A new empty content file: in memory when small (see FCACHE_MEM_MAX;
 * *ret_mem says which), else in the cache dir. */
static int content_fd(struct sbx_fs *fs, bool small, bool *ret_mem)
{
	int fd = small ? memfd_create("sbxfs-content", MFD_CLOEXEC) : -1;

	*ret_mem = fd >= 0;
	return fd >= 0 ? fd : fcache_disk_fd(fs);
}

int fcache_spill(struct sbx_fs *fs, struct fcache *fc, uint64_t need)
{
	struct stat st;
	int fd, r;

	if (!fc->mem || need <= FCACHE_MEM_MAX)
		return 0;
	if (fstat(fc->fd, &st) < 0)
		return -errno;
	fd = fcache_disk_fd(fs);
	if (fd < 0)
		return fd;
	r = fcache_copy_at(fd, fc->fd, 0, (uint64_t)st.st_size);
	if (r < 0) {
		close(fd);
		return r;
	}
	fcache_on_disk(fs, fc, fd);
	return 0;
}

int fcache_copy_at(int dst, int src, uint64_t off, uint64_t end)
{
	off_t in = (off_t)off;

	if (off < end && lseek(dst, (off_t)off, SEEK_SET) < 0)
		return -errno;
	while ((uint64_t)in < end) {
		ssize_t n = sendfile(dst, src, &in, (size_t)(end - (uint64_t)in));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	return 0;
}

void fcache_on_disk(struct sbx_fs *fs, struct fcache *fc, int fd)
{
	close(fc->fd);
	fc->fd = fd;
	fc->mem = false;
	FS_COUNT(fs, data_spilled);
}

static struct timespec now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* See fcache.h. The size and mtime are local while the content is
 * (whole and loaded, or ranged) and a handle is open. */
void fcache_mirror(struct sbx_fs *fs, struct fcache *fc, bool touched)
{
	struct node *n = fc->node;

	pthread_mutex_lock(&fs->lock);
	n->local = (fc->loaded || fc->ranged) && n->fc == fc && fc->refs > 0;
	n->local_dirty = fc->dirty && n->fc == fc;
	if (touched) {
		n->gen++;
		n->attr.size = fc->size;
		n->attr.blocks = (fc->size + 511) / 512;
		n->attr.mtime = n->attr.ctime = now_real();
	}
	pthread_mutex_unlock(&fs->lock);
}

/* ---- idle caches (fs->lock held) ---- */

static void idle_unlink(struct sbx_fs *fs, struct fcache *fc)
{
	if (!fc->idle)
		return;
	if (fc->idle_prev)
		fc->idle_prev->idle_next = fc->idle_next;
	else
		fs->idle_head = fc->idle_next;
	if (fc->idle_next)
		fc->idle_next->idle_prev = fc->idle_prev;
	else
		fs->idle_tail = fc->idle_prev;
	fc->idle_prev = fc->idle_next = NULL;
	fs->idle_bytes -= fc->idle_bytes;
	fs->idle_count--;
	fc->idle = false;
}

static void idle_trim(struct sbx_fs *fs);

bool fcache_hold_locked(struct sbx_fs *fs, struct fcache *fc, uint64_t bytes)
{
	bool grew = bytes > fc->mem_held;

	fs->ranged_mem = fs->ranged_mem - fc->mem_held + bytes;
	fc->mem_held = bytes;
	if (grew)
		idle_trim(fs);
	return grew;
}

static void idle_push(struct sbx_fs *fs, struct fcache *fc)
{
	fcache_hold_locked(fs, fc, 0); /* counted as idle from now on */
	fc->idle = true;
	fc->idle_bytes = fc->ranged ? fc->valid.bytes : fc->size;
	fs->idle_bytes += fc->idle_bytes;
	fs->idle_count++;
	fc->idle_next = NULL;
	fc->idle_prev = fs->idle_tail;
	if (fs->idle_tail)
		fs->idle_tail->idle_next = fc;
	else
		fs->idle_head = fc;
	fs->idle_tail = fc;
}

/* Detaches an unused cache from its node and queues it for fcache_reap. */
static void to_reap(struct sbx_fs *fs, struct fcache *fc)
{
	idle_unlink(fs, fc);
	fcache_hold_locked(fs, fc, 0);
	if (fc->node->fc == fc)
		fc->node->fc = NULL;
	fc->node->local = fc->node->local_dirty = false;
	fc->node->undurable |= fc->undurable; /* refs 0: nobody holds fc->lock */
	fc->idle_next = fs->reap;
	fs->reap = fc;
}

void fcache_evict_locked(struct sbx_fs *fs, struct node *n)
{
	if (n->fc && n->fc->refs == 0 && n->fc->releasing > 0)
		n->fc->evict_asked = true;
	else if (n->fc && n->fc->refs == 0)
		to_reap(fs, n->fc);
}

void fcache_reap(struct sbx_fs *fs)
{
	struct fcache *list, *fc;

	pthread_mutex_lock(&fs->lock);
	list = fs->reap;
	fs->reap = NULL;
	for (fc = list; fc; fc = fc->idle_next)
		node_unref(&fs->nodes, fc->node); /* may free the node */
	pthread_mutex_unlock(&fs->lock);
	while ((fc = list)) {
		list = fc->idle_next;
		close(fc->fd);
		rmap_release(&fc->valid);
		free(fc->writer);
		free(fc->rng);
		pthread_mutex_destroy(&fc->hm);
		pthread_cond_destroy(&fc->hcv);
		pthread_mutex_destroy(&fc->plock);
		free(fc);
	}
}

/* Writes n bytes at offset 0 of fd; 0 or -errno. */
static int put_all_at(int fd, const char *d, size_t n)
{
	size_t off = 0;
	ssize_t w;

	while (off < n) {
		w = pwrite(fd, d + off, n - off, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (size_t)w;
	}
	return 0;
}

unsigned fcache_idle_limit(uint64_t nofile)
{
	const uint64_t reserve = 512;
	uint64_t n = nofile > reserve ? (nofile - reserve) / 2 : 0;

	if (n < FCACHE_IDLE_MIN)
		return FCACHE_IDLE_MIN;
	return n > FCACHE_IDLE_MAX ? FCACHE_IDLE_MAX : (unsigned)n;
}

/* Keeps the idle caches within data_cache (less what the copies of open
 * large files hold in memory) and fs->idle_max. */
static void idle_trim(struct sbx_fs *fs)
{
	unsigned max = fs->idle_max ? fs->idle_max : FCACHE_IDLE_MIN;

	while (fs->idle_head &&
	       (fs->idle_bytes + fs->ranged_mem > ((uint64_t)fs->opts->data_cache_mb << 20) ||
		fs->idle_count > max)) {
		to_reap(fs, fs->idle_head);
		fs->idle_evicted++;
	}
}

static struct fcache *fc_new(struct sbx_fs *fs, struct node *n, int *err);

void fcache_prime_locked(struct sbx_fs *fs, struct node *n, const char *data, size_t len,
			 const struct sbx_rfs_attr *a, const char *val)
{
	struct fcache *fc;
	size_t off = 0;
	ssize_t w;
	int r;

	if (n->fc || fs->opts->data_cache_mb <= 0 || !n->parent ||
	    len > ((uint64_t)fs->opts->data_cache_mb << 20))
		return;
	fc = fc_new(fs, n, &r);
	if (!fc)
		return;
	while (off < len) {
		w = pwrite(fc->fd, data + off, len - off, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	fc->refs = 0;
	if (off < len) {
		to_reap(fs, fc);
		return;
	}
	fc->loaded = true;
	fc->size = len;
	fc->ver = *a;
	fc->made_here = false;
	snprintf(fc->validator, sizeof(fc->validator), "%s", val);
	fc->loaded_epoch = fs_epoch(fs);
	idle_push(fs, fc);
	idle_trim(fs);
}

void fcache_drop_idle(struct sbx_fs *fs)
{
	pthread_mutex_lock(&fs->lock);
	while (fs->idle_head)
		to_reap(fs, fs->idle_head);
	pthread_mutex_unlock(&fs->lock);
	fcache_reap(fs);
}

struct fcache *fcache_get_locked(struct sbx_fs *fs, struct node *n)
{
	(void)fs;
	if (!n->fc || n->fc->refs == 0)
		return NULL;
	n->fc->refs++;
	return n->fc;
}

struct fcache *fcache_get_unsettled_locked(struct sbx_fs *fs, struct node *n)
{
	(void)fs;
	if (!n->fc || (n->fc->refs == 0 && n->fc->releasing == 0))
		return NULL;
	n->fc->refs++; /* a release running leaves the end to this one's */
	return n->fc;
}

/* May an idle cache be used without asking the sandbox? Its content is
 * clean and the node's fresh attributes name the version it holds. */
static bool version_fresh(struct sbx_fs *fs, const struct node *n, const struct fcache *fc)
{
	return (fc->loaded || fc->ranged) && !fc->dirty && !fc->wrote && fs_attr_fresh(fs, n) &&
	       n->attr.ino == fc->ver.ino && n->attr.size == fc->ver.size &&
	       sbx_ts_equal(&n->attr.mtime, &fc->ver.mtime);
}

bool fcache_kernel_keeps(struct sbx_fs *fs, struct fcache *fc)
{
	bool keep;

	pthread_mutex_lock(&fs->lock);
	keep = node_kernel_keeps(fc->node, fs_attr_fresh(fs, fc->node));
	pthread_mutex_unlock(&fs->lock);
	return keep;
}

/* A new cache for n with one reference (fs->lock held). */
static struct fcache *fc_new(struct sbx_fs *fs, struct node *n, int *err)
{
	struct fcache *fc;
	bool mem;
	/* a large file's copy is placed when it becomes ranged (memory or
	 * the cache dir, fcache_range.c): no file made here for nothing */
	int fd = content_fd(fs,
			    n->attr.size <= FCACHE_MEM_MAX ||
				n->attr.size > ((uint64_t)fs->opts->whole_max_kb << 10),
			    &mem);

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	fc = calloc(1, sizeof(*fc));
	if (!fc) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&fc->hm, NULL);
	pthread_cond_init(&fc->hcv, NULL);
	fc->waiters_tail = &fc->waiters;
	fc->lq_tail = &fc->lq;
	pthread_mutex_init(&fc->plock, NULL);
	fc->fd = fd;
	fc->mem = mem;
	fc->node = n;
	fc->refs = 1;
	fc->undurable = n->undurable;
	n->undurable = false;
	node_ref(n);
	n->fc = fc;
	return fc;
}

static int set_writer_locked(struct fcache *fc, const struct sbx_rfs_cred *cred);

/* An open's part once fc->lock is held (o: what fcache_open_req had). */
static int open_locked(struct sbx_fs *fs, struct fcache_oreq *o)
{
	struct fcache *fc = o->fc;
	bool trunc = o->trunc, created = o->created, first = o->first;
	int r = 0;

	if (fc->ranged && ((created && first) || trunc))
		fcr_leave(fs, fc); /* emptied: the whole-file way again */
	if (created && first) {
		/* we just made it, empty */
		if (fc->loaded && fc->size && ftruncate(fc->fd, 0) < 0)
			fc->loaded = false;
		else
			fc->loaded = true;
		fc->size = 0;
		fc->revalidate = !fc->loaded;
		fc->loaded_epoch = fs_epoch(fs);
		fc->made_here = true;
	} else if (first) {
		fc->revalidate = !o->fresh; /* close-to-open */
		if (o->fresh) {
			fc->loaded_epoch = fs_epoch(fs);
			FS_COUNT(fs, data_revalidated);
		}
	} else if (!fc->dirty && !fc->revalidate) {
		/* close-to-open, as for an idle cache: unless the attributes,
		 * kept true, name the version held (the previous handle's
		 * release may simply not have come yet) */
		pthread_mutex_lock(&fs->lock);
		fc->revalidate = !version_fresh(fs, fc->node, fc);
		pthread_mutex_unlock(&fs->lock);
	}
	trunc = trunc && !(created && first); /* a new file is empty already */
	if (trunc && ftruncate(fc->fd, 0) == 0) {
		fc->size = 0;
		fc->loaded = true;
		fc->dirty = true;
		fc->revalidate = false;
	}
	fcache_mirror(fs, fc, trunc);
	if (o->writes)
		r = set_writer_locked(fc, o->writer);
	fcache_unlock(fc);
	return r;
}

static void open_run(struct fcache_lwait *w)
{
	struct fcache_oreq *o = (struct fcache_oreq *)w;
	int r = open_locked(w->fs, o);

	if (r < 0) {
		fcache_release(w->fs, o->fc);
		o->fc = NULL;
	}
	o->done(o, r);
}

int fcache_open_req(struct sbx_fs *fs, uint64_t id, struct fcache_oreq *o)
{
	struct fcache *fc = NULL;
	enum fcache_lq got;
	struct node *n;
	bool read_ok;
	int r = -ESTALE;

	o->first = true;
	o->fresh = false;
	o->fc = NULL;
	pthread_mutex_lock(&fs->lock);
	n = node_get(&fs->nodes, id);
	if (n && n->fc) {
		fc = n->fc;
		o->first = fc->refs == 0;
		if (fc->idle) {
			idle_unlink(fs, fc);
			o->fresh = version_fresh(fs, n, fc);
		}
		fc->refs++;
	} else if (n) {
		fc = fc_new(fs, n, &r);
	}
	pthread_mutex_unlock(&fs->lock);
	if (!fc)
		return r;
	o->fc = fc;
	/* another handle's first read is fetching it: that fetch, sent before
	 * this open's reply, is what close-to-open asks for; no need to wait
	 * (unless the open changes the file or whose it is) */
	read_ok = !o->trunc && !o->created && !o->first && !o->writes;
	o->w.run = open_run;
	got = fcache_lock_or_queue(fs, fc, o->done ? &o->w : NULL, read_ok ? FCACHE_LQ_ANY_READ : 0);
	if (got == FCACHE_READING)
		return 0;
	if (got == FCACHE_QUEUED)
		return 1;
	if (got == FCACHE_BUSY)
		fcache_lock(fc); /* (no done: waits here) */
	r = open_locked(fs, o);
	if (r < 0) {
		fcache_release(fs, fc);
		o->fc = NULL;
	}
	return r;
}

int fcache_open(struct sbx_fs *fs, uint64_t id, bool trunc, bool created, struct fcache **ret)
{
	struct fcache_oreq o = {.trunc = trunc, .created = created};
	int r = fcache_open_req(fs, id, &o);

	if (r == 0)
		*ret = o.fc;
	return r;
}

/* Fills fc (node n, in directory listing d) from d's entry for n, if it
 * brought n's content. fs->lock held; 1 when filled. */
static int fill_one(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_dir *d, uint64_t ep)
{
	struct node *n = fc->node;
	char val[SBX_RFS_VALIDATOR_MAX];
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct sbx_rfs_dirent *e = &d->ents[i];

		if (!e->data || !n->name || strcmp(e->name, n->name) ||
		    sbx_rfs_validator(fs->rfs, &e->attr, val) < 0 || ftruncate(fc->fd, 0) < 0 ||
		    put_all_at(fc->fd, e->data, e->data_len) < 0)
			continue;
		fc->size = e->data_len;
		fc->loaded = true;
		fc->revalidate = false;
		fc->loaded_epoch = ep;
		fc->ver = e->attr;
		fc->made_here = false;
		memcpy(fc->validator, val, sizeof(val));
		fs_node_set_attr(fs, n, &e->attr, n->gen);
		return 1;
	}
	return 0;
}

/* The part of fill_from_dir after the listing: n's own content, then the
 * rest as idle caches. t->dirs[0] is top's (id tid) listing; n's directory
 * (id pid) has remote path ppath. */
static int fill_from_tree(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_tree *t,
			  uint64_t tid, uint64_t pid, const char *ppath, uint64_t ep, uint64_t own0)
{
	struct node *top, *p;
	size_t i, primed;
	int filled = 0;

	pthread_mutex_lock(&fs->lock);
	p = node_get(&fs->nodes, pid);
	for (i = 0; p && fc->node->parent == p && i < t->n && !filled; i++)
		if (!strcmp(t->dirs[i].path, ppath))
			filled = fill_one(fs, fc, &t->dirs[i].dir, ep);
	top = node_get(&fs->nodes, tid);
	primed = ops_prime_locked(fs, top, &t->dirs[0].dir);
	pthread_mutex_unlock(&fs->lock);
	if (primed)
		fcache_reap(fs);
	if (t->n > 1)
		ops_install_subdirs(fs, tid, t->dirs[0].path, t, ep, own0, true);
	return filled;
}

/* A one-directory tree: path's listing with contents (tree listings off). */
static int tree_of_one(struct sbx_fs *fs, const char *path, struct sbx_rfs_tree *t)
{
	int r;

	t->n = 0;
	t->dirs = calloc(1, sizeof(*t->dirs));
	if (!t->dirs)
		return -ENOMEM;
	t->dirs[0].path = strdup(path);
	r = t->dirs[0].path ? sbx_rfs_readdir(fs->rfs, path, &t->dirs[0].dir, NULL) : -ENOMEM;
	t->n = 1;
	if (r < 0)
		sbx_rfs_tree_release(t);
	return r;
}

bool fcache_ready(struct sbx_fs *fs, const struct fcache *fc)
{
	return fc->dirty || (fc->loaded && !fc->revalidate && fc->loaded_epoch == fs_epoch(fs));
}

/* The first file of a directory read (for this cache epoch) brings the
 * small files of a whole subtree (prefetch.h says which) in one listing:
 * the listings made for lookups and readdir carry no contents, so that ls
 * and find move no data, and grep, cp or git get a tree's files for one
 * round trip. */
bool fcache_tree_begin(struct sbx_fs *fs, struct fcache *fc, struct fcache_tree *ft)
{
	uint64_t fmax = (uint64_t)fs->opts->prefetch_kb << 10;
	struct node *n, *p, *top;

	memset(ft, 0, sizeof(*ft));
	if (!fs->watching || fmax == 0 || fc->loaded || fc->dirty)
		return false;
	ft->ep = fs_epoch(fs);
	pthread_mutex_lock(&fs->lock);
	n = fc->node;
	p = n->parent;
	/* once per directory and epoch, unless the size bounds dropped idle
	 * caches since (else a re-read tree would cost a round trip a file) */
	if (!p || (p->data_epoch == ft->ep + 1 && p->data_evicted == fs->idle_evicted) ||
	    n->attr.size > fmax || node_path(p, fs->root, &ft->pp) < 0) {
		pthread_mutex_unlock(&fs->lock);
		sbx_buf_release(&ft->pp);
		return false;
	}
	top = fs->opts->tree_entries > 0 ? prefetch_top(fs, p, fmax, SBXFS_PREFETCH_DIR_MAX,
							(uint64_t)fs->opts->tree_entries)
					 : p;
	if (node_path(top, fs->root, &ft->tp) < 0)
		top = NULL;
	p->data_epoch = ft->ep + 1;
	p->data_evicted = fs->idle_evicted;
	p->data_top = false;
	if (top) {
		top->data_epoch = ft->ep + 1;
		top->data_evicted = fs->idle_evicted;
		top->data_top = true;
	}
	ft->pid = p->id;
	ft->tid = top ? top->id : 0;
	ft->own0 = fs->dir_changes;
	pthread_mutex_unlock(&fs->lock);
	if (!ft->tid) {
		fcache_tree_end(fs, fc, ft, -ENOMEM, NULL);
		return false;
	}
	return true;
}

int fcache_tree_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_tree *ft, int r,
		    struct sbx_rfs_tree *t)
{
	int filled = 0;

	if (r == 0) {
		filled = fill_from_tree(fs, fc, t, ft->tid, ft->pid, ft->pp.data, ft->ep, ft->own0);
		sbx_rfs_tree_release(t);
	}
	sbx_buf_release(&ft->pp);
	sbx_buf_release(&ft->tp);
	if (filled) {
		FS_COUNT(fs, data_miss);
		fcache_mirror(fs, fc, false);
	}
	return filled;
}

/* fcache_tree_begin() and its listing, here: 1 when fc was filled from
 * it, else 0 (fetch as usual). fc->lock held. */
static int fill_from_dir(struct sbx_fs *fs, struct fcache *fc)
{
	struct sbx_rfs_tree t = {0};
	struct fcache_tree ft;
	int r;

	if (!fcache_tree_begin(fs, fc, &ft))
		return 0;
	if (fs->opts->tree_entries > 0)
		r = sbx_rfs_readtree(fs->rfs, ft.tp.data, (uint32_t)fs->opts->tree_entries,
				     SBX_RFS_TREE_DATA, &t, NULL);
	else
		r = tree_of_one(fs, ft.tp.data, &t);
	return fcache_tree_end(fs, fc, &ft, r, &t);
}

int fcache_fetch_begin(struct sbx_fs *fs, struct fcache *fc, struct fcache_fetch *ff)
{
	int r;

	memset(ff, 0, sizeof(*ff));
	ff->ep = fs_epoch(fs);
	pthread_mutex_lock(&fs->lock);
	r = node_path(fc->node, fs->root, &ff->path);
	ff->gen0 = fc->node->gen;
	ff->hint = fc->node->attr.size;
	pthread_mutex_unlock(&fs->lock);
	if (r == -ESTALE && fc->loaded)
		r = 0; /* unlinked while open: what we have is the file */
	else
		r = r ?: fcache_spill(fs, fc, ff->hint) ?: fs_check_alive(fs) ?: 1;
	if (r <= 0)
		sbx_buf_release(&ff->path);
	return r;
}

int fcache_fetch_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_fetch *ff, int r,
		     bool unchanged, uint64_t len, const struct sbx_rfs_attr *a, const char *val)
{
	sbx_buf_release(&ff->path);
	if (r < 0) {
		if (!unchanged)
			fc->loaded = false; /* fd may hold part of a new version */
		return r;
	}
	if (unchanged) {
		FS_COUNT(fs, data_revalidated);
	} else {
		FS_COUNT(fs, data_miss);
		r = fcache_spill(fs, fc, len);
		if (r == 0 && ftruncate(fc->fd, (off_t)len) < 0)
			r = -errno;
		if (r < 0) {
			fc->loaded = false;
			return r;
		}
		fc->size = len;
		memcpy(fc->validator, val, sizeof(fc->validator));
	}
	fc->loaded = true;
	fc->revalidate = false;
	fc->loaded_epoch = ff->ep;
	fc->ver = *a;
	fc->made_here = false;
	pthread_mutex_lock(&fs->lock);
	fs_node_set_attr(fs, fc->node, a, ff->gen0);
	pthread_mutex_unlock(&fs->lock);
	fcache_mirror(fs, fc, false);
	return 0;
}

/* Fetches or revalidates the content (fc->lock held). */
static int ensure_loaded(struct sbx_fs *fs, struct fcache *fc)
{
	char val[SBX_RFS_VALIDATOR_MAX];
	struct fcache_fetch ff;
	struct sbx_rfs_attr a;
	bool unchanged = false;
	uint64_t len = 0;
	int r;

	if (fcache_ready(fs, fc)) {
		FS_COUNT(fs, data_hit);
		return 0;
	}
	if (fill_from_dir(fs, fc))
		return 0;
	r = fcache_fetch_begin(fs, fc, &ff);
	if (r <= 0)
		return r;
	r = sbx_rfs_fetch(fs->rfs, ff.path.data, fc->fd, fc->loaded ? fc->validator : NULL, ff.hint,
			  &unchanged, &len, &a, val, NULL);
	return fcache_fetch_end(fs, fc, &ff, r, unchanged, len, &a, val);
}

int fcache_pread_locked(struct fcache *fc, char *buf, size_t size, uint64_t off, size_t *ret_n)
{
	size_t done = 0;
	int r = 0;

	while (off + done < fc->size && done < size) {
		size_t want = size - done;
		ssize_t n;

		if (want > fc->size - off - done)
			want = (size_t)(fc->size - off - done);
		n = pread(fc->fd, buf + done, want, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		done += (size_t)n;
	}
	*ret_n = done;
	return r;
}

int fcache_read_locked(struct sbx_fs *fs, struct fcache *fc, char *buf, size_t size, uint64_t off,
		       size_t *ret_n)
{
	int r;

	*ret_n = 0;
	if (fcr_use(fs, fc))
		return fcr_read(fs, fc, buf, size, off, ret_n);
	r = ensure_loaded(fs, fc);
	return r ?: fcache_pread_locked(fc, buf, size, off, ret_n);
}

static int store(struct sbx_fs *fs, struct fcache *fc, bool durable);

/* A new file that a write makes larger than whole_max is written through
 * from then on, as a large file is: what it holds is stored now (which
 * creates it), and fc becomes ranged. Else a large new file would reach
 * this disk whole before its first byte left for the sandbox at close.
 * Only for a file this mount made (fc->made_here: an existing one is
 * never replaced by a partial copy) and a transport that writes in place.
 * 1 when fc is ranged now, 0 when it stays whole, or a negative errno. */
static int grow_through(struct sbx_fs *fs, struct fcache *fc, uint64_t end)
{
	int r;

	if (fc->ranged || !fc->made_here || !fc->dirty || fc->err ||
	    end <= ((uint64_t)fs->opts->whole_max_kb << 10) || !sbx_rfs_writes_in_place(fs->rfs))
		return 0;
	/* a store queued by an earlier close (wback.h) is this one: the
	 * queue's turn comes to a ranged file then (fcache_behind_store) */
	fc->behind = false;
	r = store(fs, fc, false);
	fcache_queued_sync(fc);
	if (r < 0 || fc->made_here)
		return r; /* still made_here: unlinked, it stays a local copy */
	fcr_from_whole(fs, fc);
	return 1;
}

bool fcache_write_needs_load(struct sbx_fs *fs, struct fcache *fc)
{
	return !fcr_use(fs, fc) && !(fc->loaded && !fc->revalidate) && !fcache_ready(fs, fc);
}

int fcache_write_locked(struct sbx_fs *fs, struct fcache *fc, const char *buf, size_t size,
			uint64_t off, bool append)
{
	size_t done = 0;
	int r;

	if (fcr_use(fs, fc)) {
		r = fcr_write(fs, fc, buf, size, off, append);
		if (r <= 0)
			return r;
	}
	r = fc->loaded && !fc->revalidate ? 0 : ensure_loaded(fs, fc);
	if (append)
		off = fc->size;
	r = r ?: grow_through(fs, fc, off + size);
	if (r == 1) {
		r = fcr_write(fs, fc, buf, size, off, false);
		if (r <= 0)
			return r;
		r = 0; /* made whole again (no handle after all): on below */
	}
	r = r ?: fcache_spill(fs, fc, off + size);
	while (r == 0 && done < size) {
		ssize_t n = pwrite(fc->fd, buf + done, size - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (done) {
		if (off + done > fc->size)
			fc->size = off + done;
		fc->dirty = true;
		fcache_pend_drop_times(fc);
		fcache_mirror(fs, fc, true);
	}
	return r;
}

int fcache_truncate_locked(struct sbx_fs *fs, struct fcache *fc, uint64_t size)
{
	int r = 0;

	if (fcr_use(fs, fc))
		return fcr_truncate(fs, fc, size);
	if (size > 0 && (!fc->loaded || fc->revalidate))
		r = ensure_loaded(fs, fc);
	if (r == 0 && !fc->dirty && fs->opts->whole_max_kb >= 0 &&
	    size > ((uint64_t)fs->opts->whole_max_kb << 10)) {
		/* grown past whole_max: the size is set in the sandbox now, so
		 * that `truncate -s 1G` moves no data */
		fcr_from_whole(fs, fc);
		return fcr_truncate(fs, fc, size);
	}
	r = r ?: fcache_spill(fs, fc, size);
	if (r == 0 && ftruncate(fc->fd, (off_t)size) < 0)
		r = -errno;
	if (r == 0) {
		fc->size = size;
		fc->loaded = true;
		fc->revalidate = false;
		fc->dirty = true;
		fcache_mirror(fs, fc, true);
	}
	return r;
}

int fcache_st_begin(struct sbx_fs *fs, struct fcache *fc, bool durable, struct fcache_st *st)
{
	struct sbx_rfs_store_opts *o = &st->o;
	struct node *n = fc->node;
	bool creates, root;
	int r;

	memset(st, 0, sizeof(*st));
	sbx_buf_init(&st->path);
	pthread_mutex_lock(&fs->lock);
	r = node_path(n, fs->root, &st->path);
	o->in_place = n->attr.nlink > 1;
	o->durable = durable;
	o->cred = fc->writer;
	if (o->cred) {
		o->in_place = true; /* see writer in fcache.h */
	} else {
		o->attrs.valid |= SBX_RFS_SET_MODE | SBX_RFS_SET_UID | SBX_RFS_SET_GID;
		o->attrs.mode = n->attr.mode & 07777;
		o->attrs.uid = n->attr.uid;
		o->attrs.gid = n->attr.gid;
	}
	creates = n->unstored;
	root = o->cred ? o->cred->uid == 0 : fs->create_ids_known && fs->create_uid == 0;
	pthread_mutex_unlock(&fs->lock);
	if (r == -ESTALE) {
		/* unlinked: its content goes with it, as on a local disk */
		fc->dirty = false;
		fcache_queued_sync(fc);
		return 0;
	}
	r = r ?: fs_check_alive(fs);
	if (r < 0)
		return fcache_st_end(fs, fc, st, r, NULL, NULL);
	/* adds the pending changes; later ones wait for its end */
	fcache_store_begin(fs, fc, &o->attrs, o->cred, creates, root);
	return 1;
}

int fcache_st_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_st *st, int r,
		  const struct sbx_rfs_attr *a, const char *val)
{
	struct fs_ids sib = {.n = 0};
	struct node *n = fc->node;

	FS_COUNT(fs, stores);
	if (r < 0) {
		FS_COUNT(fs, store_errors);
		fc->err = r;
		fcache_store_failed(fs, fc);
		return r;
	}
	fc->dirty = false;
	fc->err = 0;
	fc->undurable = !st->o.durable;
	memcpy(fc->validator, val, sizeof(fc->validator));
	fc->loaded_epoch = fs_epoch(fs);
	fc->ver = *a;
	fc->made_here = false;
	pthread_mutex_lock(&fc->plock); /* no change between the answer and the node */
	pthread_mutex_lock(&fs->lock);
	n->unstored = false; /* it exists now: its inode number is known */
	fcache_store_node_locked(fs, fc, a);
	/* The store put a name into the directory (a new file, or a whole
	 * one renamed over the old), mostly behind a close; whoever waits
	 * for it (fsync) waits for the file, not for the directory's times.
	 * A watched directory's change report brings them (the name's event
	 * makes them stale, the directory's own report after it fresh), so
	 * they are kept until then rather than asked for: with allow_other
	 * the kernel checks every create's permission against them. */
	if (n->parent && fs->watching && n->parent->watched)
		fs_dir_entry_set_keep(fs, n->parent, n->name, &n->attr, NULL);
	else if (n->parent)
		fs_dir_entry_set(fs, n->parent, n->name, &n->attr, NULL);
	fs_siblings_stale(fs, n, &sib); /* written in place: one file, many names */
	pthread_mutex_unlock(&fs->lock);
	pthread_mutex_unlock(&fc->plock);
	fs_notify_attrs(fs, &sib);
	return 0;
}

void fcache_st_out(struct sbx_fs *fs, struct fcache *fc, struct fcache_st *st)
{
	fcache_mirror(fs, fc, false);
	sbx_buf_release(&st->path);
}

/* Uploads the content (fc->lock held, fc->dirty); durable: onto the
 * sandbox's disk (fcache_fsync). */
static int store(struct sbx_fs *fs, struct fcache *fc, bool durable)
{
	char val[SBX_RFS_VALIDATOR_MAX];
	struct fcache_st st;
	struct sbx_rfs_attr a;
	int r = fcache_st_begin(fs, fc, durable, &st);

	if (r == 1) {
		r = sbx_rfs_store(fs->rfs, st.path.data, fc->fd, fc->size, &st.o, &a, val, NULL);
		r = fcache_st_end(fs, fc, &st, r, &a, val);
		if (r == 0)
			fcache_store_after(fs, fc); /* the changes made meanwhile */
	}
	fcache_st_out(fs, fc, &st);
	return r;
}

/* A store made outside the write-behind queue must not pass a
 * directory's attribute changes queued before it (dattr.h): the store
 * would move the mtime they set. */
void fcache_sync_dirs(struct sbx_fs *fs)
{
	wback_drain_dirs(fs->wb);
}

bool fcache_sync_lock(struct sbx_fs *fs, struct fcache *fc, bool fsync)
{
	fcache_sync_dirs(fs);
	if (!fsync)
		return fcache_lock_unless_clean_read(fc); /* a `cat` that exits while its read waits */
	fcache_lock(fc);
	return true;
}

int fcache_flush_locked(struct sbx_fs *fs, struct fcache *fc)
{
	if (fc->ranged)
		return fcr_sync(fs, fc, false);
	return fc->dirty ? store(fs, fc, false) : 0;
}

int fcache_flush(struct sbx_fs *fs, struct fcache *fc)
{
	int r;

	if (!fcache_sync_lock(fs, fc, false))
		return 0;
	r = fcache_flush_locked(fs, fc);
	fcache_unlock(fc);
	return r;
}

int fcache_synced_begin(struct sbx_fs *fs, struct fcache *fc, struct sbx_buf *path)
{
	int r;

	pthread_mutex_lock(&fs->lock);
	r = node_path(fc->node, fs->root, path);
	pthread_mutex_unlock(&fs->lock);
	if (r == -ESTALE)
		return 0; /* unlinked: nothing of it to keep */
	r = r ?: fs_check_alive(fs);
	return r < 0 ? r : 1;
}

int fcache_synced_end(struct fcache *fc, int r)
{
	if (r == -ENOTSUP)
		r = 0; /* the shell transport: no handles, no fsync */
	if (r == 0)
		fc->undurable = false;
	return r;
}

/* An FSYNC in the sandbox of what was stored before (fc->lock held, no
 * write handle open). */
static int sync_stored(struct sbx_fs *fs, struct fcache *fc)
{
	struct sbx_buf path = SBX_BUF_INIT;
	int r = fcache_synced_begin(fs, fc, &path);

	if (r == 1)
		r = fcache_synced_end(fc, sbx_rfs_fsync(fs->rfs, path.data, NULL));
	sbx_buf_release(&path);
	return r;
}

void fcache_count_fsync(struct sbx_fs *fs)
{
	if (sbx_rfs_writes_in_place(fs->rfs)) /* the shell transport makes no FSYNC */
		FS_COUNT(fs, fsyncs);
}

int fcache_fsync_locked(struct sbx_fs *fs, struct fcache *fc)
{
	int r;

	if (fc->ranged && fc->wf)
		r = fcr_sync(fs, fc, true);
	else if (!fc->ranged && fc->dirty)
		r = store(fs, fc, true);
	else if (fc->undurable)
		r = sync_stored(fs, fc);
	else
		return 0; /* nothing this mount wrote is left to sync */
	if (r == 0)
		fcache_count_fsync(fs);
	return r;
}

bool fcache_behind_begin_locked(struct sbx_fs *fs, struct fcache *fc, bool *ret_empty,
				bool *ret_queued)
{
	bool ok;

	*ret_queued = false;
	pthread_mutex_lock(&fs->lock);
	/* behind: fcache_behind_store() clears it under fc->lock before it
	 * stores, so the store has not begun */
	*ret_queued = !fc->ranged && fc->behind && !fc->err;
	/* after a failed store the close retries it itself, and says how it went */
	ok = !fc->ranged && fc->dirty && !fc->behind && !fc->err && fc->node->unstored;
	if (ok) {
		fc->behind = true;
		fc->refs++;
		*ret_empty = fc->size == 0;
	}
	pthread_mutex_unlock(&fs->lock);
	if (ok)
		fcache_queued_sync(fc); /* a setattr now goes with it, waiting for nothing */
	return ok;
}

int fcache_behind_store(struct sbx_fs *fs, struct fcache *fc)
{
	int r = 0;

	fcache_lock(fc);
	fc->behind = false;
	if (fc->ranged) {
		/* stored and written through since it was queued (grow_through):
		 * its writes are synced by its flush, fsync or last close */
		fcache_queued_sync(fc);
	} else if (fc->dirty) {
		r = store(fs, fc, false); /* takes over from queued: no setattr waits in between */
		FS_COUNT(fs, stores_behind);
	} else {
		fcache_queued_sync(fc);
	}
	fcache_unlock(fc);
	return r;
}

void fcache_behind_cancel(struct sbx_fs *fs, struct fcache *fc)
{
	fcache_lock(fc);
	pthread_mutex_lock(&fs->lock);
	fc->behind = false;
	pthread_mutex_unlock(&fs->lock);
	fcache_queued_sync(fc); /* a setattr goes with the close's store, or after it */
	fcache_unlock(fc);
	fcache_release(fs, fc);
}

void fcache_mark_unstored(struct sbx_fs *fs, struct fcache *fc)
{
	fcache_lock(fc);
	fc->dirty = true;
	fcache_unlock(fc);
	fcache_mirror(fs, fc, false);
}

/* The open cache of node id when its file was only created here (one
 * more reference), else NULL. */
static struct fcache *unstored_fc(struct sbx_fs *fs, uint64_t id)
{
	struct fcache *fc = NULL;
	struct node *n;

	pthread_mutex_lock(&fs->lock);
	n = id ? node_get(&fs->nodes, id) : NULL;
	if (n && n->unstored)
		fc = fcache_get_locked(fs, n);
	pthread_mutex_unlock(&fs->lock);
	return fc;
}

int fcache_settle(struct sbx_fs *fs, uint64_t id)
{
	struct fcache *fc = unstored_fc(fs, id);
	int r;

	if (!fc)
		return 0;
	r = fcache_flush(fs, fc);
	fcache_release(fs, fc);
	return r;
}

bool fcache_drop_unstored(struct sbx_fs *fs, uint64_t id)
{
	struct fcache *fc = unstored_fc(fs, id);
	struct node *n;
	bool done;

	if (!fc)
		return false;
	n = fc->node;
	/* under fc->lock no store is running: unstored still set means none
	 * began */
	fcache_lock(fc);
	pthread_mutex_lock(&fs->lock);
	done = n->unstored;
	n->unstored = false;
	pthread_mutex_unlock(&fs->lock);
	if (done) {
		fc->dirty = false;
		fcache_queued_sync(fc);
	}
	fcache_unlock(fc);
	if (done)
		fcache_mirror(fs, fc, false);
	fcache_release(fs, fc);
	return done;
}

/* fcache_set_writer(), fc->lock held. */
static int set_writer_locked(struct fcache *fc, const struct sbx_rfs_cred *cred)
{
	int r = 0;

	if (!cred) {
		free(fc->writer);
		fc->writer = NULL;
	} else if (!fc->writer && !(fc->writer = malloc(sizeof(*fc->writer)))) {
		r = -ENOMEM;
	} else {
		*fc->writer = *cred;
	}
	return r;
}

int fcache_set_writer(struct fcache *fc, const struct sbx_rfs_cred *cred)
{
	int r;

	fcache_lock(fc);
	r = set_writer_locked(fc, cred);
	fcache_unlock(fc);
	return r;
}

bool fcache_forget_clean_locked(struct sbx_fs *fs, struct fcache *fc)
{
	bool clean = !fc->dirty;

	if (clean) {
		fc->loaded = false;
		fc->revalidate = true;
		fcache_mirror(fs, fc, false);
	}
	return clean;
}

void fcache_settle_locked(struct sbx_fs *fs, struct fcache *fc, bool keep)
{
	struct node *n = fc->node;
	bool evict = fc->evict_asked;

	if (--fc->releasing == 0)
		fc->evict_asked = false;
	if (fc->refs == 0 && fc->releasing == 0 && n->fc == fc && !fc->idle) {
		n->local = n->local_dirty = false; /* attributes are remote again */
		if (keep && n->parent && !evict) {
			idle_push(fs, fc);
			idle_trim(fs);
		} else {
			to_reap(fs, fc);
		}
	}
}
