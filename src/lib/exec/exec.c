/* exec.c - commands in a sandbox: the exec.h API over the ws.h transport,
 * or over the sandbox's executor (exec_x.h) when transport.h picks it.
 *
 * One struct sbx_exec per command. Its mutable state is protected by the
 * client's lock (c->lock): the reference count, the session pointer (NULL
 * once the session is over), the stdin queue and the stdin flags. Fields
 * marked "transport" are only touched by the transport thread, in the
 * session callbacks below; fields marked "fixed" never change after start.
 *
 * Frames go out as the socket becomes writable, one at a time: the first
 * frame, then stdin chunks of at most SBX_FRAME_STDIN_MAX bytes (from the
 * caller's buffer in the synchronous form, without copying it, or from the
 * queue of sbx_exec_write_stdin), then the close frame once stdin ends.
 *
 * The end of a session (protocol §3.4) is decided in on_closed: `exited`
 * gives FINISHED/FAILED with the code; an error frame is a failure with its
 * mapped errno; the deadline gives TIMEOUT; a cancel gives KILLED; anything
 * else (a close or a drop before `exited`) is -SBX_ECONN, never a success.
 * on_done is called exactly once, from on_closed, which the transport calls
 * exactly once. The transport holds one reference until then.
 *
 * Over the executor (e->xc set) there is no session: exec_x.c runs the
 * command on a thread of its own and calls x_end exactly once, which plays
 * on_closed's part; stdin is closed from the start and cancel is a flag the
 * stream polls (x_running and cancelled under c->lock).
 */
#include "sbx/exec.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sandbox_priv.h"
#include "client_priv.h"
#include "exec/frames.h"
#include "exec/exec_x.h"
#include "exec/script.h"
#include "exec/transport.h"
#include "exec/ws.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Bytes sbx_exec_write_stdin may queue before refusing with -ENOBUFS. */
#define STDIN_QUEUE_MAX (256u << 20)
/* Bytes the synchronous form collects per stream. */
#define CAPTURE_MAX (1ull << 30)

struct sbx_exec {
	struct sbx_client *c;	 /* fixed */
	char *instance_id;	 /* fixed */
	char **argv;		 /* fixed */
	size_t argc;		 /* fixed */
	struct sbx_exec_cbs cbs; /* fixed */
	void *ud;		 /* fixed */
	const char *stdin_src;	 /* fixed: sync form, borrowed */
	size_t stdin_len;	 /* fixed */
	bool stdin_open;	 /* fixed: write_stdin allowed */
	int64_t start_ms;	 /* fixed */
	double timeout_s;	 /* fixed */
	bool tty;		 /* fixed: on a terminal */
	unsigned rows, cols;	 /* c->lock: the terminal size to send */
	bool resize_pending;	 /* c->lock */

	int refs;		   /* c->lock */
	struct sbx_wsc_sess *sess; /* c->lock: NULL once over */
	struct sbx_buf q;	   /* c->lock: queued stdin */
	size_t q_off;		   /* c->lock: sent part of q */
	size_t src_off;		   /* c->lock: sent part of stdin_src */
	bool stdin_eof;		   /* c->lock: no more stdin */
	bool cancelled;		   /* c->lock */
	struct xc *xc;		   /* fixed: the executor's client, or NULL */
	bool x_running;		   /* c->lock: the executor's command is on */

	bool first_sent, close_sent;	    /* transport */
	bool exited, have_code;		    /* transport */
	int exit_code;			    /* transport */
	bool remote_failed;		    /* transport: an error frame came */
	int remote_code;		    /* transport */
	int local_err;			    /* transport: a frame we could not use */
	int http_status;		    /* transport: of a refused handshake */
	char remote_msg[SBX_FRAME_MSG_MAX]; /* transport */
	struct sbx_frame_in fin;	    /* transport: scratch */
};

const char *sbx_exec_status_name(enum sbx_exec_status s)
{
	switch (s) {
	case SBX_EXEC_FINISHED: return "finished";
	case SBX_EXEC_FAILED: return "failed";
	case SBX_EXEC_TIMEOUT: return "timeout";
	case SBX_EXEC_KILLED: return "killed";
	}
	return "failed";
}

