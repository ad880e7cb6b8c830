/* ws_frame.c - RFC 6455 framing and message reassembly; see ws_frame.h.
 *
 * Protocol errors map to close codes the way RFC 6455 section 7.4.1 asks:
 * 1002 for framing errors (unmasked client frame, reserved bits, bad opcode,
 * continuation out of order, bad close payload), 1009 for a message past the
 * size limit. UTF-8 of text messages is not checked here: every message is
 * JSON to both users (sbxd, and the exec client of libsbx, src/lib/exec/ws.c)
 * and their JSON parser rejects what it cannot read.
 */
#include "util/ws_frame.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/b64.h"

static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int sbx_ws_accept_key(const char *key, bool strict, char out[29])
{
	struct sbx_buf in = SBX_BUF_INIT, enc = SBX_BUF_INIT, dec = SBX_BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r;

	if (strict) {
		r = sbx_b64_decode(&dec, key, strlen(key));
		if (r == 0 && (dec.len != 16 || strlen(key) != 24))
			r = -EINVAL;
		if (r < 0)
			goto out;
	}
	r = sbx_buf_puts(&in, key);
	if (r == 0)
		r = sbx_buf_puts(&in, WS_GUID);
	if (r < 0)
		goto out;
	if (!EVP_Digest(in.data, in.len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) {
		r = -EIO;
		goto out;
	}
	r = sbx_b64_encode(&enc, md, mdlen);
	if (r < 0)
		goto out;
	memcpy(out, enc.data, 28);
	out[28] = '\0';
out:
	sbx_buf_release(&in);
	sbx_buf_release(&enc);
	sbx_buf_release(&dec);
	return r;
}

size_t sbx_ws_encode_header(uint8_t out[SBX_WS_MAX_HEADER], bool fin, int opcode, uint64_t len,
			     const uint8_t *mask)
{
	size_t n = 2;
	int i;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)len;
	} else if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		n = 4;
	} else {
		out[1] = 127;
		for (i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	if (mask) {
		out[1] |= 0x80;
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

/* Eight bytes at a time: a byte-wise loop was a fifth of sbxd's CPU time
 * in a large upload. Eight is a multiple of the mask's period, so one
 * word of the mask, rotated to off, fits every whole word of p. */
void sbx_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t off)
{
	uint8_t m8[8];
	uint64_t w, mw;
	size_t i;

	for (i = 0; i < 8; i++)
		m8[i] = mask[(off + i) & 3];
	memcpy(&mw, m8, 8);
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		w ^= mw;
		memcpy(p + i, &w, 8);
	}
	for (; i < n; i++)
		p[i] ^= mask[(off + i) & 3];
}

int sbx_ws_parse_header(const uint8_t *buf, size_t n, struct sbx_ws_hdr *h)
{
	size_t need = 2, i;
	uint64_t len;
	int op;

	if (n < 2)
		return 0;
	if (buf[0] & 0x70)
		return -EPROTO; /* RSV1-3: no extension was negotiated */
	op = buf[0] & 0x0f;
	if (op != SBX_WS_CONT && op != SBX_WS_TEXT && op != SBX_WS_BINARY && op != SBX_WS_CLOSE &&
	    op != SBX_WS_PING && op != SBX_WS_PONG)
		return -EPROTO;
	len = buf[1] & 0x7f;
	if (len == 126)
		need += 2;
	else if (len == 127)
		need += 8;
	if (buf[1] & 0x80)
		need += 4;
	if (n < need)
		return 0;
	if (len == 126) {
		len = (uint64_t)buf[2] << 8 | buf[3];
	} else if (len == 127) {
		len = 0;
		for (i = 0; i < 8; i++)
			len = len << 8 | buf[2 + i];
		if (len >> 63)
			return -EPROTO;
	}
	h->fin = buf[0] & 0x80;
	h->opcode = op;
	h->masked = buf[1] & 0x80;
	h->len = len;
	if (h->masked)
		memcpy(h->mask, buf + need - 4, 4);
	if (op >= 0x8 && (!h->fin || len > 125))
		return -EPROTO;
	return (int)need;
}

void sbx_ws_reader_init(struct sbx_ws_reader *r, size_t max_message, bool require_mask)
{
	memset(r, 0, sizeof(*r));
	r->max_message = max_message;
	r->require_mask = require_mask;
	sbx_buf_init(&r->msg);
}

void sbx_ws_reader_release(struct sbx_ws_reader *r)
{
	sbx_buf_release(&r->msg);
}

static void set_error(struct sbx_ws_reader *r, struct sbx_ws_event *ev, uint16_t code)
{
	r->failed = true;
	ev->type = SBX_WS_EV_ERROR;
	ev->close_code = code;
}

/* Checks a new frame header against the message state. 0 or a close code. */
static uint16_t check_frame(struct sbx_ws_reader *r)
{
	const struct sbx_ws_hdr *h = &r->hdr;

	if (r->require_mask && !h->masked)
		return SBX_WS_CLOSE_PROTOCOL;
	if (h->opcode >= 0x8)
		return 0;
	if (h->opcode == SBX_WS_CONT && !r->in_message)
		return SBX_WS_CLOSE_PROTOCOL;
	if (h->opcode != SBX_WS_CONT && r->in_message)
		return SBX_WS_CLOSE_PROTOCOL;
	if (h->len > r->max_message || r->msg.len + h->len > r->max_message)
		return SBX_WS_CLOSE_TOO_BIG;
	return 0;
}

static bool close_code_valid(uint16_t c)
{
	if (c >= 3000 && c <= 4999)
		return true;
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014);
}

