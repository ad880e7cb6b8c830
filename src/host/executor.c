/* executor.c - routing, authentication and the file endpoints of the
 * executor API; see executor.h and docs/executor-protocol.md.
 *
 * Replies follow the executor sbxd stands in for: validation failures are
 * text/plain ("Invalid request\n"), file operations answer 200 with
 * success/error in the JSON, 401 "Unauthorized" without the right bearer.
 */
#include "host/executor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/daemon.h"
#include "host/http/utf8.h"
#include "host/runtime/sandbox.h"
#include "host/token.h"
#include "host/xfile.h"
#include "util/log.h"

#define MAX_PATH_BYTES 4096

struct sbxd_executor *xec_get(struct sbxd *d)
{
	if (!d->executor)
		d->executor = calloc(1, sizeof(*d->executor));
	return d->executor;
}

void xec_text(struct xcall *k, int status, const char *text)
{
	k->resp->status = status;
	k->resp->content_type = "text/plain; charset=utf-8";
	sbx_buf_reset(&k->resp->body);
	sbx_buf_printf(&k->resp->body, "%s\n", text);
	snprintf(k->resp->extra, sizeof(k->resp->extra), "X-Content-Type-Options: nosniff\r\n");
}

void xec_json(struct xcall *k, int status, const char *json)
{
	k->resp->status = status;
	k->resp->content_type = "application/json";
	sbx_buf_reset(&k->resp->body);
	sbx_buf_printf(&k->resp->body, "%s\n", json);
}

json_object *xec_body(struct xcall *k)
{
	json_object *o = NULL;

	if (!sbxd_utf8_valid(k->body, k->len) || sbx_json_parse(k->body, k->len, &o) < 0 ||
	    !json_object_is_type(o, json_type_object)) {
		sbx_json_put(o);
		xec_text(k, 400, "Invalid request");
		return NULL;
	}
	return o;
}

void xec_cmdreq_release(struct xcmdreq *r)
{
	free(r->cmd);
	free(r->cwd);
	for (size_t i = 0; r->env && r->env[i]; i++)
		free(r->env[i]);
	free(r->env);
	memset(r, 0, sizeof(*r));
}

/* env: an object of strings; keys with '=' or NUL are refused. */
static int parse_env(json_object *env, struct xcmdreq *r)
{
	size_t n = 0;

	if (!env)
		return 0;
	if (!json_object_is_type(env, json_type_object) ||
	    json_object_object_length(env) > XEC_MAX_ENV)
		return -EINVAL;
	r->env = calloc((size_t)json_object_object_length(env) + 1, sizeof(char *));
	if (!r->env)
		return -ENOMEM;
	json_object_object_foreach(env, key, val)
	{
		struct sbx_buf kv = SBX_BUF_INIT;

		if (!json_object_is_type(val, json_type_string) || !key[0] || strchr(key, '=') ||
		    strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
			return -EINVAL;
		if (sbx_buf_printf(&kv, "%s=%s", key, json_object_get_string(val)) < 0)
			return -ENOMEM;
		r->env[n++] = kv.data;
	}
	return 0;
}

int xec_cmdreq(struct xcall *k, struct xcmdreq *r)
{
	json_object *o = xec_body(k);
	const char *cmd, *cwd;

	memset(r, 0, sizeof(*r));
	if (!o)
		return -EINVAL;
	cmd = sbx_json_str(o, "cmd");
	cwd = sbx_json_str(o, "cwd");
	if (parse_env(json_object_object_get(o, "env"), r) < 0 ||
	    (json_object_object_get(o, "cmd") && !cmd) ||
	    (cmd &&
	     strlen(cmd) != (size_t)json_object_get_string_len(json_object_object_get(o, "cmd")))) {
		xec_text(k, 400, "Invalid request");
		goto fail;
	}
	if (!cmd || !cmd[0]) {
		xec_text(k, 400, "Command is required");
		goto fail;
	}
	r->cmd = strdup(cmd);
	r->cwd = cwd && cwd[0] ? strdup(cwd) : NULL;
	if (!r->cmd || (cwd && cwd[0] && !r->cwd)) {
		xec_text(k, 500, "Internal Server Error");
		goto fail;
	}
	sbx_json_put(o);
	return 0;
fail:
	sbx_json_put(o);
	xec_cmdreq_release(r);
	return -EINVAL;
}

char **xec_argv(const struct xcmdreq *r)
{
	char **a = calloc(7, sizeof(char *)); /* six at most, then NULL */

	if (!a)
		return NULL;
	a[0] = "sh";
	a[1] = "-c";
	if (!r->cwd) {
		a[2] = r->cmd;
		return a;
	}
	a[2] = "cd -- \"$1\" && exec sh -c \"$2\"";
	a[3] = "sh";
	a[4] = r->cwd;
	a[5] = r->cmd;
	return a;
}

void xec_timestamp(char out[40])
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%09ldZ", base, (long)ts.tv_nsec);
}

