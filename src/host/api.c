/* api.c - routing, authentication and error replies; see api.h.
 *
 * The route table maps a method and a path pattern ("*" = one id segment)
 * to a handler. A path that matches some pattern with another method gets
 * 405 with an Allow header; no match at all is 404. Authentication comes
 * first: without the token every path is 401.
 */
#include "host/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "host/daemon.h"
#include "host/exec.h"
#include "host/executor.h"
#include "host/http/utf8.h"
#include "host/render.h"
#include "host/token.h"
#include "util/log.h"

#define MAX_SEGS 6
#define MAX_SEG	 128

struct route {
	const char *method;
	const char *pattern;
	void (*fn)(struct sbxd_api_call *k);
};

static const struct route ROUTES[] = {
    {"POST", "v1/apps", sbxd_api_apps_create},
    {"GET", "v1/apps", sbxd_api_apps_list},
    {"GET", "v1/apps/*", sbxd_api_apps_get},
    {"DELETE", "v1/apps/*", sbxd_api_apps_delete},
    {"POST", "v1/services", sbxd_api_services_create},
    {"GET", "v1/services", sbxd_api_services_list},
    {"GET", "v1/services/*", sbxd_api_services_get},
    {"DELETE", "v1/services/*", sbxd_api_services_delete},
    {"GET", "v1/deployments/*", sbxd_api_deployments_get},
    {"GET", "v1/deployment/*/scaling", sbxd_api_scaling_get},
    {"GET", "v1/deployments/*/scaling", sbxd_api_scaling_get},
    {"GET", "v1/instances", sbxd_api_instances_list},
    {"GET", "v1/instances/*", sbxd_api_instances_get},
    {"GET", "v1/streams/instances/exec", NULL}, /* WebSocket, see exec_route() */
};

void sbxd_api_reply(struct sbxd_api_call *k, int status, json_object *o)
{
	sbx_buf_reset(&k->resp->body);
	if (!o || sbx_json_dump(&k->resp->body, o) < 0) {
		sbx_buf_reset(&k->resp->body);
		sbx_buf_puts(
		    &k->resp->body,
		    "{\"status\":500,\"code\":\"internal\",\"message\":\"out of memory\"}");
		status = 500;
	}
	k->resp->status = status;
	sbx_json_put(o);
}

static const char *default_code(int status)
{
	switch (status) {
	case 400: return "invalid_argument";
	case 401: return "unauthenticated";
	case 403: return "permission_denied";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "already_exists";
	case 426: return "upgrade_required";
	case 503: return "unavailable";
	default: return "internal";
	}
}

void sbxd_api_error(struct sbxd_api_call *k, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sbxd_api_reply(k, status,
		       sbxd_render_error(status, code ? code : default_code(status), msg));
}

void sbxd_api_field_errors(struct sbxd_api_call *k, const struct sbxd_verrs *errs, const char *msg)
{
	sbxd_api_reply(k, 400, sbxd_render_field_errors(errs, msg));
}

