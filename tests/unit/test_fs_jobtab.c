/* test_fs_jobtab.c - the job table of /.ctl (src/fs/ctl/jobtab.c): ids
 * that are never reused, lookup by id, the per-user limit on pending jobs,
 * and the cap on jobs kept (old ended jobs reaped first; never a pending
 * or running one, nor one a read is parked on).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "fs/ctl/ctl_int.h"

static struct job *mk(uid_t uid, enum job_state st, bool from_exec)
{
	struct job *j = calloc(1, sizeof(*j));

	ck_assert_ptr_nonnull(j);
	j->uid = uid;
	j->state = st;
	j->from_exec = from_exec;
	j->ended = st != JOB_PENDING && st != JOB_RUNNING;
	return j;
}

/* Adds a job and checks that nothing was reaped. */
static struct job *add(struct ctl *c, uid_t uid, enum job_state st, bool from_exec)
{
	struct job *j = mk(uid, st, from_exec), *reaped = NULL;

	ck_assert_int_eq(jobtab_add(c, j, &reaped), 0);
	ck_assert_ptr_null(reaped);
	ck_assert_uint_eq(j->refs, 1);
	return j;
}

static void release(struct ctl *c)
{
	for (size_t i = 0; i < c->n_jobs; i++)
		free(c->jobs[i]);
	free(c->jobs);
}

START_TEST(ids_and_lookup)
{
	struct ctl c = {0};
	struct job *a = add(&c, 1000, JOB_RUNNING, true);
	struct job *b = add(&c, 1000, JOB_FINISHED, true);
	struct job *d = add(&c, 1000, JOB_PENDING, false);

	ck_assert_uint_eq(a->id, 1);
	ck_assert_uint_eq(b->id, 2);
	ck_assert_uint_eq(d->id, 3);
	ck_assert_ptr_eq(jobtab_get(&c, 2), b);
	ck_assert_ptr_null(jobtab_get(&c, 0));
	ck_assert_ptr_null(jobtab_get(&c, 4));
	jobtab_remove(&c, b);
	free(b);
	ck_assert_ptr_null(jobtab_get(&c, 2));
	ck_assert_uint_eq(jobtab_from(&c, 2), 1); /* job 3 */
	ck_assert_ptr_eq(jobtab_get(&c, 3), d);
	/* an id is never given again */
	ck_assert_uint_eq(add(&c, 1000, JOB_PENDING, false)->id, 4);
	ck_assert_uint_eq(jobtab_from(&c, 5), c.n_jobs);
	release(&c);
}
END_TEST

START_TEST(pending_limit_per_user)
{
	struct ctl c = {0};
	struct job *j, *reaped = NULL;
	unsigned i;

	for (i = 0; i < JOB_PENDING_MAX; i++)
		add(&c, 1000, JOB_PENDING, false);
	j = mk(1000, JOB_PENDING, false);
	ck_assert_int_eq(jobtab_add(&c, j, &reaped), -EAGAIN);
	ck_assert_uint_eq(c.n_jobs, JOB_PENDING_MAX);
	/* another user, and a job of .ctl/exec (run at once), still may */
	add(&c, 0, JOB_PENDING, false);
	add(&c, 1000, JOB_PENDING, true);
	/* one that runs frees a place */
	c.jobs[0]->state = JOB_RUNNING;
	ck_assert_int_eq(jobtab_add(&c, j, &reaped), 0);
	ck_assert_ptr_null(reaped);
	release(&c);
}
END_TEST

START_TEST(cap_reaps_oldest_ended)
{
	struct ctl c = {0};
	struct job *j, *reaped = NULL, *pend, *run, *parked, *old1, *old2;
	struct waiter w = {0};
	unsigned i;

	pend = add(&c, 1000, JOB_PENDING, false);
	run = add(&c, 1000, JOB_RUNNING, true);
	parked = add(&c, 1000, JOB_FINISHED, true);
	parked->waiters = &w;
	old1 = add(&c, 1000, JOB_FINISHED, true);
	old2 = add(&c, 1000, JOB_KILLED, false);
	for (i = c.n_jobs; i < JOB_KEEP_MAX; i++)
		add(&c, 1000, JOB_RUNNING, true);
	ck_assert_uint_eq(c.n_jobs, JOB_KEEP_MAX);

	j = mk(1000, JOB_RUNNING, true);
	ck_assert_int_eq(jobtab_add(&c, j, &reaped), 0);
	ck_assert_ptr_eq(reaped, old1); /* the oldest that may go */
	ck_assert_ptr_null(reaped->next);
	ck_assert_ptr_null(jobtab_get(&c, old1->id));
	free(old1);
	reaped = NULL;
	ck_assert_int_eq(jobtab_add(&c, mk(1000, JOB_RUNNING, true), &reaped), 0);
	ck_assert_ptr_eq(reaped, old2);
	free(old2);
	reaped = NULL;
	/* left: pending, running, parked on: nothing may go */
	j = mk(1000, JOB_RUNNING, true);
	ck_assert_int_eq(jobtab_add(&c, j, &reaped), -EAGAIN);
	ck_assert_ptr_null(reaped);
	ck_assert_ptr_eq(jobtab_get(&c, pend->id), pend);
	ck_assert_ptr_eq(jobtab_get(&c, run->id), run);
	ck_assert_ptr_eq(jobtab_get(&c, parked->id), parked);
	ck_assert_uint_eq(c.n_jobs, JOB_KEEP_MAX);
	/* once the read is answered, the parked job may go */
	parked->waiters = NULL;
	ck_assert_int_eq(jobtab_add(&c, j, &reaped), 0);
	ck_assert_ptr_eq(reaped, parked);
	free(parked);
	release(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_jobtab");
	TCase *tc = tcase_create("jobtab");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, ids_and_lookup);
	tcase_add_test(tc, pending_limit_per_user);
	tcase_add_test(tc, cap_reaps_oldest_ended);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
