/* test_rfs_agent_async.c - requests answered later (src/lib/rfs/agent_async.c,
 * rfs.h's sbx_rfs_submit) over an offline agent session (agent_dec.h): the
 * replies fed here are what sbx-agent would send. done() runs on the
 * context's completion thread; the cases wait for it with a bound.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/rfs/agent_dec.h"
#include "lib/rfs/agent_int.h"
#include "lib/rfs/call.h"
#include "lib/rfs/transport.h"
#include "lib/util/timeutil.h"

struct fx {
	struct sbx_rfs r;
	struct rfs_agent *a;
	pthread_mutex_t m;
	pthread_cond_t cv;
	int done;	  /* m: done() calls */
	int order[8];	  /* m: which request, in the order done() ran */
	pthread_t thr[8]; /* m: on which thread */
};

struct req {
	struct sbx_rfs_async q; /* first */
	struct fx *f;
	int tag;
};

static void on_done(struct sbx_rfs_async *q)
{
	struct req *r = (struct req *)q;
	struct fx *f = r->f;

	pthread_mutex_lock(&f->m);
	if (f->done < 8) {
		f->order[f->done] = r->tag;
		f->thr[f->done] = pthread_self();
	}
	f->done++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->m);
}

static void fx_init(struct fx *f, double timeout_s)
{
	memset(f, 0, sizeof(*f));
	f->r.op_timeout_s = timeout_s;
	f->r.tp = &rfs_agent_transport;
	pthread_mutex_init(&f->r.lock, NULL);
	pthread_mutex_init(&f->m, NULL);
	pthread_cond_init(&f->cv, NULL);
	ck_assert_int_eq(rfs_agent_offline(&f->r, &f->a), 0);
	f->r.agent = f->a;
}

static void fx_end(struct fx *f)
{
	rfs_agent_offline_end(f->a);
	rfs_agent_free(f->a);
	pthread_mutex_destroy(&f->r.lock);
	pthread_mutex_destroy(&f->m);
	pthread_cond_destroy(&f->cv);
}

/* Waits (at most 10 s) until done() ran n times; returns how many ran. */
static int wait_done(struct fx *f, int n)
{
	struct timespec ts;
	int got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&f->m);
	while (f->done < n && pthread_cond_timedwait(&f->cv, &f->m, &ts) == 0)
		;
	got = f->done;
	pthread_mutex_unlock(&f->m);
	return got;
}

static void submit(struct fx *f, struct req *r, enum sbx_rfs_op op, const char *path, int tag)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->tag = tag;
	r->q.op = op;
	r->q.path = path;
	r->q.from = "/from";
	r->q.mode = 0755;
	r->q.done = on_done;
	sbx_rfs_submit(&f->r, &r->q);
}

/* Feeds the reply of request id: status st, then an attr of mode when
 * mode is not 0. */
static void reply(struct fx *f, uint32_t id, uint16_t op, int32_t st, uint32_t mode)
{
	struct sbxa_w w = {0};
	struct sbxa_attr a = {.mode = mode, .nlink = 2, .size = 4096, .ino = 77};
	size_t at = sbxa_frame_begin(&w, id, SBXA_REPLY | op, 0);

	sbxa_put_i32(&w, st);
	if (mode)
		sbxa_put_attr(&w, &a);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f->a, w.p, w.len), 0);
	sbxa_w_release(&w);
}

/* Readies r, a request of op that writes into fd (FETCH, READ_RANGE). */
static void data_req(struct req *r, struct fx *f, enum sbx_rfs_op op, const char *path, int fd)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->q.op = op;
	r->q.path = path;
	r->q.fd = fd;
	r->q.done = on_done;
}

static void counts(struct fx *f, uint64_t *now, uint64_t *most)
{
	sbx_rfs_async_counts(&f->r, now, most);
}

/* many in flight at once; each answer completes its own request, in the
 * order the answers came, on one thread that is not the caller's */
