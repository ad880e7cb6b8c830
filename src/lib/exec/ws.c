/* ws.c - the exec WebSocket transport; see ws.h.
 *
 * libwebsockets makes the connections (TCP, TLS and its verification, the
 * event loop) as RAW client sockets; the WebSocket on top is ours: the
 * upgrade in ws_hs.c, the frames in util/ws_frame.c (shared with sbxd).
 * The reason is speed: lws 4.1's client parser takes every received byte
 * through a function call of its state machine and masks every sent byte
 * one at a time, which made it three quarters of sbxfs's CPU time in a bulk
 * read. Here a payload is copied once, and masked eight bytes at a time.
 *
 * Threads: t->lock protects the request queue (q_* fields of sessions) and
 * t->stop. Everything else of a session, and the whole lws_context, belongs
 * to the transport thread. Callbacks into the session's owner are made with
 * no lock held.
 *
 * Session lifetime: created by sbx_wsc_open() (any thread), freed on the
 * transport thread once it has been reported (on_closed called) and has no
 * wsi left (LWS_CALLBACK_WSI_DESTROY seen, or it never got one). Between
 * on_closed and the free, the wsi may still be finishing its close
 * handshake; its events are ignored.
 */
#include "exec/ws.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "exec/ws_conn.h"
#include "util/log.h"
#include "util/timeutil.h"

/* How long the end of the transport waits for close frames to go out. */
#define DRAIN_MS 1000

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);

