/* ws_conn.c - the WebSocket mode of a connection (RFC 6455 server side).
 *
 * Messages are decoded by struct sbx_ws_reader straight from the receive
 * buffer and handed to the user one at a time; a paused user gets no message
 * and the socket is not read (conn_update_events drops EPOLLIN), which is the
 * backpressure path towards the client.
 *
 * Close handshake: when the peer closes, the close frame is echoed, the user
 * is told (on_close) and the socket ends once flushed. When the user closes,
 * its close frame follows everything it queued, and the peer's answer is
 * awaited for at most CLOSE_WAIT_MS.
 */
#include "host/http/conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CLOSE_WAIT_MS 3000

int sbxd_http_conn_upgrade(struct sbxd_http_conn *c, const struct sbxd_http_req *req,
			   const char *protocol, const struct sbxd_ws_ops *ops, void *user)
{
	const char *key = sbxd_http_header(req, "Sec-WebSocket-Key");
	const char *ver = sbxd_http_header(req, "Sec-WebSocket-Version");
	struct sbx_buf h = SBX_BUF_INIT;
	char accept[29];
	int r;

	if (!key || !ver || strcmp(ver, "13") || strcmp(req->method, "GET") ||
	    !sbxd_http_header_has_token(req, "Upgrade", "websocket") ||
	    !sbxd_http_header_has_token(req, "Connection", "upgrade"))
		return -EINVAL;
	r = sbx_ws_accept_key(key, true, accept);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	r = sbx_buf_printf(&h,
			   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
			   accept);
	if (r == 0 && protocol)
		r = sbx_buf_printf(&h, "Sec-WebSocket-Protocol: %s\r\n", protocol);
	if (r == 0)
		r = sbx_buf_puts(&h, "\r\n");
	if (r == 0) {
		c->mode = CONN_WS;
		c->ops = ops;
		c->user = user;
		sbxd_loop_timer_cancel(c->srv->loop, &c->timer);
		r = conn_write(c, h.data, h.len);
		if (r == -EPIPE)
			r = 0; /* the teardown will tell the user */
	}
	sbx_buf_release(&h);
	return r;
}

static int send_frame(struct sbxd_http_conn *c, int opcode, const void *data, size_t len)
{
	uint8_t hdr[SBX_WS_MAX_HEADER];
	size_t hl = sbx_ws_encode_header(hdr, true, opcode, len, NULL);
	int r;

	if (c->dead)
		return -EPIPE;
	r = sbx_buf_reserve(&c->out, hl + len);
	if (r < 0)
		return r;
	sbx_buf_append(&c->out, hdr, hl);
	sbx_buf_append(&c->out, data, len);
	return conn_write(c, "", 0);
}

int sbxd_ws_send(struct sbxd_http_conn *c, int opcode, const void *data, size_t len)
{
	int r;

	if (c->dead || c->ws_close_sent)
		return -EPIPE;
	r = send_frame(c, opcode, data, len);
	if (r == 0 && conn_queued(c) > SBX_WS_LOW_WATER)
		c->ws_above_low = true;
	return r;
}

size_t sbxd_ws_queued(const struct sbxd_http_conn *c)
{
	return c->dead ? 0 : conn_queued(c);
}

static void on_resume(struct sbxd_timer *t)
{
	struct sbxd_http_conn *c = t->arg;

	ws_process(c);
	if (!c->dead && c->close_after_write && !conn_queued(c))
		conn_fail(c);
	else
		conn_update_events(c);
}

void sbxd_ws_pause(struct sbxd_http_conn *c, bool paused)
{
	if (c->dead || c->ws_paused == paused)
		return;
	c->ws_paused = paused;
	conn_update_events(c);
	/* messages already buffered are delivered from the loop, never from
	 * inside the user's own call */
	if (!paused && c->in.len)
		sbxd_loop_timer(c->srv->loop, &c->resume, 0, on_resume, c);
}

