/* test_bodies.c - lifecycle bodies and reply parsers (src/lib/api/bodies.c):
 * create-app and create-service bodies field by field (docs/executor-protocol.md
 * §2.2/§2.3), the secret's shape, WORKER without ports, the user's
 * SANDBOX_SECRET overridden, and the reply parsers with int64 as strings,
 * missing fields and hostile ids. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/bodies.h"
#include "util/json.h"

#define APP    "4f0c1b2a-0000-4000-8000-000000000001"
#define SECRET "q3XabcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01"

static json_object *parse(const struct sbx_buf *b)
{
	json_object *o = NULL;

	ck_assert_int_eq(sbx_json_parse(b->data, b->len, &o), 0);
	return o;
}

static json_object *service_body(const struct sbx_create_opts *o)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *j;

	ck_assert_int_eq(sbx_body_create_service(&b, APP, o, SECRET), 0);
	j = parse(&b);
	sbx_buf_release(&b);
	return j;
}

static json_object *at(json_object *o, const char *path, size_t i)
{
	json_object *a = sbx_json_get(o, path);

	ck_assert_ptr_nonnull(a);
	ck_assert(json_object_is_type(a, json_type_array));
	ck_assert_uint_gt(json_object_array_length(a), i);
	return json_object_array_get_idx(a, i);
}

static size_t len_of(json_object *o, const char *path)
{
	json_object *a = sbx_json_get(o, path);

	return a ? json_object_array_length(a) : 0;
}

static int64_t num(json_object *o, const char *path)
{
	int64_t v = -1;

	ck_assert_int_eq(sbx_json_int(o, path, &v), 0);
	return v;
}

START_TEST(secret_shape)
{
	char a[SBX_SECRET_LEN + 1], b[SBX_SECRET_LEN + 1];
	size_t i;

	ck_assert_int_eq(sbx_secret_new(a), 0);
	ck_assert_int_eq(sbx_secret_new(b), 0);
	ck_assert_uint_eq(strlen(a), 43);
	for (i = 0; i < 43; i++)
		ck_assert_ptr_nonnull(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					     "0123456789_-",
					     a[i]));
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(app_body)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *o;

	ck_assert_int_eq(sbx_body_create_app(&b, "demo", 1730720000), 0);
	o = parse(&b);
	ck_assert_str_eq(sbx_json_str(o, "name"), "sandbox-app-demo-1730720000");
	ck_assert_int_eq(json_object_object_length(o), 1);
	sbx_json_put(o);
	sbx_buf_reset(&b);
	ck_assert_int_eq(sbx_body_create_app(&b, NULL, 7), 0);
	o = parse(&b);
	ck_assert_str_eq(sbx_json_str(o, "name"), "sandbox-app-quick-sandbox-7");
	sbx_json_put(o);
	ck_assert_int_eq(sbx_body_create_app(&b, "", 7), -EINVAL);
	ck_assert_int_eq(sbx_body_create_app(&b, "a b", 7), -EINVAL);
	ck_assert_int_eq(sbx_body_create_app(&b, "x\"y", 7), -EINVAL);
	sbx_buf_release(&b);
}
END_TEST

START_TEST(service_defaults)
{
	struct sbx_create_opts o = {.name = "demo"};
	json_object *j = service_body(&o), *e;

	ck_assert_str_eq(sbx_json_str(j, "app_id"), APP);
	ck_assert_str_eq(sbx_json_str(j, "definition.name"), "sandbox-service-demo");
	ck_assert_str_eq(sbx_json_str(j, "definition.type"), "SANDBOX");
	ck_assert(sbx_json_bool(j, "definition.life_cycle.delete_when_empty", false));
	ck_assert_str_eq(sbx_json_str(j, "definition.docker.image"), "koyeb/sandbox");
	ck_assert_ptr_null(sbx_json_get(j, "definition.docker.command"));
	ck_assert_ptr_null(sbx_json_get(j, "definition.docker.args"));
	/* env: the secret only */
	ck_assert_uint_eq(len_of(j, "definition.env"), 1);
	e = at(j, "definition.env", 0);
	ck_assert_str_eq(sbx_json_str(e, "key"), "SANDBOX_SECRET");
	ck_assert_str_eq(sbx_json_str(e, "value"), SECRET);
	/* the current SDKs' ports: the executor over HTTP at its route, the
	 * forwarder as a TCP proxy port */
	ck_assert_uint_eq(len_of(j, "definition.ports"), 1);
	ck_assert_int_eq(num(at(j, "definition.ports", 0), "port"), 3030);
	ck_assert_str_eq(sbx_json_str(at(j, "definition.ports", 0), "protocol"), "http");
	ck_assert_uint_eq(len_of(j, "definition.routes"), 1);
	ck_assert_int_eq(num(at(j, "definition.routes", 0), "port"), 3030);
	ck_assert_str_eq(sbx_json_str(at(j, "definition.routes", 0), "path"), "/koyeb-sandbox/");
	ck_assert_uint_eq(len_of(j, "definition.proxy_ports"), 1);
	ck_assert_int_eq(num(at(j, "definition.proxy_ports", 0), "port"), 3031);
	ck_assert_str_eq(sbx_json_str(at(j, "definition.proxy_ports", 0), "protocol"), "tcp");
	/* instance type, scaling, region */
	ck_assert_uint_eq(len_of(j, "definition.instance_types"), 1);
	ck_assert_str_eq(sbx_json_str(at(j, "definition.instance_types", 0), "type"), "nano");
	ck_assert_uint_eq(len_of(j, "definition.scalings"), 1);
	ck_assert_int_eq(num(at(j, "definition.scalings", 0), "min"), 1);
	ck_assert_int_eq(num(at(j, "definition.scalings", 0), "max"), 1);
	ck_assert_uint_eq(len_of(j, "definition.regions"), 1);
	ck_assert_str_eq(json_object_get_string(at(j, "definition.regions", 0)), "eu");
	sbx_json_put(j);
}
END_TEST

