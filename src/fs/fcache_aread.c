/* fcache_aread.c - a FUSE read answered when the sandbox replies.
 *
 * A read of a file whose content is not here (its first read, or the
 * first after an open that must revalidate it) needs one round trip: a
 * tree listing that brings its directory's small files (prefetch.h), or
 * a fetch of the file, or both. With the agent the worker thread hands
 * that round trip to libsbx (later.h) and goes back to the FUSE queue.
 * The read keeps fc->lock (fcache.h, Locking) until the completion
 * thread ends it: the content is filled, the read answered, and so is
 * every read of the file that came meanwhile (queued in fc->waiters, not
 * waiting on a worker), then fc->lock is let go.
 *
 * A large file's read (fcache_range.c) may wait for ranged reads in
 * flight, or for the stat that revalidates the copy: it parks (struct
 * fcache_park) holding fc->lock, and goes on on the thread that ends what
 * it waited for. Once it is answered, the reads queued behind it are
 * answered in turn by the same thread, each parking again when it must.
 * Every read with the shell transport, which cannot answer later, is made
 * on its worker.
 *
 * A write that needs the file's content first (an append to a file not
 * read yet) is made the same way (fcache_write_req): its bytes copied,
 * the same round trips, then the write into the content on the
 * completion thread, where nothing waits (the content is here by then,
 * and a file made here, whose write may store, never takes this way).
 */
#include "fs/fcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fcache_range.h"
#include "fs/later.h"

/* A read whose round trip is in flight, or a write waiting for the
 * content (wbuf); owned by the later in flight. */
struct aread {
	struct sbx_fs *fs;
	struct fcache *fc;
	size_t size;
	uint64_t off;
	char *wbuf;  /* a write's bytes (size of them, owned), else NULL */
	bool append; /* a write's O_APPEND */
	struct fcache_tree ft;
	struct fcache_fetch ff;
};

/* Takes fc->lock (true); or, while a read whose round trip is in flight
 * holds it, queues this one to be answered at its end (false then); or,
 * held otherwise, false when *ret_wait is set: the read should queue for
 * the lock (fcache_lock_or_queue). */
static bool lock_or_queue(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, size_t size,
			  uint64_t off, bool *ret_wait)
{
	struct fcache_rwait *w = NULL;

	*ret_wait = false;
	pthread_mutex_lock(&fc->hm);
	while (fc->held) {
		if (fc->aread && (w || (w = calloc(1, sizeof(*w))))) {
			w->req = req;
			w->size = size;
			w->off = off;
			*fc->waiters_tail = w;
			fc->waiters_tail = &w->next;
			pthread_mutex_unlock(&fc->hm);
			FS_COUNT(fs, reads_queued);
			return false;
		}
		if (fc->held_long && fs->bg) {
			pthread_mutex_unlock(&fc->hm);
			free(w);
			*ret_wait = true;
			return false;
		}
		pthread_cond_wait(&fc->hcv, &fc->hm);
	}
	fc->held = true;
	pthread_mutex_unlock(&fc->hm);
	free(w);
	return true;
}

/* Answers req (size bytes at off) from the content held, or with r. */
static void answer(struct fcache *fc, fuse_req_t req, size_t size, uint64_t off, int r)
{
	char *buf = NULL;
	size_t n = 0;

	if (r == 0 && !(buf = malloc(size ? size : 1)))
		r = -ENOMEM;
	if (r == 0)
		r = fcache_pread_locked(fc, buf, size, off, &n);
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	else
		fuse_reply_buf(req, buf, n);
	free(buf);
}

/* Makes the write ar (req) now that the content came (r: how the round
 * trip went), and answers it. */
static void answer_write(struct aread *ar, fuse_req_t req, int r)
{
	if (r == 0 && fcache_write_needs_load(ar->fs, ar->fc))
		r = -EIO; /* no content after all: never a wait here */
	r = r ?: fcache_write_locked(ar->fs, ar->fc, ar->wbuf, ar->size, ar->off, ar->append);
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	else
		fuse_reply_write(req, ar->size);
}

