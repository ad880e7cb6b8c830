/* sandbox.c - the sandbox lifecycle of sandbox.h over the REST API.
 *
 * Handles are shared between threads. Every field is fixed at creation except
 * instance_id and deployment_id, which sbx_sandbox_refresh() replaces under
 * sb->lock. Because the accessors hand out borrowed strings, a replaced value
 * is not freed but retired to a list freed with the handle, so a pointer a
 * caller got earlier stays valid (refreshes are rare: one per instance
 * replacement).
 *
 * Creation follows docs/executor-protocol.md §2.1 and undoes what it created when a
 * later step fails. Polls sleep on the calling thread; nothing here runs on
 * the transport thread.
 */
#include "sbx/sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/bodies.h"
#include "api/idcache.h"
#include "api/rest.h"
#include "api/sandbox_priv.h"
#include "client_priv.h"
#include "exec/agent_slot.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "xc/xc.h"

#define SCALING_POLL_MS 500
#define NAME_PAGE	100 /* the limit= of find_by_name() */

struct retired {
	struct retired *next;
	char *s;
};

struct sbx_sandbox {
	struct sbx_client *c;
	bool from_cache; /* ids from the client's id cache (fixed) */
	char *id, *name, *app_id, *image, *instance_type, *region, *secret;
	pthread_mutex_t lock;
	/* The secret read back from the deployment (meta_load) by a handle
	 * opened without it (ids only, sbx_sandbox_open_ids): set once, under
	 * lock, and never changed, so a pointer handed out stays valid. */
	char *late_secret;
	char *instance_id;	 /* lock */
	char *deployment_id;	 /* lock */
	struct retired *retired; /* lock */
	/* The executor (docs/executor-protocol.md §5.1): where it is, from the
	 * deployment's metadata (absent until read), and its client, made once
	 * by sbx_sandbox_executor() and kept until the handle is freed. */
	struct sbx_deploy_info *meta; /* lock */
	struct xc *xc;		      /* lock */
	/* The agent of SBX_TRANSPORT_AGENT (exec/agent_slot.h): connected by
	 * the first call that wants it, kept until the handle is freed; it
	 * has its own lock. */
	struct sbx_agent_slot agent;
};

static const char *const status_names[] = {
    [SBX_STATUS_ALLOCATING] = "ALLOCATING", [SBX_STATUS_STARTING] = "STARTING",
    [SBX_STATUS_HEALTHY] = "HEALTHY",	    [SBX_STATUS_UNHEALTHY] = "UNHEALTHY",
    [SBX_STATUS_STOPPING] = "STOPPING",	    [SBX_STATUS_STOPPED] = "STOPPED",
    [SBX_STATUS_ERROR] = "ERROR",	    [SBX_STATUS_SLEEPING] = "SLEEPING",
};

const char *sbx_status_name(enum sbx_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "ERROR";
}

enum sbx_status sbx_status_parse(const char *s)
{
	size_t i;

	if (!s)
		return SBX_STATUS_ALLOCATING;
	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(s, status_names[i]))
			return (enum sbx_status)i;
	return SBX_STATUS_ERROR;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Errors that no amount of polling will fix. */
/* Sleeps the next step of a back-off (doubling up to cap_ms), cut at end;
 * false, without sleeping, once end has passed. */
static bool backoff(int64_t end, int64_t *wait_ms, int64_t cap_ms)
{
	int64_t left = end - sbx_now_ms();

	if (left <= 0)
		return false;
	sleep_ms(left < *wait_ms ? left : *wait_ms);
	*wait_ms = *wait_ms * 2 < cap_ms ? *wait_ms * 2 : cap_ms;
	return true;
}