/* A caller with an array but no entries (the CLI without --region or --env)
 * gets the defaults, not EINVAL: this used to fail every `sbx create`. */
START_TEST(empty_lists_mean_defaults)
{
	static const char *const none[] = {NULL};
	struct sbx_create_opts o = {
	    .name = "demo", .regions = none, .n_regions = 0, .env = none, .n_env = 0};
	json_object *j = service_body(&o);

	ck_assert_uint_eq(len_of(j, "definition.regions"), 1);
	ck_assert_str_eq(json_object_get_string(at(j, "definition.regions", 0)), "eu");
	ck_assert_uint_eq(len_of(j, "definition.env"), 1);
	sbx_json_put(j);
}
END_TEST

START_TEST(service_options)
{
	static const char *const env[] = {"MODE=test", "SANDBOX_SECRET=mine", "EMPTY=", "EQ=a=b"};
	static const char *const regions[] = {"na", "fra"};
	static const int ports[] = {8080, 9090};
	struct sbx_create_opts o = {.name = "x.y_z-1",
				    .image = "ubuntu:24.04",
				    .instance_type = "small",
				    .env = env,
				    .n_env = 4,
				    .regions = regions,
				    .n_regions = 2,
				    .ports = ports,
				    .n_ports = 2};
	json_object *j = service_body(&o);

	ck_assert_str_eq(sbx_json_str(j, "definition.name"), "sandbox-service-x.y_z-1");
	ck_assert_str_eq(sbx_json_str(j, "definition.docker.image"), "ubuntu:24.04");
	ck_assert_str_eq(sbx_json_str(at(j, "definition.instance_types", 0), "type"), "small");
	/* the user's SANDBOX_SECRET is dropped, the rest kept in order */
	ck_assert_uint_eq(len_of(j, "definition.env"), 4);
	ck_assert_str_eq(sbx_json_str(at(j, "definition.env", 0), "key"), "SANDBOX_SECRET");
	ck_assert_str_eq(sbx_json_str(at(j, "definition.env", 0), "value"), SECRET);
	ck_assert_str_eq(sbx_json_str(at(j, "definition.env", 1), "key"), "MODE");
	ck_assert_str_eq(sbx_json_str(at(j, "definition.env", 1), "value"), "test");
	ck_assert_str_eq(sbx_json_str(at(j, "definition.env", 2), "key"), "EMPTY");
	ck_assert_str_eq(sbx_json_str(at(j, "definition.env", 2), "value"), "");
	ck_assert_str_eq(sbx_json_str(at(j, "definition.env", 3), "value"), "a=b");
	/* caller ports: one route to the first */
	ck_assert_str_eq(sbx_json_str(j, "definition.type"), "SANDBOX");
	ck_assert_ptr_null(sbx_json_get(j, "definition.proxy_ports"));
	ck_assert_uint_eq(len_of(j, "definition.ports"), 2);
	ck_assert_int_eq(num(at(j, "definition.ports", 1), "port"), 9090);
	ck_assert_uint_eq(len_of(j, "definition.routes"), 1);
	ck_assert_int_eq(num(at(j, "definition.routes", 0), "port"), 8080);
	ck_assert_str_eq(sbx_json_str(at(j, "definition.routes", 0), "path"), "/");
	ck_assert_uint_eq(len_of(j, "definition.regions"), 2);
	ck_assert_str_eq(json_object_get_string(at(j, "definition.regions", 1)), "fra");
	sbx_json_put(j);
}
END_TEST

