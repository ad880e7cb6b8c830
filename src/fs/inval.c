/* inval.c - the invalidation thread; see inval.h.
 *
 * Tasks run in the order they were posted. Consecutive tasks share one
 * cache drop: every task taken from the queue in one go was posted before
 * the drop started, so the drop covers all their changes. A change event
 * asks for no drop of its own: it is applied where it happened
 * (changes.c), unless its batch drops everything anyway. Change events
 * waiting are bounded (CHANGES_MAX): past that they are replaced by one
 * whole-cache drop, which covers whatever they said.
 */
#include "fs/inval.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fs/changes.h"
#include "fs/fs.h"

#define CHANGES_MAX 20000

struct task {
	void (*fn)(void *ud); /* NULL: a change event */
	void *ud;
	bool drop;	      /* fn needs every cache dropped first */
	struct fs_change *ch; /* owned */
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
	unsigned changes;	  /* lock: change events queued */
	bool overflow;		  /* lock: some were dropped: drop everything */
};

/* Runs one batch: one drop if any task needs it, then the tasks. */
static void run_batch(struct inval *iv, struct task *batch, bool overflow)
{
	bool drop = overflow;
	struct task *t;

	for (t = batch; t && !drop; t = t->next)
		drop = t->fn ? t->drop : (t->ch->mask & SBX_RFS_CH_RESET) != 0;
	if (drop)
		fs_drop_caches(iv->fs);
	while ((t = batch)) {
		batch = t->next;
		if (t->fn)
			t->fn(t->ud);
		else if (!drop)
			fs_apply_change(iv->fs, t->ch);
		fs_change_free(t->ch);
		free(t);
	}
}

static void *run(void *arg)
{
	struct inval *iv = arg;
	struct task *batch;
	bool overflow;

	pthread_mutex_lock(&iv->lock);
	for (;;) {
		while (!iv->head && !iv->overflow && !iv->stopping)
			pthread_cond_wait(&iv->cv, &iv->lock);
		if (!iv->head && !iv->overflow)
			break;
		batch = iv->head;
		overflow = iv->overflow;
		iv->head = iv->tail = NULL;
		iv->changes = 0;
		iv->overflow = false;
		pthread_mutex_unlock(&iv->lock);
		run_batch(iv, batch, overflow);
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

static bool queue(struct inval *iv, void (*fn)(void *ud), void *ud, struct fs_change *ch, bool drop)
{
	struct task *t = calloc(1, sizeof(*t));
	bool queued;

	pthread_mutex_lock(&iv->lock);
	queued = !iv->stopped && t;
	if (queued && ch && iv->changes >= CHANGES_MAX) {
		iv->overflow = true; /* the drop covers this change */
		pthread_cond_signal(&iv->cv);
		fs_change_free(ch);
		free(t);
	} else if (queued) {
		iv->changes += ch != NULL;
		t->fn = fn;
		t->ud = ud;
		t->ch = ch;
		t->drop = drop;
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
	if (!queue(iv, fn, ud, NULL, true))
		fn(ud);
}

void inval_post_ordered(struct inval *iv, void (*fn)(void *ud), void *ud)
{
	if (!queue(iv, fn, ud, NULL, false))
		fn(ud);
}

void inval_post_change(struct inval *iv, struct fs_change *ch)
{
	if (!queue(iv, NULL, NULL, ch, false))
		fs_change_free(ch);
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