/* --- file endpoints --- */

struct xfreq {
	struct sbxd_http_conn *c; /* NULL once the client left */
	struct sbxd_xfile *f;
};

static void xf_done(void *user, int err, const struct sbx_buf *body)
{
	struct xfreq *q = user;
	struct sbxd_http_resp resp = {.status = 200, .content_type = "application/json"};

	sbx_buf_init(&resp.body);
	if (err) {
		resp.status = 500;
		resp.content_type = "text/plain; charset=utf-8";
		sbx_buf_puts(&resp.body, "Internal Server Error\n");
	} else {
		sbx_buf_append(&resp.body, body->data, body->len);
		sbx_buf_putc(&resp.body, '\n');
	}
	q->f = NULL;
	if (sbxd_http_defer_reply(q->c, &resp) == 0)
		free(q); /* else on_close comes and frees it */
	sbx_buf_release(&resp.body);
}

static void xf_close(void *user)
{
	struct xfreq *q = user;

	sbxd_xfile_cancel(q->f); /* no answer follows: free here */
	free(q);
}

static const struct sbxd_http_defer_ops XF_OPS = {.on_close = xf_close};

static void file_op(struct xcall *k, enum sbxd_xfile_op op, int *ret)
{
	json_object *o = xec_body(k);
	json_object *jp = o ? json_object_object_get(o, "path") : NULL;
	json_object *jc = o ? json_object_object_get(o, "content") : NULL;
	const char *path = jp ? json_object_get_string(jp) : "";
	struct xfreq *q = NULL;
	int r;

	if (!o)
		return;
	if ((jp && !json_object_is_type(jp, json_type_string)) ||
	    (jc && !json_object_is_type(jc, json_type_string)) ||
	    (jp && strlen(path) != (size_t)json_object_get_string_len(jp)) ||
	    strlen(path) > MAX_PATH_BYTES) {
		xec_text(k, 400, "Invalid request");
		goto out;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		xec_text(k, 500, "Internal Server Error");
		goto out;
	}
	q->c = k->c;
	r = sbxd_xfile_start(k->d, k->v, op, path, jc ? json_object_get_string(jc) : "",
			     jc ? (size_t)json_object_get_string_len(jc) : 0, 0644, xf_done, q,
			     &q->f);
	if (r < 0) {
		free(q);
		xec_text(k, r == -ESRCH || r == -EAGAIN ? 503 : 500,
			 r == -ESRCH || r == -EAGAIN ? "Service Unavailable"
						     : "Internal Server Error");
		goto out;
	}
	sbxd_http_defer(k->c, k->req, &XF_OPS, q);
	*ret = SBX_HTTP_DEFERRED;
out:
	sbx_json_put(o);
}

/* --- routing --- */

bool sbxd_executor_path(const char *path)
{
	size_t n = strlen(SBXD_EXECUTOR_PREFIX);

	return !strncmp(path, SBXD_EXECUTOR_PREFIX, n) && (path[n] == '/' || !path[n]);
}