/* The end of ar (the read or write req) with r: it and the reads queued
 * behind it are answered, and fc->lock goes. */
static void finish(fuse_req_t req, struct aread *ar, int r)
{
	struct fcache *fc = ar->fc;
	struct fcache_rwait *w, *next;

	pthread_mutex_lock(&fc->hm);
	w = fc->waiters;
	fc->waiters = NULL;
	fc->waiters_tail = &fc->waiters;
	fc->aread = false;
	pthread_mutex_unlock(&fc->hm);
	if (ar->wbuf)
		answer_write(ar, req, r);
	else
		answer(fc, req, ar->size, ar->off, r);
	for (; w; w = next) {
		next = w->next;
		answer(fc, w->req, w->size, w->off, r);
		free(w);
	}
	fcache_unlock(fc);
	free(ar->wbuf);
	free(ar);
}

static void fetched(struct later *l)
{
	struct aread *ar = l->ctx;

	finish(l->req, ar,
	       fcache_fetch_end(l->fs, ar->fc, &ar->ff, l->q.rc, l->q.unchanged, l->q.len,
				&l->q.attr, l->q.fetched_validator));
}

/* Sends the fetch of ar's file, or ends ar when none is due. */
static void fetch(struct sbx_fs *fs, fuse_req_t req, struct aread *ar)
{
	struct fcache *fc = ar->fc;
	struct later *l;
	int r = fcache_fetch_begin(fs, fc, &ar->ff);

	if (r <= 0) {
		finish(req, ar, r);
		return;
	}
	l = later_new(fs, req, SBX_RFS_OP_FETCH, fetched, NULL, NULL);
	if (!l) {
		finish(req, ar, fcache_fetch_end(fs, fc, &ar->ff, -ENOMEM, false, 0, NULL, NULL));
		return;
	}
	l->ctx = ar;
	l->q.path = ar->ff.path.data;
	l->q.fd = fc->fd;
	l->q.validator = fc->loaded ? fc->validator : NULL;
	l->q.size_hint = ar->ff.hint;
	later_submit(l);
}

static void listed(struct later *l)
{
	struct aread *ar = l->ctx;

	if (fcache_tree_end(l->fs, ar->fc, &ar->ft, l->q.rc, &l->q.tree))
		finish(l->req, ar, 0);
	else
		fetch(l->fs, l->req, ar);
}

/* Replies req with the read made here, round trips and all; fc->lock
 * held, and let go. */
static void read_here(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, size_t size,
		      uint64_t off)
{
	char *buf = malloc(size ? size : 1);
	size_t n = 0;
	int r = buf ? fcache_read_locked(fs, fc, buf, size, off, &n) : -ENOMEM;

	fcache_unlock(fc);
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	else
		fuse_reply_buf(req, buf, n);
	free(buf);
}

/* ---- a large file's read ---- */

/* A read of a ranged file, parked when it must wait, and then the reads
 * queued behind it; owns itself, and fc->lock from its start to its end
 * (ranged_next). */
struct rread {
	struct fcache_park pk; /* first */
	struct sbx_fs *fs;
	struct fcache *fc;
	fuse_req_t req;
	struct fcr_rd rd;
};

/* Runs rr's read as far as it goes: true when answered, false when parked
 * (then rr is pk's: it resumes on another thread). */
static bool ranged_run(struct rread *rr)
{
	struct sbx_fs *fs = rr->fs;
	char *buf = NULL;
	size_t n = 0;
	int r = fcr_read_step(fs, rr->fc, &rr->rd, &rr->pk);

	if (r == 1) {
		FS_COUNT(fs, reads_parked);
		return false;
	}
	if (r == 0 && !(buf = malloc(rr->rd.size ? rr->rd.size : 1)))
		r = -ENOMEM;
	r = r ?: fcr_read_copy(fs, rr->fc, &rr->rd, buf, &n);
	if (r < 0)
		fuse_reply_err(rr->req, fs_errno(r));
	else
		fuse_reply_buf(rr->req, buf, n);
	free(buf);
	return true;
}

