/* exec_x.c - one command over /run_streaming; see exec_x.h. */
#include "exec_x.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/transport.h"
#include "fs/xfer.h"
#include "util/json.h"
#include "util/log.h"
#include "util/shquote.h"
#include "util/timeutil.h"
#include "xc/xc.h"

struct xrun {
	struct xc *xc;
	char *cmd;
	double timeout_s;
	struct exec_x_ops ops;
	void *ud;
	int64_t start_ms;
	bool done;	     /* a complete event came */
	int64_t code;	     /* its code */
	bool failed;	     /* an error event came */
	struct sbx_buf line; /* scratch: a line and its "\n" */
	char emsg[SBX_ERR_MSG_MAX];
};

int sbx_exec_x_cmd(char *const *argv, size_t argc, struct sbx_buf *out)
{
	struct sbx_buf q = SBX_BUF_INIT;
	int r = sbx_shquote_argv(&q, (const char *const *)argv, argc);

	/* The shell around the command reports a signal death ("Killed") on
	 * its stderr, which the WebSocket path does not show: its own stderr
	 * goes to /dev/null, the command's to the real one (fd 3), and the
	 * command runs in a subshell (which execs it) with no redirection
	 * active in the outer shell when it reports. */
	if (!r)
		r = sbx_buf_puts(out, "exec 3>&2 2>/dev/null\n(");
	/* a command line the JSON string cannot carry is decoded in the sandbox */
	if (!r && q.len && !sbx_xfer_utf8_valid(q.data, q.len)) {
		r = sbx_buf_puts(out, "eval ");
		if (!r)
			r = sbx_xfer_sh_word(out, q.data);
	} else if (!r) {
		r = sbx_buf_append(out, q.data ? q.data : "", q.len);
	}
	if (!r)
		r = sbx_buf_puts(out, " 2>&3 3>&-)\nexit $?");
	sbx_buf_release(&q);
	if (r)
		return r;
	return out->len > SBX_XFER_CMD_MAX ? -E2BIG : 0;
}

static int on_event(void *ud, const char *event, json_object *data)
{
	struct xrun *x = ud;
	json_object *d;
	const char *s;

	if (x->ops.cancelled && x->ops.cancelled(x->ud))
		return 1;
	if (!strcmp(event, "output")) {
		d = sbx_json_get(data, "data");
		s = sbx_json_str(data, "stream");
		if (!d || !json_object_is_type(d, json_type_string))
			return -SBX_EPROTO;
		sbx_buf_reset(&x->line);
		if (sbx_buf_append(&x->line, json_object_get_string(d),
				   (size_t)json_object_get_string_len(d)) < 0 ||
		    sbx_buf_putc(&x->line, '\n') < 0)
			return -ENOMEM;
		if (x->ops.on_output)
			x->ops.on_output(x->ud, s && !strcmp(s, "stderr"), x->line.data,
					 x->line.len);
	} else if (!strcmp(event, "complete")) {
		if (sbx_json_int(data, "code", &x->code) < 0)
			return -SBX_EPROTO;
		x->done = true;
	} else if (!strcmp(event, "error")) {
		s = sbx_json_str(data, "error");
		snprintf(x->emsg, sizeof(x->emsg), "executor: %s", s ? s : "error");
		x->failed = true;
	}
	return 0;
}

/* The outcome of the stream that ended with rc. */
static void outcome(struct xrun *x, int rc, const char *msg, struct sbx_exec_result *r)
{
	memset(r, 0, sizeof(*r));
	r->duration_s = (double)(sbx_now_ms() - x->start_ms) / 1000;
	r->status = SBX_EXEC_FAILED;
	r->exit_code = -1;
	if (rc == 0 && x->done) {
		r->exit_code = (int)x->code;
		r->status = x->code == 0 ? SBX_EXEC_FINISHED : SBX_EXEC_FAILED;
		return;
	}
	if (rc == 1) {
		r->status = SBX_EXEC_KILLED;
		r->error = -SBX_ECANCELED;
		snprintf(r->message, sizeof(r->message), "command cancelled (by the caller)");
	} else if (rc == -SBX_ETIMEDOUT) {
		r->status = SBX_EXEC_TIMEOUT;
		r->error = rc;
		snprintf(r->message, sizeof(r->message), "command timed out after %g s",
			 x->timeout_s);
	} else if (x->failed) {
		r->error = -SBX_EIO;
		snprintf(r->message, sizeof(r->message), "%s", x->emsg);
	} else {
		r->error = rc < 0 ? rc : -SBX_ECONN;
		snprintf(r->message, sizeof(r->message), "%s",
			 rc < 0 ? msg : "executor stream ended before the command exited");
	}
}

static void *xrun_main(void *arg)
{
	struct xrun *x = arg;
	json_object *body = json_object_new_object();
	struct sbx_exec_result r;
	struct sbx_err err = {0};
	int rc = body ? sbx_json_add_str(body, "cmd", x->cmd) : -ENOMEM;

	sbx_transport_mark_thread();
	if (rc == 0)
		rc = xc_stream(x->xc, "POST", "/run_streaming", NULL, body, x->timeout_s, on_event,
			       x, &err);
	else
		sbx_err_set(&err, rc, 0, "out of memory");
	sbx_json_put(body);
	outcome(x, rc, err.msg, &r);
	sbx_debug("exec (executor): %s, code %d, error %d (%s)", sbx_exec_status_name(r.status),
		  r.exit_code, r.error, r.message);
	x->ops.on_end(x->ud, &r);
	sbx_buf_release(&x->line);
	free(x->cmd);
	free(x);
	return NULL;
}

int sbx_exec_x_start(struct xc *xc, const char *cmd, double timeout_s, const struct exec_x_ops *ops,
		     void *ud, struct sbx_err *err)
{
	struct xrun *x = calloc(1, sizeof(*x));
	int r;

	if (!x || !(x->cmd = strdup(cmd))) {
		free(x);
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	}
	x->xc = xc;
	x->timeout_s = timeout_s > 0 ? timeout_s : 0;
	x->ops = *ops;
	x->ud = ud;
	x->start_ms = sbx_now_ms();
	sbx_buf_init(&x->line);
	r = sbx_xthread_start(xrun_main, x);
	if (r) {
		free(x->cmd);
		free(x);
		return sbx_err_set(err, -r, 0, "cannot start a thread: %s", strerror(r));
	}
	return 0;
}