/* "/sandbox-executor/ID[/koyeb-sandbox]/EP" -> id and endpoint. */
static bool split(const char *path, char id[40], char ep[32])
{
	const char *p = path + strlen(SBXD_EXECUTOR_PREFIX), *e;
	size_t l;

	if (*p++ != '/')
		return false;
	l = strcspn(p, "/");
	if (!l || l >= 40 || p[l] != '/')
		return false;
	memcpy(id, p, l);
	id[l] = '\0';
	p += l + 1;
	if (!strncmp(p, "koyeb-sandbox/", 14))
		p += 14;
	e = p + strcspn(p, "/");
	if (*e || (size_t)(e - p) >= 32)
		return false;
	memcpy(ep, p, (size_t)(e - p));
	ep[e - p] = '\0';
	return true;
}

static bool bearer_ok(const struct sbxd_svc *v, const struct sbxd_http_req *req)
{
	const char *secret = sbxd_spec_getenv(v->spec.env, "SANDBOX_SECRET");
	const char *a = sbxd_http_header(req, "Authorization");

	if (!secret || !secret[0] || !a || strncmp(a, "Bearer ", 7) || !a[7])
		return false;
	return sbxd_token_equal(secret, strlen(secret), a + 7, strlen(a + 7));
}

struct endpoint {
	const char *name;
	const char *method; /* NULL: any */
};

static const struct endpoint EPS[] = {
    {"run", NULL},
    {"run_streaming", NULL},
    {"write_file", NULL},
    {"read_file", NULL},
    {"delete_file", NULL},
    {"make_dir", NULL},
    {"delete_dir", NULL},
    {"list_dir", NULL},
    {"bind_port", NULL},
    {"unbind_port", NULL},
    {"start_process", "POST"},
    {"list_processes", "GET"},
    {"kill_process", "POST"},
    {"process_logs_streaming", "GET"},
};

static int dispatch(struct xcall *k, const char *ep)
{
	int r = SBX_HTTP_RESPOND;

	if (!strcmp(ep, "run"))
		xec_run(k, false, &r);
	else if (!strcmp(ep, "run_streaming"))
		xec_run(k, true, &r);
	else if (!strcmp(ep, "write_file"))
		file_op(k, SBXD_XF_WRITE, &r);
	else if (!strcmp(ep, "read_file"))
		file_op(k, SBXD_XF_READ, &r);
	else if (!strcmp(ep, "delete_file"))
		file_op(k, SBXD_XF_DELETE, &r);
	else if (!strcmp(ep, "make_dir"))
		file_op(k, SBXD_XF_MKDIR, &r);
	else if (!strcmp(ep, "delete_dir"))
		file_op(k, SBXD_XF_RMDIR, &r);
	else if (!strcmp(ep, "list_dir"))
		file_op(k, SBXD_XF_LIST, &r);
	else if (!strcmp(ep, "bind_port"))
		xec_bind_port(k);
	else if (!strcmp(ep, "unbind_port"))
		xec_unbind_port(k);
	else if (!strcmp(ep, "start_process"))
		xec_start_process(k, &r);
	else if (!strcmp(ep, "list_processes"))
		xec_list_processes(k);
	else if (!strcmp(ep, "kill_process"))
		xec_kill_process(k);
	else
		xec_process_logs(k, &r);
	return r;
}

/* After the route and the sandbox are known: auth, method, running. */
static int serve(struct xcall *k, const char *ep)
{
	const struct endpoint *e = NULL;

	for (size_t i = 0; i < sizeof(EPS) / sizeof(EPS[0]); i++)
		if (!strcmp(EPS[i].name, ep))
			e = &EPS[i];
	if (!strcmp(ep, "health")) {
		if (k->v->inst == SBX_INST_HEALTHY && sbxd_sandbox_pid(k->v))
			xec_json(k, 200, "{\"status\":\"ok\"}");
		else
			xec_text(k, 503, "Service Unavailable");
		return SBX_HTTP_RESPOND;
	}
	if (!e) {
		xec_text(k, 404, "404 page not found");
		return SBX_HTTP_RESPOND;
	}
	if (!bearer_ok(k->v, k->req)) {
		xec_text(k, 401, "Unauthorized");
		return SBX_HTTP_RESPOND;
	}
	sbxd_http_conn_set_authed(k->c);
	if (e->method && strcmp(e->method, k->req->method)) {
		xec_text(k, 405, "Method not allowed");
		return SBX_HTTP_RESPOND;
	}
	if (k->v->inst != SBX_INST_HEALTHY || !sbxd_sandbox_pid(k->v) || !xec_get(k->d)) {
		xec_text(k, 503, "Service Unavailable");
		return SBX_HTTP_RESPOND;
	}
	return dispatch(k, ep);
}