START_TEST(replies_out_of_order)
{
	struct req r1, r2, r3;
	uint64_t now, most;
	struct fx f;

	fx_init(&f, 30);
	ck_assert(sbx_rfs_submits_async(&f.r));
	submit(&f, &r1, SBX_RFS_OP_STAT, "/a", 1);
	submit(&f, &r2, SBX_RFS_OP_MKDIR, "/b", 2);
	submit(&f, &r3, SBX_RFS_OP_UNLINK, "/c", 3);
	counts(&f, &now, &most);
	ck_assert_uint_eq(now, 3);
	ck_assert_int_eq(f.done, 0);
	reply(&f, 3, SBXA_OP_UNLINK, -ENOENT, 0);
	reply(&f, 2, SBXA_OP_MKDIR, 0, S_IFDIR | 0755);
	reply(&f, 1, SBXA_OP_LSTAT, 0, S_IFREG | 0600);
	ck_assert_int_eq(wait_done(&f, 3), 3);
	ck_assert_int_eq(f.order[0], 3);
	ck_assert_int_eq(f.order[1], 2);
	ck_assert_int_eq(f.order[2], 1);
	ck_assert(pthread_equal(f.thr[0], f.thr[2]));
	ck_assert(!pthread_equal(f.thr[0], pthread_self()));
	ck_assert_int_eq(r3.q.rc, -ENOENT);
	ck_assert_int_eq(r2.q.rc, 0);
	ck_assert_uint_eq(r2.q.attr.mode, S_IFDIR | 0755);
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_uint_eq(r1.q.attr.mode, S_IFREG | 0600);
	ck_assert_uint_eq(r1.q.attr.ino, 77);
	ck_assert_uint_gt(r1.q.attr.seq, r2.q.attr.seq); /* it came later */
	counts(&f, &now, &most);
	ck_assert_uint_eq(now, 0);
	ck_assert_uint_eq(most, 3);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_UNLINK].errors, 1);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_STAT].requests, 1);
	fx_end(&f);
}
END_TEST

/* unanswered past op_timeout: -SBX_ETIMEDOUT, and the late answer is
 * dropped (done() runs once) */
START_TEST(deadline_then_late_reply)
{
	struct req r1;
	struct fx f;

	fx_init(&f, 0.2);
	submit(&f, &r1, SBX_RFS_OP_MKDIR, "/slow", 1);
	ck_assert_int_eq(wait_done(&f, 1), 1);
	ck_assert_int_eq(r1.q.rc, -SBX_ETIMEDOUT);
	reply(&f, 1, SBXA_OP_MKDIR, 0, S_IFDIR | 0755);
	ck_assert_int_eq(f.done, 1);
	fx_end(&f);
	ck_assert_int_eq(f.done, 1);
}
END_TEST

/* the session ends: a request that must not run twice fails with
 * -SBX_ECONN; a stat is sent again, here on no session (a start that
 * failed a moment ago), and fails with that */
START_TEST(session_end)
{
	struct req r1, r2;
	struct fx f;

	fx_init(&f, 30);
	submit(&f, &r1, SBX_RFS_OP_RENAME, "/to", 1);
	submit(&f, &r2, SBX_RFS_OP_STAT, "/x", 2);
	pthread_mutex_lock(&f.a->m);
	f.a->retry_at = sbx_now_ms() + 60000; /* no new session: fail at once */
	f.a->retry_err = -SBX_ENOTHEALTHY;
	pthread_mutex_unlock(&f.a->m);
	rfs_agent_offline_end(f.a);
	ck_assert_int_eq(wait_done(&f, 2), 2);
	ck_assert_int_eq(r1.q.rc, -SBX_ECONN);
	ck_assert_int_eq(r2.q.rc, -SBX_ENOTHEALTHY);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_STAT].requests, 1); /* counted once */
	fx_end(&f);
}
END_TEST

/* a request the frame cannot carry fails on the caller's thread, before
 * sbx_rfs_submit() returns */
START_TEST(refused_at_once)
{
	struct sbx_rfs_cred c = {.uid = 1, .gid = 1, .ngroups = SBX_RFS_GROUPS_MAX + 1};
	struct req r1, r2;
	struct fx f;

	fx_init(&f, 30);
	memset(&r1, 0, sizeof(r1));
	r1.f = &f;
	r1.q.op = SBX_RFS_OP_MKDIR;
	r1.q.path = "/d";
	r1.q.cred = &c;
	r1.q.done = on_done;
	sbx_rfs_submit(&f.r, &r1.q);
	ck_assert_int_eq(f.done, 1);
	ck_assert(pthread_equal(f.thr[0], pthread_self()));
	ck_assert_int_eq(r1.q.rc, -EINVAL);
	submit(&f, &r2, SBX_RFS_OP_SWEEP, "/f", 2); /* not an operation it takes */
	ck_assert_int_eq(f.done, 2);
	ck_assert_int_eq(r2.q.rc, -EINVAL);
	fx_end(&f);
}
END_TEST

/* a tree listing: the reply's records become the listing, the path
 * asked for is the first directory's (the caller's string may be gone) */
