/* proc.c - background processes and the exposed port (sbx/proc.h) over the
 * sandbox's executor (docs/executor-protocol.md §5.4-§5.6).
 *
 * Every reply is checked for shape and bounded: a process id must look like
 * an id (it goes back into a query), a list holds at most PROC_LIST_MAX
 * entries, a timestamp at most PROC_TS_MAX bytes. The executor's quirks are
 * handled where they arise: /kill_process tells "not found" from "not
 * running" only in the text of a 400; /process_logs_streaming reports an
 * unknown id as an `error` event under a 200; /bind_port takes the port as
 * a JSON string and answers 409 with the port already bound, also when it is
 * the same one.
 *
 * Where a replay ends (sbx_proc_logs without follow): the protocol sends no
 * mark between the kept lines and live ones. For a process that has ended
 * the stream ends by itself after the kept lines, so that case is exact.
 * For a process still running, the kept lines are written at once when the
 * stream opens; libsbx reads until the stream has been quiet for
 * PROC_REPLAY_QUIET_S (checked about once a second). That is a heuristic:
 * kept lines held up longer than that in the network are missed, and live
 * lines printed meanwhile are delivered too.
 */
#include "sbx/proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest.h"
#include "api/sandbox_priv.h"
#include "client_priv.h"
#include "exec/ws.h"
#include "util/json.h"
#include "util/shquote.h"
#include "xc/xc.h"

#define PROC_LIST_MAX	    4096
#define PROC_ENV_MAX	    256
#define PROC_TS_MAX	    64
#define PROC_CALL_TIMEOUT_S 60.0
#define PROC_REPLAY_QUIET_S 0.5

static const char *const status_names[] = {
    [SBX_PROC_RUNNING] = "running", [SBX_PROC_COMPLETED] = "completed",
    [SBX_PROC_FAILED] = "failed",   [SBX_PROC_KILLED] = "killed",
    [SBX_PROC_UNKNOWN] = "unknown",
};

const char *sbx_proc_status_name(enum sbx_proc_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "unknown";
}

static enum sbx_proc_status status_parse(const char *s)
{
	for (size_t i = 0; s && i < SBX_PROC_UNKNOWN; i++)
		if (!strcmp(s, status_names[i]))
			return (enum sbx_proc_status)i;
	return SBX_PROC_UNKNOWN;
}

void sbx_proc_info_release(struct sbx_proc_info *p)
{
	if (!p)
		return;
	free(p->command);
	p->command = NULL;
}

void sbx_proc_info_free(struct sbx_proc_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		sbx_proc_info_release(&v[i]);
	free(v);
}

bool sbx_proc_id_valid(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++, n++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_')
			return false;
	return n > 0 && n <= SBX_PROC_ID_MAX;
}

/* The executor of sb, after the checks every call makes. */
static int executor(struct sbx_sandbox *sb, const char *what, struct xc **ret, struct sbx_err *err)
{
	if (!sb)
		return sbx_err_set(err, -SBX_EINVAL, 0, "%s: no sandbox", what);
	if (sbx_wsc_on_thread(sbx_sandbox_client(sb)->ws))
		return sbx_err_set(err, -EDEADLK, 0, "%s: synchronous call from an exec callback",
				   what);
	return sbx_sandbox_executor(sb, ret, err);
}

/* One entry of a reply: {id, pid, status, command?}. */
static int info_parse(json_object *o, const char *command, struct sbx_proc_info *ret)
{
	const char *id = sbx_json_str(o, "id"), *cmd = sbx_json_str(o, "command");
	int64_t pid = 0;

	if (!o || !sbx_proc_id_valid(id))
		return -EPROTO;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->id, id, strlen(id) + 1);
	if (sbx_json_int(o, "pid", &pid) == 0 && pid > 0 && pid <= INT32_MAX)
		ret->pid = (int)pid;
	ret->status = status_parse(sbx_json_str(o, "status"));
	ret->command = strdup(command ? command : cmd ? cmd : "");
	return ret->command ? 0 : -ENOMEM;
}

