/* ws_hs.h - the client's half of the WebSocket opening handshake (RFC 6455
 * section 4): the upgrade request, and the check of the server's reply.
 * Pure functions, no I/O; ws.c sends and receives the bytes.
 *
 * A reply is accepted only when it is exactly what RFC 6455 asks of a
 * server that took the upgrade: status 101, "Upgrade: websocket", a
 * Connection header naming "upgrade", the Sec-WebSocket-Accept that matches
 * the nonce, no extension (none is offered) and a subprotocol that is either
 * absent or the one the caller allows. Anything else is refused with a
 * reason, and its HTTP status is kept for the caller's error mapping.
 */
#ifndef SBX_EXEC_WS_HS_H
#define SBX_EXEC_WS_HS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* A reply head longer than this is refused (the Koyeb edge's are < 1 KiB). */
#define SBX_WSH_REPLY_MAX 16384

/* The nonce of one handshake and the accept value it calls for. */
struct sbx_wsh_key {
	char key[25];	 /* base64 of 16 random bytes */
	char accept[29]; /* base64(SHA-1(key + GUID)) */
};

/* Fills k with a fresh nonce. 0 or a negative errno. */
int sbx_wsh_key_new(struct sbx_wsh_key *k);

/* The request's variable parts. Every string is borrowed and must hold no
 * CR or LF (checked: -EINVAL). protos and auth may be NULL (header left out). */
struct sbx_wsh_request {
	const char *host;   /* Host header: "host[:port]" */
	const char *path;   /* request target, "/…" */
	const char *protos; /* Sec-WebSocket-Protocol */
	const char *auth;   /* Authorization */
	const char *agent;  /* User-Agent */
};

/* Appends the GET upgrade request for key k to out. 0 or a negative errno. */
int sbx_wsh_request(struct sbx_buf *out, const struct sbx_wsh_request *q,
		    const struct sbx_wsh_key *k);

struct sbx_wsh_reply {
	int status;	  /* the reply's HTTP status */
	bool accepted;	  /* true: the connection now carries frames */
	char reason[120]; /* why it was refused, "" when accepted */
};

/* Reads a reply head from buf[0..n). Returns its length (the frames start
 * right after it) once the blank line that ends it is in, 0 when more bytes
 * are needed, or -SBX_EPROTO when it is not HTTP or longer than
 * SBX_WSH_REPLY_MAX (reason set). proto_ok is the one subprotocol allowed
 * besides none. r is set on every return. */
int sbx_wsh_reply(const char *buf, size_t n, const struct sbx_wsh_key *k, const char *proto_ok,
		  struct sbx_wsh_reply *r);

#endif