START_TEST(tree_listing)
{
	struct sbxa_attr a = {.mode = S_IFREG | 0644, .nlink = 1, .size = 3};
	struct sbxa_attr d = {.mode = S_IFDIR | 0755, .nlink = 2};
	struct sbxa_w w = {0};
	char path[] = "/r";
	struct req r1;
	struct fx f;
	size_t at;

	fx_init(&f, 30);
	memset(&r1, 0, sizeof(r1));
	r1.f = &f;
	r1.q.op = SBX_RFS_OP_READDIR;
	r1.q.path = path;
	r1.q.max_entries = 100;
	r1.q.done = on_done;
	sbx_rfs_submit(&f.r, &r1.q);
	path[1] = 'x';
	at = sbxa_frame_begin(&w, 1, SBXA_REPLY | SBXA_OP_READDIR, 0);
	sbxa_put_i32(&w, 0);
	sbxa_put_u32(&w, SBXA_REC_DIR);
	sbxa_put_cstr(&w, "");
	sbxa_put_attr(&w, &d);
	sbxa_put_u32(&w, 0);
	sbxa_put_u32(&w, SBXA_REC_ENTRY);
	sbxa_put_cstr(&w, "a");
	sbxa_put_attr(&w, &a);
	sbxa_put_cstr(&w, "");
	sbxa_put_u32(&w, 0); /* no xattr names */
	sbxa_put_u32(&w, SBXA_REC_END);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f.a, w.p, w.len), 0);
	sbxa_w_release(&w);
	ck_assert_int_eq(wait_done(&f, 1), 1);
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_uint_eq(r1.q.tree.n, 1);
	ck_assert_str_eq(r1.q.tree.dirs[0].path, "/r");
	ck_assert_uint_eq(r1.q.tree.dirs[0].dir.n, 1);
	ck_assert_str_eq(r1.q.tree.dirs[0].dir.ents[0].name, "a");
	ck_assert_uint_eq(r1.q.tree.dirs[0].dir.ents[0].attr.size, 3);
	ck_assert_uint_gt(r1.q.tree.dirs[0].dir.ents[0].attr.seq, 0);
	sbx_rfs_tree_release(&r1.q.tree);
	fx_end(&f);
}
END_TEST

/* Feeds READ's reply to request id in two frames: attr a, unchanged, then
 * d (len bytes) split in halves. */
static void reply_read(struct fx *f, uint32_t id, const struct sbxa_attr *a, uint32_t unchanged,
		       const char *d, size_t len)
{
	struct sbxa_w w = {0};
	size_t at = sbxa_frame_begin(&w, id, SBXA_REPLY | SBXA_OP_READ, len ? SBXA_F_MORE : 0);
	uint8_t *dst;

	sbxa_put_i32(&w, 0);
	sbxa_put_attr(&w, a);
	sbxa_put_u32(&w, unchanged);
	if (len) {
		dst = sbxa_w_room(&w, len / 2);
		memcpy(dst, d, len / 2);
	}
	sbxa_frame_end(&w, at);
	if (len) {
		at = sbxa_frame_begin(&w, id, SBXA_REPLY | SBXA_OP_READ, 0);
		sbxa_put_i32(&w, 0);
		dst = sbxa_w_room(&w, len - len / 2);
		memcpy(dst, d + len / 2, len - len / 2);
		sbxa_frame_end(&w, at);
	}
	ck_assert_int_eq(rfs_agent_offline_feed(f->a, w.p, w.len), 0);
	sbxa_w_release(&w);
}

/* a whole-file fetch: the bytes land in the caller's descriptor, the
 * attributes and validator come with them; with a validator that still
 * holds, "unchanged" and nothing written; an "unchanged" that names
 * another version is a protocol error */
