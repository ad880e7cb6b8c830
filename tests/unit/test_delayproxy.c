/* test_delayproxy.c - the benchmark's delay proxy (bench/delayproxy.c), run as
 * the real program between this test and a forked echo server: a round trip
 * takes at least twice the delay, bytes arrive intact and in order, on many
 * connections at once, and SIGTERM stops it with status 0. Only lower bounds
 * on time are checked (no upper bound: the machine may be busy).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SBX_DELAYPROXY
#error "SBX_DELAYPROXY (path of sbx-delayproxy) must be defined by the build"
#endif

#define DELAY_MS 20

struct fixture {
	pid_t echo, proxy;
	int port; /* the proxy's */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void echo_conn(int c)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0, w; off < n; off += w)
			if ((w = write(c, buf + off, (size_t)(n - off))) <= 0)
				_exit(1);
	_exit(0);
}

/* An echo server on a free loopback port; a process per connection. */
static pid_t start_echo(int *ret_port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c;
	pid_t pid;

	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 64), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	*ret_port = ntohs(a.sin_port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGCHLD, SIG_IGN); /* no zombies from the per-connection children */
		signal(SIGTERM, SIG_DFL); /* not Check's handler, which kills the group */
		while ((c = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			if (fork() == 0)
				echo_conn(c);
			close(c);
		}
		_exit(0);
	}
	close(l);
	return pid;
}

/* Starts the proxy in front of port with ARGS; reads the port it prints. */
static pid_t start_proxy(int target_port, const char *delay, int *ret_port)
{
	char target[64], line[32];
	int pfd[2];
	ssize_t n;
	pid_t pid;

	snprintf(target, sizeof(target), "127.0.0.1:%d", target_port);
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		execl(SBX_DELAYPROXY, "sbx-delayproxy", "-t", target, "-d", delay, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	ck_assert_int_gt(n, 0);
	line[n] = '\0';
	*ret_port = (int)strtol(line, NULL, 10);
	ck_assert_int_gt(*ret_port, 0);
	return pid;
}

static void setup_fixture(struct fixture *f, const char *delay)
{
	int eport;

	f->echo = start_echo(&eport);
	f->proxy = start_proxy(eport, delay, &f->port);
}

static int stop(pid_t pid, int sig)
{
	int st = -1;

	kill(pid, sig);
	waitpid(pid, &st, 0);
	return st;
}

static int connect_to(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)((i * 131 + seed * 7 + (i >> 12)) & 0xff);
}

/* Sends len patterned bytes on each of n sockets and reads the echoes, all
 * at once (poll), so the proxy has data in flight both ways on every one. */
static void pump_many(int *fds, int n, size_t len)
{
	size_t sent[64] = {0}, got[64] = {0};
	unsigned char buf[16384];
	struct pollfd p[64];
	int done = 0;

	ck_assert_int_le(n, 64);
	while (done < n) {
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){.fd = fds[i],
					       .events =
						   (short)(POLLIN | (sent[i] < len ? POLLOUT : 0))};
		ck_assert_int_gt(poll(p, (nfds_t)n, 30000), 0);
		for (int i = 0; i < n; i++) {
			if ((p[i].revents & POLLOUT) && sent[i] < len) {
				size_t k =
				    len - sent[i] < sizeof(buf) ? len - sent[i] : sizeof(buf);
				for (size_t j = 0; j < k; j++)
					buf[j] = pattern(sent[i] + j, (unsigned)i);
				ssize_t w = write(fds[i], buf, k);
				ck_assert_int_gt(w, 0);
				sent[i] += (size_t)w;
			}
			if (p[i].revents & (POLLIN | POLLHUP)) {
				ssize_t r = read(fds[i], buf, sizeof(buf));
				int bad = 0;

				ck_assert_int_gt(r, 0);
				/* one assertion per read: Check records every one */
				for (ssize_t j = 0; j < r; j++)
					bad |= buf[j] != pattern(got[i] + (size_t)j, (unsigned)i);
				ck_assert_msg(!bad, "connection %d: wrong byte near offset %zu", i,
					      got[i]);
				got[i] += (size_t)r;
				ck_assert_uint_le(got[i], len);
				if (got[i] == len)
					done++;
			}
		}
	}
}

START_TEST(round_trip_takes_the_delay)
{
	struct fixture f;
	char c = 'x';
	double t0, first, second;
	int fd;

	setup_fixture(&f, "20");
	t0 = now_ms();
	fd = connect_to(f.port);
	ck_assert_int_eq(write(fd, &c, 1), 1);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	first = now_ms() - t0;
	t0 = now_ms();
	ck_assert_int_eq(write(fd, &c, 1), 1);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	second = now_ms() - t0;
	ck_assert_int_eq(c, 'x');
	/* the first exchange also pays the handshake: two round trips */
	ck_assert_msg(first >= 4 * DELAY_MS, "first round trip %.1f ms", first);
	ck_assert_msg(second >= 2 * DELAY_MS, "round trip %.1f ms", second);
	close(fd);
	ck_assert_int_eq(stop(f.proxy, SIGTERM), 0);
	stop(f.echo, SIGKILL);
}
END_TEST

START_TEST(bytes_intact_and_in_order)
{
	struct fixture f;
	int fd;

	setup_fixture(&f, "5");
	fd = connect_to(f.port);
	pump_many(&fd, 1, 24u << 20); /* three times the proxy's queue bound */
	close(fd);
	ck_assert_int_eq(stop(f.proxy, SIGTERM), 0);
	stop(f.echo, SIGKILL);
}
END_TEST

START_TEST(many_connections_at_once)
{
	struct fixture f;
	int fds[40];

	setup_fixture(&f, "2.5");
	for (int i = 0; i < 40; i++)
		fds[i] = connect_to(f.port);
	pump_many(fds, 40, 256 * 1024);
	for (int i = 0; i < 40; i++)
		close(fds[i]);
	ck_assert_int_eq(stop(f.proxy, SIGTERM), 0);
	stop(f.echo, SIGKILL);
}
END_TEST

START_TEST(end_of_stream_passes_through)
{
	struct fixture f;
	char buf[8];
	int fd;

	setup_fixture(&f, "1");
	fd = connect_to(f.port);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	/* the echo server sees EOF, ends, and its EOF comes back after the data */
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	ck_assert_int_eq(stop(f.proxy, SIGTERM), 0);
	stop(f.echo, SIGKILL);
}
END_TEST

START_TEST(bad_arguments_refused)
{
	const char *bad[] = {"-1", "abc", "60001", "nan", ""};
	int st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			dup2(null, 2); /* the usage text is expected */
			execl(SBX_DELAYPROXY, "sbx-delayproxy", "-t", "127.0.0.1:1", "-d", bad[i],
			      (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "-d '%s' accepted", bad[i]);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("delayproxy");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trip_takes_the_delay);
	tcase_add_test(tc, bytes_intact_and_in_order);
	tcase_add_test(tc, many_connections_at_once);
	tcase_add_test(tc, end_of_stream_passes_through);
	tcase_add_test(tc, bad_arguments_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
