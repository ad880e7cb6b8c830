/* db.h - persistence of the live records to STATE/db.json.
 *
 * Format (version 1):
 *   {"version":1,
 *    "apps":[{"id","name","created_at","updated_at","deleting"}],
 *    "services":[{"id","app_id","deployment_id","instance_id","rootfs",
 *                 "created_at","updated_at","deleting","definition":{...}}]}
 * Times are Unix seconds. Tombstones are not saved. The file is replaced
 * atomically with mode 0600 (definitions hold the sandbox secret).
 */
#ifndef SBX_HOST_DB_H
#define SBX_HOST_DB_H

#include "host/store/store.h"

/* Writes the live records of s to path. 0 or -errno. */
int sbxd_db_save(const struct sbxd_store *s, const char *path);

/* Loads path into an empty store. An absent file is an empty store. Records
 * that do not parse are skipped with a warning. Loaded services are in
 * ALLOCATING state (or deleting, as saved). 0, -EBADMSG, -errno. */
int sbxd_db_load(struct sbxd_store *s, const char *path);

#endif