START_TEST(fetch_into_fd)
{
	struct sbxa_attr a = {.mode = S_IFREG | 0644, .nlink = 1, .size = 11, .ino = 9};
	struct sbx_rfs_attr ra = {.mode = S_IFREG | 0644, .nlink = 1, .size = 11, .ino = 9};
	char val[SBX_RFS_VALIDATOR_MAX], got[16] = {0};
	int fd = memfd_create("fetch", 0);
	struct req r1, r2, r3;
	struct fx f;

	ck_assert_int_ge(fd, 0);
	fx_init(&f, 30);
	data_req(&r1, &f, SBX_RFS_OP_FETCH, "/f", fd);
	r1.q.size_hint = 11;
	sbx_rfs_submit(&f.r, &r1.q);
	reply_read(&f, 1, &a, 0, "hello world", 11);
	ck_assert_int_eq(wait_done(&f, 1), 1);
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert(!r1.q.unchanged);
	ck_assert_uint_eq(r1.q.len, 11);
	ck_assert_uint_eq(r1.q.attr.size, 11);
	ck_assert_uint_gt(r1.q.attr.seq, 0);
	ck_assert_int_eq(pread(fd, got, sizeof(got), 0), 11);
	ck_assert_str_eq(got, "hello world");
	ck_assert_int_eq(sbx_rfs_validator(&f.r, &ra, val), 0);
	ck_assert_str_eq(r1.q.fetched_validator, val);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_FETCH].bytes_in, 11);

	memcpy(&r2, &r1, sizeof(r1));
	r2.q.validator = val;
	sbx_rfs_submit(&f.r, &r2.q);
	reply_read(&f, 2, &a, 1, NULL, 0);
	ck_assert_int_eq(wait_done(&f, 2), 2);
	ck_assert_int_eq(r2.q.rc, 0);
	ck_assert(r2.q.unchanged);

	memcpy(&r3, &r2, sizeof(r2));
	a.size = 12; /* "unchanged", but not what the validator names */
	sbx_rfs_submit(&f.r, &r3.q);
	reply_read(&f, 3, &a, 1, NULL, 0);
	ck_assert_int_eq(wait_done(&f, 3), 3);
	ck_assert_int_eq(r3.q.rc, -SBX_EPROTO);
	fx_end(&f);
	close(fd);
}
END_TEST

/* a ranged read: its bytes at fd_off of the caller's fd, their count and
 * the version read; a reply longer than asked for is refused; a range
 * longer than SBX_RFS_READ_MAX never leaves the caller's thread */
START_TEST(read_range_into_fd)
{
	struct sbxa_attr a = {.mode = S_IFREG | 0644, .nlink = 1, .size = 90000, .ino = 9};
	char got[16] = {0};
	int fd = memfd_create("range", 0);
	struct req r1, r2, r3;
	struct fx f;

	ck_assert_int_ge(fd, 0);
	fx_init(&f, 30);
	data_req(&r1, &f, SBX_RFS_OP_READ_RANGE, "/big", fd);
	r1.q.off = 4096;
	r1.q.count = 8;
	r1.q.fd_off = 100;
	sbx_rfs_submit(&f.r, &r1.q);
	reply_read(&f, 1, &a, 0, "abcdefgh", 8);
	ck_assert_int_eq(wait_done(&f, 1), 1);
	ck_assert(!pthread_equal(f.thr[0], pthread_self()));
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_uint_eq(r1.q.len, 8);
	ck_assert_uint_eq(r1.q.attr.size, 90000);
	ck_assert_uint_eq(r1.q.attr.ino, 9);
	ck_assert_uint_gt(r1.q.attr.seq, 0);
	ck_assert_int_eq(pread(fd, got, sizeof(got), 100), 8);
	ck_assert_str_eq(got, "abcdefgh");
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_READ_RANGE].bytes_in, 8);

	memcpy(&r2, &r1, sizeof(r1));
	r2.q.count = 4; /* and 8 bytes come */
	sbx_rfs_submit(&f.r, &r2.q);
	reply_read(&f, 2, &a, 0, "ABCDEFGH", 8);
	ck_assert_int_eq(wait_done(&f, 2), 2);
	ck_assert_int_eq(r2.q.rc, -EPROTO);

	memcpy(&r3, &r1, sizeof(r1));
	r3.q.count = (uint64_t)SBX_RFS_READ_MAX + 1;
	sbx_rfs_submit(&f.r, &r3.q);
	ck_assert_int_eq(wait_done(&f, 3), 3);
	ck_assert(pthread_equal(f.thr[2], pthread_self()));
	ck_assert_int_eq(r3.q.rc, -EINVAL);
	fx_end(&f);
	close(fd);
}
END_TEST

/* Feeds a PWRITE's reply: status st, n bytes written. */
static void reply_written(struct fx *f, uint32_t id, int32_t st, uint32_t n)
{
	struct sbxa_w w = {0};
	size_t at = sbxa_frame_begin(&w, id, SBXA_REPLY | SBXA_OP_PWRITE, 0);

	sbxa_put_i32(&w, st);
	sbxa_put_u32(&w, n);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f->a, w.p, w.len), 0);
	sbxa_w_release(&w);
}

