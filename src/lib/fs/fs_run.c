/* fs_run.c - the collector of one run of a primitive's script; see fs_run.h.
 *
 * Nothing touches the run after a cancel of its command: the command may
 * deliver on_done from inside the cancel. Threads: out, errb and what only
 * the callbacks use are touched on the callbacks' thread (the callbacks of
 * one command never run concurrently); fields under "guarded by mu" are
 * shared with the starter.
 */
#include "fs_run.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbx/rfs.h"
#include "script.h"
#include "util/log.h"

struct fs_run {
	pthread_mutex_t mu;
	int refs;			 /* guarded by mu */
	struct sbx_exec *exec;		 /* guarded by mu; a reference, or NULL */
	struct sbx_rfs_proc *proc;	 /* guarded by mu; a reference, or NULL */
	bool cancel_pending;		 /* guarded by mu */
	int local_rc;			 /* guarded by mu; overrides the outcome */
	char local_msg[SBX_ERR_MSG_MAX]; /* guarded by mu */

	struct sbx_buf script; /* kept until done: the command may borrow it */
	struct sbx_buf out;    /* collected stdout, at most out_max bytes */
	struct sbx_buf errb;   /* stderr, at most SBX_FS_STDERR_MAX bytes */
	enum fs_parse parse;
	size_t out_max;
	int (*sink)(void *sink_ud, const char *data, size_t n);
	void *sink_ud;
	sbx_fs_cb cb;
	void *ud;
	void (*end)(void *end_ud); /* fixed before the start */
	void *end_ud;
	char what[SBX_FS_WHAT_MAX];
};

struct fs_run *fs_run_new(struct fs_spec *s, sbx_fs_cb cb, void *ud)
{
	struct fs_run *run = calloc(1, sizeof(*run));

	if (!run)
		return NULL;
	pthread_mutex_init(&run->mu, NULL);
	run->refs = 2;
	run->script = s->script;
	sbx_buf_init(&s->script);
	sbx_buf_init(&run->out);
	sbx_buf_init(&run->errb);
	run->parse = s->parse;
	run->out_max = s->out_max;
	run->sink = s->sink;
	run->sink_ud = s->sink_ud;
	run->cb = cb;
	run->ud = ud;
	memcpy(run->what, s->what, sizeof(run->what));
	return run;
}

void fs_run_unref(struct fs_run *run)
{
	struct sbx_rfs_proc *p;
	struct sbx_exec *e;
	int left;

	pthread_mutex_lock(&run->mu);
	left = --run->refs;
	pthread_mutex_unlock(&run->mu);
	if (left)
		return;
	e = run->exec;
	p = run->proc;
	sbx_buf_release(&run->script);
	sbx_buf_release(&run->out);
	sbx_buf_release(&run->errb);
	pthread_mutex_destroy(&run->mu);
	free(run);
	sbx_exec_unref(e);
	sbx_rfs_proc_unref(p);
}

const char *fs_run_script(const struct fs_run *run)
{
	return run->script.data;
}

const char *fs_run_what(const struct fs_run *run)
{
	return run->what;
}

void fs_run_on_end(struct fs_run *run, void (*fn)(void *fn_ud), void *fn_ud)
{
	run->end = fn;
	run->end_ud = fn_ud;
}

bool fs_run_attach_exec(struct fs_run *run, struct sbx_exec *e)
{
	bool cancel;

	pthread_mutex_lock(&run->mu);
	run->exec = sbx_exec_ref(e);
	cancel = run->cancel_pending;
	pthread_mutex_unlock(&run->mu);
	return cancel;
}

bool fs_run_attach_proc(struct fs_run *run, struct sbx_rfs_proc *p)
{
	bool cancel;

	pthread_mutex_lock(&run->mu);
	run->proc = sbx_rfs_proc_ref(p);
	cancel = run->cancel_pending;
	pthread_mutex_unlock(&run->mu);
	return cancel;
}

void fs_run_fail(struct fs_run *run, int rc, const char *fmt, ...)
{
	struct sbx_rfs_proc *p = NULL;
	struct sbx_exec *e = NULL;
	va_list ap;

	pthread_mutex_lock(&run->mu);
	if (!run->local_rc) {
		run->local_rc = rc;
		va_start(ap, fmt);
		vsnprintf(run->local_msg, sizeof(run->local_msg), fmt, ap);
		va_end(ap);
		if (run->exec)
			e = sbx_exec_ref(run->exec);
		else if (run->proc)
			p = sbx_rfs_proc_ref(run->proc);
		else
			run->cancel_pending = true;
	}
	pthread_mutex_unlock(&run->mu);
	if (e) {
		sbx_exec_cancel(e);
		sbx_exec_unref(e);
	}
	if (p) {
		sbx_rfs_proc_cancel(p);
		sbx_rfs_proc_unref(p);
	}
}

