/* fcache.h - the local cache of one open file, shared by all its handles.
 *
 * Content lives in an unnamed local file: in memory (a memfd) while it is
 * at most FCACHE_MEM_MAX bytes, else an O_TMPFILE in the cache dir. Why
 * not always the cache dir: making a file there is a filesystem's inode
 * allocation, and on ext4 a tree of a few thousand small files spent more
 * time in that than in the network (cold grep -r 5.2 s, 1.2 s in memory).
 * Idle contents in memory count in the data_cache bound like the rest. It
 * is fetched whole on the first read or write that needs it (one round
 * trip, streamed), revalidated on the first read after an open (unless
 * the node's fresh attributes name the version held, see "Idle caches"
 * below; the same holds for an open while other handles are open) or
 * after a cache drop (a conditional fetch that sends nothing when the
 * validator still matches), written locally, and stored on flush/fsync/close (one
 * round trip: temporary file + rename in the sandbox, or in place when the
 * file has other hard links).
 *
 * Locking: fc->lock (fcache_lock) protects the content and every field
 * below it; it is taken before fs->lock, never after. It is held by a
 * thread, or by a request whose round trip is in flight (a read,
 * fcache_aread.c; a store, fcache_astore.c, also at a last release,
 * fcache_release.c; a setattr, ops_setattr.c),
 * which is why it is a flag under a mutex rather than a mutex: the
 * completion thread that ends that request lets it go (fcache_lock.c).
 * Nothing on the completion thread takes it; a FUSE request that needs
 * it while such a request holds it is queued, not waited for, and goes
 * on on a thread of fs->bg once handed the lock (fcache_lock_or_queue).
 * refs and the node's fc pointer are
 * protected by fs->lock. fc->plock protects the attribute changes (struct
 * fcache_attrs): taken after fc->lock and before fs->lock, and never held
 * across a round trip, so that a setattr of a file whose store is queued
 * or in flight does not wait for that store (fcache_pend_attrs).
 *
 * Failure: a failed store keeps the changes (dirty) and its error, which
 * flush/fsync return; the last release tries once more and, if that fails,
 * keeps the content in CACHE_DIR/sbxfs-unsaved-* and logs where.
 *
 * Large files (fcache_range.c): a file larger than whole_max KiB when
 * its content is first needed is "ranged": fd is a sparse copy of which
 * only the ranges in fc->valid hold the file's bytes, in memory while
 * the copies there hold less than data_cache in all (fs->ranged_mem;
 * idle caches make way for them), else in the cache dir. A read fetches what
 * it misses; sequential reads start read-ahead with a growing window,
 * several ranged reads in flight (READ_RANGE of sbx_rfs_submit), so
 * throughput is not one round trip per chunk, and a FUSE read that waits
 * for them holds no thread (struct fcache_park). Each read's reply names the version it
 * read: a newer version than fc->ver drops the valid ranges. Revalidation
 * (after open, or a cache drop) is a stat compared with fc->ver.
 *
 * Writes to a ranged file go through to the sandbox (sbx_rfs_wfile: PWRITE
 * on a handle, sent without waiting, like sshfs) and, where they replace
 * bytes of the file, into fd, so reads see them; bytes that extend the
 * file are not kept in fd (a read fetches them back). Why write-through
 * rather than fetching the rest first: a 1 GiB file of which a few pages
 * change would move 1 GiB each way; and why not
 * the whole-file store: a ranged copy is partial, and a file is never
 * replaced by a partial one. The price: a reader in the sandbox may see
 * the writes before close (as with sshfs or NFS), not one atomic switch.
 * A failed write is returned by that write if known by then, else by the
 * next flush/fsync/close (each syncs: waits for every write's answer).
 * A size change of a ranged file is sent at once (setattr), so `truncate
 * -s 1G` moves no data and the sandbox's file stays sparse. With the shell
 * transport (no handles) the first write fetches the missing ranges and
 * the file goes back to the whole-file way (stored whole on close).
 * A file made here (made_here) that a write takes past whole_max becomes
 * ranged at that write: its content so far is stored, the rest goes
 * through (fcache.c, grow_through).
 *
 * Idle caches: after the last close a clean cache stays with its node
 * (bounded: data_cache MiB and fs->idle_max files in total, least
 * recently closed dropped first, and dropped when the kernel forgets the
 * node). Each idle cache holds a descriptor, so idle_max follows the
 * descriptor limit (fcache_idle_limit): a fixed small bound made a tree
 * read twice in the same order (grep -r) evict every file before its
 * second read. The next open uses it
 * without a round trip when the node's attributes are fresh and name the
 * same version (inode, size, mtime) as the cached content; else the first
 * read revalidates it (a conditional fetch: no content when unchanged).
 */
