/* fcache_attr.c - attribute changes of an open file (see fcache.h,
 * struct fcache_attrs): with its next store, or right after the store in
 * flight.
 *
 * Why: Python's tarfile (and rsync, shutil.copy2, scripts) sets owner,
 * mode and times by path right after the close of each file it made; that
 * close queued the file's store (wback.h). Taking fc->lock to keep the
 * change for the store made the caller wait for the store and then, the
 * file being clean, make a setattr round trip per call (chown, chmod,
 * utime: three more a file at 50 ms). GNU tar sets them on the descriptor
 * before the close, so they always rode on the store. Here a change never
 * waits for a store that is queued or in flight: fc->plock is held only
 * for memory work.
 *
 * What may wait until after a store in flight (fcache_after_allowed): what
 * cannot fail in the sandbox for the store's own credential, so the caller
 * loses nothing by being told "done" first. The owner of a file may set
 * its times and mode (utimensat, chmod: only EPERM for others); root may
 * also change its owner and group. The store's credential owns the file
 * when the store makes it (a file created here), and the transport's ids
 * (the mount owner's requests) are root when the agent's files are root's.
 * What remains is what fails any store too (the file or its directory
 * removed in the sandbox, a read-only or full filesystem, an id the
 * sandbox's user namespace does not map): it is reported like a failed
 * write-behind store, logged, counted, and EIO for the next flush or fsync
 * of every handle then open; the node's attributes are then expired, so
 * the next stat shows the sandbox's. Anything else (another user, a size,
 * chown by a non-root owner) waits for the store as before and is applied
 * by its caller.
 *
 * Ordering: the store carries pend; the changes made while it is in
 * flight are applied after it, in one setattr, by the thread of the store,
 * before it lets go of fc->lock, so a later setattr that must wait (or
 * finds the file clean and goes to the sandbox itself), a write, fsync and
 * fs_flush_all() all come after them. The node shows every change at once
 * and keeps it over the store's answer (which predates it) and over
 * listings meanwhile (local_dirty stays set until they are applied).
 */
#include "fs/fcache.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "fs/wback.h"
#include "util/log.h"

#define TIMES                                                                                      \
	(SBX_RFS_SET_ATIME | SBX_RFS_SET_MTIME | SBX_RFS_SET_ATIME_NOW | SBX_RFS_SET_MTIME_NOW)

void fcache_setattr_merge(struct sbx_rfs_setattr *d, const struct sbx_rfs_setattr *s)
{
	if (s->valid & SBX_RFS_SET_MODE)
		d->mode = s->mode;
	if (s->valid & SBX_RFS_SET_UID)
		d->uid = s->uid;
	if (s->valid & SBX_RFS_SET_GID)
		d->gid = s->gid;
	if (s->valid & SBX_RFS_SET_SIZE)
		d->size = s->size;
	if (s->valid & (SBX_RFS_SET_ATIME | SBX_RFS_SET_ATIME_NOW))
		d->valid &= ~(SBX_RFS_SET_ATIME | SBX_RFS_SET_ATIME_NOW);
	if (s->valid & (SBX_RFS_SET_MTIME | SBX_RFS_SET_MTIME_NOW))
		d->valid &= ~(SBX_RFS_SET_MTIME | SBX_RFS_SET_MTIME_NOW);
	if (s->valid & SBX_RFS_SET_ATIME)
		d->atime = s->atime;
	if (s->valid & SBX_RFS_SET_MTIME)
		d->mtime = s->mtime;
	d->valid |= s->valid;
}

static bool same_cred(const struct sbx_rfs_cred *a, const struct sbx_rfs_cred *b)
{
	if (!a || !b)
		return !a && !b;
	return a->uid == b->uid && a->gid == b->gid;
}

bool fcache_after_allowed(const struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *caller,
			  const struct sbx_rfs_cred *storer, bool creates, bool root)
{
	if (!sa->valid || (sa->valid & SBX_RFS_SET_SIZE) || !same_cred(caller, storer))
		return false;
	if (!(sa->valid & ~(TIMES | SBX_RFS_SET_MODE)))
		return root || creates; /* the owner's, or root's */
	return root;
}

void fcache_pend_drop_times(struct fcache *fc)
{
	pthread_mutex_lock(&fc->plock);
	fc->attrs.pend.valid &= ~TIMES;
	pthread_mutex_unlock(&fc->plock);
}

void fcache_queued_sync(struct fcache *fc)
{
	pthread_mutex_lock(&fc->plock);
	fc->attrs.queued = fc->behind && fc->dirty;
	pthread_mutex_unlock(&fc->plock);
}