void sbx_exec_result_release(struct sbx_exec_result *r)
{
	if (!r)
		return;
	free(r->stdout_data);
	free(r->stderr_data);
	r->stdout_data = r->stderr_data = NULL;
	r->stdout_len = r->stderr_len = 0;
}

static void exec_destroy(struct sbx_exec *e)
{
	free(e->instance_id);
	sbx_exec_argv_free(e->argv);
	sbx_buf_release(&e->q);
	sbx_frame_in_release(&e->fin);
	free(e);
}

struct sbx_exec *sbx_exec_ref(struct sbx_exec *e)
{
	pthread_mutex_lock(&e->c->lock);
	e->refs++;
	pthread_mutex_unlock(&e->c->lock);
	return e;
}

void sbx_exec_unref(struct sbx_exec *e)
{
	bool last;

	if (!e)
		return;
	pthread_mutex_lock(&e->c->lock);
	last = --e->refs == 0;
	pthread_mutex_unlock(&e->c->lock);
	if (last)
		exec_destroy(e);
}

/* ---- session callbacks (transport thread) ---- */

/* Appends the next frame to out; c->lock held. 1 if one was made. */
static int next_frame_locked(struct sbx_exec *e, struct sbx_buf *out)
{
	const char *const *av = (const char *const *)e->argv;
	size_t n;
	int r;

	if (!e->first_sent) {
		e->first_sent = true;
		e->resize_pending = false;
		r = e->tty ? sbx_frame_first_tty(out, e->instance_id, av, e->argc, e->rows, e->cols)
			   : sbx_frame_first(out, e->instance_id, av, e->argc);
	} else if (e->resize_pending) {
		e->resize_pending = false;
		r = sbx_frame_resize(out, e->rows, e->cols);
	} else if (e->src_off < e->stdin_len) {
		n = e->stdin_len - e->src_off;
		n = n < SBX_FRAME_STDIN_MAX ? n : SBX_FRAME_STDIN_MAX;
		r = sbx_frame_stdin(out, e->instance_id, av, e->argc, e->stdin_src + e->src_off, n);
		e->src_off += n;
	} else if (e->q_off < e->q.len) {
		n = e->q.len - e->q_off;
		n = n < SBX_FRAME_STDIN_MAX ? n : SBX_FRAME_STDIN_MAX;
		r = sbx_frame_stdin(out, e->instance_id, av, e->argc, e->q.data + e->q_off, n);
		e->q_off += n;
		if (e->q_off == e->q.len) {
			sbx_buf_reset(&e->q);
			e->q_off = 0;
		} else if (e->q_off > (1u << 20) && e->q_off > e->q.len / 2) {
			sbx_buf_consume(&e->q, e->q_off);
			e->q_off = 0;
		}
	} else if (e->stdin_eof && !e->close_sent) {
		e->close_sent = true;
		r = sbx_frame_stdin_close(out, e->instance_id, av, e->argc);
	} else {
		return 0;
	}
	return r < 0 ? r : 1;
}

static int on_writable(void *ud, struct sbx_buf *out)
{
	struct sbx_exec *e = ud;
	size_t before, after;
	int r;

	pthread_mutex_lock(&e->c->lock);
	before = e->q.len - e->q_off;
	r = next_frame_locked(e, out);
	after = e->q.len - e->q_off;
	pthread_mutex_unlock(&e->c->lock);
	if (after < before && e->cbs.on_stdin_sent)
		e->cbs.on_stdin_sent(e->ud, after);
	return r;
}

static int on_message(void *ud, const char *data, size_t n)
{
	struct sbx_exec *e = ud;
	struct sbx_frame_in *f = &e->fin;
	int r;

	sbx_frame_in_reset(f);
	r = sbx_frame_decode(data, n, f);
	if (r < 0) {
		e->local_err = r;
		return r;
	}
	if (f->is_error) {
		e->remote_failed = true;
		e->remote_code = f->error_code;
		memcpy(e->remote_msg, f->error_msg, sizeof(e->remote_msg));
		return sbx_frame_grpc_errno(f->error_code);
	}
	/* data before exit (protocol §3.3) */
	if (f->out.len && e->cbs.on_stdout)
		e->cbs.on_stdout(e->ud, f->out.data, f->out.len);
	if (f->err.len && e->cbs.on_stderr)
		e->cbs.on_stderr(e->ud, f->err.data, f->err.len);
	if (f->has_code) {
		e->have_code = true;
		e->exit_code = f->exit_code;
	}
	if (!f->exited)
		return 0;
	e->exited = true;
	return 1;
}

