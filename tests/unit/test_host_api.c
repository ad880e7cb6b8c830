/* test_host_api.c - sbxd's request handling without the system: definition
 * validation (src/host/spec.c), image resolution and registry
 * (src/host/images.c), JSON bodies (src/host/render.c), token comparison,
 * and the REST routes end to end through sbxd_api_handle() on a daemon in
 * test mode (no sandbox is ever started: the loop never runs). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/api.h"
#include "host/daemon.h"
#include "host/images.h"
#include "host/render.h"
#include "host/spec.h"
#include "host/token.h"
#include "util/json.h"

static json_object *J(const char *s)
{
	json_object *o = NULL;

	ck_assert_int_eq(sbx_json_parse(s, strlen(s), &o), 0);
	return o;
}

static bool has_field(const struct sbxd_verrs *e, const char *field)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!strcmp(e->e[i].field, field))
			return true;
	return false;
}

START_TEST(spec_sdk_definition)
{
	json_object *d =
	    J("{\"name\":\"sandbox-service-Demo_1\",\"type\":\"WEB\","
	      "\"docker\":{\"image\":\"koyeb/sandbox\"},"
	      "\"env\":[{\"key\":\"SANDBOX_SECRET\",\"value\":\"a\"},{\"key\":\"MODE\","
	      "\"value\":\"t\"},{\"key\":\"SANDBOX_SECRET\",\"value\":\"b\"}],"
	      "\"ports\":[{\"port\":3030,\"protocol\":\"http\"}],"
	      "\"instance_types\":[{\"type\":\"micro\"}],"
	      "\"scalings\":[{\"min\":\"1\",\"max\":1}],\"regions\":[\"na\"],"
	      "\"unknown\":{\"x\":1}}");
	struct sbxd_verrs e = {.n = 0};
	struct sbxd_spec s;

	ck_assert_int_eq(sbxd_spec_parse(d, &s, &e), 0);
	ck_assert_str_eq(s.name, "sandbox-service-Demo_1");
	ck_assert_str_eq(s.image, "koyeb/sandbox");
	ck_assert_str_eq(s.argv[0], "sleep");
	ck_assert_str_eq(s.argv[1], "infinity");
	ck_assert_ptr_null(s.argv[2]);
	ck_assert_str_eq(sbxd_spec_getenv(s.env, "SANDBOX_SECRET"), "b"); /* last wins */
	ck_assert_str_eq(sbxd_spec_getenv(s.env, "MODE"), "t");
	ck_assert_ptr_null(s.env[2]);
	ck_assert_str_eq(s.itype->name, "micro");
	ck_assert_uint_eq(s.itype->memory, 512ull << 20);
	ck_assert_str_eq(s.region, "na");
	ck_assert_str_eq(s.type, "WEB");
	ck_assert_str_eq(s.hostname, "sandbox-service-demo-1");
	sbxd_spec_release(&s);
	json_object_put(d);
}
END_TEST

START_TEST(spec_command_and_defaults)
{
	json_object *d =
	    J("{\"name\":\"x\",\"docker\":{\"image\":\"i\",\"entrypoint\":[\"/bin/sh\","
	      "\"-c\"],\"command\":\"echo\",\"args\":[\"a b\",\"\"]}}");
	struct sbxd_verrs e = {.n = 0};
	struct sbxd_spec s;

	ck_assert_int_eq(sbxd_spec_parse(d, &s, &e), 0);
	ck_assert_str_eq(s.argv[0], "/bin/sh");
	ck_assert_str_eq(s.argv[1], "-c");
	ck_assert_str_eq(s.argv[2], "echo");
	ck_assert_str_eq(s.argv[3], "a b");
	ck_assert_str_eq(s.argv[4], "");
	ck_assert_ptr_null(s.argv[5]);
	ck_assert_str_eq(s.itype->name, "nano");
	ck_assert_str_eq(s.region, "eu");
	ck_assert_str_eq(s.type, "WORKER");
	ck_assert_ptr_null(s.env[0]);
	sbxd_spec_release(&s);
	json_object_put(d);
}
END_TEST

