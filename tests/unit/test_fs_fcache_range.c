/* test_fs_fcache_range.c - the ranged cache of a large file
 * (src/fs/fcache_range.c) against change reports (src/fs/changes.c), over
 * an offline agent session (agent_dec.h): the replies fed here are what
 * sbx-agent would send.
 *
 * A large file is written through: while it has unsynced writes, its size
 * and times are the driver's own and change reports leave them alone.
 * Reports of those writes can still be waiting to be applied when the
 * close's sync makes the node clean. One taken between two writes that
 * grew the file has the older size; applied after the sync it made
 * `stat` after `close` show that size (t_mount.sh "random-offset and
 * sparse writes", once in a CI run).
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/changes.h"
#include "fs/fcache.h"
#include "fs/fcache_range.h"
#include "fs/fs.h"
#include "fs/node.h"
#include "fs/opts.h"
#include "lib/rfs/agent_dec.h"
#include "lib/rfs/agent_int.h"
#include "lib/rfs/call.h"
#include "lib/rfs/transport.h"

#define OLD_SIZE 50000000ull
#define NEW_SIZE 60000004ull

struct fx {
	struct sbx_fs fs;
	struct sbxfs_opts o;
	struct sbx_rfs r;
	struct rfs_agent *a;
	struct node *n;	   /* /big.bin */
	struct fcache *fc; /* its cache, one handle open, ranged */
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->o.attr_timeout = 60;
	f->o.entry_timeout = 60;
	f->o.watch_timeout = 300;
	f->fs.opts = &f->o;
	f->fs.root = "";
	f->fs.watching = true;
	pthread_mutex_init(&f->fs.lock, NULL);
	ck_assert_int_eq(node_table_init(&f->fs.nodes), 0);
	f->fs.nodes.root->watched = true;

	f->r.op_timeout_s = 10;
	f->r.tp = &rfs_agent_transport;
	pthread_mutex_init(&f->r.lock, NULL);
	ck_assert_int_eq(rfs_agent_offline(&f->r, &f->a), 0);
	f->r.agent = f->a;
	f->fs.rfs = &f->r;

	f->n = node_new_child(&f->fs.nodes, f->fs.nodes.root, "big.bin");
	ck_assert_ptr_nonnull(f->n);
	f->n->attr.mode = S_IFREG | 0644;
	f->n->attr.nlink = 1;
	f->n->attr.ino = 7;
	f->n->attr.size = OLD_SIZE;
	f->n->attr.seq = 5; /* its lookup's answer */
	f->n->attr_expire = fs_expiry(60);

	f->fc = calloc(1, sizeof(*f->fc));
	ck_assert_ptr_nonnull(f->fc);
	f->fc->node = f->n;
	f->fc->refs = 1;
	f->fc->fd = memfd_create("big", MFD_CLOEXEC);
	ck_assert_int_ge(f->fc->fd, 0);
	pthread_mutex_init(&f->fc->hm, NULL);
	pthread_cond_init(&f->fc->hcv, NULL);
	f->fc->held = true; /* the test's thread is the holder */
	f->fc->ranged = true;
	f->fc->size = OLD_SIZE;
	f->fc->ver = f->n->attr;
	f->n->fc = f->fc;
}

static void fx_end(struct fx *f)
{
	rfs_agent_offline_end(f->a);
	rfs_agent_free(f->a);
	pthread_mutex_destroy(&f->r.lock);
	f->n->fc = NULL;
	ck_assert_uint_eq(f->fc->n_ra, 0);
	rmap_release(&f->fc->valid);
	close(f->fc->fd);
	pthread_mutex_destroy(&f->fc->hm);
	pthread_cond_destroy(&f->fc->hcv);
	free(f->fc->rng);
	free(f->fc);
	node_table_release(&f->fs.nodes);
	pthread_mutex_destroy(&f->fs.lock);
}

/* What fcr_write leaves after a write the sandbox took that ended at end. */
static void wrote(struct fx *f, uint64_t end)
{
	if (end > f->fc->size)
		f->fc->size = end;
	f->fc->wrote = f->fc->dirty = true;
	fcache_mirror(&f->fs, f->fc, true);
}

