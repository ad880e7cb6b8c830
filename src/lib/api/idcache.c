/* idcache.c - the sandbox id cache; see idcache.h.
 *
 * The file: {"v":1,"entries":[{"host","tok","name","service","instance"},
 * ...]}, newest first. Every entry read is checked field by field; one that
 * fails is dropped, a file that fails as a whole is treated as empty.
 */
#include "api/idcache.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/json.h"
#include "util/statedir.h"

#define FORMAT_VERSION 1

bool sbx_idcache_id_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++) {
		char ch = s[n];

		if (n >= SBX_IDCACHE_ID_MAX ||
		    !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_'))
			return false;
	}
	return n > 0;
}

/* 64-bit FNV-1a of the token, as 16 hex digits. */
static void token_fp(const char *token, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *token; token++) {
		h ^= (unsigned char)*token;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* The entries array of the file in dirfd, or a new empty one when the file
 * is missing or unusable. NULL only when out of memory. */
static json_object *load(int dirfd)
{
	struct sbx_buf b = SBX_BUF_INIT;
	json_object *o = NULL, *arr;
	int64_t v = 0;

	if (sbx_private_file_read(dirfd, SBX_IDCACHE_FILE, SBX_IDCACHE_FILE_MAX, &b) == 0 &&
	    sbx_json_parse(b.data, b.len, &o) == 0 && sbx_json_int(o, "v", &v) == 0 &&
	    v == FORMAT_VERSION) {
		arr = sbx_json_get(o, "entries");
		if (arr && json_object_is_type(arr, json_type_array)) {
			json_object_get(arr);
			sbx_json_put(o);
			sbx_buf_release(&b);
			return arr;
		}
	}
	sbx_json_put(o);
	sbx_buf_release(&b);
	return json_object_new_array();
}

/* true when entry e has every field, with ids of the allowed alphabet */
static bool entry_ok(json_object *e)
{
	const char *s = sbx_json_str(e, "service"), *i = sbx_json_str(e, "instance");

	return sbx_json_str(e, "host") && sbx_json_str(e, "tok") && sbx_json_str(e, "name") && s &&
	       i && sbx_idcache_id_ok(s) && sbx_idcache_id_ok(i);
}

/* true when the well-formed entry e belongs to host and tok (and to name,
 * when name is not NULL) */
static bool entry_is(json_object *e, const char *host, const char *tok, const char *name)
{
	return !strcmp(sbx_json_str(e, "host"), host) && !strcmp(sbx_json_str(e, "tok"), tok) &&
	       (!name || !strcmp(sbx_json_str(e, "name"), name));
}

int sbx_idcache_get(const char *dir, const struct sbx_idcache_key *key, struct sbx_idcache_ids *ret)
{
	json_object *arr, *e;
	char tok[17];
	size_t i, n;
	int dfd, r = -ENOENT;

	dfd = sbx_private_dir_open(dir, false);
	if (dfd < 0)
		return dfd;
	arr = load(dfd);
	close(dfd);
	if (!arr)
		return -ENOMEM;
	token_fp(key->token, tok);
	n = json_object_array_length(arr);
	for (i = 0; i < n && i < SBX_IDCACHE_ENTRIES && r == -ENOENT; i++) {
		e = json_object_array_get_idx(arr, i);
		if (!entry_ok(e) || !entry_is(e, key->host, tok, key->name))
			continue;
		snprintf(ret->service, sizeof(ret->service), "%s", sbx_json_str(e, "service"));
		snprintf(ret->instance, sizeof(ret->instance), "%s", sbx_json_str(e, "instance"));
		r = 0;
	}
	sbx_json_put(arr);
	return r;
}

static json_object *new_entry(const struct sbx_idcache_key *key, const char *tok,
			      const struct sbx_idcache_ids *ids)
{
	json_object *e = json_object_new_object();

	if (!e || sbx_json_add_str(e, "host", key->host) < 0 ||
	    sbx_json_add_str(e, "tok", tok) < 0 || sbx_json_add_str(e, "name", key->name) < 0 ||
	    sbx_json_add_str(e, "service", ids->service) < 0 ||
	    sbx_json_add_str(e, "instance", ids->instance) < 0) {
		sbx_json_put(e);
		return NULL;
	}
	return e;
}

/* Writes {"v":1,"entries":arr} to the file (takes arr). */
static int store(int dirfd, json_object *arr)
{
	json_object *o = json_object_new_object();
	struct sbx_buf b = SBX_BUF_INIT;
	int r = -ENOMEM;

	if (!o || json_object_object_add(o, "v", json_object_new_int(FORMAT_VERSION)) < 0) {
		sbx_json_put(arr);
		goto out;
	}
	if (json_object_object_add(o, "entries", arr) < 0) {
		sbx_json_put(arr);
		goto out;
	}
	r = sbx_json_dump(&b, o);
	if (r == 0 && b.len > SBX_IDCACHE_FILE_MAX)
		r = -EFBIG;
	if (r == 0)
		r = sbx_private_file_write(dirfd, SBX_IDCACHE_FILE, b.data, b.len);
out:
	sbx_json_put(o);
	sbx_buf_release(&b);
	return r;
}

/* Copies the well-formed entries of old into a new array after first (which
 * may be NULL), dropping those of host+tok that match name or service (each
 * may be NULL: no match on it). */
static json_object *rebuild(json_object *old, json_object *first, const char *host, const char *tok,
			    const char *name, const char *service)
{
	json_object *arr = json_object_new_array(), *e;
	size_t i, n = json_object_array_length(old);

	if (!arr)
		return NULL;
	if (first && json_object_array_add(arr, json_object_get(first)) < 0)
		goto fail;
	for (i = 0; i < n && json_object_array_length(arr) < SBX_IDCACHE_ENTRIES; i++) {
		e = json_object_array_get_idx(old, i);
		if (!entry_ok(e))
			continue; /* malformed: dropped */
		if ((name && entry_is(e, host, tok, name)) ||
		    (service && entry_is(e, host, tok, NULL) &&
		     !strcmp(sbx_json_str(e, "service"), service)))
			continue;
		if (json_object_array_add(arr, json_object_get(e)) < 0)
			goto fail;
	}
	return arr;
fail:
	sbx_json_put(arr);
	return NULL;
}

/* Rewrites the cache in dir: the new entry (or none) first, without the
 * entries matching name or service. */
static int update(const char *dir, const struct sbx_idcache_key *key, const char *name,
		  const char *service, const struct sbx_idcache_ids *ids)
{
	json_object *old = NULL, *first = NULL, *arr = NULL;
	char tok[17];
	int dfd, r = -ENOMEM;

	dfd = sbx_private_dir_open(dir, ids != NULL);
	if (dfd < 0)
		return dfd == -ENOENT && !ids ? 0 : dfd;
	token_fp(key->token, tok);
	old = load(dfd);
	if (!old)
		goto out;
	if (ids) {
		first = new_entry(key, tok, ids);
		if (!first)
			goto out;
	}
	arr = rebuild(old, first, key->host, tok, name, service);
	if (arr)
		r = store(dfd, arr);
out:
	sbx_json_put(first);
	sbx_json_put(old);
	close(dfd);
	return r;
}

int sbx_idcache_put(const char *dir, const struct sbx_idcache_key *key,
		    const struct sbx_idcache_ids *ids)
{
	if (!sbx_idcache_id_ok(ids->service) || !sbx_idcache_id_ok(ids->instance) ||
	    strlen(key->name) > SBX_IDCACHE_NAME_MAX)
		return -EINVAL;
	return update(dir, key, key->name, NULL, ids);
}

int sbx_idcache_forget(const char *dir, const struct sbx_idcache_key *key, const char *service_id)
{
	return update(dir, key, key->name, service_id, NULL);
}
