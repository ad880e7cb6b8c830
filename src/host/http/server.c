/* server.c - listening socket, connection I/O and HTTP/1.1 request handling;
 * see server.h for the contract and conn.h for the connection states.
 *
 * Every connection has one send queue (out, written from out_off) and one
 * receive buffer (in). Sends never block: what the kernel does not take
 * stays queued and EPOLLOUT is asked for. A connection is closed gracefully
 * ("lingering close"): once its last response is flushed the write side is
 * shut down and input is read and dropped until EOF or a short timeout, so a
 * client still sending does not get a reset that would destroy the response.
 *
 * Bounds (server.h): input is not read while more than SBX_HTTP_MAX_QUEUED
 * bytes wait for the peer, and requests already buffered are not handled
 * then either, so a client that never reads its replies costs at most that
 * much; one timer per connection carries the deadline of its current phase
 * (conn_arm_deadline); the limit on connections reserves every slot above
 * SBX_HTTP_MAX_UNAUTH for clients that presented the token.
 */
#include "host/http/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/json.h"
#include "util/log.h"

#define READ_CHUNK   (64u * 1024)
#define READS_PER_EV 4
#define LINGER_MS    2000
#define MAX_IN_HTTP  (SBX_HTTP_MAX_HEAD + SBX_HTTP_MAX_BODY + READ_CHUNK)

static void on_conn_event(struct sbxd_watch *w, uint32_t events);
static void conn_after_events(struct sbxd_http_conn *c, bool progress);

size_t conn_queued(const struct sbxd_http_conn *c)
{
	return c->out.len - c->out_off;
}

