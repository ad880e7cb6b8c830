/* render.c - API JSON objects; see render.h.
 *
 * Builders chain with a single error flag: the first failed add makes the
 * whole object NULL, so callers check once.
 */
#include "host/render.h"

#include <stdio.h>
#include <string.h>

#include "util/timeutil.h"

struct jb {
	json_object *o;
	bool failed;
};

static struct jb jb_new(void)
{
	struct jb b = {json_object_new_object(), false};

	b.failed = !b.o;
	return b;
}

static void jb_str(struct jb *b, const char *k, const char *v)
{
	if (!b->failed && sbx_json_add_str(b->o, k, v ? v : "") < 0)
		b->failed = true;
}

static void jb_int(struct jb *b, const char *k, int64_t v)
{
	if (!b->failed && sbx_json_add_int(b->o, k, v) < 0)
		b->failed = true;
}

/* Takes val. */
static void jb_add(struct jb *b, const char *k, json_object *val)
{
	if (b->failed || !val) {
		sbx_json_put(val);
		b->failed = true;
		return;
	}
	if (sbx_json_add(b->o, k, val) < 0)
		b->failed = true;
}

static void jb_time(struct jb *b, const char *k, time_t t)
{
	char s[32];

	if (!t)
		return;
	sbx_rfc3339(t, s, sizeof(s));
	jb_str(b, k, s);
}

static json_object *jb_done(struct jb *b)
{
	if (b->failed) {
		sbx_json_put(b->o);
		return NULL;
	}
	return b->o;
}

/* Wraps o as {"key": o}. Takes o. */
static json_object *wrap1(const char *key, json_object *o)
{
	struct jb b = jb_new();

	jb_add(&b, key, o);
	return jb_done(&b);
}

/* Appends the object built in b to arr; false (and both freed) on failure. */
static bool push(json_object *arr, struct jb *b)
{
	json_object *o = jb_done(b);

	if (!arr || !o || json_object_array_add(arr, o)) {
		sbx_json_put(o);
		return false;
	}
	return true;
}

static json_object *domains(const struct sbxd_app *a, bool gone)
{
	json_object *arr = json_object_new_array();
	struct jb d = jb_new();
	char name[192];

	snprintf(name, sizeof(name), "%s.sbx.localhost", a->name);
	jb_str(&d, "name", name);
	jb_str(&d, "status", gone ? "DELETED" : "ACTIVE");
	jb_str(&d, "type", "AUTOASSIGNED");
	if (!push(arr, &d)) {
		sbx_json_put(arr);
		return NULL;
	}
	return arr;
}

json_object *sbxd_render_app(struct sbxd_store *s, const struct sbxd_app *a)
{
	struct jb b = jb_new();

	jb_str(&b, "id", a->id);
	jb_str(&b, "name", a->name);
	jb_str(&b, "organization_id", SBX_ORG_ID);
	jb_str(&b, "status", sbxd_app_status_str(sbxd_app_status(s, a)));
	jb_add(&b, "domains", domains(a, a->tomb));
	jb_time(&b, "created_at", a->created_at);
	jb_time(&b, "updated_at", a->updated_at);
	return jb_done(&b);
}

json_object *sbxd_render_service(const struct sbxd_svc *v)
{
	struct jb b = jb_new();
	enum sbxd_app_status st = sbxd_svc_status(v);

	jb_str(&b, "id", v->id);
	jb_str(&b, "app_id", v->app_id);
	jb_str(&b, "organization_id", SBX_ORG_ID);
	jb_str(&b, "name", sbx_json_str(v->definition, "name"));
	jb_str(&b, "type", v->spec.type);
	jb_str(&b, "status", sbxd_app_status_str(st));
	jb_str(&b, "latest_deployment_id", v->dep_id);
	jb_str(&b, "active_deployment_id", v->inst == SBX_INST_HEALTHY ? v->dep_id : "");
	jb_time(&b, "created_at", v->created_at);
	jb_time(&b, "updated_at", v->updated_at);
	return jb_done(&b);
}

