/* inval.c - the invalidation thread; see inval.h.
 *
 * Tasks run in the order they were posted. Consecutive tasks share one
 * cache drop: every task taken from the queue in one go was posted before
 * the drop started, so the drop covers all their changes.
 */
#include "fs/inval.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fs/fs.h"

struct task {
	void (*fn)(void *ud);
	void *ud;
	struct task *next;
};

struct inval {
	struct sbx_fs *fs;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct task *head, *tail; /* lock */
	bool stopping;		  /* lock */
	bool stopped;		  /* lock: the thread is gone */
};

static void *run(void *arg)
{
	struct inval *iv = arg;
	struct task *batch, *t;

	pthread_mutex_lock(&iv->lock);
	for (;;) {
		while (!iv->head && !iv->stopping)
			pthread_cond_wait(&iv->cv, &iv->lock);
		if (!iv->head)
			break;
		batch = iv->head;
		iv->head = iv->tail = NULL;
		pthread_mutex_unlock(&iv->lock);
		fs_drop_caches(iv->fs);
		while ((t = batch)) {
			batch = t->next;
			t->fn(t->ud);
			free(t);
		}
		pthread_mutex_lock(&iv->lock);
	}
	iv->stopped = true;
	pthread_mutex_unlock(&iv->lock);
	return NULL;
}

int inval_start(struct sbx_fs *fs, struct inval **ret)
{
	struct inval *iv = calloc(1, sizeof(*iv));
	int r;

	if (!iv)
		return -ENOMEM;
	iv->fs = fs;
	pthread_mutex_init(&iv->lock, NULL);
	pthread_cond_init(&iv->cv, NULL);
	r = pthread_create(&iv->thread, NULL, run, iv);
	if (r) {
		pthread_cond_destroy(&iv->cv);
		pthread_mutex_destroy(&iv->lock);
		free(iv);
		return -r;
	}
	*ret = iv;
	return 0;
}

static bool queue(struct inval *iv, void (*fn)(void *ud), void *ud)
{
	struct task *t = calloc(1, sizeof(*t));
	bool queued;

	pthread_mutex_lock(&iv->lock);
	queued = !iv->stopped && t;
	if (queued) {
		t->fn = fn;
		t->ud = ud;
		if (iv->tail)
			iv->tail->next = t;
		else
			iv->head = t;
		iv->tail = t;
		pthread_cond_signal(&iv->cv);
	} else {
		free(t);
	}
	pthread_mutex_unlock(&iv->lock);
	return queued;
}

void inval_post(struct inval *iv, void (*fn)(void *ud), void *ud)
{
	if (!queue(iv, fn, ud))
		fn(ud);
}

void inval_stop(struct inval *iv)
{
	if (!iv)
		return;
	pthread_mutex_lock(&iv->lock);
	iv->stopping = true;
	pthread_cond_signal(&iv->cv);
	pthread_mutex_unlock(&iv->lock);
	pthread_join(iv->thread, NULL);
	pthread_cond_destroy(&iv->cv);
	pthread_mutex_destroy(&iv->lock);
	free(iv);
}