/* {"cmd", "cwd"?, "env"?: {K: V}} for opts. */
static int start_body(const struct sbx_proc_opts *o, json_object **ret, char **ret_cmd)
{
	struct sbx_buf cmd = SBX_BUF_INIT;
	json_object *b = json_object_new_object(), *env = NULL;
	int r = b ? 0 : -ENOMEM;

	if (!r)
		r = o->argv && o->argc ? sbx_shquote_argv(&cmd, o->argv, o->argc)
		    : o->command       ? sbx_buf_puts(&cmd, o->command)
				       : -EINVAL;
	if (!r && !cmd.len)
		r = -EINVAL;
	if (!r)
		r = sbx_json_add_str(b, "cmd", cmd.data);
	if (!r && o->cwd)
		r = sbx_json_add_str(b, "cwd", o->cwd);
	if (!r && o->n_env > PROC_ENV_MAX)
		r = -E2BIG;
	if (!r && o->n_env && !o->env)
		r = -EINVAL;
	if (!r && o->n_env)
		r = (env = json_object_new_object()) ? 0 : -ENOMEM;
	for (size_t i = 0; !r && i < o->n_env; i++) {
		const char *eq = o->env[i] ? strchr(o->env[i], '=') : NULL;
		char *k =
		    eq && eq != o->env[i] ? strndup(o->env[i], (size_t)(eq - o->env[i])) : NULL;

		r = !eq || eq == o->env[i] ? -EINVAL
		    : k			   ? sbx_json_add_str(env, k, eq + 1)
					   : -ENOMEM;
		free(k);
	}
	if (!r && env) {
		r = sbx_json_add(b, "env", env);
		env = NULL;
	}
	if (!r)
		*ret_cmd = sbx_buf_detach(&cmd, NULL);
	if (!r && !*ret_cmd)
		r = -ENOMEM;
	if (r) {
		sbx_json_put(b);
		b = NULL;
	}
	sbx_json_put(env);
	sbx_buf_release(&cmd);
	*ret = b;
	return r;
}

int sbx_proc_start(struct sbx_sandbox *sb, const struct sbx_proc_opts *opts,
		   struct sbx_proc_info *ret, struct sbx_err *err)
{
	json_object *body = NULL, *rep = NULL;
	struct xc *x;
	char *cmd = NULL;
	int r, status = 0;

	r = executor(sb, "start process", &x, err);
	if (r < 0)
		return r;
	if (!opts || !ret)
		return sbx_err_set(err, -SBX_EINVAL, 0, "start process: missing argument");
	r = start_body(opts, &body, &cmd);
	if (r < 0)
		return sbx_err_set(err, r, 0,
				   r == -ENOMEM ? "out of memory"
				   : r == -E2BIG
				       ? "start process: more than 256 environment entries"
				       : "start process: no command, or an env entry without KEY=");
	r = xc_call(x, "POST", "/start_process", NULL, body, PROC_CALL_TIMEOUT_S, &status, &rep,
		    err);
	if (r == 0 && info_parse(rep, cmd, ret) < 0)
		r = sbx_err_set(err, -SBX_EPROTO, status, "POST /start_process: unexpected reply");
	sbx_json_put(body);
	sbx_json_put(rep);
	free(cmd);
	return r;
}

