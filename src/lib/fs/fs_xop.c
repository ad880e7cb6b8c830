/* fs_xop.c - the fs_tp_executor transport: a filesystem primitive over the
 * sandbox's executor API (docs/executor-protocol.md §5); see fs_op.h.
 *
 * The same scripts run as over the WebSocket, so the semantics and the
 * errno mapping (errmap.h) are the same; only the way bytes travel differs
 * (xfer.h): stdin goes in as base64 inside the command or through a staging
 * file, a binary stdout comes back base64-encoded. A read or a listing of
 * an absolute path tries /read_file or /list_dir first, which answer in one
 * request, and uses the answer only when it cannot have been altered (no
 * U+FFFD) and, for an error, when its Go text names an errno we know;
 * anything else falls back to the script.
 *
 * Each operation runs on a detached thread of its own: the executor client
 * is synchronous (xc.h), and the async contract wants the start to return
 * at once. The thread calls the callback exactly once, then frees the op.
 * Nothing in an op is shared with another thread after the start, except
 * the caller's borrowed stdin source (the caller waits for the callback).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exec/transport.h"
#include "fs_op.h"
#include "script.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/log.h"
#include "xc/xc.h"
#include "xfer.h"

/* Deadline of one executor request of a primitive: none, like the exec. */
#define XOP_TIMEOUT_S 0

struct xop {
	struct xc *xc;
	struct sbx_buf script;
	enum fs_parse parse;
	size_t out_max;
	int (*sink)(void *sink_ud, const char *data, size_t n);
	void *sink_ud;
	enum fs_fast fast;
	char *fast_path;
	bool has_in;	      /* the script reads stdin */
	struct sbx_buf in;    /* its stdin, copied (async forms) */
	size_t in_off;	      /* consumed part of in */
	struct fs_src src;    /* or pulled from here (sync forms) */
	struct sbx_buf chunk; /* scratch: one chunk of stdin */
	char in_stage[SBX_XFER_STAGE_MAX];
	unsigned pieces; /* pieces of in_stage written (or tried) */
	bool staged;	 /* pieces may be in the sandbox */
	sbx_fs_cb cb;
	void *ud;
	char what[SBX_FS_WHAT_MAX];
};

/* What one /run gave back. */
struct xrun {
	int64_t code;
	struct sbx_buf out, err;
};

static void xop_free(struct xop *op)
{
	sbx_buf_release(&op->script);
	sbx_buf_release(&op->in);
	sbx_buf_release(&op->chunk);
	free(op->fast_path);
	free(op);
}

/* One POST of @p body (borrowed); the reply in *ret (a reference). */
static int post_body(struct xop *op, const char *path, json_object *body, json_object **ret,
		     struct sbx_err *err)
{
	char prev[SBX_ERR_MSG_MAX];
	int status = 0, r;

	*ret = NULL;
	r = xc_call(op->xc, "POST", path, NULL, body, XOP_TIMEOUT_S, &status, ret, err);
	if (r < 0) {
		memcpy(prev, err->msg, sizeof(prev));
		/* a 404 is the sandbox gone, never "no such file" (fs.h) */
		if (r == -SBX_ENOTFOUND)
			r = -SBX_ENOTHEALTHY;
		sbx_err_set(err, r, status, "%s: executor %s: %.400s%s", op->what, path, prev,
			    r == -SBX_ENOTHEALTHY ? " (sandbox gone)" : "");
	}
	return r;
}

/* One POST with body {"KEY": VAL}. */
static int post(struct xop *op, const char *path, const char *key, const char *val,
		json_object **ret, struct sbx_err *err)
{
	json_object *body = json_object_new_object();
	int r = body ? sbx_json_add_str(body, key, val) : -ENOMEM;

	*ret = NULL;
	if (!r)
		r = post_body(op, path, body, ret, err);
	else
		sbx_err_set(err, r, 0, "%s: out of memory", op->what);
	sbx_json_put(body);
	return r;
}

/* Runs cmd with /run; the outcome in *x (code, stdout, stderr). */
static int run_cmd(struct xop *op, const char *cmd, struct xrun *x, struct sbx_err *err)
{
	json_object *rep = NULL, *o;
	int r = post(op, "/run", "cmd", cmd, &rep, err);

	if (r < 0)
		return r;
	if (!rep || sbx_json_int(rep, "code", &x->code) < 0) {
		sbx_json_put(rep);
		return sbx_err_set(err, -SBX_EPROTO, 0, "%s: executor /run: no exit code",
				   op->what);
	}
	if ((o = sbx_json_get(rep, "stdout")) && json_object_is_type(o, json_type_string))
		r = sbx_buf_append(&x->out, json_object_get_string(o),
				   (size_t)json_object_get_string_len(o));
	if (!r && (o = sbx_json_get(rep, "stderr")) && json_object_is_type(o, json_type_string))
		r = sbx_buf_append(&x->err, json_object_get_string(o),
				   (size_t)json_object_get_string_len(o) < SBX_FS_STDERR_MAX
				       ? (size_t)json_object_get_string_len(o)
				       : SBX_FS_STDERR_MAX);
	sbx_json_put(rep);
	return r ? sbx_err_set(err, r, 0, "%s: out of memory", op->what) : 0;
}