/* The agent's report of /big.bin, received at stream position seq. */
static void report(struct fx *f, uint64_t size, uint64_t seq)
{
	struct fs_change ch = {.dir = "", .name = "big.bin", .mask = SBX_RFS_CH_DATA, .seq = seq};

	ch.has_attr = true;
	ch.attr = f->n->attr;
	ch.attr.size = size;
	ch.attr.mtime.tv_sec = (time_t)seq;
	ch.attr.seq = seq;
	fs_apply_change(&f->fs, &ch);
}

struct syncer {
	struct fx *f;
	int rc;
};

static void *sync_main(void *arg)
{
	struct syncer *s = arg;

	s->rc = fcr_sync(&s->f->fs, s->f->fc, false);
	return NULL;
}

/* Waits (at most 10 s) until a request is in flight on the session. */
static void wait_request(struct fx *f)
{
	bool sent = false;
	int i;

	for (i = 0; i < 10000 && !sent; i++) {
		pthread_mutex_lock(&f->a->m);
		sent = f->a->reqs != NULL;
		pthread_mutex_unlock(&f->a->m);
		if (!sent)
			usleep(1000);
	}
	ck_assert(sent);
}

/* Feeds the LSTAT reply of request id: a regular file of size. */
static void stat_reply(struct fx *f, uint32_t id, uint64_t size)
{
	struct sbxa_w w = {0};
	struct sbxa_attr a = {.mode = S_IFREG | 0644, .nlink = 1, .size = size, .ino = 7};
	size_t at = sbxa_frame_begin(&w, id, SBXA_REPLY | SBXA_OP_LSTAT, 0);

	a.mtime.sec = 900;
	sbxa_put_i32(&w, 0);
	sbxa_put_attr(&w, &a);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f->a, w.p, w.len), 0);
	sbxa_w_release(&w);
}

START_TEST(reports_of_our_writes_do_not_undo_the_sync)
{
	struct syncer s = {.rc = 1};
	uint64_t synced;
	pthread_t th;
	struct fx f;

	fx_init(&f);
	s.f = &f;
	wrote(&f, 10000003); /* pwrite at 10 MB: the size stays */
	wrote(&f, NEW_SIZE); /* pwrite at 60 MB: past the end */
	/* while unsynced, a report of the first write changes nothing */
	report(&f, OLD_SIZE, 8);
	ck_assert_uint_eq(f.n->attr.size, NEW_SIZE);

	pthread_mutex_lock(&f.a->m);
	f.a->seq = 10; /* frames received so far, reports among them */
	pthread_mutex_unlock(&f.a->m);
	ck_assert_int_eq(pthread_create(&th, NULL, sync_main, &s), 0);
	wait_request(&f);
	stat_reply(&f, 1, NEW_SIZE);
	pthread_join(th, NULL);
	ck_assert_int_eq(s.rc, 0);
	ck_assert(!f.fc->dirty && !f.fc->wrote);
	ck_assert(!f.n->local_dirty);
	synced = f.n->attr.seq;
	ck_assert_uint_eq(f.n->attr.size, NEW_SIZE);
	ck_assert_int_eq(f.n->attr.mtime.tv_sec, 900); /* the sandbox's */

	/* a report received before that answer (the first write's, taken
	 * between the two) is applied only now: it is older */
	report(&f, OLD_SIZE, 9);
	ck_assert_uint_eq(f.n->attr.size, NEW_SIZE);
	ck_assert_uint_eq(f.n->attr.seq, synced);
	ck_assert_uint_eq(synced, 11); /* the answer's place in the stream */
	/* one received after it is newer truth: another writer's */
	report(&f, 42, 12);
	ck_assert_uint_eq(f.n->attr.size, 42);
	fx_end(&f);
}
END_TEST

/* ---- a read that parks for its ranged reads ---- */

struct parked {
	struct fcache_park pk; /* first */
	pthread_mutex_t m;
	pthread_cond_t cv;
	int resumed; /* m */
	pthread_t thr; /* m: where the last resume ran */
};

static void on_resume(struct fcache_park *pk)
{
	struct parked *p = (struct parked *)pk;

	pthread_mutex_lock(&p->m);
	p->resumed++;
	p->thr = pthread_self();
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->m);
}

