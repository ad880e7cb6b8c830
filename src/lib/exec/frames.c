/* frames.c - exec WebSocket message codec; see frames.h.
 *
 * Encoding goes through json-c (escaping of argv and id). The base64 payload
 * of a stdin frame is pasted in as text: it is made of the base64 alphabet
 * only, so it needs no escaping, and this avoids a second copy of the chunk.
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

int sbx_frame_decode(const char *msg, size_t n, struct sbx_frame_in *f)
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
