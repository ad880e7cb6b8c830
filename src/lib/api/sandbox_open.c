/* sandbox_open.c - opening an existing sandbox by service id or name:
 * sbx_sandbox_open() (every field, three REST calls) and
 * sbx_sandbox_open_ids() (the ids exec needs: two calls, or none when the
 * client's id cache knows the name; api/idcache.h says why a stale entry
 * cannot send a command to the wrong sandbox).
 */
#include "sbx/sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "api/idcache.h"
#include "api/rest.h"
#include "api/sandbox_int.h"
#include "client_priv.h"
#include "util/log.h"

#define NAME_PAGE 100 /* the limit= of find_by_name() */

static bool is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; shape[i]; i++) {
		char ch = s[i];

		if (shape[i] == '-' ? ch != '-' : !strchr("0123456789abcdefABCDEF", ch) || !ch)
			return false;
	}
	return s[i] == '\0';
}

/* Picks the one live service named exactly full from a list reply. Errors
 * name the sandbox as the caller wrote it (asked), not by its service name. */
static int pick_by_name(json_object *o, const char *full, const char *asked,
			struct sbx_service_info *ret, struct sbx_err *err)
{
	json_object *arr;
	size_t i, n, found = 0;
	bool more;
	int r;

	r = sbx_parse_services_page(o, NAME_PAGE, &arr, &n, &more);
	if (r < 0)
		return sbx_sb_proto_err(err, r, "GET /v1/services");
	for (i = 0; i < n; i++) {
		struct sbx_service_info s = {0};

		if (sbx_parse_service(json_object_array_get_idx(arr, i), &s) < 0)
			continue;
		if (strcmp(s.name, full) || !strcmp(s.status, "DELETED") ||
		    !strcmp(s.status, "DELETING")) {
			sbx_service_info_release(&s);
			continue;
		}
		if (found++) {
			sbx_service_info_release(&s);
			sbx_service_info_release(ret);
			return sbx_err_set(err, -SBX_EINVAL, 0,
					   "ambiguous: several sandboxes are named %.100s", asked);
		}
		*ret = s;
	}
	if (!found)
		return sbx_err_set(err, -SBX_ENOTFOUND, 404, "no sandbox named %.100s", asked);
	return 0;
}

/* GET /v1/services?name=FULL and the one live sandbox of that name
 * (errors name it as asked). */
static int lookup_name(struct sbx_client *c, const char *full, const char *asked,
		       struct sbx_service_info *ret, struct sbx_err *err)
{
	struct sbx_buf path = SBX_BUF_INIT;
	json_object *o = NULL;
	int r;

	r = sbx_buf_puts(&path, "/v1/services?limit=100&name=");
	if (!r)
		r = sbx_rest_escape(&path, full);
	if (r < 0)
		return sbx_err_set(err, r, 0, "out of memory");
	r = sbx_rest_call(c, "GET", path.data, NULL, &o, err);
	if (r == 0)
		r = pick_by_name(o, full, asked, ret, err);
	sbx_json_put(o);
	sbx_buf_release(&path);
	return r;
}

/* Our naming first (sandbox-service-NAME), then the current SDKs' (the
 * bare NAME on a service of type SANDBOX). */
static int find_by_name(struct sbx_client *c, const char *in, struct sbx_service_info *ret,
			struct sbx_err *err)
{
	const char *name = in;
	struct sbx_buf full = SBX_BUF_INIT;
	int r;

	if (!strncmp(in, SBX_SERVICE_PREFIX, strlen(SBX_SERVICE_PREFIX)))
		name = in + strlen(SBX_SERVICE_PREFIX);
	if (!sbx_name_valid(name))
		return sbx_err_set(err, -SBX_EINVAL, 0, "not a sandbox id or name: %.100s", in);
	if (sbx_buf_printf(&full, SBX_SERVICE_PREFIX "%s", name) < 0)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	r = lookup_name(c, full.data, in, ret, err);
	if (r == -SBX_ENOTFOUND && name == in) {
		struct sbx_service_info s = {0};
		struct sbx_err e2 = {0};

		if (lookup_name(c, name, in, &s, &e2) == 0 &&
		    sbx_service_sandbox_name(&s) == s.name) {
			*ret = s;
			r = 0;
		} else {
			sbx_service_info_release(&s);
		}
	}
	sbx_buf_release(&full);
	return r;
}

