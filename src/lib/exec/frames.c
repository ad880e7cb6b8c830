/* frames.c - exec WebSocket message codec; see frames.h.
 *
 * Encoding goes through json-c (escaping of argv and id). The base64 payload
 * of a stdin frame is pasted in as text: it is made of the base64 alphabet
 * only, so it needs no escaping, and this avoids a second copy of the chunk.
 *
 * Decoding: the output frames of a bulk transfer are most of what a client
 * receives, and building a json-c tree for each (a tokenizer pass over the
 * whole base64 string, then a copy of it) was a tenth of sbxfs's CPU time
 * in a large read. decode_fast() takes that one shape by hand; every other
 * message, and any near miss, goes to json-c (sbx_frame_decode_json()). The
 * fuzz target fuzz_exec_frames checks that both give the same result.
 */
#include "exec/frames.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sbx/error.h"
#include "util/b64.h"
#include "util/json.h"

/* {"id":I,"idType":"INSTANCE_ID","body":{"command":[…]}} without the final
 * two braces, so the caller can append the rest of the body. */
static int frame_head(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc)
{
	json_object *cmd = NULL, *s = NULL;
	size_t i;
	int r = -ENOMEM;

	if (!argc || !id)
		return -EINVAL;
	cmd = json_object_new_array();
	s = json_object_new_string(id);
	if (!cmd || !s)
		goto out;
	for (i = 0; i < argc; i++) {
		json_object *a = json_object_new_string(argv[i]);

		if (!a || json_object_array_add(cmd, a) < 0) {
			sbx_json_put(a);
			goto out;
		}
	}
	r = sbx_buf_puts(out, "{\"id\":");
	if (!r)
		r = sbx_json_dump(out, s);
	if (!r)
		r = sbx_buf_puts(out, ",\"idType\":\"INSTANCE_ID\",\"body\":{\"command\":");
	if (!r)
		r = sbx_json_dump(out, cmd);
out:
	sbx_json_put(cmd);
	sbx_json_put(s);
	return r;
}

int sbx_frame_first(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc)
{
	int r = frame_head(out, id, argv, argc);

	if (!r)
		r = sbx_buf_puts(out, ",\"disableTty\":true}}");
	return r;
}

int sbx_frame_first_tty(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc,
			unsigned rows, unsigned cols)
{
	int r = frame_head(out, id, argv, argc);

	if (!r)
		r = sbx_buf_puts(out, ",\"disableTty\":false");
	if (!r && rows && cols)
		r = sbx_buf_printf(out, ",\"tty_size\":{\"height\":%u,\"width\":%u}", rows, cols);
	if (!r)
		r = sbx_buf_puts(out, "}}");
	return r;
}

int sbx_frame_resize(struct sbx_buf *out, unsigned rows, unsigned cols)
{
	return sbx_buf_printf(out, "{\"body\":{\"tty_size\":{\"height\":%u,\"width\":%u}}}", rows,
			      cols);
}

int sbx_frame_stdin(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc,
		    const void *data, size_t n)
{
	int r;

	if (n > SBX_FRAME_STDIN_MAX)
		return -EINVAL;
	r = frame_head(out, id, argv, argc);
	if (!r)
		r = sbx_buf_puts(out, ",\"stdin\":{\"data\":\"");
	if (!r)
		r = sbx_b64_encode(out, data, n);
	if (!r)
		r = sbx_buf_puts(out, "\"}}}");
	return r;
}

int sbx_frame_stdin_close(struct sbx_buf *out, const char *id, const char *const *argv, size_t argc)
{
	int r = frame_head(out, id, argv, argc);

	if (!r)
		r = sbx_buf_puts(out, ",\"stdin\":{\"close\":true}}}");
	return r;
}

void sbx_frame_in_reset(struct sbx_frame_in *f)
{
	sbx_buf_reset(&f->out);
	sbx_buf_reset(&f->err);
	f->has_code = false;
	f->exit_code = 0;
	f->exited = false;
	f->is_error = false;
	f->error_code = 0;
	f->error_msg[0] = '\0';
}

void sbx_frame_in_release(struct sbx_frame_in *f)
{
	if (!f)
		return;
	sbx_buf_release(&f->out);
	sbx_buf_release(&f->err);
}

/* Decodes <stream>.data of res into out; absent stream or data is fine. */
static int decode_stream(json_object *res, const char *key, struct sbx_buf *out)
{
	json_object *st, *d;
	int r;

	if (!json_object_object_get_ex(res, key, &st) || json_object_is_type(st, json_type_null))
		return 0;
	if (!json_object_is_type(st, json_type_object))
		return -EPROTO;
	if (!json_object_object_get_ex(st, "data", &d) || json_object_is_type(d, json_type_null))
		return 0;
	if (!json_object_is_type(d, json_type_string))
		return -EPROTO;
	r = sbx_b64_decode(out, json_object_get_string(d), (size_t)json_object_get_string_len(d));
	return r == -EINVAL ? -EPROTO : r;
}