/* After an answer: the reads queued meanwhile, in turn, until one parks;
 * or, none left, fc->lock goes and rr ends. */
static void ranged_next(struct rread *rr)
{
	struct fcache *fc = rr->fc;
	struct sbx_fs *fs = rr->fs;
	struct fcache_rwait *w;

	for (;;) {
		pthread_mutex_lock(&fc->hm);
		if ((w = fc->waiters) && !(fc->waiters = w->next))
			fc->waiters_tail = &fc->waiters;
		if (!w)
			fc->aread = false;
		pthread_mutex_unlock(&fc->hm);
		if (!w)
			break;
		rr->req = w->req;
		fcr_read_init(fc, &rr->rd, w->size, w->off);
		free(w);
		if (!ranged_run(rr))
			return;
	}
	fcache_unlock(fc);
	free(rr);
	later_end(fs);
}

static void ranged_resume(struct fcache_park *pk)
{
	struct rread *rr = (struct rread *)pk;

	if (ranged_run(rr))
		ranged_next(rr);
}

/* A read of ranged fc, fc->lock held: answered, now or later. */
static void ranged_req(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, size_t size,
		       uint64_t off)
{
	struct rread *rr = calloc(1, sizeof(*rr));

	if (!rr) {
		read_here(fs, fc, req, size, off);
		return;
	}
	rr->pk.resume = ranged_resume;
	rr->fs = fs;
	rr->fc = fc;
	rr->req = req;
	fcr_read_init(fc, &rr->rd, size, off);
	later_begin(fs); /* an unmount answers it before it goes */
	if (ranged_run(rr))
		ranged_next(rr);
}

/* The round trips of ar's content, fc->lock held: the tree listing that
 * may bring it, else (or when it did not) its fetch; ar ends when it
 * came. Reads of the file coming meanwhile are queued behind ar. */
static void load(struct sbx_fs *fs, fuse_req_t req, struct aread *ar)
{
	struct fcache *fc = ar->fc;
	struct later *l;

	pthread_mutex_lock(&fc->hm);
	fcache_aread_begin_locked(fc);
	pthread_mutex_unlock(&fc->hm);
	if (!fcache_tree_begin(fs, fc, &ar->ft)) {
		fetch(fs, req, ar);
		return;
	}
	l = later_new(fs, req, SBX_RFS_OP_READDIR, listed, NULL, NULL);
	if (!l) {
		fcache_tree_end(fs, fc, &ar->ft, -ENOMEM, NULL);
		fetch(fs, req, ar);
		return;
	}
	l->ctx = ar;
	l->q.path = ar->ft.tp.data;
	l->q.max_entries = (uint32_t)fs->opts->tree_entries;
	l->q.flags = SBX_RFS_TREE_DATA;
	later_submit(l);
}

/* A read's part once fc->lock is held: answered here, or later. */
static void read_locked(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, size_t size,
			uint64_t off)
{
	struct aread *ar;

	if (sbx_rfs_submits_async(fs->rfs) && fcr_use(fs, fc)) {
		ranged_req(fs, fc, req, size, off);
		return;
	}
	if (!sbx_rfs_submits_async(fs->rfs) || fs->opts->tree_entries == 0 || fcr_use(fs, fc) ||
	    fcache_ready(fs, fc) || !(ar = calloc(1, sizeof(*ar)))) {
		read_here(fs, fc, req, size, off);
		return;
	}
	ar->fs = fs;
	ar->fc = fc;
	ar->size = size;
	ar->off = off;
	load(fs, req, ar);
}

/* A read queued for fc->lock (held by a store, a write…). */
struct rqueued {
	struct fcache_lwait w; /* first */
	struct fcache *fc;
	fuse_req_t req;
	size_t size;
	uint64_t off;
};

static void read_run(struct fcache_lwait *w)
{
	struct rqueued *q = (struct rqueued *)w;

	read_locked(w->fs, q->fc, q->req, q->size, q->off);
	free(q);
}

