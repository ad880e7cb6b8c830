/* fcache_release.c - giving back a reference on a file's cache; the last
 * one stores what is left and lets the cache go idle, or be freed.
 *
 * What a last release may have to store: writes that came after the
 * file's last close (FUSE flush), as through a shared mapping, whose
 * pages the kernel writes back when it is unmapped, then releases the
 * file. The kernel does not wait for a release's answer, so a FUSE
 * release is answered at once and its store goes on without a thread
 * (fcache_release_later): the file's lock is taken or queued for
 * (fcache_lock_or_queue), the store is a STORE answered later
 * (fcache_store_later, fcache_astore.c), and the end runs where its
 * answer arrives. Until that end the cache counts as in use
 * (fc->releasing): an open of the file queues behind the store, and
 * fs_flush_all() (a job, `sbx exec`, the unmount) waits for it.
 *
 * A store that fails for good keeps the content in the cache dir as
 * sbxfs-unsaved-* and says where (the file cannot be given back to its
 * writer any more). A large file's writes through are waited for and its
 * handle closed (fcr_quiesce), on a thread of fs->bg.
 */
#include "fs/fcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/changes.h"
#include "fs/fcache_range.h"
#include "fs/inval.h"
#include "fs/later.h"
#include "util/log.h"
#include "util/rand.h"

/* A file created here whose store failed for good never was in the
 * sandbox: its name goes from the listing and the kernel's cache (as if
 * the sandbox had removed it). fs->lock NOT held. */
static void forget_unstored(struct sbx_fs *fs, struct node *n)
{
	struct fs_change *ch = calloc(1, sizeof(*ch));
	struct sbx_buf dir = SBX_BUF_INIT;
	struct inval *iv;
	int r;

	pthread_mutex_lock(&fs->lock);
	r = n->unstored && n->parent && n->name ? node_path(n->parent, fs->root, &dir) : -ENOENT;
	n->unstored = false;
	if (r == 0 && ch) {
		ch->dir = strdup(dir.data);
		ch->name = strdup(n->name);
	}
	pthread_mutex_unlock(&fs->lock);
	sbx_buf_release(&dir);
	iv = __atomic_load_n(&fs->inval, __ATOMIC_ACQUIRE);
	if (r < 0 || !ch || !ch->dir || !ch->name || !iv) {
		fs_change_free(ch);
		return;
	}
	ch->mask = SBX_RFS_CH_DELETE;
	ch->seq = UINT64_MAX; /* newer than anything we have of it */
	inval_post_change(iv, ch);
}

/* Keeps the content of a file that could not be stored in the cache dir. */
static void keep_unsaved(struct sbx_fs *fs, struct fcache *fc, int err)
{
	struct sbx_buf path = SBX_BUF_INIT;
	char proc[64], name[96], hex[9];

	if (fcache_spill(fs, fc, UINT64_MAX) < 0) /* a memfd cannot be linked */
		sbx_debug("fcache: moving unsaved content to the cache dir failed");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fc->fd);
	if (sbx_rand_hex(hex, 4) < 0)
		hex[0] = '\0';
	snprintf(name, sizeof(name), "sbxfs-unsaved-%llu-%s", (unsigned long long)fc->node->id,
		 hex);
	pthread_mutex_lock(&fs->lock);
	if (node_path(fc->node, fs->root, &path) < 0)
		sbx_buf_puts(&path, "(unlinked)");
	pthread_mutex_unlock(&fs->lock);
	if (linkat(AT_FDCWD, proc, fs->cache_dirfd, name, AT_SYMLINK_FOLLOW) == 0)
		sbx_log(SBX_LOG_ERR,
			"could not store %s in the sandbox (%s); its content is "
			"kept in %s/%s",
			path.data ? path.data : "?", strerror(-err),
			fs->opts->cache_dir ? fs->opts->cache_dir : "the cache dir", name);
	else
		sbx_log(SBX_LOG_ERR,
			"could not store %s in the sandbox (%s), nor keep it "
			"locally (%s)",
			path.data ? path.data : "?", strerror(-err), strerror(errno));
	sbx_buf_release(&path);
}

/* Drops a reference (fs->lock NOT held): true when it was the last, now
 * counted in fc->releasing (the caller ends it with release_end). */
static bool release_ref(struct sbx_fs *fs, struct fcache *fc)
{
	bool last;

	pthread_mutex_lock(&fs->lock);
	last = --fc->refs == 0;
	if (last)
		fc->releasing++;
	pthread_mutex_unlock(&fs->lock);
	return last;
}

/* The end of a last release whose store (or a large file's writes
 * through) gave r; fc->lock held, let go here. May write the content to
 * the cache dir (r < 0): not on libsbx's completion thread then. */
static void release_end(struct sbx_fs *fs, struct fcache *fc, int r)
{
	struct node *n = fc->node;
	bool keep;

	if (r < 0 && fc->ranged) {
		sbx_log(SBX_LOG_ERR, "a write to a large file failed: %s", strerror(-r));
	} else if (r < 0) {
		keep_unsaved(fs, fc, r);
		fc->dirty = false;
		fc->loaded = false; /* not the sandbox's version: never reuse */
		forget_unstored(fs, n);
	}
	keep = (fc->loaded || (fc->ranged && fc->valid.bytes && !fc->wrote)) &&
	       fs->opts->data_cache_mb > 0;
	fcache_unlock(fc);
	/* unlocked before it may be reaped; refs == 0 says nobody uses it */
	pthread_mutex_lock(&fs->lock);
	fcache_settle_locked(fs, fc, keep);
	pthread_mutex_unlock(&fs->lock);
	fcache_reap(fs);
}