/* The next chunk of stdin (up to @p cap bytes) into op->chunk; its
 * length (0 at the end) or a negative errno. */
static ssize_t next_chunk(struct xop *op, size_t cap)
{
	const char *p;
	ssize_t n = 1;
	size_t want;
	int r;

	sbx_buf_reset(&op->chunk);
	if (!op->src.next) {
		want = op->in.len - op->in_off;
		want = want < cap ? want : cap;
		r = sbx_buf_append(&op->chunk, op->in.data + op->in_off, want);
		op->in_off += want;
		return r < 0 ? r : (ssize_t)want;
	}
	if (sbx_buf_reserve(&op->chunk, cap) < 0)
		return -ENOMEM;
	while (op->chunk.len < cap && n > 0) {
		n = op->src.next(op->src.ud, op->chunk.data + op->chunk.len, cap - op->chunk.len,
				 &p);
		if (n > 0 && p != op->chunk.data + op->chunk.len)
			memmove(op->chunk.data + op->chunk.len, p, (size_t)n);
		if (n > 0)
			op->chunk.len += (size_t)n;
	}
	return n < 0 ? n : (ssize_t)op->chunk.len;
}

/* Writes op->chunk as the next piece of the stage (/write_file, base64). */
static int put_piece(struct xop *op, struct sbx_buf *b64, struct sbx_err *err)
{
	char name[SBX_XFER_STAGE_MAX + 16];
	json_object *body = json_object_new_object(), *rep = NULL;
	const char *text;
	int r = op->pieces >= SBX_XFER_PIECES_MAX ? -EFBIG : 0;

	sbx_buf_reset(b64);
	if (!r)
		r = sbx_xfer_piece_name(name, sizeof(name), op->in_stage, op->pieces);
	if (!r)
		r = body ? sbx_b64_encode(b64, op->chunk.data, op->chunk.len) : -ENOMEM;
	if (!r)
		r = sbx_json_add_str(body, "path", name);
	if (!r)
		r = sbx_json_add(
		    body, "content",
		    json_object_new_string_len(b64->data ? b64->data : "", (int)b64->len));
	if (r < 0) {
		sbx_json_put(body);
		return sbx_err_set(err, r, 0, "%s: staging the data: %s", op->what, strerror(-r));
	}
	op->staged = true;
	op->pieces++;
	r = post_body(op, "/write_file", body, &rep, err);
	text = rep ? sbx_json_str(rep, "error") : NULL;
	if (!r && text && *text) {
		r = sbx_xfer_errno_go(text);
		r = sbx_err_set(err, r ? r : -SBX_EIO, 0, "%s: staging the data in %s: %.200s",
				op->what, name, text);
	}
	sbx_json_put(rep);
	sbx_json_put(body);
	return r;
}

/* Sends stdin as the pieces of a stage in /tmp, the first chunk (already
 * in op->chunk) included. */
static int stage_in(struct xop *op, struct sbx_err *err)
{
	struct sbx_buf b64 = SBX_BUF_INIT;
	ssize_t n = (ssize_t)op->chunk.len;
	int r = sbx_xfer_stage_name(op->in_stage, sizeof(op->in_stage), "in");

	while (!r && n > 0) {
		r = put_piece(op, &b64, err);
		if (!r && (n = next_chunk(op, SBX_XFER_PIECE)) < 0)
			r = sbx_err_set(err, (int)n, 0, "%s: reading the data: %s", op->what,
					strerror((int)-n));
	}
	sbx_buf_release(&b64);
	return r;
}

/* Appends to out the decoded base64 of b64[0..n), checking that exactly
 * want bytes came, within out_max. */
static int take_b64(struct xop *op, struct sbx_buf *out, const char *b64, size_t n, uint64_t want,
		    struct sbx_err *err)
{
	size_t before = out->len;
	int r = sbx_b64_decode(out, b64, n);

