/* test_fs_ctl_verbs.c - the verbs written to .ctl/ctl, .ctl/jobs/N/ctl,
 * .ctl/procs and .ctl/ports (src/fs/ctl/verbs.c, run by src/fs/ctl/files.c
 * and procs.c): what each line means,
 * which lines are refused and with what, on a control tree with no
 * sandbox behind it (only lines that never reach the sandbox are sent).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ctl/ctl_int.h"
#include "fs/ctl/verbs.h"

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

/* Decodes the one command of s as a line of file f. */
static void decode(enum ctl_file f, const char *s, struct ctl_cmd *cmd)
{
	const char *p = s;

	ck_assert_int_eq(ctl_cmd_next(&p, s + strlen(s), f, cmd), 1);
}

START_TEST(procs_and_ports_decode)
{
	static const char start[] = "start python3 -m http.server\necho two\n";
	struct ctl_cmd cmd;

	decode(CTL_F_PROCS, start, &cmd);
	ck_assert_int_eq(cmd.verb, CTL_V_START);
	ck_assert_ptr_eq(cmd.run, start + 6); /* the rest of the write, newlines included */
	ck_assert_uint_eq(cmd.run_len, strlen(start) - 6);
	ctl_cmd_release(&cmd);
	decode(CTL_F_PROCS, "kill 0b1e-A_9 \n", &cmd);
	ck_assert_int_eq(cmd.verb, CTL_V_PKILL);
	ck_assert_int_eq(cmd.err, 0);
	ck_assert_str_eq(cmd.arg, "0b1e-A_9");
	ctl_cmd_release(&cmd);
	decode(CTL_F_PORTS, "8080\n", &cmd);
	ck_assert_int_eq(cmd.verb, CTL_V_BIND);
	ck_assert_uint_eq(cmd.port, 8080);
	ctl_cmd_release(&cmd);
	decode(CTL_F_PORTS, "bind 65535", &cmd);
	ck_assert_int_eq(cmd.verb, CTL_V_BIND);
	ck_assert_int_eq(cmd.err, 0);
	ck_assert_uint_eq(cmd.port, 65535);
	ctl_cmd_release(&cmd);
	decode(CTL_F_PORTS, "unbind\r\n", &cmd);
	ck_assert_int_eq(cmd.verb, CTL_V_UNBIND);
	ctl_cmd_release(&cmd);
	/* the verbs of one file mean nothing in another */
	decode(CTL_F_JOB, "start ls", &cmd);
	ck_assert_int_eq(cmd.verb, CTL_V_BAD);
	ctl_cmd_release(&cmd);
	decode(CTL_F_TOP, "8080", &cmd);
	ck_assert_int_eq(cmd.verb, CTL_V_BAD);
	ctl_cmd_release(&cmd);
}
END_TEST

/* Lines refused before any request: the tree has no sandbox behind it. */
START_TEST(procs_and_ports_bad_lines)
{
	static const char *const procs[] = {
	    "start",
	    "start \n\n",
	    "kill",
	    "kill a/b",
	    "kill a b",
	    "kill ../x",
	    "run ls",
	    "bind 80",
	    "bogus",
	    "KILL abc",
	    "8080",
	    "kill 0123456789012345678901234567890123456789012345678901234567890123456789"};
	static const char *const ports[] = {
	    "0",	  "65536",  "-1",	 "+80",	     "80x",    "8 0",	 "bind", "bind 0",
	    "bind 99999", "bind x", "unbind 80", "start ls", "kill x", "123456", "bogus"};
	struct tc t;
	size_t i;

	tc_init(&t);
	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		ck_assert_msg(ctl_procs_verbs(t.c, procs[i], strlen(procs[i])) == -EINVAL, "%s",
			      procs[i]);
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		ck_assert_msg(ctl_ports_verbs(t.c, ports[i], strlen(ports[i])) == -EINVAL, "%s",
			      ports[i]);
	ck_assert_uint_eq(t.c->port, 0); /* nothing was bound */
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
	tcase_add_test(tc, procs_and_ports_decode);
	tcase_add_test(tc, procs_and_ports_bad_lines);
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