static void send_close_frame(struct sbxd_http_conn *c, uint16_t code, const char *reason)
{
	uint8_t p[125];
	size_t rl = reason ? strlen(reason) : 0;

	if (c->ws_close_sent)
		return;
	c->ws_close_sent = true;
	if (rl > sizeof(p) - 2)
		rl = sizeof(p) - 2;
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	if (rl)
		memcpy(p + 2, reason, rl);
	send_frame(c, SBX_WS_CLOSE, p, code == SBX_WS_CLOSE_NO_STATUS ? 0 : rl + 2);
}

static void on_close_wait_timeout(struct sbxd_timer *t)
{
	conn_fail(t->arg);
}

void sbxd_ws_close(struct sbxd_http_conn *c, uint16_t code, const char *reason)
{
	c->user = NULL;
	if (c->dead)
		return;
	send_close_frame(c, code, reason);
	c->ws_paused = false;
	sbxd_loop_timer(c->srv->loop, &c->timer, CLOSE_WAIT_MS, on_close_wait_timeout, c);
	conn_update_events(c);
}

/* Detaches the user and tells it the connection is gone. */
static void notify_close(struct sbxd_http_conn *c, uint16_t code)
{
	void *user = c->user;

	c->user = NULL;
	if (user && c->ops && c->ops->on_close)
		c->ops->on_close(user, code);
}

void ws_teardown_notify(struct sbxd_http_conn *c)
{
	if (c->mode == CONN_WS)
		notify_close(c, c->ws_peer_code ? c->ws_peer_code : 1006);
}

/* Handles one decoded event; false when processing must stop. */
static bool handle_event(struct sbxd_http_conn *c, const struct sbx_ws_event *ev)
{
	switch (ev->type) {
	case SBX_WS_EV_MESSAGE:
		if (!c->ws_got_message && c->phase == PHASE_WS_FIRST && !c->ws_close_sent) {
			c->phase = PHASE_NONE; /* the deadline for a first message is met */
			sbxd_loop_timer_cancel(c->srv->loop, &c->timer);
		}
		c->ws_got_message = true;
		if (c->user && !c->ws_close_sent && c->ops->on_message)
			c->ops->on_message(c->user, ev->opcode, ev->data, ev->len);
		return true;
	case SBX_WS_EV_PING:
		if (!c->ws_close_sent)
			send_frame(c, SBX_WS_PONG, ev->data, ev->len);
		return true;
	case SBX_WS_EV_PONG: return true;
	case SBX_WS_EV_CLOSE:
		c->ws_peer_code = ev->close_code;
		send_close_frame(c,
				 ev->close_code == SBX_WS_CLOSE_NO_STATUS ? SBX_WS_CLOSE_NORMAL
									  : ev->close_code,
				 NULL);
		notify_close(c, ev->close_code);
		c->close_after_write = true;
		return false;
	case SBX_WS_EV_ERROR:
		c->ws_peer_code = ev->close_code;
		send_close_frame(c, ev->close_code,
				 ev->close_code == SBX_WS_CLOSE_TOO_BIG ? "message too big"
									: "protocol error");
		notify_close(c, ev->close_code);
		c->close_after_write = true;
		return false;
	default: return false;
	}
}

void ws_process(struct sbxd_http_conn *c)
{
	size_t pos = 0;

	while (!c->dead && !c->close_after_write && !c->ws_paused && pos < c->in.len &&
	       !conn_backlogged(c)) {
		struct sbx_ws_event ev;
		size_t used = 0;

		if (sbx_ws_reader_next(&c->wsr, (const uint8_t *)c->in.data + pos, c->in.len - pos,
					&used, &ev) < 0) {
			conn_fail(c);
			return;
		}
		pos += used;
		if (ev.type == SBX_WS_EV_NONE || !handle_event(c, &ev))
			break;
	}
	if (!c->dead)
		sbx_buf_consume(&c->in, pos);
}

void ws_after_write(struct sbxd_http_conn *c)
{
	if (c->dead || !c->ws_above_low || conn_queued(c) >= SBX_WS_LOW_WATER)
		return;
	c->ws_above_low = false;
	if (c->user && c->ops->on_drain)
		c->ops->on_drain(c->user);
	/* a resumed reader may have input waiting in the buffer */
	if (!c->dead && !c->ws_paused && c->in.len)
		ws_process(c);
}
