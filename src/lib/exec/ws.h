/* ws.h - the exec WebSocket transport: one thread, one lws_context per client.
 *
 * The transport thread services every exec session of a client. Other
 * threads never touch libwebsockets: they queue requests (open, want-write,
 * close) under the transport's mutex and wake the thread with
 * lws_cancel_service(). All session callbacks run on the transport thread,
 * one at a time, with no transport lock held, so they may take the caller's
 * own locks and call back into this API.
 *
 * Handshake (docs/executor-protocol.md §3.1): ws:// or wss:// from the API host,
 * path <base>/v1/streams/instances/exec?id=…, "Authorization: Bearer <token>"
 * and subprotocols "Bearer, <token>"; a reply that selects "Bearer" or no
 * subprotocol is accepted. TLS verification is always on.
 *
 * Incoming messages (text or binary, possibly fragmented) are reassembled up
 * to SBX_WSC_MSG_MAX; a larger one fails the session with -SBX_EPROTO.
 */
#ifndef SBX_EXEC_WS_H
#define SBX_EXEC_WS_H

#include <stddef.h>
#include <stdint.h>

#include "sbx/error.h"
#include "util/buf.h"

#define SBX_WSC_MSG_MAX (16u << 20)
/* Sessions one client may have at once (sockets of its lws_context). */
#define SBX_WSC_MAX_SESSIONS 1000

struct sbx_wsc;
struct sbx_wsc_sess;

/* Session callbacks, all on the transport thread. */
struct sbx_wsc_ops {
	/* A complete message. Return 0 to go on, 1 when the session is complete
	 * (the transport closes it normally and reports err 0), or a negative
	 * errno to close it with that error. */
	int (*on_message)(void *ud, const char *data, size_t n);
	/* The socket can take a message: append at most one to out and return
	 * 1 (the transport asks again after sending it), return 0 when there is
	 * nothing to send now (call sbx_wsc_want_write() when there is), or a
	 * negative errno to close the session with that error. */
	int (*on_writable)(void *ud, struct sbx_buf *out);
	/* The session is over; called exactly once, also when it never
	 * connected. err is 0 after on_message returned 1, else a negative
	 * errno; http_status is the refused handshake's status or 0; msg is
	 * for humans (never NULL). The transport does not use ud afterwards, and
	 * the session handle is invalid once this returns. */
	void (*on_closed)(void *ud, int err, int http_status, const char *msg);
};

/* Creates the lws_context and starts the thread. api_host is a validated
 * "http[s]://host[:port][/base]"; token is copied; ca_file may be NULL. */
int sbx_wsc_new(const char *api_host, const char *token, const char *ca_file, struct sbx_wsc **ret,
		struct sbx_err *err);
/* Closes every session (on_closed with -SBX_ECANCELED), stops the thread and
 * frees everything. Accepts NULL. Must not be called on the transport thread. */
void sbx_wsc_free(struct sbx_wsc *t);
/* true when the calling thread is t's transport thread. */
int sbx_wsc_on_thread(const struct sbx_wsc *t);

/* Starts a session on path (appended to the API host's base path; it must be
 * URL-safe). deadline_ms is an absolute sbx_now_ms() time after which the
 * session closes with -SBX_ETIMEDOUT, or 0 for none. Thread-safe. Returns 0
 * and the handle, or a negative errno (nothing started, no callback). */
int sbx_wsc_open(struct sbx_wsc *t, const char *path, int64_t deadline_ms,
		 const struct sbx_wsc_ops *ops, void *ud, struct sbx_wsc_sess **ret);
/* Asks for on_writable soon. Thread-safe; only before on_closed returned. */
void sbx_wsc_want_write(struct sbx_wsc_sess *s);
/* Closes the session; on_closed follows with err (negative) and msg, unless
 * the session already ended. Thread-safe; only before on_closed returned. */
void sbx_wsc_close(struct sbx_wsc_sess *s, int err, const char *msg);

#endif