#ifndef SBX_FS_FCACHE_H
#define SBX_FS_FCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fs/bgrun.h"
#include "fs/fs.h"
#include "fs/rmap.h"

/* Idle caches kept at most by default and with any descriptor limit. */
#define FCACHE_IDLE_MIN 64
#define FCACHE_IDLE_MAX 65536

/* The idle-cache bound for a descriptor limit of nofile: half of what
 * is left after a reserve for open files and the connection, within
 * FCACHE_IDLE_MIN..FCACHE_IDLE_MAX. */
unsigned fcache_idle_limit(uint64_t nofile);

/* Whole content held in memory at most (a memfd): a file no larger when
 * its cache is made starts there, and moves to the cache dir
 * (fcache_spill) when it grows past this. A ranged copy is in memory or
 * in the cache dir as the memory budget allows (fcache_range.c, place). */
#define FCACHE_MEM_MAX (1u << 20)

/* Ranged reads in flight per file, and the bytes of each. */
#define FCACHE_RA_SLOTS 24
#define FCACHE_RA_CHUNK (1u << 20)
/* Read-ahead window: first, and largest (doubling on each sequential read). */
#define FCACHE_RA_MIN (256u << 10)
#define FCACHE_RA_MAX (16u << 20)

/* Bytes of FUSE writes queued for files' locks at once (their copies):
 * past it a write waits for the lock on its worker thread. */
#define FCACHE_WQ_MAX (16u << 20)

/* A FUSE read queued behind a read whose fetch holds fc->lock
 * (fcache_aread.c): answered at that fetch's end. */
struct fcache_rwait {
	fuse_req_t req;
	size_t size;
	uint64_t off;
	struct fcache_rwait *next;
};

/* A ranged read in flight: [off, off + len) of the file into fd, a
 * READ_RANGE of sbx_rfs_submit() (q.ud: its fcache). Made and freed under
 * fc->lock (fcache_range.c); its done() only marks it ended. */
struct fcache_ra {
	struct sbx_rfs_async q; /* first */
	uint64_t off, len;
	bool main;   /* on fs->rfs (else one of fs->conns: -o max_conns) */
	bool ended;  /* fc->hm: its done() ran (q's result is there) */
	bool wanted; /* fc->hm: the parked read waits for it */
};

/* What only a file read by ranges needs, apart (fc->rng): every cached
 * file has a struct fcache, and a tree's prefetch makes thousands. */
struct fcache_rng {
	struct fcache_ra *ra[FCACHE_RA_SLOTS]; /* reads in flight (owned) */
	struct sbx_rfs_attr newer; /* have_newer: the ranges go once no read is in flight */
};

/* A read of a large file that waits for ranged reads in flight without a
 * thread (fcache_aread.c): it holds fc->lock meanwhile (fc->aread), and
 * resume() runs on the thread that ends the last read it waits for (a
 * completion thread of libsbx). */
struct fcache_park {
	unsigned pending; /* fc->hm: what it still waits for */
	void (*resume)(struct fcache_park *pk);
};

/* The attribute changes of an open file (fcache_attr.c), under fc->plock.
 * A change goes with the next store (pend) while the file has changes not
 * yet stored and no store of it is in flight; while one is (st_on) and the
 * change cannot fail for it (fcache_after_allowed), it waits in after, and
 * the thread that made the store applies it right after (one setattr),
 * still holding fc->lock: fsync, fs_flush_all and the next store wait for
 * it, as they do for the store. */
struct fcache_attrs {
	struct sbx_rfs_setattr pend; /* to apply with the next store */
	bool queued;		     /* fc->behind && fc->dirty: a store will come and take pend */
	bool st_on;		     /* a store is in flight (its thread holds fc->lock) */
	bool st_creates;	     /* it makes the file (created here) */
	bool st_root;		     /* it acts as root in the sandbox */
	/* whom it acts as (fc->writer, which cannot change while the store
	 * holds fc->lock), NULL: the transport's ids */
	const struct sbx_rfs_cred *st_cred;
	struct sbx_rfs_setattr sent;  /* the pend it carries (pending again if it fails) */
	struct sbx_rfs_setattr after; /* made while it is in flight: applied after it */
};

