/* fs_async.c - runs one filesystem script over an asynchronous exec (the
 * fs_tp_exec transport), and fs_op_start(), which picks the transport; see
 * fs_op.h.
 *
 * Lifetime of an op: two references, one held by the starter until
 * fs_op_start() returns, one by the exec until on_done. Callbacks may run on
 * the transport thread before sbx_exec_start() has returned, so the exec
 * handle is published under op->mu, and a callback that must cancel before
 * it is known leaves cancel_pending for the starter. Nothing touches the op
 * after sbx_exec_cancel(): the exec may deliver on_done from inside it.
 *
 * Threads: out, errb and everything the callbacks alone use are touched on
 * the transport thread only (callbacks of one client never run
 * concurrently); fields under "guarded by mu" are shared with the starter.
 */
#include "fs_op.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_priv.h"
#include "exec/transport.h"
#include "exec/ws.h"
#include "script.h"
#include "util/log.h"

struct fs_op {
	pthread_mutex_t mu;
	int refs;			 /* guarded by mu */
	struct sbx_exec *exec;		 /* guarded by mu; a reference */
	bool cancel_pending;		 /* guarded by mu */
	int local_rc;			 /* guarded by mu; overrides the outcome */
	char local_msg[SBX_ERR_MSG_MAX]; /* guarded by mu */

	struct sbx_buf script; /* kept until done: the exec may borrow it */
	struct sbx_buf out;    /* collected stdout, at most out_max bytes */
	struct sbx_buf errb;   /* stderr, at most SBX_FS_STDERR_MAX bytes */
	enum fs_parse parse;
	size_t out_max;
	int (*sink)(void *sink_ud, const char *data, size_t n);
	void *sink_ud;
	sbx_fs_cb cb;
	void *ud;
	char what[SBX_FS_WHAT_MAX];
};

void fs_spec_init(struct fs_spec *s, const char *verb, const char *a, const char *b)
{
	memset(s, 0, sizeof(*s));
	sbx_buf_init(&s->script);
	sbx_fs_describe(s->what, sizeof(s->what), verb, a, b);
}

void fs_spec_release(struct fs_spec *s)
{
	sbx_buf_release(&s->script);
}

void fs_result_release(struct sbx_fs_result *res)
{
	free(res->data);
	res->data = NULL;
	res->len = 0;
	sbx_strv_free(res->names);
	res->names = NULL;
	res->n_names = 0;
}

static void op_unref(struct fs_op *op)
{
	struct sbx_exec *e;
	int left;

	pthread_mutex_lock(&op->mu);
	left = --op->refs;
	pthread_mutex_unlock(&op->mu);
	if (left)
		return;
	e = op->exec;
	sbx_buf_release(&op->script);
	sbx_buf_release(&op->out);
	sbx_buf_release(&op->errb);
	pthread_mutex_destroy(&op->mu);
	free(op);
	if (e)
		sbx_exec_unref(e);
}

/* Records a local failure (the first one wins) and cancels the exec. The
 * caller must not touch op afterwards unless it holds a reference. */
__attribute__((format(printf, 3, 4))) static void op_fail(struct fs_op *op, int rc, const char *fmt,
							  ...)
{
	struct sbx_exec *e = NULL;
	va_list ap;

	pthread_mutex_lock(&op->mu);
	if (!op->local_rc) {
		op->local_rc = rc;
		va_start(ap, fmt);
		vsnprintf(op->local_msg, sizeof(op->local_msg), fmt, ap);
		va_end(ap);
		if (op->exec)
			e = sbx_exec_ref(op->exec);
		else
			op->cancel_pending = true;
	}
	pthread_mutex_unlock(&op->mu);
	if (e) {
		sbx_exec_cancel(e);
		sbx_exec_unref(e);
	}
}

static bool op_failed(struct fs_op *op)
{
	bool f;

	pthread_mutex_lock(&op->mu);
	f = op->local_rc != 0;
	pthread_mutex_unlock(&op->mu);
	return f;
}

static void on_stdout(void *ud, const char *data, size_t n)
{
	struct fs_op *op = ud;
	int r;

	if (!n || (op->parse == FS_PARSE_NONE && !op->sink) || op_failed(op))
		return;
	if (op->sink) {
		r = op->sink(op->sink_ud, data, n);
		if (r < 0)
			op_fail(op, r, "%s: %s", op->what, strerror(-r));
		return;
	}
	if (n > op->out_max - op->out.len) {
		op_fail(op, -EFBIG, "%s: output larger than %zu bytes", op->what, op->out_max);
		return;
	}
	if (sbx_buf_append(&op->out, data, n) < 0)
		op_fail(op, -ENOMEM, "%s: out of memory", op->what);
}

static void on_stderr(void *ud, const char *data, size_t n)
{
	struct fs_op *op = ud;
	size_t room = SBX_FS_STDERR_MAX - op->errb.len;

	if (n > room)
		n = room;
	if (n && sbx_buf_append(&op->errb, data, n) < 0)
		sbx_debug("fs: %s: stderr dropped (out of memory)", op->what);
}

