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
 * only ever happens to tombstones being evicted, or at sbxd_store_release().
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
enum sbxd_app_status {
	SBX_APP_STARTING,
	SBX_APP_HEALTHY,
	SBX_APP_DEGRADED,
	SBX_APP_UNHEALTHY,
	SBX_APP_DELETING,
	SBX_APP_DELETED,
};

/* InstanceStatus of the Koyeb API. */
enum sbxd_inst_status {
	SBX_INST_ALLOCATING,
	SBX_INST_STARTING,
	SBX_INST_HEALTHY,
	SBX_INST_UNHEALTHY,
	SBX_INST_STOPPING,
	SBX_INST_STOPPED,
	SBX_INST_ERROR,
};

const char *sbxd_app_status_str(enum sbxd_app_status s);
const char *sbxd_inst_status_str(enum sbxd_inst_status s);
/* DeploymentStatus for an instance status (same words where they exist). */
const char *sbxd_deploy_status_str(enum sbxd_inst_status s);

struct sbxd_app {
	char id[37];
	char *name;
	time_t created_at, updated_at;
	bool deleting; /* DELETE received, services still going */
	bool tomb;     /* deleted: DELETED until evicted */
};

struct sbxd_sandbox; /* runtime state, owned by runtime/sandbox.c */

struct sbxd_svc {
	char id[37], app_id[37], dep_id[37], inst_id[37];
	json_object *definition; /* as posted; owned reference */
	struct sbxd_spec spec;	 /* derived from definition */
	char *rootfs;		 /* the image's root directory */
	time_t created_at, updated_at, started_at, terminated_at;
	enum sbxd_inst_status inst;
	char *messages[SBX_MAX_MESSAGES];
	size_t nmessages;
	bool deleting; /* DELETE received: stopping, then removal */
	bool tomb;
	struct sbxd_sandbox *sb; /* NULL when no runtime state exists */
};

struct sbxd_store {
	struct sbxd_app **apps;
	size_t napps, capapps;
	struct sbxd_svc **svcs;
	size_t nsvcs, capsvcs;
};

void sbxd_store_init(struct sbxd_store *s);
/* Frees every record (runtime state must be gone already). */
void sbxd_store_release(struct sbxd_store *s);

/* Adds a record the store takes ownership of. 0, -ENOSPC past the live
 * limit, -ENOMEM (the record is then still the caller's). */
int sbxd_store_add_app(struct sbxd_store *s, struct sbxd_app *a);
int sbxd_store_add_svc(struct sbxd_store *s, struct sbxd_svc *v);

/* Lookups (tombstones included). Borrowed; NULL when unknown. */
struct sbxd_app *sbxd_store_app(struct sbxd_store *s, const char *id);
struct sbxd_svc *sbxd_store_svc(struct sbxd_store *s, const char *id);
struct sbxd_svc *sbxd_store_svc_by_dep(struct sbxd_store *s, const char *dep_id);
struct sbxd_svc *sbxd_store_svc_by_inst(struct sbxd_store *s, const char *inst_id);

/* Counts of live (non-tombstone) records. */
size_t sbxd_store_live_apps(const struct sbxd_store *s);
size_t sbxd_store_live_svcs(const struct sbxd_store *s);

/* Turns a record into a tombstone, evicting the oldest tombstone past the
 * bound (which may free a record: do not hold other borrowed pointers). */
void sbxd_store_bury_app(struct sbxd_store *s, struct sbxd_app *a);
void sbxd_store_bury_svc(struct sbxd_store *s, struct sbxd_svc *v);

/* Record constructors and destructors (free accepts NULL). */
struct sbxd_app *sbxd_app_new(const char *name);
void sbxd_app_free(struct sbxd_app *a);
/* A new service taking a reference on def; spec is moved in (the caller's
 * copy is zeroed). NULL on ENOMEM (then nothing was taken). */
struct sbxd_svc *sbxd_svc_new(const char *app_id, json_object *def, struct sbxd_spec *spec,
			      const char *rootfs);
void sbxd_svc_free(struct sbxd_svc *v);

/* Appends a message to the instance's messages (oldest dropped past the
 * bound). */
void sbxd_svc_message(struct sbxd_svc *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbxd_svc_clear_messages(struct sbxd_svc *v);

/* Service status derived from its instance and deletion state. */
enum sbxd_app_status sbxd_svc_status(const struct sbxd_svc *v);
/* App status derived from its services. */
enum sbxd_app_status sbxd_app_status(struct sbxd_store *s, const struct sbxd_app *a);

#endif