int sbxd_executor_handle(struct sbxd *d, struct sbxd_http_conn *c, const struct sbxd_http_req *req,
			 const char *body, size_t len, struct sbxd_http_resp *resp)
{
	struct xcall k = {.d = d, .c = c, .req = req, .body = body, .len = len, .resp = resp};
	const char *rk = sbxd_http_header(req, "X-Routing-Key");
	char id[40], ep[32];
	int r = SBX_HTTP_RESPOND;

	if (!split(req->path, id, ep) || !(k.v = sbxd_store_svc(&d->store, id)) || k.v->tomb ||
	    k.v->deleting || (rk && strcmp(rk, k.v->id)))
		xec_text(&k, 404, "404 page not found");
	else if (!c)
		xec_text(&k, 500, "Internal Server Error");
	else
		r = serve(&k, ep);
	sbx_debug("executor %s %s -> %d", req->method, req->path,
		  r == SBX_HTTP_DEFERRED ? 0 : resp->status);
	return r;
}

int sbxd_executor_metadata(struct sbxd *d, struct sbxd_svc *v, json_object *dep)
{
	json_object *md = json_object_new_object(), *sb = json_object_new_object();
	json_object *pp = json_object_new_array();
	struct sbx_buf url = SBX_BUF_INIT;
	int port = v->tomb || v->deleting || d->test_mode ? -1 : sbxd_portfwd_port(d, v);
	int r = -ENOMEM;

	if (!md || !sb || !pp)
		goto out;
	if (sbx_buf_printf(&url, "http://%s:%d%s/%s", d->listen_host,
			   d->http ? sbxd_http_server_port(d->http) : 0, SBXD_EXECUTOR_PREFIX,
			   v->id) < 0 ||
	    sbx_json_add_str(sb, "public_url", url.data) < 0 ||
	    sbx_json_add_str(sb, "routing_key", v->id) < 0)
		goto out;
	if (port > 0) {
		json_object *p = json_object_new_object();

		if (!p || sbx_json_add_str(p, "host", d->listen_host) < 0 ||
		    sbx_json_add_int(p, "public_port", port) < 0 ||
		    sbx_json_add_int(p, "port", 3031) < 0 ||
		    sbx_json_add_str(p, "protocol", "tcp") < 0 ||
		    json_object_array_add(pp, p) < 0) {
			sbx_json_put(p);
			goto out;
		}
	}
	r = sbx_json_add(md, "sandbox", sb);
	sb = NULL;
	if (r == 0)
		r = sbx_json_add(md, "proxy_ports", pp);
	pp = NULL;
	if (r == 0)
		r = sbx_json_add(dep, "metadata", md);
	md = NULL;
out:
	sbx_json_put(md);
	sbx_json_put(sb);
	sbx_json_put(pp);
	sbx_buf_release(&url);
	return r;
}

void sbxd_executor_forget(struct sbxd *d, const char *svc_id)
{
	if (!d->executor)
		return;
	xec_procs_forget(d, svc_id);
	sbxd_portfwd_forget(d, svc_id);
}

void sbxd_executor_free(struct sbxd *d)
{
	if (!d->executor)
		return;
	xec_procs_free(d);
	sbxd_portfwd_free_all(d);
	free(d->executor);
	d->executor = NULL;
}
