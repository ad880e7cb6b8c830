/* server.h - the HTTP/1.1 + WebSocket server of sbxd (non-blocking, epoll).
 *
 * The server owns the listening socket and every connection. For each
 * complete request it calls the handler once; the handler either fills a
 * response (sent with keep-alive unless the client asked for close) or
 * switches the connection to WebSocket with sbxd_http_conn_upgrade().
 *
 * A WebSocket connection talks to its user through struct sbxd_ws_ops. The
 * user may call sbxd_ws_send/pause/close from any callback. Teardown is never
 * re-entrant: a connection that fails while the user is calling in is only
 * marked dead; on_close() comes later, from the loop, and after on_close()
 * or after the user's own sbxd_ws_close() the connection is no longer the
 * user's to touch (the server frees it on its own schedule).
 *
 * Limits (everything a client controls is bounded):
 *  - at most SBX_HTTP_MAX_CONNS live connections, of which at most
 *    SBX_HTTP_MAX_UNAUTH not yet authenticated. A connection is
 *    authenticated once the handler calls sbxd_http_conn_set_authed() (it
 *    presented the API token). A new connection beyond either limit evicts
 *    the oldest unauthenticated one, so slow or unauthenticated clients can
 *    never take the slots of a client that holds the token; when every slot
 *    is authenticated, the new connection is answered 503 and closed;
 *  - deadlines: a request head within SBX_HTTP_HEAD_MS of its first byte (or
 *    of the accept), its body within SBX_HTTP_BODY_MS, the first WebSocket
 *    message within SBX_HTTP_HEAD_MS of the upgrade; idle keep-alive
 *    connections close after SBX_HTTP_IDLE_MS (SBX_HTTP_HEAD_MS when not
 *    authenticated), and a connection whose queued output makes no progress
 *    for SBX_HTTP_IDLE_MS closes;
 *  - no reading (HTTP pipelining and WebSocket alike, PONGs included) while
 *    more than SBX_HTTP_MAX_QUEUED bytes wait to be sent to the peer;
 *  - request limits of http_parse.h, WebSocket messages up to
 *    SBX_WS_MAX_MESSAGE bytes (close 1009 past it).
 */
#ifndef SBX_HOST_HTTP_SERVER_H
#define SBX_HOST_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/http/http_parse.h"
#include "host/loop.h"
#include "util/buf.h"

#define SBX_HTTP_MAX_CONNS  1024
#define SBX_HTTP_MAX_UNAUTH 128
#define SBX_HTTP_MAX_QUEUED (1u << 20)
#define SBX_HTTP_HEAD_MS    10000
#define SBX_HTTP_BODY_MS    30000
#define SBX_HTTP_IDLE_MS    60000
#define SBX_WS_MAX_MESSAGE  (4u << 20)

struct sbxd_http_server;
struct sbxd_http_conn;

struct sbxd_http_resp {
	int status;
	const char *content_type; /* NULL: application/json */
	struct sbx_buf body;	  /* owned by the server, filled by the handler */
	char extra[256];	  /* extra header lines, each ending in CRLF */
};

/* Handler results. */
#define SBX_HTTP_RESPOND  0
#define SBX_HTTP_UPGRADED 1
#define SBX_HTTP_DEFERRED 2 /* after sbxd_http_defer(): the reply comes later */

/* Called once per complete request; body is borrowed for the call. Returns
 * SBX_HTTP_RESPOND with resp filled, or SBX_HTTP_UPGRADED after a successful
 * sbxd_http_conn_upgrade(). */
typedef int (*sbxd_http_handler_fn)(void *ctx, struct sbxd_http_conn *c,
				    const struct sbxd_http_req *req, const char *body, size_t len,
				    struct sbxd_http_resp *resp);

struct sbxd_ws_ops {
	/* a whole text or binary message */
	void (*on_message)(void *user, int opcode, const uint8_t *data, size_t len);
	/* the send queue fell below SBX_WS_LOW_WATER after being above it */
	void (*on_drain)(void *user);
	/* the peer closed or the connection was lost; the user lets go of it */
	void (*on_close)(void *user, uint16_t code);
};

#define SBX_WS_LOW_WATER (256u * 1024)