/* The node shows the changes sa at once (fs->lock held). */
static void node_take(struct node *n, const struct sbx_rfs_setattr *sa)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (sa->valid & SBX_RFS_SET_MODE)
		n->attr.mode = (n->attr.mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & SBX_RFS_SET_UID)
		n->attr.uid = sa->uid;
	if (sa->valid & SBX_RFS_SET_GID)
		n->attr.gid = sa->gid;
	if (sa->valid & SBX_RFS_SET_ATIME)
		n->attr.atime = sa->atime;
	if (sa->valid & SBX_RFS_SET_ATIME_NOW)
		n->attr.atime = now;
	if (sa->valid & SBX_RFS_SET_MTIME)
		n->attr.mtime = sa->mtime;
	if (sa->valid & SBX_RFS_SET_MTIME_NOW)
		n->attr.mtime = now;
	n->attr.ctime = now;
	n->gen++;
}

/* Keeps sa in to (pend or after) and shows it in the node (plock held).
 * after: the node's attributes stay ahead of the sandbox's until it is
 * applied, so fs_flush_all() finds the file and listings keep them. */
static void take(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_setattr *to,
		 const struct sbx_rfs_setattr *sa, bool after)
{
	struct sbx_rfs_setattr c = *sa;

	c.valid &= ~SBX_RFS_SET_SIZE;
	fcache_setattr_merge(to, &c);
	pthread_mutex_lock(&fs->lock);
	node_take(fc->node, &c);
	if (after)
		fc->node->local_dirty = true;
	pthread_mutex_unlock(&fs->lock);
}

/* May sa wait until after the store in flight? plock held. */
static bool after_ok(struct sbx_fs *fs, const struct fcache *fc, const struct sbx_rfs_setattr *sa,
		     const struct sbx_rfs_cred *cred)
{
	const struct fcache_attrs *at = &fc->attrs;

	/* a failure must reach the handles: only write-behind has the means */
	return fs->wb && at->st_on &&
	       fcache_after_allowed(sa, cred, at->st_cred, at->st_creates, at->st_root);
}

bool fcache_pend_attrs_nowait(struct sbx_fs *fs, struct fcache *fc,
			      const struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *cred)
{
	struct fcache_attrs *at = &fc->attrs;
	bool done = true;

	pthread_mutex_lock(&fc->plock);
	if (at->queued)
		take(fs, fc, &at->pend, sa, false); /* the queued store takes it */
	else if (after_ok(fs, fc, sa, cred))
		take(fs, fc, &at->after, sa, true);
	else
		done = false;
	pthread_mutex_unlock(&fc->plock);
	return done;
}

int fcache_pend_attrs_locked(struct sbx_fs *fs, struct fcache *fc, const struct sbx_rfs_setattr *sa)
{
	if (!fc->dirty || fc->ranged)
		return 0; /* a ranged file's writes are sent already: apply them now */
	pthread_mutex_lock(&fc->plock);
	take(fs, fc, &fc->attrs.pend, sa, false);
	pthread_mutex_unlock(&fc->plock);
	return 1;
}

int fcache_pend_attrs(struct sbx_fs *fs, struct fcache *fc, const struct sbx_rfs_setattr *sa,
		      const struct sbx_rfs_cred *cred)
{
	int r;

	if (fcache_pend_attrs_nowait(fs, fc, sa, cred))
		return 1;
	/* no store queued, or one in flight that this must wait for */
	fcache_lock(fc);
	r = fcache_pend_attrs_locked(fs, fc, sa);
	fcache_unlock(fc);
	return r;
}

void fcache_store_begin(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_setattr *sa,
			const struct sbx_rfs_cred *cred, bool creates, bool root)
{
	struct fcache_attrs *at = &fc->attrs;

	pthread_mutex_lock(&fc->plock);
	fcache_setattr_merge(sa, &at->pend);
	at->sent = at->pend;
	memset(&at->pend, 0, sizeof(at->pend));
	memset(&at->after, 0, sizeof(at->after));
	at->queued = false;
	at->st_on = true;
	at->st_creates = creates;
	at->st_root = root;
	at->st_cred = cred;
	pthread_mutex_unlock(&fc->plock);
	__atomic_add_fetch(&fs->stats.stores_in_flight, 1, __ATOMIC_RELAXED);
}

void fcache_store_failed(struct sbx_fs *fs, struct fcache *fc)
{
	struct fcache_attrs *at = &fc->attrs;
	bool began;

	pthread_mutex_lock(&fc->plock);
	began = at->st_on;
	if (began) {
		/* nothing reached the sandbox: all of it goes with the next store */
		fcache_setattr_merge(&at->sent, &at->pend);
		fcache_setattr_merge(&at->sent, &at->after);
		at->pend = at->sent;
		memset(&at->after, 0, sizeof(at->after));
		at->st_on = false;
	}
	at->queued = fc->behind && fc->dirty;
	pthread_mutex_unlock(&fc->plock);
	if (began)
		__atomic_sub_fetch(&fs->stats.stores_in_flight, 1, __ATOMIC_RELAXED);
}