START_TEST(spec_errors)
{
	json_object *d =
	    J("{\"docker\":{},\"instance_types\":[{\"type\":\"huge\"}],"
	      "\"scalings\":[{\"min\":1,\"max\":2}],"
	      "\"env\":[{\"key\":\"A=B\",\"value\":\"x\"},{\"key\":\"S\",\"secret\":\"s\"}],"
	      "\"regions\":\"eu\"}");
	struct sbxd_verrs e = {.n = 0};
	struct sbxd_spec s;

	ck_assert_int_eq(sbxd_spec_parse(d, &s, &e), -EINVAL);
	ck_assert(has_field(&e, "definition.name"));
	ck_assert(has_field(&e, "definition.docker.image"));
	ck_assert(has_field(&e, "definition.instance_types[0].type"));
	ck_assert(has_field(&e, "definition.scalings[0]"));
	ck_assert(has_field(&e, "definition.env[0]"));
	ck_assert(has_field(&e, "definition.env[1]"));
	ck_assert_ptr_null(s.name);
	json_object_put(d);

	e.n = 0;
	ck_assert_int_eq(sbxd_spec_parse(NULL, &s, &e), -EINVAL);
	ck_assert(has_field(&e, "definition"));
	e.n = 0;
	d = J("{\"name\":\"x\",\"docker\":{\"image\":\"i\",\"args\":[1]},"
	      "\"scalings\":[{\"min\":\"x\"}]}");
	ck_assert_int_eq(sbxd_spec_parse(d, &s, &e), -EINVAL);
	ck_assert(has_field(&e, "definition.docker.args"));
	ck_assert(has_field(&e, "definition.scalings[0]"));
	json_object_put(d);
	e.n = 0;
	d = J("{\"name\":\"a\\nb\",\"docker\":{\"image\":\"i\"},"
	      "\"env\":[{\"key\":\"K\\u0007\",\"value\":\"x\"}]}");
	ck_assert_int_eq(sbxd_spec_parse(d, &s, &e), -EINVAL);
	ck_assert(has_field(&e, "definition.name"));
	ck_assert(has_field(&e, "definition.env[0]"));
	json_object_put(d);
}
END_TEST

START_TEST(itype_table)
{
	ck_assert_int_eq(sbxd_itype_find("nano")->cpu_milli, 250);
	ck_assert_int_eq(sbxd_itype_find("2xlarge")->pids, 8192);
	ck_assert_uint_eq(sbxd_itype_find("xlarge")->memory, 8ull << 30);
	ck_assert_ptr_null(sbxd_itype_find("free"));
}
END_TEST