/* A whole control frame is in r->ctl: turn it into an event. */
static void control_event(struct sbx_ws_reader *r, struct sbx_ws_event *ev)
{
	ev->data = r->ctl;
	ev->len = r->ctl_len;
	if (r->hdr.opcode == SBX_WS_PING) {
		ev->type = SBX_WS_EV_PING;
		return;
	}
	if (r->hdr.opcode == SBX_WS_PONG) {
		ev->type = SBX_WS_EV_PONG;
		return;
	}
	ev->type = SBX_WS_EV_CLOSE;
	ev->close_code = SBX_WS_CLOSE_NO_STATUS;
	if (r->ctl_len == 1) {
		set_error(r, ev, SBX_WS_CLOSE_PROTOCOL);
		return;
	}
	if (r->ctl_len >= 2) {
		ev->close_code = (uint16_t)(r->ctl[0] << 8 | r->ctl[1]);
		ev->data = r->ctl + 2;
		ev->len = r->ctl_len - 2;
		if (!close_code_valid(ev->close_code))
			set_error(r, ev, SBX_WS_CLOSE_PROTOCOL);
	}
}

/* Takes payload bytes of the current frame; true when the frame is complete. */
static int take_payload(struct sbx_ws_reader *r, const uint8_t *p, size_t n, size_t *used)
{
	uint64_t left = r->hdr.len - r->got;
	size_t take = left < n ? (size_t)left : n;
	uint8_t *dst;
	int rc;

	if (r->hdr.opcode >= 0x8) {
		dst = r->ctl + r->got;
	} else {
		rc = sbx_buf_reserve(&r->msg, take);
		if (rc < 0)
			return rc;
		dst = (uint8_t *)r->msg.data + r->msg.len;
		r->msg.len += take;
		r->msg.data[r->msg.len] = '\0';
	}
	memcpy(dst, p, take);
	if (r->hdr.masked)
		sbx_ws_mask(dst, take, r->hdr.mask, r->got);
	r->got += take;
	*used = take;
	return r->got == r->hdr.len;
}

/* The current frame is complete: produce its event, if any. */
static void frame_done(struct sbx_ws_reader *r, struct sbx_ws_event *ev)
{
	r->in_frame = false;
	if (r->hdr.opcode >= 0x8) {
		r->ctl_len = (size_t)r->hdr.len;
		control_event(r, ev);
		return;
	}
	if (r->hdr.opcode != SBX_WS_CONT) {
		r->in_message = true;
		r->msg_opcode = r->hdr.opcode;
	}
	if (!r->hdr.fin)
		return;
	r->in_message = false;
	r->deliver_reset = true;
	ev->type = SBX_WS_EV_MESSAGE;
	ev->opcode = r->msg_opcode;
	ev->data = (const uint8_t *)(r->msg.data ? r->msg.data : "");
	ev->len = r->msg.len;
}

int sbx_ws_reader_next(struct sbx_ws_reader *r, const uint8_t *buf, size_t n, size_t *consumed,
			struct sbx_ws_event *ev)
{
	size_t pos = 0, used;
	uint16_t code;
	int rc;

	memset(ev, 0, sizeof(*ev));
	*consumed = 0;
	if (r->deliver_reset) {
		sbx_buf_reset(&r->msg);
		r->deliver_reset = false;
	}
	if (r->failed) {
		set_error(r, ev, SBX_WS_CLOSE_PROTOCOL);
		return 0;
	}
	while (ev->type == SBX_WS_EV_NONE) {
		if (!r->in_frame) {
			rc = sbx_ws_parse_header(buf + pos, n - pos, &r->hdr);
			if (rc == 0)
				break;
			if (rc < 0) {
				set_error(r, ev, SBX_WS_CLOSE_PROTOCOL);
				break;
			}
			pos += (size_t)rc;
			code = check_frame(r);
			if (code) {
				set_error(r, ev, code);
				break;
			}
			r->in_frame = true;
			r->got = 0;
		}
		rc = take_payload(r, buf + pos, n - pos, &used);
		if (rc < 0)
			return rc;
		pos += used;
		if (rc == 0)
			break;
		frame_done(r, ev);
	}
	*consumed = pos;
	return 0;
}