struct fcache {
	struct node *node; /* fixed: holds one ref on it */
	unsigned refs;	   /* fs->lock: handles and temporary users */
	bool idle;	   /* fs->lock: refs 0, in the idle list */
	/* fs->lock: releases that took refs to 0 and still use it (a store,
	 * the end of writes through): not reaped meanwhile; an eviction
	 * asked then (evict_asked) happens at the end of the last of them */
	unsigned releasing;
	bool evict_asked;
	uint64_t idle_bytes;		      /* fs->lock: size accounted while idle */
	struct fcache *idle_prev, *idle_next; /* fs->lock */

	/* fc->lock (see Locking): held, under hm; a thread waiting for it
	 * waits on hcv. aread: the holder is a read whose fetch is in flight,
	 * and other reads queue in waiters to be answered at its end. */
	pthread_mutex_t hm;
	pthread_cond_t hcv;
	bool held;
	bool aread;	  /* or a large file's read parked for its ranged reads */
	/* the holder answered later (aread, held_long) began when the file
	 * had nothing to store, and makes nothing to store: a close need not
	 * wait for it */
	bool held_clean;
	struct fcache_rwait *waiters, **waiters_tail;
	bool held_long; /* the holder keeps it across a round trip (fcache_hold_long) */
	/* requests queued for the lock, handed it in turn (fcache_unlock) */
	struct fcache_lwait *lq, **lq_tail;
	int fd;		       /* the local content */
	bool loaded;	       /* fd holds the whole content */
	bool dirty;	       /* changes not yet stored */
	bool revalidate;       /* check the remote version before next read */
	uint64_t loaded_epoch; /* fs epoch of the last fetch/revalidation */
	uint64_t size;
	char validator[SBX_RFS_VALIDATOR_MAX]; /* of the version in fd */
	struct sbx_rfs_attr ver;	       /* attributes of that version */
	int err;			       /* last store error (negative), 0 */
	/* Whose stores these are: the caller of the last writable open
	 * (fs/cred.h), owned; NULL: the mount owner's (the transport's own
	 * ids). Another user's store is written in place with only the
	 * pending attribute changes: replacing the file would need write
	 * access to its directory and would chown a new inode, which only
	 * root may do. A pointer, not a copy: a cred is 268 bytes, and every
	 * cached file has a struct fcache (thousands after a tree's prefetch). */
	struct sbx_rfs_cred *writer;
	bool behind;	   /* a write-behind store is queued (wback.h) */
	bool mem;	   /* fd is in memory (a memfd), not in the cache dir */
	uint64_t mem_held; /* fs->lock: what of fs->ranged_mem is fd's */
	/* stored or written through since the last FSYNC in the sandbox: an
	 * fsync(2) with nothing to store still has one to make (the node
	 * keeps it while the file has no cache: node.undurable) */
	bool undurable;
	/* Made by this file's first open (O_CREAT): the sandbox's copy is
	 * empty, or not there yet (node->unstored), so there is no content
	 * a partial one could replace. Cleared when a version is stored or
	 * fetched. */
	bool made_here;

	pthread_mutex_t plock;	   /* see Locking above */
	struct fcache_attrs attrs; /* plock */

	/* ranged content (fcache_range.c); all under fc->lock */
	bool ranged;		    /* fd holds only the ranges in valid */
	struct rmap valid;	    /* ranges of fd that hold the file's bytes */
	struct fcache_rng *rng;	    /* made by the first ranged read (owned), or NULL */
	unsigned n_ra;		    /* reads in flight: rng->ra[0 .. n_ra) */
	struct fcache_park *parked; /* fc->hm: the read waiting for some of them */
	bool have_newer;	    /* a read named a newer version (rng->newer): */
	uint64_t ra_next;	    /* where the last read ended */
	uint64_t ra_win;	    /* read-ahead window, bytes */
	struct sbx_rfs_wfile *wf;   /* writes in place, or NULL */
	bool wrote;		    /* we changed the file since ver was taken */
};

/* Opens (or shares) the cache of node id for a new handle. trunc: the open
 * truncates (O_TRUNC); created: the file was just created empty by us.
 * Returns 0 and *ret with one reference, or a negative errno. */
int fcache_open(struct sbx_fs *fs, uint64_t id, bool trunc, bool created, struct fcache **ret);

/* Whether the open of fc being answered may let the kernel keep the pages
 * it holds of the file (FOPEN_KEEP_CACHE): yes when the node's attributes
 * are fresh and name the version they named at the file's previous open
 * (the kernel's pages are of that version: every change learnt since
 * dropped them, notify_inval_inode; a change learnt only now shows as
 * another version here). No also makes the kernel drop them, which then
 * hold the version of now. Close-to-open as for our own cache
 * (version_fresh): a change the attributes do not show yet is seen after
 * their timeout. */