	if (r == -ENOMEM)
		return sbx_err_set(err, r, 0, "%s: out of memory", op->what);
	if (r < 0 || out->len - before != want)
		return sbx_err_set(err, -SBX_EPROTO, 0,
				   "%s: executor output cut or garbled (%zu of %llu bytes)",
				   op->what, out->len - before, (unsigned long long)want);
	return 0;
}

/* Hands out bytes to the sink, or keeps them in out within out_max. */
static int deliver(struct xop *op, struct sbx_buf *out, struct sbx_err *err)
{
	int r;

	if (!op->sink)
		return out->len > op->out_max
			   ? sbx_err_set(err, -EFBIG, 0, "%s: output larger than %zu bytes",
					 op->what, op->out_max)
			   : 0;
	r = out->len ? op->sink(op->sink_ud, out->data, out->len) : 0;
	sbx_buf_reset(out);
	return r < 0 ? sbx_err_set(err, r, 0, "%s: %s", op->what, strerror(-r)) : 0;
}

/* Fetches a big output left in out_stage, range by range. */
static int fetch_ranges(struct xop *op, const char *stage, uint64_t len, struct sbx_buf *out,
			struct sbx_err *err)
{
	uint64_t idx, nr = (len + SBX_XFER_RANGE - 1) / SBX_XFER_RANGE;
	struct sbx_buf cmd = SBX_BUF_INIT;
	struct xrun x = {0, SBX_BUF_INIT, SBX_BUF_INIT};
	int r = len > op->out_max && !op->sink
		    ? sbx_err_set(err, -EFBIG, 0, "%s: output larger than %zu bytes", op->what,
				  op->out_max)
		    : 0;

	for (idx = 0; !r && idx < nr; idx++) {
		uint64_t want = idx + 1 < nr ? SBX_XFER_RANGE : len - idx * SBX_XFER_RANGE;

		sbx_buf_reset(&cmd);
		sbx_buf_reset(&x.out);
		sbx_buf_reset(&x.err);
		r = sbx_xfer_cmd_range(&cmd, stage, idx, idx + 1 == nr);
		if (!r)
			r = run_cmd(op, cmd.data, &x, err);
		if (!r && x.code != 0)
			r = sbx_fs_errmap((int)x.code, x.err.data, x.err.len, op->what, err);
		if (!r)
			r = take_b64(op, out, x.out.data, x.out.len, want, err);
		if (!r)
			r = deliver(op, out, err);
	}
	sbx_buf_release(&cmd);
	sbx_buf_release(&x.out);
	sbx_buf_release(&x.err);
	return r;
}

/* The stdout of a run with an out stage: inline or by ranges. */
static int take_output(struct xop *op, const char *stage, struct xrun *x, struct sbx_buf *out,
		       bool *left, struct sbx_err *err)
{
	uint64_t len;
	size_t off;
	bool inl;
	int r = sbx_xfer_parse_head(x->out.data ? x->out.data : "", x->out.len, &inl, &len, &off);

	if (r < 0)
		return sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output from the executor",
				   op->what);
	*left = !inl;
	if (!inl)
		return fetch_ranges(op, stage, len, out, err);
	r = take_b64(op, out, x->out.data + off, x->out.len - off, len, err);
	return r ? r : deliver(op, out, err);
}

/* Best-effort removal of what a failed op left in the sandbox. */
static void cleanup(struct xop *op, const char *out_stage, bool out_left)
{
	struct sbx_buf cmd = SBX_BUF_INIT;
	struct xrun x = {0, SBX_BUF_INIT, SBX_BUF_INIT};
	struct sbx_err e;

	if (!op->staged && !out_left)
		return;
	sbx_buf_puts(&cmd, "rm -f");
	if (op->staged) {
		sbx_buf_putc(&cmd, ' ');
		sbx_buf_puts(&cmd, op->in_stage);
		sbx_buf_puts(&cmd, ".*");
	}
	if (out_left) {
		sbx_buf_putc(&cmd, ' ');
		sbx_buf_puts(&cmd, out_stage);
	}
	if (cmd.data && run_cmd(op, cmd.data, &x, &e) < 0)
		sbx_debug("fs: %s: cleanup: %s", op->what, e.msg);
	sbx_buf_release(&cmd);
	sbx_buf_release(&x.out);
	sbx_buf_release(&x.err);
}

/* Prepares stdin: inline when it fits one command (with out_stage, the
 * name the run will use, or NULL), else staged. */
static int prep_in(struct xop *op, struct sbx_xfer_in *in, const char *out_stage,
		   struct sbx_err *err)
{
	ssize_t n;

