/* json.c - json-c wrapper; see json.h. */
#include "util/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sbx_json_parse(const char *s, size_t n, json_object **ret)
{
	return sbx_json_parse_max(s, n, SBX_JSON_MAX, ret);
}

int sbx_json_parse_max(const char *s, size_t n, size_t max, json_object **ret)
{
	json_tokener *tok;
	json_object *o;
	enum json_tokener_error jerr;

	if (n > max)
		return -EMSGSIZE;
	if (n > INT32_MAX)
		return -EMSGSIZE;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, s, (int)n);
	jerr = json_tokener_get_error(tok);
	if (o && jerr == json_tokener_success) {
		/* reject trailing garbage other than whitespace */
		size_t off = json_tokener_get_parse_end(tok);
		for (; off < n; off++) {
			if (!strchr(" \t\r\n", s[off])) {
				json_object_put(o);
				o = NULL;
				break;
			}
		}
	} else {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (!o)
		return -EBADMSG;
	*ret = o;
	return 0;
}

void sbx_json_put(json_object *o)
{
	if (o)
		json_object_put(o);
}

json_object *sbx_json_get(json_object *o, const char *path)
{
	char key[128];
	const char *p = path, *dot;

	while (o && *p) {
		size_t n;

		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key) || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		p = dot ? dot + 1 : p + n;
	}
	return o;
}

const char *sbx_json_str(json_object *o, const char *path)
{
	json_object *v = sbx_json_get(o, path);

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int sbx_json_int(json_object *o, const char *path, int64_t *ret)
{
	json_object *v = sbx_json_get(o, path);

	if (!v)
		return -ENOENT;
	if (json_object_is_type(v, json_type_int)) {
		*ret = json_object_get_int64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		long long x;

		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			return -EINVAL;
		*ret = x;
		return 0;
	}
	return -EINVAL;
}

bool sbx_json_bool(json_object *o, const char *path, bool def)
{
	json_object *v = sbx_json_get(o, path);

	if (!v || !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

int sbx_json_add(json_object *o, const char *key, json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(o, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

int sbx_json_add_str(json_object *o, const char *key, const char *val)
{
	return sbx_json_add(o, key, json_object_new_string(val));
}

int sbx_json_add_int(json_object *o, const char *key, int64_t val)
{
	return sbx_json_add(o, key, json_object_new_int64(val));
}

int sbx_json_add_bool(json_object *o, const char *key, bool val)
{
	return sbx_json_add(o, key, json_object_new_boolean(val));
}

int sbx_json_dump(struct sbx_buf *out, json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

	if (!s)
		return -ENOMEM;
	return sbx_buf_append(out, s, n);
}