int fs_parse_output(enum fs_parse parse, struct sbx_buf *out, const char *what,
		    struct sbx_fs_result *res)
{
	int r = 0;

	switch (parse) {
	case FS_PARSE_NONE: return 0;
	case FS_PARSE_DATA:
		res->data = sbx_buf_detach(out, &res->len);
		r = res->data ? 0 : -ENOMEM;
		break;
	case FS_PARSE_NAMES:
		r = sbx_fs_parse_names(out->data ? out->data : "", out->len, &res->names,
				       &res->n_names);
		break;
	case FS_PARSE_FLAG:
		r = sbx_fs_parse_flag(out->data ? out->data : "", out->len, &res->flag);
		break;
	}
	if (r < 0)
		sbx_err_set(&res->err, r, 0, "%s: %s", what,
			    r == -SBX_EPROTO ? "unexpected output from the sandbox" : strerror(-r));
	return r;
}

static void on_done(void *ud, const struct sbx_exec_result *r)
{
	struct fs_op *op = ud;
	struct sbx_fs_result res;
	int local;

	memset(&res, 0, sizeof(res));
	pthread_mutex_lock(&op->mu);
	local = op->local_rc;
	if (local)
		sbx_err_set(&res.err, local, 0, "%s", op->local_msg);
	pthread_mutex_unlock(&op->mu);
	if (local)
		res.rc = local;
	else if (r->error == 0 && r->status == SBX_EXEC_FINISHED && r->exit_code == 0)
		res.rc = fs_parse_output(op->parse, &op->out, op->what, &res);
	else
		res.rc = sbx_fs_errmap_exec(r, op->errb.data, op->errb.len, op->what, &res.err);
	sbx_debug("fs: %s: rc %d", op->what, res.rc);
	if (op->cb)
		op->cb(op->ud, &res);
	fs_result_release(&res);
	op_unref(op);
}

static struct fs_op *op_new(struct fs_spec *s, sbx_fs_cb cb, void *ud)
{
	struct fs_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	pthread_mutex_init(&op->mu, NULL);
	op->refs = 2;
	op->script = s->script;
	sbx_buf_init(&s->script);
	sbx_buf_init(&op->out);
	sbx_buf_init(&op->errb);
	op->parse = s->parse;
	op->out_max = s->out_max;
	op->sink = s->sink;
	op->sink_ud = s->sink_ud;
	op->cb = cb;
	op->ud = ud;
	memcpy(op->what, s->what, sizeof(op->what));
	return op;
}

/* Writes the spec's stdin (the exec copies it) and closes it unless the
 * caller feeds it. -EPIPE means the command is already gone: on_done will
 * tell why, so only other failures are recorded. */
static void feed_stdin(struct fs_op *op, struct sbx_exec *e, const struct fs_spec *s)
{
	size_t i;
	int r = 0;

	for (i = 0; !r && i < s->iovcnt; i++)
		if (s->iov[i].iov_len)
			r = sbx_exec_write_stdin(e, s->iov[i].iov_base, s->iov[i].iov_len);
	if (r < 0 && r != -EPIPE)
		op_fail(op, r, "%s: writing stdin: %s", op->what, strerror(-r));
	if (!s->stdin_open)
		sbx_exec_close_stdin(e);
}

static int exec_start(struct sbx_sandbox *sb, struct xc *xc, struct fs_spec *s, sbx_fs_cb cb,
		      void *ud, struct sbx_exec **ret_exec, struct sbx_err *err)
{
	static const struct sbx_exec_cbs cbs = {
	    .on_stdout = on_stdout, .on_stderr = on_stderr, .on_done = on_done};
	struct sbx_exec_opts opts;
	struct sbx_exec *e = NULL;
	struct fs_op *op;
	bool cancel;
	int r;

	(void)xc;
	op = op_new(s, cb, ud);
	if (!op)
		return sbx_err_set(err, -ENOMEM, 0, "%s: out of memory", s->what);
	memset(&opts, 0, sizeof(opts));
	opts.command = op->script.data;
	opts.stdin_open = s->stdin_open || s->iovcnt > 0;
	r = sbx_exec_start(sb, &opts, &cbs, op, &e, err);
	if (r < 0) {
		op->refs = 1;
		op_unref(op);
		return r;
	}
	pthread_mutex_lock(&op->mu);
	op->exec = sbx_exec_ref(e);
	cancel = op->cancel_pending;
	pthread_mutex_unlock(&op->mu);
	if (opts.stdin_open)
		feed_stdin(op, e, s);
	if (cancel)
		sbx_exec_cancel(e);
	if (ret_exec)
		*ret_exec = e;
	else
		sbx_exec_unref(e);
	op_unref(op);
	return 0;
}

const struct fs_transport fs_tp_exec = {.name = "websocket", .start = exec_start};

/* A primitive that moves much data: streamed stdin or stdout (upload,
 * download), or more than FS_BULK_MIN bytes of stdin (transport.h). */