bool fcache_kernel_keeps(struct sbx_fs *fs, struct fcache *fc);
/* A file created here and not yet in the sandbox (node->unstored): its
 * first store makes it, so it counts as changed even if never written. */
void fcache_mark_unstored(struct sbx_fs *fs, struct fcache *fc);
/* Makes the file of node id exist in the sandbox if it was only created
 * here (stores it), before an operation that needs it there by name
 * (rename, link, unlink, xattrs). 0 or the store's error. */
int fcache_settle(struct sbx_fs *fs, uint64_t id);
/* The owner unlinks the file of node id that was only created here: it
 * will never be stored (its content goes with the name, as an unlinked
 * file's does). true when so, and then nothing needs the sandbox; false
 * when id is 0 or the file is in the sandbox (or on its way there). */
bool fcache_drop_unstored(struct sbx_fs *fs, uint64_t id);
/* Write-behind (wback.h), at a close (fc->lock held): true when fc's
 * store may be queued instead of made now (a file only created here,
 * whole, with changes, no store queued yet and no store failed); fc is
 * then marked and one more reference taken,
 * which fcache_behind_store()'s caller gives back with fcache_release(),
 * and *ret_empty says whether the file is empty. *ret_queued: false, but
 * a store of fc is queued and has not begun, so it takes what was written
 * up to now (a shell's `echo > f` closes the file twice: after its dup2,
 * and at exit) and this close has nothing to store. */
bool fcache_behind_begin_locked(struct sbx_fs *fs, struct fcache *fc, bool *ret_empty,
				bool *ret_queued);
/* Makes the store fcache_behind_begin() allowed (from the queue) and
 * clears the mark. 0 or its error. */
int fcache_behind_store(struct sbx_fs *fs, struct fcache *fc);
/* The queue refused it: clears the mark and gives the reference back;
 * the close then stores the file as any other (fcache_flush_req). */
void fcache_behind_cancel(struct sbx_fs *fs, struct fcache *fc);
/* Drops a reference; the last one stores what is left and frees
 * (fcache_release.c), waiting for that store here. */
void fcache_release(struct sbx_fs *fs, struct fcache *fc);
/* fcache_release() for a FUSE release: the last reference's store is
 * answered later, holding no thread (with the agent; else made here). */
void fcache_release_later(struct sbx_fs *fs, struct fcache *fc);
/* Takes an extra reference on the cache of a node that is open (fs->lock
 * held); NULL when it has none or only an idle one. */
struct fcache *fcache_get_locked(struct sbx_fs *fs, struct node *n);
/* fcache_get_locked(), and also while a last release still runs (its
 * store may be in flight): for fs_flush_all(), which waits for it. */
struct fcache *fcache_get_unsettled_locked(struct sbx_fs *fs, struct node *n);
/* Drops the idle cache of a node (its content is about to change
 * remotely, or the kernel forgot the node). fs->lock held; the cache is
 * freed later by fcache_reap(). */
void fcache_evict_locked(struct sbx_fs *fs, struct node *n);
/* Frees what fcache_evict_locked() and the size bound set aside (fs->lock
 * NOT held). */
void fcache_reap(struct sbx_fs *fs);
/* Makes an idle cache of node n holding data (len bytes, the version with
 * attributes a and validator val), as if it had been read and closed: the
 * next open of a fresh n reads it without a round trip. Nothing when n has
 * a cache already or data_cache is 0. fs->lock held; the caller runs
 * fcache_reap() after releasing it (the size bound may evict others). */
void fcache_prime_locked(struct sbx_fs *fs, struct node *n, const char *data, size_t len,
			 const struct sbx_rfs_attr *a, const char *val);
/* Frees every idle cache (unmount). */
void fcache_drop_idle(struct sbx_fs *fs);

/* Takes fc->lock, waiting while another holds it. Never on the
 * completion thread. */
void fcache_lock(struct fcache *fc);
/* Lets it go (from whichever thread: a read's holds it across threads);
 * to the first request queued for it (fcache_lock_or_queue), if any. */
void fcache_unlock(struct fcache *fc);

/* A request queued for fc->lock (fcache_lock_or_queue), in the caller's
 * own struct. */
struct fcache_lwait {
	struct bgrun_job job;	    /* first (bgrun.h) */
	struct fcache_lwait *next;  /* fc->hm: in fc->lq */
	struct sbx_fs *fs;	    /* set by fcache_lock_or_queue */
	/* runs holding fc->lock, handed over by fcache_unlock(), on a thread
	 * of fs->bg; may free w; lets the lock go when done, or keeps it
	 * for a request of its own answered later */
	void (*run)(struct fcache_lwait *w);
};