static int decode_result(json_object *res, struct sbx_frame_in *f)
{
	int64_t code;
	int r;

	if (!json_object_is_type(res, json_type_object))
		return -EPROTO;
	r = decode_stream(res, "stdout", &f->out);
	if (!r)
		r = decode_stream(res, "stderr", &f->err);
	if (r < 0)
		return r;
	r = sbx_json_int(res, "exit_code", &code);
	if (r == 0) {
		if (code < INT32_MIN || code > INT32_MAX)
			return -EPROTO;
		f->has_code = true;
		f->exit_code = (int)code;
	} else if (r != -ENOENT) {
		return -EPROTO;
	}
	f->exited = sbx_json_bool(res, "exited", false);
	if (f->exited && !f->has_code) {
		/* exit_code 0 may be left out (protocol §6.7) */
		f->has_code = true;
		f->exit_code = 0;
	}
	return 0;
}

static void decode_error(json_object *e, struct sbx_frame_in *f)
{
	const char *msg = sbx_json_str(e, "message");
	int64_t code;

	f->is_error = true;
	f->error_code = 2; /* gRPC UNKNOWN */
	if (sbx_json_int(e, "code", &code) == 0 && code >= 0 && code <= INT32_MAX)
		f->error_code = (int)code;
	snprintf(f->error_msg, sizeof(f->error_msg), "%s", msg && *msg ? msg : "remote error");
}

/* The shape that carries bulk output, exactly as sbxd writes it:
 *   {"result":{"stdout":{"data":"B64"}}}   (or "stderr")
 * decoded without a json-c tree, the base64 straight into the output
 * buffer. Returns 1 when msg was that shape and is decoded, 0 when it is
 * anything else (even a near miss: the caller then decodes it with json-c,
 * which gives the same result for every message this accepts), or -ENOMEM.
 * The base64 must be whitespace-free: JSON allows escapes there, and a
 * string with one is left to json-c. */
static int decode_fast(const char *msg, size_t n, struct sbx_frame_in *f)
{
	static const char head[] = "{\"result\":{\"std";
	static const char mid[] = ":{\"data\":\"";
	static const char tail[] = "\"}}}";
	const char *p = msg, *end = msg + n, *q;
	struct sbx_buf *out;
	long got;

	if (n < sizeof(head) - 1 + 4 + sizeof(mid) - 1 + sizeof(tail) - 1 ||
	    memcmp(p, head, sizeof(head) - 1))
		return 0;
	p += sizeof(head) - 1;
	if (!memcmp(p, "out\"", 4))
		out = &f->out;
	else if (!memcmp(p, "err\"", 4))
		out = &f->err;
	else
		return 0;
	p += 4;
	if ((size_t)(end - p) < sizeof(mid) - 1 + sizeof(tail) - 1 ||
	    memcmp(p, mid, sizeof(mid) - 1))
		return 0;
	p += sizeof(mid) - 1;
	q = end - (sizeof(tail) - 1);
	if (memcmp(q, tail, sizeof(tail) - 1) || memchr(p, '"', (size_t)(q - p)))
		return 0;
	if (sbx_buf_reserve(out, sbx_b64_decoded_max((size_t)(q - p))) < 0)
		return -ENOMEM;
	got = sbx_b64_decode_raw(out->data + out->len, p, (size_t)(q - p));
	if (got < 0) {
		out->data[out->len] = '\0';
		return 0;
	}
	out->len += (size_t)got;
	out->data[out->len] = '\0';
	return 1;
}

int sbx_frame_decode(const char *msg, size_t n, struct sbx_frame_in *f)
{
	int r = decode_fast(msg, n, f);

	if (r)
		return r < 0 ? r : 0;
	return sbx_frame_decode_json(msg, n, f);
}

int sbx_frame_decode_json(const char *msg, size_t n, struct sbx_frame_in *f)
{
	json_object *o = NULL, *res, *e;
	int r;

	r = sbx_json_parse(msg, n, &o);
	if (r < 0)
		return r == -ENOMEM ? r : -EPROTO;
	if (!json_object_is_type(o, json_type_object)) {
		r = -EPROTO;
		goto out;
	}
	if (json_object_object_get_ex(o, "error", &e) && json_object_is_type(e, json_type_object)) {
		decode_error(e, f);
		r = 0;
		goto out;
	}
	r = 0;
	if (json_object_object_get_ex(o, "result", &res) &&
	    !json_object_is_type(res, json_type_null))
		r = decode_result(res, f);
out:
	sbx_json_put(o);
	return r;
}

int sbx_frame_grpc_errno(int code)
{
	switch (code) {
	case 4: return -SBX_ETIMEDOUT;
	case 5: return -SBX_ENOTFOUND;
	case 7: return -SBX_EPERM;
	case 9:
	case 14: return -SBX_ENOTHEALTHY;
	case 16: return -SBX_EAUTH;
	default: return -SBX_EIO;
	}
}
