/* bodies.c - lifecycle request bodies and reply parsers; see bodies.h.
 *
 * Builders assemble a json-c tree and serialise it once, so every string is
 * escaped by json-c. Parsers never trust a string from a reply to be short or
 * path-safe: ids are checked with sbx_id_valid() and other strings are
 * bounded by SBX_FIELD_MAX.
 */
#include "api/bodies.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"
#include "util/rand.h"

/* Longest free-text field (status word, image, timestamp) we keep. */
#define SBX_FIELD_MAX 1024

static bool all_in(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= max)
			return false;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (!strchr(extra, c))
			return false;
	}
	return true;
}

bool sbx_id_valid(const char *s)
{
	return all_in(s, SBX_ID_MAX, "_-");
}

bool sbx_name_valid(const char *s)
{
	return all_in(s, SBX_NAME_MAX, "._-");
}

int sbx_secret_new(char *out)
{
	unsigned char raw[32];
	struct sbx_buf b = SBX_BUF_INIT;
	int r;

	r = sbx_rand_bytes(raw, sizeof(raw));
	if (r < 0)
		goto out;
	r = sbx_b64url_encode(&b, raw, sizeof(raw));
	if (r < 0)
		goto out;
	if (b.len != SBX_SECRET_LEN) {
		r = -EINVAL;
		goto out;
	}
	memcpy(out, b.data, SBX_SECRET_LEN + 1);
out:
	explicit_bzero(raw, sizeof(raw));
	if (b.data)
		explicit_bzero(b.data, b.len);
	sbx_buf_release(&b);
	return r;
}

/* Serialises o into out and drops the reference. */
static int dump_put(struct sbx_buf *out, json_object *o)
{
	int r = sbx_json_dump(out, o);

	sbx_json_put(o);
	return r;
}

int sbx_body_create_app(struct sbx_buf *out, const char *name, time_t now)
{
	struct sbx_buf full = SBX_BUF_INIT;
	json_object *o = NULL;
	int r;

	if (!name)
		name = SBX_DEFAULT_NAME;
	if (!sbx_name_valid(name))
		return -EINVAL;
	r = sbx_buf_printf(&full, SBX_APP_PREFIX "%s-%lld", name, (long long)now);
	if (r < 0)
		goto out;
	o = json_object_new_object();
	if (!o) {
		r = -ENOMEM;
		goto out;
	}
	r = sbx_json_add_str(o, "name", full.data);
	if (r < 0)
		goto out;
	r = dump_put(out, o);
	o = NULL;
out:
	sbx_json_put(o);
	sbx_buf_release(&full);
	return r;
}

/* {"key":k,"value":v} appended to arr. */
static int add_env(json_object *arr, const char *k, size_t klen, const char *v)
{
	json_object *e = json_object_new_object();
	int r;

	if (!e)
		return -ENOMEM;
	r = sbx_json_add(e, "key", json_object_new_string_len(k, (int)klen));
	if (!r)
		r = sbx_json_add_str(e, "value", v);
	if (!r && json_object_array_add(arr, e) < 0)
		r = -ENOMEM;
	if (r < 0)
		json_object_put(e);
	return r;
}

static int build_env(json_object *def, const struct sbx_create_opts *o, const char *secret)
{
	json_object *arr = json_object_new_array();
	size_t i;
	int r;

	if (!arr)
		return -ENOMEM;
	r = add_env(arr, "SANDBOX_SECRET", strlen("SANDBOX_SECRET"), secret);
	for (i = 0; !r && i < o->n_env; i++) {
		const char *kv = o->env[i], *eq = kv ? strchr(kv, '=') : NULL;

		if (!eq || eq == kv || (size_t)(eq - kv) > 1024) {
			r = -EINVAL;
			break;
		}
		/* the generated secret always wins (protocol §2.8) */
		if ((size_t)(eq - kv) == strlen("SANDBOX_SECRET") &&
		    !memcmp(kv, "SANDBOX_SECRET", (size_t)(eq - kv)))
			continue;
		r = add_env(arr, kv, (size_t)(eq - kv), eq + 1);
	}
	if (r < 0) {
		json_object_put(arr);
		return r;
	}
	return sbx_json_add(def, "env", arr);
}