START_TEST(service_worker)
{
	struct sbx_create_opts o = {.no_ports = true};
	static const int none[] = {0};
	json_object *j = service_body(&o);

	ck_assert_str_eq(sbx_json_str(j, "definition.type"), "WORKER");
	ck_assert_str_eq(sbx_json_str(j, "definition.name"), "sandbox-service-quick-sandbox");
	ck_assert_ptr_null(sbx_json_get(j, "definition.ports"));
	ck_assert_ptr_null(sbx_json_get(j, "definition.routes"));
	sbx_json_put(j);
	/* an empty port list means no ports too */
	o.no_ports = false;
	o.ports = none;
	o.n_ports = 0;
	j = service_body(&o);
	ck_assert_str_eq(sbx_json_str(j, "definition.type"), "WORKER");
	ck_assert_ptr_null(sbx_json_get(j, "definition.ports"));
	sbx_json_put(j);
}
END_TEST

START_TEST(service_invalid)
{
	static const char *const bad_env[] = {"NOEQUALS"};
	static const char *const empty_key[] = {"=v"};
	static const int bad_port[] = {70000};
	static const char *const bad_region[] = {""};
	struct sbx_create_opts o = {0};
	struct sbx_buf b = SBX_BUF_INIT;

	o.env = bad_env;
	o.n_env = 1;
	ck_assert_int_eq(sbx_body_create_service(&b, APP, &o, SECRET), -EINVAL);
	o.env = empty_key;
	ck_assert_int_eq(sbx_body_create_service(&b, APP, &o, SECRET), -EINVAL);
	o.n_env = 0;
	o.ports = bad_port;
	o.n_ports = 1;
	ck_assert_int_eq(sbx_body_create_service(&b, APP, &o, SECRET), -EINVAL);
	o.ports = NULL;
	o.regions = bad_region;
	o.n_regions = 1;
	ck_assert_int_eq(sbx_body_create_service(&b, APP, &o, SECRET), -EINVAL);
	o.regions = NULL;
	o.name = "no/slash";
	ck_assert_int_eq(sbx_body_create_service(&b, APP, &o, SECRET), -EINVAL);
	o.name = NULL;
	ck_assert_int_eq(sbx_body_create_service(&b, "../apps", &o, SECRET), -EINVAL);
	ck_assert_int_eq(sbx_body_create_service(&b, APP, &o, ""), -EINVAL);
	sbx_buf_release(&b);
}
END_TEST

static json_object *js(const char *s)
{
	json_object *o = NULL;

	ck_assert_int_eq(sbx_json_parse(s, strlen(s), &o), 0);
	return o;
}