START_TEST(image_defaults_and_registry)
{
	char dir[] = "/tmp/sbx-test-img.XXXXXX", path[256], out[256];
	json_object *reg = NULL;
	FILE *devnull = fopen("/dev/null", "w");

	ck_assert(sbxd_image_is_default_name("koyeb/sandbox"));
	ck_assert(sbxd_image_is_default_name("koyeb/sandbox:latest"));
	ck_assert(sbxd_image_is_default_name("docker.io/koyeb/sandbox:v2"));
	ck_assert(sbxd_image_is_default_name("docker.io/library/ubuntu:latest"));
	ck_assert(sbxd_image_is_default_name("ubuntu"));
	ck_assert(!sbxd_image_is_default_name("ubuntu:22.04"));
	ck_assert(!sbxd_image_is_default_name("koyeb/sandboxes"));
	ck_assert_int_eq(sbxd_image_resolve(NULL, "ubuntu:latest", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/");
	ck_assert_int_eq(sbxd_image_resolve(NULL, "alpine", out, sizeof(out)), -ENOENT);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/images.json", dir);
	ck_assert_int_eq(sbxd_images_add(path, "alpine", dir, devnull), 0);
	ck_assert_int_eq(sbxd_images_add(path, "ubuntu", dir, devnull), 0);
	ck_assert_int_eq(sbxd_images_add(path, "bad name", dir, devnull), -EINVAL);
	ck_assert_int_eq(sbxd_images_add(path, "x", "/nonexistent/dir", devnull), -ENOTDIR);
	ck_assert_int_eq(sbxd_images_load(path, &reg), 0);
	ck_assert_int_eq(sbxd_image_resolve(reg, "alpine", out, sizeof(out)), 0);
	ck_assert_str_eq(out, dir);
	ck_assert_int_eq(sbxd_image_resolve(reg, "ubuntu", out, sizeof(out)), 0);
	ck_assert_str_eq(out, dir); /* a registration overrides a default name */
	ck_assert_int_eq(sbxd_image_resolve(reg, "koyeb/sandbox", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/");
	json_object_put(reg);
	ck_assert_int_eq(sbxd_images_ls(path, devnull, devnull), 0);
	ck_assert_int_eq(sbxd_images_rm(path, "alpine", devnull), 0);
	ck_assert_int_eq(sbxd_images_rm(path, "alpine", devnull), -ENOENT);
	ck_assert_int_eq(sbxd_images_load(path, &reg), 0);
	ck_assert_int_eq(sbxd_image_resolve(reg, "alpine", out, sizeof(out)), -ENOENT);
	json_object_put(reg);
	unlink(path);
	rmdir(dir);
	fclose(devnull);
}
END_TEST

START_TEST(token_compare)
{
	ck_assert(sbxd_token_equal("abc", 3, "abc", 3));
	ck_assert(!sbxd_token_equal("abc", 3, "abd", 3));
	ck_assert(!sbxd_token_equal("abc", 3, "ab", 2));
	ck_assert(!sbxd_token_equal("", 0, "", 0));
}
END_TEST

struct td {
	struct sbxd d;
	char dir[64];
};

static void td_init(struct td *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/sbx-test-api.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	sbx_buf_puts(&t->d.state_dir, t->dir);
	sbx_buf_puts(&t->d.token, "secret-token");
	t->d.test_mode = true;
	ck_assert_int_eq(sbxd_loop_new(&t->d.loop), 0);
	sbxd_store_init(&t->d.store);
}

static void td_release(struct td *t)
{
	char p[128];

	sbxd_store_release(&t->d.store);
	sbxd_loop_free(t->d.loop);
	sbx_buf_release(&t->d.state_dir);
	sbx_buf_release(&t->d.token);
	snprintf(p, sizeof(p), "%s/db.json", t->dir);
	unlink(p);
	rmdir(t->dir);
}

/* Sends one request through the router; returns the status and the parsed
 * body in *out (caller puts). extra: more header lines or NULL. */
static int call(struct td *t, const char *method, const char *target, const char *token,
		const char *body, json_object **out)
{
	struct sbx_buf raw = SBX_BUF_INIT;
	struct sbxd_http_req req;
	struct sbxd_http_resp resp = {.status = 0};
	size_t blen = body ? strlen(body) : 0;
	int r;

	sbx_buf_printf(&raw, "%s %s HTTP/1.1\r\nHost: x\r\n", method, target);
	if (token)
		sbx_buf_printf(&raw, "Authorization: Bearer %s\r\n", token);
	sbx_buf_printf(&raw, "Content-Length: %zu\r\n\r\n%s", blen, body ? body : "");
	memset(&req, 0, sizeof(req));
	ck_assert_int_gt(sbxd_http_parse_head(raw.data, raw.len, &req), 0);
	sbx_buf_init(&resp.body);
	r = sbxd_api_handle(&t->d, NULL, &req, body, blen, &resp);
	ck_assert_int_eq(r, SBX_HTTP_RESPOND);
	*out = NULL;
	ck_assert_int_eq(sbx_json_parse(resp.body.data, resp.body.len, out), 0);
	sbxd_http_req_release(&req);
	sbx_buf_release(&raw);
	sbx_buf_release(&resp.body);
	return resp.status;
}

#define TOK "secret-token"

START_TEST(api_auth_and_errors)
{
	struct td t;
	json_object *o;

	td_init(&t);
	ck_assert_int_eq(call(&t, "GET", "/v1/apps", NULL, NULL, &o), 401);
	ck_assert_int_eq(sbx_json_int(o, "status", &(int64_t){0}), 0);
	ck_assert_str_eq(sbx_json_str(o, "code"), "unauthenticated");
	ck_assert_ptr_nonnull(sbx_json_str(o, "message"));
	json_object_put(o);
	ck_assert_int_eq(call(&t, "GET", "/v1/apps", "secret-tokeX", NULL, &o), 401);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "GET", "/v1/nothing", TOK, NULL, &o), 404);
	ck_assert_str_eq(sbx_json_str(o, "code"), "not_found");
	json_object_put(o);
	ck_assert_int_eq(call(&t, "PUT", "/v1/apps", TOK, NULL, &o), 405);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "POST", "/v1/apps", TOK, "{\"name\":", &o), 400);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "POST", "/v1/apps", TOK, "{\"nom\":\"x\"}", &o), 400);
	ck_assert_str_eq(sbx_json_str(o, "code"), "invalid_argument");
	ck_assert_ptr_nonnull(sbx_json_get(o, "fields"));
	json_object_put(o);
	ck_assert_int_eq(
	    call(&t, "GET", "/v1/instances/00000000-0000-0000-0000-000000000000", TOK, NULL, &o),
	    404);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "GET", "/v1/apps?limit=-1", TOK, NULL, &o), 400);
	json_object_put(o);
	/* paging at the edge of long (the fuzzer's find): no overflow, no item */
	ck_assert_int_eq(call(&t, "GET", "/v1/apps?offset=9223372036854775807&limit=10", TOK,
			      NULL, &o),
			 200);
	ck_assert_int_eq(json_object_array_length(sbx_json_get(o, "apps")), 0);
	ck_assert(!json_object_get_boolean(sbx_json_get(o, "has_next")));
	json_object_put(o);
	ck_assert_int_eq(call(&t, "GET", "/v1/apps?offset=99999999999999999999", TOK, NULL, &o),
			 400);
	json_object_put(o);
	/* names that would make db.json and replies invalid UTF-8 or cut them */
	ck_assert_int_eq(call(&t, "POST", "/v1/apps", TOK, "{\"name\":\"a\xff\"}", &o), 400);
	ck_assert_str_eq(sbx_json_str(o, "message"), "the body is not valid UTF-8");
	json_object_put(o);
	ck_assert_int_eq(call(&t, "POST", "/v1/apps", TOK, "{\"name\":\"a\\u0000b\"}", &o), 400);
	ck_assert_str_eq(
	    sbx_json_str(json_object_array_get_idx(sbx_json_get(o, "fields"), 0), "field"), "name");
	json_object_put(o);
	ck_assert_int_eq(call(&t, "POST", "/v1/apps", TOK, "{\"name\":\"a\\u001bb\"}", &o), 400);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "POST", "/v1/apps", TOK, "{\"name\":\"caf\xc3\xa9\"}", &o), 200);
	json_object_put(o);
	td_release(&t);
}
END_TEST

