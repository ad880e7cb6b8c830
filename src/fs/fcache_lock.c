/* fcache_lock.c - a file cache's lock (fc->lock, fcache.h): held by a
 * thread, or across a round trip by a request answered later, and handed
 * to the requests queued for it in turn.
 *
 * It is a flag under a mutex (fc->hm) rather than a mutex because its
 * holder may be a request in flight, let go by whichever thread ends it.
 * A thread that needs it while another thread holds it for local work
 * waits (fc->hcv); while its holder keeps it across a round trip
 * (fc->aread, fc->held_long), a FUSE request queues instead
 * (fcache_lock_or_queue): the unlock hands the lock to the first queued,
 * whose rest runs as a job of fs->bg (bgrun.h), never on the thread that
 * let go (libsbx's completion thread, which must not wait).
 */
#include "fs/fcache.h"

#include "fs/later.h"

/* Takes fc->lock, waiting while another holds it, unless that holder is
 * a read answered later (fc->aread) and any_read, or clean_read and the
 * file had nothing to store: false then, fc->lock not taken. */
static bool take(struct fcache *fc, bool any_read, bool clean_read)
{
	bool got;

	pthread_mutex_lock(&fc->hm);
	while (fc->held && !(fc->aread && any_read) &&
	       !(clean_read && (fc->aread || fc->held_long) && fc->held_clean))
		pthread_cond_wait(&fc->hcv, &fc->hm);
	got = !fc->held;
	if (got)
		fc->held = true;
	pthread_mutex_unlock(&fc->hm);
	return got;
}

/* Whether the file has nothing to store (fc->lock held). */
static bool clean(const struct fcache *fc)
{
	return !fc->dirty && !fc->behind && !fc->err && !fc->wf && !fc->wrote;
}

void fcache_hold_long(struct fcache *fc)
{
	pthread_mutex_lock(&fc->hm);
	fc->held_long = true;
	fc->held_clean = clean(fc);
	pthread_cond_broadcast(&fc->hcv); /* those waiting for it queue instead */
	pthread_mutex_unlock(&fc->hm);
}

void fcache_aread_begin_locked(struct fcache *fc)
{
	/* a read never makes changes to store: this stays true until it ends */
	fc->held_clean = clean(fc);
	fc->aread = true;
	pthread_cond_broadcast(&fc->hcv); /* reads waiting for it queue instead */
}

bool fcache_lock_unless_clean_read(struct fcache *fc)
{
	return take(fc, false, true);
}

void fcache_lock(struct fcache *fc)
{
	take(fc, false, false);
}

void fcache_unlock(struct fcache *fc)
{
	struct fcache_lwait *w;

	pthread_mutex_lock(&fc->hm);
	fc->held_long = false;
	if ((w = fc->lq)) {
		/* handed over: held stays true */
		if (!(fc->lq = w->next))
			fc->lq_tail = &fc->lq;
	} else {
		fc->held = false;
		pthread_cond_signal(&fc->hcv);
	}
	pthread_mutex_unlock(&fc->hm);
	if (w) {
		__atomic_sub_fetch(&w->fs->stats.lock_waiting, 1, __ATOMIC_RELAXED);
		bgrun_push(w->fs->bg, &w->job);
	}
}

/* A queued request's job: its run(), then later_drain() may stop
 * waiting for it. */
static void lwait_job(struct bgrun_job *j)
{
	struct fcache_lwait *w = (struct fcache_lwait *)j;
	struct sbx_fs *fs = w->fs;

	w->run(w); /* may free w */
	later_end(fs);
}

enum fcache_lq fcache_lock_or_queue(struct sbx_fs *fs, struct fcache *fc, struct fcache_lwait *w,
				    unsigned flags)
{
	bool any_read = flags & FCACHE_LQ_ANY_READ, clean_read = flags & FCACHE_LQ_CLEAN_READ;
	enum fcache_lq q;

	if (!fs->bg)
		return take(fc, any_read, clean_read) ? FCACHE_TAKEN : FCACHE_READING;
	if (w) {
		w->fs = fs;
		later_begin(fs); /* before it can be handed over */
	}
	pthread_mutex_lock(&fc->hm);
	for (;;) {
		if (!fc->held) {
			fc->held = true;
			q = FCACHE_TAKEN;
		} else if ((fc->aread && any_read) ||
			   (clean_read && (fc->aread || fc->held_long) && fc->held_clean)) {
			q = FCACHE_READING;
		} else if (!fc->aread && !fc->held_long) {
			/* a thread holds it for its own work: not long */
			pthread_cond_wait(&fc->hcv, &fc->hm);
			continue;
		} else if (!w) {
			q = FCACHE_BUSY;
		} else {
			w->next = NULL;
			w->job.run = lwait_job;
			*fc->lq_tail = w;
			fc->lq_tail = &w->next;
			q = FCACHE_QUEUED;
		}
		break;
	}
	if (q == FCACHE_QUEUED) {
		/* under hm: counted before an unlock can hand it over */
		FS_COUNT(fs, lock_queued);
		FS_COUNT(fs, lock_waiting);
	}
	pthread_mutex_unlock(&fc->hm);
	if (w && q != FCACHE_QUEUED)
		later_end(fs);
	return q;
}