START_TEST(parse_app_and_service)
{
	struct sbx_service_info s = {0};
	json_object *o;
	char *id = NULL;

	o = js("{\"app\":{\"id\":\"4f0c\",\"name\":\"n\",\"status\":\"STARTING\"}}");
	ck_assert_int_eq(sbx_parse_app_reply(o, &id), 0);
	ck_assert_str_eq(id, "4f0c");
	free(id);
	sbx_json_put(o);
	o = js("{\"app\":{}}");
	ck_assert_int_eq(sbx_parse_app_reply(o, &id), -EPROTO);
	sbx_json_put(o);
	o = js("{\"app\":{\"id\":\"../../v1/apps\"}}");
	ck_assert_int_eq(sbx_parse_app_reply(o, &id), -EPROTO);
	sbx_json_put(o);

	o = js(
	    "{\"service\":{\"id\":\"9a1e\",\"app_id\":\"4f0c\",\"name\":\"sandbox-service-demo\","
	    "\"status\":\"STARTING\",\"latest_deployment_id\":\"d77b\","
	    "\"active_deployment_id\":\"\",\"unknown\":{\"x\":1}}}");
	ck_assert_int_eq(sbx_parse_service_reply(o, &s), 0);
	ck_assert_str_eq(s.id, "9a1e");
	ck_assert_str_eq(s.app_id, "4f0c");
	ck_assert_str_eq(s.name, "sandbox-service-demo");
	ck_assert_str_eq(s.status, "STARTING");
	ck_assert_str_eq(s.latest_deployment_id, "d77b");
	ck_assert_str_eq(s.created_at, "");
	sbx_service_info_release(&s);
	sbx_service_info_release(&s); /* idempotent on a released struct */
	sbx_json_put(o);
	/* missing optional fields become "" */
	o = js("{\"service\":{\"id\":\"9a1e\"}}");
	ck_assert_int_eq(sbx_parse_service_reply(o, &s), 0);
	ck_assert_str_eq(s.latest_deployment_id, "");
	ck_assert_str_eq(s.name, "");
	sbx_service_info_release(&s);
	sbx_json_put(o);
	o = js("{\"services\":[]}");
	ck_assert_int_eq(sbx_parse_service_reply(o, &s), -EPROTO);
	sbx_json_put(o);
	o = js("{\"service\":{\"id\":\"9a1e\",\"latest_deployment_id\":\"a b\"}}");
	ck_assert_int_eq(sbx_parse_service_reply(o, &s), -EPROTO);
	sbx_json_put(o);
}
END_TEST

START_TEST(parse_scaling)
{
	json_object *o;
	char *id = NULL;

	o = js("{\"replicas\":[{\"region\":\"eu\",\"replica_index\":\"0\","
	       "\"instances\":[{\"id\":\"c03d\",\"status\":\"STARTING\"}]}]}");
	ck_assert_int_eq(sbx_parse_scaling_reply(o, &id), 0);
	ck_assert_str_eq(id, "c03d");
	free(id);
	sbx_json_put(o);
	/* not scheduled yet: every shape of "nothing" */
	o = js("{\"replicas\":[{\"instances\":[]}]}");
	ck_assert_int_eq(sbx_parse_scaling_reply(o, &id), 0);
	ck_assert_ptr_null(id);
	sbx_json_put(o);
	o = js("{\"replicas\":[]}");
	ck_assert_int_eq(sbx_parse_scaling_reply(o, &id), 0);
	ck_assert_ptr_null(id);
	sbx_json_put(o);
	o = js("{}");
	ck_assert_int_eq(sbx_parse_scaling_reply(o, &id), 0);
	ck_assert_ptr_null(id);
	sbx_json_put(o);
	/* an instance without an id is skipped */
	o = js("{\"replicas\":[{\"instances\":[{\"status\":\"ALLOCATING\"}]},"
	       "{\"instances\":[{\"id\":\"\"},{\"id\":\"e1\"}]}]}");
	ck_assert_int_eq(sbx_parse_scaling_reply(o, &id), 0);
	ck_assert_str_eq(id, "e1");
	free(id);
	sbx_json_put(o);
	o = js("{\"replicas\":[{\"instances\":[{\"id\":\"x/../y\"}]}]}");
	ck_assert_int_eq(sbx_parse_scaling_reply(o, &id), -EPROTO);
	sbx_json_put(o);
}
END_TEST