json_object *sbxd_render_deployment(const struct sbxd_svc *v)
{
	struct jb b = jb_new();

	jb_str(&b, "id", v->dep_id);
	jb_str(&b, "app_id", v->app_id);
	jb_str(&b, "service_id", v->id);
	jb_str(&b, "organization_id", SBX_ORG_ID);
	jb_str(&b, "status", sbxd_deploy_status_str(v->inst));
	jb_add(&b, "definition", json_object_get(v->definition));
	jb_time(&b, "created_at", v->created_at);
	jb_time(&b, "updated_at", v->updated_at);
	return jb_done(&b);
}

static json_object *messages(const struct sbxd_svc *v)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; arr && i < v->nmessages; i++) {
		if (json_object_array_add(arr, json_object_new_string(v->messages[i]))) {
			sbx_json_put(arr);
			return NULL;
		}
	}
	return arr;
}

json_object *sbxd_render_instance(const struct sbxd_svc *v)
{
	struct jb b = jb_new();

	jb_str(&b, "id", v->inst_id);
	jb_str(&b, "service_id", v->id);
	jb_str(&b, "app_id", v->app_id);
	jb_str(&b, "organization_id", SBX_ORG_ID);
	jb_str(&b, "deployment_id", v->dep_id);
	jb_str(&b, "region", v->spec.region[0] ? v->spec.region : "eu");
	jb_str(&b, "type", v->spec.itype ? v->spec.itype->name : "nano");
	jb_int(&b, "replica_index", 0);
	jb_str(&b, "status", sbxd_inst_status_str(v->inst));
	jb_add(&b, "messages", messages(v));
	jb_time(&b, "started_at", v->started_at);
	jb_time(&b, "terminated_at", v->terminated_at);
	jb_time(&b, "created_at", v->created_at);
	jb_time(&b, "updated_at", v->updated_at);
	return jb_done(&b);
}

json_object *sbxd_render_scaling(const struct sbxd_svc *v)
{
	json_object *replicas = json_object_new_array(), *insts = json_object_new_array();
	struct jb rep = jb_new(), inst = jb_new();
	bool ok = true;

	/* the instances "active and starting": a stopped one is not listed */
	if (!v->tomb && v->inst != SBX_INST_STOPPED) {
		jb_str(&inst, "id", v->inst_id);
		jb_str(&inst, "status", sbxd_inst_status_str(v->inst));
		ok = push(insts, &inst);
	} else {
		sbx_json_put(jb_done(&inst));
	}
	jb_str(&rep, "region", v->spec.region[0] ? v->spec.region : "eu");
	jb_int(&rep, "replica_index", 0);
	jb_add(&rep, "instances", ok ? insts : NULL);
	if (!ok)
		sbx_json_put(insts);
	if (!push(replicas, &rep)) {
		sbx_json_put(replicas);
		return NULL;
	}
	return wrap1("replicas", replicas);
}

json_object *sbxd_render_error(int status, const char *code, const char *msg)
{
	struct jb b = jb_new();

	jb_int(&b, "status", status);
	jb_str(&b, "code", code);
	jb_str(&b, "message", msg);
	return jb_done(&b);
}

json_object *sbxd_render_field_errors(const struct sbxd_verrs *errs, const char *msg)
{
	json_object *o = sbxd_render_error(400, "invalid_argument", msg);
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; arr && i < errs->n; i++) {
		struct jb f = jb_new();

		jb_str(&f, "field", errs->e[i].field);
		jb_str(&f, "description", errs->e[i].description);
		if (!push(arr, &f)) {
			sbx_json_put(arr);
			arr = NULL;
		}
	}
	if (!o || !arr) {
		sbx_json_put(arr);
		sbx_json_put(o);
		return NULL;
	}
	if (sbx_json_add(o, "fields", arr) < 0) {
		sbx_json_put(o);
		return NULL;
	}
	return o;
}