/* {"<ka>":a,"<kb>":b} appended to arr; b is a string when sb != NULL. */
static int add_pair(json_object *arr, const char *ka, int a, const char *kb, int b, const char *sb)
{
	json_object *e = json_object_new_object();
	int r;

	if (!e)
		return -ENOMEM;
	r = sbx_json_add_int(e, ka, a);
	if (!r)
		r = sb ? sbx_json_add_str(e, kb, sb) : sbx_json_add_int(e, kb, b);
	if (!r && json_object_array_add(arr, e) < 0)
		r = -ENOMEM;
	if (r < 0)
		json_object_put(e);
	return r;
}

/* The current SDKs' layout: the executor's port 3030 over HTTP, routed at
 * /koyeb-sandbox/, and the forwarder's 3031 as a raw TCP proxy port
 * (docs/executor-protocol.md §2.3). */
static int build_sdk_ports(json_object *def)
{
	json_object *pa = json_object_new_array(), *ra = json_object_new_array();
	json_object *xa = json_object_new_array();
	int r = pa && ra && xa ? 0 : -ENOMEM;

	if (!r)
		r = add_pair(pa, "port", 3030, "protocol", 0, "http");
	if (!r)
		r = add_pair(ra, "port", 3030, "path", 0, "/koyeb-sandbox/");
	if (!r)
		r = add_pair(xa, "port", 3031, "protocol", 0, "tcp");
	if (!r) {
		r = sbx_json_add(def, "ports", pa);
		pa = NULL;
	}
	if (!r) {
		r = sbx_json_add(def, "routes", ra);
		ra = NULL;
	}
	if (!r) {
		r = sbx_json_add(def, "proxy_ports", xa);
		xa = NULL;
	}
	sbx_json_put(pa);
	sbx_json_put(ra);
	sbx_json_put(xa);
	return r;
}

/* life_cycle.delete_when_empty, as the current SDKs send: the app goes
 * with its last service, also when the create that was to fill it failed. */
static int build_life_cycle(json_object *def)
{
	json_object *lc = json_object_new_object();
	int r = lc ? 0 : -ENOMEM;

	if (!r)
		r = sbx_json_add_bool(lc, "delete_when_empty", true);
	if (!r) {
		r = sbx_json_add(def, "life_cycle", lc);
		lc = NULL;
	}
	sbx_json_put(lc);
	return r;
}

static int build_ports(json_object *def, const struct sbx_create_opts *o)
{
	const int *ports = o->ports;
	size_t i, n = o->n_ports;
	json_object *pa, *ra;
	int r = 0;

	if (o->no_ports || (ports && n == 0))
		return 0;
	if (!ports)
		return build_sdk_ports(def);
	pa = json_object_new_array();
	ra = json_object_new_array();
	if (!pa || !ra) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; !r && i < n; i++) {
		if (ports[i] < 1 || ports[i] > 65535)
			r = -EINVAL;
		else
			r = add_pair(pa, "port", ports[i], "protocol", 0, "http");
	}
	if (!r)
		r = add_pair(ra, "port", ports[0], "path", 0, "/");
	if (r < 0)
		goto fail;
	r = sbx_json_add(def, "ports", pa);
	pa = NULL;
	if (!r)
		r = sbx_json_add(def, "routes", ra);
	return r;
fail:
	sbx_json_put(pa);
	sbx_json_put(ra);
	return r;
}