static const struct lws_protocols protocols[] = {
    {"sbx-exec", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_to_debug(int level, const char *line)
{
	size_t n = strlen(line);

	(void)level;
	if (n && line[n - 1] == '\n')
		n--;
	sbx_debug("lws: %.*s", (int)n, line);
}

/* ---- sessions: report, close, free (transport thread) ---- */

void sbx_wsc_report(struct sbx_wsc_sess *s, int err, const char *msg)
{
	if (s->reported)
		return;
	s->reported = true;
	lws_sul_cancel(&s->sul);
	sbx_debug("ws: session %p over: %d %s", (void *)s, err, msg);
	s->ops->on_closed(s->ud, err, s->http_status, msg);
}

static void sess_free(struct sbx_wsc_sess *s)
{
	struct sbx_wsc *t = s->t;
	struct sbx_wsc_sess **pp;

	pthread_mutex_lock(&t->lock);
	if (s->q_linked) {
		for (pp = &t->q_head; *pp && *pp != s; pp = &(*pp)->q_next)
			;
		if (*pp)
			*pp = s->q_next;
		t->q_tail = NULL;
		for (pp = &t->q_head; *pp; pp = &(*pp)->q_next)
			t->q_tail = *pp;
	}
	pthread_mutex_unlock(&t->lock);
	if (s->l_prev)
		s->l_prev->l_next = s->l_next;
	else if (t->live == s)
		t->live = s->l_next;
	if (s->l_next)
		s->l_next->l_prev = s->l_prev;
	lws_sul_cancel(&s->sul);
	lws_sul_cancel(&s->ka);
	sbx_ws_reader_release(&s->rd);
	sbx_wstls_free(s->tls);
	sbx_buf_release(&s->in);
	sbx_buf_release(&s->tx);
	free(s->path);
	free(s);
}

static void maybe_free(struct sbx_wsc_sess *s)
{
	if (s->reported && !s->wsi && !s->in_connect)
		sess_free(s);
}

void sbx_wsc_close_with(struct sbx_wsc_sess *s, int err, const char *msg)
{
	sbx_wsc_report(s, err, msg);
	if (!s->wsi || s->closing)
		return;
	s->closing = true;
	if (!s->close_code)
		s->close_code = SBX_WS_CLOSE_NORMAL;
	if (s->state == S_OPEN)
		lws_callback_on_writable(s->wsi);
	else
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_deadline(lws_sorted_usec_list_t *sul)
{
	struct sbx_wsc_sess *s = lws_container_of(sul, struct sbx_wsc_sess, sul);

	sbx_wsc_close_with(s, -SBX_ETIMEDOUT, "deadline passed");
}

static void sess_connect(struct sbx_wsc *t, struct sbx_wsc_sess *s)
{
	struct lws_client_connect_info i;
	struct lws *w;
	int64_t left;

	memset(&i, 0, sizeof(i));
	i.context = t->ctx;
	i.address = t->address;
	i.port = t->port;
	i.path = s->path;
	i.host = t->host_hdr;
	/* RAW: lws makes the TCP connection; TLS (ws_tls.c), the HTTP upgrade
	 * (ws_hs.c) and the frames (util/ws_frame.c) are ours */
	i.method = "RAW";
	i.local_protocol_name = protocols[0].name;
	i.userdata = s;
	i.pwsi = &s->wsi;

	s->l_next = t->live;
	if (t->live)
		t->live->l_prev = s;
	t->live = s;
	if (s->deadline_ms) {
		left = s->deadline_ms - sbx_now_ms();
		lws_sul_schedule(t->ctx, 0, &s->sul, on_deadline,
				 (left > 0 ? left : 0) * LWS_US_PER_MS);
	}
	s->state = S_CONNECTING;
	s->in_connect = true;
	sbx_debug("ws: session %p connecting", (void *)s);
	w = lws_client_connect_via_info(&i);
	s->in_connect = false;
	if (!w) {
		s->wsi = NULL;
		s->state = S_DEAD;
		sbx_wsc_report(s, -SBX_ECONN, "cannot connect the exec WebSocket");
	}
	maybe_free(s);
}

/* ---- the request queue ---- */

/* Links s into the queue and wakes the thread; t->lock held. The wake-up
 * happens under the lock so that it can never race with the thread's exit
 * (which sets stop under the lock before destroying the context). */
static void enqueue_locked(struct sbx_wsc *t, struct sbx_wsc_sess *s)
{
	if (s->q_linked || t->stop)
		return;
	s->q_linked = true;
	s->q_next = NULL;
	if (t->q_tail)
		t->q_tail->q_next = s;
	else
		t->q_head = s;
	t->q_tail = s;
	lws_cancel_service(t->ctx);
}

int sbx_wsc_open(struct sbx_wsc *t, const char *path, int64_t deadline_ms,
		 const struct sbx_wsc_ops *ops, void *ud, struct sbx_wsc_sess **ret)
{
	struct sbx_buf p = SBX_BUF_INIT;
	struct sbx_wsc_sess *s;
	bool stopped;

	s = calloc(1, sizeof(*s));
	if (!s || sbx_buf_printf(&p, "%s%s", t->base_path, path) < 0) {
		free(s);
		sbx_buf_release(&p);
		return -ENOMEM;
	}
	s->t = t;
	s->ops = ops;
	s->ud = ud;
	s->path = sbx_buf_detach(&p, NULL);
	s->deadline_ms = deadline_ms;
	s->state = S_NEW;
	sbx_ws_reader_init(&s->rd, SBX_WSC_MSG_MAX, false);
	pthread_mutex_lock(&t->lock);
	stopped = t->stop;
	if (!stopped) {
		s->q_open = true;
		enqueue_locked(t, s);
	}
	pthread_mutex_unlock(&t->lock);
	if (stopped) {
		free(s->path);
		free(s);
		return -SBX_ECANCELED;
	}
	*ret = s;
	return 0;
}

void sbx_wsc_want_write(struct sbx_wsc_sess *s)
{
	struct sbx_wsc *t = s->t;

	pthread_mutex_lock(&t->lock);
	s->q_write = true;
	enqueue_locked(t, s);
	pthread_mutex_unlock(&t->lock);
}

void sbx_wsc_close(struct sbx_wsc_sess *s, int err, const char *msg)
{
	struct sbx_wsc *t = s->t;

	pthread_mutex_lock(&t->lock);
	if (!s->q_close) {
		s->q_close = true;
		s->q_err = err < 0 ? err : -err;
		snprintf(s->q_msg, sizeof(s->q_msg), "%s", msg ? msg : "closed");
	}
	enqueue_locked(t, s);
	pthread_mutex_unlock(&t->lock);
}

/* Runs the requests of one dequeued session. */
static void run_requests(struct sbx_wsc *t, struct sbx_wsc_sess *s, bool open, bool write,
			 bool close, int err, const char *msg)
{
	if (open && close) {
		sbx_wsc_report(s, err, msg);
		maybe_free(s);
		return;
	}
	if (open) {
		sess_connect(t, s); /* may free s; a write waits for ESTABLISHED */
		return;
	}
	if (close) {
		sbx_wsc_close_with(s, err, msg);
		maybe_free(s);
		return;
	}
	if (write && s->state == S_OPEN && s->wsi && !s->reported)
		lws_callback_on_writable(s->wsi);
}

/* Takes the queue one session at a time (callbacks may queue more). */
static void drain_queue(struct sbx_wsc *t)
{
	for (;;) {
		struct sbx_wsc_sess *s;
		bool open, write, close;
		char msg[CLOSE_MSG_MAX];
		int err;

		pthread_mutex_lock(&t->lock);
		s = t->q_head;
		if (s) {
			t->q_head = s->q_next;
			if (!t->q_head)
				t->q_tail = NULL;
			s->q_linked = false;
			open = s->q_open;
			write = s->q_write;
			close = s->q_close;
			err = s->q_err;
			memcpy(msg, s->q_msg, sizeof(msg));
			s->q_open = s->q_write = false;
		}
		pthread_mutex_unlock(&t->lock);
		if (!s)
			return;
		run_requests(t, s, open, write, close, err, msg);
	}
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct sbx_wsc_sess *s = user;

	if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
		drain_queue(lws_context_user(lws_get_context(wsi)));
		return 0;
	}
	if (!s)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_CONNECTED: return sbx_wsc_on_connected(s, wsi);
	case LWS_CALLBACK_RAW_RX: return sbx_wsc_on_rx(s, wsi, in, len);
	case LWS_CALLBACK_RAW_WRITEABLE: return sbx_wsc_on_writeable(s, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: sbx_wsc_on_conn_error(s, in, len); return 0;
	case LWS_CALLBACK_RAW_CLOSE: sbx_wsc_on_sock_closed(s); return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		s->wsi = NULL;
		s->state = S_DEAD;
		lws_sul_cancel(&s->ka);
		sbx_wsc_report(s, -SBX_ECONN, "exec WebSocket lost");
		maybe_free(s);
		return 0;
	default: return 0;
	}
}

/* ---- the thread ---- */

static bool stopping(struct sbx_wsc *t)
{
	bool v;

	pthread_mutex_lock(&t->lock);
	v = t->stop;
	pthread_mutex_unlock(&t->lock);
	return v;
}

/* Ends every session: queued ones are reported and freed; live ones are
 * reported and closed (1001, going away, unless a code was chosen before),
 * their close frames left to drain(), then lws_context_destroy(). */
static void cancel_all(struct sbx_wsc *t)
{
	struct sbx_wsc_sess *s, *next;

	for (;;) {
		pthread_mutex_lock(&t->lock);
		s = t->q_head;
		if (s) {
			t->q_head = s->q_next;
			if (!t->q_head)
				t->q_tail = NULL;
			s->q_linked = false;
		}
		pthread_mutex_unlock(&t->lock);
		if (!s)
			break;
		sbx_wsc_report(s, -SBX_ECANCELED, "client freed");
		maybe_free(s);
	}
	for (s = t->live; s; s = next) {
		next = s->l_next;
		if (!s->close_code)
			s->close_code = SBX_WS_CLOSE_GOING;
		sbx_wsc_close_with(s, -SBX_ECANCELED, "client freed");
		maybe_free(s);
	}
}

static void drain_wake(lws_sorted_usec_list_t *sul)
{
	(void)sul; /* only ends the lws_service() call of drain() */
}

/* Lets the sessions still connected end as the protocol asks, their close
 * frames out before the sockets go, for at most DRAIN_MS. Without it, a
 * session reported over an instant before the free lost its close frame:
 * the peer saw only the drop. */
static void drain(struct sbx_wsc *t)
{
	lws_sorted_usec_list_t wake;
	int64_t end = sbx_now_ms() + DRAIN_MS, now;

	memset(&wake, 0, sizeof(wake));
	while (t->live && (now = sbx_now_ms()) < end) {
		lws_sul_schedule(t->ctx, 0, &wake, drain_wake, (end - now) * LWS_US_PER_MS);
		if (lws_service(t->ctx, 0) < 0)
			break;
	}
	lws_sul_cancel(&wake);
}

static void *thread_main(void *arg)
{
	struct sbx_wsc *t = arg;
	struct sbx_wsc_sess *s;

	while (!stopping(t))
		if (lws_service(t->ctx, 0) < 0)
			break;
	pthread_mutex_lock(&t->lock);
	t->stop = true; /* also when lws_service failed: refuse new work */
	pthread_mutex_unlock(&t->lock);
	cancel_all(t);
	drain(t);
	lws_context_destroy(t->ctx); /* WSI_DESTROY frees the live sessions */
	t->ctx = NULL;
	while ((s = t->live)) {
		s->wsi = NULL;
		sess_free(s);
	}
	return NULL;
}

/* ---- creation ---- */

/* Splits "http[s]://host[:port][/base]" into the transport's fields. */
static int parse_host(struct sbx_wsc *t, const char *url)
{
	const char *h, *end, *colon = NULL, *slash;
	long port;
	char *e;

	t->tls = !strncmp(url, "https://", 8);
	h = url + (t->tls ? 8 : 7);
	slash = strchr(h, '/');
	end = slash ? slash : h + strlen(h);
	if (*h == '[') { /* IPv6 literal */
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (!rb)
			return -SBX_EINVAL;
		t->address = strndup(h + 1, (size_t)(rb - h - 1));
		if (rb + 1 < end && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		t->address = strndup(h, (size_t)((colon ? colon : end) - h));
	}
	port = t->tls ? 443 : 80;
	if (colon) {
		port = strtol(colon + 1, &e, 10);
		if (e != end || port < 1 || port > 65535)
			return -SBX_EINVAL;
	}
	t->port = (int)port;
	t->host_hdr = strndup(h, (size_t)(end - h));
	t->base_path = strdup(slash ? slash : "");
	if (!t->address || !t->host_hdr || !t->base_path)
		return -ENOMEM;
	if (!*t->address || memchr(h, '@', (size_t)(end - h)))
		return -SBX_EINVAL;
	return 0;
}

static int make_context(struct sbx_wsc *t)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = 0; /* no TLS in lws: ws_tls.c does it */
	info.user = t;
	/* the sessions, the cancel pipe and a margin */
	info.fd_limit_per_thread = SBX_WSC_MAX_SESSIONS + 16;
	info.pt_serv_buf_size = 65536;
	/* lws's own deadline for a connection that does not come up. A
	 * session's deadline (sbx_wsc_open) must be what ends it, as a timeout:
	 * so this backstop is as long as the keepalive's hang-up (HANGUP_MS),
	 * which covers the rest of a session's life, and longer than the
	 * default deadline of a remote file operation (60 s). */
	info.timeout_secs = 120;
	info.connect_timeout_secs = 20;
	t->ctx = lws_create_context(&info);
	return t->ctx ? 0 : -ENOMEM;
}

int sbx_wsc_new(const char *api_host, const char *token, const char *ca_file, struct sbx_wsc **ret,
		struct sbx_err *err)
{
	struct sbx_buf pr = SBX_BUF_INIT, au = SBX_BUF_INIT;
	struct sbx_wsc *t;
	int r;

	/* lws logging is process-wide; route its errors and warnings to our
	 * debug log so a library never writes to stderr on its own */
	lws_set_log_level(sbx_log_debug_enabled() ? LLL_ERR | LLL_WARN : 0, lws_log_to_debug);
	t = calloc(1, sizeof(*t));
	if (!t)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	pthread_mutex_init(&t->lock, NULL);
	r = parse_host(t, api_host);
	if (r < 0) {
		sbx_err_set(err, r, 0, "cannot use API host %s for WebSockets", api_host);
		goto fail;
	}
	if (sbx_buf_printf(&pr, "Bearer, %s", token) < 0 ||
	    sbx_buf_printf(&au, "Bearer %s", token) < 0) {
		r = sbx_err_set(err, -ENOMEM, 0, "out of memory");
		goto fail;
	}
	t->protos = sbx_buf_detach(&pr, NULL);
	t->auth = sbx_buf_detach(&au, NULL);
	/* Loading the system's CA store takes ~30 ms, more than a local exec:
	 * only a client of an https host pays it. */
	if (t->tls) {
		const char *why;

		r = sbx_wstls_ctx_new(ca_file, &t->tls_ctx, &why);
		if (r < 0) {
			sbx_err_set(err, r, 0, "exec WebSocket: %s%s%s", why, ca_file ? " " : "",
				    ca_file ? ca_file : "");
			goto fail;
		}
	}
	r = make_context(t);
	if (r < 0) {
		sbx_err_set(err, r, 0, "cannot create the libwebsockets context");
		goto fail;
	}
	r = -pthread_create(&t->thread, NULL, thread_main, t);
	if (r < 0) {
		sbx_err_set(err, r, 0, "cannot start the transport thread");
		goto fail;
	}
	t->started = true;
	*ret = t;
	return 0;
fail:
	sbx_buf_release(&pr);
	sbx_buf_release(&au);
	sbx_wsc_free(t);
	return r;
}

static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void sbx_wsc_free(struct sbx_wsc *t)
{
	if (!t)
		return;
	if (t->started) {
		pthread_mutex_lock(&t->lock);
		if (!t->stop) {
			t->stop = true;
			lws_cancel_service(t->ctx);
		}
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
	} else if (t->ctx) {
		lws_context_destroy(t->ctx);
	}
	pthread_mutex_destroy(&t->lock);
	sbx_wstls_ctx_free(t->tls_ctx);
	sbx_buf_release(&t->wire);
	free(t->address);
	free(t->host_hdr);
	free(t->base_path);
	free_secret(t->protos);
	free_secret(t->auth);
	free(t);
}

int sbx_wsc_on_thread(const struct sbx_wsc *t)
{
	return t && t->started && pthread_equal(pthread_self(), t->thread);
}
