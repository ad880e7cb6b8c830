/* fuzz_ws_frame.c - sbxd's WebSocket decoder (src/lib/util/ws_frame.c) on
 * arbitrary bytes from a client.
 *
 * Input: one byte of settings, then the byte stream. Settings: bit 0 makes
 * masking optional (the client side's rule), bits 1-3 pick the size of the
 * pieces the stream arrives in, as recv() would cut it. Bytes the reader did
 * not consume are kept and passed again with the next piece, as ws_conn.c
 * does. Also: the handshake's accept key on the first bytes, and a header
 * encoded from fuzzed fields must decode to the same fields.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_frame.h"
#include "util/buf.h"

#define MAX_MESSAGE 4096

static const size_t PIECES[8] = {1, 2, 3, 7, 14, 64, 1000, 1 << 20};

static void check_event(const struct sbx_ws_event *ev)
{
	switch (ev->type) {
	case SBX_WS_EV_MESSAGE:
		if (ev->len > MAX_MESSAGE || !ev->data)
			abort();
		if (ev->opcode != SBX_WS_TEXT && ev->opcode != SBX_WS_BINARY)
			abort();
		break;
	case SBX_WS_EV_PING:
	case SBX_WS_EV_PONG:
	case SBX_WS_EV_CLOSE:
		if (ev->len > 125)
			abort();
		break;
	default: break;
	}
	if (ev->len)
		(void)*(volatile const uint8_t *)(ev->data + ev->len - 1); /* readable */
}

static void stream(const uint8_t *data, size_t size, bool require_mask, size_t piece)
{
	struct sbx_ws_reader r;
	struct sbx_buf in = SBX_BUF_INIT;
	struct sbx_ws_event ev;
	size_t off = 0, consumed;

	sbx_ws_reader_init(&r, MAX_MESSAGE, require_mask);
	while (off < size) {
		size_t k = size - off < piece ? size - off : piece;

		if (sbx_buf_append(&in, data + off, k) < 0)
			break;
		off += k;
		for (;;) {
			if (sbx_ws_reader_next(&r, (const uint8_t *)in.data, in.len, &consumed,
						&ev) < 0)
				goto out;
			if (consumed > in.len)
				abort();
			check_event(&ev);
			sbx_buf_consume(&in, consumed);
			if (ev.type == SBX_WS_EV_ERROR)
				goto out;
			if (ev.type == SBX_WS_EV_NONE)
				break;
		}
		/* only a partial frame header may be left over */
		if (in.len >= SBX_WS_MAX_HEADER)
			abort();
	}
out:
	sbx_ws_reader_release(&r);
	sbx_buf_release(&in);
}

/* encode(fields) must parse back to the same fields */
static void round_trip(const uint8_t *data, size_t size)
{
	uint8_t hdr[SBX_WS_MAX_HEADER], mask[4] = {0};
	struct sbx_ws_hdr h;
	uint64_t len = 0;
	bool fin, masked;
	int opcode, r;
	size_t n, i;

	if (size < 14)
		return;
	fin = data[0] & 1;
	masked = data[0] & 2;
	opcode = data[1] & 0xf;
	for (i = 0; i < 8; i++)
		len = len << 8 | data[2 + i];
	len >>= data[0] >> 2; /* 0..63 bits shifted: short and long lengths */
	memcpy(mask, data + 10, 4);
	n = sbx_ws_encode_header(hdr, fin, opcode, len, masked ? mask : NULL);
	if (n < 2 || n > SBX_WS_MAX_HEADER)
		abort();
	r = sbx_ws_parse_header(hdr, n, &h);
	if (r > 0 && ((size_t)r != n || h.fin != fin || h.opcode != opcode || h.len != len ||
		      h.masked != masked || (masked && memcmp(h.mask, mask, 4))))
		abort();
	if (r == 0)
		abort();
	for (i = 0; r > 0 && i < n; i++)
		if (sbx_ws_parse_header(hdr, i, &h) != 0)
			abort(); /* a prefix of a valid header needs more bytes */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char key[64], out[29];
	size_t kl;

	if (size < 1)
		return 0;
	stream(data + 1, size - 1, !(data[0] & 1), PIECES[(data[0] >> 1) & 7]);
	round_trip(data + 1, size - 1);
	kl = size - 1 < sizeof(key) - 1 ? size - 1 : sizeof(key) - 1;
	memcpy(key, data + 1, kl);
	key[kl] = '\0';
	sbx_ws_accept_key(key, true, out);
	sbx_ws_accept_key(key, false, out);
	return 0;
}
