/* json.h - the one place that wraps json-c.
 *
 * Ownership: sbx_json_parse() returns a new reference the caller puts with
 * sbx_json_put(). Getters borrow: a returned json_object or string lives as
 * long as the parent object. Paths are dot-separated member names
 * ("result.stdout.data"); no array indexing.
 */
#ifndef SBX_UTIL_JSON_H
#define SBX_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util/buf.h"

/* Largest JSON document any peer may send us. */
#define SBX_JSON_MAX (16u << 20)

/* Parses exactly one JSON document of n bytes. Returns 0 and a new reference
 * in *ret, -EMSGSIZE past SBX_JSON_MAX, or -EBADMSG (nothing stored). */
int sbx_json_parse(const char *s, size_t n, json_object **ret);
/* The same with another bound than SBX_JSON_MAX (max <= INT32_MAX). */
int sbx_json_parse_max(const char *s, size_t n, size_t max, json_object **ret);
void sbx_json_put(json_object *o);

/* Member at a dotted path, or NULL. Borrowed. */
json_object *sbx_json_get(json_object *o, const char *path);
/* String at path or NULL when absent or not a string. Borrowed. */
const char *sbx_json_str(json_object *o, const char *path);
/* Integer at path: a JSON number, or a string of decimal digits (the Koyeb
 * API may send int64 as strings). Returns 0, -ENOENT if absent, -EINVAL if of
 * another type. *ret untouched on failure. */
int sbx_json_int(json_object *o, const char *path, int64_t *ret);
/* Boolean at path; def when absent or not a boolean. */
bool sbx_json_bool(json_object *o, const char *path, bool def);

/* Object-building helpers; each returns 0 or -ENOMEM. The value is copied. */
int sbx_json_add_str(json_object *o, const char *key, const char *val);
int sbx_json_add_int(json_object *o, const char *key, int64_t val);
int sbx_json_add_bool(json_object *o, const char *key, bool val);
/* Takes ownership of val (also on failure). */
int sbx_json_add(json_object *o, const char *key, json_object *val);

/* Appends the compact serialisation of o to out. 0 or -ENOMEM. */
int sbx_json_dump(struct sbx_buf *out, json_object *o);

#endif