START_TEST(parse_instance)
{
	enum sbx_status st = SBX_STATUS_ERROR;
	json_object *o;

	o = js("{\"instance\":{\"id\":\"c03d\",\"status\":\"HEALTHY\",\"messages\":[]}}");
	ck_assert_int_eq(sbx_parse_instance_reply(o, &st), 0);
	ck_assert_int_eq(st, SBX_STATUS_HEALTHY);
	sbx_json_put(o);
	o = js("{\"instance\":{\"id\":\"c03d\"}}");
	ck_assert_int_eq(sbx_parse_instance_reply(o, &st), 0);
	ck_assert_int_eq(st, SBX_STATUS_ALLOCATING);
	sbx_json_put(o);
	o = js("{\"instance\":{\"status\":\"WEIRD\"}}");
	ck_assert_int_eq(sbx_parse_instance_reply(o, &st), 0);
	ck_assert_int_eq(st, SBX_STATUS_ERROR);
	sbx_json_put(o);
	o = js("{\"nope\":1}");
	ck_assert_int_eq(sbx_parse_instance_reply(o, &st), -EPROTO);
	sbx_json_put(o);
	ck_assert_str_eq(sbx_status_name(SBX_STATUS_SLEEPING), "SLEEPING");
	ck_assert_int_eq(sbx_status_parse("STOPPING"), SBX_STATUS_STOPPING);
	ck_assert_int_eq(sbx_status_parse(NULL), SBX_STATUS_ALLOCATING);
}
END_TEST

START_TEST(parse_deployment)
{
	struct sbx_deploy_info d = {0};
	json_object *o;

	o = js("{\"deployment\":{\"id\":\"d77b\",\"definition\":{\"name\":\"sandbox-service-demo\","
	       "\"docker\":{\"image\":\"koyeb/sandbox\"},"
	       "\"env\":[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"SANDBOX_SECRET\","
	       "\"value\":\"" SECRET "\"}],\"instance_types\":[{\"type\":\"nano\"}],"
	       "\"regions\":[\"eu\",\"na\"],\"scalings\":[{\"min\":\"1\",\"max\":\"1\"}]}}}");
	ck_assert_int_eq(sbx_parse_deployment_reply(o, &d), 0);
	ck_assert_str_eq(d.image, "koyeb/sandbox");
	ck_assert_str_eq(d.instance_type, "nano");
	ck_assert_str_eq(d.region, "eu");
	ck_assert_str_eq(d.secret, SECRET);
	ck_assert_str_eq(d.name, "sandbox-service-demo");
	sbx_deploy_info_release(&d);
	sbx_json_put(o);
	/* everything optional in the definition */
	o = js("{\"deployment\":{\"definition\":{}}}");
	ck_assert_int_eq(sbx_parse_deployment_reply(o, &d), 0);
	ck_assert_str_eq(d.image, "");
	ck_assert_str_eq(d.secret, "");
	ck_assert_str_eq(d.region, "");
	sbx_deploy_info_release(&d);
	sbx_json_put(o);
	o = js("{\"deployment\":{}}");
	ck_assert_int_eq(sbx_parse_deployment_reply(o, &d), -EPROTO);
	sbx_json_put(o);
}
END_TEST