static void parked_init(struct parked *p)
{
	memset(p, 0, sizeof(*p));
	p->pk.resume = on_resume;
	pthread_mutex_init(&p->m, NULL);
	pthread_cond_init(&p->cv, NULL);
}

/* Waits (at most 10 s) until the read resumed n times; how many it did. */
static int wait_resumed(struct parked *p, int n)
{
	struct timespec ts;
	int got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&p->m);
	while (p->resumed < n && pthread_cond_timedwait(&p->cv, &p->m, &ts) == 0)
		;
	got = p->resumed;
	pthread_mutex_unlock(&p->m);
	return got;
}

/* Feeds the READ reply of request id: the version (ino, size), then len
 * bytes, each (off + i) % 251 (what the file holds at off + i). */
static void read_reply(struct fx *f, uint32_t id, uint64_t ino, uint64_t size, uint64_t off,
		       size_t len)
{
	struct sbxa_attr a = {.mode = S_IFREG | 0644, .nlink = 1, .size = size, .ino = ino};
	struct sbxa_w w = {0};
	size_t at = sbxa_frame_begin(&w, id, SBXA_REPLY | SBXA_OP_READ, 0);
	uint8_t *dst;
	size_t i;

	sbxa_put_i32(&w, 0);
	sbxa_put_attr(&w, &a);
	sbxa_put_u32(&w, 0);
	dst = sbxa_w_room(&w, len);
	ck_assert_ptr_nonnull(dst);
	for (i = 0; i < len; i++)
		dst[i] = (uint8_t)((off + i) % 251);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f->a, w.p, w.len), 0);
	sbxa_w_release(&w);
}

/* fcr_read_copy of rd holds the file's bytes (read_reply's). */
static void copy_is_file(struct fx *f, struct fcr_rd *rd)
{
	char buf[4096];
	size_t n = 0, i;

	ck_assert_uint_le(rd->size, sizeof(buf));
	ck_assert_int_eq(fcr_read_copy(&f->fs, f->fc, rd, buf, &n), 0);
	ck_assert_uint_eq(n, rd->size);
	for (i = 0; i < n; i++)
		ck_assert_int_eq((uint8_t)buf[i], (rd->off + i) % 251);
}

/* The read in flight that starts at off has ended (its done() ran). */
static bool ra_ended_at(struct fx *f, uint64_t off)
{
	bool e = false;
	unsigned i;

	pthread_mutex_lock(&f->fc->hm);
	for (i = 0; i < f->fc->n_ra; i++)
		if (f->fc->rng->ra[i]->off == off)
			e = f->fc->rng->ra[i]->ended;
	pthread_mutex_unlock(&f->fc->hm);
	return e;
}

/* A read of what is not here parks (no thread waits); the end of the
 * read it waits for resumes it on the session's completion thread, and
 * only that one: the end of read-ahead it does not need does not. */
START_TEST(parked_read_resumes_when_its_range_came)
{
	struct parked p;
	struct fcr_rd rd;
	struct fx f;
	int i;

	fx_init(&f);
	parked_init(&p);
	fcr_read_init(f.fc, &rd, 4096, 0);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 1);
	ck_assert(f.fc->aread);
	ck_assert_uint_eq(f.fc->n_ra, 2); /* its block, and read-ahead */
	read_reply(&f, 1, 7, OLD_SIZE, 0, 65536);
	ck_assert_int_eq(wait_resumed(&p, 1), 1);
	ck_assert(!pthread_equal(p.thr, pthread_self()));
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 0);
	copy_is_file(&f, &rd);

	/* a read inside the read-ahead in flight parks for it alone */
	fcr_read_init(f.fc, &rd, 4096, 131072);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 1);
	ck_assert_uint_eq(f.fc->n_ra, 2); /* that one, and more read-ahead */
	read_reply(&f, 3, 7, OLD_SIZE, 266240, 393216);
	for (i = 0; i < 10000 && !ra_ended_at(&f, 266240); i++)
		usleep(1000);
	ck_assert(ra_ended_at(&f, 266240));
	ck_assert_int_eq(wait_resumed(&p, 1), 1); /* not for that one */
	read_reply(&f, 2, 7, OLD_SIZE, 65536, 200704);
	ck_assert_int_eq(wait_resumed(&p, 2), 2);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 0);
	copy_is_file(&f, &rd);
	ck_assert_int_eq(fcr_quiesce(&f.fs, f.fc), 0);
	fx_end(&f);
}
END_TEST

