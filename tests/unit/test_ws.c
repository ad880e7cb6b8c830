/* test_ws.c - the exec WebSocket client (src/lib/exec/ws.c) against a
 * scripted server on a loopback socket: the handshake it sends, masking of
 * its frames, answers to pings, fragments with control frames between them,
 * a large message, the peer's close, the close sent when the client is
 * freed, refusals, broken framing, and the session's deadline. The server
 * is written with util/ws_frame.c's reader in server mode, so an unmasked
 * client frame fails the test. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exec/ws.h"
#include "sbx/error.h"
#include "util/timeutil.h"
#include "util/ws_frame.h"

#define BIG (1u << 20)

static const char NO[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";

enum script { ECHO_SCRIPT, REFUSE_401, BAD_ACCEPT, BAD_FRAME, TOO_BIG, CLIENT_ENDS, FREED, SILENT };

/* ---- the server (a thread, blocking sockets) ---- */

struct server {
	int lfd, port;
	enum script script;
	pthread_t th;
	char request[4096];
	int ok; /* the script ran as expected, from the server's side */
	char why[128];
};

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void frame(int fd, bool fin, int op, const void *p, size_t n)
{
	uint8_t h[SBX_WS_MAX_HEADER];

	send_all(fd, h, sbx_ws_encode_header(h, fin, op, n, NULL));
	send_all(fd, p, n);
}

/* Reads the next event of the client's (which must mask its frames). */
struct rx {
	struct sbx_ws_reader rd;
	uint8_t buf[65536];
	size_t len;
};

static int next_event(int fd, struct rx *x, struct sbx_ws_event *ev, char *copy, size_t cap)
{
	size_t used;

	for (;;) {
		if (sbx_ws_reader_next(&x->rd, x->buf, x->len, &used, ev) < 0)
			return -1;
		memmove(x->buf, x->buf + used, x->len - used);
		x->len -= used;
		if (ev->type != SBX_WS_EV_NONE) {
			snprintf(copy, cap, "%.*s", (int)ev->len, (const char *)ev->data);
			return 0;
		}
		ssize_t n = recv(fd, x->buf + x->len, sizeof(x->buf) - x->len, 0);

		if (n <= 0)
			return -1;
		x->len += (size_t)n;
	}
}

/* The close code of the client's close frame, or -1. Messages before it
 * are skipped: the client's "m1" may leave before it sees what ends it. */
static int next_close(int fd, struct rx *x)
{
	struct sbx_ws_event ev;
	char got[200];

	while (next_event(fd, x, &ev, got, sizeof(got)) == 0)
		if (ev.type == SBX_WS_EV_CLOSE)
			return ev.close_code;
	return -1;
}

static void read_request(struct server *s, int fd)
{
	size_t n = 0;

	while (n < sizeof(s->request) - 1 && !strstr(s->request, "\r\n\r\n")) {
		ssize_t r = recv(fd, s->request + n, 1, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		s->request[n] = '\0';
	}
}

static void upgrade(struct server *s, int fd, bool good)
{
	char head[512], acc[29] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", key[64] = "";
	const char *k = strstr(s->request, "Sec-WebSocket-Key: ");

	if (k)
		sscanf(k + 19, "%63[^\r]", key);
	if (good)
		sbx_ws_accept_key(key, true, acc);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		 "Sec-WebSocket-Protocol: Bearer\r\n\r\n",
		 acc);
	send_all(fd, head, strlen(head));
}

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			snprintf(s->why, sizeof(s->why), __VA_ARGS__);                             \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static void echo_script(struct server *s, int fd, struct rx *x)
{
	struct sbx_ws_event ev;
	char got[200];
	char *big = malloc(BIG);

	EXPECT(next_event(fd, x, &ev, got, sizeof(got)) == 0 && ev.type == SBX_WS_EV_MESSAGE &&
		   !strcmp(got, "m1"),
	       "no masked m1 from the client");
	frame(fd, true, SBX_WS_PING, "p1", 2);
	EXPECT(next_event(fd, x, &ev, got, sizeof(got)) == 0 && ev.type == SBX_WS_EV_PONG &&
		   !strcmp(got, "p1"),
	       "no pong for p1");
	frame(fd, false, SBX_WS_TEXT, "frag", 4);
	frame(fd, true, SBX_WS_PING, "p2", 2);
	frame(fd, true, SBX_WS_CONT, "mented", 6);
	EXPECT(next_event(fd, x, &ev, got, sizeof(got)) == 0 && ev.type == SBX_WS_EV_PONG &&
		   !strcmp(got, "p2"),
	       "no pong for p2");
	for (size_t i = 0; big && i < BIG; i++)
		big[i] = (char)('a' + i % 26);
	frame(fd, true, SBX_WS_TEXT, big, big ? BIG : 0);
	free(big);
	frame(fd, true, SBX_WS_CLOSE,
	      "\x0f\xa0"
	      "bye",
	      5); /* 4000 */
	EXPECT(next_event(fd, x, &ev, got, sizeof(got)) == 0 && ev.type == SBX_WS_EV_CLOSE &&
		   ev.close_code == 4000,
	       "the close was not answered with its code");
	s->ok = 1;
}