static int build_scalars(json_object *def, const struct sbx_create_opts *o)
{
	const char *image = o->image ? o->image : SBX_DEFAULT_IMAGE;
	const char *itype = o->instance_type ? o->instance_type : SBX_DEFAULT_INSTANCE_TYPE;
	bool web = !o->no_ports && (!o->ports || o->n_ports > 0);
	json_object *docker = json_object_new_object(), *it = json_object_new_array();
	json_object *sc = json_object_new_array(), *e = json_object_new_object();
	int r = -ENOMEM;

	if (!*image || !*itype) {
		r = -EINVAL;
		goto fail;
	}
	if (!docker || !it || !sc || !e)
		goto fail;
	/* SANDBOX, as the current SDKs send; one without ports has no
	 * executor to reach: a plain WORKER */
	r = sbx_json_add_str(def, "type", web ? "SANDBOX" : "WORKER");
	if (!r)
		r = sbx_json_add_str(docker, "image", image);
	if (!r)
		r = sbx_json_add_str(e, "type", itype);
	if (!r && json_object_array_add(it, e) < 0)
		r = -ENOMEM;
	if (r < 0)
		goto fail;
	e = NULL;
	r = add_pair(sc, "min", 1, "max", 1, NULL);
	if (r < 0)
		goto fail;
	r = sbx_json_add(def, "docker", docker);
	docker = NULL;
	if (!r)
		r = sbx_json_add(def, "instance_types", it);
	it = NULL;
	if (!r)
		r = sbx_json_add(def, "scalings", sc);
	return r;
fail:
	sbx_json_put(docker);
	sbx_json_put(it);
	sbx_json_put(sc);
	sbx_json_put(e);
	return r;
}

static int build_regions(json_object *def, const struct sbx_create_opts *o)
{
	json_object *arr = json_object_new_array();
	/* an empty list means "not given", like NULL: the default region */
	bool given = o->regions && o->n_regions;
	size_t i, n = given ? o->n_regions : 1;
	int r = 0;

	if (!arr)
		return -ENOMEM;
	for (i = 0; !r && i < n; i++) {
		const char *reg = given ? o->regions[i] : SBX_DEFAULT_REGION;

		if (!reg || !*reg)
			r = -EINVAL;
		else if (json_object_array_add(arr, json_object_new_string(reg)) < 0)
			r = -ENOMEM;
	}
	if (!r && n == 0)
		r = -EINVAL;
	if (r < 0) {
		json_object_put(arr);
		return r;
	}
	return sbx_json_add(def, "regions", arr);
}

int sbx_body_create_service(struct sbx_buf *out, const char *app_id,
			    const struct sbx_create_opts *o, const char *secret)
{
	const char *name = o->name ? o->name : SBX_DEFAULT_NAME;
	struct sbx_buf full = SBX_BUF_INIT;
	json_object *root = NULL, *def = NULL;
	int r = -ENOMEM;

	if (!sbx_name_valid(name) || !sbx_id_valid(app_id) || !secret || !*secret)
		return -EINVAL;
	if (sbx_buf_printf(&full, SBX_SERVICE_PREFIX "%s", name) < 0)
		goto out;
	root = json_object_new_object();
	def = json_object_new_object();
	if (!root || !def)
		goto out;
	r = sbx_json_add_str(def, "name", full.data);
	if (!r)
		r = build_scalars(def, o);
	if (!r)
		r = build_env(def, o, secret);
	if (!r)
		r = build_ports(def, o);
	if (!r)
		r = build_regions(def, o);
	if (!r)
		r = build_life_cycle(def);
	if (!r)
		r = sbx_json_add_str(root, "app_id", app_id);
	if (r < 0)
		goto out;
	r = sbx_json_add(root, "definition", def);
	def = NULL;
	if (!r)
		r = sbx_json_dump(out, root);
out:
	sbx_json_put(def);
	sbx_json_put(root);
	sbx_buf_release(&full);
	return r;
}

/* ---- reply parsers ---- */

