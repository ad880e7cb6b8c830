/* ws_conn.h - private to the exec WebSocket transport (ws.c, ws_conn.c):
 * the session and transport structures, and the calls between the two
 * files. ws.c owns the queue, the thread, the lws context and a session's
 * life; ws_conn.c speaks on one connection: TLS, the upgrade, the frames,
 * the keepalive. Everything here runs on the transport thread unless a
 * field's comment names t->lock.
 */
#ifndef SBX_EXEC_WS_CONN_H
#define SBX_EXEC_WS_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "exec/ws.h"
#include "exec/ws_hs.h"
#include "exec/ws_tls.h"
#include "util/ws_frame.h"

#define CLOSE_MSG_MAX 160

/* Keepalive: a ping after this long without a byte from the server, and
 * the session ends after HANGUP_MS without one (a dead peer or path). This
 * also bounds the wait for the handshake's reply. */
#define PING_MS	  30000
#define HANGUP_MS 120000
/* Mask keys are taken from a pool of kernel randomness, one getrandom()
 * per 64 frames rather than per frame. */
#define MASK_POOL 256

enum sess_state { S_NEW, S_CONNECTING, S_HANDSHAKE, S_OPEN, S_DEAD };

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
	lws_sorted_usec_list_t ka;  /* keepalive */
	enum sess_state state;
	bool in_connect, reported;
	int http_status;
	bool hs_sent;	     /* the upgrade request went out */
	bool closing;	     /* a close frame is due, then the socket goes */
	uint16_t close_code; /* the code it carries */
	bool pong_due, ping_due, ping_sent;
	uint8_t pong[125];
	size_t pong_len;
	int64_t last_rx_ms;
	int peer_code; /* close code from the peer */
	char peer_reason[64];
	struct sbx_wstls *tls; /* NULL without TLS */
	struct sbx_wsh_key key;
	struct sbx_ws_reader rd;
	struct sbx_buf in; /* received, not yet used: the reply head or a partial frame header */
	struct sbx_buf tx;
	uint8_t masks[MASK_POOL];
	size_t masks_left;
};

struct sbx_wsc {
	struct lws_context *ctx;
	pthread_t thread;
	bool started;

	/* immutable after sbx_wsc_new */
	bool tls;
	int port;
	char *address, *host_hdr, *base_path, *protos, *auth;
	struct sbx_wstls_ctx *tls_ctx; /* NULL without TLS */

	pthread_mutex_t lock;
	struct sbx_wsc_sess *q_head, *q_tail; /* lock */
	bool stop;			      /* lock */

	/* transport thread only */
	struct sbx_wsc_sess *live;
	struct sbx_buf wire;  /* TLS records on their way to the socket */
	uint8_t plain[65536]; /* plaintext out of TLS, before the frame decoder */
};

/* ws.c: reports the end of s to its owner, once (later calls do nothing). */
void sbx_wsc_report(struct sbx_wsc_sess *s, int err, const char *msg);
/* ws.c: reports err and starts closing s's socket: an open session sends
 * a close frame (s->close_code) first, any other is dropped. */
void sbx_wsc_close_with(struct sbx_wsc_sess *s, int err, const char *msg);

/* ws_conn.c, from the lws callback. Those returning int return what the
 * callback returns: 0, or -1 to have lws drop the connection. */
/* The TCP connection is up: TLS (if any) and the upgrade request start. */
int sbx_wsc_on_connected(struct sbx_wsc_sess *s, struct lws *wsi);
/* Bytes from the server. */
int sbx_wsc_on_rx(struct sbx_wsc_sess *s, struct lws *wsi, const void *in, size_t len);
/* The socket can take bytes: one write at most. */
int sbx_wsc_on_writeable(struct sbx_wsc_sess *s, struct lws *wsi);
/* The connection could not be made; why is lws's text (may be NULL). */
void sbx_wsc_on_conn_error(struct sbx_wsc_sess *s, const char *why, size_t len);
/* The socket closed. */
void sbx_wsc_on_sock_closed(struct sbx_wsc_sess *s);

#endif
