/* wback.c - the write-behind queue and its threads (see wback.h).
 *
 * A FIFO of caches under one mutex. Each item has a number, given in
 * queue order; the stores taken off the queue and not ended yet are on a
 * list of their own, so the oldest number not stored yet is the smaller
 * of the queue's first (the queue stays in number order, whatever is
 * taken from its middle) and the in-flight list's least. wback_drain()
 * waits for that to pass the next number as of its call: stores queued
 * after it do not hold it, however busy the queue stays. The threads
 * block the way a FUSE worker does (the store is synchronous); what
 * changes is that no close waits for them.
 *
 * An item may wait for its due time (a file closed empty, wback.h): a
 * thread takes the first item that is due, so those behind it do not
 * wait. Everything is due when someone waits for the queue (hurry), when
 * stopping, and when the queue is half full.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/dattr.h"
#include "fs/fcache.h"
#include "fs/fs.h"
#include "fs/wback.h"
#include "util/log.h"
#include "util/timeutil.h"

struct wb_item {
	struct wb_item *next;
	uint64_t seq; /* its place in queue order */
	struct fcache *fc; /* a store; NULL: a directory's attributes */
	int64_t due;	   /* sbx_now_ms() from which it may be stored */
	/* attribute changes of directory dir (dattr.h) at path */
	uint64_t dir;
	char *path;
	struct sbx_rfs_setattr sa;
};

struct wback {
	struct sbx_fs *fs;
	int64_t delay_ms; /* fixed: of a file closed empty */
	pthread_mutex_t lock;
	pthread_cond_t work;	     /* queued, hurry or stopping (CLOCK_MONOTONIC) */
	pthread_cond_t done;	     /* a store ended, for those in wback_drain */
	struct wb_item *head, *tail; /* lock */
	struct wb_item *flying;	     /* lock: taken off the queue, not ended */
	uint64_t next_seq;	     /* lock: the number of the next item */
	unsigned queued;	     /* lock */
	unsigned hurry;		     /* lock: callers of wback_drain waiting */
	unsigned dirs_queued;	     /* lock: directory items queued */
	uint64_t last_dir_seq;	     /* lock: the number of the last one queued */
	unsigned dirs_flying;	     /* lock: directory items taken, not ended */
	bool stopping;		     /* lock */
	uint64_t errseq;	     /* atomic */
	pthread_t threads[WBACK_THREADS];
	unsigned n_threads;
};

/* Takes the first item that may be stored now off the queue, or returns
 * NULL and in *next the earliest due time of the others (INT64_MAX when
 * there are none). A directory item is a barrier: taken only first in
 * the queue, and nothing is taken while one is in flight. Lock held. */
static struct wb_item *take_due(struct wback *w, int64_t *next)
{
	bool all = w->stopping || w->hurry || w->queued > WBACK_QUEUE_MAX / 2;
	bool hold = w->dirs_queued > 0; /* what is before one is due */
	int64_t now = sbx_now_ms();
	struct wb_item *it, *prev = NULL;

	*next = INT64_MAX;
	if (w->dirs_flying)
		return NULL; /* its end wakes the threads */
	for (it = w->head; it; prev = it, it = it->next) {
		if (!it->fc) { /* first now: what was before it is due */
			if (w->flying)
				return NULL; /* after them: the last one's end wakes us */
			if (all || it->due <= now)
				break;
			*next = it->due;
			return NULL;
		}
		if (all || hold || it->due <= now)
			break;
		if (it->due < *next)
			*next = it->due;
	}
	if (!it)
		return NULL;
	if (prev)
		prev->next = it->next;
	else
		w->head = it->next;
	if (w->tail == it)
		w->tail = prev;
	w->queued--;
	if (!it->fc) {
		w->dirs_queued--;
		w->dirs_flying++;
	} else if (w->head && !w->head->fc)
		pthread_cond_signal(&w->work); /* a directory item is first now */
	return it;
}

/* The next item to store; NULL once stopping with nothing left. Lock held. */
static struct wb_item *next_item(struct wback *w)
{
	struct wb_item *it;
	struct timespec ts;
	int64_t next;

	for (;;) {
		it = take_due(w, &next);
		if (it || (w->stopping && !w->head))
			return it;
		if (next == INT64_MAX) {
			pthread_cond_wait(&w->work, &w->lock);
			continue;
		}
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		pthread_cond_timedwait(&w->work, &w->lock, &ts);
	}
}

/* The number of the oldest item not stored yet, or next_seq when none.
 * Lock held. */
static uint64_t oldest(const struct wback *w)
{
	uint64_t o = w->head ? w->head->seq : w->next_seq;
	const struct wb_item *it;

	for (it = w->flying; it; it = it->next)
		if (it->seq < o)
			o = it->seq;
	return o;
}

static void unfly(struct wback *w, struct wb_item *it)
{
	struct wb_item **p;

	for (p = &w->flying; *p != it; p = &(*p)->next)
		;
	*p = it->next;
}

