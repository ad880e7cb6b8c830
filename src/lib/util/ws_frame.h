/* ws_frame.h - RFC 6455 WebSocket framing (pure functions, no I/O), shared
 * by sbxd's server (src/host/http) and libsbx's exec client (src/lib/exec).
 *
 * Three pieces:
 *  - sbx_ws_accept_key(): the Sec-WebSocket-Accept value of a handshake;
 *  - sbx_ws_encode_header(): a frame header for sending;
 *  - struct sbx_ws_reader: an incremental decoder that turns received bytes
 *    into whole messages (reassembling fragments, unmasking, interleaving
 *    control frames) and enforces the protocol rules and a message size limit.
 *
 * The reader streams payloads: it never needs a whole frame in the input,
 * only a whole frame header, so a 4 MiB message costs 4 MiB once (in the
 * reader's message buffer), not twice.
 */
#ifndef SBX_UTIL_WS_FRAME_H
#define SBX_UTIL_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum sbx_ws_opcode {
	SBX_WS_CONT = 0x0,
	SBX_WS_TEXT = 0x1,
	SBX_WS_BINARY = 0x2,
	SBX_WS_CLOSE = 0x8,
	SBX_WS_PING = 0x9,
	SBX_WS_PONG = 0xA,
};

/* Close codes used here (RFC 6455 7.4.1). */
#define SBX_WS_CLOSE_NORMAL    1000
#define SBX_WS_CLOSE_GOING     1001
#define SBX_WS_CLOSE_PROTOCOL  1002
#define SBX_WS_CLOSE_NO_STATUS 1005
#define SBX_WS_CLOSE_BAD_DATA  1007
#define SBX_WS_CLOSE_TOO_BIG   1009
#define SBX_WS_CLOSE_INTERNAL  1011

#define SBX_WS_MAX_HEADER 14

/* Writes base64(SHA-1(key + RFC 6455 GUID)) and a NUL into out.
 * 0, or -EINVAL when key is not a 16-byte base64 nonce as RFC 6455 requires
 * (pass strict=false to skip that check), -ENOMEM, -EIO on a crypto failure. */
int sbx_ws_accept_key(const char *key, bool strict, char out[29]);

/* Writes a frame header to out; returns its length (2..14). mask NULL means
 * an unmasked (server) frame; otherwise the 4 mask bytes follow the length. */
size_t sbx_ws_encode_header(uint8_t out[SBX_WS_MAX_HEADER], bool fin, int opcode, uint64_t len,
			     const uint8_t *mask);

/* XORs p[0..n) with mask, starting at byte offset off of the payload. */
void sbx_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off);

/* Frame header as decoded. */
struct sbx_ws_hdr {
	bool fin;
	int opcode;
	bool masked;
	uint8_t mask[4];
	uint64_t len;
};

/* Decodes a frame header at buf[0..n). Returns its length (> 0), 0 when more
 * bytes are needed, -EPROTO on an invalid header (reserved bits, unknown
 * opcode, fragmented or oversized control frame, 64-bit length with the top
 * bit set). */
int sbx_ws_parse_header(const uint8_t *buf, size_t n, struct sbx_ws_hdr *h);

enum sbx_ws_event_type {
	SBX_WS_EV_NONE,	   /* need more input */
	SBX_WS_EV_MESSAGE, /* data, len: a whole text or binary message */
	SBX_WS_EV_PING,	   /* data, len: payload to echo in a pong */
	SBX_WS_EV_PONG,
	SBX_WS_EV_CLOSE, /* close_code (1005 when absent), data/len: reason */
	SBX_WS_EV_ERROR, /* close_code: what to close the connection with */
};

struct sbx_ws_event {
	enum sbx_ws_event_type type;
	int opcode;	     /* SBX_WS_TEXT or SBX_WS_BINARY for a message */
	const uint8_t *data; /* borrowed from the reader, valid until the next call */
	size_t len;
	uint16_t close_code;
};

struct sbx_ws_reader {
	size_t max_message; /* limit on a reassembled message (1009 past it) */
	bool require_mask;  /* true on the server side */
	/* decoder state */
	bool in_frame;
	struct sbx_ws_hdr hdr;
	uint64_t got; /* payload bytes of the current frame seen so far */
	bool in_message;
	int msg_opcode;
	bool deliver_reset; /* the last event handed out msg: reset on next call */
	struct sbx_buf msg;
	uint8_t ctl[125];
	size_t ctl_len;
	bool failed;
};

/* Sets up a reader. */
void sbx_ws_reader_init(struct sbx_ws_reader *r, size_t max_message, bool require_mask);
void sbx_ws_reader_release(struct sbx_ws_reader *r);

/* Consumes bytes from buf[0..n) and stops at the first event. *consumed gets
 * how many bytes were used (the caller drops them from its input). An
 * SBX_WS_EV_NONE event means more input is needed; bytes not consumed then
 * (at most a partial frame header) must be passed again, with what arrives
 * next appended.
 * After an SBX_WS_EV_ERROR the reader stays failed. Returns 0 or -ENOMEM. */
int sbx_ws_reader_next(struct sbx_ws_reader *r, const uint8_t *buf, size_t n, size_t *consumed,
			struct sbx_ws_event *ev);

#endif