static bool permanent(int r)
{
	return r == -SBX_EAUTH || r == -SBX_EPERM || r == -ENOMEM || r == -SBX_EINVAL;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

static struct sbx_sandbox *sb_new(struct sbx_client *c)
{
	struct sbx_sandbox *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	sb->c = c;
	pthread_mutex_init(&sb->lock, NULL);
	sbx_agent_slot_init(&sb->agent);
	return sb;
}

/* true when every string field is allocated. */
static bool sb_complete(const struct sbx_sandbox *sb)
{
	return sb->id && sb->name && sb->app_id && sb->image && sb->instance_type && sb->region &&
	       sb->secret && sb->instance_id && sb->deployment_id;
}

void sbx_sandbox_free(struct sbx_sandbox *sb)
{
	struct retired *r, *next;

	if (!sb)
		return;
	/* first: the agent's session ends while the handle is still whole */
	sbx_agent_slot_release(&sb->agent);
	for (r = sb->retired; r; r = next) {
		next = r->next;
		free(r->s);
		free(r);
	}
	if (sb->secret)
		explicit_bzero(sb->secret, strlen(sb->secret));
	free(sb->secret);
	if (sb->late_secret)
		explicit_bzero(sb->late_secret, strlen(sb->late_secret));
	free(sb->late_secret);
	free(sb->id);
	free(sb->name);
	free(sb->app_id);
	free(sb->image);
	free(sb->instance_type);
	free(sb->region);
	free(sb->instance_id);
	free(sb->deployment_id);
	xc_free(sb->xc);
	sbx_deploy_info_release(sb->meta);
	free(sb->meta);
	pthread_mutex_destroy(&sb->lock);
	free(sb);
}

/* Replaces *field with a copy of val, retiring the old value; sb->lock held. */
static int swap_locked(struct sbx_sandbox *sb, char **field, const char *val)
{
	struct retired *r;
	char *n;

	if (*field && !strcmp(*field, val))
		return 0;
	n = strdup(val);
	r = malloc(sizeof(*r));
	if (!n || !r) {
		free(n);
		free(r);
		return -ENOMEM;
	}
	r->s = *field;
	r->next = sb->retired;
	sb->retired = r;
	*field = n;
	return 0;
}

/* ---- single REST steps ---- */

/* GET <pre><id><post>. */
static int get_json(struct sbx_client *c, const char *pre, const char *id, const char *post,
		    json_object **ret, struct sbx_err *err)
{
	struct sbx_buf p = SBX_BUF_INIT;
	int r;

	r = sbx_buf_printf(&p, "%s%s%s", pre, id, post);
	if (r < 0)
		return sbx_err_set(err, r, 0, "out of memory");
	r = sbx_rest_call(c, "GET", p.data, NULL, ret, err);
	sbx_buf_release(&p);
	return r;
}

static int proto_err(struct sbx_err *err, int r, const char *what)
{
	if (r == -ENOMEM)
		return sbx_err_set(err, r, 0, "out of memory");
	return sbx_err_set(err, -SBX_EPROTO, 0, "unexpected reply to %s", what);
}

/* GET the scaling of a deployment once: instance id or NULL (none yet). */
static int scaling_once(struct sbx_client *c, const char *dep, char **ret, struct sbx_err *err)
{
	json_object *o = NULL;
	int r;

	r = get_json(c, "/v1/deployment/", dep, "/scaling", &o, err);
	if (r < 0)
		return r;
	r = sbx_parse_scaling_reply(o, ret);
	sbx_json_put(o);
	return r < 0 ? proto_err(err, r, "GET scaling") : 0;
}

static int service_get(struct sbx_client *c, const char *id, struct sbx_service_info *ret,
		       struct sbx_err *err)
{
	json_object *o = NULL;
	int r;

	r = get_json(c, "/v1/services/", id, "", &o, err);
	if (r < 0)
		return r;
	r = sbx_parse_service_reply(o, ret);
	sbx_json_put(o);
	return r < 0 ? proto_err(err, r, "GET service") : 0;
}

static int deployment_get(struct sbx_client *c, const char *id, struct sbx_deploy_info *ret,
			  struct sbx_err *err)
{
	json_object *o = NULL;
	int r;

	r = get_json(c, "/v1/deployments/", id, "", &o, err);
	if (r < 0)
		return r;
	r = sbx_parse_deployment_reply(o, ret);
	sbx_json_put(o);
	return r < 0 ? proto_err(err, r, "GET deployment") : 0;
}

static int delete_one(struct sbx_client *c, const char *what, const char *id, struct sbx_err *err)
{
	struct sbx_buf p = SBX_BUF_INIT;
	int r;

	if (!id || !*id)
		return 0;
	r = sbx_buf_printf(&p, "/v1/%s/%s", what, id);
	if (r < 0)
		return sbx_err_set(err, r, 0, "out of memory");
	r = sbx_rest_call(c, "DELETE", p.data, NULL, NULL, err);
	sbx_buf_release(&p);
	return r;
}

/* DELETE service then app, back to back; a 404 counts as deleted. Returns
 * the first real failure. */
static int delete_ids(struct sbx_client *c, const char *service_id, const char *app_id,
		      struct sbx_err *err)
{
	struct sbx_err e2;
	int r1, r2;

	r1 = delete_one(c, "services", service_id, err);
	if (r1 == -SBX_ENOTFOUND)
		r1 = 0;
	r2 = delete_one(c, "apps", app_id, r1 < 0 ? &e2 : err);
	if (r2 == -SBX_ENOTFOUND)
		r2 = 0;
	return r1 < 0 ? r1 : r2;
}

/* Polls the scaling every 0.5 s until an instance appears or budget_ms
 * passes (protocol §2.4). Transient errors are retried. */
static int poll_instance(struct sbx_client *c, const char *dep, int64_t budget_ms, char **ret,
			 struct sbx_err *err)
{
	int64_t end = sbx_now_ms() + budget_ms, left;
	int r;

	for (;;) {
		char *id = NULL;

		r = scaling_once(c, dep, &id, err);
		if (r == 0 && id) {
			*ret = id;
			return 0;
		}
		if (r < 0 && permanent(r))
			return r;
		if (r < 0)
			sbx_debug("sandbox: scaling poll: %s", err ? err->msg : "error");
		left = end - sbx_now_ms();
		if (left <= 0)
			break;
		sleep_ms(left < SCALING_POLL_MS ? left : SCALING_POLL_MS);
	}
	return sbx_err_set(err, -SBX_ETIMEDOUT, 0, "no instance was scheduled within %.1f s",
			   (double)budget_ms / 1000);
}

/* ---- the id cache (api/idcache.h) ---- */

static struct sbx_idcache_key cache_key(const struct sbx_client *c, const char *name)
{
	struct sbx_idcache_key k = {.host = c->api_host, .token = c->token, .name = name};

	return k;
}

/* Stores name -> (service, inst) in the client's id cache, if it has one
 * and the ids are well formed; failures are only logged (a cache). */
static void remember(struct sbx_client *c, const char *name, const char *service, const char *inst)
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

/* ---- create ---- */

static int create_app(struct sbx_client *c, const char *name, char **ret, struct sbx_err *err)
{
	struct sbx_buf body = SBX_BUF_INIT;
	json_object *o = NULL;
	int r;

	r = sbx_body_create_app(&body, name, time(NULL));
	if (r < 0)
		return sbx_err_set(err, r, 0,
				   r == -EINVAL ? "invalid sandbox name" : "out of memory");
	r = sbx_rest_call(c, "POST", "/v1/apps", body.data, &o, err);
	sbx_buf_release(&body);
	if (r < 0)
		return r;
	r = sbx_parse_app_reply(o, ret);
	sbx_json_put(o);
	return r < 0 ? proto_err(err, r, "POST /v1/apps") : 0;
}

static int create_service(struct sbx_client *c, const char *app_id, const struct sbx_create_opts *o,
			  const char *secret, struct sbx_service_info *ret, struct sbx_err *err)
{
	struct sbx_buf body = SBX_BUF_INIT;
	json_object *j = NULL;
	int r;

	r = sbx_body_create_service(&body, app_id, o, secret);
	if (r < 0)
		return sbx_err_set(err, r, 0,
				   r == -EINVAL ? "invalid sandbox options" : "out of memory");
	r = sbx_rest_call(c, "POST", "/v1/services", body.data, &j, err);
	explicit_bzero(body.data, body.len); /* holds the secret */
	sbx_buf_release(&body);
	if (r < 0)
		return r;
	r = sbx_parse_service_reply(j, ret);
	sbx_json_put(j);
	if (r == 0 && !*ret->latest_deployment_id) {
		sbx_service_info_release(ret);
		r = -EPROTO;
	}
	return r < 0 ? proto_err(err, r, "POST /v1/services") : 0;
}

/* Fills the fixed fields of a newly created sandbox. */
static int fill_created(struct sbx_sandbox *sb, const struct sbx_create_opts *o, const char *app_id,
			const struct sbx_service_info *svc, const char *secret, char *instance_id)
{
	sb->id = xstrdup(svc->id);
	sb->name = xstrdup(o->name ? o->name : SBX_DEFAULT_NAME);
	sb->app_id = xstrdup(app_id);
	sb->deployment_id = xstrdup(svc->latest_deployment_id);
	sb->image = xstrdup(o->image ? o->image : SBX_DEFAULT_IMAGE);
	sb->instance_type =
	    xstrdup(o->instance_type ? o->instance_type : SBX_DEFAULT_INSTANCE_TYPE);
	sb->region = xstrdup(o->regions && o->n_regions ? o->regions[0] : SBX_DEFAULT_REGION);
	sb->secret = xstrdup(secret);
	sb->instance_id = instance_id;
	return sb_complete(sb) ? 0 : -ENOMEM;
}

/* Scaling budget of protocol §2.4, in milliseconds. */
static int64_t scaling_budget_ms(double timeout_s)
{
	double b = timeout_s > 60 ? (timeout_s / 2 < 60 ? timeout_s / 2 : 60) : timeout_s;

	return (int64_t)(b * 1000);
}

int sbx_sandbox_create(struct sbx_client *c, const struct sbx_create_opts *opts,
		       struct sbx_sandbox **ret, struct sbx_err *err)
{
	static const struct sbx_create_opts none;
	const struct sbx_create_opts *o = opts ? opts : &none;
	double timeout = o->timeout_s > 0 ? o->timeout_s : 300;
	int64_t start = sbx_now_ms(), left;
	struct sbx_service_info svc = {0};
	struct sbx_sandbox *sb = NULL;
	char secret[SBX_SECRET_LEN + 1], *app_id = NULL, *inst = NULL;
	int r;

	r = sbx_secret_new(secret);
	if (r < 0)
		return sbx_err_set(err, r, 0, "cannot generate the sandbox secret");
	r = create_app(c, o->name, &app_id, err);
	if (r < 0)
		goto out;
	r = create_service(c, app_id, o, secret, &svc, err);
	if (r < 0)
		goto out;
	r = poll_instance(c, svc.latest_deployment_id, scaling_budget_ms(timeout), &inst, err);
	if (r < 0)
		goto out;
	sb = sb_new(c);
	r = -ENOMEM;
	if (sb) {
		r = fill_created(sb, o, app_id, &svc, secret, inst);
		inst = NULL; /* owned by sb now */
	}
	if (r < 0) {
		sbx_err_set(err, r, 0, "out of memory");
		goto out;
	}
	if (o->wait_ready) {
		left = (int64_t)(timeout * 1000) - (sbx_now_ms() - start);
		r = sbx_sandbox_wait_ready(sb, left > 0 ? (double)left / 1000 : 0.001,
					   o->poll_interval_s, err);
		if (r == -SBX_ETIMEDOUT)
			sbx_err_set(err, r, 0, "sandbox %s not HEALTHY within %.1f s; deleted",
				    sb->id, timeout);
		if (r < 0)
			goto out;
	}
	/* the first exec by name or id needs no lookup (sbx_sandbox_open_ids) */
	remember(c, sb->name, sb->id, sb->instance_id);
	remember(c, sb->id, sb->id, sb->instance_id);
	*ret = sb;
	sb = NULL;
out:
	if (r < 0 && app_id) /* undo; keep the first error in err */
		delete_ids(c, svc.id, app_id, NULL);
	sbx_sandbox_free(sb);
	sbx_service_info_release(&svc);
	free(app_id);
	free(inst);
	explicit_bzero(secret, sizeof(secret));
	return r;
}

/* ---- open ---- */

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
		return proto_err(err, r, "GET /v1/services");
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
		r = service_get(c, in, ret, err);
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
	sb->id = xstrdup(svc->id);
	sb->name = xstrdup(full);
	sb->app_id = xstrdup(svc->app_id);
	sb->deployment_id = xstrdup(svc->latest_deployment_id);
	sb->image = xstrdup(d->image);
	sb->instance_type = xstrdup(d->instance_type);
	sb->region = xstrdup(d->region);
	sb->secret = xstrdup(d->secret);
	sb->instance_id = inst ? inst : strdup("");
	return sb_complete(sb) ? 0 : -ENOMEM;
}

