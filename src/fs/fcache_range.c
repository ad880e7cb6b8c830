/* fcache_range.c - the ranged way of fcache.h for large files; see the
 * "Large files" part of fcache.h.
 *
 * Reads in flight write into fd on libsbx's transport thread, so fd's
 * layout must not change under them: every path that truncates fd, or
 * writes a range a read may cover, first ends the reads concerned
 * (settle). Their bytes are kept (marked valid) only when the reply names
 * the version fc holds; a reply that names a newer one (larger seq) makes
 * fc drop its ranges once no read is in flight any more (have_newer).
 *
 * A read in flight is a READ_RANGE of sbx_rfs_submit(): its done() only
 * marks it ended, under fc->hm; what it brought is taken in by the holder
 * of fc->lock (settle). A holder that must not wait (a FUSE read of the
 * agent transport: fcr_read_step with a park) parks instead (wait_for),
 * and is resumed by the done() of the last read it waits for.
 */
#include "fs/fcache_range.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/conns.h"
#include "util/log.h"
#include "util/timeutil.h"

#define ALIGN	  (64u << 10) /* a miss fetches whole aligned blocks */
#define TRIES_MAX 16	      /* fetch rounds of one read (versions racing) */

static uint64_t whole_max(const struct sbx_fs *fs)
{
	return (uint64_t)fs->opts->whole_max_kb << 10;
}

static bool same_version(const struct sbx_rfs_attr *a, const struct sbx_rfs_attr *b)
{
	return a->ino == b->ino && a->size == b->size && sbx_ts_equal(&a->mtime, &b->mtime) &&
	       sbx_ts_equal(&a->ctime, &b->ctime);
}

static int path_of(struct sbx_fs *fs, struct fcache *fc, struct sbx_buf *path)
{
	int r;

	pthread_mutex_lock(&fs->lock);
	r = node_path(fc->node, fs->root, path);
	pthread_mutex_unlock(&fs->lock);
	return r;
}

/* fd held a version that is gone: forget it, hold version a (no read may
 * be in flight). */
static void drop_ranges(struct fcache *fc, const struct sbx_rfs_attr *a)
{
	rmap_clear(&fc->valid);
	if (ftruncate(fc->fd, 0) < 0)
		sbx_debug("fcache: truncating a ranged copy: %s", strerror(errno));
	fc->ver = *a;
	fc->size = a->size;
	fc->wrote = false;
	fc->ra_win = 0;
}

/* The least an open large file may keep here: two read-ahead windows. */
#define KEEP_MIN (2 * (uint64_t)FCACHE_RA_MAX)

/* The most bytes the copies of large files hold in memory in all (and
 * one on disk holds): data_cache, but at least KEEP_MIN. */
static uint64_t keep_max(const struct sbx_fs *fs)
{
	uint64_t dc = (uint64_t)fs->opts->data_cache_mb << 20;

	return dc > KEEP_MIN ? dc : KEEP_MIN;
}

/* What fc's copy holds of the memory budget (fc->mem): its pages, but
 * at least KEEP_MIN while it is ranged, so that a copy given memory has
 * room for its read-ahead. */
static uint64_t mem_need(const struct fcache *fc)
{
	struct stat st;
	uint64_t b;

	if (!fc->mem || !fc->ranged)
		return 0;
	b = fstat(fc->fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : fc->valid.bytes;
	return b > KEEP_MIN ? b : KEEP_MIN;
}

/* Tells the budget what fc's copy holds now (fcache_hold_locked), and
 * frees the idle caches that made way for it. A copy on disk that held
 * nothing has nothing to tell: no lock on every read and write of it
 * (mem_held changes only under fc->lock while fc is open). */
static void account(struct sbx_fs *fs, struct fcache *fc)
{
	uint64_t b = mem_need(fc);
	bool grew;

	if (!b && !fc->mem_held)
		return;
	pthread_mutex_lock(&fs->lock);
	grew = fcache_hold_locked(fs, fc, b);
	pthread_mutex_unlock(&fs->lock);
	if (grew)
		fcache_reap(fs);
}

/* Moves a copy in memory to the cache dir, its valid ranges only (a
 * memfd's holes would become zeros written out). 0 or -errno (the copy
 * stays where it was). */
static int to_disk(struct sbx_fs *fs, struct fcache *fc)
{
	uint64_t pos = 0, gs, ge;
	int fd, r = 0;

	if (!fc->mem)
		return 0;
	fd = fcache_disk_fd(fs);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)fc->size) < 0)
		r = -errno;
	while (r == 0 && pos < fc->size) {
		if (!rmap_first_gap(&fc->valid, pos, fc->size, &gs, &ge))
			gs = ge = fc->size;
		r = fcache_copy_at(fd, fc->fd, pos, gs);
		pos = ge;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	fcache_on_disk(fs, fc, fd);
	account(fs, fc);
	return 0;
}