/* The outcome, from what the session saw and how it ended. */
static void outcome(struct sbx_exec *e, int err, const char *msg, struct sbx_exec_result *r)
{
	memset(r, 0, sizeof(*r));
	r->duration_s = (double)(sbx_now_ms() - e->start_ms) / 1000;
	if (e->exited) {
		r->exit_code = e->exit_code;
		r->status = e->exit_code == 0 ? SBX_EXEC_FINISHED : SBX_EXEC_FAILED;
		return;
	}
	r->status = SBX_EXEC_FAILED;
	r->exit_code = -1;
	if (e->remote_failed) {
		r->error = sbx_frame_grpc_errno(e->remote_code);
		snprintf(r->message, sizeof(r->message), "server failure: %s (code %d)",
			 e->remote_msg, e->remote_code);
	} else if (e->local_err) {
		r->error = e->local_err;
		snprintf(r->message, sizeof(r->message), "unexpected exec message from the server");
	} else if (err == -SBX_ETIMEDOUT) {
		r->status = SBX_EXEC_TIMEOUT;
		r->error = err;
		snprintf(r->message, sizeof(r->message), "command timed out after %g s",
			 e->timeout_s);
	} else if (err == -SBX_ECANCELED) {
		r->status = SBX_EXEC_KILLED;
		r->error = err;
		snprintf(r->message, sizeof(r->message), "command cancelled (%s)", msg);
	} else {
		r->error = err < 0 ? err : -SBX_ECONN;
		snprintf(r->message, sizeof(r->message), "%s",
			 err < 0 ? msg : "connection closed before the command exited");
	}
}

static void on_closed(void *ud, int err, int http_status, const char *msg)
{
	struct sbx_exec *e = ud;
	struct sbx_exec_result r;

	outcome(e, err, msg, &r);
	e->http_status = http_status;
	pthread_mutex_lock(&e->c->lock);
	e->sess = NULL;
	e->stdin_eof = true;
	sbx_buf_release(&e->q);
	e->q_off = 0;
	pthread_mutex_unlock(&e->c->lock);
	sbx_debug("exec %p: %s, code %d, error %d (%s), HTTP %d", (void *)e,
		  sbx_exec_status_name(r.status), r.exit_code, r.error, r.message, http_status);
	if (e->cbs.on_done)
		e->cbs.on_done(e->ud, &r);
	sbx_exec_unref(e); /* the transport's reference */
}

static const struct sbx_wsc_ops exec_ops = {
    .on_message = on_message,
    .on_writable = on_writable,
    .on_closed = on_closed,
};

/* ---- over the executor (exec_x.h's thread) ---- */

static void x_output(void *ud, bool is_stderr, const char *data, size_t n)
{
	struct sbx_exec *e = ud;

	if (is_stderr && e->cbs.on_stderr)
		e->cbs.on_stderr(e->ud, data, n);
	else if (!is_stderr && e->cbs.on_stdout)
		e->cbs.on_stdout(e->ud, data, n);
}

static bool x_cancelled(void *ud)
{
	struct sbx_exec *e = ud;
	bool c;

	pthread_mutex_lock(&e->c->lock);
	c = e->cancelled;
	pthread_mutex_unlock(&e->c->lock);
	return c;
}

static void x_end(void *ud, const struct sbx_exec_result *r)
{
	struct sbx_exec *e = ud;

	pthread_mutex_lock(&e->c->lock);
	e->x_running = false;
	pthread_mutex_unlock(&e->c->lock);
	if (e->cbs.on_done)
		e->cbs.on_done(e->ud, r);
	sbx_exec_unref(e); /* the executor thread's reference */
}

