/* api_handlers.c - the REST handlers: apps, services, deployments, scaling,
 * instances. See api.h; the JSON shapes are in render.c.
 *
 * Lists answer {"<kind>":[...],"limit":L,"offset":O,"count":N,
 * "has_next":B} where count is the number of matches before paging and
 * has_next says a later page holds more (Koyeb's paging field); deleted
 * records (tombstones) are not listed but still answer GET by id.
 */
#include "host/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/daemon.h"
#include "host/executor.h"
#include "host/http/utf8.h"
#include "host/images.h"
#include "host/render.h"
#include "host/spec.h"
#include "util/log.h"

#define LIST_DEFAULT 100
#define LIST_MAX     1000
#define APP_NAME_MAX 128

/* limit/offset of the query; false (400 set) when malformed. */
static bool paging(struct sbxd_api_call *k, long *limit, long *offset)
{
	char v[32];
	char *end;

	*limit = LIST_DEFAULT;
	*offset = 0;
	if (sbxd_http_query_get(k->req->query, "limit", v, sizeof(v)) == 0 && v[0]) {
		errno = 0;
		*limit = strtol(v, &end, 10);
		if (*end || *limit < 0 || errno == ERANGE) {
			sbxd_api_error(k, 400, NULL, "limit must be a non-negative integer");
			return false;
		}
		if (*limit == 0 || *limit > LIST_MAX)
			*limit = *limit ? LIST_MAX : LIST_DEFAULT;
	}
	if (sbxd_http_query_get(k->req->query, "offset", v, sizeof(v)) == 0 && v[0]) {
		errno = 0;
		*offset = strtol(v, &end, 10);
		if (*end || *offset < 0 || errno == ERANGE) {
			sbxd_api_error(k, 400, NULL, "offset must be a non-negative integer");
			return false;
		}
	}
	return true;
}

/* A query filter: true when absent or equal to val. */
static bool filter_ok(struct sbxd_api_call *k, const char *key, const char *val)
{
	char v[256];

	if (sbxd_http_query_get(k->req->query, key, v, sizeof(v)) < 0 || !v[0])
		return true;
	return val && !strcmp(v, val);
}

/* Collects up to limit items after offset; *count counts every match.
 * offset may be as large as LONG_MAX: the sums below are written as
 * differences of non-negative numbers so that they cannot overflow. */
struct lister {
	json_object *arr;
	long limit, offset, count;
	bool failed;
};

static void lister_add(struct lister *l, json_object *item)
{
	if (l->count++ < l->offset || l->count - l->offset > l->limit) {
		sbx_json_put(item);
		return;
	}
	if (!item || json_object_array_add(l->arr, item)) {
		sbx_json_put(item);
		l->failed = true;
	}
}

static void lister_reply(struct sbxd_api_call *k, struct lister *l, const char *key)
{
	json_object *o = json_object_new_object();

	if (!o || l->failed || sbx_json_add(o, key, l->arr) < 0 ||
	    sbx_json_add_int(o, "limit", l->limit) < 0 ||
	    sbx_json_add_int(o, "offset", l->offset) < 0 ||
	    sbx_json_add_int(o, "count", l->count) < 0 ||
	    sbx_json_add_bool(o, "has_next", l->count - l->offset > l->limit) < 0) {
		if (!o || l->failed)
			sbx_json_put(l->arr);
		sbx_json_put(o);
		o = NULL;
	}
	sbxd_api_reply(k, 200, o);
}

static bool lister_init(struct sbxd_api_call *k, struct lister *l)
{
	memset(l, 0, sizeof(*l));
	if (!paging(k, &l->limit, &l->offset))
		return false;
	l->arr = json_object_new_array();
	if (!l->arr) {
		sbxd_api_error(k, 500, NULL, "out of memory");
		return false;
	}
	return true;
}

/* {"key": o}: takes o. */
static json_object *wrap(const char *key, json_object *o)
{
	json_object *w = json_object_new_object();

	if (!w || !o || sbx_json_add(w, key, o) < 0) {
		sbx_json_put(w);
		if (!w)
			sbx_json_put(o);
		return NULL;
	}
	return w;
}

static struct sbxd_app *find_app(struct sbxd_api_call *k)
{
	struct sbxd_app *a = sbxd_store_app(&k->d->store, k->id);

	if (!a)
		sbxd_api_error(k, 404, NULL, "app not found");
	return a;
}

static struct sbxd_svc *find_svc(struct sbxd_api_call *k, struct sbxd_svc *v, const char *what)
{
	if (!v)
		sbxd_api_error(k, 404, NULL, "%s not found", what);
	return v;
}