/* Where fc's copy, about to become ranged, lives: in memory while the
 * budget (keep_max) has room for KEEP_MIN more, else in the cache dir.
 * Why memory: the bytes read land in fd on the transport's thread, and a
 * pwrite into a page cache of ext4 stalled it, so that a cold read of a
 * file just written took up to twice as long as with a tmpfs cache dir.
 * fc holds nothing yet (empty: its fd may be swapped), or a whole copy
 * (it stays where it is, or moves to the disk). A failure to move keeps
 * the copy where it is (said in the log): memory, not correctness. */
static void place(struct sbx_fs *fs, struct fcache *fc, bool empty)
{
	uint64_t need = !empty && fc->size > KEEP_MIN ? fc->size : KEEP_MIN;
	bool room;
	int fd, r = 0;

	pthread_mutex_lock(&fs->lock);
	room = fs->ranged_mem - fc->mem_held + need <= keep_max(fs);
	pthread_mutex_unlock(&fs->lock);
	if (room && !fc->mem && empty) {
		fd = memfd_create("sbxfs-range", MFD_CLOEXEC);
		if (fd >= 0) {
			close(fc->fd);
			fc->fd = fd;
			fc->mem = true;
		}
	} else if (!room && fc->mem) {
		r = to_disk(fs, fc);
	}
	if (r < 0)
		sbx_log(SBX_LOG_WARN, "a large file's copy stays in memory: the cache dir: %s",
			strerror(-r));
	account(fs, fc);
}

bool fcr_use(struct sbx_fs *fs, struct fcache *fc)
{
	struct node *n = fc->node;
	bool fresh;

	if (fc->ranged)
		return true;
	if (fc->dirty || (fc->loaded && !fc->revalidate && fc->loaded_epoch == fs_epoch(fs)))
		return false;
	pthread_mutex_lock(&fs->lock);
	if (n->attr.size <= whole_max(fs)) {
		pthread_mutex_unlock(&fs->lock);
		return false;
	}
	if (fc->loaded) {
		/* a whole copy to check, of a file that is large now (grown in
		 * the sandbox): by ranges, the copy kept unless the stat of
		 * the revalidation names another version */
		pthread_mutex_unlock(&fs->lock);
		fcr_from_whole(fs, fc);
		fc->revalidate = true;
		return true;
	}
	/* the node's fresh attributes name the version; each reply checks it */
	fresh = fs_attr_fresh(fs, n) && !n->local;
	if (fresh)
		fc->ver = n->attr;
	else
		memset(&fc->ver, 0, sizeof(fc->ver));
	pthread_mutex_unlock(&fs->lock);
	rmap_clear(&fc->valid);
	if (ftruncate(fc->fd, 0) < 0)
		sbx_debug("fcache: emptying a copy: %s", strerror(errno));
	fc->ranged = true;
	fc->size = fc->ver.size;
	fc->revalidate = !fresh;
	fc->loaded_epoch = fs_epoch(fs);
	fc->wrote = false;
	fc->ra_next = fc->ra_win = 0;
	place(fs, fc, true);
	return true;
}

void fcr_from_whole(struct sbx_fs *fs, struct fcache *fc)
{
	rmap_clear(&fc->valid);
	if (fc->size && rmap_add(&fc->valid, 0, fc->size) < 0)
		rmap_clear(&fc->valid);
	fc->ranged = true;
	fc->loaded = false;
	fc->wrote = false;
	fc->ra_next = fc->ra_win = 0;
	place(fs, fc, false);
}

/* Ends read i (removed from fc->ra). Its bytes become valid when the
 * reply names the version held: 0. 1 when it names a newer version
 * (*ret_a; nothing kept), or a negative errno. */
static int finish_one(struct sbx_fs *fs, struct fcache *fc, unsigned i, struct sbx_rfs_attr *ret_a)
{
	struct fcache_ra *p = fc->rng->ra[i], ra = *p;
	struct sbx_rfs_attr a = ra.q.attr;
	uint64_t n = ra.q.len;
	int r = ra.q.rc;

	fc->rng->ra[i] = fc->rng->ra[--fc->n_ra];
	free(p);
	if (r < 0)
		return r;
	if (!ra.main)
		a.seq = 0; /* another session's stream: not comparable */
	if (a.mode && !same_version(&a, &fc->ver)) {
		if (a.seq && fc->ver.seq && a.seq < fc->ver.seq)
			return 0; /* read before the version held: not kept */
		if (!(fc->wrote && a.ino == fc->ver.ino) && fc->ver.ino) {
			*ret_a = a;
			return 1;
		}
		fc->ver = a; /* our own writes, or the first version seen */
	}
	if (n < ra.len && ra.off + n < fc->size && !fc->wrote) {
		/* the file is shorter than we thought (shell: no attributes) */
		fc->size = ra.off + n;
		rmap_cut(&fc->valid, fc->size);
		if (ftruncate(fc->fd, (off_t)fc->size) < 0)
			rmap_clear(&fc->valid);
		fcache_mirror(fs, fc, false);
	}
	if (rmap_add(&fc->valid, ra.off, ra.off + n) < 0)
		return -ENOMEM;
	return 0;
}