static char *create_app(struct td *t)
{
	json_object *o;
	char *id;

	ck_assert_int_eq(call(t, "POST", "/v1/apps", TOK, "{\"name\":\"sandbox-app-x-1\"}", &o),
			 200);
	ck_assert_str_eq(sbx_json_str(o, "app.name"), "sandbox-app-x-1");
	ck_assert_str_eq(sbx_json_str(o, "app.domains") ? "" : "ok", "ok");
	ck_assert_uint_eq(strlen(sbx_json_str(o, "app.id")), 36);
	id = strdup(sbx_json_str(o, "app.id"));
	json_object_put(o);
	return id;
}

static const char *svc_body(char *buf, size_t n, const char *app, const char *image)
{
	snprintf(
	    buf, n,
	    "{\"app_id\":\"%s\",\"definition\":{\"name\":\"sandbox-service-x\",\"type\":\"WEB\","
	    "\"docker\":{\"image\":\"%s\"},\"env\":[{\"key\":\"SANDBOX_SECRET\",\"value\":"
	    "\"s3cr3t\"}],\"instance_types\":[{\"type\":\"nano\"}],\"scalings\":[{\"min\":1,"
	    "\"max\":1}],\"regions\":[\"eu\"]}}",
	    app, image);
	return buf;
}