static int x_start(struct sbx_exec *e, struct xc *xc, struct sbx_err *err)
{
	static const struct exec_x_ops ops = {
	    .on_output = x_output, .cancelled = x_cancelled, .on_end = x_end};
	struct sbx_buf cmd = SBX_BUF_INIT;
	int r = sbx_exec_x_cmd(e->argv, e->argc, &cmd);

	if (r < 0) {
		sbx_buf_release(&cmd);
		return sbx_err_set(err, r, 0, "exec: %s",
				   r == -E2BIG ? "command longer than the executor takes"
					       : strerror(-r));
	}
	e->xc = xc;
	e->x_running = true;
	e->stdin_eof = true;
	r = sbx_exec_x_start(xc, cmd.data, e->timeout_s, &ops, e, err);
	sbx_buf_release(&cmd);
	return r;
}

/* ---- starting ---- */

/* Starts an exec. src/len: stdin of the synchronous form (borrowed until
 * on_done), or NULL; stdin_open: the asynchronous form's stdin_open. */
static int exec_start(struct sbx_sandbox *sb, const struct sbx_exec_opts *o,
		      const struct sbx_exec_cbs *cbs, void *ud, const void *src, size_t len,
		      bool stdin_open, struct sbx_exec **ret, struct sbx_err *err)
{
	struct sbx_client *c = sbx_sandbox_client(sb);
	struct sbx_buf path = SBX_BUF_INIT;
	bool needs_stdin = stdin_open || o->tty || (src && len);
	struct sbx_exec *e;
	struct xc *xc = NULL;
	int64_t deadline = 0;
	int r, t;

	t = sbx_transport_pick(sb, needs_stdin ? SBX_TP_EXEC_STDIN : SBX_TP_EXEC, &xc, err);
	if (t < 0)
		return t;
	e = calloc(1, sizeof(*e));
	if (!e)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	e->c = c;
	e->refs = 2; /* the caller's and the transport's */
	r = sbx_exec_build_argv(o, &e->argv, &e->argc, err);
	if (r < 0)
		goto fail;
	if (cbs)
		e->cbs = *cbs;
	e->ud = ud;
	e->timeout_s = o->timeout_s > 0 ? o->timeout_s : 0;
	e->start_ms = sbx_now_ms();
	if (t == SBX_TRANSPORT_EXECUTOR) {
		r = x_start(e, xc, err);
		if (r < 0)
			goto fail;
		*ret = e;
		return 0;
	}
	r = sbx_sandbox_instance_copy(sb, &e->instance_id, err);
	if (r < 0)
		goto fail;
	e->stdin_src = src;
	e->stdin_len = src ? len : 0;
	e->stdin_open = stdin_open;
	e->stdin_eof = !stdin_open;
	e->tty = o->tty && stdin_open; /* the asynchronous form only */
	if (e->tty && o->tty_rows && o->tty_cols) {
		e->rows = o->tty_rows;
		e->cols = o->tty_cols;
	}
	if (e->timeout_s > 0)
		deadline = e->start_ms + (int64_t)(e->timeout_s * 1000);
	r = sbx_buf_printf(&path, "/v1/streams/instances/exec?id=%s", e->instance_id);
	if (r < 0) {
		sbx_err_set(err, r, 0, "out of memory");
		goto fail;
	}
	/* under c->lock, so that on_closed cannot run before e->sess is set */
	pthread_mutex_lock(&c->lock);
	r = sbx_wsc_open(c->ws, path.data, deadline, &exec_ops, e, &e->sess);
	pthread_mutex_unlock(&c->lock);
	sbx_buf_release(&path);
	if (r < 0) {
		sbx_err_set(err, r, 0, "cannot start the exec session");
		goto fail;
	}
	*ret = e;
	return 0;
fail:
	exec_destroy(e);
	return r;
}

int sbx_exec_start(struct sbx_sandbox *sb, const struct sbx_exec_opts *opts,
		   const struct sbx_exec_cbs *cbs, void *ud, struct sbx_exec **ret,
		   struct sbx_err *err)
{
	if (!sb || !opts || !ret)
		return sbx_err_set(err, -SBX_EINVAL, 0, "exec: missing argument");
	return exec_start(sb, opts, cbs, ud, NULL, 0, opts->stdin_open, ret, err);
}