enum fcache_lq {
	FCACHE_TAKEN,	/* fc->lock taken: go on here */
	FCACHE_QUEUED,	/* w queued: w->run() goes on */
	FCACHE_BUSY,	/* another keeps it and w was NULL: nothing done */
	FCACHE_READING, /* a read answered later holds it, as flags allow:
			 * not taken, nothing done */
};
/* fcache_lock_or_queue()'s flags: FCACHE_READING when a read answered
 * later holds the lock; or when any request answered later does that
 * began with nothing to store and makes nothing to store (a close need
 * not wait for it) */
#define FCACHE_LQ_ANY_READ 1u
#define FCACHE_LQ_CLEAN_READ 2u

/* Takes fc->lock, waiting while a thread holds it for work of its own;
 * but while its holder keeps it across a round trip (a read answered
 * later, fcache_hold_long), queues w (unless NULL), so that the request
 * goes on without a thread waiting: whoever lets the lock go hands it to
 * the first queued, whose run() is a job of fs->bg. Requests queued are
 * served in order, before threads that wait in fcache_lock(). Without
 * fs->bg (the shell transport answers on the worker anyway) this waits
 * like fcache_lock(). later_drain() waits for a queued request too. */
enum fcache_lq fcache_lock_or_queue(struct sbx_fs *fs, struct fcache *fc, struct fcache_lwait *w,
				    unsigned flags);

/* An open for a FUSE request (fcache_open_req), in the caller's struct. */
struct fcache_oreq {
	struct fcache_lwait w; /* first */
	/* the caller's */
	bool trunc, created; /* as fcache_open()'s */
	bool writes;	     /* a writable open: writer becomes the file's (fcache_set_writer) */
	const struct sbx_rfs_cred *writer; /* borrowed until done */
	/* NULL: wait for the lock here; else, when the open was queued
	 * (fcache_lock_or_queue), called once it is made (r: 0, fc holding
	 * one reference, or a negative errno), on a thread of fs->bg */
	void (*done)(struct fcache_oreq *o, int r);
	/* fcache_open_req()'s */
	struct fcache *fc;
	bool first, fresh;
};
/* fcache_open() that does not wait while another request keeps the
 * file's lock across a round trip (a store, a setattr): 1 when queued
 * (o->done() follows), else 0 with o->fc (one reference) or a negative
 * errno, done() not called. */
int fcache_open_req(struct sbx_fs *fs, uint64_t id, struct fcache_oreq *o);
/* The holder of fc->lock keeps it across a round trip answered later (a
 * store, a setattr): requests that need the lock meanwhile queue for it
 * (fcache_lock_or_queue) rather than wait on their thread, but a close of
 * a file with nothing to store does not wait for it. Until its
 * fcache_unlock(). */
void fcache_hold_long(struct fcache *fc);
/* fcache_lock(), unless a read answered later holds it and the file has
 * nothing to store (false then, fc->lock not taken): a flush need not
 * wait for that read. */
bool fcache_lock_unless_clean_read(struct fcache *fc);
/* The holder of fc->lock becomes a read answered later (fc->aread): reads
 * that come meanwhile queue behind it, and a flush of a file with nothing
 * to store does not wait for it. fc->hm held. */
void fcache_aread_begin_locked(struct fcache *fc);

/* The operations below take fc->lock themselves (reads:
 * fcache_read_req() below). */
/* A write of size bytes of buf at off into fc (append: at the end,
 * whatever off says: O_APPEND), fc->lock held; FUSE writes go through
 * fcache_write_req() below. */
int fcache_write_locked(struct sbx_fs *fs, struct fcache *fc, const char *buf, size_t size,
			uint64_t off, bool append);
/* Whether a write of whole file fc needs its content first (a round
 * trip); fc->lock held. */
bool fcache_write_needs_load(struct sbx_fs *fs, struct fcache *fc);
/* A size change of fc, fc->lock held: made in the local copy (stored
 * with the rest), or, for a ranged file or one grown past whole_max, in
 * the sandbox at once. */
int fcache_truncate_locked(struct sbx_fs *fs, struct fcache *fc, uint64_t size);
/* Stores the changes, if any. Returns 0 or the (negative) store error. */
int fcache_flush(struct sbx_fs *fs, struct fcache *fc);
/* fsync(2)'s part of fcache_flush_req() below: fcache_flush, and what this
 * mount wrote of the file is on the sandbox's disk when it returns 0 (an
 * FSYNC there: with the store, after the writes through, or alone when
 * they were stored before). The shell transport cannot: there it is
 * fcache_flush. fc->lock held. */
