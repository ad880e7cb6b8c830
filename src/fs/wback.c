/* wback.c - the write-behind queue and its threads (see wback.h).
 *
 * A plain FIFO of caches under one mutex; `busy` counts stores taken off
 * the queue and not yet ended, so wback_drain() can wait for both to reach
 * zero. The threads block the way a FUSE worker does today (the store is
 * synchronous); what changes is that no close waits for them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fcache.h"
#include "fs/fs.h"
#include "fs/wback.h"
#include "util/log.h"

struct wb_item {
	struct wb_item *next;
	struct fcache *fc;
};

struct wback {
	struct sbx_fs *fs;
	pthread_mutex_t lock;
	pthread_cond_t work;	     /* an item was queued, or stopping */
	pthread_cond_t idle;	     /* queue and busy reached zero */
	struct wb_item *head, *tail; /* lock */
	unsigned queued, busy;	     /* lock */
	bool stopping;		     /* lock */
	uint64_t errseq;	     /* atomic */
	pthread_t threads[WBACK_THREADS];
	unsigned n_threads;
};

static void *worker(void *arg)
{
	struct wback *w = arg;
	struct wb_item *it;
	int r;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->work, &w->lock);
		if (!w->head)
			break; /* stopping and nothing left */
		it = w->head;
		w->head = it->next;
		if (!w->head)
			w->tail = NULL;
		w->queued--;
		w->busy++;
		pthread_mutex_unlock(&w->lock);

		r = fcache_behind_store(w->fs, it->fc);
		if (r < 0) {
			sbx_log(SBX_LOG_ERR, "a file closed earlier could not be stored: %s",
				strerror(-r));
			wback_failed(w);
		}
		fcache_release(w->fs, it->fc); /* the last one tries once more */
		free(it);

		pthread_mutex_lock(&w->lock);
		if (--w->busy == 0 && !w->head)
			pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int wback_start(struct sbx_fs *fs, struct wback **ret)
{
	struct wback *w = calloc(1, sizeof(*w));
	unsigned i;

	if (!w)
		return -ENOMEM;
	w->fs = fs;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->idle, NULL);
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
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

bool wback_queue(struct wback *w, struct fcache *fc)
{
	struct wb_item *it;

	if (!w)
		return false;
	it = calloc(1, sizeof(*it));
	if (!it)
		return false;
	it->fc = fc;
	pthread_mutex_lock(&w->lock);
	if (w->stopping || w->queued >= WBACK_QUEUE_MAX) {
		pthread_mutex_unlock(&w->lock);
		free(it);
		return false;
	}
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	w->queued++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	return true;
}

void wback_drain(struct wback *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	while (w->head || w->busy)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);
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
