/* ws.c - the exec WebSocket transport over libwebsockets; see ws.h.
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
#include <openssl/x509.h>

#include "util/log.h"
#include "util/timeutil.h"

#define CLOSE_MSG_MAX 160

enum sess_state { S_NEW, S_CONNECTING, S_OPEN, S_DEAD };

struct sbx_wsc_sess {
	struct sbx_wsc *t;
	const struct sbx_wsc_ops *ops;
	void *ud;
	char *path;
	int64_t deadline_ms;

	/* t->lock */
	struct sbx_wsc_sess *q_next;
	bool q_linked, q_open, q_write, q_close;
	int q_err;
	char q_msg[CLOSE_MSG_MAX];

	/* transport thread only */
	struct sbx_wsc_sess *l_prev, *l_next; /* t->live */
	struct lws *wsi;
	lws_sorted_usec_list_t sul; /* deadline */
	enum sess_state state;
	bool in_connect, reported;
	int http_status;
	bool closing;			  /* close frame wanted */
	enum lws_close_status close_code; /* the code it carries */
	int peer_code;			  /* close code from the peer */
	char peer_reason[64];
	char tls_err[96]; /* why the server's certificate was refused, or "" */
	struct sbx_buf rx, tx;
};

struct sbx_wsc {
	struct lws_context *ctx;
	pthread_t thread;
	bool started;
	lws_retry_bo_t retry;

	/* immutable after sbx_wsc_new */
	bool tls;
	int port;
	char *address, *host_hdr, *base_path, *protos, *auth;

	pthread_mutex_t lock;
	struct sbx_wsc_sess *q_head, *q_tail; /* lock */
	bool stop;			      /* lock */

	struct sbx_wsc_sess *live; /* transport thread */
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);

/* lws 4.1 hands a message's payload over in pieces of at most the receive
 * buffer (rx_buffer_size): one as large as a whole output frame of sbxd
 * (SBX_EXEC_CHUNK of base64) lets a message be passed on as it comes, with
 * no reassembly copy. The buffer is allocated per socket; its pages are
 * only touched as far as messages fill it. */
#define RX_BUFFER_SIZE (512u * 1024)

static const struct lws_protocols protocols[] = {
    {"sbx-exec", callback, 0, RX_BUFFER_SIZE, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_to_debug(int level, const char *line)
{
	size_t n = strlen(line);

	if (n && line[n - 1] == '\n')
		n--;
	sbx_debug("lws: %.*s", (int)n, line);
}

/* ---- sessions: report, close, free (transport thread) ---- */

static void report(struct sbx_wsc_sess *s, int err, const char *msg)
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
	sbx_buf_release(&s->rx);
	sbx_buf_release(&s->tx);
	free(s->path);
	free(s);
}

static void maybe_free(struct sbx_wsc_sess *s)
{
	if (s->reported && !s->wsi && !s->in_connect)
		sess_free(s);
}

/* Reports err and starts closing the socket. The close always goes through
 * the WRITEABLE callback (or an async kill before the handshake): returning
 * -1 from RECEIVE in the middle of a frame makes lws 4.1 write past its
 * receive buffer when the rest of that frame is parsed. */
static void close_with(struct sbx_wsc_sess *s, int err, const char *msg)
{
	report(s, err, msg);
	if (!s->wsi || s->closing)
		return;
	s->closing = true;
	if (!s->close_code)
		s->close_code = LWS_CLOSE_STATUS_NORMAL;
	if (s->state == S_OPEN)
		lws_callback_on_writable(s->wsi); /* sends the close frame */
	else
		lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void on_deadline(lws_sorted_usec_list_t *sul)
{
	struct sbx_wsc_sess *s = lws_container_of(sul, struct sbx_wsc_sess, sul);

	close_with(s, -SBX_ETIMEDOUT, "deadline passed");
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
	i.ssl_connection = t->tls ? LCCSCF_USE_SSL : 0;
	i.path = s->path;
	i.host = t->host_hdr;
	i.protocol = t->protos;
	i.local_protocol_name = protocols[0].name;
	i.userdata = s;
	i.pwsi = &s->wsi;
	i.retry_and_idle_policy = &t->retry;

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
		report(s, -SBX_ECONN, "cannot connect the exec WebSocket");
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
		report(s, err, msg);
		maybe_free(s);
		return;
	}
	if (open) {
		sess_connect(t, s); /* may free s; a write waits for ESTABLISHED */
		return;
	}
	if (close) {
		close_with(s, err, msg);
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

/* ---- lws callback pieces ---- */

static int append_headers(struct sbx_wsc *t, struct lws *wsi, void *in, size_t len)
{
	static const char ua[] = "sbx/" SBX_VERSION;
	unsigned char **p = in, *end = *p + len;

	if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
					 (const unsigned char *)t->auth, (int)strlen(t->auth), p,
					 end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_USER_AGENT, (const unsigned char *)ua,
					 (int)strlen(ua), p, end))
		return -1;
	return 0;
}

/* Only "Bearer" or no subprotocol is acceptable (protocol §3.1). */
static int check_subprotocol(struct sbx_wsc_sess *s, struct lws *wsi)
{
	char proto[64];
	int n = lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL);

	if (n <= 0 || !strcmp(proto, "Bearer"))
		return 0;
	s->state = S_DEAD;
	report(s, -SBX_EPROTO, "exec handshake: server selected an unexpected subprotocol");
	return 1;
}