/* What a last release leaves to store, made on this thread (fc->lock
 * held): a whole file's changes, or a large file's writes through
 * waited for and its handle closed. 0 or the error. */
static int store_here(struct sbx_fs *fs, struct fcache *fc)
{
	return fc->ranged ? fcr_quiesce(fs, fc) : fcache_flush_locked(fs, fc);
}

void fcache_release(struct sbx_fs *fs, struct fcache *fc)
{
	if (!release_ref(fs, fc))
		return;
	fcache_lock(fc);
	release_end(fs, fc, store_here(fs, fc));
}

/* ---- a last release that holds no thread across its round trips ---- */

/* A step of it run on a thread of fs->bg (counted by later_begin). */
struct rel_job {
	struct fcache_lwait w; /* first: queued for fc->lock, or a job alone */
	struct fcache *fc;
	int r;
	enum { REL_START, REL_LOCKED, REL_END } step;
};

static void release_locked(struct sbx_fs *fs, struct fcache *fc);
static void release_start(struct sbx_fs *fs, struct fcache *fc, bool on_bg);

static void rel_job_run(struct bgrun_job *bj)
{
	struct rel_job *j = (struct rel_job *)bj;
	struct sbx_fs *fs = j->w.fs;

	switch (j->step) {
	case REL_START:
		if (release_ref(fs, j->fc))
			release_start(fs, j->fc, true);
		break;
	case REL_LOCKED: release_locked(fs, j->fc); break;
	case REL_END: release_end(fs, j->fc, j->r); break;
	}
	free(j);
	later_end(fs);
}

/* Runs step on a thread of fs->bg; false when it cannot (no memory). */
static bool rel_job_push(struct sbx_fs *fs, struct fcache *fc, int step, int r)
{
	struct rel_job *j = calloc(1, sizeof(*j));

	if (!j)
		return false;
	j->w.fs = fs;
	j->w.job.run = rel_job_run;
	j->fc = fc;
	j->r = r;
	j->step = step;
	later_begin(fs); /* an unmount waits for it */
	bgrun_push(fs->bg, &j->w.job);
	return true;
}

/* The release's store was answered (libsbx's completion thread, or the
 * thread that could not send it); fc->lock held. */
static void stored(struct sbx_fs *fs, struct fcache *fc, int r)
{
	if (r < 0 && rel_job_push(fs, fc, REL_END, r))
		return; /* keep_unsaved() writes files: not on this thread */
	release_end(fs, fc, r);
}

/* A last release with fc->lock held, on a thread that may wait. */
static void release_locked(struct sbx_fs *fs, struct fcache *fc)
{
	if (!fc->ranged && fc->dirty && fcache_store_later(fs, fc, stored))
		return;
	if (fc->ranged || fc->dirty)
		fcache_hold_long(fc); /* whoever needs it meanwhile queues */
	release_end(fs, fc, store_here(fs, fc));
}

/* fc->lock is handed over (w queued): the release goes on, on a thread
 * of fs->bg. */
static void rel_lock_came(struct fcache_lwait *w)
{
	struct rel_job *j = (struct rel_job *)w;
	struct sbx_fs *fs = w->fs;
	struct fcache *fc = j->fc;

	free(j);
	release_locked(fs, fc);
}

/* Takes fc->lock for a last release counted by release_ref(), or queues
 * for it; on a thread that may wait for a moment (a FUSE worker, or
 * fs->bg's: on_bg). */
static void release_start(struct sbx_fs *fs, struct fcache *fc, bool on_bg)
{
	struct rel_job *j = fs->bg ? calloc(1, sizeof(*j)) : NULL;

	if (!j) {
		fcache_lock(fc); /* (no fs->bg, or out of memory: waits here) */
		release_locked(fs, fc);
		return;
	}
	j->fc = fc;
	j->w.run = rel_lock_came;
	if (fcache_lock_or_queue(fs, fc, &j->w, 0) == FCACHE_QUEUED)
		return;
	free(j);
	if (fc->ranged && !on_bg) {
		/* its writes through and read-aheads are waited for: there */
		fcache_hold_long(fc);
		if (rel_job_push(fs, fc, REL_LOCKED, 0))
			return;
	}
	release_locked(fs, fc);
}

void fcache_release_later(struct sbx_fs *fs, struct fcache *fc)
{
	if (release_ref(fs, fc))
		release_start(fs, fc, false);
}

void fcache_release_nowait(struct sbx_fs *fs, struct fcache *fc)
{
	bool last;

	pthread_mutex_lock(&fs->lock);
	last = fc->refs == 1;
	if (!last)
		fc->refs--; /* not the last: nothing more to do */
	pthread_mutex_unlock(&fs->lock);
	if (!last)
		return;
	if (!fs->bg || !rel_job_push(fs, fc, REL_START, 0))
		fcache_release(fs, fc); /* (no thread of its own: better late than never) */
}
