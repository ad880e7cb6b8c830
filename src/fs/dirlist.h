/* dirlist.h - a cached directory listing, shared by the directory node
 * (for lookups without a round trip) and open directory handles (a stable
 * snapshot for readdir offsets).
 *
 * The entries are sorted by name (bytewise), so lookups are a binary search
 * and offsets are indexes. Reference counted; the count and the content
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
};

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
/* The entry called name, or NULL. */
const struct sbx_rfs_dirent *dirlist_find(const struct dirlist *l, const char *name);

#endif