int sbx_exec_write_stdin(struct sbx_exec *e, const void *data, size_t n)
{
	int r = 0;

	pthread_mutex_lock(&e->c->lock);
	if (!e->stdin_open || e->stdin_eof || !e->sess)
		r = -EPIPE;
	else if (n > STDIN_QUEUE_MAX - (e->q.len - e->q_off))
		r = -ENOBUFS;
	else if (n) {
		/* the part already sent goes before the buffer grows for it */
		if (e->q_off && e->q.len + n >= e->q.cap) {
			sbx_buf_consume(&e->q, e->q_off);
			e->q_off = 0;
		}
		r = sbx_buf_append(&e->q, data, n);
	}
	if (r == 0 && n)
		sbx_wsc_want_write(e->sess);
	pthread_mutex_unlock(&e->c->lock);
	return r;
}

int sbx_exec_close_stdin(struct sbx_exec *e)
{
	pthread_mutex_lock(&e->c->lock);
	if (!e->stdin_eof) {
		e->stdin_eof = true;
		if (e->sess)
			sbx_wsc_want_write(e->sess);
	}
	pthread_mutex_unlock(&e->c->lock);
	return 0;
}

int sbx_exec_cancel(struct sbx_exec *e)
{
	pthread_mutex_lock(&e->c->lock);
	if (e->xc && e->x_running) {
		e->cancelled = true; /* the stream sees it at its next event */
	} else if (e->sess && !e->cancelled) {
		e->cancelled = true;
		sbx_wsc_close(e->sess, -SBX_ECANCELED, "cancelled by the caller");
	}
	pthread_mutex_unlock(&e->c->lock);
	return 0;
}

int sbx_exec_resize(struct sbx_exec *e, unsigned short rows, unsigned short cols)
{
	int r = 0;

	if (!e->tty || !rows || !cols)
		return -EINVAL;
	pthread_mutex_lock(&e->c->lock);
	if (!e->sess) {
		r = -EPIPE;
	} else {
		e->rows = rows;
		e->cols = cols;
		e->resize_pending = true;
		sbx_wsc_want_write(e->sess);
	}
	pthread_mutex_unlock(&e->c->lock);
	return r;
}

size_t sbx_exec_stdin_pending(struct sbx_exec *e)
{
	size_t n;

	pthread_mutex_lock(&e->c->lock);
	n = (e->q.len - e->q_off) + (e->stdin_len - e->src_off);
	pthread_mutex_unlock(&e->c->lock);
	return n;
}

/* ---- the synchronous form ---- */

struct sync_ctx {
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool done; /* m */
	const struct sbx_exec_cbs *user;
	void *user_ud;
	bool capture, overflow;
	bool got_data;		    /* transport, then the waiter after done */
	struct sbx_buf out, err;    /* same */
	struct sbx_exec_result res; /* same */
};

static void capture(struct sync_ctx *s, struct sbx_buf *b, const char *d, size_t n)
{
	s->got_data = true;
	if (!s->capture || s->overflow)
		return;
	if (n > CAPTURE_MAX - b->len || sbx_buf_append(b, d, n) < 0)
		s->overflow = true;
}

static void sync_stdout(void *ud, const char *d, size_t n)
{
	struct sync_ctx *s = ud;

	capture(s, &s->out, d, n);
	if (s->user && s->user->on_stdout)
		s->user->on_stdout(s->user_ud, d, n);
}

static void sync_stderr(void *ud, const char *d, size_t n)
{
	struct sync_ctx *s = ud;

	capture(s, &s->err, d, n);
	if (s->user && s->user->on_stderr)
		s->user->on_stderr(s->user_ud, d, n);
}

static void sync_done(void *ud, const struct sbx_exec_result *r)
{
	struct sync_ctx *s = ud;

	s->res = *r;
	if (s->user && s->user->on_done)
		s->user->on_done(s->user_ud, r);
	pthread_mutex_lock(&s->m);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->m); /* s may be gone after this */
}

