/* ws_conn.c - one exec WebSocket connection: TLS, the upgrade, the frames
 * and the keepalive, on a RAW socket of libwebsockets; see ws_conn.h.
 *
 * Order on the wire: the TLS handshake (ws_tls.c), the upgrade request and
 * its reply (ws_hs.c), then frames (util/ws_frame.c). Received payload is
 * decoded as it arrives, so between two reads s->in holds at most the
 * reply head or a partial frame header. Sending is one write per WRITEABLE
 * callback: what the socket does not take at once, lws keeps and sends
 * before anything else, so frames never interleave.
 */
#include "exec/ws_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/rand.h"
#include "util/timeutil.h"

/* Pings a quiet server, and gives up on one that stays silent. */
static void on_keepalive(lws_sorted_usec_list_t *sul)
{
	struct sbx_wsc_sess *s = lws_container_of(sul, struct sbx_wsc_sess, ka);
	int64_t idle = sbx_now_ms() - s->last_rx_ms;

	if (s->reported || !s->wsi)
		return;
	if (idle >= HANGUP_MS) {
		sbx_wsc_close_with(s, -SBX_ECONN,
				   "exec WebSocket: no answer from the server for 120 s");
		return;
	}
	if (idle >= PING_MS && s->state == S_OPEN && !s->ping_sent) {
		s->ping_due = s->ping_sent = true;
		lws_callback_on_writable(s->wsi);
	}
	lws_sul_schedule(s->t->ctx, 0, &s->ka, on_keepalive,
			 ((idle >= PING_MS ? HANGUP_MS : PING_MS) - idle) * LWS_US_PER_MS);
}

