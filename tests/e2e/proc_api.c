/* proc_api.c - end-to-end test of libsbx's process and port API
 * (sbx/proc.h) and of its executor client (src/lib/xc) against a real sbxd
 * and real sandboxes.
 *
 * Usage: proc_api   with KOYEB_API_HOST and KOYEB_API_TOKEN pointing at a
 * control plane whose sandboxes have an executor (tests/e2e/t_proc.sh
 * starts an sbxd for it). Creates one sandbox and deletes it at the end,
 * also when a check fails. Waits for events (a log line, the end of a
 * process), never for a fixed time. Prints "ok"/"not ok" lines and
 * "N passed, N failed"; exits non-zero on any failure.
 *
 * It links libsbx's internal archive to reach the executor client itself
 * for the one check the public API cannot make: a wrong secret.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/sandbox_priv.h"
#include "sbx/sbx.h"
#include "xc/xc.h"

static int pass, fail;

static void check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		pass++;
	else
		fail++;
	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs a shell command over exec; its exit code, or -1. */
static int sh(struct sbx_sandbox *sb, const char *cmd)
{
	struct sbx_exec_opts o = {.command = cmd, .timeout_s = 60};
	struct sbx_exec_result r;
	int rc = sbx_exec_run(sb, &o, NULL, NULL, &r, NULL);

	rc = rc == 0 ? r.exit_code : -1;
	sbx_exec_result_release(&r);
	return rc;
}

/* Collected log lines: "1 text" / "2 text" per line, joined by '\n'. */
struct lines {
	char buf[8192];
	size_t len;
	const char *stop_at; /* stop when a line starts with it */
	int n;
	bool ts_ok; /* every line had a timestamp */
};

static int on_line(void *ud, enum sbx_proc_stream s, const char *ts, const char *line, size_t n)
{
	struct lines *l = ud;
	int k =
	    snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%d %.*s\n", (int)s, (int)n, line);

	if (k > 0 && (size_t)k < sizeof(l->buf) - l->len)
		l->len += (size_t)k;
	l->n++;
	if (!ts[0])
		l->ts_ok = false;
	if (l->stop_at && n >= strlen(l->stop_at) && !memcmp(line, l->stop_at, strlen(l->stop_at)))
		return 7;
	return 0;
}

static void lines_init(struct lines *l, const char *stop_at)
{
	memset(l, 0, sizeof(*l));
	l->stop_at = stop_at;
	l->ts_ok = true;
}

/* The lines of one stream of l, each followed by '\n', in out. */
static const char *only(const struct lines *l, int stream, char *out, size_t len)
{
	const char *p = l->buf, *e;
	size_t k = 0;

	out[0] = '\0';
	for (; (e = strchr(p, '\n')); p = e + 1)
		if (p[0] - '0' == stream && k + (size_t)(e - p) < len)
			k += (size_t)snprintf(out + k, len - k, "%.*s\n", (int)(e - p - 2), p + 2);
	return out;
}

/* An xc_event_fn for /process_logs_streaming's `log` events, into lines. */
static int on_log(void *ud, const char *event, json_object *data)
{
	json_object *s = json_object_object_get(data, "stream");
	json_object *d = json_object_object_get(data, "data");

	if (strcmp(event, "log") || !d)
		return 0;
	return on_line(ud, s && !strcmp(json_object_get_string(s), "stderr") ? 2 : 1, "-",
		       json_object_get_string(d), (size_t)json_object_get_string_len(d));
}

/* The status of a process in the list, or -1 when it is not listed. */
static int status_of(struct sbx_sandbox *sb, const char *id, char *cmd_out, size_t cmd_len)
{
	struct sbx_proc_info *v = NULL;
	size_t n = 0;
	int st = -1;

	if (sbx_proc_list(sb, &v, &n, NULL) < 0)
		return -2;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id)) {
			st = (int)v[i].status;
			if (cmd_out)
				snprintf(cmd_out, cmd_len, "%s", v[i].command);
		}
	sbx_proc_info_free(v, n);
	return st;
}