void fcache_read_req(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, size_t size,
		     uint64_t off)
{
	struct rqueued *q;
	bool wait;

	if (lock_or_queue(fs, fc, req, size, off, &wait)) {
		read_locked(fs, fc, req, size, off);
		return;
	}
	if (!wait)
		return; /* answered with the read in flight */
	if (!(q = calloc(1, sizeof(*q)))) {
		fcache_lock(fc);
		read_locked(fs, fc, req, size, off);
		return;
	}
	q->fc = fc;
	q->req = req;
	q->size = size;
	q->off = off;
	q->w.run = read_run;
	if (fcache_lock_or_queue(fs, fc, &q->w, 0) == FCACHE_TAKEN)
		read_run(&q->w);
}

/* A write's part once fc->lock is held: made here, or after the round
 * trips that bring the content (load). own: buf is a copy, owned. */
static void write_locked(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, char *buf, bool own,
			 size_t size, uint64_t off, bool append)
{
	struct aread *ar = NULL;
	int r;

	/* a file made here has its content: only one of the sandbox's waits */
	if (!sbx_rfs_submits_async(fs->rfs) || fs->opts->tree_entries == 0 || fc->made_here ||
	    !fcache_write_needs_load(fs, fc) || !(ar = calloc(1, sizeof(*ar))) ||
	    !(ar->wbuf = own ? buf : malloc(size ? size : 1))) {
		free(ar);
		r = fcache_write_locked(fs, fc, buf, size, off, append);
		fcache_unlock(fc);
		if (own)
			free(buf);
		if (r < 0)
			fuse_reply_err(req, fs_errno(r));
		else
			fuse_reply_write(req, size);
		return;
	}
	if (!own)
		memcpy(ar->wbuf, buf, size);
	ar->fs = fs;
	ar->fc = fc;
	ar->size = size;
	ar->off = off;
	ar->append = append;
	load(fs, req, ar);
}

/* A write queued for fc->lock, its bytes copied. */
struct wqueued {
	struct fcache_lwait w; /* first */
	struct fcache *fc;
	fuse_req_t req;
	char *buf; /* owned */
	size_t size;
	uint64_t off;
	bool append;
};

static void write_run(struct fcache_lwait *w)
{
	struct wqueued *q = (struct wqueued *)w;

	__atomic_sub_fetch(&w->fs->wq_bytes, q->size, __ATOMIC_RELAXED);
	write_locked(w->fs, q->fc, q->req, q->buf, true, q->size, q->off, q->append);
	free(q);
}

/* Room for size bytes more of writes queued (FCACHE_WQ_MAX in all). */
static bool wq_room(struct sbx_fs *fs, size_t size)
{
	uint64_t was = __atomic_fetch_add(&fs->wq_bytes, size, __ATOMIC_RELAXED);

	if (was + size <= FCACHE_WQ_MAX)
		return true;
	__atomic_sub_fetch(&fs->wq_bytes, size, __ATOMIC_RELAXED);
	return false;
}

void fcache_write_req(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, const char *buf,
		      size_t size, uint64_t off, bool append)
{
	struct wqueued *q;

	/* the bytes are copied only when the write must wait for the lock */
	if (fcache_lock_or_queue(fs, fc, NULL, 0) == FCACHE_TAKEN) {
		write_locked(fs, fc, req, (char *)buf, false, size, off, append);
		return;
	}
	q = wq_room(fs, size) ? calloc(1, sizeof(*q)) : NULL;
	if (q && !(q->buf = malloc(size ? size : 1))) {
		free(q);
		q = NULL;
		__atomic_sub_fetch(&fs->wq_bytes, size, __ATOMIC_RELAXED);
	}
	if (!q) {
		/* past the bound (or out of memory): waits on its worker */
		fcache_lock(fc);
		write_locked(fs, fc, req, (char *)buf, false, size, off, append);
		return;
	}
	memcpy(q->buf, buf, size);
	q->fc = fc;
	q->req = req;
	q->size = size;
	q->off = off;
	q->append = append;
	q->w.run = write_run;
	if (fcache_lock_or_queue(fs, fc, &q->w, 0) == FCACHE_TAKEN)
		write_run(&q->w); /* let go meanwhile */
}