/* Connected (and TLS set up): the upgrade request goes out first. */
int sbx_wsc_on_connected(struct sbx_wsc_sess *s, struct lws *wsi)
{
	const struct sbx_wsh_request q = {
	    .host = s->t->host_hdr,
	    .path = s->path,
	    .protos = s->t->protos,
	    .auth = s->t->auth,
	    .agent = "sbx/" SBX_VERSION,
	};
	int r;

	if (s->state != S_CONNECTING)
		return 0;
	s->state = S_HANDSHAKE;
	s->last_rx_ms = sbx_now_ms();
	lws_sul_schedule(s->t->ctx, 0, &s->ka, on_keepalive, PING_MS * LWS_US_PER_MS);
	if (s->reported) {
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return 0;
	}
	sbx_buf_reset(&s->tx);
	r = sbx_wsh_key_new(&s->key);
	if (r == 0)
		r = sbx_wsh_request(&s->tx, &q, &s->key);
	if (r == 0 && s->t->tls_ctx) {
		r = sbx_wstls_new(s->t->tls_ctx, s->t->address, &s->tls);
		if (r == 0)
			r = sbx_wstls_start(s->tls); /* the ClientHello goes first */
	}
	if (r < 0) {
		sbx_wsc_report(s, r, "cannot build the exec handshake");
		return -1;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

/* The reply to the upgrade: refused (with the HTTP status for the error
 * mapping), or frames from here on. Bytes after the head stay in s->in. */
static int rx_handshake(struct sbx_wsc_sess *s, struct lws *wsi)
{
	struct sbx_wsh_reply rep;
	char msg[SBX_ERR_MSG_MAX];
	int n = sbx_wsh_reply(s->in.data, s->in.len, &s->key, "Bearer", &rep);

	if (n == 0)
		return 0;
	if (n > 0 && rep.accepted) {
		sbx_debug("ws: session %p established", (void *)s);
		s->state = S_OPEN;
		sbx_buf_consume(&s->in, (size_t)n);
		lws_callback_on_writable(wsi);
		return 1;
	}
	s->state = S_DEAD;
	s->http_status = rep.status;
	if (n > 0 && rep.status != 101) {
		snprintf(msg, sizeof(msg), "exec handshake refused: HTTP %d", rep.status);
		sbx_wsc_report(s, sbx_err_from_http(rep.status), msg);
	} else {
		snprintf(msg, sizeof(msg), "exec handshake: %s", rep.reason);
		sbx_wsc_report(s, -SBX_EPROTO, msg);
	}
	return -1;
}

static void on_peer_close(struct sbx_wsc_sess *s, const struct sbx_ws_event *ev)
{
	char msg[SBX_ERR_MSG_MAX];
	size_t i, j = 0;

	if (ev->close_code != SBX_WS_CLOSE_NO_STATUS)
		s->peer_code = ev->close_code;
	for (i = 0; i < ev->len && j + 1 < sizeof(s->peer_reason); i++)
		if (ev->data[i] >= 0x20 && ev->data[i] < 0x7f)
			s->peer_reason[j++] = (char)ev->data[i];
	s->peer_reason[j] = '\0';
	if (s->peer_code)
		snprintf(msg, sizeof(msg),
			 "connection closed before the command exited (close %d%s%s)", s->peer_code,
			 s->peer_reason[0] ? ": " : "", s->peer_reason);
	else
		snprintf(msg, sizeof(msg), "connection closed before the command exited");
	s->close_code = s->peer_code ? (uint16_t)s->peer_code : SBX_WS_CLOSE_NORMAL;
	sbx_wsc_close_with(s, -SBX_ECONN, msg); /* answers with a close frame */
}

static void on_event(struct sbx_wsc_sess *s, const struct sbx_ws_event *ev)
{
	int r;

	switch (ev->type) {
	case SBX_WS_EV_MESSAGE:
		r = s->ops->on_message(s->ud, (const char *)ev->data, ev->len);
		if (s->rd.msg.cap > 1u << 20)
			sbx_buf_release(&s->rd.msg); /* do not keep a huge buffer around */
		if (r != 0)
			sbx_wsc_close_with(s, r > 0 ? 0 : r, r > 0 ? "done" : "session failed");
		return;
	case SBX_WS_EV_PING:
		memcpy(s->pong, ev->data, ev->len); /* at most 125: a control frame */
		s->pong_len = ev->len;
		s->pong_due = true;
		lws_callback_on_writable(s->wsi);
		return;
	case SBX_WS_EV_CLOSE: on_peer_close(s, ev); return;
	case SBX_WS_EV_ERROR:
		s->close_code = ev->close_code;
		sbx_wsc_close_with(s, -SBX_EPROTO,
				   ev->close_code == SBX_WS_CLOSE_TOO_BIG
				       ? "exec message larger than 16 MiB"
				       : "exec WebSocket: the server broke the framing protocol");
		return;
	default: return; /* a pong: its arrival already counts */
	}
}

/* Decodes what came in. Payload is consumed as it arrives, so what stays in
 * s->in between calls is at most a partial frame header: the received
 * bytes are parsed in place unless such a piece is waiting. */
static int rx_frames(struct sbx_wsc_sess *s, const void *in, size_t len)
{
	const uint8_t *b = in;
	size_t n = len, pos = 0, used;
	struct sbx_ws_event ev;

	if (s->in.len) {
		if (sbx_buf_append(&s->in, in, len) < 0) {
			sbx_wsc_close_with(s, -ENOMEM, "out of memory");
			return 0;
		}
		b = (const uint8_t *)s->in.data;
		n = s->in.len;
	}
	while (!s->reported) {
		if (sbx_ws_reader_next(&s->rd, b + pos, n - pos, &used, &ev) < 0) {
			sbx_wsc_close_with(s, -ENOMEM, "out of memory");
			break;
		}
		pos += used;
		if (ev.type == SBX_WS_EV_NONE)
			break;
		on_event(s, &ev);
	}
	if (s->reported)
		pos = n; /* closing: ignore what is still in flight */
	if (b == (const uint8_t *)s->in.data)
		sbx_buf_consume(&s->in, pos);
	else if (sbx_buf_append(&s->in, b + pos, n - pos) < 0)
		sbx_wsc_close_with(s, -ENOMEM, "out of memory");
	return 0;
}

/* Plaintext from the server: the reply to the upgrade, then frames. */
static int on_plain(struct sbx_wsc_sess *s, struct lws *wsi, const void *in, size_t len)
{
	int r;

	if (s->state == S_OPEN)
		return rx_frames(s, in, len);
	if (s->state != S_HANDSHAKE)
		return 0;
	if (sbx_buf_append(&s->in, in, len) < 0) {
		sbx_wsc_report(s, -ENOMEM, "out of memory");
		return -1;
	}
	r = rx_handshake(s, wsi);
	if (r <= 0)
		return r;
	return s->in.len ? rx_frames(s, NULL, 0) : 0;
}

static int tls_failed(struct sbx_wsc_sess *s)
{
	char msg[SBX_ERR_MSG_MAX];

	s->state = S_DEAD;
	snprintf(msg, sizeof(msg), "exec WebSocket: %s", sbx_wstls_error(s->tls));
	sbx_wsc_report(s, -SBX_ECONN, msg);
	return -1;
}

int sbx_wsc_on_rx(struct sbx_wsc_sess *s, struct lws *wsi, const void *in, size_t len)
{
	ssize_t n = 0;
	int r;

	s->last_rx_ms = sbx_now_ms();
	s->ping_sent = false;
	if (s->reported)
		return 0; /* closing: ignore what is still in flight */
	if (!s->tls)
		return on_plain(s, wsi, in, len);
	if (sbx_wstls_rx(s->tls, in, len) < 0)
		return tls_failed(s);
	while (!s->reported && (n = sbx_wstls_read(s->tls, s->t->plain, sizeof(s->t->plain))) > 0) {
		r = on_plain(s, wsi, s->t->plain, (size_t)n);
		if (r < 0)
			return r;
	}
	if (n < 0 && !s->reported)
		return tls_failed(s);
	if (sbx_wstls_out_pending(s->tls) || (sbx_wstls_ready(s->tls) && !s->hs_sent))
		lws_callback_on_writable(wsi);
	return 0;
}

/* Sends p[0..n) as it is, or through TLS (n may be 0 to send only what TLS
 * has waiting). One lws_write: what the socket does not take at once, lws
 * keeps and sends before anything else. */
static int emit(struct sbx_wsc_sess *s, struct lws *wsi, const void *p, size_t n)
{
	struct sbx_buf *w = &s->t->wire;
	int r;

	if (!s->tls)
		return lws_write(wsi, (unsigned char *)p, n, LWS_WRITE_RAW) < 0 ? -SBX_ECONN : 0;
	sbx_buf_reset(w);
	r = sbx_wstls_write(s->tls, p, n);
	if (r == 0)
		r = sbx_wstls_take_out(s->tls, w);
	if (r < 0 || !w->len)
		return r;
	r = lws_write(wsi, (unsigned char *)w->data, w->len, LWS_WRITE_RAW) < 0 ? -SBX_ECONN : 0;
	if (w->cap > 1u << 20)
		sbx_buf_release(w);
	return r;
}

/* Takes the next mask key from the session's pool. */
static int next_mask(struct sbx_wsc_sess *s, uint8_t mask[4])
{
	int r;

	if (s->masks_left < 4) {
		r = sbx_rand_bytes(s->masks, sizeof(s->masks));
		if (r < 0)
			return r;
		s->masks_left = sizeof(s->masks);
	}
	memcpy(mask, s->masks + sizeof(s->masks) - s->masks_left, 4);
	s->masks_left -= 4;
	return 0;
}

/* Sends one masked frame whose payload sits at p[SBX_WS_MAX_HEADER..+n):
 * the header is written just before it and the payload masked in place. */
static int send_frame(struct sbx_wsc_sess *s, struct lws *wsi, int opcode, uint8_t *p, size_t n)
{
	uint8_t hdr[SBX_WS_MAX_HEADER], mask[4];
	size_t hl;
	int r = next_mask(s, mask);

	if (r < 0)
		return r;
	hl = sbx_ws_encode_header(hdr, true, opcode, n, mask);
	memcpy(p + SBX_WS_MAX_HEADER - hl, hdr, hl);
	sbx_ws_mask(p + SBX_WS_MAX_HEADER, n, mask, 0);
	return emit(s, wsi, p + SBX_WS_MAX_HEADER - hl, hl + n);
}

static int send_control(struct sbx_wsc_sess *s, struct lws *wsi, int opcode, const void *data,
			size_t n)
{
	uint8_t f[SBX_WS_MAX_HEADER + 125];

	memcpy(f + SBX_WS_MAX_HEADER, data, n);
	return send_frame(s, wsi, opcode, f, n);
}

/* One write per call, in this order: a close frame (then the socket goes),
 * TLS records waiting (the TLS handshake's), the upgrade request, a pong, a
 * ping, a message of the owner's. */
int sbx_wsc_on_writeable(struct sbx_wsc_sess *s, struct lws *wsi)
{
	uint8_t code[2];
	int r;

	if (s->reported || s->closing) {
		if (s->state == S_OPEN) {
			code[0] = (uint8_t)(s->close_code >> 8);
			code[1] = (uint8_t)s->close_code;
			send_control(s, wsi, SBX_WS_CLOSE, code, 2);
		}
		return -1;
	}
	if (s->tls && sbx_wstls_out_pending(s->tls)) {
		r = emit(s, wsi, NULL, 0);
		goto sent;
	}
	if (s->state == S_HANDSHAKE && !s->hs_sent) {
		if (s->tls && !sbx_wstls_ready(s->tls))
			return 0;
		s->hs_sent = true;
		r = emit(s, wsi, s->tx.data, s->tx.len);
		goto sent;
	}
	if (s->state != S_OPEN)
		return 0;
	if (s->pong_due) {
		s->pong_due = false;
		r = send_control(s, wsi, SBX_WS_PONG, s->pong, s->pong_len);
		goto sent;
	}
	if (s->ping_due) {
		s->ping_due = false;
		r = send_control(s, wsi, SBX_WS_PING, "", 0);
		goto sent;
	}
	sbx_buf_reset(&s->tx);
	if (sbx_buf_reserve(&s->tx, SBX_WS_MAX_HEADER) < 0)
		return -1;
	s->tx.len = SBX_WS_MAX_HEADER;
	r = s->ops->on_writable(s->ud, &s->tx);
	if (r < 0) {
		s->close_code = SBX_WS_CLOSE_INTERNAL;
		sbx_wsc_close_with(s, r, "cannot build an exec frame");
		return 0;
	}
	if (r == 0 || s->tx.len == SBX_WS_MAX_HEADER)
		return 0;
	r = send_frame(s, wsi, SBX_WS_TEXT, (uint8_t *)s->tx.data, s->tx.len - SBX_WS_MAX_HEADER);
	if (s->tx.cap > 1u << 20)
		sbx_buf_release(&s->tx);
sent:
	if (r < 0) {
		sbx_wsc_report(s, r, "exec WebSocket write failed");
		return -1;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

void sbx_wsc_on_conn_error(struct sbx_wsc_sess *s, const char *why, size_t len)
{
	char msg[SBX_ERR_MSG_MAX];
	int n = why ? (int)strnlen(why, len ? len : 200) : 0;

	s->state = S_DEAD;
	snprintf(msg, sizeof(msg), "exec WebSocket failed: %.*s", n, n ? why : "connection error");
	sbx_wsc_report(s, -SBX_ECONN, msg);
}

/* The socket closed. A session still unreported lost its connection. */
void sbx_wsc_on_sock_closed(struct sbx_wsc_sess *s)
{
	s->state = S_DEAD;
	if (!s->reported)
		sbx_wsc_report(s, -SBX_ECONN,
			       s->hs_sent
				   ? "connection closed before the command exited"
				   : "exec WebSocket: the connection closed before the handshake");
}