/* A reply that is not ready when the handler returns (a command still
 * running) or that streams (server-sent events). While it is pending no
 * other request of the connection is handled; the connection is still read,
 * so a client that goes away is noticed at once. */
struct sbxd_http_defer_ops {
	/* the send queue fell below SBX_WS_LOW_WATER after being above it */
	void (*on_drain)(void *user);
	/* the connection was lost before the reply ended; the user lets go */
	void (*on_close)(void *user);
};

/* From a handler, which then returns SBX_HTTP_DEFERRED: the reply to req
 * comes later through sbxd_http_defer_reply() or the stream calls. 0, or
 * -EINVAL when c is NULL. */
int sbxd_http_defer(struct sbxd_http_conn *c, const struct sbxd_http_req *req,
		    const struct sbxd_http_defer_ops *ops, void *user);
/* Sends the whole reply and ends the deferral: 0, the user is detached (a
 * failed send fails the connection quietly). -EPIPE: the connection is
 * gone, the user is not detached and on_close comes from the loop. */
int sbxd_http_defer_reply(struct sbxd_http_conn *c, struct sbxd_http_resp *resp);
/* Sends the head of a chunked reply (extra: header lines ending in CRLF,
 * or NULL). 0 or -errno. */
int sbxd_http_stream_begin(struct sbxd_http_conn *c, int status, const char *content_type,
			   const char *extra);
/* Sends one chunk (empty data sends nothing). 0 or -errno. */
int sbxd_http_stream_write(struct sbxd_http_conn *c, const void *data, size_t len);
/* Sends the last chunk and ends the deferral; 0 and -EPIPE as for
 * sbxd_http_defer_reply(). */
int sbxd_http_stream_end(struct sbxd_http_conn *c);
/* Bytes queued for the socket and not yet written. */
size_t sbxd_http_stream_queued(const struct sbxd_http_conn *c);
/* The owner goes away without a reply: the user is detached (on_close
 * never comes) and the connection is closed. */
void sbxd_http_defer_abandon(struct sbxd_http_conn *c);

/* Listens on "ADDR:PORT" (IPv4 dotted quad or [IPv6]; port 0 = any free
 * port). 0 or -errno (-EINVAL for a bad address); *ret untouched on failure. */
int sbxd_http_server_new(struct sbxd_loop *l, const char *listen_addr, sbxd_http_handler_fn fn,
			 void *ctx, struct sbxd_http_server **ret);
/* The bound port. */
int sbxd_http_server_port(const struct sbxd_http_server *s);
/* Stops accepting (existing connections stay). */
void sbxd_http_server_stop_listening(struct sbxd_http_server *s);
/* Closes every connection (WebSocket users get on_close) and frees s.
 * Accepts NULL. */
void sbxd_http_server_free(struct sbxd_http_server *s);

/* Answers req with 101 Switching Protocols (selecting protocol when non-NULL)
 * and turns c into a WebSocket connection driven by ops/user. 0, or -EINVAL
 * when the request is not a valid RFC 6455 upgrade (the handler then sends an
 * error response itself), -ENOMEM. */
int sbxd_http_conn_upgrade(struct sbxd_http_conn *c, const struct sbxd_http_req *req,
			   const char *protocol, const struct sbxd_ws_ops *ops, void *user);

/* Marks c as authenticated: it no longer counts against
 * SBX_HTTP_MAX_UNAUTH and is never evicted for a newcomer. Accepts NULL
 * (a handler called without a connection, as in the unit tests). */
void sbxd_http_conn_set_authed(struct sbxd_http_conn *c);

/* Queues one unfragmented message. 0, -EPIPE when the connection is closing
 * or dead (the data is dropped), -ENOMEM. */
int sbxd_ws_send(struct sbxd_http_conn *c, int opcode, const void *data, size_t len);
/* Bytes queued for the socket and not yet written. */
size_t sbxd_ws_queued(const struct sbxd_http_conn *c);
/* Stops (true) or resumes (false) reading messages from the peer. */
void sbxd_ws_pause(struct sbxd_http_conn *c, bool paused);
/* Sends a close frame, lets the peer answer (bounded wait) and closes the
 * socket. The user is detached: no callback runs for it afterwards. */
void sbxd_ws_close(struct sbxd_http_conn *c, uint16_t code, const char *reason);

#endif