static void t_start_follow(struct sbx_sandbox *sb)
{
	const char *argv[] = {"sh", "-c", "echo one; echo two >&2; echo 'three  spaced'; exit 3"};
	struct sbx_proc_opts o = {.argv = argv, .argc = 3};
	struct sbx_proc_info p = {0};
	struct sbx_err err = {0};
	struct lines l;
	char cmd[256] = "", out[256];
	int r;

	r = sbx_proc_start(sb, &o, &p, &err);
	check(r == 0 && p.id[0] && p.pid > 0, "start: id %s pid %d (%d %s)", p.id, p.pid, r,
	      err.msg);
	if (r)
		return;
	lines_init(&l, NULL);
	r = sbx_proc_logs(sb, p.id, true, 60, on_line, &l, &err);
	check(r == 0, "follow to the end returns 0 (%d %s)", r, err.msg);
	/* live lines come as printed, kept ones stdout first: compare per stream */
	check(l.n == 3 && !strcmp(only(&l, 1, out, sizeof(out)), "one\nthree  spaced\n"),
	      "stdout lines, exactly: %s", out);
	check(!strcmp(only(&l, 2, out, sizeof(out)), "two\n"), "stderr lines, exactly: %s", out);
	check(l.ts_ok, "every line has a timestamp");
	r = status_of(sb, p.id, cmd, sizeof(cmd));
	check(r == SBX_PROC_FAILED, "exit 3 is listed as failed (%d)", r);
	check(strstr(cmd, "exit 3") != NULL, "the list has its command: %s", cmd);
	lines_init(&l, NULL);
	r = sbx_proc_logs(sb, p.id, false, 60, on_line, &l, &err);
	check(r == 0 && !strcmp(l.buf, "1 one\n1 three  spaced\n2 two\n"),
	      "logs without follow of an ended process: all stdout, then stderr (%d): %s", r,
	      l.buf);
	sbx_proc_info_release(&p);
}

static void t_env_cwd(struct sbx_sandbox *sb)
{
	const char *env[] = {"GREETING=hello there"};
	struct sbx_proc_opts o = {
	    .command = "echo \"$GREETING\" in $(pwd)", .cwd = "/tmp", .env = env, .n_env = 1};
	struct sbx_proc_info p = {0};
	struct lines l;
	int r;

	r = sbx_proc_start(sb, &o, &p, NULL);
	lines_init(&l, NULL);
	if (r == 0)
		r = sbx_proc_logs(sb, p.id, true, 60, on_line, &l, NULL);
	check(r == 0 && !strcmp(l.buf, "1 hello there in /tmp\n"), "env and cwd: %s", l.buf);
	sbx_proc_info_release(&p);
}

static void t_kill(struct sbx_sandbox *sb)
{
	struct sbx_proc_opts o = {.command = "echo started; exec sleep 600"};
	struct sbx_proc_info p = {0};
	struct sbx_err err = {0};
	struct lines l;
	int r;

	r = sbx_proc_start(sb, &o, &p, &err);
	if (r) {
		check(false, "start a long process (%d %s)", r, err.msg);
		return;
	}
	check(status_of(sb, p.id, NULL, 0) == SBX_PROC_RUNNING, "the long one is listed running");
	/* without follow: the kept line, then return although it still runs */
	lines_init(&l, "started");
	r = sbx_proc_logs(sb, p.id, true, 60, on_line, &l, NULL);
	check(r == 7, "following stops where the callback says (%d)", r);
	lines_init(&l, NULL);
	{
		double t0 = now_s();

		r = sbx_proc_logs(sb, p.id, false, 60, on_line, &l, &err);
		check(r == 0 && !strcmp(l.buf, "1 started\n"),
		      "logs without follow of a running process: the kept line, back in %.2f s "
		      "(%d %s)",
		      now_s() - t0, r, err.msg);
	}
	r = sbx_proc_kill(sb, p.id, &err);
	check(r == 0, "kill (%d %s)", r, err.msg);
	/* the end of the process is an event: its log stream completes */
	lines_init(&l, NULL);
	r = sbx_proc_logs(sb, p.id, true, 60, on_line, &l, &err);
	check(r == 0, "its log stream completes once it is reaped (%d %s)", r, err.msg);
	r = status_of(sb, p.id, NULL, 0);
	check(r == SBX_PROC_KILLED, "status killed (%s)",
	      r >= 0 ? sbx_proc_status_name((enum sbx_proc_status)r) : "?");
	r = sbx_proc_kill(sb, p.id, &err);
	check(r == -ESRCH, "a second kill is ESRCH (%d %s)", r, err.msg);
	sbx_proc_info_release(&p);
}

