/* bodies.h - JSON bodies of the lifecycle calls and parsers of their replies.
 *
 * Pure functions: no I/O, no clock, no randomness except in sbx_secret_new().
 * The builders produce exactly the shapes of docs/executor-protocol.md §2.2/§2.3; the
 * parsers accept what §0 asks for (missing and unknown fields, int64 as
 * strings) and refuse what a path or header could be built from unless it is
 * a plausible id (sbx_id_valid), because ids from replies end up in URLs.
 *
 * Ownership: parsers borrow the json_object and return strings the caller
 * frees (struct fields are released with the matching _release function,
 * which accepts a zeroed struct).
 */
#ifndef SBX_API_BODIES_H
#define SBX_API_BODIES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "sbx/sandbox.h"
#include "util/buf.h"
#include "util/json.h"

#define SBX_APP_PREFIX		  "sandbox-app-"
#define SBX_SERVICE_PREFIX	  "sandbox-service-"
#define SBX_DEFAULT_NAME	  "quick-sandbox"
#define SBX_DEFAULT_IMAGE	  "koyeb/sandbox"
#define SBX_DEFAULT_INSTANCE_TYPE "nano"
#define SBX_DEFAULT_REGION	  "eu"
/* 32 random bytes, URL-safe base64 without padding: 43 characters. */
#define SBX_SECRET_LEN 43
/* Longest id we accept from a reply or a caller (Koyeb ids are UUIDs). */
#define SBX_ID_MAX 128
/* Longest user name; keeps "sandbox-app-<name>-<secs>" reasonable. */
#define SBX_NAME_MAX 63

/* true when s is 1..SBX_ID_MAX characters of [A-Za-z0-9_-]: safe in a path. */
bool sbx_id_valid(const char *s);
/* true when s is 1..SBX_NAME_MAX characters of [A-Za-z0-9._-]: safe in a
 * JSON string, a path and a query without escaping. */
bool sbx_name_valid(const char *s);

/* Fills out[SBX_SECRET_LEN + 1] with a new secret. 0 or -errno. */
int sbx_secret_new(char *out);

/* Appends {"name":"sandbox-app-<name>-<now>"} to out. name NULL means
 * SBX_DEFAULT_NAME. 0, -EINVAL (bad name) or -ENOMEM. */
int sbx_body_create_app(struct sbx_buf *out, const char *name, time_t now);

/* Appends the POST /v1/services body for app_id to out (§2.3): name, type
 * WEB/WORKER, docker.image, env (SANDBOX_SECRET=secret first, as in the
 * protocol's example, then the user entries in order; a user SANDBOX_SECRET
 * is dropped), ports, routes,
 * instance_types, scalings {1,1}, regions. Routes: with the default ports
 * the SDK's two routes [{3030,"/koyeb-sandbox/"},{3031,"/"}]; with caller
 * ports one route {first port,"/"} (a route may only point at an exposed
 * port, so the SDK's fixed routes would be refused); with no ports none.
 * Returns 0, -EINVAL (bad name, env entry without '=' or with an empty key,
 * port outside 1..65535, empty region/type/image) or -ENOMEM. */
int sbx_body_create_service(struct sbx_buf *out, const char *app_id,
			    const struct sbx_create_opts *o, const char *secret);

/* What the lifecycle needs from a service object. */
struct sbx_service_info {
	char *id;
	char *app_id;
	char *name; /* full service name */
	char *status;
	char *latest_deployment_id;
	char *created_at;
	char *type; /* "WEB", "SANDBOX", …; "" when the reply has none */
};
void sbx_service_info_release(struct sbx_service_info *s);

/* The sandbox name of a service, or NULL when it is not a sandbox: ours
 * are named SBX_SERVICE_PREFIX + name; the current official SDKs name the
 * service after the sandbox and give it the type SANDBOX. Borrowed from s. */
const char *sbx_service_sandbox_name(const struct sbx_service_info *s);

/* What open() needs from a deployment definition. */
struct sbx_deploy_info {
	char *image;
	char *instance_type;
	char *region;
	char *secret; /* SANDBOX_SECRET from definition.env, "" if absent */
	char *name;   /* definition.name */
	/* metadata (docs/executor-protocol.md §2.5); "" / 0 when absent or
	 * unusable (not http(s), not printable) */
	char *public_url;  /* metadata.sandbox.public_url */
	char *routing_key; /* metadata.sandbox.routing_key */
	char *proxy_host;  /* metadata.proxy_ports[0].host */
	int proxy_port;	   /* metadata.proxy_ports[0].public_port, 1..65535 */
};
void sbx_deploy_info_release(struct sbx_deploy_info *d);

/* {"app":{"id":…}} → *ret_id (caller frees). 0, -EPROTO or -ENOMEM. */
int sbx_parse_app_reply(json_object *o, char **ret_id);
/* {"service":{…}} → info; id is required and must be valid. */
int sbx_parse_service_reply(json_object *o, struct sbx_service_info *ret);
/* One element of a services list. */
int sbx_parse_service(json_object *svc, struct sbx_service_info *ret);
/* {"replicas":[{"instances":[{"id":…}]}]} → the first instance id found, or
 * NULL in *ret_id when there is none yet. 0, -EPROTO or -ENOMEM. */
int sbx_parse_scaling_reply(json_object *o, char **ret_id);
/* {"instance":{"status":…}} → status (missing → ALLOCATING). */
int sbx_parse_instance_reply(json_object *o, enum sbx_status *ret);
/* {"deployment":{"definition":{…}}} → info. */
int sbx_parse_deployment_reply(json_object *o, struct sbx_deploy_info *ret);
/* {"app":{"domains":[{"name":…}]}} → the first domain's name in *ret
 * (caller frees), "" when there is none or it is not a plain host name. */
int sbx_parse_app_domain(json_object *o, char **ret);
/* {"services":[…]} → the array (borrowed), its length, and whether the
 * server says there is more (has_next as Koyeb spells it, has_more as
 * older sbxd did, or a full page when neither is there). */
int sbx_parse_services_page(json_object *o, size_t limit, json_object **ret_arr, size_t *ret_n,
			    bool *ret_more);

#endif
