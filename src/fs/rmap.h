/* rmap.h - which byte ranges of a partly loaded local file are valid.
 *
 * A set of half-open ranges [start, end) kept sorted, disjoint and never
 * touching (adjacent ranges are merged), in one array. It is bounded: at
 * most RMAP_MAX ranges. Adding a range past the bound first forgets the
 * smallest range held (the caller only keeps clean data here, so
 * forgetting a range costs a fetch later, never correctness).
 *
 * Not thread-safe: the owner's lock protects it (fcache: fc->lock).
 */
#ifndef SBX_FS_RMAP_H
#define SBX_FS_RMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ranges held at most (16 bytes each). */
#define RMAP_MAX 4096

struct rmap_range {
	uint64_t start, end;
};

struct rmap {
	struct rmap_range *r; /* n used, cap allocated */
	size_t n, cap;
	uint64_t bytes; /* sum of the lengths */
};

/* An empty map; nothing allocated. */
#define RMAP_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

/* Frees what the map holds and empties it. */
void rmap_release(struct rmap *m);
/* Empties the map (keeps its memory). */
void rmap_clear(struct rmap *m);
/* Marks [start, end) valid. 0, or -ENOMEM (the map is unchanged then). */
int rmap_add(struct rmap *m, uint64_t start, uint64_t end);
/* Forgets everything at or past off (a truncate). */
void rmap_cut(struct rmap *m, uint64_t off);
/* Forgets everything below off. */
void rmap_trim_below(struct rmap *m, uint64_t off);
/* true when all of [start, end) is valid (an empty range is). */
bool rmap_covers(const struct rmap *m, uint64_t start, uint64_t end);
/* The first gap inside [start, end): true and *ret_start, *ret_end when
 * there is one; false when all of it is valid. */
bool rmap_first_gap(const struct rmap *m, uint64_t start, uint64_t end, uint64_t *ret_start,
		    uint64_t *ret_end);

#endif