/* a store answered later: its requests (TMPFILE, FTRUNCATE, PWRITE,
 * COMMIT; with durable an FSYNC before the COMMIT; in place OPEN ...
 * CLOSE, SETATTR) go at once, done() runs once the last is answered, with
 * the attributes of the COMMIT's (or SETATTR's) reply; a write reported
 * short fails it, and its first error is what it returns */
START_TEST(store_answered_later)
{
	struct sbx_rfs_store_opts atomic = {0}, durable = {.durable = true},
				  in_place = {.in_place = true};
	int fd = memfd_create("store", 0);
	struct req r1, r2, r3, r4;
	uint64_t now, most;
	struct fx f;

	ck_assert_int_eq(pwrite(fd, "0123456789", 10, 0), 10);
	fx_init(&f, 30);
	data_req(&r1, &f, SBX_RFS_OP_STORE, "/f", fd);
	r1.q.count = 10;
	r1.q.store = &atomic;
	sbx_rfs_submit(&f.r, &r1.q);
	counts(&f, &now, &most);
	ck_assert_uint_eq(now, 1); /* one request for the caller */
	reply(&f, 1, SBXA_OP_TMPFILE, 0, 0);
	reply(&f, 2, SBXA_OP_FTRUNCATE, 0, 0);
	reply_written(&f, 3, 0, 10);
	ck_assert_int_eq(f.done, 0);
	reply(&f, 4, SBXA_OP_COMMIT, 0, S_IFREG | 0644);
	ck_assert_int_eq(wait_done(&f, 1), 1);
	ck_assert(!pthread_equal(f.thr[0], pthread_self()));
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_uint_eq(r1.q.attr.mode, S_IFREG | 0644);
	ck_assert_uint_eq(r1.q.attr.ino, 77);
	ck_assert_uint_gt(r1.q.attr.seq, 0);
	ck_assert_str_eq(r1.q.fetched_validator, "A77:4096:0.000000000:0.000000000");
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_STORE].requests, 1);
	ck_assert_uint_gt(f.r.stats[SBX_RFS_OP_STORE].bytes_out, 10);
	counts(&f, &now, &most);
	ck_assert_uint_eq(now, 0);

	memcpy(&r2, &r1, sizeof(r1));
	r2.q.store = &durable;
	sbx_rfs_submit(&f.r, &r2.q);
	reply(&f, 5, SBXA_OP_TMPFILE, 0, 0);
	reply(&f, 6, SBXA_OP_FTRUNCATE, 0, 0);
	reply_written(&f, 7, 0, 10);
	reply(&f, 8, SBXA_OP_FSYNC, 0, 0);
	ck_assert_int_eq(f.done, 1);
	reply(&f, 9, SBXA_OP_COMMIT, 0, S_IFREG | 0600);
	ck_assert_int_eq(wait_done(&f, 2), 2);
	ck_assert_int_eq(r2.q.rc, 0);
	ck_assert_uint_eq(r2.q.attr.mode, S_IFREG | 0600);

	memcpy(&r3, &r1, sizeof(r1));
	r3.q.store = &in_place;
	sbx_rfs_submit(&f.r, &r3.q);
	reply(&f, 10, SBXA_OP_OPEN, 0, 0);
	reply(&f, 11, SBXA_OP_FTRUNCATE, 0, 0);
	reply_written(&f, 12, 0, 10);
	reply(&f, 13, SBXA_OP_CLOSE, 0, 0);
	ck_assert_int_eq(f.done, 2);
	reply(&f, 14, SBXA_OP_SETATTR, 0, S_IFREG | 0640);
	ck_assert_int_eq(wait_done(&f, 3), 3);
	ck_assert_int_eq(r3.q.rc, 0);
	ck_assert_uint_eq(r3.q.attr.mode, S_IFREG | 0640);

	/* a write that reports fewer bytes, and a COMMIT that then fails */
	memcpy(&r4, &r1, sizeof(r1));
	sbx_rfs_submit(&f.r, &r4.q);
	reply(&f, 15, SBXA_OP_TMPFILE, 0, 0);
	reply(&f, 16, SBXA_OP_FTRUNCATE, 0, 0);
	reply_written(&f, 17, 0, 9);
	reply(&f, 18, SBXA_OP_COMMIT, -ENOSPC, 0);
	ck_assert_int_eq(wait_done(&f, 4), 4);
	ck_assert_int_eq(r4.q.rc, -EIO);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_STORE].errors, 1);
	counts(&f, &now, &most);
	ck_assert_uint_eq(now, 0);
	fx_end(&f);
	close(fd);
}
END_TEST

/* an FSYNC of a file stored before: OPEN, FSYNC and CLOSE sent at once,
 * done() when the last is answered, with the first failure */