void sbxd_api_apps_create(struct sbxd_api_call *k)
{
	json_object *body = sbxd_api_body(k);
	struct sbxd_verrs errs = {.n = 0};
	const char *name;
	struct sbxd_app *a;
	int r;

	if (!body)
		return;
	name = sbx_json_str(body, "name");
	if (!name || !*name || strlen(name) > APP_NAME_MAX) {
		sbxd_verr_add(&errs, "name", "is required (1 to %d bytes)", APP_NAME_MAX);
		sbxd_api_field_errors(k, &errs, "validation error");
		goto out;
	}
	/* the JSON length also counts what a \u0000 escape would cut off */
	if ((size_t)json_object_get_string_len(sbx_json_get(body, "name")) != strlen(name) ||
	    !sbxd_utf8_printable(name, strlen(name))) {
		sbxd_verr_add(&errs, "name", "must not hold NUL or control characters");
		sbxd_api_field_errors(k, &errs, "validation error");
		goto out;
	}
	a = sbxd_app_new(name);
	r = a ? sbxd_store_add_app(&k->d->store, a) : -ENOMEM;
	if (r < 0) {
		sbxd_app_free(a);
		sbxd_api_error(k, r == -ENOSPC ? 503 : 500, NULL, "%s",
			       r == -ENOSPC ? "too many apps" : "out of memory");
		goto out;
	}
	sbxd_save(k->d);
	sbxd_api_reply(k, 200, wrap("app", sbxd_render_app(&k->d->store, a)));
out:
	sbx_json_put(body);
}

void sbxd_api_apps_list(struct sbxd_api_call *k)
{
	struct sbxd_store *s = &k->d->store;
	struct lister l;
	size_t i;

	if (!lister_init(k, &l))
		return;
	for (i = 0; i < s->napps; i++)
		if (!s->apps[i]->tomb && filter_ok(k, "name", s->apps[i]->name))
			lister_add(&l, sbxd_render_app(s, s->apps[i]));
	lister_reply(k, &l, "apps");
}

void sbxd_api_apps_get(struct sbxd_api_call *k)
{
	struct sbxd_app *a = find_app(k);

	if (a)
		sbxd_api_reply(k, 200, wrap("app", sbxd_render_app(&k->d->store, a)));
}

void sbxd_api_apps_delete(struct sbxd_api_call *k)
{
	struct sbxd_app *a = find_app(k);

	if (!a)
		return;
	if (!a->tomb && !a->deleting)
		sbxd_app_delete(k->d, a);
	sbxd_api_reply(k, 200, json_object_new_object());
}

/* Resolves the image through STATE/images.json (read on every create) and
 * checks its root directory. false with the 400 set otherwise. */
static bool resolve_image(struct sbxd_api_call *k, const char *image, char *root, size_t rootlen)
{
	struct sbxd_verrs errs = {.n = 0};
	struct sbx_buf path = SBX_BUF_INIT;
	json_object *reg = NULL;
	struct stat st;
	int r;

	r = sbxd_path(k->d, &path, "images.json");
	if (r == 0 && sbxd_images_load(path.data, &reg) < 0)
		sbx_log(SBX_LOG_WARN, "cannot read %s: using the default images only", path.data);
	sbx_buf_release(&path);
	r = sbxd_image_resolve(reg, image, root, rootlen);
	sbx_json_put(reg);
	if (r < 0) {
		sbxd_verr_add(
		    &errs, "definition.docker.image",
		    "unknown image '%.80s': register a root filesystem with `sbx host image "
		    "add NAME DIR` or `sbxd image add NAME DIR`",
		    image);
		sbxd_api_field_errors(k, &errs, errs.e[0].description);
		return false;
	}
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sbxd_verr_add(&errs, "definition.docker.image",
			      "image '%.80s' points to %.80s, which is not a directory", image,
			      root);
		sbxd_api_field_errors(k, &errs, errs.e[0].description);
		return false;
	}
	return true;
}

/* Validates app_id and the definition; fills spec and root. */
static bool validate_service(struct sbxd_api_call *k, json_object *body, struct sbxd_spec *spec,
			     char *root, size_t rootlen)
{
	struct sbxd_verrs errs = {.n = 0};
	const char *app_id = sbx_json_str(body, "app_id");
	struct sbxd_app *a;
	int r;

	if (!app_id || !*app_id)
		sbxd_verr_add(&errs, "app_id", "is required");
	r = sbxd_spec_parse(sbx_json_get(body, "definition"), spec, &errs);
	if (r == -ENOMEM) {
		sbxd_api_error(k, 500, NULL, "out of memory");
		return false;
	}
	if (errs.n) {
		sbxd_spec_release(spec);
		sbxd_api_field_errors(k, &errs, "validation error");
		return false;
	}
	a = sbxd_store_app(&k->d->store, app_id);
	if (!a || a->tomb || a->deleting) {
		sbxd_spec_release(spec);
		sbxd_api_error(k, 404, NULL, "app %s not found", app_id);
		return false;
	}
	if (!resolve_image(k, spec->image, root, rootlen)) {
		sbxd_spec_release(spec);
		return false;
	}
	return true;
}

/* life_cycle.delete_when_empty of a definition (borrowed, may be NULL):
 * the app goes once no live service is left in it, also when the create
 * that was to fill it failed (the current SDKs make the app first). */