static void *worker(void *arg)
{
	struct wback *w = arg;
	struct wb_item *it;
	int r;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		it = next_item(w);
		if (!it)
			break; /* stopping and nothing left */
		it->next = w->flying;
		w->flying = it;
		pthread_mutex_unlock(&w->lock);

		if (it->fc) {
			r = fcache_behind_store(w->fs, it->fc);
			if (r < 0) {
				sbx_log(SBX_LOG_ERR, "a file closed earlier could not be stored: %s",
					strerror(-r));
				wback_failed(w);
			}
			fcache_release(w->fs, it->fc); /* the last one tries once more */
		} else {
			dattr_apply(w->fs, it->dir, it->path, &it->sa);
		}

		pthread_mutex_lock(&w->lock);
		unfly(w, it);
		if (!it->fc) {
			w->dirs_flying--;
			pthread_cond_broadcast(&w->work); /* what it held back */
		} else if (!w->flying && w->head && !w->head->fc) {
			pthread_cond_signal(&w->work); /* a directory item waits for that */
		}
		if (w->hurry)
			pthread_cond_broadcast(&w->done);
		free(it->path);
		free(it);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int wback_start(struct sbx_fs *fs, double delay, struct wback **ret)
{
	struct wback *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	unsigned i;

	if (!w)
		return -ENOMEM;
	w->fs = fs;
	w->delay_ms = delay > 0 ? (int64_t)(delay * 1000) : 0;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* as sbx_now_ms() */
	pthread_cond_init(&w->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->done, NULL);
	for (i = 0; i < WBACK_THREADS; i++) {
		if (pthread_create(&w->threads[i], NULL, worker, w) != 0)
			break;
		w->n_threads++;
	}
	if (w->n_threads == 0) {
		wback_stop(w);
		return -EAGAIN;
	}
	*ret = w;
	return 0;
}

void wback_stop(struct wback *w)
{
	unsigned i;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Puts it last in the queue, with its number; false when the queue is
 * full or stopping. Lock held. */
static bool append_locked(struct wback *w, struct wb_item *it)
{
	if (w->stopping || w->queued >= WBACK_QUEUE_MAX)
		return false;
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	it->seq = w->next_seq++;
	w->queued++;
	pthread_cond_signal(&w->work);
	return true;
}

bool wback_queue(struct wback *w, struct fcache *fc, bool later)
{
	struct wb_item *it;

	if (!w)
		return false;
	it = calloc(1, sizeof(*it));
	if (!it)
		return false;
	it->fc = fc;
	it->due = sbx_now_ms() + (later ? w->delay_ms : 0);
	pthread_mutex_lock(&w->lock);
	if (!append_locked(w, it)) {
		pthread_mutex_unlock(&w->lock);
		free(it);
		return false;
	}
	pthread_mutex_unlock(&w->lock);
	return true;
}

int wback_queue_dir(struct wback *w, uint64_t dir, const char *path,
		    const struct sbx_rfs_setattr *sa)
{
	struct wb_item *it, *t;

	if (!w)
		return -1;
	it = calloc(1, sizeof(*it));
	if (!it || !(it->path = strdup(path))) {
		free(it);
		return -1;
	}
	it->dir = dir;
	it->sa = *sa;
	/* the changes that follow at once (tar: utimensat, chown, chmod) go
	 * with it */
	it->due = sbx_now_ms() + WBACK_DIR_GATHER_MS;
	pthread_mutex_lock(&w->lock);
	t = w->tail;
	if (t && !t->fc && t->dir == dir && !strcmp(t->path, path)) {
		/* the same directory's changes, one after the other (chown,
		 * chmod, utimensat): one request */
		dattr_merge(&t->sa, sa);
		pthread_mutex_unlock(&w->lock);
		free(it->path);
		free(it);
		return 0;
	}
	if (!append_locked(w, it)) {
		pthread_mutex_unlock(&w->lock);
		free(it->path);
		free(it);
		return -1;
	}
	w->dirs_queued++;
	w->last_dir_seq = it->seq;
	pthread_mutex_unlock(&w->lock);
	return 1;
}

void wback_drain(struct wback *w)
{
	uint64_t upto;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	upto = w->next_seq;
	w->hurry++; /* what waits for its due time goes now */
	pthread_cond_broadcast(&w->work);
	while (oldest(w) < upto)
		pthread_cond_wait(&w->done, &w->lock);
	w->hurry--;
	pthread_mutex_unlock(&w->lock);
}

void wback_drain_dirs(struct wback *w)
{
	uint64_t upto;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->dirs_queued || w->dirs_flying) {
		upto = w->last_dir_seq + 1;
		w->hurry++;
		pthread_cond_broadcast(&w->work);
		while (oldest(w) < upto)
			pthread_cond_wait(&w->done, &w->lock);
		w->hurry--;
	}
	pthread_mutex_unlock(&w->lock);
}

bool wback_dirs_pending(struct wback *w)
{
	bool r;

	if (!w)
		return false;
	pthread_mutex_lock(&w->lock);
	r = w->dirs_queued || w->dirs_flying;
	pthread_mutex_unlock(&w->lock);
	return r;
}

void wback_failed(struct wback *w)
{
	if (!w)
		return;
	__atomic_add_fetch(&w->errseq, 1, __ATOMIC_RELEASE);
	FS_COUNT(w->fs, behind_errors);
}

uint64_t wback_errseq(const struct wback *w)
{
	return w ? __atomic_load_n(&w->errseq, __ATOMIC_ACQUIRE) : 0;
}