/* The entries of a {"processes": [...]} reply. */
static int list_parse(json_object *rep, struct sbx_proc_info **ret, size_t *ret_n)
{
	json_object *a = sbx_json_get(rep, "processes");
	struct sbx_proc_info *v = NULL;
	size_t n, i;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!a || json_object_is_type(a, json_type_null))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return -EPROTO;
	n = json_object_array_length(a);
	if (n > PROC_LIST_MAX)
		return -E2BIG;
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; !r && i < n; i++)
		r = info_parse(json_object_array_get_idx(a, i), NULL, &v[i]);
	if (r) {
		sbx_proc_info_free(v, i);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int sbx_proc_list(struct sbx_sandbox *sb, struct sbx_proc_info **ret, size_t *ret_n,
		  struct sbx_err *err)
{
	json_object *rep = NULL;
	struct xc *x;
	int r, status = 0;

	r = executor(sb, "list processes", &x, err);
	if (r < 0)
		return r;
	if (!ret || !ret_n)
		return sbx_err_set(err, -SBX_EINVAL, 0, "list processes: missing argument");
	r = xc_call(x, "GET", "/list_processes", NULL, NULL, PROC_CALL_TIMEOUT_S, &status, &rep,
		    err);
	if (r == 0) {
		r = list_parse(rep, ret, ret_n);
		if (r == -ENOMEM)
			sbx_err_set(err, r, 0, "out of memory");
		else if (r == -E2BIG)
			r = sbx_err_set(err, -SBX_EPROTO, status,
					"GET /list_processes: more than %d processes",
					PROC_LIST_MAX);
		else if (r < 0)
			r = sbx_err_set(err, -SBX_EPROTO, status,
					"GET /list_processes: unexpected reply");
	}
	sbx_json_put(rep);
	return r;
}

int sbx_proc_kill(struct sbx_sandbox *sb, const char *id, struct sbx_err *err)
{
	json_object *body = NULL, *refusal = NULL;
	const char *why;
	struct xc *x;
	int r, status = 0;

	r = executor(sb, "kill process", &x, err);
	if (r < 0)
		return r;
	if (!sbx_proc_id_valid(id))
		return sbx_err_set(err, -SBX_EINVAL, 0, "kill process: not a process id");
	body = json_object_new_object();
	if (!body || sbx_json_add_str(body, "id", id) < 0) {
		sbx_json_put(body);
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	}
	r = xc_call_refusal(x, "POST", "/kill_process", NULL, body, PROC_CALL_TIMEOUT_S, &status,
			    NULL, &refusal, err);
	why = status == 400 ? sbx_json_str(refusal, "error") : NULL;
	if (why && !strncmp(why, "process not found", 17))
		r = sbx_err_set(err, -SBX_ENOTFOUND, status, "no process %s", id);
	else if (why && !strncmp(why, "process is not running", 22))
		r = sbx_err_set(err, -ESRCH, status, "process %s: %.200s", id, why);
	sbx_json_put(body);
	sbx_json_put(refusal);
	return r;
}

/* ---- logs ---- */

struct logs {
	sbx_proc_log_fn fn;
	void *ud;
	int user_rc;	/* the callback's non-zero value, or 0 */
	bool complete;	/* the `complete` event came */
	bool not_found; /* an `error` event came */
	char why[200];	/* its text */
};

static int on_log_event(void *ud, const char *event, json_object *data)
{
	struct logs *l = ud;
	const char *s, *ts;
	json_object *d;
	int stream;

	if (!strcmp(event, "complete")) {
		l->complete = true;
		return 0;
	}
	if (!strcmp(event, "error")) {
		s = sbx_json_str(data, "error");
		snprintf(l->why, sizeof(l->why), "%.190s", s ? s : "error event");
		l->not_found = true;
		return 1;
	}
	if (strcmp(event, "log"))
		return 0; /* an event this library does not know: skip it */
	s = sbx_json_str(data, "stream");
	stream = s && !strcmp(s, "stderr") ? SBX_PROC_STDERR : SBX_PROC_STDOUT;
	ts = sbx_json_str(data, "timestamp");
	if (!ts || strlen(ts) > PROC_TS_MAX)
		ts = "";
	d = sbx_json_get(data, "data");
	if (d && !json_object_is_type(d, json_type_string))
		d = NULL;
	l->user_rc =
	    l->fn(l->ud, (enum sbx_proc_stream)stream, ts, d ? json_object_get_string(d) : "",
		  d ? (size_t)json_object_get_string_len(d) : 0);
	return l->user_rc;
}

/* Whether the process id is running (its logs then have a live part). An id
 * the list does not have is "not running": the stream will say more. */
static int is_running(struct sbx_sandbox *sb, const char *id, bool *ret, struct sbx_err *err)
{
	struct sbx_proc_info *v = NULL;
	size_t n = 0;
	int r = sbx_proc_list(sb, &v, &n, err);

	*ret = false;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!strcmp(v[i].id, id))
			*ret = v[i].status == SBX_PROC_RUNNING;
	sbx_proc_info_free(v, n);
	return r;
}