static void on_conn_error(struct sbx_wsc_sess *s, const char *why, size_t len)
{
	char msg[SBX_ERR_MSG_MAX];
	int n = why ? (int)strnlen(why, len ? len : 200) : 0;

	s->state = S_DEAD;
	if (s->tls_err[0]) {
		snprintf(msg, sizeof(msg),
			 "exec WebSocket: the server's certificate was refused: %s", s->tls_err);
		report(s, -SBX_ECONN, msg);
		return;
	}
	if (s->http_status && s->http_status != 101) {
		snprintf(msg, sizeof(msg), "exec handshake refused: HTTP %d", s->http_status);
		report(s, sbx_err_from_http(s->http_status), msg);
		return;
	}
	snprintf(msg, sizeof(msg), "exec WebSocket failed: %.*s", n, n ? why : "connection error");
	report(s, -SBX_ECONN, msg);
}

static void on_peer_close(struct sbx_wsc_sess *s, const unsigned char *in, size_t len)
{
	size_t i, j = 0;

	if (len >= 2)
		s->peer_code = in[0] << 8 | in[1];
	for (i = 2; i < len && j + 1 < sizeof(s->peer_reason); i++)
		if (in[i] >= 0x20 && in[i] < 0x7f)
			s->peer_reason[j++] = (char)in[i];
	s->peer_reason[j] = '\0';
}

static void on_ws_closed(struct sbx_wsc_sess *s)
{
	char msg[SBX_ERR_MSG_MAX];

	s->state = S_DEAD;
	if (s->reported)
		return;
	if (s->peer_code)
		snprintf(msg, sizeof(msg),
			 "connection closed before the command exited (close %d%s%s)", s->peer_code,
			 s->peer_reason[0] ? ": " : "", s->peer_reason);
	else
		snprintf(msg, sizeof(msg), "connection closed before the command exited");
	report(s, -SBX_ECONN, msg);
}

/* A piece of a message. Never returns -1 (see close_with). */
static int on_receive(struct sbx_wsc_sess *s, struct lws *wsi, const char *in, size_t len)
{
	int r;

	if (s->reported)
		return 0; /* closing: ignore what is still in flight */
	if (!s->rx.len && lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
		/* the whole message in one piece: no copy */
		r = s->ops->on_message(s->ud, in, len);
		if (r != 0)
			close_with(s, r > 0 ? 0 : r, r > 0 ? "done" : "session failed");
		return 0;
	}
	if (len > SBX_WSC_MSG_MAX - s->rx.len) {
		sbx_buf_release(&s->rx);
		s->close_code = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
		close_with(s, -SBX_EPROTO, "exec message larger than 16 MiB");
		return 0;
	}
	if (sbx_buf_append(&s->rx, in, len) < 0) {
		sbx_buf_release(&s->rx);
		close_with(s, -ENOMEM, "out of memory");
		return 0;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	r = s->ops->on_message(s->ud, s->rx.data, s->rx.len);
	sbx_buf_reset(&s->rx);
	if (s->rx.cap > 1u << 20)
		sbx_buf_release(&s->rx); /* do not keep a huge buffer around */
	if (r != 0)
		close_with(s, r > 0 ? 0 : r, r > 0 ? "done" : "session failed");
	return 0;
}

static int on_writeable(struct sbx_wsc_sess *s, struct lws *wsi)
{
	int r, n;

	if (s->reported || s->closing) {
		lws_close_reason(wsi, s->close_code ? s->close_code : LWS_CLOSE_STATUS_NORMAL, NULL,
				 0);
		return -1;
	}
	sbx_buf_reset(&s->tx);
	if (sbx_buf_reserve(&s->tx, LWS_PRE) < 0)
		return -1;
	memset(s->tx.data, 0, LWS_PRE);
	s->tx.len = LWS_PRE;
	r = s->ops->on_writable(s->ud, &s->tx);
	if (r < 0) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, NULL, 0);
		report(s, r, "cannot build an exec frame");
		return -1;
	}
	if (r == 0 || s->tx.len == LWS_PRE)
		return 0;
	n = lws_write(wsi, (unsigned char *)s->tx.data + LWS_PRE, s->tx.len - LWS_PRE,
		      LWS_WRITE_TEXT);
	if (n < 0) {
		report(s, -SBX_ECONN, "exec WebSocket write failed");
		return -1;
	}
	if (s->tx.cap > 1u << 20)
		sbx_buf_release(&s->tx);
	lws_callback_on_writable(wsi);
	return 0;
}

