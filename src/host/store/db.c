/* db.c - db.json reading and writing; see db.h. */
#include "host/store/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/fsutil.h"
#include "util/log.h"
#include "util/statedir.h"

#define MAX_DB (256u << 20)

static json_object *app_json(const struct sbxd_app *a)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (sbx_json_add_str(o, "id", a->id) || sbx_json_add_str(o, "name", a->name) ||
	    sbx_json_add_int(o, "created_at", a->created_at) ||
	    sbx_json_add_int(o, "updated_at", a->updated_at) ||
	    sbx_json_add_bool(o, "deleting", a->deleting)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *svc_json(const struct sbxd_svc *v)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (sbx_json_add_str(o, "id", v->id) || sbx_json_add_str(o, "app_id", v->app_id) ||
	    sbx_json_add_str(o, "deployment_id", v->dep_id) ||
	    sbx_json_add_str(o, "instance_id", v->inst_id) ||
	    sbx_json_add_str(o, "rootfs", v->rootfs) ||
	    sbx_json_add_int(o, "created_at", v->created_at) ||
	    sbx_json_add_int(o, "updated_at", v->updated_at) ||
	    sbx_json_add_bool(o, "deleting", v->deleting) ||
	    sbx_json_add(o, "definition", json_object_get(v->definition))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *store_json(const struct sbxd_store *s)
{
	json_object *root = json_object_new_object(), *apps = json_object_new_array(),
		    *svcs = json_object_new_array();
	size_t i;
	int r = (root && apps && svcs) ? 0 : -ENOMEM;

	for (i = 0; r == 0 && i < s->napps; i++)
		if (!s->apps[i]->tomb)
			r = json_object_array_add(apps, app_json(s->apps[i])) ? -ENOMEM : 0;
	for (i = 0; r == 0 && i < s->nsvcs; i++)
		if (!s->svcs[i]->tomb)
			r = json_object_array_add(svcs, svc_json(s->svcs[i])) ? -ENOMEM : 0;
	if (r == 0)
		r = sbx_json_add_int(root, "version", 1);
	if (r == 0) {
		r = sbx_json_add(root, "apps", apps);
		apps = NULL;
	}
	if (r == 0) {
		r = sbx_json_add(root, "services", svcs);
		svcs = NULL;
	}
	sbx_json_put(apps);
	sbx_json_put(svcs);
	if (r < 0) {
		sbx_json_put(root);
		return NULL;
	}
	return root;
}

int sbxd_db_save(const struct sbxd_store *s, const char *path)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *root = store_json(s);
	int r;

	if (!root)
		return -ENOMEM;
	r = sbx_json_dump(&b, root);
	if (r == 0)
		r = sbxd_write_atomic(path, b.data, b.len, 0600);
	sbx_json_put(root);
	sbx_buf_release(&b);
	return r;
}

static bool id_ok(const char *s)
{
	return s && strlen(s) == 36;
}

static void load_app(struct sbxd_store *s, json_object *o)
{
	const char *id = sbx_json_str(o, "id"), *name = sbx_json_str(o, "name");
	int64_t c = 0, u = 0;
	struct sbxd_app *a;

	if (!id_ok(id) || !name) {
		sbx_log(SBX_LOG_WARN, "db.json: skipping a malformed app record");
		return;
	}
	a = sbxd_app_new(name);
	if (!a)
		return;
	memcpy(a->id, id, 37);
	sbx_json_int(o, "created_at", &c);
	sbx_json_int(o, "updated_at", &u);
	a->created_at = (time_t)c;
	a->updated_at = (time_t)u;
	a->deleting = sbx_json_bool(o, "deleting", false);
	if (sbxd_store_add_app(s, a) < 0)
		sbxd_app_free(a);
}

static void load_svc(struct sbxd_store *s, json_object *o)
{
	const char *id = sbx_json_str(o, "id"), *app = sbx_json_str(o, "app_id");
	const char *dep = sbx_json_str(o, "deployment_id"), *inst = sbx_json_str(o, "instance_id");
	const char *rootfs = sbx_json_str(o, "rootfs");
	json_object *def = sbx_json_get(o, "definition");
	struct sbxd_verrs errs = {.n = 0};
	struct sbxd_spec spec;
	struct sbxd_svc *v;
	int64_t c = 0, u = 0;

	if (!id_ok(id) || !id_ok(app) || !id_ok(dep) || !id_ok(inst) || !rootfs ||
	    sbxd_spec_parse(def, &spec, &errs) < 0) {
		sbx_log(SBX_LOG_WARN, "db.json: skipping a malformed service record");
		return;
	}
	v = sbxd_svc_new(app, def, &spec, rootfs);
	if (!v) {
		sbxd_spec_release(&spec);
		return;
	}
	memcpy(v->id, id, 37);
	memcpy(v->dep_id, dep, 37);
	memcpy(v->inst_id, inst, 37);
	sbx_json_int(o, "created_at", &c);
	sbx_json_int(o, "updated_at", &u);
	v->created_at = (time_t)c;
	v->updated_at = (time_t)u;
	v->deleting = sbx_json_bool(o, "deleting", false);
	if (sbxd_store_add_svc(s, v) < 0)
		sbxd_svc_free(v);
}

int sbxd_db_load(struct sbxd_store *s, const char *path)
{
	struct sbx_buf data = SBX_BUF_INIT;
	json_object *root = NULL, *a;
	size_t i;
	int r;

	r = sbx_read_small_file(path, MAX_DB, &data);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	r = sbx_json_parse(data.data, data.len, &root);
	if (r < 0)
		goto out;
	a = sbx_json_get(root, "apps");
	for (i = 0; a && json_object_is_type(a, json_type_array) && i < json_object_array_length(a);
	     i++)
		load_app(s, json_object_array_get_idx(a, i));
	a = sbx_json_get(root, "services");
	for (i = 0; a && json_object_is_type(a, json_type_array) && i < json_object_array_length(a);
	     i++)
		load_svc(s, json_object_array_get_idx(a, i));
out:
	sbx_json_put(root);
	sbx_buf_release(&data);
	return r;
}