static int resolve_service(struct sbx_client *c, const char *in, struct sbx_service_info *ret,
			   struct sbx_err *err)
{
	int r;

	if (is_uuid(in)) {
		r = sbx_sb_service_get(c, in, ret, err);
		if (r != -SBX_ENOTFOUND)
			return r;
	}
	return find_by_name(c, in, ret, err);
}

static int fill_opened(struct sbx_sandbox *sb, const struct sbx_service_info *svc,
		       const struct sbx_deploy_info *d, char *inst)
{
	const char *full = *d->name ? d->name : svc->name;

	if (!strncmp(full, SBX_SERVICE_PREFIX, strlen(SBX_SERVICE_PREFIX)))
		full += strlen(SBX_SERVICE_PREFIX);
	sb->id = sbx_sb_xstrdup(svc->id);
	sb->name = sbx_sb_xstrdup(full);
	sb->app_id = sbx_sb_xstrdup(svc->app_id);
	sb->deployment_id = sbx_sb_xstrdup(svc->latest_deployment_id);
	sb->image = sbx_sb_xstrdup(d->image);
	sb->instance_type = sbx_sb_xstrdup(d->instance_type);
	sb->region = sbx_sb_xstrdup(d->region);
	sb->secret = sbx_sb_xstrdup(d->secret);
	sb->instance_id = inst ? inst : strdup("");
	return sbx_sb_complete(sb) ? 0 : -ENOMEM;
}

int sbx_sandbox_open(struct sbx_client *c, const char *id_or_name, struct sbx_sandbox **ret,
		     struct sbx_err *err)
{
	struct sbx_service_info svc = {0};
	struct sbx_deploy_info d = {0};
	struct sbx_sandbox *sb = NULL;
	char *inst = NULL;
	int r;

	if (!id_or_name || !*id_or_name)
		return sbx_err_set(err, -SBX_EINVAL, 0, "no sandbox id or name");
	r = resolve_service(c, id_or_name, &svc, err);
	if (r < 0)
		goto out;
	if (!*svc.latest_deployment_id) {
		r = sbx_err_set(err, -SBX_EPROTO, 0, "sandbox %s has no deployment", svc.id);
		goto out;
	}
	r = sbx_sb_deployment_get(c, svc.latest_deployment_id, &d, err);
	if (r < 0)
		goto out;
	/* no instance yet (or asleep) is not an error here; exec resolves again */
	r = sbx_sb_scaling_once(c, svc.latest_deployment_id, &inst, err);
	if (r < 0 && sbx_sb_permanent(r))
		goto out;
	sb = sbx_sb_new(c);
	r = -ENOMEM;
	if (sb) {
		r = fill_opened(sb, &svc, &d, inst);
		inst = NULL; /* owned by sb now */
	}
	if (r < 0) {
		sbx_err_set(err, r, 0, "out of memory");
		goto out;
	}
	*ret = sb;
	sb = NULL;
out:
	sbx_sandbox_free(sb);
	sbx_service_info_release(&svc);
	sbx_deploy_info_release(&d);
	free(inst);
	return r;
}

/* ---- open for exec: ids only, through the id cache ---- */

static struct sbx_idcache_key cache_key(const struct sbx_client *c, const char *name)
{
	struct sbx_idcache_key k = {.host = c->api_host, .token = c->token, .name = name};

	return k;
}

void sbx_sb_remember(struct sbx_client *c, const char *name, const char *service, const char *inst)
{
	struct sbx_idcache_key k = cache_key(c, name);
	struct sbx_idcache_ids ids;

	if (!c->id_cache_dir || !sbx_idcache_id_ok(service) || !sbx_idcache_id_ok(inst))
		return;
	snprintf(ids.service, sizeof(ids.service), "%s", service);
	snprintf(ids.instance, sizeof(ids.instance), "%s", inst);
	if (sbx_idcache_put(c->id_cache_dir, &k, &ids) < 0)
		sbx_debug("sandbox: cannot store ids in the cache in %s", c->id_cache_dir);
}