	memset(in, 0, sizeof(*in));
	if (!op->has_in)
		return 0;
	n = next_chunk(op, SBX_XFER_CHUNK);
	if (n < 0)
		return sbx_err_set(err, (int)n, 0, "%s: reading the data: %s", op->what,
				   strerror((int)-n));
	if ((size_t)n < SBX_XFER_CHUNK) {
		/* the whole stdin: inline, if the command stays short enough */
		struct sbx_buf probe = SBX_BUF_INIT;
		struct sbx_xfer_in t = {op->chunk.data ? op->chunk.data : "", (size_t)n, NULL, 0};
		int r = sbx_xfer_cmd_run(&probe, op->script.data, &t, out_stage);

		sbx_buf_release(&probe);
		if (r == 0) {
			*in = t;
			return 0;
		}
	}
	n = stage_in(op, err);
	if (n < 0)
		return (int)n;
	in->stage = op->in_stage;
	in->n_pieces = op->pieces;
	return 0;
}

/* The script over /run: the result's rc, data, names or flag. */
static void run_script(struct xop *op, struct sbx_fs_result *res)
{
	bool binary = op->sink || op->parse == FS_PARSE_DATA || op->parse == FS_PARSE_NAMES;
	char out_stage[SBX_XFER_STAGE_MAX] = "";
	struct sbx_buf cmd = SBX_BUF_INIT, out = SBX_BUF_INIT;
	struct xrun x = {0, SBX_BUF_INIT, SBX_BUF_INIT};
	struct sbx_xfer_in in;
	bool left = false;
	int r;

	r = binary ? sbx_xfer_stage_name(out_stage, sizeof(out_stage), "out") : 0;
	if (!r)
		r = prep_in(op, &in, binary ? out_stage : NULL, &res->err);
	if (!r)
		r = sbx_xfer_cmd_run(&cmd, op->script.data, &in, binary ? out_stage : NULL);
	if (r < 0 && !res->err.code)
		sbx_err_set(&res->err, r, 0, "%s: %s", op->what,
			    r == -E2BIG ? "script too long for the executor" : strerror(-r));
	if (!r)
		r = run_cmd(op, cmd.data, &x, &res->err);
	op->staged = op->staged && r < 0; /* a run removes its staging file */
	if (!r && x.code != 0)
		r = sbx_fs_errmap((int)x.code, x.err.data, x.err.len, op->what, &res->err);
	else if (!r && binary)
		r = take_output(op, out_stage, &x, &out, &left, &res->err);
	else if (!r)
		r = sbx_buf_append(&out, x.out.data ? x.out.data : "", x.out.len);
	if (!r && !op->sink)
		r = fs_parse_output(op->parse, &out, op->what, res);
	if (r < 0)
		cleanup(op, out_stage, left);
	res->rc = r < 0 ? (res->err.code ? res->err.code : r) : 0;
	sbx_buf_release(&cmd);
	sbx_buf_release(&out);
	sbx_buf_release(&x.out);
	sbx_buf_release(&x.err);
}

/* An executor file error: mapped when known (1: res is the answer), else
 * 0 (fall back to the script). */
static int fast_error(struct xop *op, const char *text, struct sbx_fs_result *res)
{
	int code = sbx_xfer_errno_go(text);

	if (!code || code == -EFBIG || code == -SBX_EIO)
		return 0;
	res->rc =
	    sbx_err_set(&res->err, code, 0, "%s: %s (%.200s)", op->what, strerror(-code), text);
	return 1;
}

/* /read_file: 1 with the answer in res, 0 to fall back to the script. */
static int fast_read(struct xop *op, struct sbx_fs_result *res)
{
	json_object *rep = NULL, *c;
	struct sbx_buf out = SBX_BUF_INIT;
	struct sbx_err e = {0};
	const char *text;
	int done = 0;

	if (post(op, "/read_file", "path", op->fast_path, &rep, &e) < 0 || !rep)
		goto out; /* the script will say what is wrong */
	text = sbx_json_str(rep, "error");
	if (text && *text) {
		done = fast_error(op, text, res);
		goto out;
	}
	c = sbx_json_get(rep, "content"); /* left out for an empty file */
	if (c && !json_object_is_type(c, json_type_string))
		goto out;
	if (c && sbx_buf_append(&out, json_object_get_string(c),
				(size_t)json_object_get_string_len(c)) < 0)
		goto out;
	if (sbx_xfer_has_fffd(out.data ? out.data : "", out.len))
		goto out; /* maybe bytes that were not UTF-8: fetch them exactly */
	done = 1;
	res->rc = deliver(op, &out, &res->err);
	if (!res->rc && !op->sink)
		res->rc = fs_parse_output(FS_PARSE_DATA, &out, op->what, res);
out:
	sbx_json_put(rep);
	sbx_buf_release(&out);
	return done;
}

