/* executor_proc.c - background processes of the executor API:
 * /start_process, /list_processes, /kill_process and
 * /process_logs_streaming.
 *
 * A process is `sh -c cmd` in the sandbox (xcmd.h), recorded with a UUID
 * until its sandbox is deleted (or sbxd stops). Its output is kept as lines
 * with their arrival time: per stream the last XPROC_MAX_LINES lines and at
 * most XPROC_MAX_BYTES bytes, the oldest dropped first. Status: running,
 * then completed (exit 0), failed (other exit) or killed (any signal).
 *
 * Following the logs replays the kept stdout lines, then the kept stderr
 * lines, then sends lines as they come; a follower more than
 * XEC_HIGH_WATER bytes behind misses live lines (never the replay). Once
 * the process ended and its output was read: `complete` and the end of the
 * stream. At most XPROC_MAX per sandbox: a new one evicts the oldest ended
 * one, or is refused when all are running.
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
#include "util/rand.h"

#define XPROC_MAX	256
#define XPROC_MAX_LINES 10000
#define XPROC_MAX_BYTES (4u << 20)

struct xline {
	struct xline *next;
	char ts[40];
	size_t len;
	char data[];
};

struct xlog {
	struct xline *head, *tail;
	size_t n, bytes;
};

struct xfollow {
	struct xfollow *next;
	struct xproc *p; /* NULL once the process record is gone */
	struct sbxd_http_conn *c;
	struct sbx_buf ev;
};

struct xproc {
	struct xproc *next; /* in the executor's list */
	struct sbxd *d;
	char svc_id[37], id[37];
	pid_t pid;
	const char *status;
	struct xcmdreq cr;
	struct sbxd_xcmd *x;
	struct sbxd_xfile *check;
	struct sbxd_http_conn *starter; /* the /start_process waiting for 201 */
	struct sbx_buf part[3];		/* a line not yet ended, per stream */
	struct xlog log[3];
	struct xfollow *follows;
	bool ended;
};

static const struct sbxd_http_defer_ops START_OPS;
static const struct sbxd_http_defer_ops FOLLOW_OPS;

static void log_add(struct xlog *l, const char *p, size_t n, const char *ts)
{
	struct xline *ln = malloc(sizeof(*ln) + n + 1);

	if (!ln)
		return;
	ln->next = NULL;
	snprintf(ln->ts, sizeof(ln->ts), "%s", ts);
	memcpy(ln->data, p, n);
	ln->data[n] = '\0';
	ln->len = n;
	if (l->tail)
		l->tail->next = ln;
	else
		l->head = ln;
	l->tail = ln;
	l->n++;
	l->bytes += n;
	while (l->head && l->head != ln && (l->n > XPROC_MAX_LINES || l->bytes > XPROC_MAX_BYTES)) {
		struct xline *old = l->head;

		l->head = old->next;
		l->n--;
		l->bytes -= old->len;
		free(old);
	}
}

static void log_release(struct xlog *l)
{
	while (l->head) {
		struct xline *n = l->head->next;

		free(l->head);
		l->head = n;
	}
	memset(l, 0, sizeof(*l));
}

static void follow_event(struct xfollow *f, const char *name, const char *data)
{
	sbx_buf_reset(&f->ev);
	if (sbx_buf_printf(&f->ev, "event: %s\ndata: %s\n\n", name, data) == 0)
		sbxd_http_stream_write(f->c, f->ev.data, f->ev.len);
}

static void follow_line(struct xfollow *f, int stream, const char *ts, const char *p, size_t n)
{
	struct sbx_buf j = SBX_BUF_INIT;

	if (sbx_buf_printf(&j, "{\"timestamp\":\"%s\",\"stream\":\"%s\",\"data\":\"", ts,
			   stream == 1 ? "stdout" : "stderr") == 0 &&
	    sbxd_json_str_utf8(&j, p, n) == 0 && sbx_buf_puts(&j, "\"}") == 0)
		follow_event(f, "log", j.data);
	sbx_buf_release(&j);
}

/* Ends a follower's stream; frees it unless on_close is still to come. */
static void follow_end(struct xfollow *f, bool complete)
{
	if (complete)
		follow_event(f, "complete", "{\"message\":\"stream ended\"}");
	f->p = NULL;
	if (sbxd_http_stream_end(f->c) == 0) {
		sbx_buf_release(&f->ev);
		free(f);
	}
}

