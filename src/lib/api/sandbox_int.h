/* sandbox_int.h - the inside of struct sbx_sandbox, shared by the files of
 * the sandbox module only: sandbox.c (lifecycle, status, accessors) and
 * sandbox_open.c (opening an existing sandbox, with or without the id
 * cache). Other modules use sandbox_priv.h.
 *
 * Every field is fixed at creation except instance_id and deployment_id,
 * which sbx_sandbox_refresh() replaces under lock; a replaced value is
 * retired (freed with the handle), so borrowed pointers stay valid.
 */
#ifndef SBX_API_SANDBOX_INT_H
#define SBX_API_SANDBOX_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "api/bodies.h"
#include "sbx/sandbox.h"

struct retired {
	struct retired *next;
	char *s;
};

struct sbx_sandbox {
	struct sbx_client *c;
	char *id, *name, *app_id, *image, *instance_type, *region, *secret;
	pthread_mutex_t lock;
	char *instance_id;	 /* lock */
	char *deployment_id;	 /* lock */
	struct retired *retired; /* lock */
	bool from_cache;	 /* ids from the client's id cache (fixed) */
};

/* A handle with its lock initialised and no field set (NULL when out of
 * memory). */
struct sbx_sandbox *sbx_sb_new(struct sbx_client *c);
/* true when every string field is allocated. */
bool sbx_sb_complete(const struct sbx_sandbox *sb);
/* strdup(), with NULL read as "". */
char *sbx_sb_xstrdup(const char *s);
/* Errors that no amount of polling will fix. */
bool sbx_sb_permanent(int r);
/* Sets err for a reply that could not be read (r: -ENOMEM or else). */
int sbx_sb_proto_err(struct sbx_err *err, int r, const char *what);

/* Stores name -> (service, inst) in the client's id cache, if it has one
 * and the ids are well formed; failures only logged (a cache). */
void sbx_sb_remember(struct sbx_client *c, const char *name, const char *service, const char *inst);

/* One REST step each; 0 or a negative errno with err set. */
/* GET the scaling of a deployment once: instance id or NULL (none yet). */
int sbx_sb_scaling_once(struct sbx_client *c, const char *dep, char **ret, struct sbx_err *err);
int sbx_sb_service_get(struct sbx_client *c, const char *id, struct sbx_service_info *ret,
		       struct sbx_err *err);
int sbx_sb_deployment_get(struct sbx_client *c, const char *id, struct sbx_deploy_info *ret,
			  struct sbx_err *err);

#endif