/* metadata (executor-protocol §2.5): the executor URL, routing key, proxy port */
START_TEST(parse_deployment_metadata)
{
	struct sbx_deploy_info d = {0};
	json_object *o;

	o = js("{\"deployment\":{\"definition\":{},\"metadata\":{\"sandbox\":{\"public_url\":"
	       "\"http://127.0.0.1:7070/sandbox-executor/abc\",\"routing_key\":\"abc\"},"
	       "\"proxy_ports\":[{\"host\":\"127.0.0.1\",\"public_port\":\"20123\",\"port\":3031,"
	       "\"protocol\":\"tcp\"},{\"host\":\"other\",\"public_port\":1}]}}}");
	ck_assert_int_eq(sbx_parse_deployment_reply(o, &d), 0);
	ck_assert_str_eq(d.public_url, "http://127.0.0.1:7070/sandbox-executor/abc");
	ck_assert_str_eq(d.routing_key, "abc");
	ck_assert_str_eq(d.proxy_host, "127.0.0.1");
	ck_assert_int_eq(d.proxy_port, 20123);
	sbx_deploy_info_release(&d);
	sbx_json_put(o);
	/* none: empty, not an error (the early API has no metadata) */
	o = js("{\"deployment\":{\"definition\":{}}}");
	ck_assert_int_eq(sbx_parse_deployment_reply(o, &d), 0);
	ck_assert_str_eq(d.public_url, "");
	ck_assert_str_eq(d.routing_key, "");
	ck_assert_int_eq(d.proxy_port, 0);
	sbx_deploy_info_release(&d);
	sbx_json_put(o);
	/* what could break a URL or a header is taken as absent */
	o = js("{\"deployment\":{\"definition\":{},\"metadata\":{\"sandbox\":{\"public_url\":"
	       "\"file:///etc/passwd\",\"routing_key\":\"a\\r\\nX-Evil: 1\"},"
	       "\"proxy_ports\":[{\"host\":\"a/b@c\",\"public_port\":80}]}}}");
	ck_assert_int_eq(sbx_parse_deployment_reply(o, &d), 0);
	ck_assert_str_eq(d.public_url, "");
	ck_assert_str_eq(d.routing_key, "");
	ck_assert_str_eq(d.proxy_host, "");
	ck_assert_int_eq(d.proxy_port, 0);
	sbx_deploy_info_release(&d);
	sbx_json_put(o);
	o = js("{\"deployment\":{\"definition\":{},\"metadata\":{\"proxy_ports\":[{\"host\":"
	       "\"h\",\"public_port\":70000}]}}}");
	ck_assert_int_eq(sbx_parse_deployment_reply(o, &d), 0);
	ck_assert_int_eq(d.proxy_port, 0);
	sbx_deploy_info_release(&d);
	sbx_json_put(o);
}
END_TEST

START_TEST(parse_app_domain)
{
	json_object *o;
	char *dom = NULL;

	o = js("{\"app\":{\"domains\":[{\"name\":\"my-app-x.koyeb.app\"},{\"name\":\"b\"}]}}");
	ck_assert_int_eq(sbx_parse_app_domain(o, &dom), 0);
	ck_assert_str_eq(dom, "my-app-x.koyeb.app");
	free(dom);
	sbx_json_put(o);
	o = js("{\"app\":{\"domains\":[]}}");
	ck_assert_int_eq(sbx_parse_app_domain(o, &dom), 0);
	ck_assert_str_eq(dom, "");
	free(dom);
	sbx_json_put(o);
	o = js("{\"app\":{\"domains\":[{\"name\":\"evil.com/x?\"}]}}");
	ck_assert_int_eq(sbx_parse_app_domain(o, &dom), 0);
	ck_assert_str_eq(dom, "");
	free(dom);
	sbx_json_put(o);
}
END_TEST