START_TEST(fsync_answered_later)
{
	struct req r1, r2;
	uint64_t now, most;
	struct fx f;

	fx_init(&f, 30);
	data_req(&r1, &f, SBX_RFS_OP_FSYNC, "/f", -1);
	sbx_rfs_submit(&f.r, &r1.q);
	reply(&f, 1, SBXA_OP_OPEN, 0, 0);
	reply(&f, 2, SBXA_OP_FSYNC, 0, 0);
	ck_assert_int_eq(f.done, 0);
	reply(&f, 3, SBXA_OP_CLOSE, 0, 0);
	ck_assert_int_eq(wait_done(&f, 1), 1);
	ck_assert(!pthread_equal(f.thr[0], pthread_self()));
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_FSYNC].requests, 1);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_STORE].requests, 0);

	/* the fsync fails: the handle is closed all the same, and its error
	 * is the result */
	data_req(&r2, &f, SBX_RFS_OP_FSYNC, "/f", -1);
	sbx_rfs_submit(&f.r, &r2.q);
	reply(&f, 4, SBXA_OP_OPEN, 0, 0);
	reply(&f, 5, SBXA_OP_FSYNC, -EIO, 0);
	ck_assert_int_eq(f.done, 1);
	reply(&f, 6, SBXA_OP_CLOSE, 0, 0);
	ck_assert_int_eq(wait_done(&f, 2), 2);
	ck_assert_int_eq(r2.q.rc, -EIO);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_FSYNC].errors, 1);
	counts(&f, &now, &most);
	ck_assert_uint_eq(now, 0);
	fx_end(&f);
}
END_TEST

/* an FSYNC of a write handle's writes: FSYNC on the handle behind them,
 * then the file's stat, whose failure leaves the attributes unknown but
 * does not fail the FSYNC; the writes' results are there after it */
START_TEST(fsync_of_writes_answered_later)
{
	struct sbx_rfs_wfile *wf = NULL;
	struct req r1, r2;
	struct fx f;

	fx_init(&f, 30);
	ck_assert_int_eq(sbx_rfs_wfile_open(&f.r, "/f", &wf, NULL), 0);
	ck_assert_int_eq(sbx_rfs_wfile_write(wf, "abc", 3, 0), 0);
	data_req(&r1, &f, SBX_RFS_OP_FSYNC, "/f", -1);
	r1.q.wf = wf;
	sbx_rfs_submit(&f.r, &r1.q);
	reply(&f, 1, SBXA_OP_OPEN, 0, 0);
	reply_written(&f, 2, 0, 3);
	reply(&f, 3, SBXA_OP_FSYNC, 0, 0);
	ck_assert_int_eq(f.done, 0);
	reply(&f, 4, SBXA_OP_LSTAT, 0, S_IFREG | 0640);
	ck_assert_int_eq(wait_done(&f, 1), 1);
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_uint_eq(r1.q.attr.mode, S_IFREG | 0640);
	ck_assert_uint_gt(r1.q.attr.seq, 0);
	ck_assert_int_eq(sbx_rfs_wfile_sync(wf, false, NULL), 0); /* answered: no wait */

	/* a write that failed, and a stat that did: the write's error */
	ck_assert_int_eq(sbx_rfs_wfile_write(wf, "de", 2, 3), 0);
	data_req(&r2, &f, SBX_RFS_OP_FSYNC, "/f", -1);
	r2.q.wf = wf;
	sbx_rfs_submit(&f.r, &r2.q);
	reply_written(&f, 5, -ENOSPC, 0);
	reply(&f, 6, SBXA_OP_FSYNC, 0, 0);
	reply(&f, 7, SBXA_OP_LSTAT, -ENOENT, 0);
	ck_assert_int_eq(wait_done(&f, 2), 2);
	ck_assert_int_eq(r2.q.rc, 0); /* the FSYNC itself went well */
	ck_assert_uint_eq(r2.q.attr.mode, 0);
	ck_assert_int_eq(sbx_rfs_wfile_sync(wf, false, NULL), -ENOSPC);
	f.r.op_timeout_s = 0.1; /* nobody answers the CLOSE */
	sbx_rfs_wfile_close(wf, NULL);
	fx_end(&f);
}
END_TEST

/* the same read started and ended apart by the caller (rfs.h's
 * sbx_rfs_read_start/_finish): the finish waits for the reply */
