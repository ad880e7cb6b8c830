/* spec.c - deployment definition validation; see spec.h.
 *
 * Every check reports the offending member with a dotted path like Koyeb's
 * ErrorWithFields ("definition.instance_types[0].type"), and parsing goes on
 * after an error so one reply lists every problem (up to SBX_VERR_MAX).
 */
#include "host/spec.h"

#include "host/http/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME    128
#define MAX_IMAGE   512
#define MAX_ENV	    256
#define MAX_ENV_KEY 256
#define MAX_ENV_VAL (64u * 1024)
#define MAX_ARGS    1024
#define MAX_ARG	    (64u * 1024)

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)
/* one instance type per line reads best. Disk sizes are ours, chosen to
 * grow with memory (8x, 2 GiB at least), not taken from Koyeb */
/* clang-format off */
static const struct sbxd_itype ITYPES[] = {
	{ "nano",    256 * MiB,   250,  256,  2 * GiB },
	{ "micro",   512 * MiB,   500,  512,  4 * GiB },
	{ "small",   1024 * MiB,  1000, 1024, 8 * GiB },
	{ "medium",  2048 * MiB,  1000, 2048, 16 * GiB },
	{ "large",   4096 * MiB,  2000, 4096, 32 * GiB },
	{ "xlarge",  8192 * MiB,  2000, 4096, 64 * GiB },
	{ "2xlarge", 16384 * MiB, 2000, 8192, 128 * GiB },
	{ NULL,      0,           0,    0,    0 },
};
/* clang-format on */

const struct sbxd_itype *sbxd_itype_table(void)
{
	return ITYPES;
}