/* The end of a read in flight, told by its done(), on whichever thread:
 * the read parked for it resumes when it was the last one it waited for.
 * ra NULL: the revalidation's STAT (always waited for). */
static void ended(struct fcache *fc, struct fcache_ra *ra)
{
	struct fcache_park *pk = NULL;

	pthread_mutex_lock(&fc->hm);
	if (ra)
		ra->ended = true;
	if ((!ra || ra->wanted) && fc->parked && --fc->parked->pending == 0) {
		pk = fc->parked;
		fc->parked = NULL;
	}
	pthread_cond_broadcast(&fc->hcv); /* for wait_for() */
	pthread_mutex_unlock(&fc->hm);
	/* ra and fc may be gone now, unless pk holds fc->lock */
	if (pk)
		pk->resume(pk);
}

static void ra_done(struct sbx_rfs_async *q)
{
	ended(q->ud, (struct fcache_ra *)q);
}

static void stat_done(struct sbx_rfs_async *q)
{
	ended(q->ud, NULL);
}

/* Parks pk for n things in flight (fc->hm held): from now on it holds
 * fc->lock, and reads that come meanwhile queue behind it. */
static void park_locked(struct fcache *fc, struct fcache_park *pk, unsigned n)
{
	pk->pending = n;
	fc->parked = pk;
	fcache_aread_begin_locked(fc);
}

static bool overlaps(const struct fcache_ra *ra, uint64_t s, uint64_t e)
{
	return ra->off < e && ra->off + ra->len > s;
}

/* Until the reads in flight over [s, e) (all: every one) ended: waits for
 * them and returns 0. With pk, does not wait: parks pk for them and
 * returns 1, or 0 when none is in flight. */
static int wait_for(struct fcache *fc, uint64_t s, uint64_t e, bool all, struct fcache_park *pk)
{
	unsigned i, n;

	pthread_mutex_lock(&fc->hm);
	for (;;) {
		for (i = n = 0; i < fc->n_ra; i++) {
			struct fcache_ra *ra = fc->rng->ra[i];

			if (ra->ended || !(all || overlaps(ra, s, e)))
				continue;
			n++;
			ra->wanted = pk != NULL;
		}
		if (!n || pk)
			break;
		pthread_cond_wait(&fc->hcv, &fc->hm);
	}
	if (n)
		park_locked(fc, pk, n);
	pthread_mutex_unlock(&fc->hm);
	return n ? 1 : 0;
}

static bool ra_ended(struct fcache *fc, struct fcache_ra *ra)
{
	bool e;

	pthread_mutex_lock(&fc->hm);
	e = ra->ended;
	pthread_mutex_unlock(&fc->hm);
	return e;
}

/* Takes in the reads that ended over [s, e) (all: every one), waiting for
 * those in flight when wait. A newer version seen makes fc hold it, with
 * no range, once no read is in flight: with wait, at once (every read is
 * waited for); without, at a later call (have_newer stays). 0; the first
 * failure of a read; or, without wait, -EINPROGRESS while a read over
 * [s, e) is in flight or have_newer holds. */
static int settle(struct sbx_fs *fs, struct fcache *fc, uint64_t s, uint64_t e, bool all, bool wait)
{
	struct sbx_rfs_attr a;
	bool every, busy;
	unsigned i;
	int r, first = 0;

	do {
		every = all || fc->have_newer;
		if (wait)
			wait_for(fc, s, e, every, NULL);
		busy = false;
		for (i = 0; i < fc->n_ra;) {
			struct fcache_ra *ra = fc->rng->ra[i];

			if (!every && !overlaps(ra, s, e)) {
				i++;
				continue;
			}
			if (!ra_ended(fc, ra)) {
				busy = true;
				i++;
				continue;
			}
			r = finish_one(fs, fc, i, &a); /* the last one moved to i */
			if (r == 1 && (!fc->have_newer || a.seq >= fc->rng->newer.seq)) {
				fc->rng->newer = a;
				fc->have_newer = true;
			}
			if (r < 0 && !first)
				first = r;
		}
		/* every read must end before fd is emptied */
	} while (wait && every != (all || fc->have_newer));
	if (fc->have_newer && fc->n_ra == 0) {
		uint64_t gen;

		fc->have_newer = false;
		drop_ranges(fc, &fc->rng->newer);
		pthread_mutex_lock(&fs->lock);
		gen = fc->node->gen;
		fs_node_set_attr(fs, fc->node, &fc->rng->newer, gen);
		pthread_mutex_unlock(&fs->lock);
		fcache_mirror(fs, fc, false);
	}
	if (first)
		return first;
	return busy || fc->have_newer ? -EINPROGRESS : 0;
}

/* The end of the read in flight that holds pos, or 0; *next: the start
 * of the first one after pos (UINT64_MAX when none). */