/* /list_dir: 1 with the answer in res, 0 to fall back to the script. */
static int fast_list(struct xop *op, struct sbx_fs_result *res)
{
	json_object *rep = NULL, *ents;
	struct sbx_buf out = SBX_BUF_INIT;
	struct sbx_err e = {0};
	const char *text;
	size_t i, n = 0;
	int done = 0;

	if (post(op, "/list_dir", "path", op->fast_path, &rep, &e) < 0 || !rep)
		goto out;
	text = sbx_json_str(rep, "error");
	if (text && *text) {
		done = fast_error(op, text, res);
		goto out;
	}
	ents = sbx_json_get(rep, "entries"); /* left out when empty */
	if (ents && !json_object_is_type(ents, json_type_array))
		goto out;
	n = ents ? json_object_array_length(ents) : 0;
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(ents, i);
		size_t len = v ? (size_t)json_object_get_string_len(v) : 0;

		if (!v || !json_object_is_type(v, json_type_string) ||
		    sbx_xfer_has_fffd(json_object_get_string(v), len) ||
		    out.len + len + 1 > SBX_FS_LIST_MAX ||
		    sbx_buf_append(&out, json_object_get_string(v), len + 1) < 0)
			goto out; /* the script gives exact names or the error */
	}
	done = 1;
	res->rc = fs_parse_output(FS_PARSE_NAMES, &out, op->what, res);
out:
	sbx_json_put(rep);
	sbx_buf_release(&out);
	return done;
}

static void *xop_main(void *arg)
{
	struct xop *op = arg;
	struct sbx_fs_result res;
	int done = 0;

	sbx_transport_mark_thread();
	memset(&res, 0, sizeof(res));
	if (op->fast == FS_FAST_READ)
		done = fast_read(op, &res);
	else if (op->fast == FS_FAST_LIST)
		done = fast_list(op, &res);
	if (!done) {
		fs_result_release(&res);
		memset(&res, 0, sizeof(res));
		run_script(op, &res);
	}
	sbx_debug("fs: %s: rc %d (executor%s)", op->what, res.rc, done ? ", shortcut" : "");
	if (op->cb)
		op->cb(op->ud, &res);
	fs_result_release(&res);
	xop_free(op);
	return NULL;
}

/* Copies the spec into a new op. */
static struct xop *xop_new(struct xc *xc, struct fs_spec *s, sbx_fs_cb cb, void *ud)
{
	struct xop *op = calloc(1, sizeof(*op));
	size_t i;
	int r = 0;

	if (!op)
		return NULL;
	op->xc = xc;
	op->script = s->script;
	sbx_buf_init(&s->script);
	sbx_buf_init(&op->in);
	sbx_buf_init(&op->chunk);
	op->parse = s->parse;
	op->out_max = s->out_max;
	op->sink = s->sink;
	op->sink_ud = s->sink_ud;
	op->fast = s->fast_path && s->fast_path[0] == '/' ? s->fast : FS_FAST_NONE;
	if (op->fast != FS_FAST_NONE && !(op->fast_path = strdup(s->fast_path)))
		r = -ENOMEM;
	op->has_in = s->stdin_open || s->iovcnt > 0;
	if (s->stdin_open)
		op->src = s->src;
	for (i = 0; !r && i < s->iovcnt; i++)
		r = sbx_buf_append(&op->in, s->iov[i].iov_base, s->iov[i].iov_len);
	op->cb = cb;
	op->ud = ud;
	memcpy(op->what, s->what, sizeof(op->what));
	if (r < 0) {
		xop_free(op);
		return NULL;
	}
	return op;
}

static int xop_start(struct sbx_sandbox *sb, struct xc *xc, struct fs_spec *s, sbx_fs_cb cb,
		     void *ud, struct sbx_exec **ret_exec, struct sbx_err *err)
{
	struct xop *op;
	int r;

	(void)sb;
	if (ret_exec)
		*ret_exec = NULL; /* no exec to hand out: stdin comes from s->src */
	if (s->stdin_open && !s->src.next)
		return sbx_err_set(err, -SBX_EINVAL, 0, "%s: open stdin without a source", s->what);
	op = xop_new(xc, s, cb, ud);
	if (!op)
		return sbx_err_set(err, -ENOMEM, 0, "%s: out of memory", s->what);
	r = sbx_xthread_start(xop_main, op);
	if (r) {
		xop_free(op);
		return sbx_err_set(err, -r, 0, "%s: cannot start a thread: %s", s->what,
				   strerror(r));
	}
	return 0;
}

const struct fs_transport fs_tp_executor = {.name = "executor", .start = xop_start};
