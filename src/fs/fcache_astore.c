/* fcache_astore.c - a close or fsync answered when its store is made.
 *
 * Closing a file that the sandbox has (close-to-open) and fsync(2) store
 * its changes and return the store's error. With the agent the worker
 * thread readies the store, hands it to libsbx (a STORE of
 * sbx_rfs_submit(): every request of it sent back to back) and goes back
 * to the FUSE queue. The store keeps fc->lock (fcache.h, Locking) until
 * libsbx's completion thread ends it: the cache takes the answer, the
 * attribute changes made during the store are applied (a SETATTR sent
 * from there, the next step when it is answered), fc->lock goes and the
 * request is answered. Whoever needs the file meanwhile (a write, another
 * close, fs_flush_all() before a job) waits for fc->lock as it waited for
 * a store made on a worker thread.
 *
 * An fsync of a file with nothing left to store, which a close stored
 * before without asking for its disk, is an FSYNC of sbx_rfs_submit()
 * the same way (fc->lock held until its answer).
 *
 * The close of a large file written through (fcache_range.c) waits for
 * its writes' answers and then stats the file: a STAT sent behind the
 * writes does both, since the agent answers in order (fcr_sync_begin);
 * its fsync is an FSYNC on its handle behind them, and a stat.
 *
 * The store at a file's last release (fcache_release.c) is one of these
 * too, with no request to answer: fcache_store_later().
 *
 * What is not answered later: every store with the shell transport
 * (sbx_rfs_submit() answers on the calling thread there).
 */
#include "fs/fcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fcache_range.h"
#include "fs/later.h"
#include "fs/wback.h"

/* A store in flight for a FUSE request; owns itself. */
struct astore {
	struct sbx_rfs_async q; /* first: the STORE, then each SETATTR after it */
	struct sbx_fs *fs;
	struct fcache *fc;
	fuse_req_t req;
	bool fsync;
	void (*reply)(void *ctx, fuse_req_t req, int r);
	void *ctx;
	/* a store with no request (fcache_store_later): called instead of
	 * reply, fc->lock still held */
	void (*locked_done)(struct sbx_fs *fs, struct fcache *fc, int r);
	int r;			   /* the store's result */
	struct fcache_st st;	   /* the store */
	struct fcache_after af;	   /* the SETATTR in flight after it */
	struct sbx_rfs_setattr sa; /* what that SETATTR changes */
	uint64_t gen0;		   /* a large file's close: the node's generation */
};

/* The end: fc->lock goes, the request is answered (or locked_done). */
static void finish(struct astore *as)
{
	struct sbx_fs *fs = as->fs;

	fcache_st_out(fs, as->fc, &as->st);
	if (as->r == 0 && as->fsync)
		fcache_count_fsync(fs);
	if (as->locked_done) {
		as->locked_done(fs, as->fc, as->r);
	} else {
		fcache_unlock(as->fc);
		as->reply(as->ctx, as->req, as->r);
	}
	free(as);
	later_end(fs);
}

static void after_done(struct sbx_rfs_async *q);

/* The attribute changes made during the store, one SETATTR at a time;
 * then the end. */
static void after_step(struct astore *as)
{
	struct sbx_fs *fs = as->fs;
	struct fcache *fc = as->fc;
	int r;

	while (fcache_after_next(fs, fc, &as->sa)) {
		r = fcache_after_begin(fs, fc, &as->af);
		if (r == 0)
			continue;
		if (r < 0) {
			fcache_after_end(fs, fc, &as->af, r, NULL);
			continue;
		}
		memset(&as->q, 0, sizeof(as->q));
		as->q.op = SBX_RFS_OP_SETATTR;
		as->q.path = as->af.path.data;
		as->q.cred = fc->attrs.st_cred;
		as->q.sa = &as->sa;
		as->q.done = after_done;
		sbx_rfs_submit(fs->rfs, &as->q);
		return;
	}
	finish(as);
}

static void after_done(struct sbx_rfs_async *q)
{
	struct astore *as = (struct astore *)q;

	fcache_after_end(as->fs, as->fc, &as->af, q->rc, &q->attr);
	after_step(as);
}

static void synced(struct sbx_rfs_async *q)
{
	struct astore *as = (struct astore *)q;

	as->r = fcache_synced_end(as->fc, q->rc);
	finish(as);
}