int fcache_fsync_locked(struct sbx_fs *fs, struct fcache *fc);
/* fcache_flush() without its lock (fc->lock held). */
int fcache_flush_locked(struct sbx_fs *fs, struct fcache *fc);
/* The lock a flush (fsync: an fsync) takes, once the directories'
 * attribute changes queued before it are made: false when there is
 * nothing to store (a read answered later holds it, the file clean). */
bool fcache_sync_lock(struct sbx_fs *fs, struct fcache *fc, bool fsync);
/* What a store waits for before it takes the lock: the directories'
 * attribute changes queued before it (dattr.h). */
void fcache_sync_dirs(struct sbx_fs *fs);
/* An FSYNC was made in the sandbox (counted in .ctl/stats). */
void fcache_count_fsync(struct sbx_fs *fs);
/* An FSYNC of what was stored before in two halves (fc->lock held, the
 * file clean and fc->undurable): _begin puts the file's remote path in
 * *path (the caller releases it) and returns 1 to send it, 0 when there
 * is nothing to sync (the file is gone), or a negative errno; _end takes
 * sbx_rfs_fsync()'s result and returns the fsync's. */
int fcache_synced_begin(struct sbx_fs *fs, struct fcache *fc, struct sbx_buf *path);
int fcache_synced_end(struct fcache *fc, int r);

/* fcache_flush_req()'s how: an fsync(2), else a close (FUSE flush);
 * a close may be queued for write-behind (wback.h) */
#define FCACHE_FSYNC 1u
#define FCACHE_BEHIND 2u

/* A close (FUSE flush) or an fsync(2) of a handle of fc, answered when
 * its store is made (fcache_astore.c): reply(ctx, req, r) runs once with
 * the result (0 or a negative errno), on this thread, on libsbx's
 * completion thread or on one of fs->bg. A whole file with changes is
 * stored with sbx_rfs_submit(), holding fc->lock and no thread until the
 * sandbox answered (and the attribute changes made meanwhile are
 * applied), and so is an FSYNC of what was stored before; the rest is
 * made here (a large file's writes through, the shell transport). While
 * another request keeps fc->lock across a round trip, this one is queued
 * for it (fcache_lock_or_queue). With FCACHE_BEHIND, the store of a file
 * only created here is queued for write-behind when it may be
 * (fcache_behind_begin_locked), and the close answered at once. */
void fcache_flush_req(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, unsigned how,
		      void (*reply)(void *ctx, fuse_req_t req, int r), void *ctx);

/* A store in two halves (fc->lock held, fc->dirty): _begin readies it
 * (path, options, the pending attribute changes taken): 1 to send, or its
 * result when there is nothing to send (0: the file is gone) or it failed
 * before (then ended). _end takes the store's result (r, attributes a,
 * validator val) and returns r; on success fcache_store_after() (or its
 * steps) follows. _out ends either, whatever the result. */
struct fcache_st {
	struct sbx_rfs_store_opts o;
	struct sbx_buf path;
};
int fcache_st_begin(struct sbx_fs *fs, struct fcache *fc, bool durable, struct fcache_st *st);
int fcache_st_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_st *st, int r,
		  const struct sbx_rfs_attr *a, const char *val);
void fcache_st_out(struct sbx_fs *fs, struct fcache *fc, struct fcache_st *st);
/* The next stores act as cred (NULL: the mount owner). 0, or -ENOMEM
 * (then nothing changed: the caller fails the open). */
int fcache_set_writer(struct fcache *fc, const struct sbx_rfs_cred *cred);
/* A request of ours is about to change the file in the sandbox (a size
 * sent there, so that its errno, e.g. EFBIG, is the sandbox's): when the
 * cache holds no unstored changes its content is forgotten (the next read
 * fetches it) and true is returned; false, and nothing changed, when it
 * does (the change must then be made locally and stored). fc->lock held. */
bool fcache_forget_clean_locked(struct sbx_fs *fs, struct fcache *fc);
/* fcache_release() from a thread that must not wait (libsbx's completion
 * thread): the last reference is given back on a thread of fs->bg, as
 * fcache_release_later() (here without one: the shell transport answers
 * on workers). */
void fcache_release_nowait(struct sbx_fs *fs, struct fcache *fc);
/* Internal to fcache*.c: stores fc's changes (fc->lock held, fc->dirty,
 * not ranged) with a STORE answered later (fcache_astore.c); done() runs
 * with fc->lock still held, on libsbx's completion thread, or here when
 * nothing was sent. False, nothing done, when it cannot be answered later
 * (the shell transport, or no memory). */
