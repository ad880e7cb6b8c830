/* fs_async.c - the fs_tp_exec transport (one exec WebSocket session per
 * primitive, its output collected by fs_run.h), fs_op_start(), which picks
 * the transport, and the waiter of the synchronous forms; see fs_op.h.
 */
#include "fs_op.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_priv.h"
#include "exec/transport.h"
#include "fs_run.h"
#include "script.h"
#include "util/log.h"

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

static int exec_start(struct sbx_sandbox *sb, struct xc *xc, struct fs_spec *s, sbx_fs_cb cb,
		      void *ud, struct sbx_exec **ret_exec, struct sbx_err *err)
{
	struct fs_run *run;
	int r;

	(void)xc;
	run = fs_run_new(s, cb, ud);
	if (!run)
		return sbx_err_set(err, -ENOMEM, 0, "%s: out of memory", s->what);
	r = fs_run_exec(sb, run, s->iov, s->iovcnt, s->stdin_open, ret_exec, err);
	if (r < 0)
		fs_run_unref(run); /* the command's: nothing started */
	fs_run_unref(run);
	return r;
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
	else if (t == SBX_TRANSPORT_AGENT)
		tp = &fs_tp_agent;
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