static void t_unknown(struct sbx_sandbox *sb)
{
	const char *id = "00000000-0000-0000-0000-000000000000";
	struct sbx_err err = {0};
	struct lines l;
	int r;

	r = sbx_proc_kill(sb, id, &err);
	check(r == -SBX_ENOTFOUND, "kill of an unknown id: ENOTFOUND (%d %s)", r, err.msg);
	lines_init(&l, NULL);
	r = sbx_proc_logs(sb, id, true, 30, on_line, &l, &err);
	check(r == -SBX_ENOTFOUND && l.n == 0, "logs of an unknown id: ENOTFOUND (%d %s)", r,
	      err.msg);
	r = sbx_proc_kill(sb, "../etc", &err);
	check(r == -SBX_EINVAL, "an id that is no id is refused before any request (%d)", r);
	{
		const char *bad_env[] = {"NOEQUALS"};
		struct sbx_proc_opts none = {0}, env = {.command = "true", .n_env = 1},
				     bad = {.command = "true", .env = bad_env, .n_env = 1};
		struct sbx_proc_info p = {0};

		check(sbx_proc_start(sb, &none, &p, NULL) == -SBX_EINVAL,
		      "start without a command");
		check(sbx_proc_start(sb, &env, &p, NULL) == -SBX_EINVAL, "n_env without env");
		check(sbx_proc_start(sb, &bad, &p, NULL) == -SBX_EINVAL,
		      "an env entry without '='");
	}
}