/* Moves the collected output into r. */
static void sync_collect(struct sync_ctx *s, struct sbx_exec_result *r)
{
	*r = s->res;
	r->stdout_data = r->stderr_data = NULL;
	if (!s->capture)
		return;
	r->stdout_data = sbx_buf_detach(&s->out, &r->stdout_len);
	r->stderr_data = sbx_buf_detach(&s->err, &r->stderr_len);
	if (s->overflow || !r->stdout_data || !r->stderr_data) {
		if (!r->error) {
			r->error = -EFBIG;
			snprintf(r->message, sizeof(r->message),
				 "output too large to collect (use no_capture and callbacks)");
		}
	}
}

/* One synchronous attempt. *got_data tells whether any output arrived. */
static int run_once(struct sbx_sandbox *sb, const struct sbx_exec_opts *opts,
		    const struct sbx_exec_cbs *cbs, void *ud, struct sbx_exec_result *r,
		    struct sbx_err *err, bool *got_data)
{
	struct sync_ctx s = {.user = cbs, .user_ud = ud};
	struct sbx_exec_cbs mine = {
	    .on_stdout = sync_stdout, .on_stderr = sync_stderr, .on_done = sync_done};
	struct sbx_exec *e = NULL;
	struct sbx_err local = {0};
	int rc;

	s.capture = !opts->no_capture;
	pthread_mutex_init(&s.m, NULL);
	pthread_cond_init(&s.cv, NULL);
	/* opts->stdin_data is borrowed until the session ends: we wait for it */
	rc = exec_start(sb, opts, &mine, &s, opts->stdin_data, opts->stdin_len, false, &e, &local);
	if (rc == 0) {
		pthread_mutex_lock(&s.m);
		while (!s.done)
			pthread_cond_wait(&s.cv, &s.m);
		pthread_mutex_unlock(&s.m);
		sync_collect(&s, r);
		rc = r->error;
		if (rc < 0)
			sbx_err_set(err, rc, e->http_status, "%s", r->message);
		sbx_exec_unref(e);
	} else {
		r->error = rc;
		snprintf(r->message, sizeof(r->message), "%s", local.msg);
		sbx_err_set(err, rc, local.http_status, "%s", local.msg);
	}
	*got_data = s.got_data;
	sbx_buf_release(&s.out);
	sbx_buf_release(&s.err);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.m);
	return rc;
}

/* A failed result with nothing collected. */
static void result_init(struct sbx_exec_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = SBX_EXEC_FAILED;
	r->exit_code = -1;
}

/* true when the sandbox's instance id changed after a refresh. */
static bool instance_replaced(struct sbx_sandbox *sb)
{
	char *before = NULL, *after = NULL;
	bool changed = false;

	if (sbx_sandbox_instance_copy(sb, &before, NULL) == 0 &&
	    sbx_sandbox_refresh(sb, NULL) == 0 && sbx_sandbox_instance_copy(sb, &after, NULL) == 0)
		changed = strcmp(before, after) != 0;
	free(before);
	free(after);
	return changed;
}

int sbx_exec_run(struct sbx_sandbox *sb, const struct sbx_exec_opts *opts,
		 const struct sbx_exec_cbs *cbs, void *ud, struct sbx_exec_result *r,
		 struct sbx_err *err)
{
	bool got_data = false;
	int rc;

	result_init(r);
	if (!sb || !opts)
		return r->error = sbx_err_set(err, -SBX_EINVAL, 0, "exec: missing argument");
	if (sbx_transport_in_callback(sb))
		return r->error = sbx_err_set(err, -EDEADLK, 0,
					      "synchronous exec called from an exec callback");
	rc = run_once(sb, opts, cbs, ud, r, err, &got_data);
	/* A replaced instance has a new id (protocol §6.9). NOT_FOUND with no
	 * output means the command never ran: resolve again and retry once. */
	if (rc == -SBX_ENOTFOUND && !got_data && instance_replaced(sb)) {
		sbx_debug("exec: instance replaced, retrying on the new one");
		sbx_exec_result_release(r);
		result_init(r);
		rc = run_once(sb, opts, cbs, ud, r, err, &got_data);
	}
	return rc;
}