START_TEST(parse_services_page)
{
	json_object *o, *arr;
	size_t n;
	bool more;

	o = js("{\"services\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"limit\":\"2\",\"has_more\":true}");
	ck_assert_int_eq(sbx_parse_services_page(o, 100, &arr, &n, &more), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(more);
	sbx_json_put(o);
	o = js("{\"services\":[{\"id\":\"a\"},{\"id\":\"b\"}]}");
	ck_assert_int_eq(sbx_parse_services_page(o, 2, &arr, &n, &more), 0);
	ck_assert(more); /* a full page and no has_more: ask again */
	ck_assert_int_eq(sbx_parse_services_page(o, 3, &arr, &n, &more), 0);
	ck_assert(!more);
	sbx_json_put(o);
	o = js("{}");
	ck_assert_int_eq(sbx_parse_services_page(o, 100, &arr, &n, &more), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert(!more);
	sbx_json_put(o);
	o = js("{\"services\":{}}");
	ck_assert_int_eq(sbx_parse_services_page(o, 100, &arr, &n, &more), -EPROTO);
	sbx_json_put(o);
	/* Koyeb spells it has_next: a short page that says so is not the end,
	 * a full page that says false is */
	o = js("{\"services\":[{\"id\":\"a\"}],\"has_next\":true}");
	ck_assert_int_eq(sbx_parse_services_page(o, 100, &arr, &n, &more), 0);
	ck_assert(more);
	sbx_json_put(o);
	o = js("{\"services\":[{\"id\":\"a\"}],\"has_next\":false}");
	ck_assert_int_eq(sbx_parse_services_page(o, 1, &arr, &n, &more), 0);
	ck_assert(!more);
	sbx_json_put(o);
}
END_TEST

START_TEST(sandbox_names)
{
	struct sbx_service_info s = {0};
	json_object *o;

	o = js("{\"id\":\"11111111-1111-1111-1111-111111111111\",\"name\":\"sandbox-service-a\"}");
	ck_assert_int_eq(sbx_parse_service(o, &s), 0);
	ck_assert_str_eq(sbx_service_sandbox_name(&s), "a");
	sbx_service_info_release(&s);
	sbx_json_put(o);
	/* the current SDKs: the bare name on a SANDBOX service */
	o = js("{\"id\":\"11111111-1111-1111-1111-111111111111\",\"name\":\"b\",\"type\":"
	       "\"SANDBOX\"}");
	ck_assert_int_eq(sbx_parse_service(o, &s), 0);
	ck_assert_str_eq(sbx_service_sandbox_name(&s), "b");
	sbx_service_info_release(&s);
	sbx_json_put(o);
	/* any other service is not a sandbox */
	o = js("{\"id\":\"11111111-1111-1111-1111-111111111111\",\"name\":\"web\",\"type\":"
	       "\"WEB\"}");
	ck_assert_int_eq(sbx_parse_service(o, &s), 0);
	ck_assert_ptr_null(sbx_service_sandbox_name(&s));
	sbx_service_info_release(&s);
	sbx_json_put(o);
}
END_TEST

START_TEST(id_and_name_rules)
{
	char longid[SBX_ID_MAX + 2];

	ck_assert(sbx_id_valid("4f0c1b2a-0000-4000-8000-000000000001"));
	ck_assert(sbx_id_valid("abc_DEF-9"));
	ck_assert(!sbx_id_valid(""));
	ck_assert(!sbx_id_valid(NULL));
	ck_assert(!sbx_id_valid("a/b"));
	ck_assert(!sbx_id_valid("a?b"));
	ck_assert(!sbx_id_valid("a.b"));
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert(!sbx_id_valid(longid));
	longid[SBX_ID_MAX] = '\0';
	ck_assert(sbx_id_valid(longid));
	ck_assert(sbx_name_valid("my.sandbox_1-x"));
	ck_assert(!sbx_name_valid("my sandbox"));
	ck_assert(!sbx_name_valid("a&b"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bodies");
	TCase *tc = tcase_create("bodies");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, secret_shape);
	tcase_add_test(tc, app_body);
	tcase_add_test(tc, service_defaults);
	tcase_add_test(tc, empty_lists_mean_defaults);
	tcase_add_test(tc, service_options);
	tcase_add_test(tc, service_worker);
	tcase_add_test(tc, service_invalid);
	tcase_add_test(tc, parse_app_and_service);
	tcase_add_test(tc, parse_scaling);
	tcase_add_test(tc, parse_instance);
	tcase_add_test(tc, parse_deployment);
	tcase_add_test(tc, parse_deployment_metadata);
	tcase_add_test(tc, parse_app_domain);
	tcase_add_test(tc, parse_services_page);
	tcase_add_test(tc, sandbox_names);
	tcase_add_test(tc, id_and_name_rules);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