static uint64_t in_flight(const struct fcache *fc, uint64_t pos, uint64_t *next)
{
	unsigned i;

	*next = UINT64_MAX;
	for (i = 0; i < fc->n_ra; i++) {
		const struct fcache_ra *ra = fc->rng->ra[i];

		if (ra->off <= pos && pos < ra->off + ra->len)
			return ra->off + ra->len;
		if (ra->off > pos && ra->off < *next)
			*next = ra->off;
	}
	return 0;
}

/* The session of the next read: any of them while no write of ours is
 * unanswered, else the main one (the only one ordered after the writes).
 * A bulk read asks for the sessions of max_conns (conns.h). */
static struct sbx_rfs *data_rfs(struct sbx_fs *fs, struct fcache *fc)
{
	if (fc->ra_win >= FCACHE_RA_MAX / 4)
		conns_want(fs);
	return conns_pick(fs, fc->dirty);
}

/* Starts reads for what of [s, e) is neither valid nor in flight, in
 * chunks, while slots last (one that cannot be sent ends failed). ahead:
 * [s, e) is read-ahead, whose end moves on with each read: a piece that
 * ends there, short of the file's end, waits until it is a chunk or half
 * the window (a reader of 128 KiB pieces made a request of each once the
 * window was full: 370 for 256 MiB instead of 256). */
static int issue(struct sbx_fs *fs, struct fcache *fc, const char *path, uint64_t s, uint64_t e,
		 bool ahead)
{
	uint64_t gs, ge, pos = s, end, next;
	struct fcache_ra *ra;
	struct sbx_rfs *rfs;
	/* the shell transport reads one range per exec, in turn: fewer,
	 * larger ones */
	uint64_t chunk =
	    strcmp(sbx_rfs_transport_name(fs->rfs), "agent") ? FCACHE_RA_MAX : FCACHE_RA_CHUNK;

	if (e > fc->size)
		e = fc->size;
	while (pos < e && fc->n_ra < FCACHE_RA_SLOTS &&
	       rmap_first_gap(&fc->valid, pos, e, &gs, &ge)) {
		pos = gs;
		end = in_flight(fc, pos, &next);
		if (end) {
			pos = end;
			continue;
		}
		end = ge;
		if (end > next)
			end = next;
		if (end - pos > chunk)
			end = pos + chunk;
		if (ahead && end == e && e < fc->size &&
		    end - pos < (fc->ra_win / 2 < chunk ? fc->ra_win / 2 : chunk))
			break;
		if (!fc->rng && !(fc->rng = calloc(1, sizeof(*fc->rng))))
			return -ENOMEM;
		if (!(ra = calloc(1, sizeof(*ra))))
			return -ENOMEM;
		rfs = data_rfs(fs, fc);
		ra->main = rfs == fs->rfs;
		ra->off = pos;
		ra->len = end - pos;
		ra->q.op = SBX_RFS_OP_READ_RANGE;
		ra->q.path = path;
		ra->q.fd = fc->fd;
		ra->q.off = ra->q.fd_off = pos;
		ra->q.count = ra->len;
		ra->q.done = ra_done;
		ra->q.ud = fc;
		fc->rng->ra[fc->n_ra++] = ra; /* first: done() may run before submit returns */
		sbx_rfs_submit(rfs, &ra->q);
		pos = end;
	}
	return 0;
}

/* Takes in the revalidation's stat (r, a): the copy is kept when a names
 * the version held. */
static int reval_end(struct sbx_fs *fs, struct fcache *fc, struct fcr_rd *rd, int r,
		     const struct sbx_rfs_attr *a)
{
	if (r == -ESTALE)
		return 0; /* unlinked while open: what we have is the file */
	if (r < 0)
		return r;
	if (same_version(a, &fc->ver))
		FS_COUNT(fs, data_revalidated);
	else if (fc->wrote && a->ino == fc->ver.ino)
		fc->ver = *a; /* the change is ours */
	else
		drop_ranges(fc, a);
	fc->revalidate = false;
	fc->loaded_epoch = rd->ep;
	if (!fc->wrote) {
		pthread_mutex_lock(&fs->lock);
		fs_node_set_attr(fs, fc->node, a, rd->gen0);
		pthread_mutex_unlock(&fs->lock);
	}
	fcache_mirror(fs, fc, false);
	return 0;
}

/* Checks the remote version after an open or a cache drop (a stat),
 * every read in flight ended first. 0, an error, or 1 when pk was parked
 * (for those reads, or for the stat: rd->stat_sent). */
static int revalidate(struct sbx_fs *fs, struct fcache *fc, struct fcr_rd *rd,
		      struct fcache_park *pk)
{
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_attr a;
	int r;

