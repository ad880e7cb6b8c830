/* idcache.h - the ids of sandboxes by the name a caller used, kept between
 * runs so that `sbx exec NAME` needs no REST call to find where to run.
 *
 * One file, DIR/ids.json, private to the user (util/statedir.h: the
 * directory and the file must be the caller's own, mode 0700 and 0600, or
 * the cache is not used). An entry maps (API host, token fingerprint, the
 * name or id as the caller wrote it) to (service id, instance id).
 *
 * What makes a stale entry harmless: an entry is written only from what the
 * API answered, an instance id names one instance of one service for ever
 * (a deleted sandbox recreated under the same name gets new ids), and the
 * API host is never read from the file, so an entry can only point at an
 * instance the API itself named for that name, or at one that is gone (then
 * the exec fails before anything runs, the caller forgets the entry and asks
 * the API). The ids are checked against a strict alphabet before use, so a
 * tampered file cannot inject anything into the exec URL. The token
 * fingerprint keeps two accounts on one host apart; it is a 64-bit FNV-1a
 * digest, enough to tell tokens apart, and says nothing usable about a
 * token of 40+ random characters.
 *
 * Bounds: the file is at most SBX_IDCACHE_FILE_MAX bytes and
 * SBX_IDCACHE_ENTRIES entries (the oldest go first); anything unreadable or
 * out of bounds is ignored as if absent and replaced by the next write.
 * Concurrent writers: the last rename wins; a lost entry costs one lookup.
 */
#ifndef SBX_API_IDCACHE_H
#define SBX_API_IDCACHE_H

#include <stdbool.h>

#define SBX_IDCACHE_FILE     "ids.json"
#define SBX_IDCACHE_FILE_MAX (64u * 1024)
#define SBX_IDCACHE_ENTRIES  64
#define SBX_IDCACHE_ID_MAX   64	 /* longest id kept (UUIDs are 36) */
#define SBX_IDCACHE_NAME_MAX 200 /* longest name or id as written */

struct sbx_idcache_key {
	const char *host;  /* the client's API host */
	const char *token; /* the client's token (only its fingerprint is kept) */
	const char *name;  /* the sandbox as the caller wrote it */
};

struct sbx_idcache_ids {
	char service[SBX_IDCACHE_ID_MAX + 1];
	char instance[SBX_IDCACHE_ID_MAX + 1];
};

/* true when s is a usable id: 1 to SBX_IDCACHE_ID_MAX of [0-9A-Za-z_-]. */
bool sbx_idcache_id_ok(const char *s);

/* Looks key up in dir. 0 and the ids in *ret; -ENOENT when there is no
 * such entry; -EPERM when dir or the file is not private; another -errno
 * when the cache cannot be read. Never creates anything. */
int sbx_idcache_get(const char *dir, const struct sbx_idcache_key *key,
		    struct sbx_idcache_ids *ret);

/* Stores ids under key (replacing an entry of the same key), creating dir
 * (0700) when missing. 0, -EINVAL for ids that fail sbx_idcache_id_ok or a
 * name past SBX_IDCACHE_NAME_MAX, -EPERM, -errno. */
int sbx_idcache_put(const char *dir, const struct sbx_idcache_key *key,
		    const struct sbx_idcache_ids *ids);

/* Removes every entry of key's host and token whose service is service_id
 * or whose name is key->name (when not NULL): after a delete or a create,
 * or when a cached id turned out stale. 0 (also when there was none) or
 * -errno. */
int sbx_idcache_forget(const char *dir, const struct sbx_idcache_key *key, const char *service_id);

#endif
