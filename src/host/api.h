/* api.h - the REST API of sbxd: routing, authentication, error bodies.
 *
 * Serves the subset of the Koyeb API that sandboxes use (see docs/sbxd.md
 * and docs/executor-protocol.md): apps, services, deployments, deployment scaling,
 * instances, and the exec WebSocket. Every request needs the API token, as
 * "Authorization: Bearer T" or, on the exec WebSocket, as the subprotocol
 * pair "Sec-WebSocket-Protocol: Bearer, T". Errors use the Error body
 * {"status","code","message"}; validation errors add "fields".
 */
#ifndef SBX_HOST_API_H
#define SBX_HOST_API_H

#include <stdarg.h>

#include "host/http/server.h"
#include "host/spec.h"
#include "util/json.h"

struct sbxd;

/* The server's handler (ctx is the struct sbxd). */
int sbxd_api_handle(void *ctx, struct sbxd_http_conn *c, const struct sbxd_http_req *req,
		    const char *body, size_t len, struct sbxd_http_resp *resp);

/* --- for api.c and api_handlers.c only --- */

/* A request as the handlers see it. */
struct sbxd_api_call {
	struct sbxd *d;
	const struct sbxd_http_req *req;
	const char *body;
	size_t len;
	struct sbxd_http_resp *resp;
	const char *id; /* the {id} path segment, or NULL */
};

/* Sets resp to status with o serialised (takes o; NULL means 500). */
void sbxd_api_reply(struct sbxd_api_call *k, int status, json_object *o);
/* Sets resp to an Error body. */
void sbxd_api_error(struct sbxd_api_call *k, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets resp to a 400 ErrorWithFields. */
void sbxd_api_field_errors(struct sbxd_api_call *k, const struct sbxd_verrs *errs, const char *msg);
/* Parses the body as one JSON object; on failure the 400 is already set and
 * NULL returned. New reference. */
json_object *sbxd_api_body(struct sbxd_api_call *k);

void sbxd_api_apps_create(struct sbxd_api_call *k);
void sbxd_api_apps_list(struct sbxd_api_call *k);
void sbxd_api_apps_get(struct sbxd_api_call *k);
void sbxd_api_apps_delete(struct sbxd_api_call *k);
void sbxd_api_services_create(struct sbxd_api_call *k);
void sbxd_api_services_list(struct sbxd_api_call *k);
void sbxd_api_services_get(struct sbxd_api_call *k);
void sbxd_api_services_delete(struct sbxd_api_call *k);
void sbxd_api_deployments_get(struct sbxd_api_call *k);
void sbxd_api_scaling_get(struct sbxd_api_call *k);
void sbxd_api_instances_list(struct sbxd_api_call *k);
void sbxd_api_instances_get(struct sbxd_api_call *k);

#endif