/* Keeps the deployment's metadata of *d in the handle (moved from *d). */
static void keep_meta(struct sbx_sandbox *sb, struct sbx_deploy_info *d)
{
	struct sbx_deploy_info *m = calloc(1, sizeof(*m));

	if (!m)
		return; /* read again when the executor is needed */
	m->public_url = d->public_url;
	m->routing_key = d->routing_key;
	m->proxy_host = d->proxy_host;
	m->proxy_port = d->proxy_port;
	d->public_url = d->routing_key = d->proxy_host = NULL;
	pthread_mutex_lock(&sb->lock);
	sbx_deploy_info_release(sb->meta);
	free(sb->meta);
	sb->meta = m;
	pthread_mutex_unlock(&sb->lock);
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
	r = deployment_get(c, svc.latest_deployment_id, &d, err);
	if (r < 0)
		goto out;
	/* no instance yet (or asleep) is not an error here; exec resolves again */
	r = scaling_once(c, svc.latest_deployment_id, &inst, err);
	if (r < 0 && permanent(r))
		goto out;
	sb = sb_new(c);
	r = -ENOMEM;
	if (sb) {
		r = fill_opened(sb, &svc, &d, inst);
		inst = NULL; /* owned by sb now */
		if (r == 0)
			keep_meta(sb, &d);
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

/* A handle of ids only; takes inst. The details are "". */
static int ids_handle(struct sbx_client *c, const char *in, const char *service, const char *app_id,
		      const char *deployment, char *inst, struct sbx_sandbox **ret)
{
	struct sbx_sandbox *sb = sb_new(c);
	const char *name = in;

	if (!sb) {
		free(inst);
		return -ENOMEM;
	}
	if (!strncmp(name, SBX_SERVICE_PREFIX, strlen(SBX_SERVICE_PREFIX)))
		name += strlen(SBX_SERVICE_PREFIX);
	sb->id = xstrdup(service);
	sb->name = xstrdup(name);
	sb->app_id = xstrdup(app_id);
	sb->deployment_id = xstrdup(deployment);
	sb->image = xstrdup("");
	sb->instance_type = xstrdup("");
	sb->region = xstrdup("");
	sb->secret = xstrdup("");
	sb->instance_id = inst ? inst : strdup("");
	if (!sb_complete(sb)) {
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
	r = scaling_once(c, svc.latest_deployment_id, &inst, err);
	if (r < 0 && permanent(r))
		goto out;
	if (inst)
		remember(c, id_or_name, svc.id, inst);
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

/* ---- instance, status, readiness ---- */

int sbx_sandbox_refresh(struct sbx_sandbox *sb, struct sbx_err *err)
{
	struct sbx_service_info svc = {0};
	char *inst = NULL;
	int r;

	r = service_get(sb->c, sb->id, &svc, err);
	if (r < 0)
		return r;
	if (!*svc.latest_deployment_id) {
		r = sbx_err_set(err, -SBX_EPROTO, 0, "sandbox %s has no deployment", sb->id);
		goto out;
	}
	r = scaling_once(sb->c, svc.latest_deployment_id, &inst, err);
	if (r < 0)
		goto out;
	if (!inst) {
		r = sbx_err_set(err, -SBX_ENOTFOUND, 0, "sandbox %s has no running instance",
				sb->id);
		goto out;
	}
	pthread_mutex_lock(&sb->lock);
	r = swap_locked(sb, &sb->deployment_id, svc.latest_deployment_id);
	if (!r)
		r = swap_locked(sb, &sb->instance_id, inst);
	pthread_mutex_unlock(&sb->lock);
	if (r < 0)
		sbx_err_set(err, r, 0, "out of memory");
	sbx_debug("sandbox %s: instance %s", sb->id, inst);
out:
	sbx_service_info_release(&svc);
	free(inst);
	return r;
}

int sbx_sandbox_instance_copy(struct sbx_sandbox *sb, char **ret, struct sbx_err *err)
{
	char *id;
	int r;

	pthread_mutex_lock(&sb->lock);
	id = *sb->instance_id ? strdup(sb->instance_id) : NULL;
	r = *sb->instance_id && !id ? -ENOMEM : 0;
	pthread_mutex_unlock(&sb->lock);
	if (r < 0)
		return sbx_err_set(err, r, 0, "out of memory");
	if (!id) {
		r = sbx_sandbox_refresh(sb, err);
		if (r < 0)
			return r;
		return sbx_sandbox_instance_copy(sb, ret, err);
	}
	*ret = id;
	return 0;
}

static int status_of(struct sbx_sandbox *sb, const char *inst, enum sbx_status *ret,
		     struct sbx_err *err)
{
	json_object *o = NULL;
	int r;

	r = get_json(sb->c, "/v1/instances/", inst, "", &o, err);
	if (r < 0)
		return r;
	r = sbx_parse_instance_reply(o, ret);
	sbx_json_put(o);
	return r < 0 ? proto_err(err, r, "GET instance") : 0;
}

int sbx_sandbox_status(struct sbx_sandbox *sb, enum sbx_status *ret, struct sbx_err *err)
{
	char *inst = NULL, *again = NULL;
	int r;

	r = sbx_sandbox_instance_copy(sb, &inst, err);
	if (r < 0)
		return r;
	r = status_of(sb, inst, ret, err);
	/* a replaced instance gets a new id (protocol §6.9): look once more */
	if (r == -SBX_ENOTFOUND && sbx_sandbox_refresh(sb, NULL) == 0 &&
	    sbx_sandbox_instance_copy(sb, &again, NULL) == 0 && strcmp(again, inst))
		r = status_of(sb, again, ret, err);
	free(inst);
	free(again);
	return r;
}

bool sbx_sandbox_is_healthy(struct sbx_sandbox *sb)
{
	enum sbx_status st;

	return sbx_sandbox_status(sb, &st, NULL) == 0 && st == SBX_STATUS_HEALTHY;
}

int sbx_sandbox_wait_ready(struct sbx_sandbox *sb, double timeout_s, double poll_s,
			   struct sbx_err *err)
{
	int64_t end = sbx_now_ms() + (int64_t)(timeout_s * 1000), poll_ms, wait_ms;
	enum sbx_status st = SBX_STATUS_ALLOCATING;
	int r;

	/* Start fast and back off to the poll interval: a local host is ready
	 * within tens of milliseconds, a cloud instance within seconds. */
	poll_ms = (int64_t)((poll_s > 0 ? poll_s : 2.0) * 1000);
	wait_ms = poll_ms < 50 ? poll_ms : 50;
	for (;;) {
		r = sbx_sandbox_status(sb, &st, err);
		if (r == 0 && st == SBX_STATUS_HEALTHY)
			return 0;
		if (r == 0 && (st == SBX_STATUS_STOPPING || st == SBX_STATUS_STOPPED ||
			       st == SBX_STATUS_ERROR))
			return sbx_err_set(err, -SBX_ENOTHEALTHY, 0, "sandbox %s is %s", sb->id,
					   sbx_status_name(st));
		if (r < 0 && permanent(r))
			return r;
		if (!backoff(end, &wait_ms, poll_ms))
			break;
	}
	return sbx_err_set(err, -SBX_ETIMEDOUT, 0, "sandbox %s not ready after %.1f s (%s)", sb->id,
			   timeout_s, r < 0 ? "status unknown" : sbx_status_name(st));
}

int sbx_sandbox_delete(struct sbx_sandbox *sb, struct sbx_err *err)
{
	return delete_ids(sb->c, sb->id, sb->app_id, err);
}

int sbx_sandbox_wait_deleted(struct sbx_sandbox *sb, double timeout_s, struct sbx_err *err)
{
	int64_t end = sbx_now_ms() + (int64_t)(timeout_s * 1000), wait_ms = 20;
	struct sbx_service_info svc;
	bool gone;
	int r;

	for (;;) {
		memset(&svc, 0, sizeof(svc));
		r = service_get(sb->c, sb->id, &svc, err);
		if (r == -SBX_ENOTFOUND)
			return 0;
		gone = r == 0 && !strcmp(svc.status, "DELETED");
		sbx_service_info_release(&svc);
		if (gone)
			return 0;
		if (r < 0 && permanent(r))
			return r;
		if (!backoff(end, &wait_ms, 1000))
			break;
	}
	return sbx_err_set(err, -SBX_ETIMEDOUT, 0, "sandbox %s still being deleted after %.1f s",
			   sb->id, timeout_s);
}

/* ---- accessors ---- */

const char *sbx_sandbox_id(const struct sbx_sandbox *sb)
{
	return sb->id;
}
const char *sbx_sandbox_name(const struct sbx_sandbox *sb)
{
	return sb->name;
}
const char *sbx_sandbox_app_id(const struct sbx_sandbox *sb)
{
	return sb->app_id;
}
const char *sbx_sandbox_service_id(const struct sbx_sandbox *sb)
{
	return sb->id;
}
const char *sbx_sandbox_image(const struct sbx_sandbox *sb)
{
	return sb->image;
}
const char *sbx_sandbox_instance_type(const struct sbx_sandbox *sb)
{
	return sb->instance_type;
}
const char *sbx_sandbox_region(const struct sbx_sandbox *sb)
{
	return sb->region;
}
const char *sbx_sandbox_secret(const struct sbx_sandbox *sb)
{
	const char *late = __atomic_load_n(&sb->late_secret, __ATOMIC_ACQUIRE);

	return *sb->secret || !late ? sb->secret : late;
}
struct sbx_client *sbx_sandbox_client(const struct sbx_sandbox *sb)
{
	return sb->c;
}

/* The two mutable ones: the returned pointer stays valid (see the top). */
const char *sbx_sandbox_deployment_id(const struct sbx_sandbox *sb)
{
	struct sbx_sandbox *m = (struct sbx_sandbox *)sb;
	const char *s;

	pthread_mutex_lock(&m->lock);
	s = m->deployment_id;
	pthread_mutex_unlock(&m->lock);
	return s;
}

const char *sbx_sandbox_instance_id(const struct sbx_sandbox *sb)
{
	struct sbx_sandbox *m = (struct sbx_sandbox *)sb;
	const char *s;

	pthread_mutex_lock(&m->lock);
	s = m->instance_id;
	pthread_mutex_unlock(&m->lock);
	return s;
}

/* ---- the executor (docs/executor-protocol.md §5.1) ---- */

/* The metadata, read from the deployment unless the handle has an executor
 * URL already (a created handle has not read its deployment; a sandbox may
 * get its URL once it is up). */
static int meta_load(struct sbx_sandbox *sb, struct sbx_err *err)
{
	struct sbx_deploy_info d = {0};
	char *dep = NULL;
	bool have;
	int r;

	pthread_mutex_lock(&sb->lock);
	have = sb->meta && *sb->meta->public_url && (*sb->secret || sb->late_secret);
	dep = have || !sb->deployment_id || !*sb->deployment_id ? NULL : strdup(sb->deployment_id);
	pthread_mutex_unlock(&sb->lock);
	if (have)
		return 0;
	if (!dep) {
		/* opened by ids (sbx_sandbox_open_ids): the service names its
		 * deployment */
		r = sbx_sandbox_refresh(sb, err);
		if (r < 0)
			return r;
		pthread_mutex_lock(&sb->lock);
		dep = sb->deployment_id && *sb->deployment_id ? strdup(sb->deployment_id) : NULL;
		pthread_mutex_unlock(&sb->lock);
	}
	if (!dep)
		return sbx_err_set(err, -SBX_EPROTO, 0,
				   "sandbox %s has no deployment (or out of memory)", sb->id);
	r = deployment_get(sb->c, dep, &d, err);
	if (r == 0)
		keep_meta(sb, &d);
	pthread_mutex_lock(&sb->lock);
	if (r == 0 && !*sb->secret && !sb->late_secret && d.secret && *d.secret)
		__atomic_store_n(&sb->late_secret, xstrdup(d.secret), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sb->lock);
	if (d.secret)
		explicit_bzero(d.secret, strlen(d.secret));
	sbx_deploy_info_release(&d);
	free(dep);
	return r;
}

/* The executor's base URL in *ret (caller frees): public_url +
 * "/koyeb-sandbox", else https://<the app's first domain>/koyeb-sandbox. */
static int executor_url(struct sbx_sandbox *sb, char **ret, struct sbx_err *err)
{
	struct sbx_buf u = SBX_BUF_INIT;
	json_object *o = NULL;
	char *dom = NULL;
	int r;

	pthread_mutex_lock(&sb->lock);
	r = sb->meta && *sb->meta->public_url
		? sbx_buf_printf(&u, "%s/koyeb-sandbox", sb->meta->public_url)
		: 1;
	pthread_mutex_unlock(&sb->lock);
	if (r == 1) {
		r = get_json(sb->c, "/v1/apps/", sb->app_id, "", &o, err);
		if (r == 0 && sbx_parse_app_domain(o, &dom) < 0)
			r = sbx_err_set(err, -ENOMEM, 0, "out of memory");
		if (r == 0 && !*dom)
			r = sbx_err_set(err, -SBX_ENOTSUP, 0,
					"sandbox %s has no executor: its deployment names no "
					"executor URL and its app has no domain",
					sb->id);
		if (r == 0)
			r = sbx_buf_printf(&u, "https://%s/koyeb-sandbox", dom);
	}
	if (r == -ENOMEM)
		sbx_err_set(err, r, 0, "out of memory");
	if (r == 0)
		*ret = sbx_buf_detach(&u, NULL);
	sbx_buf_release(&u);
	sbx_json_put(o);
	free(dom);
	return r;
}

static int executor_make(struct sbx_sandbox *sb, struct xc **ret, struct sbx_err *err)
{
	struct xc_target t = {0};
	char *url = NULL, *key = NULL;
	int r;

	/* a handle opened by ids has no secret yet: the deployment has it */
	r = meta_load(sb, err);
	if (r == 0 && !*sbx_sandbox_secret(sb))
		r = sbx_err_set(err, -SBX_ENOTSUP, 0,
				"sandbox %s has no secret: its executor cannot be used", sb->id);
	if (r == 0)
		r = executor_url(sb, &url, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&sb->lock);
	key = sb->meta && *sb->meta->routing_key ? strdup(sb->meta->routing_key) : NULL;
	pthread_mutex_unlock(&sb->lock);
	t.base_url = url;
	t.secret = sbx_sandbox_secret(sb);
	t.routing_key = key;
	t.ca_file = sb->c->ca_file;
	r = sbx_client_curl(sb->c, &t.curl, err) ?: xc_new(&t, ret, err);
	free(url);
	free(key);
	return r;
}

int sbx_sandbox_executor(struct sbx_sandbox *sb, struct xc **ret, struct sbx_err *err)
{
	struct xc *x = NULL;
	int r;

	pthread_mutex_lock(&sb->lock);
	x = sb->xc;
	pthread_mutex_unlock(&sb->lock);
	if (x) {
		*ret = x;
		return 0;
	}
	r = executor_make(sb, &x, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&sb->lock);
	if (sb->xc) { /* another thread made one meanwhile: use that one */
		xc_free(x);
		x = sb->xc;
	} else {
		sb->xc = x;
	}
	pthread_mutex_unlock(&sb->lock);
	*ret = x;
	sbx_debug("sandbox %s: executor at %s", sb->id, xc_base_url(x));
	return 0;
}

struct sbx_agent_slot *sbx_sandbox_agent_slot(struct sbx_sandbox *sb)
{
	return &sb->agent;
}

int sbx_sandbox_proxy_port(struct sbx_sandbox *sb, char **ret_host, int *ret_port,
			   struct sbx_err *err)
{
	char *host = NULL;
	int port = 0, r;

	pthread_mutex_lock(&sb->lock);
	if (sb->meta && sb->meta->proxy_port) {
		host = strdup(sb->meta->proxy_host);
		port = sb->meta->proxy_port;
	}
	pthread_mutex_unlock(&sb->lock);
	if (!port) {
		/* not read yet, or not published yet: read the deployment again */
		struct sbx_deploy_info d = {0};
		char *dep = NULL;

		pthread_mutex_lock(&sb->lock);
		dep = strdup(sb->deployment_id);
		pthread_mutex_unlock(&sb->lock);
		r = dep ? deployment_get(sb->c, dep, &d, err) : -ENOMEM;
		free(dep);
		if (r == 0 && d.proxy_port) {
			host = strdup(d.proxy_host);
			port = d.proxy_port;
		}
		if (r == 0)
			keep_meta(sb, &d);
		sbx_deploy_info_release(&d);
		if (r < 0)
			return r == -ENOMEM ? sbx_err_set(err, r, 0, "out of memory") : r;
	}
	if (!port)
		return sbx_err_set(err, -SBX_ENOTSUP, 0, "sandbox %s publishes no proxy port",
				   sb->id);
	if (!host)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	*ret_host = host;
	*ret_port = port;
	return 0;
}
