/* dirlist.h - a cached directory listing, shared by the directory node
 * (for lookups without a round trip) and open directory handles.
 *
 * The entries are sorted by name (bytewise), so lookups are a binary search.
 * readdir walks them in another order, by a key made from each name alone
 * (a hash, and the rank among names of the same hash): an offset is the key
 * of the last entry returned, so a listing read in several requests skips
 * or repeats no entry that stayed, whatever was added or removed meanwhile
 * and whichever listing of the directory serves the next request (there
 * may be no handle to keep one: ops_dir.c), but, rarely, a name sharing
 * its hash with one that came or went (dirlist_walk). Reference counted; the count
 * and the content
 * are protected by the owner's lock (fs->lock). A listing shared with an
 * open directory handle (refs > 1) never changes; one held by its node only
 * is kept up to date by our own changes (dirlist_set/dirlist_del), so that
 * lookups after a create or in a new directory need no round trip.
 */
#ifndef SBX_FS_DIRLIST_H
#define SBX_FS_DIRLIST_H

#include <stdint.h>

#include "sbx/rfs.h"

struct dirlist {
	struct sbx_rfs_dir d; /* d.ents sorted by name */
	int64_t expire;	      /* monotonic ms */
	uint64_t epoch;	      /* the fs epoch it was made in */
	unsigned refs;
	/* readdir order, built on first use (dirlist_walk), dropped by a
	 * change: order[k] is the index of the k-th entry by key */
	uint64_t *keys; /* by name index */
	uint32_t *order;
};

/* The offsets "." and ".." and a listed /.ctl take; every key is above. */
#define DIRLIST_KEY_MIN 256

/* Takes the content of *d (left empty) into a new listing with one ref. */
struct dirlist *dirlist_new(struct sbx_rfs_dir *d, int64_t expire, uint64_t epoch);
struct dirlist *dirlist_ref(struct dirlist *l);
/* Accepts NULL. */
void dirlist_unref(struct dirlist *l);
/* A listing of a directory known to be empty (we just made it). */
struct dirlist *dirlist_new_empty(const struct sbx_rfs_attr *self, int64_t expire, uint64_t epoch);
/* Inserts or replaces the entry name (link: its symlink target, or NULL).
 * Only for a listing with refs == 1. 0 or -ENOMEM (then unchanged). */
int dirlist_set(struct dirlist *l, const char *name, const struct sbx_rfs_attr *a,
		const char *link);
/* Removes the entry name if present (refs == 1). */
void dirlist_del(struct dirlist *l, const char *name);
/* Makes the readdir order of l if it has none; 0 or -ENOMEM. */
int dirlist_walk(struct dirlist *l);
/* After dirlist_walk: the position in readdir order of the first entry
 * whose key is above off (d.n when none). */
size_t dirlist_after(const struct dirlist *l, uint64_t off);
/* The entry at position k of readdir order, and its key. */
const struct sbx_rfs_dirent *dirlist_at(const struct dirlist *l, size_t k, uint64_t *key);
/* The hash part of a name's key (exposed for tests). */
uint64_t dirlist_name_hash(const char *name);
/* The entry called name, or NULL. */
const struct sbx_rfs_dirent *dirlist_find(const struct dirlist *l, const char *name);

#endif