/* An fsync of what was stored before (fc->lock held, as ready): 1 once
 * handed over, else the result to answer (nothing sent). */
static int sync_req(struct sbx_fs *fs, struct fcache *fc, struct astore *as)
{
	int r = fcache_synced_begin(fs, fc, &as->st.path);

	if (r != 1)
		return r;
	fcache_hold_long(fc);
	later_begin(fs); /* an unmount answers it before it goes */
	as->q.op = SBX_RFS_OP_FSYNC;
	as->q.path = as->st.path.data;
	as->q.done = synced;
	sbx_rfs_submit(fs->rfs, &as->q);
	return 1;
}

static void stored(struct sbx_rfs_async *q)
{
	struct astore *as = (struct astore *)q;

	as->r = fcache_st_end(as->fs, as->fc, &as->st, q->rc, &q->attr, q->fetched_validator);
	if (as->r == 0)
		after_step(as);
	else
		finish(as);
}

/* A store of the whole file (fc->lock held, as ready): 1 once handed
 * over, else the result to answer (nothing sent). */
static int store_req(struct sbx_fs *fs, struct fcache *fc, struct astore *as)
{
	int r = fcache_st_begin(fs, fc, as->fsync, &as->st);

	if (r != 1)
		return r;
	fcache_hold_long(fc);
	later_begin(fs); /* an unmount answers it before it goes */
	as->q.op = SBX_RFS_OP_STORE;
	as->q.path = as->st.path.data;
	as->q.fd = fc->fd;
	as->q.count = fc->size;
	as->q.store = &as->st.o;
	as->q.done = stored;
	sbx_rfs_submit(fs->rfs, &as->q);
	return 1;
}

static void closed(struct sbx_rfs_async *q)
{
	struct astore *as = (struct astore *)q;

	as->r = as->fsync ? fcr_fsync_end(as->fs, as->fc, q->rc, &q->attr, as->gen0)
			  : fcr_close_end(as->fs, as->fc, q->rc, &q->attr, as->gen0);
	finish(as);
}

/* The close or fsync of a large file written through (fc->lock held, as
 * ready): a STAT behind its writes, or an FSYNC on its handle and a stat
 * (fcr_sync_begin); 1 once handed over, else the result to answer. */
static int ranged_req(struct sbx_fs *fs, struct fcache *fc, struct astore *as)
{
	int r = fcr_sync_begin(fs, fc, as->fsync, &as->st.path, &as->gen0);

	if (r != 1)
		return r;
	fcache_hold_long(fc);
	later_begin(fs);
	as->q.op = as->fsync ? SBX_RFS_OP_FSYNC : SBX_RFS_OP_STAT;
	as->q.wf = as->fsync ? fc->wf : NULL;
	as->q.path = as->st.path.data;
	as->q.done = closed;
	sbx_rfs_submit(fs->rfs, &as->q);
	return 1;
}

/* The close or fsync once fc->lock is held (see fcache_flush_req). */
static void flush_locked(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, bool fsync,
			 void (*reply)(void *ctx, fuse_req_t req, int r), void *ctx)
{
	struct astore *as = NULL;
	bool syncs, through;
	int r;

	/* what fcache_fsync_locked() and fcache_flush_locked() would do
	 * over a round trip: a large file's writes through synced, an FSYNC
	 * alone of what was stored before, or a whole file's store */
	through = fc->ranged && fc->wf && (fsync || fc->wrote);
	syncs = fsync && !through && !(!fc->ranged && fc->dirty) && fc->undurable;
	if (!sbx_rfs_submits_async(fs->rfs) || (!through && !syncs && (fc->ranged || !fc->dirty)) ||
	    !(as = calloc(1, sizeof(*as)))) {
		r = fsync ? fcache_fsync_locked(fs, fc) : fcache_flush_locked(fs, fc);
		fcache_unlock(fc);
		reply(ctx, req, r);
		return;
	}
	as->fs = fs;
	as->fc = fc;
	as->req = req;
	as->fsync = fsync;
	as->reply = reply;
	as->ctx = ctx;
	sbx_buf_init(&as->st.path);
	r = through ? ranged_req(fs, fc, as) : syncs ? sync_req(fs, fc, as) : store_req(fs, fc, as);
	if (r == 1)
		return;
	fcache_st_out(fs, fc, &as->st);
	fcache_unlock(fc);
	free(as);
	reply(ctx, req, r);
}

