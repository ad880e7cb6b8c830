/**
 * @file sbx/sandbox.h
 * @brief Sandbox lifecycle: create, open, wait_ready, status, delete, list.
 *
 * A sandbox is the Koyeb triple of app, service and instance, created through
 * the REST sequence of docs/executor-protocol.md §2 (POST /v1/apps, POST /v1/services
 * with a deployment definition, GET /v1/deployment/{id}/scaling until an
 * instance id appears, GET /v1/instances/{id} until HEALTHY). Its id is the
 * service id, which survives instance replacement. A `struct sbx_sandbox` is a
 * handle; it is thread-safe and refers to its client (borrowed).
 */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbx/client.h"
#include "sbx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_sandbox;

/** Instance status (docs/executor-protocol.md §2.5). */
enum sbx_status {
	SBX_STATUS_ALLOCATING,
	SBX_STATUS_STARTING,
	SBX_STATUS_HEALTHY,
	SBX_STATUS_UNHEALTHY,
	SBX_STATUS_STOPPING,
	SBX_STATUS_STOPPED,
	SBX_STATUS_ERROR,
	SBX_STATUS_SLEEPING,
};

/** "HEALTHY", "STOPPED", … (static string). */
SBX_API const char *sbx_status_name(enum sbx_status s);
/** Parses an upper-case status; unknown or NULL gives SBX_STATUS_ALLOCATING
 *  for NULL (the API default) and SBX_STATUS_ERROR for anything unknown. */
SBX_API enum sbx_status sbx_status_parse(const char *s);

/** Options for sbx_sandbox_create(). Zero-initialise; every field optional. */
struct sbx_create_opts {
	const char *image;	   /**< default "koyeb/sandbox" */
	const char *name;	   /**< default "quick-sandbox" */
	bool wait_ready;	   /**< also wait for HEALTHY (fails on timeout) */
	const char *instance_type; /**< default "nano" */
	/** NULL: the current SDKs' layout, 3030 over HTTP routed at
	 *  /koyeb-sandbox/ (the executor) and 3031 as a TCP proxy port (the
	 *  forwarder); else these ports over HTTP, the first routed at "/".
	 *  The service is of type SANDBOX with life_cycle.delete_when_empty. */
	const int *ports;
	size_t n_ports;
	bool no_ports;		/**< no ports at all (service type WORKER) */
	const char *const *env; /**< "KEY=VALUE" strings */
	size_t n_env;
	const char *const *regions; /**< default {"eu"} */
	size_t n_regions;
	double timeout_s;	/**< overall budget; 0 means 300 */
	double poll_interval_s; /**< wait_ready poll period (the longest wait between polls); 0
				   means 2.0 */
};

/** Creates a sandbox. On success returns 0 and a handle in *ret (free with
 *  sbx_sandbox_free; the sandbox itself lives on until sbx_sandbox_delete).
 *  With the client's id_cache_dir, its name and id are stored there for
 *  sbx_sandbox_open_ids().
 *  If a step after the app creation fails, what was created is deleted
 *  again before returning the error. */
SBX_API int sbx_sandbox_create(struct sbx_client *c, const struct sbx_create_opts *opts,
			       struct sbx_sandbox **ret, struct sbx_err *err);

/** Opens an existing sandbox by service id or by name (the name given at
 *  creation, or the full service name). Resolves the current instance id and
 *  reads the sandbox secret back from the deployment definition. */
SBX_API int sbx_sandbox_open(struct sbx_client *c, const char *id_or_name, struct sbx_sandbox **ret,
			     struct sbx_err *err);

/** Opens a sandbox for exec: only its ids. Resolves the name (or id) and
 *  the current instance with at most two REST calls and does not read the
 *  deployment, so image, instance_type, region and secret are "" on the
 *  handle. When the client has an id_cache_dir, the ids may come from it
 *  with no REST call at all (sbx_sandbox_from_cache() then says so), and
 *  ids resolved here are stored there. A cached handle is as good as the
 *  API's answer was when it was stored: if its first exec fails with
 *  -SBX_ENOTFOUND or -SBX_ENOTHEALTHY before any output, call
 *  sbx_sandbox_uncache() and open again (the instance is gone, replaced, or
 *  belongs to a deleted sandbox whose name was given to a new one). */
SBX_API int sbx_sandbox_open_ids(struct sbx_client *c, const char *id_or_name,
				 struct sbx_sandbox **ret, struct sbx_err *err);

