/* fcache_range.h - the ranged way of fcache.h, for large files: only the
 * ranges read are fetched (with read-ahead), writes go through to the
 * sandbox. Internal to fcache*.c; every call is made with fc->lock held.
 */
#ifndef SBX_FS_FCACHE_RANGE_H
#define SBX_FS_FCACHE_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fcache.h"

/* true when fc is ranged: already, or now because the node's size is
 * past whole_max and fc holds nothing, or only a whole copy that must be
 * revalidated (the file grew in the sandbox: it is not fetched whole). */
bool fcr_use(struct sbx_fs *fs, struct fcache *fc);
/* fcache_read of a ranged fc. */
int fcr_read(struct sbx_fs *fs, struct fcache *fc, char *buf, size_t size, uint64_t off,
	     size_t *ret_n);
/* fcache_write of a ranged fc. Returns 1 when the transport cannot write
 * in place: fc was made whole (every range fetched, no longer ranged) and
 * the caller writes it the whole-file way. */
int fcr_write(struct sbx_fs *fs, struct fcache *fc, const char *buf, size_t size, uint64_t off,
	      bool append);
/* fcache_truncate of a ranged fc: the size changes in the sandbox now. */
int fcr_truncate(struct sbx_fs *fs, struct fcache *fc, uint64_t size);
/* Makes a clean, loaded whole fc ranged, its content one valid range. */
void fcr_from_whole(struct sbx_fs *fs, struct fcache *fc);
/* Waits for every write sent (durable: then an FSYNC of them in the
 * sandbox); 0 or the first failure (reported once). */
int fcr_sync(struct sbx_fs *fs, struct fcache *fc, bool durable);
/* Ends the reads in flight and closes the write handle (its failure is
 * returned); the ranges stay. Before fc goes idle or is freed. */
int fcr_quiesce(struct sbx_fs *fs, struct fcache *fc);
/* fcr_quiesce, then forgets the ranges: fc holds nothing, not ranged. */
int fcr_leave(struct sbx_fs *fs, struct fcache *fc);

#endif