json_object *sbxd_api_body(struct sbxd_api_call *k)
{
	json_object *o = NULL;

	if (!k->len) {
		sbxd_api_error(k, 400, NULL, "a JSON object body is required");
		return NULL;
	}
	/* what is stored (db.json) and echoed must stay valid UTF-8 */
	if (!sbxd_utf8_valid(k->body, k->len)) {
		sbxd_api_error(k, 400, NULL, "the body is not valid UTF-8");
		return NULL;
	}
	if (sbx_json_parse(k->body, k->len, &o) < 0) {
		sbxd_api_error(k, 400, NULL, "the body is not valid JSON");
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		sbx_json_put(o);
		sbxd_api_error(k, 400, NULL, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

/* Splits "/a/b/c" into segments (an empty trailing one is dropped).
 * Returns the count, or -1 when there are too many or one is too long. */
static int split_path(const char *path, char segs[MAX_SEGS][MAX_SEG])
{
	int n = 0;

	while (*path == '/')
		path++;
	while (*path) {
		size_t l = strcspn(path, "/");

		if (n == MAX_SEGS || l >= MAX_SEG || l == 0)
			return -1;
		memcpy(segs[n], path, l);
		segs[n++][l] = '\0';
		path += l;
		if (*path == '/')
			path++;
	}
	return n;
}

/* True when segs match pattern; *id gets the "*" segment. */
static bool match(const char *pattern, char segs[MAX_SEGS][MAX_SEG], int n, const char **id)
{
	char pat[MAX_SEGS][MAX_SEG];
	int pn = split_path(pattern, pat), i;

	if (pn != n)
		return false;
	for (i = 0; i < n; i++) {
		if (!strcmp(pat[i], "*"))
			*id = segs[i];
		else if (strcmp(pat[i], segs[i]))
			return false;
	}
	return true;
}

/* The bearer token of the Authorization header, or NULL. */
static const char *header_token(const struct sbxd_http_req *req)
{
	const char *a = sbxd_http_header(req, "Authorization");

	if (!a || strncasecmp(a, "Bearer ", 7))
		return NULL;
	a += 7;
	while (*a == ' ')
		a++;
	return a;
}

/* Looks at every offered subprotocol: *offered_bearer when "Bearer" is one,
 * and the token is the entry right after it. Copies it into tok. */
static void subprotocol_token(const struct sbxd_http_req *req, bool *offered_bearer, char *tok,
			      size_t toklen)
{
	bool after_bearer = false;
	size_t i;

	*offered_bearer = false;
	tok[0] = '\0';
	for (i = 0; i < req->nheaders; i++) {
		const char *v = req->headers[i].value;

		if (strcasecmp(req->headers[i].name, "Sec-WebSocket-Protocol"))
			continue;
		while (*v) {
			size_t l;

			while (*v == ' ' || *v == '\t' || *v == ',')
				v++;
			l = strcspn(v, ", \t");
			if (!l)
				break;
			if (after_bearer && !tok[0] && l < toklen) {
				memcpy(tok, v, l);
				tok[l] = '\0';
			}
			after_bearer = l == 6 && !strncasecmp(v, "Bearer", 6);
			*offered_bearer |= after_bearer;
			v += l;
		}
	}
}

static bool authorized(const struct sbxd *d, const char *t)
{
	return t && sbxd_token_equal(d->token.data, d->token.len, t, strlen(t));
}

/* GET /v1/streams/instances/exec: authenticate, check the id, upgrade. */
static int exec_route(struct sbxd_api_call *k, struct sbxd_http_conn *c, bool header_ok)
{
	const struct sbxd_http_req *req = k->req;
	const char *ver = sbxd_http_header(req, "Sec-WebSocket-Version");
	char tok[256], id[64] = "", type[32] = "";
	bool offered_bearer, by_service;
	struct sbxd_svc *v;
	int r;

	subprotocol_token(req, &offered_bearer, tok, sizeof(tok));
	if (!header_ok && !authorized(k->d, tok[0] ? tok : NULL)) {
		sbxd_api_error(k, 401, NULL, "a valid API token is required");
		return SBX_HTTP_RESPOND;
	}
	sbxd_http_conn_set_authed(c);
	if (!sbxd_http_header_has_token(req, "Upgrade", "websocket")) {
		sbxd_api_error(k, 426, NULL, "this endpoint only speaks WebSocket");
		snprintf(k->resp->extra, sizeof(k->resp->extra), "Upgrade: websocket\r\n");
		return SBX_HTTP_RESPOND;
	}
	if (!ver || strcmp(ver, "13")) {
		sbxd_api_error(k, 426, NULL, "WebSocket version 13 is required");
		snprintf(k->resp->extra, sizeof(k->resp->extra), "Sec-WebSocket-Version: 13\r\n");
		return SBX_HTTP_RESPOND;
	}
	sbxd_http_query_get(req->query, "id", id, sizeof(id));
	if (sbxd_http_query_get(req->query, "id_type", type, sizeof(type)) < 0)
		sbxd_http_query_get(req->query, "idType", type, sizeof(type));
	by_service = !strcmp(type, "SERVICE_ID");
	if (id[0]) {
		v = by_service ? sbxd_store_svc(&k->d->store, id)
			       : sbxd_store_svc_by_inst(&k->d->store, id);
		if (!v) {
			sbxd_api_error(k, 404, NULL, "%s not found",
				       by_service ? "service" : "instance");
			return SBX_HTTP_RESPOND;
		}
	}
	r = sbxd_exec_accept(k->d, c, req, id, by_service, offered_bearer ? "Bearer" : NULL);
	if (r == -EINVAL) {
		sbxd_api_error(k, 400, NULL, "not a valid WebSocket (RFC 6455) upgrade request");
		return SBX_HTTP_RESPOND;
	}
	if (r < 0) {
		sbxd_api_error(k, 500, NULL, "cannot start the session: %s", strerror(-r));
		return SBX_HTTP_RESPOND;
	}
	return SBX_HTTP_UPGRADED;
}

/* Dispatches through ROUTES: 404 for an unknown path, 405 (with Allow) for
 * a known path with another method. */
static void route(struct sbxd_api_call *k, char segs[MAX_SEGS][MAX_SEG], int n)
{
	char allow[128] = "";
	size_t i;

	for (i = 0; i < sizeof(ROUTES) / sizeof(ROUTES[0]); i++) {
		const char *id = NULL;

		if (!match(ROUTES[i].pattern, segs, n, &id))
			continue;
		if (!strcmp(ROUTES[i].method, k->req->method) && ROUTES[i].fn) {
			k->id = id;
			ROUTES[i].fn(k);
			return;
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			 allow[0] ? ", " : "", ROUTES[i].method);
	}
	if (!allow[0]) {
		sbxd_api_error(k, 404, NULL, "no such path: %s", k->req->path);
		return;
	}
	sbxd_api_error(k, 405, NULL, "method %s is not allowed here (allowed: %s)", k->req->method,
		       allow);
	snprintf(k->resp->extra, sizeof(k->resp->extra), "Allow: %s\r\n", allow);
}

int sbxd_api_handle(void *ctx, struct sbxd_http_conn *c, const struct sbxd_http_req *req,
		    const char *body, size_t len, struct sbxd_http_resp *resp)
{
	struct sbxd_api_call k = {.d = ctx, .req = req, .body = body, .len = len, .resp = resp};
	char segs[MAX_SEGS][MAX_SEG];
	int n = split_path(req->path, segs);
	bool auth_ok = authorized(k.d, header_token(req));
	const char *dummy = NULL;
	int r = SBX_HTTP_RESPOND;

	/* a connection that showed the token keeps its reserved slot */
	if (auth_ok)
		sbxd_http_conn_set_authed(c);

	if (sbxd_executor_path(req->path)) {
		/* the sandbox's executor: its own token (the sandbox secret) */
		return sbxd_executor_handle(k.d, c, req, body, len, resp);
	} else if (n == 4 && match("v1/streams/instances/exec", segs, n, &dummy)) {
		if (!strcmp(req->method, "GET"))
			r = exec_route(&k, c, auth_ok);
		else if (!auth_ok)
			sbxd_api_error(&k, 401, NULL, "a valid API token is required");
		else
			route(&k, segs, n);
	} else if (!auth_ok) {
		sbxd_api_error(&k, 401, NULL, "a valid API token is required");
	} else if (n < 0) {
		sbxd_api_error(&k, 404, NULL, "no such path");
	} else {
		route(&k, segs, n);
	}
	sbx_debug("%s %s%s%s -> %d", req->method, req->path, req->query[0] ? "?" : "", req->query,
		  r == SBX_HTTP_UPGRADED ? 101 : resp->status);
	return r;
}