/* Connects to "tcp://HOST:PORT", sends an HTTP GET, returns the reply. */
static int http_get(const char *url, const char *path, char *out, size_t len)
{
	char host[256];
	int port = 0, fd = -1, rc = -1;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char ps[16], req[256];
	size_t got = 0;
	ssize_t k;

	if (sscanf(url, "tcp://%255[^:]:%d", host, &port) != 2)
		return -1;
	snprintf(ps, sizeof(ps), "%d", port);
	if (getaddrinfo(host, ps, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto out;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	while (got + 1 < len && (k = read(fd, out + got, len - 1 - got)) > 0)
		got += (size_t)k;
	out[got] = '\0';
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

static void t_port(struct sbx_sandbox *sb)
{
	struct sbx_proc_opts o = {
	    .command = "mkdir -p /tmp/www && echo hello-from-the-sandbox > /tmp/www/hi.txt && "
		       "exec python3 -u -m http.server 8080 --bind 127.0.0.1 --directory /tmp/www"};
	struct sbx_proc_info p = {0};
	struct sbx_err err = {0};
	char *url = NULL, *url2 = NULL, reply[4096] = "";
	struct lines l;
	int r;

	if (sh(sb, "command -v python3 >/dev/null") != 0) {
		check(false, "python3 in the default image (needed for the port check)");
		return;
	}
	r = sbx_proc_start(sb, &o, &p, &err);
	check(r == 0, "start an HTTP server in the sandbox (%d %s)", r, err.msg);
	if (r)
		return;
	/* it listens once it says so (python -u: unbuffered) */
	lines_init(&l, "Serving HTTP");
	r = sbx_proc_logs(sb, p.id, true, 60, on_line, &l, &err);
	check(r == 7, "the server says it is listening (%d %s)", r, err.msg);
	r = sbx_port_bind(sb, 8080, &url, &err);
	check(r == 0 && url && !strncmp(url, "tcp://", 6), "bind 8080: %s (%d %s)", url ? url : "-",
	      r, err.msg);
	if (url) {
		r = http_get(url, "/hi.txt", reply, sizeof(reply));
		check(r == 0 && strstr(reply, " 200 ") && strstr(reply, "hello-from-the-sandbox"),
		      "the file is served through the URL from the host");
	}
	r = sbx_port_bind(sb, 8080, &url2, &err);
	check(r == 0 && url2 && url && !strcmp(url, url2), "binding the same port again is fine");
	free(url2);
	url2 = NULL;
	r = sbx_port_bind(sb, 9090, &url2, &err);
	check(r == -SBX_EEXIST && !url2, "binding another port: EEXIST (%d %s)", r, err.msg);
	check(sbx_port_unbind(sb, &err) == 0, "unbind (%s)", err.msg);
	if (url) {
		reply[0] = '\0';
		http_get(url, "/hi.txt", reply, sizeof(reply));
		check(!strstr(reply, "hello-from-the-sandbox"),
		      "after unbind the proxy port serves nothing");
	}
	check(sbx_port_unbind(sb, &err) == 0, "unbind with nothing bound is a success");
	r = sbx_port_bind(sb, 0, &url2, &err);
	check(r == -SBX_EINVAL, "port 0 is refused (%d)", r);
	sbx_proc_kill(sb, p.id, NULL);
	sbx_proc_info_release(&p);
	free(url);
}

static void t_auth(struct sbx_sandbox *sb)
{
	struct xc_target t = {.secret = "not-the-secret"};
	struct xc *good = NULL, *bad = NULL;
	struct sbx_err err = {0};
	json_object *o = NULL;
	int r, status = 0;

	r = sbx_sandbox_executor(sb, &good, &err);
	check(r == 0, "the sandbox has an executor: %s", good ? xc_base_url(good) : err.msg);
	if (r)
		return;
	t.base_url = xc_base_url(good);
	t.routing_key = sbx_sandbox_id(sb);
	r = xc_new(&t, &bad, &err);
	if (r == 0)
		r = xc_call(bad, "GET", "/list_processes", NULL, NULL, 30, &status, &o, &err);
	check(r == -SBX_EAUTH && status == 401 && !o, "a wrong secret: EAUTH, 401 (%d %s)", r,
	      err.msg);
	check(!strstr(err.msg, "not-the-secret") && !strstr(err.msg, sbx_sandbox_secret(sb)),
	      "no secret in the message");
	xc_free(bad);
	r = xc_call(good, "GET", "/health", NULL, NULL, 30, &status, &o, &err);
	check(r == 0 && o &&
		  !strcmp(json_object_get_string(json_object_object_get(o, "status")), "ok"),
	      "health through the same client (%d)", r);
	json_object_put(o);
}

struct lister {
	struct sbx_sandbox *sb;
	int ok;
};

static void *lister(void *arg)
{
	struct lister *a = arg;

	for (int i = 0; i < 50; i++) {
		struct sbx_proc_info *v = NULL;
		size_t n = 0;

		if (sbx_proc_list(a->sb, &v, &n, NULL) == 0)
			a->ok++;
		sbx_proc_info_free(v, n);
	}
	return NULL;
}

/* One handle, several threads: every call succeeds (the client keeps a
 * connection per concurrent call). The times are figures, not checks. */
static void t_concurrent(struct sbx_sandbox *sb)
{
	struct lister a[4];
	pthread_t th[4];
	double t0 = now_s();
	int ok = 0;

	lister(&(struct lister){sb, 0});
	printf("# 50 sequential list calls: %.1f ms each\n", (now_s() - t0) * 1000 / 50);
	t0 = now_s();
	for (int i = 0; i < 4; i++) {
		a[i] = (struct lister){sb, 0};
		pthread_create(&th[i], NULL, lister, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += a[i].ok;
	}
	printf("# 4 threads x 50 list calls: %.1f ms in all\n", (now_s() - t0) * 1000);
	check(ok == 200, "4 threads x 50 list calls on one handle: %d succeeded", ok);
}

/* The executor's URL with its host:port replaced by proxy (HOST:PORT). */
static int via(const char *url, const char *proxy, char *out, size_t len)
{
	const char *h = strstr(url, "://"), *path;

	if (!h || !(path = strchr(h + 3, '/')))
		return -1;
	return snprintf(out, len, "%.*s%s%s", (int)(h + 3 - url), url, proxy, path) < (int)len ? 0
											       : -1;
}

/* Over a slow link (PROC_API_SLOW=HOST:PORT, a delay proxy in front of
 * sbxd), a quiet spell is counted from the reply's headers, not from the
 * request: the kept line of a running process still arrives although the
 * headers take longer than the quiet spell to come. */
static void t_slow_link(struct sbx_sandbox *sb, const char *proxy)
{
	struct sbx_proc_opts o = {.command = "echo kept; exec sleep 600"};
	struct xc_target t = {.secret = sbx_sandbox_secret(sb), .routing_key = sbx_sandbox_id(sb)};
	struct sbx_proc_info p = {0};
	struct xc *good = NULL, *slow = NULL;
	struct sbx_err err = {0};
	struct lines l;
	char url[1024], q[128];
	double t0;
	int r;

	lines_init(&l, "kept");
	r = sbx_sandbox_executor(sb, &good, &err);
	if (r == 0)
		r = via(xc_base_url(good), proxy, url, sizeof(url));
	t.base_url = url;
	if (r == 0)
		r = xc_new(&t, &slow, &err);
	if (r == 0)
		r = sbx_proc_start(sb, &o, &p, &err);
	/* its line is kept once it is printed: wait for that (fast path) */
	if (r == 0)
		r = sbx_proc_logs(sb, p.id, true, 60, on_line, &l, &err) == 7 ? 0 : -1;
	check(r == 0, "a process that printed a line, and a client over the slow link (%s)",
	      err.msg);
	if (r)
		goto out;
	snprintf(q, sizeof(q), "id=%s", p.id);
	lines_init(&l, NULL);
	t0 = now_s();
	r = xc_stream_idle(slow, "GET", "/process_logs_streaming", q, NULL, 60, 0.5, on_log, &l,
			   &err);
	check(r == -EAGAIN && !strcmp(l.buf, "1 kept\n"),
	      "over the slow link the kept line comes before the quiet spell ends (%d, %.2f s): %s",
	      r, now_s() - t0, l.buf);
	sbx_proc_kill(sb, p.id, NULL);
out:
	sbx_proc_info_release(&p);
	xc_free(slow);
}

int main(void)
{
	struct sbx_create_opts co = {.name = "proc-api", .wait_ready = true, .timeout_s = 120};
	struct sbx_client *c = NULL;
	struct sbx_sandbox *sb = NULL, *sb2 = NULL;
	struct sbx_err err = {0};
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = sbx_client_new(NULL, &c, &err);
	if (r == 0)
		r = sbx_sandbox_create(c, &co, &sb, &err);
	check(r == 0, "create a sandbox (%d %s)", r, err.msg);
	if (r)
		goto out;
	t_start_follow(sb);
	t_env_cwd(sb);
	t_kill(sb);
	t_unknown(sb);
	t_port(sb);
	t_auth(sb);
	t_concurrent(sb);
	if (getenv("PROC_API_SLOW"))
		t_slow_link(sb, getenv("PROC_API_SLOW"));
	/* another handle (opened, metadata read with the deployment) sees the same processes */
	r = sbx_sandbox_open(c, sbx_sandbox_id(sb), &sb2, &err);
	if (r == 0) {
		struct sbx_proc_info *v = NULL;
		size_t n = 0;

		r = sbx_proc_list(sb2, &v, &n, &err);
		size_t want = getenv("PROC_API_SLOW") ? 5 : 4;

		check(r == 0 && n == want, "an opened handle lists the same %zu processes (%zu)",
		      want, n);
		for (size_t i = 1; r == 0 && i < n; i++)
			check(strcmp(v[i - 1].id, v[i].id) != 0, "entry %zu has its own id", i);
		sbx_proc_info_free(v, n);
	}
	check(r == 0, "open a second handle (%d %s)", r, err.msg);
out:
	if (sb) {
		r = sbx_sandbox_delete(sb, &err);
		check(r == 0, "delete the sandbox (%d %s)", r, err.msg);
	}
	sbx_sandbox_free(sb2);
	sbx_sandbox_free(sb);
	sbx_client_free(c);
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