/* A handle of ids only; takes inst. The details are "". */
static int ids_handle(struct sbx_client *c, const char *in, const char *service, const char *app_id,
		      const char *deployment, char *inst, struct sbx_sandbox **ret)
{
	struct sbx_sandbox *sb = sbx_sb_new(c);
	const char *name = in;

	if (!sb) {
		free(inst);
		return -ENOMEM;
	}
	if (!strncmp(name, SBX_SERVICE_PREFIX, strlen(SBX_SERVICE_PREFIX)))
		name += strlen(SBX_SERVICE_PREFIX);
	sb->id = sbx_sb_xstrdup(service);
	sb->name = sbx_sb_xstrdup(name);
	sb->app_id = sbx_sb_xstrdup(app_id);
	sb->deployment_id = sbx_sb_xstrdup(deployment);
	sb->image = sbx_sb_xstrdup("");
	sb->instance_type = sbx_sb_xstrdup("");
	sb->region = sbx_sb_xstrdup("");
	sb->secret = sbx_sb_xstrdup("");
	sb->instance_id = inst ? inst : strdup("");
	if (!sbx_sb_complete(sb)) {
		sbx_sandbox_free(sb);
		return -ENOMEM;
	}
	*ret = sb;
	return 0;
}

/* The cached ids of in, as a handle; -ENOENT when there are none. */
static int open_cached(struct sbx_client *c, const char *in, struct sbx_sandbox **ret)
{
	struct sbx_idcache_key k = cache_key(c, in);
	struct sbx_idcache_ids ids;
	char *inst;
	int r;

	r = sbx_idcache_get(c->id_cache_dir, &k, &ids);
	if (r < 0) {
		if (r != -ENOENT)
			sbx_debug("sandbox: id cache in %s not used: %s", c->id_cache_dir,
				  strerror(-r));
		return -ENOENT;
	}
	inst = strdup(ids.instance);
	r = inst ? ids_handle(c, in, ids.service, "", "", inst, ret) : -ENOMEM;
	if (r == 0) {
		(*ret)->from_cache = true;
		sbx_debug("sandbox %s: ids from the cache", in);
	}
	return r;
}

int sbx_sandbox_open_ids(struct sbx_client *c, const char *id_or_name, struct sbx_sandbox **ret,
			 struct sbx_err *err)
{
	struct sbx_service_info svc = {0};
	char *inst = NULL;
	int r;

	if (!id_or_name || !*id_or_name)
		return sbx_err_set(err, -SBX_EINVAL, 0, "no sandbox id or name");
	if (c->id_cache_dir && open_cached(c, id_or_name, ret) == 0)
		return 0;
	r = resolve_service(c, id_or_name, &svc, err);
	if (r < 0)
		goto out;
	if (!*svc.latest_deployment_id) {
		r = sbx_err_set(err, -SBX_EPROTO, 0, "sandbox %s has no deployment", svc.id);
		goto out;
	}
	/* no instance yet (or asleep) is not an error here; exec resolves again */
	r = sbx_sb_scaling_once(c, svc.latest_deployment_id, &inst, err);
	if (r < 0 && sbx_sb_permanent(r))
		goto out;
	if (inst)
		sbx_sb_remember(c, id_or_name, svc.id, inst);
	r = ids_handle(c, id_or_name, svc.id, svc.app_id, svc.latest_deployment_id, inst, ret);
	inst = NULL; /* taken */
	if (r < 0)
		sbx_err_set(err, r, 0, "out of memory");
out:
	sbx_service_info_release(&svc);
	free(inst);
	return r;
}

bool sbx_sandbox_from_cache(const struct sbx_sandbox *sb)
{
	return sb->from_cache;
}

void sbx_sandbox_uncache(const struct sbx_sandbox *sb)
{
	struct sbx_idcache_key k = cache_key(sb->c, sb->name);

	if (sb->c->id_cache_dir && sbx_idcache_forget(sb->c->id_cache_dir, &k, sb->id) < 0)
		sbx_debug("sandbox: cannot update the id cache in %s", sb->c->id_cache_dir);
}
