/* wback.h - write-behind: the close of a file created through the mount
 * does not wait for its store.
 *
 * A file created here exists only in the cache until its first store
 * (node->unstored, deferred creates in ops_file.c). When such a file is
 * closed (FUSE flush) its store is queued instead of made: a pool of
 * threads makes the stores, many in flight on the session at once, so a
 * `tar x` or `cp -r` into the mount pays no round trip per file. Files
 * that exist in the sandbox keep close-to-open: their close waits.
 *
 * A file closed empty (nothing to store but its name: a lock file, a
 * probe) is stored only -o empty_delay seconds after its close. A lock
 * given up at once (git takes .git/index.lock at every `git status` and
 * removes it unwritten) is then removed before its store began, and never
 * goes to the sandbox (fcache_drop_unstored): a warm `git status` makes
 * no round trip. Whoever waits for the queue (wback_drain) does not wait
 * out the delay, nor do fsync, rename, link and xattr calls on the file
 * (they store it), so what holds below holds for these files too.
 *
 * What still holds (docs/sbxfs.md, "Write-behind"):
 *  - fsync of the file waits for its store and returns its error;
 *  - a /.ctl job, and `sbx exec` run in the mount, start after every
 *    earlier close's store (fs_flush_all() waits for queued stores, which
 *    hold their cache locked while storing);
 *  - rename, link, unlink and xattr calls on the file settle it first
 *    (fcache_settle), and rmdir or a rename of a directory wait for the
 *    queue (wback_drain) so that no store lands in a moved directory;
 *  - a setattr of a directory's times waits for the queue too, so that
 *    no store lands after them and moves the mtime (tar x, cp -a);
 *  - a store that fails is counted in .ctl/stats (store
 *    behind_errors=) and logged, its content kept locally (fcache.h);
 *    so is a setattr made during a store and applied after it
 *    (fcache_attr.c);
 *    every handle of the mount that was open when it failed gets EIO
 *    from its next flush or fsync (as Linux reports writeback errors:
 *    wback_errseq());
 *  - unmount stores what is queued before the daemon exits, and
 *    `.ctl/ctl sync` waits for it (sbx umount writes it first).
 *
 * Bounds: WBACK_QUEUE_MAX files queued (a close past it stores itself,
 * so the cache directory and the descriptors stay bounded); WBACK_THREADS
 * stores in flight.
 *
 * Locking: the queue's own mutex, taken alone (never with fs->lock or a
 * cache lock held).
 */
#ifndef SBX_FS_WBACK_H
#define SBX_FS_WBACK_H

#include <stdbool.h>
#include <stdint.h>

struct sbx_fs;
struct fcache;
struct wback;
struct sbx_rfs_setattr;

#define WBACK_THREADS	16
#define WBACK_QUEUE_MAX 1024
/* a directory's attribute changes wait this long for the next ones */
#define WBACK_DIR_GATHER_MS 2

/* Starts the pool; the store of a file closed empty starts delay seconds
 * after its close (0: at once). Returns 0 or a negative errno. */
int wback_start(struct sbx_fs *fs, double delay, struct wback **ret);
/* Stores what is queued, stops the threads, frees. Accepts NULL. */
void wback_stop(struct wback *w);

/* Queues the store of fc, taking one reference of it (given back once
 * stored); later: fc was closed empty, its store waits for the delay.
 * Returns true when queued; false when the queue is full or stopping (the
 * caller stores it itself, the reference stays the caller's). */
bool wback_queue(struct wback *w, struct fcache *fc, bool later);

/* Queues attribute changes sa of directory dir, at path (dattr.h): 1, or
 * 0 when they were added to the same directory's changes last in the
 * queue, or -1 when the queue is full or stopping (nothing queued). */
int wback_queue_dir(struct wback *w, uint64_t dir, const char *path,
		    const struct sbx_rfs_setattr *sa);

/* Waits until the directories' attribute changes queued before the call
 * have been made (so the stores queued before them too, not those queued
 * after the last of them); returns at once when none is queued or being
 * made. A store made outside the queue calls it first (dattr.h). */
void wback_drain_dirs(struct wback *w);
/* Whether wback_drain_dirs() would wait now (false for NULL). */
bool wback_dirs_pending(struct wback *w);

/* Waits until every store queued before the call has ended (none waits
 * for its delay then). */
void wback_drain(struct wback *w);

/* Work done behind the callers failed (a store, or attribute changes
 * applied after one; the caller logs what): counted in behind_errors,
 * and every handle open now gets EIO from its next flush or fsync.
 * Accepts NULL (nothing). */
void wback_failed(struct wback *w);

/* The count of failed write-behind stores so far: a handle remembers it
 * at open and reports EIO when it changed (a NULL w: 0). */
uint64_t wback_errseq(const struct wback *w);

#endif