const struct sbxd_itype *sbxd_itype_find(const char *name)
{
	const struct sbxd_itype *t;

	for (t = ITYPES; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

void sbxd_verr_add(struct sbxd_verrs *v, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (v->n >= SBX_VERR_MAX)
		return;
	snprintf(v->e[v->n].field, sizeof(v->e[v->n].field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(v->e[v->n].description, sizeof(v->e[v->n].description), fmt, ap);
	va_end(ap);
	v->n++;
}

static void free_list(char **l)
{
	size_t i;

	for (i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

void sbxd_spec_release(struct sbxd_spec *spec)
{
	free(spec->name);
	free(spec->image);
	free_list(spec->argv);
	free_list(spec->env);
	memset(spec, 0, sizeof(*spec));
}

/* A string member: NULL when absent; *bad set when present but not a string,
 * empty, longer than max or holding a NUL. */
static const char *get_str(json_object *o, const char *key, size_t max, bool *bad)
{
	json_object *v = sbx_json_get(o, key);
	const char *s;
	size_t n;

	*bad = false;
	if (!v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = true;
		return NULL;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (!n || n > max || strlen(s) != n) {
		*bad = true;
		return NULL;
	}
	return s;
}

/* Appends s to a NULL-terminated list with room for cap entries. */
static int list_push(char ***l, size_t *n, const char *s, size_t len)
{
	char **nl = realloc(*l, (*n + 2) * sizeof(char *));

	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[*n] = strndup(s, len);
	if (!nl[*n])
		return -ENOMEM;
	nl[++*n] = NULL;
	return 0;
}

/* Appends every string of a JSON array (member key of docker) to argv. */
static int push_array(json_object *docker, const char *key, char ***argv, size_t *argc,
		      struct sbxd_verrs *errs)
{
	json_object *a = sbx_json_get(docker, key);
	char field[64];
	size_t i, n;
	int r;

	if (!a)
		return 0;
	snprintf(field, sizeof(field), "definition.docker.%s", key);
	if (!json_object_is_type(a, json_type_array)) {
		sbxd_verr_add(errs, field, "must be an array of strings");
		return 0;
	}
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *s;
		size_t len;

		if (!json_object_is_type(e, json_type_string)) {
			sbxd_verr_add(errs, field, "must be an array of strings");
			return 0;
		}
		s = json_object_get_string(e);
		len = (size_t)json_object_get_string_len(e);
		if (len > MAX_ARG || strlen(s) != len || *argc >= MAX_ARGS) {
			sbxd_verr_add(errs, field,
				      "holds an argument that is too long or has a NUL");
			return 0;
		}
		r = list_push(argv, argc, s, len);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_argv(json_object *def, struct sbxd_spec *spec, struct sbxd_verrs *errs)
{
	json_object *docker = sbx_json_get(def, "docker");
	const char *cmd;
	size_t argc = 0;
	bool bad;
	int r;

	r = push_array(docker, "entrypoint", &spec->argv, &argc, errs);
	if (r < 0)
		return r;
	cmd = get_str(docker, "command", MAX_ARG, &bad);
	if (bad)
		sbxd_verr_add(errs, "definition.docker.command", "must be a non-empty string");
	if (cmd) {
		r = list_push(&spec->argv, &argc, cmd, strlen(cmd));
		if (r < 0)
			return r;
	}
	r = push_array(docker, "args", &spec->argv, &argc, errs);
	if (r < 0)
		return r;
	if (argc)
		return 0;
	r = list_push(&spec->argv, &argc, "sleep", 5);
	if (r == 0)
		r = list_push(&spec->argv, &argc, "infinity", 8);
	return r;
}

/* Sets KEY=VALUE in the env list, replacing an earlier KEY (last wins, as
 * with the SDK's SANDBOX_SECRET override). */
static int env_set(char ***env, size_t *n, const char *key, const char *val)
{
	size_t kl = strlen(key), i;
	char *kv = malloc(kl + strlen(val) + 2);

	if (!kv)
		return -ENOMEM;
	memcpy(kv, key, kl);
	kv[kl] = '=';
	memcpy(kv + kl + 1, val, strlen(val) + 1);
	for (i = 0; i < *n; i++) {
		if (!strncmp((*env)[i], key, kl) && (*env)[i][kl] == '=') {
			free((*env)[i]);
			(*env)[i] = kv;
			return 0;
		}
	}
	if (list_push(env, n, "", 0) < 0) {
		free(kv);
		return -ENOMEM;
	}
	free((*env)[*n - 1]);
	(*env)[*n - 1] = kv;
	return 0;
}

static int parse_env_entry(json_object *e, size_t i, char ***env, size_t *n,
			   struct sbxd_verrs *errs)
{
	char field[64];
	const char *key, *val;
	bool bad;

	snprintf(field, sizeof(field), "definition.env[%zu]", i);
	key = get_str(e, "key", MAX_ENV_KEY, &bad);
	if (!key || strchr(key, '=') || !sbxd_utf8_printable(key, strlen(key))) {
		sbxd_verr_add(
		    errs, field,
		    "key must be a non-empty string without '=', NUL or control characters");
		return 0;
	}
	val = get_str(e, "value", MAX_ENV_VAL, &bad);
	if (bad && json_object_is_type(sbx_json_get(e, "value"), json_type_string) &&
	    !json_object_get_string_len(sbx_json_get(e, "value"))) {
		val = "";
		bad = false;
	}
	if (bad) {
		sbxd_verr_add(errs, field, "value must be a string of at most 64 KiB without NUL");
		return 0;
	}
	if (!val && sbx_json_get(e, "secret")) {
		sbxd_verr_add(errs, field, "secret references are not supported by sbxd");
		return 0;
	}
	return env_set(env, n, key, val ? val : "");
}

static int parse_env(json_object *def, struct sbxd_spec *spec, struct sbxd_verrs *errs)
{
	json_object *a = sbx_json_get(def, "env");
	size_t i, n = 0, len;
	int r;

	spec->env = calloc(1, sizeof(char *));
	if (!spec->env)
		return -ENOMEM;
	if (!a)
		return 0;
	if (!json_object_is_type(a, json_type_array)) {
		sbxd_verr_add(errs, "definition.env", "must be an array of {key, value}");
		return 0;
	}
	len = json_object_array_length(a);
	if (len > MAX_ENV) {
		sbxd_verr_add(errs, "definition.env", "has more than %d entries", MAX_ENV);
		return 0;
	}
	for (i = 0; i < len; i++) {
		r = parse_env_entry(json_object_array_get_idx(a, i), i, &spec->env, &n, errs);
		if (r < 0)
			return r;
	}
	return 0;
}

static void parse_itype(json_object *def, struct sbxd_spec *spec, struct sbxd_verrs *errs)
{
	json_object *a = sbx_json_get(def, "instance_types"), *e;
	const char *t;
	bool bad;

	spec->itype = sbxd_itype_find("nano");
	if (!a)
		return;
	if (!json_object_is_type(a, json_type_array)) {
		sbxd_verr_add(errs, "definition.instance_types", "must be an array of {type}");
		return;
	}
	if (!json_object_array_length(a))
		return;
	e = json_object_array_get_idx(a, 0);
	t = get_str(e, "type", 32, &bad);
	if (!t || !sbxd_itype_find(t)) {
		sbxd_verr_add(errs, "definition.instance_types[0].type",
			      "unknown instance type '%s' (known: nano micro small medium large "
			      "xlarge 2xlarge)",
			      t ? t : "");
		return;
	}
	spec->itype = sbxd_itype_find(t);
}

static void parse_scalings(json_object *def, struct sbxd_verrs *errs)
{
	json_object *a = sbx_json_get(def, "scalings");
	size_t i, n;

	if (!a)
		return;
	if (!json_object_is_type(a, json_type_array)) {
		sbxd_verr_add(errs, "definition.scalings", "must be an array of {min, max}");
		return;
	}
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		int64_t mn = 1, mx = 1;
		int rmin = sbx_json_int(e, "min", &mn), rmax = sbx_json_int(e, "max", &mx);
		char field[64];

		snprintf(field, sizeof(field), "definition.scalings[%zu]", i);
		if (rmin == -EINVAL || rmax == -EINVAL)
			sbxd_verr_add(errs, field, "min and max must be integers");
		else if (mn < 0 || mx < 0 || mn > 1 || mx > 1 ||
			 (rmax == 0 && rmin == 0 && mn > mx))
			sbxd_verr_add(errs, field,
				      "sbxd runs exactly one instance: min and max must be 0 or 1");
	}
}

/* config_files: [{path (absolute), content, permissions ("0644")}]; they
 * are written into the sandbox at start (configfiles.h). */
static void parse_config_files(json_object *def, struct sbxd_verrs *errs)
{
	json_object *a = sbx_json_get(def, "config_files");
	size_t i, n;

	if (!a)
		return;
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > 64) {
		sbxd_verr_add(errs, "definition.config_files",
			      "must be an array of at most 64 files");
		return;
	}
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i), *c = sbx_json_get(e, "content");
		const char *path = sbx_json_str(e, "path"), *perm = sbx_json_str(e, "permissions");

		if (!path || path[0] != '/' || strlen(path) > 4096 ||
		    (c && !json_object_is_type(c, json_type_string)) ||
		    (perm &&
		     (!perm[0] || strspn(perm, "01234567") != strlen(perm) || strlen(perm) > 4))) {
			sbxd_verr_add(
			    errs, "definition.config_files",
			    "entry %zu needs an absolute path, a string content and octal "
			    "permissions",
			    i);
			return;
		}
	}
}

static void parse_misc(json_object *def, struct sbxd_spec *spec, struct sbxd_verrs *errs)
{
	json_object *regions = sbx_json_get(def, "regions"), *ports = sbx_json_get(def, "ports");
	const char *type = sbx_json_str(def, "type");

	snprintf(spec->region, sizeof(spec->region), "eu");
	if (regions && json_object_is_type(regions, json_type_array) &&
	    json_object_array_length(regions)) {
		json_object *r0 = json_object_array_get_idx(regions, 0);

		if (json_object_is_type(r0, json_type_string) &&
		    json_object_get_string_len(r0) > 0 &&
		    (size_t)json_object_get_string_len(r0) < sizeof(spec->region))
			snprintf(spec->region, sizeof(spec->region), "%s",
				 json_object_get_string(r0));
		else
			sbxd_verr_add(errs, "definition.regions[0]", "must be a short region name");
	}
	/* a privileged container would hold the host's power: refused, never
	 * silently run unprivileged */
	parse_config_files(def, errs);
	if (sbx_json_bool(def, "docker.privileged", false))
		sbxd_verr_add(errs, "definition.docker.privileged",
			      "privileged containers are not supported by sbxd");
	if (type && (!strcmp(type, "WEB") || !strcmp(type, "WORKER") || !strcmp(type, "DATABASE") ||
		     !strcmp(type, "SANDBOX")))
		snprintf(spec->type, sizeof(spec->type), "%s", type);
	else if (ports && json_object_is_type(ports, json_type_array) &&
		 json_object_array_length(ports))
		snprintf(spec->type, sizeof(spec->type), "WEB");
	else
		snprintf(spec->type, sizeof(spec->type), "WORKER");
}

static void make_hostname(struct sbxd_spec *spec)
{
	size_t i, o = 0;

	for (i = 0; spec->name[i] && o < sizeof(spec->hostname) - 1; i++) {
		char c = (char)tolower((unsigned char)spec->name[i]);

		if (!isalnum((unsigned char)c))
			c = '-';
		if (c == '-' && (o == 0 || spec->hostname[o - 1] == '-'))
			continue;
		spec->hostname[o++] = c;
	}
	while (o && spec->hostname[o - 1] == '-')
		o--;
	spec->hostname[o] = '\0';
	if (!o)
		snprintf(spec->hostname, sizeof(spec->hostname), "sandbox");
}

static int parse_identity(json_object *def, struct sbxd_spec *spec, struct sbxd_verrs *errs)
{
	const char *name, *image;
	bool bad;

	name = get_str(def, "name", MAX_NAME, &bad);
	if (!name) {
		sbxd_verr_add(errs, "definition.name", "is required (1 to %d bytes)", MAX_NAME);
	} else if (!sbxd_utf8_printable(name, strlen(name))) {
		sbxd_verr_add(errs, "definition.name", "must not hold control characters");
		name = NULL;
	}
	image = get_str(sbx_json_get(def, "docker"), "image", MAX_IMAGE, &bad);
	if (!image)
		sbxd_verr_add(errs, "definition.docker.image", "is required");
	spec->name = strdup(name ? name : "");
	spec->image = strdup(image ? image : "");
	if (!spec->name || !spec->image)
		return -ENOMEM;
	make_hostname(spec);
	return 0;
}

int sbxd_spec_parse(json_object *def, struct sbxd_spec *spec, struct sbxd_verrs *errs)
{
	int r;

	memset(spec, 0, sizeof(*spec));
	if (!def || !json_object_is_type(def, json_type_object)) {
		sbxd_verr_add(errs, "definition", "is required and must be an object");
		return -EINVAL;
	}
	r = parse_identity(def, spec, errs);
	if (r == 0)
		r = parse_argv(def, spec, errs);
	if (r == 0)
		r = parse_env(def, spec, errs);
	if (r == 0) {
		parse_itype(def, spec, errs);
		parse_scalings(def, errs);
		parse_misc(def, spec, errs);
	}
	if (r == 0 && errs->n)
		r = -EINVAL;
	if (r < 0)
		sbxd_spec_release(spec);
	return r;
}

const char *sbxd_spec_getenv(char *const *env, const char *key)
{
	size_t kl = strlen(key), i;

	for (i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, kl) && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}
