/* test_fs_bgrun.c - threads for the second halves that may wait
 * (src/fs/bgrun.c). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "fs/bgrun.h"

struct shared {
	pthread_mutex_t m;
	pthread_cond_t cv;
	unsigned ran;
	bool b_ran;
	bool a_saw_b; /* job a's wait for job b ended with b run */
};

struct tjob {
	struct bgrun_job job; /* first */
	struct shared *sh;
};

static void count_run(struct bgrun_job *j)
{
	struct tjob *t = (struct tjob *)j;

	pthread_mutex_lock(&t->sh->m);
	t->sh->ran++;
	pthread_cond_broadcast(&t->sh->cv);
	pthread_mutex_unlock(&t->sh->m);
	free(t);
}

static struct tjob *tjob_new(struct shared *sh, void (*run)(struct bgrun_job *j))
{
	struct tjob *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	t->sh = sh;
	t->job.run = run;
	return t;
}

static void shared_init(struct shared *sh)
{
	pthread_mutex_init(&sh->m, NULL);
	pthread_cond_init(&sh->cv, NULL);
	sh->ran = 0;
	sh->b_ran = sh->a_saw_b = false;
}

START_TEST(every_job_runs_once)
{
	struct shared sh;
	struct bgrun *b = NULL;
	unsigned i;

	shared_init(&sh);
	ck_assert_int_eq(bgrun_new(&b), 0);
	for (i = 0; i < 1000; i++)
		bgrun_push(b, &tjob_new(&sh, count_run)->job);
	bgrun_free(b); /* runs what is queued first */
	ck_assert_uint_eq(sh.ran, 1000);
	bgrun_free(NULL);
}
END_TEST

/* Job a waits (at most 10 s) for job b, pushed after it. */
static void a_run(struct bgrun_job *j)
{
	struct tjob *t = (struct tjob *)j;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&t->sh->m);
	while (!t->sh->b_ran && pthread_cond_timedwait(&t->sh->cv, &t->sh->m, &ts) != ETIMEDOUT)
		;
	t->sh->a_saw_b = t->sh->b_ran;
	t->sh->ran++;
	pthread_mutex_unlock(&t->sh->m);
	free(t);
}

static void b_run(struct bgrun_job *j)
{
	struct tjob *t = (struct tjob *)j;

	pthread_mutex_lock(&t->sh->m);
	t->sh->b_ran = true;
	t->sh->ran++;
	pthread_cond_broadcast(&t->sh->cv);
	pthread_mutex_unlock(&t->sh->m);
	free(t);
}

START_TEST(a_waiting_job_does_not_stall_the_queue)
{
	struct shared sh;
	struct bgrun *b = NULL;
	unsigned i;

	shared_init(&sh);
	ck_assert_int_eq(bgrun_new(&b), 0);
	/* several waiting jobs at once, pushed before the one they wait for */
	for (i = 0; i < 8; i++)
		bgrun_push(b, &tjob_new(&sh, a_run)->job);
	bgrun_push(b, &tjob_new(&sh, b_run)->job);
	bgrun_free(b);
	ck_assert_uint_eq(sh.ran, 9);
	ck_assert(sh.a_saw_b);
}
END_TEST

/* A job that pushes another (a request handed the lock that hands it on). */
struct chain {
	struct bgrun_job job; /* first */
	struct bgrun *b;
	struct shared *sh;
	unsigned left;
};

static void chain_run(struct bgrun_job *j)
{
	struct chain *c = (struct chain *)j;

	pthread_mutex_lock(&c->sh->m);
	c->sh->ran++;
	pthread_cond_broadcast(&c->sh->cv);
	pthread_mutex_unlock(&c->sh->m);
	if (c->left-- > 0)
		bgrun_push(c->b, &c->job); /* the same job again */
	else
		free(c);
}

START_TEST(a_job_may_push_more)
{
	struct shared sh;
	struct bgrun *b = NULL;
	struct chain *c = calloc(1, sizeof(*c));

	shared_init(&sh);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(bgrun_new(&b), 0);
	c->b = b;
	c->sh = &sh;
	c->left = 50;
	c->job.run = chain_run;
	bgrun_push(b, &c->job);
	pthread_mutex_lock(&sh.m);
	while (sh.ran < 51)
		pthread_cond_wait(&sh.cv, &sh.m);
	pthread_mutex_unlock(&sh.m);
	bgrun_free(b);
	ck_assert_uint_eq(sh.ran, 51);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_bgrun");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, every_job_runs_once);
	tcase_add_test(tc, a_waiting_job_does_not_stall_the_queue);
	tcase_add_test(tc, a_job_may_push_more);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