int sbx_proc_logs(struct sbx_sandbox *sb, const char *id, bool follow, double timeout_s,
		  sbx_proc_log_fn fn, void *ud, struct sbx_err *err)
{
	struct logs l = {.fn = fn, .ud = ud};
	struct sbx_buf q = SBX_BUF_INIT;
	struct sbx_err e = {0};
	struct xc *x;
	bool running = false;
	int r;

	r = executor(sb, "process logs", &x, err);
	if (r < 0)
		return r;
	if (!sbx_proc_id_valid(id) || !fn)
		return sbx_err_set(err, -SBX_EINVAL, 0, "process logs: not a process id");
	if (!follow) {
		r = is_running(sb, id, &running, err);
		if (r < 0)
			return r;
	}
	r = sbx_buf_puts(&q, "id=");
	if (!r)
		r = sbx_rest_escape(&q, id);
	if (r < 0)
		return sbx_err_set(err, r, 0, "out of memory");
	r = xc_stream_idle(x, "GET", "/process_logs_streaming", q.data, NULL, timeout_s,
			   running ? PROC_REPLAY_QUIET_S : 0, on_log_event, &l, &e);
	sbx_buf_release(&q);
	if (l.not_found)
		return sbx_err_set(err, -SBX_ENOTFOUND, 200, "process %s: %s", id, l.why);
	if (l.user_rc)
		return l.user_rc;
	if (r == -EAGAIN && running)
		return 0; /* the replay is over (see the top of this file) */
	if (r == 0 && !l.complete)
		return sbx_err_set(err, -SBX_ECONN, 200,
				   "process %s: the log stream ended before the process did", id);
	if (r < 0 && err)
		*err = e;
	return r;
}

/* ---- the port ---- */

/* "tcp://HOST:PORT" of the sandbox's proxy port. */
static int proxy_url(struct sbx_sandbox *sb, char **ret, struct sbx_err *err)
{
	struct sbx_buf u = SBX_BUF_INIT;
	char *host = NULL;
	int port = 0, r;

	r = sbx_sandbox_proxy_port(sb, &host, &port, err);
	if (r < 0)
		return r;
	r = sbx_buf_printf(&u, strchr(host, ':') ? "tcp://[%s]:%d" : "tcp://%s:%d", host, port);
	free(host);
	if (r == 0)
		*ret = sbx_buf_detach(&u, NULL);
	sbx_buf_release(&u);
	return r == 0 && *ret ? 0 : sbx_err_set(err, -ENOMEM, 0, "out of memory");
}

/* current_port of a 409, as a number or a digit string; 0 if absent. */
static int64_t current_port(json_object *refusal)
{
	int64_t p = 0;

	return sbx_json_int(refusal, "current_port", &p) == 0 ? p : 0;
}

int sbx_port_bind(struct sbx_sandbox *sb, unsigned port, char **ret_url, struct sbx_err *err)
{
	json_object *body = NULL, *refusal = NULL;
	char num[16], *url = NULL;
	struct xc *x;
	int r, status = 0;

	r = executor(sb, "bind port", &x, err);
	if (r < 0)
		return r;
	if (port < 1 || port > 65535 || !ret_url)
		return sbx_err_set(err, -SBX_EINVAL, 0, "bind port: port must be 1..65535");
	/* first where it will be reachable: a bind we cannot report is not made */
	r = proxy_url(sb, &url, err);
	if (r < 0)
		return r;
	snprintf(num, sizeof(num), "%u", port);
	body = json_object_new_object();
	if (!body || sbx_json_add_str(body, "port", num) < 0) {
		r = sbx_err_set(err, -ENOMEM, 0, "out of memory");
		goto out;
	}
	r = xc_call_refusal(x, "POST", "/bind_port", NULL, body, PROC_CALL_TIMEOUT_S, &status, NULL,
			    &refusal, err);
	if (r == -SBX_EEXIST && status == 409) {
		int64_t cur = current_port(refusal);

		r = cur == (int64_t)port
			? 0
			: sbx_err_set(err, -SBX_EEXIST, status,
				      "bind port %u: port %lld is bound; unbind it first", port,
				      (long long)cur);
	}
	if (r == 0) {
		*ret_url = url;
		url = NULL;
	}
out:
	sbx_json_put(body);
	sbx_json_put(refusal);
	free(url);
	return r;
}

int sbx_port_unbind(struct sbx_sandbox *sb, struct sbx_err *err)
{
	struct xc *x;
	int r, status = 0;

	r = executor(sb, "unbind port", &x, err);
	if (r < 0)
		return r;
	return xc_call(x, "POST", "/unbind_port", NULL, NULL, PROC_CALL_TIMEOUT_S, &status, NULL,
		       err);
}