/* A reply naming a newer version while another read is in flight: the
 * ranges go only once that one ended (it writes into fd), the read
 * parked for it meanwhile, then what it asked for is read anew. */
START_TEST(newer_version_waits_for_every_read)
{
	struct parked p;
	struct fcr_rd rd;
	struct fx f;

	fx_init(&f);
	parked_init(&p);
	pthread_mutex_lock(&f.a->m);
	f.a->seq = 10; /* replies come after the version held (seq 5) */
	pthread_mutex_unlock(&f.a->m);
	fcr_read_init(f.fc, &rd, 4096, 0);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 1);
	read_reply(&f, 1, 8, NEW_SIZE, 0, 65536); /* replaced in the sandbox */
	ck_assert_int_eq(wait_resumed(&p, 1), 1);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 1); /* for the read-ahead */
	ck_assert(f.fc->have_newer);
	ck_assert_uint_eq(f.fc->ver.ino, 7);
	read_reply(&f, 2, 8, NEW_SIZE, 65536, 200704);
	ck_assert_int_eq(wait_resumed(&p, 2), 2);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 1); /* read anew */
	ck_assert(!f.fc->have_newer);
	ck_assert_uint_eq(f.fc->ver.ino, 8);
	ck_assert_uint_eq(f.fc->size, NEW_SIZE);
	ck_assert_uint_eq(f.n->attr.size, NEW_SIZE);
	read_reply(&f, 3, 8, NEW_SIZE, 0, 65536);
	ck_assert_int_eq(wait_resumed(&p, 3), 3);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &rd, &p.pk), 0);
	copy_is_file(&f, &rd);
	read_reply(&f, 4, 8, NEW_SIZE, 65536, 200704);
	ck_assert_int_eq(fcr_quiesce(&f.fs, f.fc), 0);
	fx_end(&f);
}
END_TEST

/* A copy past its bound lets go of what lies far below the offset read
 * although a read is in flight far above it: nothing waits for that read
 * (the side above is cut by a later call). */
START_TEST(far_cut_below_while_reads_in_flight_above)
{
	struct fcr_rd rd = {.size = 4096, .off = 30u << 20, .end = (30u << 20) + 4096, .begun = true};
	struct fcr_rd ahead;
	struct parked p;
	char buf[4096];
	size_t n = 0;
	struct fx f;

	fx_init(&f);
	parked_init(&p);
	ck_assert_int_eq(rmap_add(&f.fc->valid, 0, 40u << 20), 0); /* past the bound of 32 MiB */
	fcr_read_init(f.fc, &ahead, 4096, 47u << 20);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &ahead, &p.pk), 1);
	ck_assert_uint_eq(f.fc->n_ra, 1);
	ck_assert_int_eq(fcr_read_copy(&f.fs, f.fc, &rd, buf, &n), 0);
	ck_assert_uint_eq(n, 4096);
	ck_assert_uint_eq(f.fc->valid.bytes, 26u << 20); /* [14 MiB, 40 MiB) */
	ck_assert(!rmap_covers(&f.fc->valid, 0, 14u << 20));
	read_reply(&f, 1, 7, OLD_SIZE, 47u << 20, 65536);
	ck_assert_int_eq(wait_resumed(&p, 1), 1);
	ck_assert_int_eq(fcr_read_step(&f.fs, f.fc, &ahead, &p.pk), 0);
	copy_is_file(&f, &ahead);
	ck_assert_int_eq(fcr_quiesce(&f.fs, f.fc), 0);
	fx_end(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_fcache_range");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, reports_of_our_writes_do_not_undo_the_sync);
	tcase_add_test(tc, parked_read_resumes_when_its_range_came);
	tcase_add_test(tc, newer_version_waits_for_every_read);
	tcase_add_test(tc, far_cut_below_while_reads_in_flight_above);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