static void add_line(struct xproc *p, int stream, const char *s, size_t n)
{
	char ts[40];

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	xec_timestamp(ts);
	log_add(&p->log[stream], s, n, ts);
	for (struct xfollow *f = p->follows; f; f = f->next)
		if (sbxd_http_stream_queued(f->c) <= XEC_HIGH_WATER)
			follow_line(f, stream, ts, s, n);
}

static void split_lines(struct xproc *p, int stream, bool all)
{
	struct sbx_buf *b = &p->part[stream];
	size_t start = 0;

	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n' || i - start + 1 >= XEC_MAX_LINE) {
			add_line(p, stream, b->data + start, i + 1 - start);
			start = i + 1;
		}
	if (all && start < b->len) {
		add_line(p, stream, b->data + start, b->len - start);
		start = b->len;
	}
	sbx_buf_consume(b, start);
}

static void on_output(void *user, int stream, const char *data, size_t len)
{
	struct xproc *p = user;

	if (sbx_buf_append(&p->part[stream], data, len) == 0)
		split_lines(p, stream, false);
}

static void reply_json(struct sbxd_http_conn **c, int status, const char *json)
{
	struct sbxd_http_resp resp = {.status = status, .content_type = "application/json"};

	if (!*c)
		return;
	sbx_buf_init(&resp.body);
	sbx_buf_printf(&resp.body, "%s\n", json);
	if (sbxd_http_defer_reply(*c, &resp) == 0)
		*c = NULL; /* else on_close clears it */
	sbx_buf_release(&resp.body);
}

static void on_started(void *user, pid_t pid)
{
	struct xproc *p = user;
	char msg[128];

	p->pid = pid;
	snprintf(msg, sizeof(msg), "{\"id\":\"%s\",\"pid\":%d,\"status\":\"running\"}", p->id,
		 (int)pid);
	reply_json(&p->starter, 201, msg);
}

static void proc_free(struct xproc *p);

static void on_exit_cmd(void *user, int wstatus)
{
	struct xproc *p = user;

	sbxd_xcmd_release(p->x);
	p->x = NULL;
	p->ended = true;
	if (wstatus == -1) {
		p->status = "failed";
		reply_json(&p->starter, 500,
			   "{\"id\":\"\",\"pid\":0,\"status\":\"\",\"error\":\"failed to start "
			   "command\"}");
	} else {
		if (p->starter)
			on_started(p, p->pid);
		p->status = WIFSIGNALED(wstatus)	? "killed"
			    : WEXITSTATUS(wstatus) == 0 ? "completed"
							: "failed";
	}
	split_lines(p, 1, true);
	split_lines(p, 2, true);
	while (p->follows) {
		struct xfollow *f = p->follows;

		p->follows = f->next;
		follow_end(f, true);
	}
}

static const struct sbxd_xcmd_ops CMD_OPS = {
    .on_started = on_started, .on_output = on_output, .on_exit = on_exit_cmd};

/* --- the list --- */

static void unlink_proc(struct sbxd *d, struct xproc *p)
{
	struct sbxd_executor *e = d->executor;

	for (struct xproc **pp = &e->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			e->nprocs--;
			return;
		}
}

/* Kills (if running) and frees a record that is in no list. */
static void proc_free(struct xproc *p)
{
	sbxd_xcmd_release(p->x);
	sbxd_xfile_cancel(p->check);
	reply_json(&p->starter, 500,
		   "{\"id\":\"\",\"pid\":0,\"status\":\"\",\"error\":\"sandbox stopped\"}");
	if (p->starter) /* gone already: on_close must not find p */
		sbxd_http_defer_abandon(p->starter);
	while (p->follows) {
		struct xfollow *f = p->follows;

		p->follows = f->next;
		follow_end(f, false);
	}
	for (int i = 0; i < 3; i++) {
		sbx_buf_release(&p->part[i]);
		log_release(&p->log[i]);
	}
	xec_cmdreq_release(&p->cr);
	free(p);
}