	if (rd->stat_sent) {
		rd->stat_sent = false;
		return reval_end(fs, fc, rd, rd->st.rc, &rd->st.attr);
	}
	rd->ep = fs_epoch(fs);
	if (!fc->revalidate && fc->loaded_epoch == rd->ep)
		return 0;
	if (wait_for(fc, 0, UINT64_MAX, true, pk))
		return 1;
	settle(fs, fc, 0, UINT64_MAX, true, false);
	pthread_mutex_lock(&fs->lock);
	rd->gen0 = fc->node->gen;
	pthread_mutex_unlock(&fs->lock);
	r = path_of(fs, fc, &path) ?: fs_check_alive(fs);
	if (r == 0 && pk && sbx_rfs_submits_async(fs->rfs)) {
		memset(&rd->st, 0, sizeof(rd->st));
		rd->st.op = SBX_RFS_OP_STAT;
		rd->st.path = path.data;
		rd->st.done = stat_done;
		rd->st.ud = fc;
		rd->stat_sent = true;
		pthread_mutex_lock(&fc->hm);
		park_locked(fc, pk, 1);
		pthread_mutex_unlock(&fc->hm);
		sbx_rfs_submit(fs->rfs, &rd->st); /* pk may resume before it returns */
		sbx_buf_release(&path);
		return 1;
	}
	r = r ?: sbx_rfs_stat(fs->rfs, path.data, &a, NULL);
	sbx_buf_release(&path);
	return reval_end(fs, fc, rd, r, &a);
}

/* revalidate(), its round trip made here. */
static int revalidate_here(struct sbx_fs *fs, struct fcache *fc)
{
	struct fcr_rd rd = {0};

	return revalidate(fs, fc, &rd, NULL);
}

/* Is a read at off the continuation of the last one? Reads may come a
 * little out of order (the kernel's own read-ahead is asynchronous). */
static bool sequential(const struct fcache *fc, uint64_t off, size_t size)
{
	if (off == 0)
		return true;
	return fc->ra_next && off <= fc->ra_next + FCACHE_RA_CHUNK &&
	       off + size + FCACHE_RA_CHUNK >= fc->ra_next;
}

/* Brings [rd->off, rd->end) into fd, and starts read-ahead up to
 * rd->ra_end: 0 or an error; with pk, 1 when parked (fcr_read_step). */
static int fetch(struct sbx_fs *fs, struct fcache *fc, struct fcr_rd *rd, struct fcache_park *pk)
{
	struct sbx_buf path = SBX_BUF_INIT;
	uint64_t s = rd->off / ALIGN * ALIGN, e = (rd->end + ALIGN - 1) / ALIGN * ALIGN;
	int r;

	for (;;) {
		/* what ended is taken in: a failure of the demand's reads is
		 * this read's, one of read-ahead's only a range not held */
		r = settle(fs, fc, rd->off, rd->end, false, false);
		settle(fs, fc, 0, UINT64_MAX, true, false);
		if (r < 0 && r != -EINPROGRESS)
			break;
		r = 0;
		if (fc->have_newer) { /* every read ends before the ranges go */
			if (wait_for(fc, 0, UINT64_MAX, true, pk))
				goto parked;
			continue;
		}
		if (rd->end > fc->size)
			rd->end = fc->size;
		if (rd->off >= fc->size || rmap_covers(&fc->valid, rd->off, rd->end))
			break;
		if (++rd->tries > TRIES_MAX) {
			r = -EIO;
			break;
		}
		rd->miss = true;
		if (!path.data && (r = path_of(fs, fc, &path)) < 0)
			break;
		if (fc->n_ra == FCACHE_RA_SLOTS) { /* room for the demand */
			if (wait_for(fc, 0, UINT64_MAX, true, pk))
				goto parked;
			continue;
		}
		r = issue(fs, fc, path.data, s, e, false)
			?: issue(fs, fc, path.data, e, rd->ra_end, true);
		if (r < 0)
			break;
		if (wait_for(fc, rd->off, rd->end, false, pk))
			goto parked;
	}
	if (r == 0 && rd->ra_end > rd->end && fc->n_ra < FCACHE_RA_SLOTS / 2) {
		if (!path.data)
			r = path_of(fs, fc, &path);
		/* keep the pipe full */
		r = r ?: issue(fs, fc, path.data, rd->end, rd->ra_end, true);
	}
	sbx_buf_release(&path);
	if (rd->miss)
		FS_COUNT(fs, data_miss);
	else
		FS_COUNT(fs, data_hit);
	return r == -ESTALE ? -EIO : r;
parked: /* rd and fc are pk's now */
	sbx_buf_release(&path);
	return 1;
}

/* The most bytes fc's copy keeps: keep_max() on disk; in memory, what
 * the other copies in memory leave of it, but at least KEEP_MIN. */
static uint64_t keep_of(struct sbx_fs *fs, const struct fcache *fc)
{
	uint64_t others, max = keep_max(fs);

	if (!fc->mem)
		return max;
	pthread_mutex_lock(&fs->lock);
	others = fs->ranged_mem - fc->mem_held;
	pthread_mutex_unlock(&fs->lock);
	return others + KEEP_MIN < max ? max - others : KEEP_MIN;
}