void fcache_store_node_locked(struct sbx_fs *fs, struct fcache *fc, const struct sbx_rfs_attr *a)
{
	unsigned v = fc->attrs.after.valid;
	struct node *n = fc->node;
	struct sbx_rfs_attr keep = n->attr;

	n->local_dirty = false; /* the answer is the truth, but for v */
	n->gen++;
	fs_node_set_attr(fs, n, a, n->gen);
	if (!v)
		return;
	n->local_dirty = true;
	if (v & SBX_RFS_SET_MODE)
		n->attr.mode = keep.mode;
	if (v & SBX_RFS_SET_UID)
		n->attr.uid = keep.uid;
	if (v & SBX_RFS_SET_GID)
		n->attr.gid = keep.gid;
	if (v & (SBX_RFS_SET_ATIME | SBX_RFS_SET_ATIME_NOW))
		n->attr.atime = keep.atime;
	if (v & (SBX_RFS_SET_MTIME | SBX_RFS_SET_MTIME_NOW))
		n->attr.mtime = keep.mtime;
	n->attr.ctime = keep.ctime;
}

int fcache_after_begin(struct sbx_fs *fs, struct fcache *fc, struct fcache_after *af)
{
	struct node *n = fc->node;
	int r;

	sbx_buf_init(&af->path);
	pthread_mutex_lock(&fs->lock);
	r = node_path(n, fs->root, &af->path);
	af->gen0 = n->gen;
	pthread_mutex_unlock(&fs->lock);
	if (r == -ESTALE) {
		sbx_buf_release(&af->path);
		return 0; /* unlinked meanwhile: its attributes went with it */
	}
	return r ?: fs_check_alive(fs) ?: 1;
}

void fcache_after_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_after *af, int r,
		      const struct sbx_rfs_attr *a)
{
	struct fs_ids sib = {.n = 0};
	struct node *n = fc->node;
	bool ld;

	FS_COUNT(fs, attrs_after);
	pthread_mutex_lock(&fs->lock);
	if (r == 0) {
		/* unless changed again meanwhile, this answer is the truth */
		ld = n->local_dirty;
		n->local_dirty = false;
		fs_node_set_attr(fs, n, a, af->gen0);
		n->local_dirty = ld;
		if (n->parent) /* its entry's attributes: the directory is as it was */
			fs_dir_entry_set_keep(fs, n->parent, n->name, &n->attr, NULL);
		fs_siblings_stale(fs, n, &sib);
	} else {
		n->attr_expire = 0; /* the next stat asks the sandbox */
	}
	pthread_mutex_unlock(&fs->lock);
	if (r == 0) {
		fs_notify_attrs(fs, &sib);
		fc->ver = *a; /* the idle copy names this version (times and all) */
		(void)sbx_rfs_validator(fs->rfs, a, fc->validator); /* shell: keeps its own */
	} else {
		sbx_log(SBX_LOG_ERR,
			"attributes set on %s during its store could not be applied: %s",
			af->path.data ? af->path.data : "?", strerror(-r));
		wback_failed(fs->wb);
	}
	sbx_buf_release(&af->path);
}

bool fcache_after_next(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_setattr *sa)
{
	struct fcache_attrs *at = &fc->attrs;

	pthread_mutex_lock(&fc->plock);
	*sa = at->after;
	memset(&at->after, 0, sizeof(at->after));
	if (!sa->valid) {
		at->st_on = false;
		at->queued = fc->behind && fc->dirty;
	}
	pthread_mutex_unlock(&fc->plock);
	if (!sa->valid)
		__atomic_sub_fetch(&fs->stats.stores_in_flight, 1, __ATOMIC_RELAXED);
	return sa->valid != 0;
}

void fcache_store_after(struct sbx_fs *fs, struct fcache *fc)
{
	struct sbx_rfs_setattr sa;
	struct fcache_after af;
	struct sbx_rfs_attr a;
	int r;

	while (fcache_after_next(fs, fc, &sa)) {
		r = fcache_after_begin(fs, fc, &af);
		if (r == 0)
			continue;
		if (r == 1)
			r = sbx_rfs_setattr(fs->rfs, fc->attrs.st_cred, af.path.data, &sa, &a,
					    NULL);
		fcache_after_end(fs, fc, &af, r, &a);
	}
}