/** true when the handle's ids came from the client's id cache, unchecked. */
SBX_API bool sbx_sandbox_from_cache(const struct sbx_sandbox *sb);

/** Forgets every entry of the client's id cache that names this sandbox's
 *  service or its name (after a failed exec on a cached handle, or a
 *  delete). Does nothing without an id cache;
 *  failures are ignored (a cache). */
SBX_API void sbx_sandbox_uncache(const struct sbx_sandbox *sb);

/** Polls the instance, first after 50 ms and backing off to every poll_s
 *  seconds (0 means 2.0), until it is HEALTHY
 *  (returns 0) or timeout_s passes (-SBX_ETIMEDOUT). A terminal status
 *  (STOPPING, STOPPED, ERROR) fails at once with -SBX_ENOTHEALTHY. */
SBX_API int sbx_sandbox_wait_ready(struct sbx_sandbox *sb, double timeout_s, double poll_s,
				   struct sbx_err *err);

/** One GET of the instance. Returns 0 and the status in *ret; on failure a
 *  negative errno (the SDK would say ERROR; a C caller can tell why). When
 *  the instance is gone (404), the instance id is resolved again
 *  (sbx_sandbox_refresh) and a new instance is asked once more. */
SBX_API int sbx_sandbox_status(struct sbx_sandbox *sb, enum sbx_status *ret, struct sbx_err *err);

/** true exactly when sbx_sandbox_status() succeeds with HEALTHY. */
SBX_API bool sbx_sandbox_is_healthy(struct sbx_sandbox *sb);

/** Deletes the service, then the app (back to back, like the SDK). */
SBX_API int sbx_sandbox_delete(struct sbx_sandbox *sb, struct sbx_err *err);

/** After sbx_sandbox_delete(): waits until the control plane no longer has
 *  the service (404, or status DELETED), polling with the back-off of
 *  sbx_sandbox_wait_ready(). Deletion is asynchronous in the API (the
 *  service is DELETING while its instance stops), so a caller that needs
 *  the name free again, or the sandbox gone from listings, waits here.
 *  -SBX_ETIMEDOUT after @p timeout_s seconds. */
SBX_API int sbx_sandbox_wait_deleted(struct sbx_sandbox *sb, double timeout_s, struct sbx_err *err);

/** Frees the handle (not the sandbox). Accepts NULL. */
SBX_API void sbx_sandbox_free(struct sbx_sandbox *sb);

/** Accessors; borrowed strings that live as long as the handle. Never NULL
 *  (empty string when unknown). The secret is never logged by libsbx. */
SBX_API const char *sbx_sandbox_id(const struct sbx_sandbox *sb);   /* service id */
SBX_API const char *sbx_sandbox_name(const struct sbx_sandbox *sb); /* user name */
SBX_API const char *sbx_sandbox_app_id(const struct sbx_sandbox *sb);
SBX_API const char *sbx_sandbox_service_id(const struct sbx_sandbox *sb);
SBX_API const char *sbx_sandbox_deployment_id(const struct sbx_sandbox *sb);
SBX_API const char *sbx_sandbox_instance_id(const struct sbx_sandbox *sb);
SBX_API const char *sbx_sandbox_image(const struct sbx_sandbox *sb);
SBX_API const char *sbx_sandbox_instance_type(const struct sbx_sandbox *sb);
SBX_API const char *sbx_sandbox_region(const struct sbx_sandbox *sb);
SBX_API const char *sbx_sandbox_secret(const struct sbx_sandbox *sb);
SBX_API struct sbx_client *sbx_sandbox_client(const struct sbx_sandbox *sb);

/** Re-resolves the instance id (after an instance was replaced). */
SBX_API int sbx_sandbox_refresh(struct sbx_sandbox *sb, struct sbx_err *err);

/** One entry of sbx_sandbox_list(). */
struct sbx_sandbox_info {
	char *id;   /**< service id */
	char *name; /**< user name (service name without "sandbox-service-") */
	char *app_id;
	char *status;	  /**< service status word */
	char *created_at; /**< RFC 3339, may be "" */
};

/** Lists the sandboxes of the account (services named sandbox-service-*).
 *  Returns 0, an array in *ret and its length in *n; free with
 *  sbx_sandbox_info_free(*ret, *n). */
SBX_API int sbx_sandbox_list(struct sbx_client *c, struct sbx_sandbox_info **ret, size_t *n,
			     struct sbx_err *err);
SBX_API void sbx_sandbox_info_free(struct sbx_sandbox_info *v, size_t n);

#ifdef __cplusplus
}
#endif
#endif
