/* render.h - the JSON objects of the Koyeb API built from sbxd's records.
 *
 * Field names and enum spellings follow docs/executor-protocol.md exactly. Time
 * fields are RFC 3339; a time that is not set is left out (the generated
 * clients parse every present time field as a date). Each function returns
 * a new json_object the caller puts, or NULL on ENOMEM.
 */
#ifndef SBX_HOST_RENDER_H
#define SBX_HOST_RENDER_H

#include "host/store/store.h"
#include "util/json.h"

/* The organization id every record of this host shows. */
#define SBX_ORG_ID "00000000-0000-4000-8000-000000000000"

json_object *sbxd_render_app(struct sbxd_store *s, const struct sbxd_app *a);
json_object *sbxd_render_service(const struct sbxd_svc *v);
json_object *sbxd_render_deployment(const struct sbxd_svc *v);
json_object *sbxd_render_instance(const struct sbxd_svc *v);
/* The reply of GET /v1/deployment/{id}/scaling (a whole reply object). */
json_object *sbxd_render_scaling(const struct sbxd_svc *v);

/* {"status":N,"code":code,"message":msg} */
json_object *sbxd_render_error(int status, const char *code, const char *msg);
/* The same plus "fields":[{field,description}] (ErrorWithFields). */
json_object *sbxd_render_field_errors(const struct sbxd_verrs *errs, const char *msg);

#endif
