/* test_fs_ctl_verbs.c - the verbs written to .ctl/ctl and .ctl/jobs/N/ctl
 * (src/fs/ctl/verbs.c, run by src/fs/ctl/files.c): what each line means,
 * which lines are refused and with what, on a control tree with no
 * sandbox behind it (only lines that never reach the sandbox are sent).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ctl/ctl_int.h"

struct tc {
	struct sbx_fs *fs;
	struct ctl *c;
	struct job *j;
};

/* A pending job outside the job table: the verbs only need the job itself. */
static void tc_init(struct tc *t)
{
	t->fs = calloc(1, sizeof(*t->fs));
	ck_assert_ptr_nonnull(t->fs);
	t->fs->root = "/work";
	ck_assert_int_eq(ctl_new(t->fs, &t->c), 0);
	t->j = calloc(1, sizeof(*t->j));
	ck_assert_ptr_nonnull(t->j);
	t->j->ctl = t->c;
	t->j->state = JOB_PENDING;
}

static void tc_release(struct tc *t)
{
	job_free(t->j);
	ctl_free(t->c);
	free(t->fs);
}

static int job_verbs(struct tc *t, const char *s)
{
	return ctl_job_verbs(t->c, t->j, s, strlen(s));
}

static int top_verbs(struct tc *t, const char *s)
{
	return ctl_verbs(t->c, s, strlen(s));
}

START_TEST(job_settings)
{
	struct tc t;

	tc_init(&t);
	ck_assert_int_eq(job_verbs(&t, "cwd sub/dir\nenv A_1=x y\r\n\n  \ntimeout 2.5 \n"), 0);
	ck_assert_str_eq(t.j->cwd, "/work/sub/dir");
	ck_assert_uint_eq(t.j->n_env, 1);
	ck_assert_str_eq(t.j->env[0], "A_1=x y");
	ck_assert(t.j->timeout_s == 2.5);
	ck_assert_int_eq(job_verbs(&t, "cwd /abs"), 0);
	ck_assert_str_eq(t.j->cwd, "/abs");
	ck_assert_int_eq(job_verbs(&t, "timeout 0"), 0);
	ck_assert(t.j->timeout_s == 0);
	tc_release(&t);
}
END_TEST

START_TEST(job_bad_lines)
{
	static const char *const bad[] = {
	    "cwd",	   "env",	  "env 1A=x",  "env =x",	  "env A-B=x",
	    "env noequal", "timeout",	  "timeout x", "timeout 5x",	  "timeout -1",
	    "timeout nan", "timeout inf", "signal",    "kill now",	  "run",
	    "runx",	   "bogus",	  "KILL",      "timeout 99999999"};
	struct tc t;
	size_t i;

	tc_init(&t);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(job_verbs(&t, bad[i]) == -EINVAL, "%s", bad[i]);
	/* a bad line stops the write: what follows it is not done */
	ck_assert_int_eq(job_verbs(&t, "bogus\ncwd /x"), -EINVAL);
	ck_assert_ptr_null(t.j->cwd);
	tc_release(&t);
}
END_TEST

START_TEST(job_settings_only_before_start)
{
	struct tc t;

	tc_init(&t);
	t.j->state = JOB_RUNNING;
	ck_assert_int_eq(job_verbs(&t, "cwd /x"), -EBUSY);
	ck_assert_int_eq(job_verbs(&t, "timeout abc"), -EBUSY);
	ck_assert_int_eq(job_verbs(&t, "bogus"), -EBUSY);
	t.j->state = JOB_PENDING;
	tc_release(&t);
}
END_TEST

START_TEST(top_bad_lines)
{
	static const char *const bad[] = {
	    "delete now",	    "drop-caches x", "wait-ready 0",   "wait-ready -3",
	    "wait-ready 1e9",	    "run ls",	     "wait-ready nan", "wait-ready -nan",
	    "wait-ready nanait-re", "kill",	     "cwd /",	       "bogus"};
	struct tc t;
	size_t i;

	tc_init(&t);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(top_verbs(&t, bad[i]) == -EINVAL, "%s", bad[i]);
	ck_assert_int_eq(top_verbs(&t, "\n\n  \r\n"), 0);
	tc_release(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fs_ctl_verbs");
	TCase *tc = tcase_create("verbs");

	tcase_add_test(tc, job_settings);
	tcase_add_test(tc, job_bad_lines);
	tcase_add_test(tc, job_settings_only_before_start);
	tcase_add_test(tc, top_bad_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