START_TEST(read_start_then_finish)
{
	struct sbxa_attr a = {.mode = S_IFREG | 0644, .nlink = 1, .size = 90000, .ino = 9};
	struct sbx_rfs_pread *p = NULL;
	struct sbx_rfs_attr got_a;
	char got[16] = {0};
	int fd = memfd_create("range", 0);
	uint64_t n = 0;
	struct fx f;

	ck_assert_int_ge(fd, 0);
	fx_init(&f, 30);
	ck_assert_int_eq(sbx_rfs_read_start(&f.r, "/big", 4096, 8, fd, 100, &p, NULL), 0);
	ck_assert_ptr_nonnull(p);
	reply_read(&f, 1, &a, 0, "abcdefgh", 8);
	ck_assert_int_eq(sbx_rfs_read_finish(p, &n, &got_a, NULL), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(got_a.size, 90000);
	ck_assert_uint_gt(got_a.seq, 0);
	ck_assert_int_eq(pread(fd, got, sizeof(got), 100), 8);
	ck_assert_str_eq(got, "abcdefgh");
	ck_assert_int_eq(
	    sbx_rfs_read_start(&f.r, "/big", 0, (uint64_t)SBX_RFS_READ_MAX + 1, fd, 0, &p, NULL),
	    -EINVAL);
	fx_end(&f);
	close(fd);
}
END_TEST

/* Feeds a sized reply (GETXATTR, LISTXATTR) of request id: len bytes of d. */
static void reply_sized(struct fx *f, uint32_t id, uint16_t op, const char *d, uint32_t len)
{
	struct sbxa_w w = {0};
	size_t at = sbxa_frame_begin(&w, id, SBXA_REPLY | op, 0);
	uint8_t *dst;

	sbxa_put_i32(&w, 0);
	sbxa_put_u32(&w, len);
	dst = sbxa_w_room(&w, len);
	ck_assert_ptr_nonnull(dst);
	memcpy(dst, d, len);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f->a, w.p, w.len), 0);
	sbxa_w_release(&w);
}

/* extended attributes and statfs: the value or list in a buffer done()
 * takes, nothing but the length for size 0, the statfs block as a
 * statvfs; a name too long never leaves the caller's thread */
START_TEST(xattr_and_statfs)
{
	struct sbxa_statfs sf = {.bsize = 4096, .blocks = 1000, .bavail = 10, .namemax = 255};
	struct req r1, r2, r3, r4, r5;
	struct sbxa_w w = {0};
	char longname[300];
	struct fx f;
	size_t at;

	fx_init(&f, 30);
	memset(&r1, 0, sizeof(r1));
	r1.f = &f;
	r1.q.op = SBX_RFS_OP_XATTR;
	r1.q.path = "/a";
	r1.q.name = "user.k";
	r1.q.size = 16;
	r1.q.done = on_done;
	sbx_rfs_submit(&f.r, &r1.q); /* id 1 */
	r2 = r1;
	r2.q.name = NULL;
	r2.q.size = 64;
	sbx_rfs_submit(&f.r, &r2.q); /* id 2 */
	r3 = r1;
	r3.q.size = 0;
	sbx_rfs_submit(&f.r, &r3.q);		    /* id 3 */
	submit(&f, &r4, SBX_RFS_OP_STATFS, "/", 4); /* id 4 */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	r5 = r1;
	r5.q.name = longname;
	sbx_rfs_submit(&f.r, &r5.q);
	ck_assert_int_eq(f.done, 1);
	ck_assert(pthread_equal(f.thr[0], pthread_self()));
	ck_assert_int_eq(r5.q.rc, -ERANGE);
	ck_assert_ptr_null(r5.q.value);

	reply_sized(&f, 1, SBXA_OP_GETXATTR, "value", 5);
	reply_sized(&f, 2, SBXA_OP_LISTXATTR, "user.k\0user.j\0", 14);
	at = sbxa_frame_begin(&w, 3, SBXA_REPLY | SBXA_OP_GETXATTR, 0);
	sbxa_put_i32(&w, 0);
	sbxa_put_u32(&w, 5); /* the length, no bytes */
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f.a, w.p, w.len), 0);
	sbxa_w_release(&w);
	at = sbxa_frame_begin(&w, 4, SBXA_REPLY | SBXA_OP_STATFS, 0);
	sbxa_put_i32(&w, 0);
	sbxa_put_statfs(&w, &sf);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(rfs_agent_offline_feed(f.a, w.p, w.len), 0);
	sbxa_w_release(&w);
	ck_assert_int_eq(wait_done(&f, 5), 5);
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_uint_eq(r1.q.value_len, 5);
	ck_assert_mem_eq(r1.q.value, "value", 5);
	ck_assert_int_eq(r2.q.rc, 0);
	ck_assert_uint_eq(r2.q.value_len, 14);
	ck_assert_mem_eq(r2.q.value, "user.k\0user.j\0", 14);
	ck_assert_int_eq(r4.q.rc, 0);
	ck_assert_uint_eq(r4.q.vfs.f_blocks, 1000);
	ck_assert_uint_eq(r4.q.vfs.f_bavail, 10);
	ck_assert_uint_eq(r4.q.vfs.f_namemax, 255);
	ck_assert_int_eq(r3.q.rc, 0); /* size 0: the length only */
	ck_assert_uint_eq(r3.q.value_len, 5);
	ck_assert_ptr_null(r3.q.value);
	free(r1.q.value);
	free(r2.q.value);
	fx_end(&f);
}
END_TEST

