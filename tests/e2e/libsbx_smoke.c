/* libsbx_smoke.c - end-to-end check of libsbx against a live control plane
 * (sbxd, or anything that speaks the Koyeb API).
 *
 * Usage: libsbx_smoke [--mock]   with KOYEB_API_HOST and KOYEB_API_TOKEN set.
 * Creates a sandbox, checks open/list/status, runs commands (exit codes,
 * stdout/stderr separation, cwd/env, 10 MB stdin round trip, 20 MB output,
 * a timeout that must kill a process tree, cancel, 50 concurrent execs,
 * streaming stdin), and deletes the sandbox again, also when a check failed.
 * --mock adds checks that need the test server's magic commands (error
 * frames, a close before `exited`, fragmented and oversized messages).
 * Exit status 0 when every check passed. Prints one line per check.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sbx/sbx.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* Prints the outcome line of a check group that began with f0 failures. */
static void report(int f0, const char *what, double secs)
{
	printf("%s %s", failures == f0 ? "ok" : "FAIL", what);
	if (secs >= 0)
		printf(" (%.2f s)", secs);
	printf("\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs a shell command; returns the rc of sbx_exec_run. */
static int sh(struct sbx_sandbox *sb, const char *cmd, double timeout, struct sbx_exec_result *r)
{
	struct sbx_exec_opts o = {.command = cmd, .timeout_s = timeout};
	struct sbx_err err = {0};
	int rc = sbx_exec_run(sb, &o, NULL, NULL, r, &err);

	if (rc < 0 && rc != -SBX_ETIMEDOUT)
		fprintf(stderr, "  exec %.60s: %d %s\n", cmd, rc, err.msg);
	return rc;
}

static void t_exit_codes(struct sbx_sandbox *sb)
{
	int f0 = failures;
	struct sbx_exec_result r;

	CHECK(sh(sb, "true", 30, &r) == 0 && r.status == SBX_EXEC_FINISHED && r.exit_code == 0,
	      "true: status %d code %d", r.status, r.exit_code);
	sbx_exec_result_release(&r);
	CHECK(sh(sb, "exit 3", 30, &r) == 0 && r.status == SBX_EXEC_FAILED && r.exit_code == 3,
	      "exit 3: status %d code %d", r.status, r.exit_code);
	sbx_exec_result_release(&r);
	CHECK(sh(sb, "kill -9 $$", 30, &r) == 0 && r.status == SBX_EXEC_FAILED &&
		  r.exit_code == 137,
	      "kill -9: status %d code %d", r.status, r.exit_code);
	sbx_exec_result_release(&r);
	report(f0, "exit codes", -1);
}

static void t_streams(struct sbx_sandbox *sb)
{
	int f0 = failures;
	const char *argv[] = {"sh", "-c", "printf '%s' \"$1\"; printf 'E:%s' \"$X\" >&2; pwd >&2",
			      "arg0", "it's a \"test\""};
	const char *env[] = {"X=x y $z"};
	struct sbx_exec_opts o = {
	    .argv = argv, .argc = 5, .cwd = "/tmp", .env = env, .n_env = 1, .timeout_s = 30};
	struct sbx_exec_result r;
	int rc;

	rc = sh(sb, "echo out; echo err >&2; echo out2", 30, &r);
	CHECK(rc == 0 && r.stdout_len == 9 && !strcmp(r.stdout_data, "out\nout2\n") &&
		  !strcmp(r.stderr_data, "err\n"),
	      "separation: [%s] [%s]", r.stdout_data, r.stderr_data);
	sbx_exec_result_release(&r);
	rc = sbx_exec_run(sb, &o, NULL, NULL, &r, NULL);
	CHECK(rc == 0 && !strcmp(r.stdout_data, "it's a \"test\"") &&
		  !strcmp(r.stderr_data, "E:x y $z/tmp\n"),
	      "argv/cwd/env: rc %d [%s] [%s]", rc, r.stdout_data, r.stderr_data);
	sbx_exec_result_release(&r);
	report(f0, "streams, argv, cwd, env", -1);
}

static void t_big_stdin(struct sbx_sandbox *sb)
{
	int f0 = failures;
	const size_t n = 10u << 20;
	struct sbx_exec_opts o = {.command = "cat", .timeout_s = 120};
	struct sbx_exec_result r;
	unsigned char *data = malloc(n);
	double t0 = now_s();
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	o.stdin_data = data;
	o.stdin_len = n;
	rc = sbx_exec_run(sb, &o, NULL, NULL, &r, NULL);
	CHECK(rc == 0 && r.exit_code == 0 && r.stdout_len == n && !memcmp(r.stdout_data, data, n),
	      "10 MB stdin: rc %d code %d len %zu", rc, r.exit_code, r.stdout_len);
	report(f0, "10 MB stdin round trip", now_s() - t0);
	sbx_exec_result_release(&r);
	free(data);
}

static void t_big_stdout(struct sbx_sandbox *sb)
{
	int f0 = failures;
	struct sbx_exec_result r;
	double t0 = now_s();
	size_t i, bad = 0;
	int rc;

	rc = sh(sb, "head -c 20971520 /dev/zero | tr '\\0' 'z'", 120, &r);
	for (i = 0; i < r.stdout_len; i++)
		bad += r.stdout_data[i] != 'z';
	CHECK(rc == 0 && r.exit_code == 0 && r.stdout_len == 20971520 && !bad,
	      "20 MB stdout: rc %d len %zu bad %zu", rc, r.stdout_len, bad);
	report(f0, "20 MB output", now_s() - t0);
	sbx_exec_result_release(&r);
}

static void t_timeout(struct sbx_sandbox *sb, bool mock)
{
	int f0 = failures;
	struct sbx_exec_result r;
	double t0 = now_s(), dt;
	int rc;

	rc = sh(sb, "sleep 100 & sleep 100", 2, &r);
	dt = now_s() - t0;
	CHECK(rc == -SBX_ETIMEDOUT && r.status == SBX_EXEC_TIMEOUT && r.error == -SBX_ETIMEDOUT,
	      "timeout: rc %d status %d", rc, r.status);
	CHECK(dt >= 1.9 && dt < 6, "timeout took %.2f s", dt);
	sbx_exec_result_release(&r);
	if (!mock) {
		/* the host must have killed the whole tree */
		sleep(1);
		rc = sh(
		    sb,
		    "n=0; for p in /proc/[0-9]*; do c=$(cat $p/cmdline 2>/dev/null | tr '\\0' ' ');"
		    " case \"$c\" in 'sleep 100 ') n=$((n+1));; esac; done; echo $n",
		    30, &r);
		CHECK(rc == 0 && r.stdout_data && !strcmp(r.stdout_data, "0\n"),
		      "sleep processes left after timeout: %s", r.stdout_data);
		sbx_exec_result_release(&r);
	}
	report(f0, "timeout", dt);
}

struct async_ctx {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int done;
	char out[64][32];
	size_t out_len[64];
	struct sbx_exec_result res[64];
};

static void a_out(void *ud, const char *d, size_t n)
{
	char *slot = ud;
	size_t have = strlen(slot);

	if (have + n < 32) {
		memcpy(slot + have, d, n);
		slot[have + n] = '\0';
	}
}

struct slot_ud {
	struct async_ctx *ctx;
	int i;
};

static void a_out2(void *ud, const char *d, size_t n)
{
	struct slot_ud *s = ud;

	a_out(s->ctx->out[s->i], d, n);
}

static void a_done(void *ud, const struct sbx_exec_result *r)
{
	struct slot_ud *s = ud;

	pthread_mutex_lock(&s->ctx->m);
	s->ctx->res[s->i] = *r;
	s->ctx->done++;
	pthread_cond_broadcast(&s->ctx->cv);
	pthread_mutex_unlock(&s->ctx->m);
}

static void wait_done(struct async_ctx *c, int n, double limit)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)limit;
	pthread_mutex_lock(&c->m);
	while (c->done < n)
		if (pthread_cond_timedwait(&c->cv, &c->m, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&c->m);
}

static void t_concurrent(struct sbx_sandbox *sb)
{
	int f0 = failures;
	static struct async_ctx c;
	static struct slot_ud uds[50];
	struct sbx_exec_cbs cbs = {.on_stdout = a_out2, .on_done = a_done};
	char cmds[50][64];
	double t0 = now_s();
	int i, ok = 0, started = 0;

	pthread_mutex_init(&c.m, NULL);
	pthread_cond_init(&c.cv, NULL);

	for (i = 0; i < 50; i++) {
		struct sbx_exec_opts o = {.command = cmds[i], .timeout_s = 60};
		struct sbx_exec *e = NULL;
		struct sbx_err err = {0};

		snprintf(cmds[i], sizeof(cmds[i]), "sleep 0.5; echo job%d", i);
		uds[i].ctx = &c;
		uds[i].i = i;
		if (sbx_exec_start(sb, &o, &cbs, &uds[i], &e, &err) == 0) {
			started++;
			sbx_exec_unref(e); /* runs on without our reference */
		} else {
			fprintf(stderr, "  start %d: %s\n", i, err.msg);
		}
	}
	wait_done(&c, started, 60);
	for (i = 0; i < 50; i++) {
		char want[32];

		snprintf(want, sizeof(want), "job%d\n", i);
		ok += c.res[i].status == SBX_EXEC_FINISHED && !strcmp(c.out[i], want);
	}
	CHECK(started == 50 && c.done == 50 && ok == 50, "50 concurrent: started %d done %d ok %d",
	      started, c.done, ok);
	report(f0, "50 concurrent execs on one client", now_s() - t0);
}

static void t_async_stdin_cancel(struct sbx_sandbox *sb)
{
	int f0 = failures;
	static struct async_ctx c;
	static struct slot_ud u0 = {&c, 0}, u1 = {&c, 1};
	struct sbx_exec_cbs cbs = {.on_stdout = a_out2, .on_done = a_done};
	struct sbx_exec_opts o = {.command = "wc -c", .stdin_open = true, .timeout_s = 60};
	struct sbx_exec_opts s = {.command = "sleep 100", .timeout_s = 60};
	struct sbx_exec *e = NULL, *k = NULL;
	char chunk[1000];
	int i, rc;

	pthread_mutex_init(&c.m, NULL);
	pthread_cond_init(&c.cv, NULL);
	memset(chunk, 'q', sizeof(chunk));
	rc = sbx_exec_start(sb, &o, &cbs, &u0, &e, NULL);
	CHECK(rc == 0, "start wc: %d", rc);
	if (rc == 0) {
		for (i = 0; i < 3000; i++)
			sbx_exec_write_stdin(e, chunk, sizeof(chunk));
		CHECK(sbx_exec_stdin_pending(e) <= 3000000, "pending");
		sbx_exec_close_stdin(e);
		CHECK(sbx_exec_write_stdin(e, "x", 1) == -EPIPE, "write after close");
	}
	rc = sbx_exec_start(sb, &s, &cbs, &u1, &k, NULL);
	CHECK(rc == 0, "start sleep: %d", rc);
	if (rc == 0) {
		usleep(300000);
		sbx_exec_cancel(k);
	}
	wait_done(&c, 2, 30);
	CHECK(c.res[0].status == SBX_EXEC_FINISHED && strtol(c.out[0], NULL, 10) == 3000000,
	      "async stdin: status %d out [%s]", c.res[0].status, c.out[0]);
	CHECK(c.res[1].status == SBX_EXEC_KILLED && c.res[1].error == -SBX_ECANCELED,
	      "cancel: status %d error %d", c.res[1].status, c.res[1].error);
	sbx_exec_unref(e);
	sbx_exec_unref(k);
	report(f0, "async stdin, cancel", -1);
}

static void t_mock_only(struct sbx_sandbox *sb)
{
	int f0 = failures;
	struct sbx_exec_result r;
	char cmd[64];
	int rc;

	rc = sh(sb, "__error__", 30, &r);
	CHECK(rc == -SBX_ENOTFOUND && r.status == SBX_EXEC_FAILED && strstr(r.message, "instance"),
	      "error frame: rc %d %s", rc, r.message);
	sbx_exec_result_release(&r);
	rc = sh(sb, "__close__", 30, &r);
	CHECK(rc == -SBX_ECONN && r.stdout_len == 7, "close before exited: rc %d %s", rc,
	      r.message);
	sbx_exec_result_release(&r);
	rc = sh(sb, "__noexitcode__", 30, &r);
	CHECK(rc == 0 && r.exit_code == 0 && !strcmp(r.stdout_data, "hi\n"), "no exit code: rc %d",
	      rc);
	sbx_exec_result_release(&r);
	rc = sh(sb, "__combined__", 30, &r);
	CHECK(rc == 0 && r.exit_code == 3 && !strcmp(r.stdout_data, "out") &&
		  !strcmp(r.stderr_data, "err"),
	      "combined: rc %d code %d", rc, r.exit_code);
	sbx_exec_result_release(&r);
	snprintf(cmd, sizeof(cmd), "__big__ %d", 9 << 20); /* 12 MiB message: fine */
	rc = sh(sb, cmd, 30, &r);
	CHECK(rc == 0 && r.stdout_len == 9u << 20, "12 MiB message: rc %d len %zu", rc,
	      r.stdout_len);
	sbx_exec_result_release(&r);
	snprintf(cmd, sizeof(cmd), "__big__ %d", 13 << 20); /* > 16 MiB message: refused */
	rc = sh(sb, cmd, 30, &r);
	CHECK(rc == -SBX_EPROTO, "oversized message: rc %d %s", rc, r.message);
	sbx_exec_result_release(&r);
	rc = sh(sb, "__frag__ sh -c 'seq 1 20000; echo e >&2'", 30, &r);
	CHECK(rc == 0 && r.stdout_len == 108894 && !strcmp(r.stderr_data, "e\n"),
	      "fragmented: rc %d len %zu", rc, r.stdout_len);
	sbx_exec_result_release(&r);
	rc = sh(sb, "__drop__", 30, &r);
	CHECK(rc == -SBX_ECONN, "drop: rc %d %s", rc, r.message);
	sbx_exec_result_release(&r);
	report(f0, "mock-only session endings", -1);
}

static void t_lifecycle(struct sbx_client *c, struct sbx_sandbox *sb)
{
	int f0 = failures;
	struct sbx_sandbox_info *v = NULL;
	struct sbx_sandbox *o = NULL;
	enum sbx_status st;
	struct sbx_err err = {0};
	size_t n = 0, i, found = 0;
	int rc;

	rc = sbx_sandbox_open(c, sbx_sandbox_id(sb), &o, &err);
	CHECK(rc == 0 && !strcmp(sbx_sandbox_instance_id(o), sbx_sandbox_instance_id(sb)) &&
		  !strcmp(sbx_sandbox_secret(o), sbx_sandbox_secret(sb)) &&
		  !strcmp(sbx_sandbox_name(o), sbx_sandbox_name(sb)),
	      "open by id: %d %s", rc, err.msg);
	sbx_sandbox_free(o);
	o = NULL;
	rc = sbx_sandbox_open(c, sbx_sandbox_name(sb), &o, &err);
	CHECK(rc == 0 && !strcmp(sbx_sandbox_id(o), sbx_sandbox_id(sb)), "open by name: %d %s", rc,
	      err.msg);
	sbx_sandbox_free(o);
	rc = sbx_sandbox_open(c, "no-such-sandbox-xyz", &o, &err);
	CHECK(rc == -SBX_ENOTFOUND, "open missing: %d", rc);
	rc = sbx_sandbox_list(c, &v, &n, &err);
	for (i = 0; rc == 0 && i < n; i++)
		found += !strcmp(v[i].id, sbx_sandbox_id(sb));
	CHECK(rc == 0 && found == 1, "list: rc %d n %zu found %zu", rc, n, found);
	sbx_sandbox_info_free(v, n);
	rc = sbx_sandbox_status(sb, &st, &err);
	CHECK(rc == 0 && st == SBX_STATUS_HEALTHY && sbx_sandbox_is_healthy(sb), "status %d %s", rc,
	      err.msg);
	report(f0, "open, list, status", -1);
}

int main(int argc, char **argv)
{
	bool mock = argc > 1 && !strcmp(argv[1], "--mock");
	struct sbx_create_opts co = {.name = "smoke", .wait_ready = true, .timeout_s = 120};
	struct sbx_client *c = NULL;
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	double t0 = now_s();
	int rc;

	rc = sbx_client_new(NULL, &c, &err);
	if (rc < 0) {
		fprintf(stderr, "client: %s\n", err.msg);
		return 2;
	}
	rc = sbx_sandbox_create(c, &co, &sb, &err);
	if (rc < 0) {
		fprintf(stderr, "create: %d %s\n", rc, err.msg);
		sbx_client_free(c);
		return 2;
	}
	printf("ok create %s (%s) instance %s in %.2f s\n", sbx_sandbox_id(sb),
	       sbx_sandbox_name(sb), sbx_sandbox_instance_id(sb), now_s() - t0);
	t_lifecycle(c, sb);
	t_exit_codes(sb);
	t_streams(sb);
	t_big_stdin(sb);
	t_big_stdout(sb);
	t_timeout(sb, mock);
	t_async_stdin_cancel(sb);
	t_concurrent(sb);
	if (mock)
		t_mock_only(sb);
	rc = sbx_sandbox_delete(sb, &err);
	CHECK(rc == 0, "delete: %d %s", rc, err.msg);
	sbx_sandbox_free(sb);
	sbx_client_free(c);
	printf("%s (%d failures)\n", failures ? "FAILED" : "PASSED", failures);
	return failures ? 1 : 0;
}
