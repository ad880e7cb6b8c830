/* stream.c - replies that come after the handler returned: a whole reply
 * later (sbxd_http_defer_reply) or a chunked stream (server-sent events);
 * see server.h for the contract.
 *
 * While a reply is deferred the connection handles no other request
 * (pipelined ones wait in its input buffer) but is still read, so the
 * client's EOF ends it at once (server.c fails the connection and the
 * teardown calls on_close). Once the reply ends the user is detached and the
 * connection goes back to handling requests from the loop.
 */
#include "host/http/conn.h"

#include <errno.h>
#include <stdio.h>

int sbxd_http_defer(struct sbxd_http_conn *c, const struct sbxd_http_req *req,
		    const struct sbxd_http_defer_ops *ops, void *user)
{
	if (!c || c->dead)
		return -EINVAL;
	/* the request's head/body deadline is over; the owner bounds the rest */
	sbxd_loop_timer_cancel(c->srv->loop, &c->timer);
	c->phase = PHASE_NONE;
	c->deferred = true;
	c->defer_keep_alive = req->keep_alive;
	c->defer_streaming = false;
	c->defer_above_low = false;
	c->dops = ops;
	c->duser = user;
	return 0;
}

/* Detaches the user and goes back to handling requests. */
static void defer_end(struct sbxd_http_conn *c)
{
	c->deferred = false;
	c->defer_streaming = false;
	c->defer_above_low = false;
	c->dops = NULL;
	c->duser = NULL;
	if (!c->defer_keep_alive)
		c->close_after_write = true;
	conn_resume_http(c);
}

int sbxd_http_defer_reply(struct sbxd_http_conn *c, struct sbxd_http_resp *resp)
{
	if (!c->deferred || c->dead)
		return -EPIPE;
	conn_send_response(c, resp, c->defer_keep_alive); /* a failure fails c */
	defer_end(c);
	return 0;
}

int sbxd_http_stream_begin(struct sbxd_http_conn *c, int status, const char *content_type,
			   const char *extra)
{
	char head[768];
	int n;

	if (!c->deferred || c->dead || c->defer_streaming)
		return -EPIPE;
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
		     "Cache-Control: no-cache\r\n%s%s\r\n",
		     status, sbxd_http_reason(status), content_type, extra ? extra : "",
		     c->defer_keep_alive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -EINVAL;
	c->defer_streaming = true;
	return conn_write(c, head, (size_t)n);
}

int sbxd_http_stream_write(struct sbxd_http_conn *c, const void *data, size_t len)
{
	char size[24];
	int n, r;

	if (!c->deferred || c->dead || !c->defer_streaming)
		return -EPIPE;
	if (!len)
		return 0;
	n = snprintf(size, sizeof(size), "%zx\r\n", len);
	r = sbx_buf_append(&c->out, size, (size_t)n);
	if (r == 0)
		r = sbx_buf_append(&c->out, data, len);
	if (r == 0)
		r = conn_write(c, "\r\n", 2);
	if (r == 0 && conn_queued(c) > SBX_WS_LOW_WATER)
		c->defer_above_low = true;
	return r;
}

int sbxd_http_stream_end(struct sbxd_http_conn *c)
{
	if (!c->deferred || c->dead)
		return -EPIPE;
	if (c->defer_streaming)
		conn_write(c, "0\r\n\r\n", 5);
	defer_end(c);
	return 0;
}

void sbxd_http_defer_abandon(struct sbxd_http_conn *c)
{
	if (!c->deferred)
		return;
	c->duser = NULL;
	c->dops = NULL;
	conn_fail(c);
}

size_t sbxd_http_stream_queued(const struct sbxd_http_conn *c)
{
	return c->dead ? 0 : conn_queued(c);
}

void defer_after_write(struct sbxd_http_conn *c)
{
	if (!c->defer_above_low || conn_queued(c) > SBX_WS_LOW_WATER)
		return;
	c->defer_above_low = false;
	if (c->dops && c->dops->on_drain && c->duser)
		c->dops->on_drain(c->duser);
}

void defer_teardown_notify(struct sbxd_http_conn *c)
{
	void *user = c->duser;

	if (!c->deferred || !user)
		return;
	c->duser = NULL;
	c->deferred = false;
	if (c->dops && c->dops->on_close)
		c->dops->on_close(user);
}