/* setxattr and removexattr: a status reply each, the sandbox's errno
 * through; a value past the wire's bound never leaves the caller's
 * thread; a change is not sent twice when its session ends */
START_TEST(xattr_changes)
{
	static char big[SBXA_XATTR_MAX + 1];
	struct req r1, r2, r3, r4, r5;
	struct fx f;

	fx_init(&f, 30);
	memset(&r1, 0, sizeof(r1));
	r1.f = &f;
	r1.q.op = SBX_RFS_OP_XATTR;
	r1.q.xop = SBX_RFS_XATTR_SET;
	r1.q.path = "/a";
	r1.q.name = "user.k";
	r1.q.set_value = "v";
	r1.q.set_len = 1;
	r1.q.done = on_done;
	r1.tag = 1;
	sbx_rfs_submit(&f.r, &r1.q); /* id 1 */
	r2 = r1;
	r2.tag = 2;
	r2.q.xop = SBX_RFS_XATTR_REMOVE;
	sbx_rfs_submit(&f.r, &r2.q); /* id 2 */
	r3 = r1;
	r3.tag = 3;
	r3.q.set_value = big;
	r3.q.set_len = sizeof(big);
	sbx_rfs_submit(&f.r, &r3.q);
	ck_assert_int_eq(f.done, 1);
	ck_assert(pthread_equal(f.thr[0], pthread_self()));
	ck_assert_int_eq(r3.q.rc, -E2BIG);

	reply(&f, 2, SBXA_OP_REMOVEXATTR, -ENODATA, 0);
	reply(&f, 1, SBXA_OP_SETXATTR, 0, 0);
	ck_assert_int_eq(wait_done(&f, 3), 3);
	ck_assert_int_eq(r2.q.rc, -ENODATA);
	ck_assert_int_eq(r1.q.rc, 0);
	ck_assert_ptr_null(r1.q.value);
	ck_assert_uint_eq(f.r.stats[SBX_RFS_OP_XATTR].requests, 3);

	r4 = r1;
	r4.tag = 4;
	sbx_rfs_submit(&f.r, &r4.q); /* a change */
	r5 = r1;
	r5.tag = 5;
	r5.q.xop = SBX_RFS_XATTR_GET;
	r5.q.size = 0;
	sbx_rfs_submit(&f.r, &r5.q); /* a read */
	pthread_mutex_lock(&f.a->m);
	f.a->retry_at = sbx_now_ms() + 60000; /* no new session: fail at once */
	f.a->retry_err = -SBX_ENOTHEALTHY;
	pthread_mutex_unlock(&f.a->m);
	rfs_agent_offline_end(f.a);
	ck_assert_int_eq(wait_done(&f, 5), 5);
	ck_assert_int_eq(r4.q.rc, -SBX_ECONN);	     /* not sent again */
	ck_assert_int_eq(r5.q.rc, -SBX_ENOTHEALTHY); /* sent again */
	fx_end(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rfs_agent_async");
	TCase *tc = tcase_create("submit");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, replies_out_of_order);
	tcase_add_test(tc, deadline_then_late_reply);
	tcase_add_test(tc, session_end);
	tcase_add_test(tc, refused_at_once);
	tcase_add_test(tc, tree_listing);
	tcase_add_test(tc, fetch_into_fd);
	tcase_add_test(tc, read_range_into_fd);
	tcase_add_test(tc, store_answered_later);
	tcase_add_test(tc, fsync_answered_later);
	tcase_add_test(tc, fsync_of_writes_answered_later);
	tcase_add_test(tc, read_start_then_finish);
	tcase_add_test(tc, xattr_and_statfs);
	tcase_add_test(tc, xattr_changes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