/* Lets go of what of fc's copy lies below lo (a multiple of ALIGN),
 * bytes and ranges, once the reads in flight there ended (they write into
 * fd): false when one failed (nothing is let go then). The sandbox has
 * those bytes (our writes to them were sent before, and a read after them
 * is ordered on the main session): a later read fetches them again. */
static bool cut_below(struct sbx_fs *fs, struct fcache *fc, uint64_t lo)
{
	uint64_t b0 = fc->valid.bytes;

	if (settle(fs, fc, 0, lo, false, false) != 0)
		return false;
	/* nothing valid there: nothing to punch (a reader in order calls
	 * this at every read) */
	if (fc->valid.n && fc->valid.r[0].start < lo &&
	    fallocate(fc->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)lo) == 0)
		rmap_trim_below(&fc->valid, lo);
	if (fc->valid.bytes < b0)
		FS_ADD(fs, data_trimmed, b0 - fc->valid.bytes);
	return true;
}

/* Lets go of what of fc's copy lies further than keep / 2 from pos, as
 * cut_below does, on each side once no read is in flight there (a later
 * call cuts what this one could not: nothing here waits). Without this, a
 * 10 GiB file read or written through took 10 GiB of cache_dir, which is
 * memory where /tmp is a tmpfs. A failure leaves that side as it was. */
static void cut_far(struct sbx_fs *fs, struct fcache *fc, uint64_t pos, uint64_t keep)
{
	uint64_t lo = 0, hi = UINT64_MAX, b0;

	if (pos > keep / 2)
		lo = (pos - keep / 2) / ALIGN * ALIGN;
	if (pos < UINT64_MAX - keep)
		hi = (pos + keep / 2 + ALIGN - 1) / ALIGN * ALIGN;
	if (lo)
		cut_below(fs, fc, lo);
	if (hi >= fc->size || settle(fs, fc, hi, UINT64_MAX, false, false) != 0)
		return;
	b0 = fc->valid.bytes;
	if (fallocate(fc->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)hi,
		      (off_t)(fc->size - hi)) == 0)
		rmap_cut(&fc->valid, hi);
	if (fc->valid.bytes < b0)
		FS_ADD(fs, data_trimmed, b0 - fc->valid.bytes);
}

/* Keeps the local copy of an open large file within keep_of() around
 * pos (the offset just read or written), then tells the memory budget
 * what it holds. A reader going through the file in order (behind)
 * leaves only FCACHE_RA_MAX behind it: the kernel's page cache holds what
 * it read, for this open and (fcache_kernel_keeps) the next ones. Keeping
 * a second copy of every byte here cost a cold read of 256 MiB twice its
 * time in the benchmark: each byte landed on a page the machine had to
 * find first, where a window of pages let go and taken again is reused
 * warm. */
static void trim(struct sbx_fs *fs, struct fcache *fc, uint64_t pos, bool behind)
{
	uint64_t keep = keep_of(fs, fc);

	if (behind && pos > FCACHE_RA_MAX + ALIGN)
		cut_below(fs, fc, (pos - FCACHE_RA_MAX) / ALIGN * ALIGN);
	if (fc->valid.bytes > keep)
		cut_far(fs, fc, pos, keep);
	account(fs, fc);
}

void fcr_read_init(struct fcache *fc, struct fcr_rd *rd, size_t size, uint64_t off)
{
	memset(rd, 0, sizeof(*rd));
	rd->size = size;
	rd->off = off;
	rd->seq = sequential(fc, off, size);
}

int fcr_read_step(struct sbx_fs *fs, struct fcache *fc, struct fcr_rd *rd, struct fcache_park *pk)
{
	int r;

	if (!rd->begun) {
		r = revalidate(fs, fc, rd, pk);
		if (r != 0)
			return r;
		rd->begun = true;
		if (rd->off >= fc->size) {
			rd->end = rd->off;
			return 0;
		}
		rd->end = rd->off + rd->size < fc->size ? rd->off + rd->size : fc->size;
		if (rd->seq)
			fc->ra_win = fc->ra_win ? fc->ra_win * 2 : FCACHE_RA_MIN;
		else
			fc->ra_win = 0;
		if (fc->ra_win > FCACHE_RA_MAX)
			fc->ra_win = FCACHE_RA_MAX;
		if (!rd->seq || rd->end > fc->ra_next)
			fc->ra_next = rd->end;
		rd->ra_end = rd->end + fc->ra_win;
	}
	if (rd->off >= fc->size)
		return 0;
	return fetch(fs, fc, rd, pk);
}