/* Copies a bounded string at path; absent → "" unless required. */
static int dup_field(json_object *o, const char *path, bool required, char **ret)
{
	const char *s = sbx_json_str(o, path);

	if (!s) {
		if (required)
			return -EPROTO;
		s = "";
	}
	if (strlen(s) > SBX_FIELD_MAX)
		return -EPROTO;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* Copies an id at path; absent → "" unless required; present must be valid. */
static int dup_id(json_object *o, const char *path, bool required, char **ret)
{
	const char *s = sbx_json_str(o, path);

	if (!s || !*s) {
		if (required)
			return -EPROTO;
		s = "";
	} else if (!sbx_id_valid(s)) {
		return -EPROTO;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int sbx_parse_app_reply(json_object *o, char **ret_id)
{
	return dup_id(o, "app.id", true, ret_id);
}

void sbx_service_info_release(struct sbx_service_info *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->app_id);
	free(s->name);
	free(s->status);
	free(s->latest_deployment_id);
	free(s->created_at);
	free(s->type);
	memset(s, 0, sizeof(*s));
}

const char *sbx_service_sandbox_name(const struct sbx_service_info *s)
{
	size_t plen = strlen(SBX_SERVICE_PREFIX);

	if (!s->name)
		return NULL;
	if (!strncmp(s->name, SBX_SERVICE_PREFIX, plen))
		return s->name + plen;
	if (s->type && !strcmp(s->type, "SANDBOX") && s->name[0])
		return s->name;
	return NULL;
}

int sbx_parse_service(json_object *svc, struct sbx_service_info *ret)
{
	struct sbx_service_info s = {0};
	int r;

	if (!svc || !json_object_is_type(svc, json_type_object))
		return -EPROTO;
	r = dup_id(svc, "id", true, &s.id);
	if (!r)
		r = dup_id(svc, "app_id", false, &s.app_id);
	if (!r)
		r = dup_field(svc, "name", false, &s.name);
	if (!r)
		r = dup_field(svc, "status", false, &s.status);
	if (!r)
		r = dup_id(svc, "latest_deployment_id", false, &s.latest_deployment_id);
	if (!r)
		r = dup_field(svc, "created_at", false, &s.created_at);
	if (!r)
		r = dup_field(svc, "type", false, &s.type);
	if (r < 0) {
		sbx_service_info_release(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int sbx_parse_service_reply(json_object *o, struct sbx_service_info *ret)
{
	return sbx_parse_service(sbx_json_get(o, "service"), ret);
}

/* Element i of the array at path of o, or NULL. */
static json_object *array_at(json_object *o, const char *path, size_t i)
{
	json_object *a = path ? sbx_json_get(o, path) : o;

	if (!a || !json_object_is_type(a, json_type_array) || i >= json_object_array_length(a))
		return NULL;
	return json_object_array_get_idx(a, i);
}

int sbx_parse_scaling_reply(json_object *o, char **ret_id)
{
	json_object *rep, *inst;
	size_t i, j;

	*ret_id = NULL;
	/* the SDK takes replicas[0].instances[0]; we take the first instance
	 * that carries an id, in the same order, bounded to 64 x 64 */
	for (i = 0; i < 64 && (rep = array_at(o, "replicas", i)); i++) {
		for (j = 0; j < 64 && (inst = array_at(rep, "instances", j)); j++) {
			const char *id = sbx_json_str(inst, "id");

			if (!id || !*id)
				continue;
			return dup_id(inst, "id", true, ret_id);
		}
	}
	return 0;
}

int sbx_parse_instance_reply(json_object *o, enum sbx_status *ret)
{
	json_object *inst = sbx_json_get(o, "instance");

	if (!inst || !json_object_is_type(inst, json_type_object))
		return -EPROTO;
	*ret = sbx_status_parse(sbx_json_str(inst, "status"));
	return 0;
}

void sbx_deploy_info_release(struct sbx_deploy_info *d)
{
	if (!d)
		return;
	free(d->image);
	free(d->instance_type);
	free(d->region);
	if (d->secret)
		explicit_bzero(d->secret, strlen(d->secret));
	free(d->secret);
	free(d->name);
	free(d->public_url);
	free(d->routing_key);
	free(d->proxy_host);
	memset(d, 0, sizeof(*d));
}

/* SANDBOX_SECRET from the env array of a definition; "" when absent. */
static int find_secret(json_object *def, char **ret)
{
	json_object *e;
	size_t i;

	for (i = 0; i < 4096 && (e = array_at(def, "env", i)); i++) {
		const char *k = sbx_json_str(e, "key");

		if (k && !strcmp(k, "SANDBOX_SECRET"))
			return dup_field(e, "value", false, ret);
	}
	*ret = strdup("");
	return *ret ? 0 : -ENOMEM;
}

/* true when s is printable ASCII (it goes into a URL or a header). */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* true for a host name (or address) that is safe in a URL's authority. */
static bool plain_host(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (!isalnum((unsigned char)*s) && !strchr(".-:[]", *s))
			return false;
	return n > 0 && n <= 253;
}

/* Copies a string member, "" when absent or failing ok(). */
static int dup_checked(json_object *o, const char *path, bool (*ok)(const char *), char **ret)
{
	const char *s = sbx_json_str(o, path);

	if (!s || strlen(s) > SBX_FIELD_MAX || !ok(s))
		s = "";
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static bool http_url(const char *s)
{
	return printable(s) && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8));
}

/* The executor's address and the proxy port from deployment.metadata. */
static int parse_metadata(json_object *md, struct sbx_deploy_info *d)
{
	json_object *pp = array_at(md, "proxy_ports", 0);
	int64_t port = 0;
	int r;

	r = dup_checked(md, "sandbox.public_url", http_url, &d->public_url);
	if (!r)
		r = dup_checked(md, "sandbox.routing_key", printable, &d->routing_key);
	if (!r)
		r = dup_checked(pp, "host", plain_host, &d->proxy_host);
	if (!r && sbx_json_int(pp, "public_port", &port) == 0 && port > 0 && port < 65536 &&
	    *d->proxy_host)
		d->proxy_port = (int)port;
	return r;
}

int sbx_parse_app_domain(json_object *o, char **ret)
{
	json_object *dom = array_at(o, "app.domains", 0);

	return dup_checked(dom, "name", plain_host, ret);
}

int sbx_parse_deployment_reply(json_object *o, struct sbx_deploy_info *ret)
{
	json_object *def = sbx_json_get(o, "deployment.definition");
	struct sbx_deploy_info d = {0};
	json_object *it, *reg;
	int r;

	if (!def || !json_object_is_type(def, json_type_object))
		return -EPROTO;
	r = dup_field(def, "docker.image", false, &d.image);
	it = array_at(def, "instance_types", 0);
	if (!r)
		r = dup_field(it, "type", false, &d.instance_type);
	reg = array_at(def, "regions", 0);
	if (!r) {
		const char *s = reg && json_object_is_type(reg, json_type_string)
				    ? json_object_get_string(reg)
				    : "";

		d.region = strlen(s) <= SBX_FIELD_MAX ? strdup(s) : NULL;
		r = d.region ? 0 : -EPROTO;
	}
	if (!r)
		r = find_secret(def, &d.secret);
	if (!r)
		r = dup_field(def, "name", false, &d.name);
	if (!r)
		r = parse_metadata(sbx_json_get(o, "deployment.metadata"), &d);
	if (r < 0) {
		sbx_deploy_info_release(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int sbx_parse_services_page(json_object *o, size_t limit, json_object **ret_arr, size_t *ret_n,
			    bool *ret_more)
{
	json_object *arr = sbx_json_get(o, "services"), *hm;

	if (!arr) {
		/* an empty list may be left out entirely */
		*ret_arr = NULL;
		*ret_n = 0;
		*ret_more = false;
		return 0;
	}
	if (!json_object_is_type(arr, json_type_array))
		return -EPROTO;
	*ret_arr = arr;
	*ret_n = json_object_array_length(arr);
	hm = sbx_json_get(o, "has_next");
	if (!hm)
		hm = sbx_json_get(o, "has_more");
	if (hm && json_object_is_type(hm, json_type_boolean))
		*ret_more = json_object_get_boolean(hm);
	else
		*ret_more = *ret_n >= limit;
	return 0;
}
