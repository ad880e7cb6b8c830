/* store.h - the records sbxd serves: apps and services (each service has
 * exactly one deployment and one instance, so they live in the service).
 *
 * Live records are persisted to STATE/db.json (store/db.c). Deleted ones
 * become tombstones: kept in memory only, so GET still answers DELETED /
 * STOPPED for a while; at most SBX_STORE_MAX_TOMBS of each kind are kept,
 * the oldest dropped first. Live records are bounded too
 * (SBX_STORE_MAX_APPS, SBX_STORE_MAX_SVCS).
 *
 * Ownership: the store owns every record; lookups return borrowed pointers
 * that stay valid until the record is dropped with sbx_store_drop_*(), which
 * only ever happens to tombstones being evicted, or at sbx_store_release().
 */
#ifndef SBX_HOST_STORE_H
#define SBX_HOST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "host/spec.h"
#include "util/json.h"

#define SBX_STORE_MAX_APPS  1000
#define SBX_STORE_MAX_SVCS  1000
#define SBX_STORE_MAX_TOMBS 256
#define SBX_MAX_MESSAGES    8

/* AppStatus / ServiceStatus of the Koyeb API (same value set). */
enum sbx_app_status {
	SBX_APP_STARTING,
	SBX_APP_HEALTHY,
	SBX_APP_DEGRADED,
	SBX_APP_UNHEALTHY,
	SBX_APP_DELETING,
	SBX_APP_DELETED,
};

/* InstanceStatus of the Koyeb API. */
enum sbx_inst_status {
	SBX_INST_ALLOCATING,
	SBX_INST_STARTING,
	SBX_INST_HEALTHY,
	SBX_INST_UNHEALTHY,
	SBX_INST_STOPPING,
	SBX_INST_STOPPED,
	SBX_INST_ERROR,
};

const char *sbx_app_status_str(enum sbx_app_status s);
const char *sbx_inst_status_str(enum sbx_inst_status s);
/* DeploymentStatus for an instance status (same words where they exist). */
const char *sbx_deploy_status_str(enum sbx_inst_status s);

struct sbx_app {
	char id[37];
	char *name;
	time_t created_at, updated_at;
	bool deleting; /* DELETE received, services still going */
	bool tomb;     /* deleted: DELETED until evicted */
};

struct sbxd_sandbox; /* runtime state, owned by runtime/sandbox.c */

struct sbx_svc {
	char id[37], app_id[37], dep_id[37], inst_id[37];
	json_object *definition; /* as posted; owned reference */
	struct sbx_spec spec;	 /* derived from definition */
	char *rootfs;		 /* the image's root directory */
	time_t created_at, updated_at, started_at, terminated_at;
	enum sbx_inst_status inst;
	char *messages[SBX_MAX_MESSAGES];
	size_t nmessages;
	bool deleting; /* DELETE received: stopping, then removal */
	bool tomb;
	struct sbxd_sandbox *sb; /* NULL when no runtime state exists */
};

struct sbx_store {
	struct sbx_app **apps;
	size_t napps, capapps;
	struct sbx_svc **svcs;
	size_t nsvcs, capsvcs;
};

void sbx_store_init(struct sbx_store *s);
/* Frees every record (runtime state must be gone already). */
void sbx_store_release(struct sbx_store *s);

/* Adds a record the store takes ownership of. 0, -ENOSPC past the live
 * limit, -ENOMEM (the record is then still the caller's). */
int sbx_store_add_app(struct sbx_store *s, struct sbx_app *a);
int sbx_store_add_svc(struct sbx_store *s, struct sbx_svc *v);

/* Lookups (tombstones included). Borrowed; NULL when unknown. */
struct sbx_app *sbx_store_app(struct sbx_store *s, const char *id);
struct sbx_svc *sbx_store_svc(struct sbx_store *s, const char *id);
struct sbx_svc *sbx_store_svc_by_dep(struct sbx_store *s, const char *dep_id);
struct sbx_svc *sbx_store_svc_by_inst(struct sbx_store *s, const char *inst_id);

/* Counts of live (non-tombstone) records. */
size_t sbx_store_live_apps(const struct sbx_store *s);
size_t sbx_store_live_svcs(const struct sbx_store *s);

/* Turns a record into a tombstone, evicting the oldest tombstone past the
 * bound (which may free a record: do not hold other borrowed pointers). */
void sbx_store_bury_app(struct sbx_store *s, struct sbx_app *a);
void sbx_store_bury_svc(struct sbx_store *s, struct sbx_svc *v);

/* Record constructors and destructors (free accepts NULL). */
struct sbx_app *sbx_app_new(const char *name);
void sbx_app_free(struct sbx_app *a);
/* A new service taking a reference on def; spec is moved in (the caller's
 * copy is zeroed). NULL on ENOMEM (then nothing was taken). */
struct sbx_svc *sbx_svc_new(const char *app_id, json_object *def, struct sbx_spec *spec,
			    const char *rootfs);
void sbx_svc_free(struct sbx_svc *v);

/* Appends a message to the instance's messages (oldest dropped past the
 * bound). */
void sbx_svc_message(struct sbx_svc *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbx_svc_clear_messages(struct sbx_svc *v);

/* Service status derived from its instance and deletion state. */
enum sbx_app_status sbx_svc_status(const struct sbx_svc *v);
/* App status derived from its services. */
enum sbx_app_status sbx_app_status(struct sbx_store *s, const struct sbx_app *a);

#endif