/* lws (OpenSSL) asks after each certificate of the chain: preverify_ok is
 * OpenSSL's verdict, which stands (0 = no objection); a refusal is kept so
 * that the session's error says why, where lws would only say "SSL err". */
static void note_verify(struct sbx_wsc_sess *s, X509_STORE_CTX *x, int preverify_ok)
{
	int e = x ? X509_STORE_CTX_get_error(x) : X509_V_OK;

	if (s && !preverify_ok && e != X509_V_OK && !s->tls_err[0])
		snprintf(s->tls_err, sizeof(s->tls_err), "%s", X509_verify_cert_error_string(e));
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct sbx_wsc_sess *s = user;

	if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION) {
		/* here user is the X509_STORE_CTX, len OpenSSL's verdict */
		note_verify(lws_wsi_user(wsi), user, (int)len);
		return 0;
	}
	if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
		drain_queue(lws_context_user(lws_get_context(wsi)));
		return 0;
	}
	if (!s)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: return append_headers(s->t, wsi, in, len);
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		s->http_status = (int)lws_http_client_http_response(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: return check_subprotocol(s, wsi);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		sbx_debug("ws: session %p established", (void *)s);
		s->state = S_OPEN;
		s->http_status = 0;
		if (s->reported) {
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			return 0;
		}
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: on_conn_error(s, in, len); return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE: return on_receive(s, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE: return on_writeable(s, wsi);
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		sbx_debug("ws: session %p pong", (void *)s);
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: on_peer_close(s, in, len); return 0;
	case LWS_CALLBACK_CLIENT_CLOSED: on_ws_closed(s); return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		s->wsi = NULL;
		s->state = S_DEAD;
		report(s, -SBX_ECONN, "exec WebSocket lost");
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

/* Ends every session: queued ones are reported and freed, live ones are
 * reported and left to lws_context_destroy(). */
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
		report(s, -SBX_ECANCELED, "client freed");
		maybe_free(s);
	}
	for (s = t->live; s; s = next) {
		next = s->l_next;
		report(s, -SBX_ECANCELED, "client freed");
		maybe_free(s);
	}
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

static int make_context(struct sbx_wsc *t, const char *ca_file)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	/* Without TLS, no TLS init: with it lws builds a client SSL context and
	 * loads the system's CA store (~30 ms, more than a local exec takes). */
	info.options = t->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	info.user = t;
	info.client_ssl_ca_filepath = ca_file;
	/* the sessions, the cancel pipe and a margin */
	info.fd_limit_per_thread = SBX_WSC_MAX_SESSIONS + 16;
	info.pt_serv_buf_size = 65536;
	/* lws's own deadline for a server that does not answer (the handshake
	 * among others). A session's deadline (sbx_wsc_open) must be what ends
	 * it, as a timeout: so this backstop, for sessions without one, is as
	 * long as the keepalive hang-up below and longer than the default
	 * deadline of a remote file operation (60 s). At 30 s it cut every
	 * operation of a stalled server short with a connection error. */
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
	/* keepalive: ping after 30 s without a pong, hang up after 120 s */
	t->retry.secs_since_valid_ping = 30;
	t->retry.secs_since_valid_hangup = 120;
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
	r = make_context(t, ca_file);
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