int fcr_read_copy(struct sbx_fs *fs, struct fcache *fc, struct fcr_rd *rd, char *buf, size_t *ret_n)
{
	uint64_t off = rd->off, end = rd->end < fc->size ? rd->end : fc->size;
	size_t done = 0;
	int r = 0;

	*ret_n = 0;
	if (off >= end)
		return 0;
	while (off + done < end) {
		ssize_t n = pread(fc->fd, buf + done, end - off - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	/* a hole at the end of the local copy reads as zeros: it is valid */
	if (r == 0 && off + done < end) {
		memset(buf + done, 0, end - off - done);
		done = end - off;
	}
	if (r == 0)
		trim(fs, fc, off, rd->seq);
	*ret_n = done;
	return r;
}

int fcr_read(struct sbx_fs *fs, struct fcache *fc, char *buf, size_t size, uint64_t off,
	     size_t *ret_n)
{
	struct fcr_rd rd;
	int r;

	*ret_n = 0;
	fcr_read_init(fc, &rd, size, off);
	r = fcr_read_step(fs, fc, &rd, NULL);
	return r ?: fcr_read_copy(fs, fc, &rd, buf, ret_n);
}

/* The transport cannot write in place: fetch every missing range, and go
 * the whole-file way. */
static int to_whole(struct sbx_fs *fs, struct fcache *fc)
{
	uint64_t gs, ge;
	int r = settle(fs, fc, 0, UINT64_MAX, true, true);

	/* the whole file in memory only if small: it is not a range copy any more */
	if (r == 0 && fc->size > FCACHE_MEM_MAX)
		r = to_disk(fs, fc);
	while (r == 0 && rmap_first_gap(&fc->valid, 0, fc->size, &gs, &ge)) {
		struct fcr_rd rd = {.off = gs,
				    .end = ge < gs + SBX_RFS_READ_MAX ? ge : gs + SBX_RFS_READ_MAX};

		r = fetch(fs, fc, &rd, NULL);
	}
	if (r < 0)
		return r;
	if (ftruncate(fc->fd, (off_t)fc->size) < 0)
		return -errno;
	rmap_clear(&fc->valid);
	fc->ranged = false;
	fc->loaded = true;
	fc->revalidate = false;
	fc->validator[0] = '\0';
	account(fs, fc);
	return 1;
}

/* pwrite all of buf at off. */
static int put_at(int fd, const char *buf, size_t size, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = pwrite(fd, buf + done, size - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int fcr_write(struct sbx_fs *fs, struct fcache *fc, const char *buf, size_t size, uint64_t off,
	      bool append)
{
	struct sbx_buf path = SBX_BUF_INIT;
	int r;

	r = revalidate_here(fs, fc);
	if (append)
		off = fc->size;
	r = r ?: settle(fs, fc, off, off + size, false, true);
	if (r == 0 && !fc->wf) {
		r = path_of(fs, fc, &path) ?: fs_check_alive(fs)
			?: sbx_rfs_wfile_open(fs->rfs, path.data, &fc->wf, NULL);
		sbx_buf_release(&path);
		if (r == -ENOTSUP)
			return to_whole(fs, fc);
	}
	if (r < 0)
		return r == -ESTALE ? -EIO : r;
	r = sbx_rfs_wfile_write(fc->wf, buf, size, off);
	if (r < 0) {
		/* reported now, once: the next write opens the file again */
		sbx_rfs_wfile_close(fc->wf, NULL);
		fc->wf = NULL;
		FS_COUNT(fs, store_errors);
		return r;
	}
	/* Bytes past the end are not copied into fd: nothing there is valid,
	 * the kernel's page cache has them for readers here, and a read that
	 * misses them fetches them back (on the main session while fc is
	 * dirty, so after this write). Copying them cost a third of sbxfs's
	 * CPU time in a 256 MiB write (perf). Bytes that replace part of the
	 * file must go into fd, which may hold the old ones. */
	if (off < fc->size && put_at(fc->fd, buf, size, off) < 0)
		rmap_clear(&fc->valid); /* the sandbox has it; fetch it back */
	else if (off < fc->size && rmap_add(&fc->valid, off, off + size) < 0)
		rmap_clear(&fc->valid);
	if (off + size > fc->size)
		fc->size = off + size;
	fc->wrote = true;
	fc->undurable = true;
	fc->dirty = true;
	trim(fs, fc, off, false);
	fcache_mirror(fs, fc, true);
	return 0;
}

int fcr_truncate(struct sbx_fs *fs, struct fcache *fc, uint64_t size)
{
	struct sbx_rfs_setattr sa = {.valid = SBX_RFS_SET_SIZE, .size = size};
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_attr a;
	int r;

	r = revalidate_here(fs, fc) ?: settle(fs, fc, 0, UINT64_MAX, true, true);
	r = r ?: path_of(fs, fc, &path) ?: fs_check_alive(fs)
		?: sbx_rfs_setattr(fs->rfs, fc->writer, path.data, &sa, &a, NULL);
	sbx_buf_release(&path);
	if (r < 0)
		return r;
	if (ftruncate(fc->fd, (off_t)size) < 0)
		rmap_clear(&fc->valid);
	else if (size < fc->size)
		rmap_cut(&fc->valid, size);
	else if (rmap_add(&fc->valid, fc->size, size) < 0)
		rmap_clear(&fc->valid);
	fc->size = size;
	fc->ver = a; /* the sandbox applied it after every write sent before */
	fcache_mirror(fs, fc, true);
	account(fs, fc);
	return 0;
}

/* The write handle's part of fcr_sync(): every write answered (durable:
 * and an FSYNC of them); a handle that failed is closed. */
static int wf_sync(struct sbx_fs *fs, struct fcache *fc, bool durable)
{
	int r = 0;

	if (fc->wf) {
		r = sbx_rfs_wfile_sync(fc->wf, durable, NULL);
		if (r == 0 && durable)
			fc->undurable = false;
		if (r < 0) {
			sbx_rfs_wfile_close(fc->wf, NULL);
			fc->wf = NULL;
			FS_COUNT(fs, store_errors);
		}
	}
	fc->dirty = false;
	return r;
}

/* The end of fcr_sync(), the handle synced with result r: a the stat
 * made after it (NULL: none; the node's generation was gen0 when sent). */
static int sync_done(struct sbx_fs *fs, struct fcache *fc, int r, const struct sbx_rfs_attr *a,
		     uint64_t gen0)
{
	/* the version our writes made: later changes by others are told from it */
	if (r == 0 && a) {
		fc->ver = *a;
		fc->wrote = false;
	}
	fcache_mirror(fs, fc, false);
	/* Until now the node's size and times were our own (fcache_mirror),
	 * with the sequence number of an older answer. A change report of one
	 * of our earlier writes, still to be applied, would then win over them
	 * once the node is clean: the size from before a later write, until
	 * the next report. The answer above came after every write was done,
	 * and its sequence number says so to those reports. */
	if (r == 0 && a) {
		pthread_mutex_lock(&fs->lock);
		fs_node_set_attr(fs, fc->node, a, gen0);
		pthread_mutex_unlock(&fs->lock);
	}
	return r;
}

static uint64_t gen_of(struct sbx_fs *fs, struct fcache *fc)
{
	uint64_t gen;

	pthread_mutex_lock(&fs->lock);
	gen = fc->node->gen;
	pthread_mutex_unlock(&fs->lock);
	return gen;
}

int fcr_sync(struct sbx_fs *fs, struct fcache *fc, bool durable)
{
	struct sbx_buf path = SBX_BUF_INIT;
	struct sbx_rfs_attr a;
	bool known = false;
	uint64_t gen0;
	int r = wf_sync(fs, fc, durable);

	gen0 = gen_of(fs, fc);
	if (r == 0 && fc->wrote && path_of(fs, fc, &path) == 0 &&
	    sbx_rfs_stat(fs->rfs, path.data, &a, NULL) == 0)
		known = true;
	sbx_buf_release(&path);
	return sync_done(fs, fc, r, known ? &a : NULL, gen0);
}

int fcr_sync_begin(struct sbx_fs *fs, struct fcache *fc, bool durable, struct sbx_buf *path,
		   uint64_t *gen0)
{
	if (!fc->wf || (!durable && !fc->wrote) || path_of(fs, fc, path) < 0)
		return fcr_sync(fs, fc, durable);
	*gen0 = gen_of(fs, fc);
	return 1;
}

int fcr_fsync_end(struct sbx_fs *fs, struct fcache *fc, int r, const struct sbx_rfs_attr *a,
		  uint64_t gen0)
{
	/* the FSYNC went behind every write: their answers are here */
	int rw = wf_sync(fs, fc, false);

	r = rw ?: r;
	if (r < 0 && fc->wf) {
		/* the FSYNC failed: the handle goes, as after a failed write */
		sbx_rfs_wfile_close(fc->wf, NULL);
		fc->wf = NULL;
		FS_COUNT(fs, store_errors);
	}
	if (r == 0)
		fc->undurable = false;
	return sync_done(fs, fc, r, fc->wrote && a->mode ? a : NULL, gen0);
}

int fcr_close_end(struct sbx_fs *fs, struct fcache *fc, int r, const struct sbx_rfs_attr *a,
		  uint64_t gen0)
{
	/* the stat was sent after every write and answered after them: the
	 * handle's sync waits for nothing now */
	int rw = wf_sync(fs, fc, false);

	return sync_done(fs, fc, rw, rw == 0 && r == 0 ? a : NULL, gen0);
}

int fcr_quiesce(struct sbx_fs *fs, struct fcache *fc)
{
	int r;

	settle(fs, fc, 0, UINT64_MAX, true, true);
	r = fcr_sync(fs, fc, false);
	if (fc->wf) {
		int r2 = sbx_rfs_wfile_close(fc->wf, NULL);

		r = r ?: r2;
		fc->wf = NULL;
	}
	return r;
}

int fcr_leave(struct sbx_fs *fs, struct fcache *fc)
{
	int r = fcr_quiesce(fs, fc);

	rmap_clear(&fc->valid);
	if (ftruncate(fc->fd, 0) < 0)
		sbx_debug("fcache: emptying a copy: %s", strerror(errno));
	fc->ranged = false;
	fc->wrote = false;
	account(fs, fc);
	return r;
}
