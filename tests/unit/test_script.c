/* test_script.c - the script assembly of exec (src/lib/exec/script.c): the
 * exact argv for each form, and the same argv run by the local /bin/sh to
 * prove the semantics (cwd, env seen by every command of a list, quoting of
 * hostile values, a failed cd stops the command, exec of the argv form). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/script.h"
#include "sbx/error.h"
#include "util/buf.h"

static char **build(const struct sbx_exec_opts *o, size_t *n)
{
	struct sbx_err err = {0};
	char **v = NULL;

	ck_assert_int_eq(sbx_exec_build_argv(o, &v, n, &err), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v[*n]);
	return v;
}

/* Runs argv locally; returns its stdout, sets *status to the exit code and
 * the pid of the process started in last_pid. */
static pid_t last_pid;

static char *run(char **argv, int *status)
{
	struct sbx_buf out = SBX_BUF_INIT;
	int fd[2], st;
	char buf[4096];
	ssize_t k;
	pid_t pid;

	ck_assert_int_eq(pipe2(fd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	last_pid = pid;
	close(fd[1]);
	while ((k = read(fd[0], buf, sizeof(buf))) > 0)
		sbx_buf_append(&out, buf, (size_t)k);
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return sbx_buf_detach(&out, NULL);
}

START_TEST(argv_direct)
{
	const char *av[] = {"printf", "%s|", "a b", "it's"};
	struct sbx_exec_opts o = {.argv = av, .argc = 4};
	size_t n;
	char **v = build(&o, &n);
	char *out;
	int st;

	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(v[0], "printf");
	ck_assert_str_eq(v[2], "a b");
	ck_assert_str_eq(v[3], "it's");
	out = run(v, &st);
	ck_assert_int_eq(st, 0);
	ck_assert_str_eq(out, "a b|it's|");
	free(out);
	sbx_exec_argv_free(v);
}
END_TEST

START_TEST(command_plain)
{
	struct sbx_exec_opts o = {.command = "echo one; echo two | tr o 0"};
	size_t n;
	char **v = build(&o, &n);
	char *out;
	int st;

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "sh");
	ck_assert_str_eq(v[1], "-c");
	ck_assert_str_eq(v[2], "echo one; echo two | tr o 0");
	out = run(v, &st);
	ck_assert_str_eq(out, "one\ntw0\n");
	free(out);
	sbx_exec_argv_free(v);
}
END_TEST

START_TEST(command_cwd_env_exact)
{
	const char *env[] = {"A=x y", "B=it's", "C="};
	struct sbx_exec_opts o = {.command = "ls -A", .cwd = "/tmp/my dir", .env = env, .n_env = 3};
	size_t n;
	char **v = build(&o, &n);

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0], "sh");
	ck_assert_str_eq(v[1], "-c");
	ck_assert_str_eq(v[2], "cd '/tmp/my dir' && export A='x y' B='it'\"'\"'s' C='' || exit\n"
			       "ls -A");
	ck_assert_ptr_null(strstr(v[2], "SANDBOX_SECRET"));
	sbx_exec_argv_free(v);
}
END_TEST

START_TEST(argv_cwd_env_exact)
{
	const char *av[] = {"cat", "my file"};
	const char *env[] = {"K=v"};
	struct sbx_exec_opts o = {.argv = av, .argc = 2, .cwd = "/srv", .env = env, .n_env = 1};
	size_t n;
	char **v = build(&o, &n);

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[2], "cd /srv && export K=v && exec cat 'my file'");
	sbx_exec_argv_free(v);
	o.cwd = NULL;
	v = build(&o, &n);
	ck_assert_str_eq(v[2], "export K=v && exec cat 'my file'");
	sbx_exec_argv_free(v);
	o.cwd = "/srv";
	o.n_env = 0;
	v = build(&o, &n);
	ck_assert_str_eq(v[2], "cd /srv && exec cat 'my file'");
	sbx_exec_argv_free(v);
}
END_TEST

START_TEST(semantics_env_reaches_every_command)
{
	const char *env[] = {"V=$(echo no) `x` \"q\" 'a' \\ \n*", "W=2"};
	struct sbx_exec_opts o = {.command = "printf '%s|' \"$V\"; sh -c 'printf \"%s|\" \"$W\"'",
				  .cwd = "/",
				  .env = env,
				  .n_env = 2};
	size_t n;
	char **v = build(&o, &n);
	char *out;
	int st;

	out = run(v, &st);
	ck_assert_int_eq(st, 0);
	ck_assert_str_eq(out, "$(echo no) `x` \"q\" 'a' \\ \n*|2|");
	free(out);
	sbx_exec_argv_free(v);
}
END_TEST

