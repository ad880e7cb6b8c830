/* hostctl.c - start, stop and query the local host sbxd; see hostctl.h.
 *
 * The readiness test is "sbxd.json names a live process and its address
 * accepts a TCP connection": sbxd writes the file only after it listens, and
 * removes it on a clean exit, so a stale file left by a crash is detected by
 * the pid check.
 */
#include "cli/hostctl.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/json.h"
#include "util/statedir.h"
#include "util/timeutil.h"

void hostctl_info_release(struct hostctl_info *hi)
{
	sbx_buf_release(&hi->api_host);
	sbx_buf_release(&hi->token);
	sbx_buf_release(&hi->state_dir);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* true when http://HOST:PORT accepts a TCP connection */
static bool can_connect(const char *url)
{
	char host[256], port[16];
	const char *p = url, *colon, *end;
	struct addrinfo hints = {0}, *ai = NULL;
	bool ok = false;
	int fd;

	if (strncmp(p, "http://", 7) != 0)
		return false;
	p += 7;
	colon = strrchr(p, ':');
	if (!colon || (size_t)(colon - p) >= sizeof(host))
		return false;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	end = colon + 1 + strcspn(colon + 1, "/");
	if ((size_t)(end - colon - 1) >= sizeof(port) || end == colon + 1)
		return false;
	memcpy(port, colon + 1, (size_t)(end - colon - 1));
	port[end - colon - 1] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return false;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(ai);
	return ok;
}

static int read_runfile(struct hostctl_info *hi)
{
	struct sbx_buf path = SBX_BUF_INIT, data = SBX_BUF_INIT;
	json_object *o = NULL;
	const char *host;
	int64_t pid = 0;
	int r;

	r = sbx_buf_printf(&path, "%s/sbxd.json", hi->state_dir.data);
	if (r < 0)
		goto out;
	r = sbx_read_small_file(path.data, 64 * 1024, &data);
	if (r < 0)
		goto out;
	r = sbx_json_parse(data.data, data.len, &o);
	if (r < 0)
		goto out;
	host = sbx_json_str(o, "api_host");
	if (!host || sbx_json_int(o, "pid", &pid) < 0 || pid <= 0) {
		r = -EBADMSG;
		goto out;
	}
	hi->pid = (pid_t)pid;
	sbx_buf_reset(&hi->api_host);
	r = sbx_buf_puts(&hi->api_host, host);
out:
	sbx_json_put(o);
	sbx_buf_release(&path);
	sbx_buf_release(&data);
	return r;
}

static int read_token(struct hostctl_info *hi)
{
	struct sbx_buf path = SBX_BUF_INIT;
	int r;

	r = sbx_buf_printf(&path, "%s/token", hi->state_dir.data);
	if (r == 0) {
		sbx_buf_reset(&hi->token);
		r = sbx_read_small_file(path.data, 4096, &hi->token);
	}
	while (r == 0 && hi->token.len &&
	       (hi->token.data[hi->token.len - 1] == '\n' ||
		hi->token.data[hi->token.len - 1] == '\r'))
		hi->token.data[--hi->token.len] = '\0';
	sbx_buf_release(&path);
	return r;
}

int hostctl_query(struct hostctl_info *hi)
{
	int r;

	hi->running = false;
	hi->pid = 0;
	if (!hi->state_dir.len) {
		r = sbx_state_dir(&hi->state_dir);
		if (r < 0)
			return r;
	}
	if (read_runfile(hi) < 0)
		return 0;
	if (kill(hi->pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (!can_connect(hi->api_host.data))
		return 0;
	r = read_token(hi);
	if (r < 0)
		return r;
	hi->running = true;
	return 0;
}

/* Executes dir/prog when that exists, else prog from $PATH; returns only on
 * failure (errno set). */
static void exec_in(const char *dir, const char *prog, char *const *argv)
{
	char path[4096];

	if (dir && snprintf(path, sizeof(path), "%s/%s", dir, prog) < (int)sizeof(path) &&
	    access(path, X_OK) == 0)
		execv(path, argv);
	execvp(prog, argv);
}

/* true when 127.0.0.1:port cannot be bound because someone holds it */
static bool port_taken(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd, r;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return r < 0 && errno == EADDRINUSE;
}

static pid_t spawn_daemon(const char *sbxd_dir, const char *state_dir, bool any_port)
{
	struct sbx_buf log = SBX_BUF_INIT;
	char *argv[] = {"sbxd", "--state-dir", (char *)state_dir, NULL, NULL, NULL};
	int logfd, nullfd;
	pid_t pid;

	if (sbx_buf_printf(&log, "%s/sbxd.log", state_dir) < 0)
		return -ENOMEM;
	logfd = open(log.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	sbx_buf_release(&log);
	if (logfd < 0)
		return -errno;
	if (any_port) {
		argv[3] = "--listen";
		argv[4] = "127.0.0.1:0";
	}
	pid = fork();
	if (pid < 0) {
		close(logfd);
		return -errno;
	}
	if (pid == 0) {
		setsid();
		nullfd = open("/dev/null", O_RDONLY);
		if (nullfd >= 0)
			dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		exec_in(sbxd_dir, "sbxd", argv);
		fprintf(stderr, "sbx: cannot run sbxd: %s\n", strerror(errno));
		_exit(127);
	}
	close(logfd);
	return pid;
}

int hostctl_ensure(const char *sbxd_dir, struct hostctl_info *hi, bool *started)
{
	int64_t deadline;
	pid_t child;
	int r, status;

	*started = false;
	r = hostctl_query(hi);
	if (r < 0 || hi->running)
		return r;
	r = sbx_mkdir_p(hi->state_dir.data, 0700);
	if (r < 0)
		return r;
	hi->moved_port = port_taken(HOSTCTL_DEFAULT_PORT);
	child = spawn_daemon(sbxd_dir, hi->state_dir.data, hi->moved_port);
	if (child < 0)
		return (int)child;
	deadline = sbx_now_ms() + 10000;
	while (sbx_now_ms() < deadline) {
		if (waitpid(child, &status, WNOHANG) == child)
			return -ECHILD; /* it exited: the reason is in sbxd.log */
		r = hostctl_query(hi);
		if (r < 0)
			return r;
		if (hi->running && hi->pid == child) {
			*started = true;
			return 0;
		}
		sleep_ms(20);
	}
	return -ETIMEDOUT;
}

int hostctl_stop(void)
{
	struct hostctl_info hi = {0};
	int64_t deadline;
	int r;

	r = hostctl_query(&hi);
	if (r < 0)
		goto out;
	if (!hi.running) {
		r = -ESRCH;
		goto out;
	}
	if (kill(hi.pid, SIGTERM) < 0) {
		r = -errno;
		goto out;
	}
	deadline = sbx_now_ms() + 15000;
	while (kill(hi.pid, 0) == 0 && sbx_now_ms() < deadline)
		sleep_ms(20);
	if (kill(hi.pid, 0) == 0) {
		kill(hi.pid, SIGKILL);
		r = -ETIMEDOUT;
	}
out:
	hostctl_info_release(&hi);
	return r;
}

int hostctl_run(const char *dir, const char *prog, char *const *argv)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		exec_in(dir, prog, argv);
		fprintf(stderr, "sbx: cannot run %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int hostctl_run_sbxd(const char *sbxd_dir, char *const *args)
{
	char *argv[32];
	size_t n = 0;

	argv[n++] = "sbxd";
	while (args && *args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	return hostctl_run(sbxd_dir, "sbxd", argv);
}