static void conn_teardown(void *arg)
{
	struct sbxd_http_conn *c = arg;
	struct sbxd_http_server *s = c->srv;

	ws_teardown_notify(c);
	defer_teardown_notify(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sbxd_http_req_release(&c->req);
	sbx_ws_reader_release(&c->wsr);
	sbx_buf_release(&c->in);
	sbx_buf_release(&c->out);
	free(c);
}

void conn_fail(struct sbxd_http_conn *c)
{
	struct sbxd_loop *l = c->srv->loop;

	if (c->dead)
		return;
	c->dead = true;
	c->srv->nconns--;
	if (!c->authed)
		c->srv->nunauth--;
	sbxd_loop_unwatch(l, &c->w);
	sbxd_loop_timer_cancel(l, &c->timer);
	sbxd_loop_timer_cancel(l, &c->resume);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (sbxd_loop_defer(l, conn_teardown, c) == 0)
		c->teardown_queued = true;
	/* on -ENOMEM the struct leaks: freeing it now could be unsafe */
}

bool conn_backlogged(const struct sbxd_http_conn *c)
{
	return conn_queued(c) > SBX_HTTP_MAX_QUEUED;
}

void conn_update_events(struct sbxd_http_conn *c)
{
	uint32_t ev = 0;

	if (c->dead || c->lingering)
		return;
	if (!c->peer_eof && !conn_backlogged(c) && !(c->mode == CONN_WS && c->ws_paused) &&
	    !(c->mode == CONN_HTTP && c->in.len > MAX_IN_HTTP))
		ev |= EPOLLIN;
	/* A drain owed to the WebSocket user keeps EPOLLOUT: a flush outside the
	 * EPOLLOUT path (conn_write, e.g. of a PONG) may empty the queue, and
	 * on_drain must then still come from the loop, never from inside a
	 * write (the user may be calling in). */
	if (conn_queued(c) || (c->mode == CONN_WS && c->ws_above_low) ||
	    (c->deferred && c->defer_above_low))
		ev |= EPOLLOUT;
	if (sbxd_loop_modify(c->srv->loop, &c->w, ev) < 0)
		conn_fail(c);
}

static void on_linger_timeout(struct sbxd_timer *t)
{
	conn_fail(t->arg);
}

/* Everything is flushed and the connection should end: half-close and
 * drain the input for a bounded time. */
static void start_linger(struct sbxd_http_conn *c)
{
	if (c->peer_eof) {
		conn_fail(c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->close_after_write = false;
	c->lingering = true;
	sbxd_loop_timer(c->srv->loop, &c->timer, LINGER_MS, on_linger_timeout, c);
	if (sbxd_loop_modify(c->srv->loop, &c->w, EPOLLIN) < 0)
		conn_fail(c);
}

/* Sends what the kernel takes. 0, or -EPIPE after failing the connection. */
static int conn_flush(struct sbxd_http_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_fail(c);
		return -EPIPE;
	}
	if (c->out_off == c->out.len) {
		sbx_buf_reset(&c->out);
		c->out_off = 0;
	} else if (c->out_off > READ_CHUNK && c->out_off > c->out.len / 2) {
		sbx_buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	return 0;
}

int conn_write(struct sbxd_http_conn *c, const void *p, size_t n)
{
	int r;

	if (c->dead)
		return -EPIPE;
	r = sbx_buf_append(&c->out, p, n);
	if (r < 0)
		return r;
	if (conn_flush(c) < 0)
		return -EPIPE;
	conn_update_events(c);
	return 0;
}

int conn_send_response(struct sbxd_http_conn *c, struct sbxd_http_resp *resp, bool keep_alive)
{
	struct sbx_buf h = SBX_BUF_INIT;
	int r;

	r = sbx_buf_printf(&h,
			   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			   "Cache-Control: no-store\r\n%s%s\r\n",
			   resp->status, sbxd_http_reason(resp->status),
			   resp->content_type ? resp->content_type : "application/json",
			   resp->body.len, resp->extra, keep_alive ? "" : "Connection: close\r\n");
	if (r == 0)
		r = sbx_buf_append(&h, resp->body.data, resp->body.len);
	if (r == 0)
		r = conn_write(c, h.data, h.len);
	sbx_buf_release(&h);
	if (!keep_alive)
		c->close_after_write = true;
	return r;
}

static const char *error_code_for(int status)
{
	switch (status) {
	case 400: return "invalid_argument";
	case 411: return "length_required";
	case 413: return "payload_too_large";
	case 431: return "request_header_fields_too_large";
	case 503: return "unavailable";
	case 505: return "http_version_not_supported";
	default: return "internal";
	}
}

/* An answer the parser decided on; the connection closes after it. */
static void send_parse_error(struct sbxd_http_conn *c, int status)
{
	struct sbxd_http_resp resp = {.status = status};
	const char *why = c->req.error_message;

	sbx_buf_init(&resp.body);
	/* both texts are our own constants: no escaping needed */
	if (sbx_buf_printf(&resp.body, "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}", status,
			   error_code_for(status), why ? why : sbxd_http_reason(status)) == 0)
		conn_send_response(c, &resp, false);
	else
		conn_fail(c);
	sbx_buf_release(&resp.body);
}

static void dispatch(struct sbxd_http_conn *c, const char *body, size_t len)
{
	struct sbxd_http_resp resp = {.status = 500};
	int r;

	sbx_buf_init(&resp.body);
	r = c->srv->fn(c->srv->ctx, c, &c->req, body, len, &resp);
	if (r != SBX_HTTP_UPGRADED && r != SBX_HTTP_DEFERRED)
		conn_send_response(c, &resp, c->req.keep_alive);
	sbx_buf_release(&resp.body);
}

static void maybe_continue(struct sbxd_http_conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (c->sent_continue || c->req.version_minor < 1 || !c->req.content_length)
		return;
	if (!sbxd_http_header_has_token(&c->req, "Expect", "100-continue"))
		return;
	c->sent_continue = true;
	conn_write(c, cont, sizeof(cont) - 1);
}

static void http_process(struct sbxd_http_conn *c)
{
	size_t total;
	int r;

	while (!c->dead && c->mode == CONN_HTTP && !c->close_after_write && !c->deferred &&
	       c->in.len && !conn_backlogged(c)) {
		if (!c->have_head) {
			r = sbxd_http_parse_head(c->in.data, c->in.len, &c->req);
			if (r == 0)
				break;
			if (r < 0) {
				send_parse_error(c, c->req.error_status);
				break;
			}
			c->have_head = true;
			c->sent_continue = false;
		}
		total = c->req.head_len + c->req.content_length;
		if (c->in.len < total) {
			maybe_continue(c);
			break;
		}
		dispatch(c, c->in.data + c->req.head_len, c->req.content_length);
		c->served = true;
		c->phase = PHASE_NONE; /* the next request gets a deadline of its own */
		sbx_buf_consume(&c->in, total);
		sbxd_http_req_release(&c->req);
		c->have_head = false;
	}
	if (!c->dead && c->mode == CONN_WS)
		ws_process(c);
}

static void on_deadline(struct sbxd_timer *t)
{
	struct sbxd_http_conn *c = t->arg;

	sbx_debug("http: closing a connection past its deadline (phase %d)", (int)c->phase);
	conn_fail(c);
}

static enum conn_phase phase_of(const struct sbxd_http_conn *c)
{
	if (c->mode == CONN_WS)
		return c->ws_got_message ? PHASE_NONE : PHASE_WS_FIRST;
	if (conn_backlogged(c))
		return PHASE_STALLED;
	if (c->deferred)
		return PHASE_NONE; /* the reply's owner bounds its own work */
	if (c->have_head)
		return PHASE_BODY;
	if (c->in.len || !c->served)
		return PHASE_HEAD;
	return PHASE_IDLE;
}

static int64_t phase_ms(const struct sbxd_http_conn *c, enum conn_phase p)
{
	switch (p) {
	case PHASE_BODY: return SBX_HTTP_BODY_MS;
	case PHASE_IDLE: return c->authed ? SBX_HTTP_IDLE_MS : SBX_HTTP_HEAD_MS;
	case PHASE_STALLED: return SBX_HTTP_IDLE_MS;
	default: return SBX_HTTP_HEAD_MS;
	}
}

/* Arms the deadline of the phase c is in. A fixed deadline (head, body,
 * first message) runs from the phase's start whatever trickles in, which is
 * what stops a slow client; idle and stalled restart on progress. The
 * closing states (lingering, close handshake) own the timer themselves. */
static void conn_arm_deadline(struct sbxd_http_conn *c, bool progress)
{
	enum conn_phase p;

	if (c->dead || c->lingering || c->close_after_write || c->ws_close_sent)
		return;
	p = phase_of(c);
	if (p == c->phase && !(progress && (p == PHASE_IDLE || p == PHASE_STALLED)))
		return;
	c->phase = p;
	if (p == PHASE_NONE)
		sbxd_loop_timer_cancel(c->srv->loop, &c->timer);
	else
		sbxd_loop_timer(c->srv->loop, &c->timer, phase_ms(c, p), on_deadline, c);
}

/* Reads what is available (bounded per event for fairness). */
static void conn_read(struct sbxd_http_conn *c)
{
	int i;

	for (i = 0; i < READS_PER_EV && !c->dead; i++) {
		ssize_t n;

		if (sbx_buf_reserve(&c->in, READ_CHUNK) < 0) {
			conn_fail(c);
			return;
		}
		n = recv(c->fd, c->in.data + c->in.len, READ_CHUNK, MSG_DONTWAIT);
		if (n > 0) {
			c->in.len += (size_t)n;
			c->in.data[c->in.len] = '\0';
			continue;
		}
		if (n == 0) {
			c->peer_eof = true;
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_fail(c);
		return;
	}
}

/* Lingering: drop input until EOF. */
static void linger_read(struct sbxd_http_conn *c)
{
	char junk[4096];
	ssize_t n;

	do {
		n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
	} while (n > 0);
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		conn_fail(c);
}

static void on_conn_event(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_http_conn *c = w->arg;

	if (c->lingering) {
		linger_read(c);
		return;
	}
	if (events & EPOLLOUT) {
		if (conn_flush(c) < 0)
			return;
		if (c->mode == CONN_WS)
			ws_after_write(c);
		else if (c->deferred)
			defer_after_write(c);
	}
	if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(c);
	if (c->dead)
		return;
	if (c->mode == CONN_HTTP)
		http_process(c);
	else
		ws_process(c);
	conn_after_events(c, (events & (EPOLLIN | EPOLLOUT)) != 0);
}

/* What every pass over a connection ends with: end it, or re-arm. */
static void conn_after_events(struct sbxd_http_conn *c, bool progress)
{
	if (c->dead)
		return;
	if (c->peer_eof && c->deferred) {
		conn_fail(c); /* the client went away before its reply: on_close */
		return;
	}
	if (c->peer_eof && c->mode == CONN_WS && !c->close_after_write) {
		conn_fail(c); /* lost without a close frame: on_close gets 1006 */
		return;
	}
	if (c->peer_eof && c->mode == CONN_HTTP)
		c->close_after_write = true;
	if (c->close_after_write && !conn_queued(c)) {
		start_linger(c);
		return;
	}
	conn_arm_deadline(c, progress);
	conn_update_events(c);
}

static void on_resume_http(struct sbxd_timer *t)
{
	struct sbxd_http_conn *c = t->arg;

	if (c->dead || c->mode != CONN_HTTP)
		return;
	http_process(c);
	conn_after_events(c, true);
}

void conn_resume_http(struct sbxd_http_conn *c)
{
	if (!c->dead)
		sbxd_loop_timer(c->srv->loop, &c->resume, 0, on_resume_http, c);
}

static void conn_new(struct sbxd_http_server *s, int fd)
{
	struct sbxd_http_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = s;
	c->fd = fd;
	c->w.fd = -1;
	sbx_buf_init(&c->in);
	sbx_buf_init(&c->out);
	sbx_ws_reader_init(&c->wsr, SBX_WS_MAX_MESSAGE, true);
	if (sbxd_loop_watch(s->loop, &c->w, fd, EPOLLIN, on_conn_event, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->nunauth++;
	c->phase = PHASE_HEAD;
	sbxd_loop_timer(s->loop, &c->timer, SBX_HTTP_HEAD_MS, on_deadline, c);
}

void sbxd_http_conn_set_authed(struct sbxd_http_conn *c)
{
	if (!c || c->authed || c->dead)
		return;
	c->authed = true;
	c->srv->nunauth--;
}

/* Closes the oldest live connection that is not authenticated, to make room
 * for a newcomer. False when there is none. */
static bool evict_unauth(struct sbxd_http_server *s)
{
	struct sbxd_http_conn *c, *oldest = NULL;

	for (c = s->conns; c; c = c->next)
		if (!c->dead && !c->authed)
			oldest = c;
	if (!oldest)
		return false;
	sbx_debug("http: evicting an unauthenticated connection (%zu open)", s->nconns);
	conn_fail(oldest);
	return true;
}

static void refuse(int fd)
{
	static const char body[] =
	    "{\"status\":503,\"code\":\"unavailable\",\"message\":\"too many connections\"}";
	char msg[256];
	int n;
	ssize_t w = 0;

	n = snprintf(msg, sizeof(msg),
		     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     sizeof(body) - 1, body);
	if (n > 0 && (size_t)n < sizeof(msg))
		w = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	close(fd);
}

static void on_accept(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_http_server *s = w->arg;
	int i;

	for (i = 0; i < 64; i++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sbx_log(SBX_LOG_WARN, "accept: %s", strerror(errno));
			return;
		}
		if ((s->nunauth >= SBX_HTTP_MAX_UNAUTH || s->nconns >= SBX_HTTP_MAX_CONNS) &&
		    !evict_unauth(s)) {
			refuse(fd);
			continue;
		}
		conn_new(s, fd);
	}
}

/* Splits "ADDR:PORT" / "[ADDR]:PORT" and resolves it for bind(). */
static int resolve_listen(const char *spec, struct addrinfo **ret)
{
	char host[256], port[16];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = {0};
	size_t hl;

	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(port))
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (!hl || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (strspn(port, "0123456789") != strlen(port))
		return -EINVAL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, ret) != 0)
		return -EINVAL;
	return 0;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int open_listener(const char *spec, int *ret_fd)
{
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, r;

	r = resolve_listen(spec, &ai);
	if (r < 0)
		return r;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 256) < 0) {
		r = -errno;
		goto out;
	}
	*ret_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

int sbxd_http_server_new(struct sbxd_loop *l, const char *listen_addr, sbxd_http_handler_fn fn,
			 void *ctx, struct sbxd_http_server **ret)
{
	struct sbxd_http_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->fn = fn;
	s->ctx = ctx;
	s->lfd = -1;
	s->lw.fd = -1;
	r = open_listener(listen_addr, &s->lfd);
	if (r < 0)
		goto fail;
	r = bound_port(s->lfd);
	if (r < 0)
		goto fail;
	s->port = r;
	r = sbxd_loop_watch(l, &s->lw, s->lfd, EPOLLIN, on_accept, s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
	return r;
}

int sbxd_http_server_port(const struct sbxd_http_server *s)
{
	return s->port;
}

void sbxd_http_server_stop_listening(struct sbxd_http_server *s)
{
	if (s->lfd < 0)
		return;
	sbxd_loop_unwatch(s->loop, &s->lw);
	close(s->lfd);
	s->lfd = -1;
}

static void server_free_deferred(void *arg)
{
	free(arg);
}

void sbxd_http_server_free(struct sbxd_http_server *s)
{
	struct sbxd_http_conn *c;

	if (!s)
		return;
	sbxd_http_server_stop_listening(s);
	for (c = s->conns; c; c = c->next)
		conn_fail(c);
	/* the connections' teardowns were deferred first and still use s */
	if (sbxd_loop_defer(s->loop, server_free_deferred, s) < 0)
		return;
}