START_TEST(api_sdk_sequence)
{
	struct td t;
	json_object *o, *rep;
	char body[1024], path[256], *app, svc[37], dep[37], inst[37];

	td_init(&t);
	app = create_app(&t);
	ck_assert_int_eq(
	    call(&t, "POST", "/v1/services", TOK, svc_body(body, sizeof(body), app, "no/such"), &o),
	    400);
	ck_assert_ptr_nonnull(strstr(sbx_json_str(o, "message"), "image add"));
	json_object_put(o);
	ck_assert_int_eq(call(&t, "POST", "/v1/services", TOK,
			      svc_body(body, sizeof(body), "nope", "koyeb/sandbox"), &o),
			 404);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "POST", "/v1/services?dry_run=true", TOK,
			      svc_body(body, sizeof(body), app, "koyeb/sandbox"), &o),
			 200);
	json_object_put(o);
	ck_assert_uint_eq(t.d.store.nsvcs, 0);

	ck_assert_int_eq(call(&t, "POST", "/v1/services", TOK,
			      svc_body(body, sizeof(body), app, "koyeb/sandbox"), &o),
			 200);
	ck_assert_str_eq(sbx_json_str(o, "service.status"), "STARTING");
	ck_assert_str_eq(sbx_json_str(o, "service.app_id"), app);
	ck_assert_str_eq(sbx_json_str(o, "service.active_deployment_id"), "");
	memcpy(svc, sbx_json_str(o, "service.id"), 37);
	memcpy(dep, sbx_json_str(o, "service.latest_deployment_id"), 37);
	json_object_put(o);

	snprintf(path, sizeof(path), "/v1/deployment/%s/scaling", dep);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	rep = json_object_array_get_idx(sbx_json_get(o, "replicas"), 0);
	ck_assert_str_eq(sbx_json_str(rep, "region"), "eu");
	memcpy(inst,
	       sbx_json_str(json_object_array_get_idx(sbx_json_get(rep, "instances"), 0), "id"),
	       37);
	json_object_put(o);

	snprintf(path, sizeof(path), "/v1/instances/%s", inst);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	ck_assert_str_eq(sbx_json_str(o, "instance.status"), "ALLOCATING");
	ck_assert_str_eq(sbx_json_str(o, "instance.service_id"), svc);
	ck_assert_str_eq(sbx_json_str(o, "instance.app_id"), app);
	ck_assert_ptr_null(sbx_json_get(o, "instance.started_at")); /* unset: left out */
	ck_assert_ptr_nonnull(sbx_json_get(o, "instance.messages"));
	json_object_put(o);

	snprintf(path, sizeof(path), "/v1/deployments/%s", dep);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	ck_assert_str_eq(sbx_json_str(o, "deployment.definition.name"), "sandbox-service-x");
	/* the current SDKs find the executor through the metadata */
	ck_assert_str_eq(sbx_json_str(o, "deployment.metadata.sandbox.routing_key"), svc);
	ck_assert_ptr_nonnull(
	    strstr(sbx_json_str(o, "deployment.metadata.sandbox.public_url"), svc));
	json_object_put(o);

	snprintf(path, sizeof(path), "/v1/services?app_id=%s", app);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	ck_assert_int_eq(json_object_array_length(sbx_json_get(o, "services")), 1);
	ck_assert(!sbx_json_bool(o, "has_next", true)); /* Koyeb's paging field */
	json_object_put(o);

	snprintf(path, sizeof(path), "/v1/services/%s", svc);
	ck_assert_int_eq(call(&t, "DELETE", path, TOK, NULL, &o), 200);
	ck_assert_int_eq(json_object_object_length(o), 0);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	ck_assert_str_eq(sbx_json_str(o, "service.status"), "DELETED");
	json_object_put(o);
	snprintf(path, sizeof(path), "/v1/instances/%s", inst);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	ck_assert_str_eq(sbx_json_str(o, "instance.status"), "STOPPED");
	ck_assert_ptr_nonnull(sbx_json_get(o, "instance.terminated_at"));
	json_object_put(o);

	snprintf(path, sizeof(path), "/v1/apps/%s", app);
	ck_assert_int_eq(call(&t, "DELETE", path, TOK, NULL, &o), 200);
	json_object_put(o);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	ck_assert_str_eq(sbx_json_str(o, "app.status"), "DELETED");
	json_object_put(o);
	ck_assert_int_eq(call(&t, "GET", "/v1/apps", TOK, NULL, &o), 200);
	ck_assert_int_eq(json_object_array_length(sbx_json_get(o, "apps")), 0);
	json_object_put(o);
	free(app);
	td_release(&t);
}
END_TEST