START_TEST(semantics_cwd)
{
	char dir[] = "/tmp/sbx script 'test' XXXXXX", *out, **v;
	const char *av[] = {"pwd"};
	struct sbx_exec_opts o = {.argv = av, .argc = 1};
	size_t n;
	int st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	o.cwd = dir;
	v = build(&o, &n);
	out = run(v, &st);
	ck_assert_int_eq(st, 0);
	ck_assert_uint_eq(strlen(out), strlen(dir) + 1);
	ck_assert_mem_eq(out, dir, strlen(dir));
	free(out);
	sbx_exec_argv_free(v);
	rmdir(dir);
}
END_TEST

START_TEST(semantics_failed_cd_stops_list)
{
	struct sbx_exec_opts o = {.command = "echo first; echo second", .cwd = "/nonexistent/dir"};
	size_t n;
	char **v = build(&o, &n);
	char *out;
	int st;

	out = run(v, &st);
	ck_assert_str_eq(out, "");
	ck_assert_int_ne(st, 0);
	free(out);
	sbx_exec_argv_free(v);
}
END_TEST

START_TEST(semantics_exec_replaces_shell)
{
	const char *av[] = {"sh", "-c", "echo $$"};
	const char *env[] = {"X=1"};
	struct sbx_exec_opts o = {.argv = av, .argc = 3, .env = env, .n_env = 1};
	char **v, *out, want[32];
	size_t n;
	int st;

	/* with exec, the program is the process that was started, so a signal
	 * sent to it reaches the program and not a wrapping shell */
	v = build(&o, &n);
	out = run(v, &st);
	snprintf(want, sizeof(want), "%d\n", (int)last_pid);
	ck_assert_str_eq(out, want);
	free(out);
	sbx_exec_argv_free(v);
}
END_TEST

START_TEST(invalid)
{
	const char *av[] = {"ls"};
	const char *bad1[] = {"1A=x"}, *bad2[] = {"NOVALUE"}, *bad3[] = {"A-B=1"};
	struct sbx_exec_opts o = {0};
	struct sbx_err err = {0};
	char **v = NULL;
	size_t n;

	ck_assert_int_eq(sbx_exec_build_argv(&o, &v, &n, &err), -SBX_EINVAL);
	ck_assert_int_eq(err.code, -SBX_EINVAL);
	o.argv = av;
	o.argc = 1;
	o.command = "ls";
	ck_assert_int_eq(sbx_exec_build_argv(&o, &v, &n, &err), -SBX_EINVAL);
	o.command = NULL;
	o.argc = 0;
	ck_assert_int_eq(sbx_exec_build_argv(&o, &v, &n, &err), -SBX_EINVAL);
	o.argc = 1;
	o.n_env = 1;
	o.env = bad1;
	ck_assert_int_eq(sbx_exec_build_argv(&o, &v, &n, &err), -SBX_EINVAL);
	o.env = bad2;
	ck_assert_int_eq(sbx_exec_build_argv(&o, &v, &n, NULL), -SBX_EINVAL);
	o.env = bad3;
	ck_assert_int_eq(sbx_exec_build_argv(&o, &v, &n, NULL), -SBX_EINVAL);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(too_long)
{
	struct sbx_exec_opts o = {0};
	char *big = malloc(SBX_EXEC_CMD_MAX + 2);
	char **v = NULL;
	size_t n;

	memset(big, 'a', SBX_EXEC_CMD_MAX + 1);
	big[SBX_EXEC_CMD_MAX + 1] = '\0';
	o.command = big;
	ck_assert_int_eq(sbx_exec_build_argv(&o, &v, &n, NULL), -E2BIG);
	free(big);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("script");
	TCase *tc = tcase_create("script");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, argv_direct);
	tcase_add_test(tc, command_plain);
	tcase_add_test(tc, command_cwd_env_exact);
	tcase_add_test(tc, argv_cwd_env_exact);
	tcase_add_test(tc, semantics_env_reaches_every_command);
	tcase_add_test(tc, semantics_cwd);
	tcase_add_test(tc, semantics_failed_cd_stops_list);
	tcase_add_test(tc, semantics_exec_replaces_shell);
	tcase_add_test(tc, invalid);
	tcase_add_test(tc, too_long);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