bool fcache_store_later(struct sbx_fs *fs, struct fcache *fc,
			void (*done)(struct sbx_fs *fs, struct fcache *fc, int r));
/* Internal to fcache*.c: the end of a last release (fs->lock held,
 * fc->lock let go): fc->releasing drops and, unless it is in use again,
 * fc goes idle (keep: its content may serve a later open) or is reaped
 * (fcache_reap() after). */
void fcache_settle_locked(struct sbx_fs *fs, struct fcache *fc, bool keep);
/* Internal to fcache*.c: mirrors the content state into the node
 * (fc->lock held; takes fs->lock); touched: the content changed now. */
void fcache_mirror(struct sbx_fs *fs, struct fcache *fc, bool touched);

/* A new empty file in the cache dir, unlinked; or a negative errno. */
int fcache_disk_fd(struct sbx_fs *fs);
/* Copies [off, end) of src into dst at the same offsets. 0 or -errno. */
int fcache_copy_at(int dst, int src, uint64_t off, uint64_t end);
/* fc's content is in fd now, a file of the cache dir (fc->lock held). */
void fcache_on_disk(struct sbx_fs *fs, struct fcache *fc, int fd);
/* Sets what the ranged copy of fc holds in memory (fcache_range.c) to
 * bytes, in fs->ranged_mem; when that grew, idle caches are evicted to
 * keep the sum within data_cache (the caller runs fcache_reap() after
 * releasing fs->lock) and true is returned. fs->lock held. */
bool fcache_hold_locked(struct sbx_fs *fs, struct fcache *fc, uint64_t bytes);

/* Moves a content held in memory to a file of the cache dir when it
 * is to hold more than FCACHE_MEM_MAX bytes (need; UINT64_MAX: always).
 * fc->lock held; 0 or a negative errno (the content stays where it was). */
int fcache_spill(struct sbx_fs *fs, struct fcache *fc, uint64_t need);

/* ---- attribute changes (fcache_attr.c) ---- */

/* Applies attribute changes sa (no size) of a caller acting as cred (NULL:
 * the mount owner) to the node at once, and returns 1 when they need no
 * round trip of the caller: kept for the next store while the file has
 * unstored changes, or, while a store of it is in flight and
 * fcache_after_allowed() says so, applied right after that store by its
 * thread. Else 0 and the caller applies them remotely. Never waits for a
 * store that is queued or in flight when it takes them. A change applied
 * after a store that fails there is reported like a failed write-behind
 * store (wback_failed(): EIO from the next flush or fsync of every handle
 * open then; logged, counted in store behind_errors=). */
int fcache_pend_attrs(struct sbx_fs *fs, struct fcache *fc, const struct sbx_rfs_setattr *sa,
		      const struct sbx_rfs_cred *cred);
/* fcache_pend_attrs() in two halves: _nowait takes sa when a store queued
 * or in flight will (true), else false and nothing done; _locked (fc->lock
 * held) is the rest: 1 when kept for the next store, 0 to apply now. */
bool fcache_pend_attrs_nowait(struct sbx_fs *fs, struct fcache *fc,
			      const struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *cred);
int fcache_pend_attrs_locked(struct sbx_fs *fs, struct fcache *fc,
			     const struct sbx_rfs_setattr *sa);
/* May changes sa of a caller acting as caller wait until after a store in
 * flight that acts as storer (NULL: the transport's ids; root: as root),
 * and that makes the file when creates? Only what cannot fail for the
 * file's own writer: the same credential as the store's, and times and
 * mode when that credential owns the file (it makes it) or is root, owner
 * and group only when it is root. Pure. */
bool fcache_after_allowed(const struct sbx_rfs_setattr *sa, const struct sbx_rfs_cred *caller,
			  const struct sbx_rfs_cred *storer, bool creates, bool root);
/* Adds the changes of s to d, s's winning where both set one (a time set
 * to a value and to now are one field). Pure. */
void fcache_setattr_merge(struct sbx_rfs_setattr *d, const struct sbx_rfs_setattr *s);

/* ---- a read in two halves (fcache_aread.c), fc->lock held ---- */

/* A tree listing that may bring fc's content (fcache_tree_begin). */
struct fcache_tree {
	struct sbx_buf pp, tp; /* fc's directory's path, the listed top's */
	uint64_t ep, pid, tid, own0;
};
/* A fetch of fc's content (fcache_fetch_begin). */
struct fcache_fetch {
	struct sbx_buf path; /* the file's, in the sandbox */
	uint64_t ep, gen0, hint;
};
/* The content is here and current: a read needs no round trip. */
bool fcache_ready(struct sbx_fs *fs, const struct fcache *fc);
/* true when a tree listing of ft->tp (tree entries, with small contents)
 * is due and may fill fc: make it, then fcache_tree_end(). */
