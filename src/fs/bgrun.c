/* bgrun.c - threads for the second halves that may wait (bgrun.h). */
#include "fs/bgrun.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/log.h"

struct bgrun {
	pthread_mutex_t m;
	pthread_cond_t cv;		/* m: a job queued, or stop */
	struct bgrun_job *head, **tail; /* m: queued */
	unsigned queued;		/* m: jobs in head */
	unsigned idle;			/* m: threads waiting for a job */
	unsigned n;			/* m: threads started (thr[0..n)) */
	bool stop;			/* m: bgrun_free() began */
	pthread_t thr[BGRUN_MAX];
};

int bgrun_new(struct bgrun **ret)
{
	struct bgrun *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->m, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->tail = &b->head;
	*ret = b;
	return 0;
}

static void *thread_main(void *arg)
{
	struct bgrun *b = arg;
	struct bgrun_job *j;

	pthread_mutex_lock(&b->m);
	for (;;) {
		while (!b->head && !b->stop) {
			b->idle++;
			pthread_cond_wait(&b->cv, &b->m);
			b->idle--;
		}
		if (!(j = b->head))
			break; /* stop, and nothing left */
		if (!(b->head = j->next))
			b->tail = &b->head;
		b->queued--;
		pthread_mutex_unlock(&b->m);
		j->run(j);
		pthread_mutex_lock(&b->m);
	}
	pthread_mutex_unlock(&b->m);
	return NULL;
}

void bgrun_push(struct bgrun *b, struct bgrun_job *j)
{
	bool alone;

	j->next = NULL;
	pthread_mutex_lock(&b->m);
	*b->tail = j;
	b->tail = &j->next;
	b->queued++;
	/* an idle thread takes it, unless the idle ones are all taken by
	 * jobs queued before (not awake yet): then one more starts, while
	 * the pool may grow */
	if (b->queued > b->idle && b->n < BGRUN_MAX &&
	    pthread_create(&b->thr[b->n], NULL, thread_main, b) == 0)
		b->n++;
	else
		pthread_cond_signal(&b->cv);
	alone = b->n == 0;
	if (alone) { /* no thread, none started: take it back and run it here */
		b->head = NULL;
		b->tail = &b->head;
		b->queued = 0;
	}
	pthread_mutex_unlock(&b->m);
	if (alone) {
		sbx_log(SBX_LOG_ERR, "no thread for a job: run on the caller's");
		j->run(j);
	}
}

void bgrun_free(struct bgrun *b)
{
	unsigned i, n;

	if (!b)
		return;
	pthread_mutex_lock(&b->m);
	b->stop = true;
	n = b->n;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->m);
	for (i = 0; i < n; i++)
		pthread_join(b->thr[i], NULL);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->m);
	free(b);
}