static void delete_app_if_empty(struct sbxd *d, const char *app_id, json_object *def)
{
	struct sbxd_app *a = app_id ? sbxd_store_app(&d->store, app_id) : NULL;
	size_t i;

	if (!a || a->tomb || a->deleting ||
	    !sbx_json_bool(def, "life_cycle.delete_when_empty", false))
		return;
	for (i = 0; i < d->store.nsvcs; i++) {
		const struct sbxd_svc *v = d->store.svcs[i];

		if (!v->tomb && !v->deleting && !strcmp(v->app_id, app_id))
			return;
	}
	sbx_log(SBX_LOG_INFO, "app %s is empty and asked to go (delete_when_empty)", app_id);
	sbxd_app_delete(d, a);
}

void sbxd_api_services_create(struct sbxd_api_call *k)
{
	json_object *body = sbxd_api_body(k);
	struct sbxd_spec spec;
	struct sbxd_svc *v = NULL;
	char root[4096], dry[8] = "";
	int r;

	if (!body || !validate_service(k, body, &spec, root, sizeof(root))) {
		if (body)
			delete_app_if_empty(k->d, sbx_json_str(body, "app_id"),
					    sbx_json_get(body, "definition"));
		goto out;
	}
	v = sbxd_svc_new(sbx_json_str(body, "app_id"), sbx_json_get(body, "definition"), &spec,
			 root);
	if (!v) {
		sbxd_spec_release(&spec);
		sbxd_api_error(k, 500, NULL, "out of memory");
		goto out;
	}
	sbxd_http_query_get(k->req->query, "dry_run", dry, sizeof(dry));
	if (!strcmp(dry, "true") || !strcmp(dry, "1")) {
		sbxd_api_reply(k, 200, wrap("service", sbxd_render_service(v)));
		goto out;
	}
	r = sbxd_store_add_svc(&k->d->store, v);
	if (r < 0) {
		sbxd_api_error(k, r == -ENOSPC ? 503 : 500, NULL, "%s",
			       r == -ENOSPC ? "too many services" : "out of memory");
		goto out;
	}
	sbxd_save(k->d);
	sbxd_sandbox_schedule(k->d, v);
	sbxd_api_reply(k, 200, wrap("service", sbxd_render_service(v)));
	v = NULL;
out:
	sbxd_svc_free(v);
	sbx_json_put(body);
}

void sbxd_api_services_list(struct sbxd_api_call *k)
{
	struct sbxd_store *s = &k->d->store;
	struct lister l;
	size_t i;

	if (!lister_init(k, &l))
		return;
	for (i = 0; i < s->nsvcs; i++) {
		struct sbxd_svc *v = s->svcs[i];

		if (!v->tomb && filter_ok(k, "app_id", v->app_id) &&
		    filter_ok(k, "name", sbx_json_str(v->definition, "name")))
			lister_add(&l, sbxd_render_service(v));
	}
	lister_reply(k, &l, "services");
}

void sbxd_api_services_get(struct sbxd_api_call *k)
{
	struct sbxd_svc *v = find_svc(k, sbxd_store_svc(&k->d->store, k->id), "service");

	if (v)
		sbxd_api_reply(k, 200, wrap("service", sbxd_render_service(v)));
}

void sbxd_api_services_delete(struct sbxd_api_call *k)
{
	struct sbxd_svc *v = find_svc(k, sbxd_store_svc(&k->d->store, k->id), "service");

	if (!v)
		return;
	if (!v->tomb && !v->deleting) {
		sbxd_service_delete(k->d, v);
		delete_app_if_empty(k->d, v->app_id, v->definition);
	}
	sbxd_api_reply(k, 200, json_object_new_object());
}

void sbxd_api_deployments_get(struct sbxd_api_call *k)
{
	struct sbxd_svc *v = find_svc(k, sbxd_store_svc_by_dep(&k->d->store, k->id), "deployment");
	json_object *dep = v ? sbxd_render_deployment(v) : NULL;

	if (!v)
		return;
	if (dep && sbxd_executor_metadata(k->d, v, dep) < 0)
		sbx_log(SBX_LOG_WARN, "deployment %s: no executor metadata", v->dep_id);
	sbxd_api_reply(k, 200, wrap("deployment", dep));
}

void sbxd_api_scaling_get(struct sbxd_api_call *k)
{
	struct sbxd_svc *v = find_svc(k, sbxd_store_svc_by_dep(&k->d->store, k->id), "deployment");

	if (v)
		sbxd_api_reply(k, 200, sbxd_render_scaling(v));
}

void sbxd_api_instances_list(struct sbxd_api_call *k)
{
	struct sbxd_store *s = &k->d->store;
	struct lister l;
	size_t i;

	if (!lister_init(k, &l))
		return;
	for (i = 0; i < s->nsvcs; i++) {
		struct sbxd_svc *v = s->svcs[i];

		if (!v->tomb && filter_ok(k, "service_id", v->id) &&
		    filter_ok(k, "app_id", v->app_id) && filter_ok(k, "deployment_id", v->dep_id))
			lister_add(&l, sbxd_render_instance(v));
	}
	lister_reply(k, &l, "instances");
}

void sbxd_api_instances_get(struct sbxd_api_call *k)
{
	struct sbxd_svc *v = find_svc(k, sbxd_store_svc_by_inst(&k->d->store, k->id), "instance");

	if (v)
		sbxd_api_reply(k, 200, wrap("instance", sbxd_render_instance(v)));
}