static struct xproc *find(struct sbxd *d, const char *svc_id, const char *id)
{
	for (struct xproc *p = d->executor->procs; p; p = p->next)
		if (!strcmp(p->svc_id, svc_id) && !strcmp(p->id, id))
			return p;
	return NULL;
}

/* Room for one more in the sandbox: evicts its oldest ended process. */
static bool make_room(struct sbxd *d, const char *svc_id)
{
	struct xproc *oldest = NULL;
	size_t n = 0;

	for (struct xproc *p = d->executor->procs; p; p = p->next)
		if (!strcmp(p->svc_id, svc_id)) {
			n++;
			if (p->ended && !p->follows)
				oldest = p; /* the list is newest first */
		}
	if (n < XPROC_MAX)
		return true;
	if (!oldest)
		return false;
	unlink_proc(d, oldest);
	proc_free(oldest);
	return true;
}

void xec_procs_forget(struct sbxd *d, const char *svc_id)
{
	struct xproc **pp = &d->executor->procs;

	while (*pp) {
		struct xproc *p = *pp;

		if (strcmp(p->svc_id, svc_id)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		d->executor->nprocs--;
		proc_free(p);
	}
}

void xec_procs_free(struct sbxd *d)
{
	while (d->executor->procs) {
		struct xproc *p = d->executor->procs;

		d->executor->procs = p->next;
		proc_free(p);
	}
	d->executor->nprocs = 0;
}

/* --- endpoints --- */

static void launch(struct xproc *p)
{
	struct sbxd_svc *v = sbxd_store_svc(&p->d->store, p->svc_id);
	char **argv = xec_argv(&p->cr);
	int r = v && argv ? sbxd_xcmd_start(p->d, v, argv, p->cr.env, &CMD_OPS, p, &p->x) : -ENOMEM;

	free(argv);
	if (r < 0) {
		p->x = NULL;
		on_exit_cmd(p, -1);
	}
}

static void on_cwd(void *user, int err, const struct sbx_buf *body)
{
	struct xproc *p = user;
	struct sbx_buf msg = SBX_BUF_INIT;

	p->check = NULL;
	if (!err && body->len && strstr(body->data, "\"dir\":true")) {
		launch(p);
		return;
	}
	p->ended = true;
	p->status = "failed";
	sbx_buf_puts(&msg, "{\"id\":\"\",\"pid\":0,\"status\":\"\",\"error\":\"invalid working "
			   "directory: ");
	sbxd_json_str_utf8(&msg, p->cr.cwd, strlen(p->cr.cwd));
	sbx_buf_puts(&msg, "\"}");
	reply_json(&p->starter, 500, msg.data ? msg.data : "{}");
	sbx_buf_release(&msg);
}

static void start_close(void *user)
{
	((struct xproc *)user)->starter = NULL; /* the process goes on */
}

static const struct sbxd_http_defer_ops START_OPS = {.on_close = start_close};

void xec_start_process(struct xcall *k, int *ret)
{
	struct xproc *p = calloc(1, sizeof(*p));
	struct sbxd_executor *e = k->d->executor;

	if (!p || sbx_rand_uuid(p->id) < 0) {
		free(p);
		xec_json(k, 500,
			 "{\"id\":\"\",\"pid\":0,\"status\":\"\",\"error\":\"out of memory\"}");
		return;
	}
	if (xec_cmdreq(k, &p->cr) < 0) {
		free(p);
		return;
	}
	if (!make_room(k->d, k->v->id)) {
		xec_cmdreq_release(&p->cr);
		free(p);
		xec_json(
		    k, 500,
		    "{\"id\":\"\",\"pid\":0,\"status\":\"\",\"error\":\"too many processes\"}");
		return;
	}
	p->d = k->d;
	snprintf(p->svc_id, sizeof(p->svc_id), "%s", k->v->id);
	p->status = "running";
	for (int i = 0; i < 3; i++)
		sbx_buf_init(&p->part[i]);
	p->next = e->procs;
	e->procs = p;
	e->nprocs++;
	p->starter = k->c;
	sbxd_http_defer(k->c, k->req, &START_OPS, p);
	*ret = SBX_HTTP_DEFERRED;
	if (!p->cr.cwd)
		launch(p);
	else if (sbxd_xfile_start(k->d, k->v, SBXD_XF_ISDIR, p->cr.cwd, NULL, 0, 0, on_cwd, p,
				  &p->check) < 0) {
		p->check = NULL;
		on_exit_cmd(p, -1);
	}
}

void xec_list_processes(struct xcall *k)
{
	struct sbx_buf b = SBX_BUF_INIT;
	bool first = true;

	sbx_buf_puts(&b, "{\"processes\":[");
	for (struct xproc *p = k->d->executor->procs; p; p = p->next) {
		if (strcmp(p->svc_id, k->v->id))
			continue;
		sbx_buf_printf(&b, "%s{\"id\":\"%s\",\"pid\":%d,\"status\":\"%s\",\"command\":\"",
			       first ? "" : ",", p->id, (int)p->pid, p->status);
		sbxd_json_str_utf8(&b, p->cr.cmd, strlen(p->cr.cmd));
		sbx_buf_puts(&b, "\"}");
		first = false;
	}
	if (sbx_buf_puts(&b, "]}") < 0)
		xec_text(k, 500, "Internal Server Error");
	else
		xec_json(k, 200, b.data);
	sbx_buf_release(&b);
}

static void error_json(struct xcall *k, int status, const char *what, const char *arg)
{
	struct sbx_buf m = SBX_BUF_INIT, b = SBX_BUF_INIT;

	sbx_buf_printf(&m, "%s%s%s", what, arg, strchr(what, '(') ? ")" : "");
	sbx_buf_puts(&b, "{\"success\":false,\"error\":\"");
	if (m.data)
		sbxd_json_str_utf8(&b, m.data, m.len);
	sbx_buf_puts(&b, "\"}");
	xec_json(k, status, b.data ? b.data : "{}");
	sbx_buf_release(&m);
	sbx_buf_release(&b);
}

void xec_kill_process(struct xcall *k)
{
	json_object *o = xec_body(k);
	const char *id = o ? sbx_json_str(o, "id") : NULL;
	struct xproc *p;

	if (!o)
		return;
	p = id ? find(k->d, k->v->id, id) : NULL;
	if (!p)
		error_json(k, 400, "process not found: ", id ? id : "");
	else if (strcmp(p->status, "running") || !p->x)
		error_json(k, 400, "process is not running (status: ", p->status);
	else {
		sbxd_xcmd_kill(p->x);
		xec_json(k, 200, "{\"success\":true,\"message\":\"Process killed successfully\"}");
	}
	sbx_json_put(o);
}

static void follow_close(void *user)
{
	struct xfollow *f = user;

	if (f->p)
		for (struct xfollow **pp = &f->p->follows; *pp; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
	sbx_buf_release(&f->ev);
	free(f);
}

static const struct sbxd_http_defer_ops FOLLOW_OPS = {.on_close = follow_close};

static void replay(struct xfollow *f, struct xproc *p)
{
	for (int s = 1; s <= 2; s++)
		for (struct xline *l = p->log[s].head; l; l = l->next)
			follow_line(f, s, l->ts, l->data, l->len);
}

void xec_process_logs(struct xcall *k, int *ret)
{
	char id[64];
	struct xfollow *f;
	struct xproc *p;

	if (sbxd_http_query_get(k->req->query, "id", id, sizeof(id)) < 0 || !id[0]) {
		xec_text(k, 400, "Process ID is required");
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		xec_text(k, 500, "Internal Server Error");
		return;
	}
	f->c = k->c;
	sbx_buf_init(&f->ev);
	p = find(k->d, k->v->id, id);
	sbxd_http_defer(k->c, k->req, &FOLLOW_OPS, f);
	*ret = SBX_HTTP_DEFERRED;
	sbxd_http_stream_begin(k->c, 200, "text/event-stream", NULL);
	if (!p) {
		struct sbx_buf m = SBX_BUF_INIT;

		sbx_buf_puts(&m, "{\"error\":\"process not found: ");
		sbxd_json_str_utf8(&m, id, strlen(id));
		sbx_buf_puts(&m, "\"}");
		follow_event(f, "error", m.data ? m.data : "{}");
		sbx_buf_release(&m);
		follow_end(f, false);
		return;
	}
	replay(f, p);
	if (p->ended) {
		follow_end(f, true);
		return;
	}
	f->p = p;
	f->next = p->follows;
	p->follows = f;
}