/* A close, fc->lock held: the store queued for write-behind when it may
 * be, else made (flush_locked). */
static void close_locked(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req,
			 void (*reply)(void *ctx, fuse_req_t req, int r), void *ctx)
{
	bool empty = false, queued = false;

	if (fs->wb && fcache_behind_begin_locked(fs, fc, &empty, &queued)) {
		fcache_unlock(fc);
		if (wback_queue(fs->wb, fc, empty)) {
			reply(ctx, req, 0);
			return;
		}
		fcache_behind_cancel(fs, fc); /* the queue is full: stored now */
		fcache_flush_req(fs, fc, req, 0, reply, ctx);
		return;
	}
	if (queued) {
		fcache_unlock(fc);
		reply(ctx, req, 0); /* the store queued takes these changes too */
		return;
	}
	if (wback_dirs_pending(fs->wb)) {
		/* a store waits for them (fcache_sync_dirs), not holding the
		 * lock: the queue's stores may need it */
		fcache_unlock(fc);
		fcache_flush_req(fs, fc, req, 0, reply, ctx);
		return;
	}
	flush_locked(fs, fc, req, false, reply, ctx);
}

bool fcache_store_later(struct sbx_fs *fs, struct fcache *fc,
			void (*done)(struct sbx_fs *fs, struct fcache *fc, int r))
{
	struct astore *as;
	int r;

	if (!sbx_rfs_submits_async(fs->rfs) || !(as = calloc(1, sizeof(*as))))
		return false;
	as->fs = fs;
	as->fc = fc;
	as->locked_done = done;
	sbx_buf_init(&as->st.path);
	r = store_req(fs, fc, as);
	if (r == 1)
		return true;
	fcache_st_out(fs, fc, &as->st);
	free(as);
	done(fs, fc, r);
	return true;
}

/* A close or fsync queued for fc->lock. */
struct fqueued {
	struct fcache_lwait w; /* first */
	struct fcache *fc;
	fuse_req_t req;
	unsigned how;
	void (*reply)(void *ctx, fuse_req_t req, int r);
	void *ctx;
};

static void locked(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, unsigned how,
		   void (*reply)(void *ctx, fuse_req_t req, int r), void *ctx)
{
	if (how & FCACHE_BEHIND)
		close_locked(fs, fc, req, reply, ctx);
	else
		flush_locked(fs, fc, req, how & FCACHE_FSYNC, reply, ctx);
}

static void flush_run(struct fcache_lwait *w)
{
	struct fqueued *q = (struct fqueued *)w;

	locked(w->fs, q->fc, q->req, q->how, q->reply, q->ctx);
	free(q);
}

void fcache_flush_req(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, unsigned how,
		      void (*reply)(void *ctx, fuse_req_t req, int r), void *ctx)
{
	bool clean = !(how & FCACHE_FSYNC); /* a close need not wait for a read */
	struct fqueued *q = NULL;
	enum fcache_lq got;

	if (!(how & FCACHE_BEHIND))
		fcache_sync_dirs(fs); /* (else close_locked() sees to it) */
	got = fcache_lock_or_queue(fs, fc, NULL, clean ? FCACHE_LQ_CLEAN_READ : 0);
	if (got == FCACHE_BUSY && (q = calloc(1, sizeof(*q)))) {
		q->fc = fc;
		q->req = req;
		q->how = how;
		q->reply = reply;
		q->ctx = ctx;
		q->w.run = flush_run;
		got = fcache_lock_or_queue(fs, fc, &q->w, clean ? FCACHE_LQ_CLEAN_READ : 0);
		if (got == FCACHE_QUEUED)
			return;
		free(q);
	} else if (got == FCACHE_BUSY) {
		got = fcache_sync_lock(fs, fc, how & FCACHE_FSYNC) ? FCACHE_TAKEN : FCACHE_READING;
	}
	if (got == FCACHE_READING)
		reply(ctx, req, 0); /* nothing to store */
	else
		locked(fs, fc, req, how, reply, ctx);
}
