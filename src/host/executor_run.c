/* executor_run.c - POST /run and /run_streaming of the executor API.
 *
 * Both run `sh -c cmd` in the sandbox (xcmd.h), after checking that cwd,
 * when given, is a directory there (400 "Invalid working directory: X"
 * otherwise). /run answers once the command ended, with its whole output
 * (each stream kept up to XEC_MAX_RUN_OUTPUT bytes, the rest read and
 * dropped); like the executor it copies, the command goes on if the client
 * leaves. /run_streaming answers at once with server-sent events: one
 * `output` per line of either stream (CR/LF removed, a line split past
 * XEC_MAX_LINE, a last unterminated line sent at the end) and a final
 * `complete`, or `error` when the command could not start; a client that
 * leaves gets the command's process tree killed. Its output is paused while
 * more than XEC_HIGH_WATER bytes wait for the client.
 *
 * Lifetime of a struct xrun: until the command is released and the
 * connection let go of it (replied, or on_close).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "host/daemon.h"
#include "host/executor_int.h"
#include "host/xcmd.h"
#include "host/xfile.h"
#include "util/log.h"

struct xrun {
	struct sbxd *d;
	struct sbxd_http_conn *c;
	bool attached; /* the connection may still call on_close */
	bool streaming, head_sent;
	char svc_id[37];
	struct xcmdreq cr;
	struct sbxd_xfile *check;
	struct sbxd_xcmd *x;
	struct sbx_buf out[3]; /* /run: output; streaming: partial lines */
	struct sbx_buf ev;
};

static void maybe_free(struct xrun *r)
{
	if (r->attached || r->x || r->check)
		return;
	xec_cmdreq_release(&r->cr);
	for (int i = 0; i < 3; i++)
		sbx_buf_release(&r->out[i]);
	sbx_buf_release(&r->ev);
	free(r);
}

/* A whole reply to the deferred request. */
static void reply(struct xrun *r, int status, const char *ctype, const struct sbx_buf *body)
{
	struct sbxd_http_resp resp = {.status = status, .content_type = ctype};

	if (!r->attached)
		return;
	sbx_buf_init(&resp.body);
	sbx_buf_append(&resp.body, body->data, body->len);
	if (!strncmp(ctype, "text/", 5))
		snprintf(resp.extra, sizeof(resp.extra), "X-Content-Type-Options: nosniff\r\n");
	if (sbxd_http_defer_reply(r->c, &resp) == 0)
		r->attached = false;
	sbx_buf_release(&resp.body);
}

static void reply_text(struct xrun *r, int status, const char *text)
{
	struct sbx_buf b = SBX_BUF_INIT;

	sbx_buf_printf(&b, "%s\n", text);
	reply(r, status, "text/plain; charset=utf-8", &b);
	sbx_buf_release(&b);
}

/* One server-sent event; data is one line of JSON. */
static void send_event(struct xrun *r, const char *name, const char *data)
{
	if (!r->attached)
		return;
	sbx_buf_reset(&r->ev);
	if (sbx_buf_printf(&r->ev, "event: %s\ndata: %s\n\n", name, data) == 0)
		sbxd_http_stream_write(r->c, r->ev.data, r->ev.len);
	if (sbxd_http_stream_queued(r->c) > XEC_HIGH_WATER && r->x)
		sbxd_xcmd_pause(r->x, true);
}

static void end_stream(struct xrun *r)
{
	if (r->attached && sbxd_http_stream_end(r->c) == 0)
		r->attached = false;
}

static void send_line(struct xrun *r, int stream, const char *p, size_t n)
{
	struct sbx_buf j = SBX_BUF_INIT;

	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (sbx_buf_printf(&j, "{\"stream\":\"%s\",\"data\":\"",
			   stream == 1 ? "stdout" : "stderr") == 0 &&
	    sbxd_json_str_utf8(&j, p, n) == 0 && sbx_buf_puts(&j, "\"}") == 0)
		send_event(r, "output", j.data);
	sbx_buf_release(&j);
}

/* Sends every complete line of b (and, with all, the rest). */
static void flush_lines(struct xrun *r, int stream, bool all)
{
	struct sbx_buf *b = &r->out[stream];
	size_t start = 0;

	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n' || i - start + 1 >= XEC_MAX_LINE) {
			send_line(r, stream, b->data + start, i + 1 - start);
			start = i + 1;
		}
	if (all && start < b->len) {
		send_line(r, stream, b->data + start, b->len - start);
		start = b->len;
	}
	sbx_buf_consume(b, start);
}

static void on_output(void *user, int stream, const char *data, size_t len)
{
	struct xrun *r = user;
	struct sbx_buf *b = &r->out[stream];

	if (!r->streaming) {
		size_t room = XEC_MAX_RUN_OUTPUT -
			      (b->len < XEC_MAX_RUN_OUTPUT ? b->len : XEC_MAX_RUN_OUTPUT);

		sbx_buf_append(b, data, len < room ? len : room);
		return;
	}
	if (sbx_buf_append(b, data, len) == 0)
		flush_lines(r, stream, false);
}

