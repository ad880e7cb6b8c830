/* executor.h - the in-sandbox executor API (docs/executor-protocol.md),
 * served by sbxd itself for every sandbox.
 *
 * Koyeb's current SDKs talk HTTP to an executor process inside the sandbox
 * once the deployment is healthy. sbxd plays that process: each sandbox's
 * executor is reached on sbxd's own listener under
 * SBXD_EXECUTOR_PREFIX/<service id>/ (an optional "koyeb-sandbox" segment
 * after the id is accepted, since the SDK appends it to public_url), which
 * the deployment's metadata names as sandbox.public_url. Its token is the
 * sandbox's SANDBOX_SECRET, not sbxd's API token; an X-Routing-Key header,
 * when sent, must be the sandbox's routing key (its service id).
 *
 * Commands run through xcmd.h (the spawner, as exec does) and file
 * operations through xfile.h (inside the sandbox's namespaces, as its
 * root); nothing runs on the host. Background processes (executor_proc.c)
 * and the port forwarder (portfwd.c) live until the sandbox is deleted.
 */
#ifndef SBX_HOST_EXECUTOR_H
#define SBX_HOST_EXECUTOR_H

#include <stdbool.h>

#include "host/http/server.h"
#include "util/json.h"

struct sbxd;
struct sbxd_svc;

#define SBXD_EXECUTOR_PREFIX "/sandbox-executor"

/* True when path belongs to the executor (the API handler passes it on). */
bool sbxd_executor_path(const char *path);

/* The handler for those paths; same contract as sbxd_http_handler_fn. */
int sbxd_executor_handle(struct sbxd *d, struct sbxd_http_conn *c, const struct sbxd_http_req *req,
			 const char *body, size_t len, struct sbxd_http_resp *resp);

/* Adds "metadata":{"sandbox":{public_url,routing_key},"proxy_ports":[…]}
 * to a rendered deployment object (borrowed). 0 or -ENOMEM. */
int sbxd_executor_metadata(struct sbxd *d, struct sbxd_svc *v, json_object *deployment);

/* The sandbox of svc_id is gone: its processes' records and its forwarder
 * go too. */
void sbxd_executor_forget(struct sbxd *d, const char *svc_id);

/* Frees everything (shutdown). Accepts NULL. */
void sbxd_executor_free(struct sbxd *d);

#endif