static void run_script(struct server *s, int fd)
{
	struct rx *x = calloc(1, sizeof(*x));
	char got[200];
	uint8_t h[SBX_WS_MAX_HEADER];

	sbx_ws_reader_init(&x->rd, 4 << 20, true);
	read_request(s, fd);
	switch (s->script) {
	case REFUSE_401:
		send_all(fd, NO, strlen(NO));
		s->ok = 1;
		break;
	case BAD_ACCEPT:
		upgrade(s, fd, false);
		s->ok = 1;
		break;
	case SILENT: s->ok = recv(fd, got, 1, 0) == 0; break; /* until the client goes */
	default:
		upgrade(s, fd, true);
		if (s->script == ECHO_SCRIPT) {
			echo_script(s, fd, x);
		} else if (s->script == BAD_FRAME) {
			send_all(fd, "\xc1\x01x", 3); /* RSV1 without an extension */
			s->ok = next_close(fd, x) == 1002;
		} else if (s->script == TOO_BIG) {
			send_all(
			    fd, h,
			    sbx_ws_encode_header(h, true, SBX_WS_TEXT, SBX_WSC_MSG_MAX + 1, NULL));
			s->ok = next_close(fd, x) == 1009;
		} else if (s->script == FREED) {
			frame(fd, true, SBX_WS_TEXT, "hi", 2);
			s->ok = next_close(fd, x) == SBX_WS_CLOSE_GOING;
		} else if (s->script == CLIENT_ENDS) {
			frame(fd, true, SBX_WS_TEXT, "last", 4);
			s->ok = next_close(fd, x) == 1000;
		}
	}
	sbx_ws_reader_release(&x->rd);
	free(x);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);

	if (fd >= 0) {
		run_script(s, fd);
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *s, enum script script)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->script = script;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->lfd, 0);
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->lfd, 4), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_join(struct server *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* ---- the client's side ---- */

struct client {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool sent, closed;
	int err, status, n_msgs, stop_after;
	bool free_at_msg; /* free the transport once a message came */
	char msg[256];
	size_t lens[4];
	char first[32];
	bool big_ok;
};

static int on_message(void *ud, const char *data, size_t n)
{
	struct client *c = ud;
	size_t i;

	pthread_mutex_lock(&c->lock);
	if (c->n_msgs < 4)
		c->lens[c->n_msgs] = n;
	if (c->n_msgs == 0)
		snprintf(c->first, sizeof(c->first), "%.*s", (int)n, data);
	if (n == BIG) {
		c->big_ok = true;
		for (i = 0; i < n; i++)
			if (data[i] != (char)('a' + i % 26))
				c->big_ok = false;
	}
	c->n_msgs++;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return c->stop_after && c->n_msgs >= c->stop_after ? 1 : 0;
}

static int on_writable(void *ud, struct sbx_buf *out)
{
	struct client *c = ud;

	if (c->sent)
		return 0;
	c->sent = true;
	return sbx_buf_puts(out, "m1") < 0 ? -ENOMEM : 1;
}

static void on_closed(void *ud, int err, int http_status, const char *msg)
{
	struct client *c = ud;

	pthread_mutex_lock(&c->lock);
	c->closed = true;
	c->err = err;
	c->status = http_status;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static const struct sbx_wsc_ops OPS = {on_message, on_writable, on_closed};

/* Runs one session against a server playing script; fills c. */
static void session(enum script script, int64_t deadline_ms, struct client *c, struct server *s)
{
	struct sbx_wsc *t = NULL;
	struct sbx_wsc_sess *sess;
	struct sbx_err err = {0};
	char host[64];

	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	server_start(s, script);
	snprintf(host, sizeof(host), "http://127.0.0.1:%d/base", s->port);
	ck_assert_int_eq(sbx_wsc_new(host, "tok", NULL, &t, &err), 0);
	ck_assert_int_eq(sbx_wsc_open(t, "/v1/streams/instances/exec?id=i",
				      deadline_ms ? sbx_now_ms() + deadline_ms : 0, &OPS, c, &sess),
			 0);
	sbx_wsc_want_write(sess);
	pthread_mutex_lock(&c->lock);
	while (!c->closed && !(c->free_at_msg && c->n_msgs))
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	sbx_wsc_free(t); /* also drops the socket of a session still open */
	server_join(s);
}

START_TEST(full_session)
{
	struct client c = {0};
	struct server s;

	session(ECHO_SCRIPT, 0, &c, &s);
	ck_assert_msg(s.ok, "server: %s", s.why);
	ck_assert_ptr_nonnull(
	    strstr(s.request, "GET /base/v1/streams/instances/exec?id=i HTTP/1.1"));
	ck_assert_ptr_nonnull(strstr(s.request, "\r\nAuthorization: Bearer tok\r\n"));
	ck_assert_ptr_nonnull(strstr(s.request, "\r\nSec-WebSocket-Protocol: Bearer, tok\r\n"));
	ck_assert_ptr_nonnull(strstr(s.request, "\r\nHost: 127.0.0.1:"));
	ck_assert_int_eq(c.n_msgs, 2);
	ck_assert_str_eq(c.first, "fragmented");
	ck_assert_uint_eq(c.lens[1], BIG);
	ck_assert(c.big_ok);
	ck_assert_int_eq(c.err, -SBX_ECONN);
	ck_assert_str_eq(c.msg, "connection closed before the command exited (close 4000: bye)");
}
END_TEST

START_TEST(refused_upgrade_keeps_the_status)
{
	struct client c = {0};
	struct server s;

	session(REFUSE_401, 0, &c, &s);
	ck_assert_int_eq(c.status, 401);
	ck_assert_int_eq(c.err, sbx_err_from_http(401));
	ck_assert_str_eq(c.msg, "exec handshake refused: HTTP 401");
}
END_TEST

START_TEST(wrong_accept_is_refused)
{
	struct client c = {0};
	struct server s;

	session(BAD_ACCEPT, 0, &c, &s);
	ck_assert_int_eq(c.err, -SBX_EPROTO);
	ck_assert_str_eq(c.msg, "exec handshake: wrong or missing Sec-WebSocket-Accept");
	ck_assert_int_eq(c.n_msgs, 0);
}
END_TEST

START_TEST(broken_framing_closes_with_1002)
{
	struct client c = {0};
	struct server s;

	session(BAD_FRAME, 0, &c, &s);
	ck_assert_int_eq(c.err, -SBX_EPROTO);
	ck_assert_str_eq(c.msg, "exec WebSocket: the server broke the framing protocol");
	ck_assert_msg(s.ok, "the server did not get a close 1002");
}
END_TEST

START_TEST(oversized_message_closes_with_1009)
{
	struct client c = {0};
	struct server s;

	session(TOO_BIG, 0, &c, &s);
	ck_assert_int_eq(c.err, -SBX_EPROTO);
	ck_assert_str_eq(c.msg, "exec message larger than 16 MiB");
	ck_assert_msg(s.ok, "the server did not get a close 1009");
}
END_TEST

START_TEST(owner_ends_the_session_with_1000)
{
	struct client c = {.stop_after = 1};
	struct server s;

	session(CLIENT_ENDS, 0, &c, &s);
	ck_assert_int_eq(c.err, 0);
	ck_assert_str_eq(c.first, "last");
	ck_assert_msg(s.ok, "the server did not get a close 1000");
}
END_TEST

START_TEST(freeing_the_client_closes_with_1001)
{
	struct client c = {.free_at_msg = true};
	struct server s;

	session(FREED, 0, &c, &s);
	ck_assert(c.closed);
	ck_assert_int_eq(c.err, -SBX_ECANCELED);
	ck_assert_msg(s.ok, "the server did not get a close 1001");
}
END_TEST

START_TEST(deadline_ends_a_silent_handshake)
{
	struct client c = {0};
	struct server s;
	int64_t t0 = sbx_now_ms();

	session(SILENT, 200, &c, &s);
	ck_assert_int_eq(c.err, -SBX_ETIMEDOUT);
	ck_assert_int_lt(sbx_now_ms() - t0, 20000);
	ck_assert_msg(s.ok, "the client did not drop the connection");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ws");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, full_session);
	tcase_add_test(tc, refused_upgrade_keeps_the_status);
	tcase_add_test(tc, wrong_accept_is_refused);
	tcase_add_test(tc, broken_framing_closes_with_1002);
	tcase_add_test(tc, oversized_message_closes_with_1009);
	tcase_add_test(tc, owner_ends_the_session_with_1000);
	tcase_add_test(tc, freeing_the_client_closes_with_1001);
	tcase_add_test(tc, deadline_ends_a_silent_handshake);
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
	return failed ? 1 : 0;
}