static int code_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return -1; /* a signal, as Go's ExitCode() says */
}

static void run_reply(struct xrun *r, int code)
{
	struct sbx_buf b = SBX_BUF_INIT;

	sbx_buf_puts(&b, "{\"stdout\":\"");
	sbxd_json_str_utf8(&b, r->out[1].data, r->out[1].len);
	sbx_buf_puts(&b, "\",\"stderr\":\"");
	sbxd_json_str_utf8(&b, r->out[2].data, r->out[2].len);
	sbx_buf_puts(&b, "\"");
	if (code != 0)
		sbx_buf_puts(&b, ",\"error\":\"Non-zero exit code\"");
	if (sbx_buf_printf(&b, ",\"code\":%d}\n", code) < 0)
		reply_text(r, 500, "Internal Server Error");
	else
		reply(r, 200, "application/json", &b);
	sbx_buf_release(&b);
}

static void on_exit_cmd(void *user, int wstatus)
{
	struct xrun *r = user;
	char msg[64];

	sbxd_xcmd_release(r->x);
	r->x = NULL;
	if (wstatus == -1 && r->streaming) {
		send_event(r, "error", "{\"error\":\"Failed to start command\"}");
		end_stream(r);
	} else if (wstatus == -1) {
		reply_text(r, 500, "Failed to start command");
	} else if (r->streaming) {
		flush_lines(r, 1, true);
		flush_lines(r, 2, true);
		snprintf(msg, sizeof(msg), "{\"code\":%d,\"error\":%s}", code_of(wstatus),
			 code_of(wstatus) ? "true" : "false");
		send_event(r, "complete", msg);
		end_stream(r);
	} else {
		run_reply(r, code_of(wstatus));
	}
	maybe_free(r);
}

static const struct sbxd_xcmd_ops CMD_OPS = {.on_output = on_output, .on_exit = on_exit_cmd};

static void start_cmd(struct xrun *r)
{
	struct sbxd_svc *v = sbxd_store_svc(&r->d->store, r->svc_id);
	char **argv = xec_argv(&r->cr);
	int e = v && argv ? sbxd_xcmd_start(r->d, v, argv, r->cr.env, &CMD_OPS, r, &r->x) : -ENOMEM;

	free(argv);
	if (e < 0 && !r->streaming) {
		reply_text(r, 500, "Failed to start command");
		return;
	}
	if (r->streaming && r->attached &&
	    sbxd_http_stream_begin(r->c, 200, "text/event-stream", NULL) == 0)
		r->head_sent = true;
	if (e < 0) {
		send_event(r, "error", "{\"error\":\"Failed to start command\"}");
		end_stream(r);
	}
}

static void on_cwd(void *user, int err, const struct sbx_buf *body)
{
	struct xrun *r = user;
	struct sbx_buf msg = SBX_BUF_INIT;

	r->check = NULL;
	if (!err && body->len && strstr(body->data, "\"dir\":true")) {
		start_cmd(r);
	} else {
		sbx_buf_printf(&msg, "Invalid working directory: %s", r->cr.cwd);
		reply_text(r, 400, msg.data ? msg.data : "Invalid working directory");
		sbx_buf_release(&msg);
	}
	maybe_free(r);
}

static void on_drain(void *user)
{
	struct xrun *r = user;

	if (r->x)
		sbxd_xcmd_pause(r->x, false);
}

static void on_close(void *user)
{
	struct xrun *r = user;

	r->attached = false;
	sbxd_xfile_cancel(r->check);
	r->check = NULL;
	if (r->streaming && r->x) { /* the executor kills a streamed command */
		sbxd_xcmd_release(r->x);
		r->x = NULL;
	}
	maybe_free(r);
}

static const struct sbxd_http_defer_ops RUN_OPS = {.on_drain = on_drain, .on_close = on_close};

void xec_run(struct xcall *k, bool streaming, int *ret)
{
	struct xrun *r = calloc(1, sizeof(*r));
	int e;

	if (!r) {
		xec_text(k, 500, "Internal Server Error");
		return;
	}
	if (xec_cmdreq(k, &r->cr) < 0) {
		free(r);
		return;
	}
	r->d = k->d;
	r->c = k->c;
	r->streaming = streaming;
	snprintf(r->svc_id, sizeof(r->svc_id), "%s", k->v->id);
	for (int i = 0; i < 3; i++)
		sbx_buf_init(&r->out[i]);
	sbx_buf_init(&r->ev);
	sbxd_http_defer(k->c, k->req, &RUN_OPS, r);
	r->attached = true;
	*ret = SBX_HTTP_DEFERRED;
	if (!r->cr.cwd) {
		start_cmd(r);
		maybe_free(r);
		return;
	}
	e = sbxd_xfile_start(k->d, k->v, SBXD_XF_ISDIR, r->cr.cwd, NULL, 0, 0, on_cwd, r,
			     &r->check);
	if (e < 0) {
		r->check = NULL;
		reply_text(r, 500, "Internal Server Error");
		maybe_free(r);
	}
}