static bool fs_is_bulk(const struct fs_spec *s)
{
	size_t n = 0, i;

	if (s->stdin_open || s->sink)
		return true;
	for (i = 0; i < s->iovcnt; i++)
		n += s->iov[i].iov_len;
	return n > FS_BULK_MIN;
}

int fs_op_start(struct sbx_sandbox *sb, struct fs_spec *s, sbx_fs_cb cb, void *ud,
		struct sbx_exec **ret_exec, struct sbx_err *err)
{
	const struct fs_transport *tp = &fs_tp_exec;
	struct xc *xc = NULL;
	int t;

	if (ret_exec)
		*ret_exec = NULL;
	if (!sb)
		return sbx_err_set(err, -SBX_EINVAL, 0, "%s: no sandbox", s->what);
	/* a synchronous form waiting on the transport thread would wait forever */
	if (cb == fs_wait_cb && sbx_transport_in_callback(sb))
		return sbx_err_set(err, -EDEADLK, 0, "%s: synchronous call from an exec callback",
				   s->what);
	t = sbx_transport_pick(sb, fs_is_bulk(s) ? SBX_TP_FS_BULK : SBX_TP_FS, &xc, err);
	if (t < 0)
		return t;
	if (t == SBX_TRANSPORT_EXECUTOR)
		tp = &fs_tp_executor;
	sbx_debug("fs: %s over the %s", s->what, tp->name);
	return tp->start(sb, xc, s, cb, ud, ret_exec, err);
}

int fs_start(struct sbx_sandbox *sb, struct fs_spec *s, int build_rc, sbx_fs_cb cb, void *ud,
	     struct sbx_exec **ret_exec, struct sbx_err *err)
{
	int r;

	switch (build_rc) {
	case 0: r = fs_op_start(sb, s, cb, ud, ret_exec, err); break;
	case -SBX_EINVAL:
		r = sbx_err_set(err, build_rc, 0, "%s: missing or empty path (or NULL data)",
				s->what);
		break;
	case -ENAMETOOLONG:
		r = sbx_err_set(err, build_rc, 0, "%s: path longer than %d bytes", s->what,
				SBX_FS_PATH_MAX);
		break;
	case -E2BIG:
		r = sbx_err_set(err, build_rc, 0, "%s: script larger than %d bytes", s->what,
				SBX_FS_SCRIPT_MAX);
		break;
	default: r = sbx_err_set(err, build_rc, 0, "%s: %s", s->what, strerror(-build_rc)); break;
	}
	fs_spec_release(s);
	return r;
}

void fs_wait_init(struct fs_wait *w)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->done = false;
	memset(&w->res, 0, sizeof(w->res));
}

void fs_wait_cb(void *ud, struct sbx_fs_result *res)
{
	struct fs_wait *w = ud;

	pthread_mutex_lock(&w->mu);
	w->res = *res;
	res->data = NULL;
	res->names = NULL;
	w->done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

bool fs_wait_timed(struct fs_wait *w, long ms)
{
	struct timespec ts;
	bool done;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	if (!w->done)
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	done = w->done;
	pthread_mutex_unlock(&w->mu);
	return done;
}

static bool is_conn_error(int rc)
{
	return rc == -SBX_ECONN || rc == -ECONNREFUSED || rc == -ECONNRESET || rc == -EPIPE ||
	       rc == -SBX_ETIMEDOUT;
}

/* After a connection failure, one status read tells whether the sandbox is
 * the cause; the seed SDK's per-call pre-flight would cost a round trip on
 * every call instead. Returns rc, or -SBX_ENOTHEALTHY (and err updated). */
static int check_health(struct sbx_sandbox *sb, int rc, struct sbx_err *err)
{
	char prev[SBX_ERR_MSG_MAX];
	enum sbx_status st;
	int r;

	if (!is_conn_error(rc) || !sb)
		return rc;
	r = sbx_sandbox_status(sb, &st, NULL);
	memcpy(prev, err->msg, sizeof(prev));
	if (r == 0 && st != SBX_STATUS_HEALTHY)
		rc = sbx_err_set(err, -SBX_ENOTHEALTHY, 0, "%.400s (sandbox is %s)", prev,
				 sbx_status_name(st));
	else if (r == -SBX_ENOTFOUND)
		rc = sbx_err_set(err, -SBX_ENOTHEALTHY, 0, "%.400s (sandbox not found)", prev);
	return rc;
}

int fs_wait_finish(struct fs_wait *w, struct sbx_sandbox *sb, int start_rc, struct sbx_err *err)
{
	struct sbx_err local;

	if (start_rc < 0) {
		if (!err) {
			memset(&local, 0, sizeof(local));
			err = &local;
		}
		return check_health(sb, start_rc, err);
	}
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	if (w->res.rc < 0) {
		w->res.rc = check_health(sb, w->res.rc, &w->res.err);
		if (err)
			*err = w->res.err;
	}
	return w->res.rc;
}

void fs_wait_release(struct fs_wait *w)
{
	fs_result_release(&w->res);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}
