/* bgrun.h - threads of sbxfs's own for the second halves that may wait.
 *
 * A FUSE request queued behind a file's lock (fcache_lock_or_queue in
 * fcache.h) goes on when the holder lets the lock go, and that holder may
 * be libsbx's completion thread, which must never wait: the rest of the
 * request (a write into the cache, a store sent, a setattr…) is a job
 * pushed here instead, and runs on one of these threads.
 *
 * Threads are started on demand: a job pushed when no thread is idle
 * starts one more, up to BGRUN_MAX; they stay until bgrun_free(). A job
 * may wait (a round trip made on the spot, another file's lock): it holds
 * one of these threads, never a FUSE worker, and since the pool grows
 * while its threads are busy, a job waiting for what a job still queued
 * will do does not stall the queue (short of BGRUN_MAX of them).
 *
 * Threading: bgrun_push() may be called from any thread, holding any
 * lock; it never waits. Jobs run in the order pushed when one thread is
 * free; with several, in parallel.
 */
#ifndef SBX_FS_BGRUN_H
#define SBX_FS_BGRUN_H

#define BGRUN_MAX 32

struct bgrun;

struct bgrun_job {
	struct bgrun_job *next; /* the pool's while queued */
	void (*run)(struct bgrun_job *j);
};

/* A pool with no thread yet; -ENOMEM. */
int bgrun_new(struct bgrun **ret);
/* Queues j (owned by its run(), which may free it); run() is called once,
 * on a thread of the pool. Should no thread exist and none start, j runs
 * here (out of resources: better than never). */
void bgrun_push(struct bgrun *b, struct bgrun_job *j);
/* Runs what is queued, then stops and joins the threads and frees b
 * (accepts NULL). No push may come meanwhile. */
void bgrun_free(struct bgrun *b);

#endif