START_TEST(api_app_delete_takes_services)
{
	struct td t;
	json_object *o;
	char body[1024], path[256], *app, svc[37];

	td_init(&t);
	app = create_app(&t);
	ck_assert_int_eq(
	    call(&t, "POST", "/v1/services", TOK, svc_body(body, sizeof(body), app, "ubuntu"), &o),
	    200);
	memcpy(svc, sbx_json_str(o, "service.id"), 37);
	json_object_put(o);
	snprintf(path, sizeof(path), "/v1/apps/%s", app);
	ck_assert_int_eq(call(&t, "DELETE", path, TOK, NULL, &o), 200);
	json_object_put(o);
	snprintf(path, sizeof(path), "/v1/services/%s", svc);
	ck_assert_int_eq(call(&t, "GET", path, TOK, NULL, &o), 200);
	ck_assert_str_eq(sbx_json_str(o, "service.status"), "DELETED");
	json_object_put(o);
	free(app);
	td_release(&t);
}
END_TEST

START_TEST(render_error_bodies)
{
	struct sbxd_verrs e = {.n = 0};
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *o = sbxd_render_error(404, "not_found", "instance not found");

	sbx_json_dump(&b, o);
	ck_assert_str_eq(
	    b.data, "{\"status\":404,\"code\":\"not_found\",\"message\":\"instance not found\"}");
	json_object_put(o);
	sbx_buf_reset(&b);
	sbxd_verr_add(&e, "definition.name", "is too long");
	o = sbxd_render_field_errors(&e, "validation error");
	sbx_json_dump(&b, o);
	ck_assert_str_eq(b.data, "{\"status\":400,\"code\":\"invalid_argument\",\"message\":"
				 "\"validation error\",\"fields\":[{\"field\":\"definition.name\","
				 "\"description\":\"is too long\"}]}");
	json_object_put(o);
	sbx_buf_release(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("host_api");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, spec_sdk_definition);
	tcase_add_test(tc, spec_command_and_defaults);
	tcase_add_test(tc, spec_errors);
	tcase_add_test(tc, itype_table);
	tcase_add_test(tc, image_defaults_and_registry);
	tcase_add_test(tc, token_compare);
	tcase_add_test(tc, api_auth_and_errors);
	tcase_add_test(tc, api_sdk_sequence);
	tcase_add_test(tc, api_app_delete_takes_services);
	tcase_add_test(tc, render_error_bodies);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