static bool run_failed(struct fs_run *run)
{
	bool f;

	pthread_mutex_lock(&run->mu);
	f = run->local_rc != 0;
	pthread_mutex_unlock(&run->mu);
	return f;
}

static void on_stdout(void *ud, const char *data, size_t n)
{
	struct fs_run *run = ud;
	int r;

	if (!n || (run->parse == FS_PARSE_NONE && !run->sink) || run_failed(run))
		return;
	if (run->sink) {
		r = run->sink(run->sink_ud, data, n);
		if (r < 0)
			fs_run_fail(run, r, "%s: %s", run->what, strerror(-r));
		return;
	}
	if (n > run->out_max - run->out.len) {
		fs_run_fail(run, -EFBIG, "%s: output larger than %zu bytes", run->what,
			    run->out_max);
		return;
	}
	if (sbx_buf_append(&run->out, data, n) < 0)
		fs_run_fail(run, -ENOMEM, "%s: out of memory", run->what);
}

static void on_stderr(void *ud, const char *data, size_t n)
{
	struct fs_run *run = ud;
	size_t room = SBX_FS_STDERR_MAX - run->errb.len;

	if (n > room)
		n = room;
	if (n && sbx_buf_append(&run->errb, data, n) < 0)
		sbx_debug("fs: %s: stderr dropped (out of memory)", run->what);
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
	struct fs_run *run = ud;
	struct sbx_fs_result res;
	int local;

	memset(&res, 0, sizeof(res));
	pthread_mutex_lock(&run->mu);
	local = run->local_rc;
	if (local)
		sbx_err_set(&res.err, local, 0, "%s", run->local_msg);
	pthread_mutex_unlock(&run->mu);
	if (local)
		res.rc = local;
	else if (r->error == 0 && r->status == SBX_EXEC_FINISHED && r->exit_code == 0)
		res.rc = fs_parse_output(run->parse, &run->out, run->what, &res);
	else
		res.rc = sbx_fs_errmap_exec(r, run->errb.data, run->errb.len, run->what, &res.err);
	sbx_debug("fs: %s: rc %d", run->what, res.rc);
	if (run->cb)
		run->cb(run->ud, &res);
	fs_result_release(&res);
	if (run->end)
		run->end(run->end_ud);
	fs_run_unref(run);
}

void fs_run_deliver(struct fs_run *run, struct sbx_fs_result *res)
{
	sbx_debug("fs: %s: rc %d (native)", run->what, res->rc);
	if (run->cb)
		run->cb(run->ud, res);
	fs_result_release(res);
	if (run->end)
		run->end(run->end_ud);
	fs_run_unref(run);
}

const struct sbx_exec_cbs fs_run_cbs = {
    .on_stdout = on_stdout, .on_stderr = on_stderr, .on_done = on_done};

void fs_run_fail_start(struct fs_run *run, int rc, const char *msg)
{
	struct sbx_exec_result r;

	memset(&r, 0, sizeof(r));
	r.status = SBX_EXEC_FAILED;
	r.exit_code = -1;
	r.error = rc < 0 ? rc : -SBX_EIO;
	snprintf(r.message, sizeof(r.message), "%s", msg && *msg ? msg : strerror(-r.error));
	on_done(run, &r);
}

/* Writes the stdin of a run over an exec (the exec copies it) and closes
 * it unless the caller feeds it. -EPIPE means the command is already gone:
 * on_done will tell why, so only other failures are recorded. */
static void feed_exec(struct fs_run *run, struct sbx_exec *e, const struct iovec *iov,
		      size_t iovcnt, bool stdin_open)
{
	size_t i;
	int r = 0;

	for (i = 0; !r && i < iovcnt; i++)
		if (iov[i].iov_len)
			r = sbx_exec_write_stdin(e, iov[i].iov_base, iov[i].iov_len);
	if (r < 0 && r != -EPIPE)
		fs_run_fail(run, r, "%s: writing stdin: %s", run->what, strerror(-r));
	if (!stdin_open)
		sbx_exec_close_stdin(e);
}

int fs_run_exec(struct sbx_sandbox *sb, struct fs_run *run, const struct iovec *iov, size_t iovcnt,
		bool stdin_open, struct sbx_exec **ret_exec, struct sbx_err *err)
{
	struct sbx_exec_opts opts;
	struct sbx_exec *e = NULL;
	bool cancel;
	int r;

	memset(&opts, 0, sizeof(opts));
	opts.command = run->script.data;
	opts.stdin_open = stdin_open || iovcnt > 0;
	r = sbx_exec_start(sb, &opts, &fs_run_cbs, run, &e, err);
	if (r < 0)
		return r;
	cancel = fs_run_attach_exec(run, e);
	if (opts.stdin_open)
		feed_exec(run, e, iov, iovcnt, stdin_open);
	if (cancel)
		sbx_exec_cancel(e);
	if (ret_exec)
		*ret_exec = e;
	else
		sbx_exec_unref(e);
	return 0;
}