bool fcache_tree_begin(struct sbx_fs *fs, struct fcache *fc, struct fcache_tree *ft);
/* Ends it with the listing's result r and tree t (taken; NULL when r <
 * 0): 1 when fc was filled from it, else 0. May run on the completion
 * thread. */
int fcache_tree_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_tree *ft, int r,
		    struct sbx_rfs_tree *t);
/* 1 when a fetch of ff->path into fc->fd is due (conditional on
 * fc->validator when fc->loaded; ff->hint: the expected size): make it,
 * then fcache_fetch_end(); 0 when nothing needs fetching; or an error. */
int fcache_fetch_begin(struct sbx_fs *fs, struct fcache *fc, struct fcache_fetch *ff);
/* Ends it with sbx_rfs_fetch()'s result and outputs: 0 or the error. May
 * run on the completion thread. */
int fcache_fetch_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_fetch *ff, int r,
		     bool unchanged, uint64_t len, const struct sbx_rfs_attr *a, const char *val);
/* Reads the whole content held (fcache_ready()) at off. */
int fcache_pread_locked(struct fcache *fc, char *buf, size_t size, uint64_t off, size_t *ret_n);
/* A read of fc with fc->lock held, its round trips made here. */
int fcache_read_locked(struct sbx_fs *fs, struct fcache *fc, char *buf, size_t size, uint64_t off,
		       size_t *ret_n);
/* A FUSE read of fc (fcache_aread.c): replied now when no round trip is
 * needed, else when the sandbox answered, from the completion thread
 * (the agent transport; the shell transport makes its round trips
 * here). Takes fc->lock itself. */
void fcache_read_req(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, size_t size,
		     uint64_t off);
/* A FUSE write of size bytes of buf at off (append: at the end) to fc,
 * answered now, or, when the file's content must come first, once it
 * came (the same round trips as a first read, fcache_read_req, holding
 * fc->lock and no thread meanwhile; buf is copied). Takes fc->lock
 * itself. */
void fcache_write_req(struct sbx_fs *fs, struct fcache *fc, fuse_req_t req, const char *buf,
		      size_t size, uint64_t off, bool append);

/* Internal to fcache*.c, all with fc->lock held: */
/* A write changed the content: pending times give way to the write's. */
void fcache_pend_drop_times(struct fcache *fc);
/* A store begins: the pending changes are added to *sa (winning over what
 * it holds), and changes from now on wait for its end. cred: whose store
 * it is (NULL: the transport's ids); creates: it makes the file; root: it
 * acts as root. */
void fcache_store_begin(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_setattr *sa,
			const struct sbx_rfs_cred *cred, bool creates, bool root);
/* The store failed (or did not begin): what it carried and what was made
 * meanwhile are pending again, for the next store. */
void fcache_store_failed(struct sbx_fs *fs, struct fcache *fc);
/* The store succeeded with answer a: the node takes it, keeping what the
 * changes made meanwhile set (they are newer). fc->plock and fs->lock
 * held. */
void fcache_store_node_locked(struct sbx_fs *fs, struct fcache *fc, const struct sbx_rfs_attr *a);
/* After a successful store: applies the changes made while it was in
 * flight, and those made while that is done, then ends it. */
void fcache_store_after(struct sbx_fs *fs, struct fcache *fc);
/* fcache_store_after() in steps, for a store answered later
 * (fcache_astore.c): _next gives the changes still to apply (true), or
 * ends the store (false); _begin readies their setattr: 1 to send (as
 * fc->attrs.st_cred, at af->path), 0 when nothing is to be done (the file
 * is gone), or a negative errno; _end takes the setattr's result r
 * (attributes a), or _begin's error. fc->lock held throughout. */
struct fcache_after {
	struct sbx_buf path;
	uint64_t gen0;
};
bool fcache_after_next(struct sbx_fs *fs, struct fcache *fc, struct sbx_rfs_setattr *sa);
int fcache_after_begin(struct sbx_fs *fs, struct fcache *fc, struct fcache_after *af);
void fcache_after_end(struct sbx_fs *fs, struct fcache *fc, struct fcache_after *af, int r,
		      const struct sbx_rfs_attr *a);
/* fc->behind or fc->dirty changed outside a store: queued follows them
 * (a store queued behind a close, not begun, with changes to store). */
void fcache_queued_sync(struct fcache *fc);

#endif
