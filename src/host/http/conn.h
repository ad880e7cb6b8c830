/* conn.h - internals shared by server.c (accept, I/O, HTTP) and ws_conn.c
 * (WebSocket mode). Not for use outside src/host/http/.
 *
 * A connection is in one mode at a time: HTTP (parsing requests), WS (after a
 * 101), and it is "dead" once an I/O error, EOF or a finished close made it
 * useless: a dead connection has its socket closed and waits for the deferred
 * teardown, which notifies a still-attached WebSocket user and frees it.
 */
#ifndef SBX_HOST_HTTP_CONN_H
#define SBX_HOST_HTTP_CONN_H

#include "host/http/server.h"
#include "util/ws_frame.h"

enum conn_mode { CONN_HTTP, CONN_WS };

/* What the connection's deadline (timer) is currently bounding; see
 * conn_arm_deadline() in server.c. */
enum conn_phase {
	PHASE_NONE,	/* no deadline: a WebSocket past its first message */
	PHASE_HEAD,	/* a request head is due: fixed, from the phase's start */
	PHASE_BODY,	/* the body of a parsed head is due: fixed */
	PHASE_IDLE,	/* keep-alive between requests: restarted by traffic */
	PHASE_STALLED,	/* reading stopped, the queue is full: restarted by writes */
	PHASE_WS_FIRST, /* the first WebSocket message is due: fixed */
};

struct sbxd_http_conn {
	struct sbxd_http_server *srv;
	struct sbxd_http_conn *prev, *next; /* in srv->conns */
	int fd;
	struct sbxd_watch w;
	struct sbxd_timer timer;  /* the phase's deadline, or the closing bound */
	struct sbxd_timer resume; /* delivers buffered messages after an unpause */
	enum conn_mode mode;
	struct sbx_buf in;
	struct sbx_buf out;
	size_t out_off; /* bytes of out already written */
	bool dead;
	bool teardown_queued;
	bool close_after_write; /* close the socket once out is flushed */
	bool peer_eof;
	bool lingering; /* write side shut, input dropped until EOF */
	bool authed;	/* presented the API token once (see server.h) */
	bool served;	/* answered at least one request */
	enum conn_phase phase;
	/* HTTP mode */
	struct sbxd_http_req req;
	bool have_head;
	bool sent_continue;
	/* WebSocket mode */
	struct sbx_ws_reader wsr;
	const struct sbxd_ws_ops *ops;
	void *user; /* NULL once detached */
	bool ws_paused;
	bool ws_close_sent;
	bool ws_above_low;   /* the queue was above SBX_WS_LOW_WATER */
	bool ws_got_message; /* the peer sent a data message */
	uint16_t ws_peer_code;
	/* a deferred HTTP reply (stream.c): no request is handled meanwhile */
	bool deferred;
	bool defer_keep_alive; /* the deferred request's keep-alive */
	bool defer_streaming;  /* a chunked head was sent */
	bool defer_above_low;  /* the queue was above SBX_WS_LOW_WATER */
	const struct sbxd_http_defer_ops *dops;
	void *duser; /* NULL once detached */
};

struct sbxd_http_server {
	struct sbxd_loop *loop;
	int lfd;
	int port;
	struct sbxd_watch lw;
	sbxd_http_handler_fn fn;
	void *ctx;
	struct sbxd_http_conn *conns; /* newest first; dead ones until teardown */
	size_t nconns;		      /* live (not dead) connections */
	size_t nunauth;		      /* live connections not authed */
};

/* server.c */
size_t conn_queued(const struct sbxd_http_conn *c);
int conn_write(struct sbxd_http_conn *c, const void *p, size_t n);
/* Queues a whole response; with !keep_alive the connection closes after. */
int conn_send_response(struct sbxd_http_conn *c, struct sbxd_http_resp *resp, bool keep_alive);
void conn_fail(struct sbxd_http_conn *c);
void conn_update_events(struct sbxd_http_conn *c);
/* True while reading must wait for the send queue to drain. */
bool conn_backlogged(const struct sbxd_http_conn *c);

/* Handles buffered requests again once a deferred reply ended (from the
 * loop, never inside the caller). */
void conn_resume_http(struct sbxd_http_conn *c);

/* stream.c */
void defer_after_write(struct sbxd_http_conn *c);
void defer_teardown_notify(struct sbxd_http_conn *c);

/* ws_conn.c */
void ws_process(struct sbxd_http_conn *c);
void ws_after_write(struct sbxd_http_conn *c);
void ws_teardown_notify(struct sbxd_http_conn *c);

#endif
