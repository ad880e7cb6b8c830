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
/* fcache_read of a ranged fc, its waits made here. */
int fcr_read(struct sbx_fs *fs, struct fcache *fc, char *buf, size_t size, uint64_t off,
	     size_t *ret_n);

/* A read of a ranged fc in steps, for a caller that does not wait
 * (fcache_aread.c): fcr_read_init(), then fcr_read_step() until it
 * returns 0 (or an error), then fcr_read_copy(). */
struct fcr_rd {
	size_t size;
	uint64_t off, end, ra_end; /* asked for; read-ahead up to ra_end */
	bool seq;		   /* the continuation of the last read */
	bool begun;		   /* the window is set (after the revalidation) */
	bool miss;		   /* it had to fetch */
	int tries;
	/* the revalidation's STAT, while in flight */
	bool stat_sent;
	uint64_t gen0, ep;
	struct sbx_rfs_async st;
};
/* Readies rd for size bytes at off. */
void fcr_read_init(struct fcache *fc, struct fcr_rd *rd, size_t size, uint64_t off);
/* Brings what rd asks for into fc's copy: 0 when it is there, or a
 * negative errno. pk NULL: waits for the sandbox here. Else never waits:
 * 1 when pk was parked (fc->aread set; pk->resume runs when what it waits
 * for ended, and calls this again). After a 1, the caller touches neither
 * fc nor rd: the resume may already run on another thread. */
int fcr_read_step(struct sbx_fs *fs, struct fcache *fc, struct fcr_rd *rd, struct fcache_park *pk);
/* Copies what rd asked for into buf (*ret_n bytes: short at the end of
 * the file) once fcr_read_step() returned 0. */
int fcr_read_copy(struct sbx_fs *fs, struct fcache *fc, struct fcr_rd *rd, char *buf,
		  size_t *ret_n);
/* fcache_write_locked of a ranged fc. Returns 1 when the transport cannot write
 * in place: fc was made whole (every range fetched, no longer ranged) and
 * the caller writes it the whole-file way. */
int fcr_write(struct sbx_fs *fs, struct fcache *fc, const char *buf, size_t size, uint64_t off,
	      bool append);
/* fcache_truncate_locked of a ranged fc: the size changes in the sandbox now. */
int fcr_truncate(struct sbx_fs *fs, struct fcache *fc, uint64_t size);
/* Makes a clean, loaded whole fc ranged, its content one valid range. */
void fcr_from_whole(struct sbx_fs *fs, struct fcache *fc);
/* Waits for every write sent (durable: then an FSYNC of them in the
 * sandbox); 0 or the first failure (reported once). */
int fcr_sync(struct sbx_fs *fs, struct fcache *fc, bool durable);
/* fcr_sync() in parts, for a close or fsync answered later
 * (fcache_astore.c). fcr_sync_begin returns 1 with the path in *path (the
 * caller releases it) and the node's generation in *gen0 when the
 * sandbox must be asked (a handle, and for a close writes made through
 * it), else fcr_sync()'s result, made here. Then, on fs->rfs, behind the
 * writes (the agent answers in order, so when that answer came every
 * write was answered too and the ends wait for nothing): for a close a
 * STAT, ended by fcr_close_end with its result r and attributes a; for
 * an fsync an FSYNC of sbx_rfs_submit() with wf (and its stat), ended by
 * fcr_fsync_end (a->mode 0: the stat failed). Each returns the result. */
int fcr_sync_begin(struct sbx_fs *fs, struct fcache *fc, bool durable, struct sbx_buf *path,
		   uint64_t *gen0);
int fcr_close_end(struct sbx_fs *fs, struct fcache *fc, int r, const struct sbx_rfs_attr *a,
		  uint64_t gen0);
int fcr_fsync_end(struct sbx_fs *fs, struct fcache *fc, int r, const struct sbx_rfs_attr *a,
		  uint64_t gen0);
/* Ends the reads in flight and closes the write handle (its failure is
 * returned); the ranges stay. Before fc goes idle or is freed. */
int fcr_quiesce(struct sbx_fs *fs, struct fcache *fc);
/* fcr_quiesce, then forgets the ranges: fc holds nothing, not ranged. */
int fcr_leave(struct sbx_fs *fs, struct fcache *fc);

#endif
