/* test_rfs_agent.c - the agent transport's parser of what sbx-agent sends
 * (src/lib/rfs/agent_*.c), over an offline session (agent_dec.h): the
 * session's own framing and dispatch, the real decoders, and replies that
 * a hostile agent (root in the sandbox) could send. Each case is a bug
 * fuzz_agent_replies found or that was found while writing it.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/rfs/agent_dec.h"
#include "lib/rfs/agent_int.h"
#include "lib/rfs/call.h"
#include "lib/rfs/transport.h"

struct fx {
	struct sbx_rfs r;
	struct rfs_agent *a;
	int changes; /* change events delivered */
};

static void on_change(void *ud, const char *dir, const char *name, unsigned mask,
		      const struct sbx_rfs_attr *attr, uint64_t seq)
{
	struct fx *f = ud;

	f->changes++;
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->r.op_timeout_s = 30;
	f->r.tp = &rfs_agent_transport;
	f->r.on_change = on_change;
	f->r.change_ud = f;
	pthread_mutex_init(&f->r.lock, NULL);
	ck_assert_int_eq(rfs_agent_offline(&f->r, &f->a), 0);
	f->r.agent = f->a;
}

static void fx_end(struct fx *f)
{
	rfs_agent_offline_end(f->a);
	rfs_agent_free(f->a);
	pthread_mutex_destroy(&f->r.lock);
}

/* Registers q as a request would be sent (ids 1, 2, ...). */
static void send_req(struct fx *f, struct agent_req *q)
{
	struct sbxa_w w = {0};

	rfs_agent_begin(&w, SBXA_OP_LSTAT);
	ck_assert_int_eq(rfs_agent_send(f->a, q, &w, NULL), 0);
	sbxa_w_release(&w);
}

static size_t begin(struct sbxa_w *w, uint32_t id, uint16_t type, uint16_t flags, bool status)
{
	size_t at = sbxa_frame_begin(w, id, type, flags);

	if (status)
		sbxa_put_i32(w, 0);
	return at;
}

static int feed(struct fx *f, struct sbxa_w *w)
{
	int rc = rfs_agent_offline_feed(f->a, w->p, w->len);

	sbxa_w_release(w);
	return rc;
}

static void put_attr(struct sbxa_w *w, uint32_t mode, uint64_t size)
{
	struct sbxa_attr a = {.mode = mode, .nlink = 1, .size = size};

	sbxa_put_attr(w, &a);
}

static void put_entry(struct sbxa_w *w, const char *name, uint32_t mode)
{
	sbxa_put_cstr(w, name);
	put_attr(w, mode, 0);
	sbxa_put_cstr(w, "");
}

/* ---- jobs ---- */

struct seen {
	int done, out, out_after_done, code;
};

static void job_out(void *ud, const char *d, size_t n)
{
	struct seen *s = ud;

	s->out++;
	s->out_after_done += s->done > 0;
}

static void job_done(void *ud, const struct sbx_exec_result *res)
{
	struct seen *s = ud;

	s->done++;
	s->code = res->error ? res->error : res->exit_code;
}

/* Starts a job of o and answers its start (its id is 1, the pid 42). */
static struct agent_job *job_of(struct fx *f, struct seen *s, const struct sbx_exec_opts *o)
{
	struct sbx_exec_cbs cbs = {.on_stdout = job_out, .on_done = job_done};
	struct agent_job *j = NULL;
	struct sbxa_w w = {0};
	size_t at;

	ck_assert_int_eq(rfs_agent_job_start(f->a, o, &cbs, s, &j, NULL), 0);
	at = begin(&w, 1, SBXA_REPLY | SBXA_OP_JOB_START, SBXA_F_MORE, true);
	sbxa_put_u32(&w, 42); /* pid */
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(feed(f, &w), 0);
	return j;
}

static struct agent_job *job(struct fx *f, struct seen *s)
{
	struct sbx_exec_opts o = {.command = "true"};

	return job_of(f, s, &o);
}

static void put_exit(struct sbxa_w *w, uint32_t how, int32_t code, uint16_t flags)
{
	size_t at = begin(w, 1, SBXA_EV_EXIT, flags, true);

	sbxa_put_u32(w, how);
	sbxa_put_i32(w, code);
	sbxa_frame_end(w, at);
}

/* EV_EXIT is the last frame: output after it was delivered after on_done
 * (and, once the caller let go, to a freed job) */
START_TEST(job_exit_is_last)
{
	struct seen s = {0};
	struct sbxa_w w = {0};
	struct agent_job *j;
	struct fx f;
	size_t at;

	fx_init(&f);
	j = job(&f, &s);
	put_exit(&w, SBXA_EXIT_CODE, 0, SBXA_F_MORE);
	at = begin(&w, 1, SBXA_EV_STDOUT, 0, false);
	sbxa_put_bytes(&w, "late", 4);
	sbxa_frame_end(&w, at);
	feed(&f, &w);
	ck_assert_int_eq(s.done, 1);
	ck_assert_int_eq(s.out_after_done, 0);
	ck_assert_int_eq(s.code, -EPROTO);
	rfs_agent_job_unref(j);
	fx_end(&f);
	ck_assert_int_eq(s.done, 1);
}
END_TEST

/* a job whose frames end without EV_EXIT never got on_done */
START_TEST(job_ends_without_exit)
{
	struct seen s = {0};
	struct sbxa_w w = {0};
	struct agent_job *j;
	struct fx f;
	size_t at;

	fx_init(&f);
	j = job(&f, &s);
	at = begin(&w, 1, SBXA_EV_STDOUT, 0, false);
	sbxa_put_bytes(&w, "x", 1);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(feed(&f, &w), 0);
	ck_assert_int_eq(s.done, 1); /* at once, not when the session ends */
	ck_assert_int_eq(s.code, -EPROTO);
	rfs_agent_job_unref(j);
	fx_end(&f);
	ck_assert_int_eq(s.done, 1);
}
END_TEST

/* a signal number past 127 overflowed 128 + code */
START_TEST(job_exit_values)
{
	struct seen s = {0}, s2 = {0};
	struct sbxa_w w = {0};
	struct agent_job *j;
	struct fx f;

	fx_init(&f);
	j = job(&f, &s);
	put_exit(&w, SBXA_EXIT_SIGNAL, INT32_MAX, 0);
	feed(&f, &w);
	ck_assert_int_eq(s.done, 1);
	ck_assert_int_eq(s.code, -EPROTO);
	rfs_agent_job_unref(j);
	fx_end(&f);

	fx_init(&f);
	j = job(&f, &s2);
	put_exit(&w, SBXA_EXIT_SIGNAL, 9, 0);
	ck_assert_int_eq(feed(&f, &w), 0);
	ck_assert_int_eq(s2.done, 1);
	ck_assert_int_eq(s2.code, 128 + 9);
	rfs_agent_job_unref(j);
	fx_end(&f);
}
END_TEST

/* A job with stdin open, started (its id is 1, its stdin chunks 2, 3, ...). */
static struct agent_job *job_stdin(struct fx *f, struct seen *s)
{
	struct sbx_exec_opts o = {.command = "cat", .stdin_open = true};

	return job_of(f, s, &o);
}

/* The agent's answer to JOB_STDIN request id: queued, or refused. */
static void stdin_reply(struct fx *f, uint32_t id, int32_t status, uint32_t len)
{
	struct sbxa_w w = {0};
	size_t at = sbxa_frame_begin(&w, id, SBXA_REPLY | SBXA_OP_JOB_STDIN, 0);

	sbxa_put_i32(&w, status);
	if (status == 0)
		sbxa_put_u32(&w, len);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(feed(f, &w), 0);
}

struct writer {
	struct agent_job *j;
	const char *buf;
	size_t n;
	int rc;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;

	wr->rc = rfs_agent_job_write_stdin(wr->j, wr->buf, wr->n);
	return NULL;
}

/* The agent queues at most 4 MiB of a job's stdin and refuses a JOB_STDIN
 * past that: a writer sent its fifth MiB while four were unanswered, the
 * agent refused it, and a 30 MiB upload over the agent arrived short. */
START_TEST(job_stdin_window)
{
	const size_t mib = 1u << 20;
	char *buf = calloc(5, mib);
	struct writer wr = {.buf = buf, .n = 5 * mib, .rc = 1};
	struct seen s = {0};
	size_t pending = 0;
	pthread_t th;
	struct fx f;
	uint32_t id;
	int i;

	ck_assert_ptr_nonnull(buf);
	fx_init(&f);
	wr.j = job_stdin(&f, &s);
	ck_assert_int_eq(pthread_create(&th, NULL, writer_main, &wr), 0);
	/* the writer holds the session lock from its first chunk until it
	 * waits or is done: what shows is 0, then all it sent unanswered */
	for (i = 0; i < 10000 && !(pending = rfs_agent_job_stdin_pending(wr.j)); i++)
		usleep(1000);
	ck_assert_uint_eq(pending, 4 * mib);
	for (id = 2; id <= 5; id++)
		stdin_reply(&f, id, 0, (uint32_t)mib);
	pthread_join(th, NULL); /* it sent the fifth (id 6) once room was made */
	ck_assert_int_eq(wr.rc, 0);
	stdin_reply(&f, 6, 0, (uint32_t)mib);
	ck_assert_uint_eq(rfs_agent_job_stdin_pending(wr.j), 0);
	rfs_agent_job_unref(wr.j);
	fx_end(&f);
	free(buf);
}
END_TEST

/* A JOB_STDIN the agent refused lost its bytes: that was ignored, and the
 * job read a stream cut short as if whole. */
START_TEST(job_stdin_refused)
{
	struct seen s = {0};
	struct agent_job *j;
	struct fx f;

	fx_init(&f);
	j = job_stdin(&f, &s);
	ck_assert_int_eq(rfs_agent_job_write_stdin(j, "abc", 3), 0);
	stdin_reply(&f, 2, -ENOBUFS, 0);
	ck_assert_int_eq(rfs_agent_job_write_stdin(j, "d", 1), -ENOBUFS);
	ck_assert_int_eq(rfs_agent_job_close_stdin(j), -ENOBUFS);
	rfs_agent_job_unref(j);
	fx_end(&f);

	/* the pipe gone (the job closed its stdin) is not a loss: -EPIPE only
	 * once the job ended */
	memset(&s, 0, sizeof(s));
	fx_init(&f);
	j = job_stdin(&f, &s);
	ck_assert_int_eq(rfs_agent_job_write_stdin(j, "abc", 3), 0);
	stdin_reply(&f, 2, -EPIPE, 0);
	ck_assert_int_eq(rfs_agent_job_close_stdin(j), 0);
	rfs_agent_job_unref(j);
	fx_end(&f);
}
END_TEST

/* ---- listings ---- */

static int readdir_reply(struct sbxa_w *w, struct dir_ud *u, struct sbx_rfs_dir *d)
{
	struct agent_req q = {.on_frame = rfs_agent_dir_frame, .on_reset = rfs_agent_dir_reset};
	struct fx f;
	int rc;

	fx_init(&f);
	memset(d, 0, sizeof(*d));
	u->d = d;
	u->first = true;
	q.ud = u;
	send_req(&f, &q);
	feed(&f, w);
	fx_end(&f);
	rc = q.status;
	sbx_rfs_dir_release(d);
	return rc;
}

/* "." and ".." are never entries (rfs.h), and data stays within what
 * was asked for */
START_TEST(listing_names_and_data)
{
	const char *bad[] = {".", "..", "a/b"};
	struct sbx_rfs_dir d;
	struct sbxa_w w = {0};
	struct dir_ud u;
	size_t i, at;

	for (i = 0; i < 3; i++) {
		u = (struct dir_ud){0};
		at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READDIR, 0, true);
		put_attr(&w, S_IFDIR | 0755, 0);
		put_entry(&w, "ok", S_IFREG | 0644);
		put_entry(&w, bad[i], S_IFDIR | 0755);
		sbxa_frame_end(&w, at);
		ck_assert_int_eq(readdir_reply(&w, &u, &d), -EPROTO);
	}
	/* 5 bytes of data where 4 were asked for, then where 8 were */
	for (i = 4; i <= 8; i += 4) {
		u = (struct dir_ud){.data = true, .file_max = (uint32_t)i, .total_max = 64};
		at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READDIR, 0, true);
		put_attr(&w, S_IFDIR | 0755, 0);
		sbxa_put_cstr(&w, "f");
		put_attr(&w, S_IFREG | 0644, 5);
		sbxa_put_cstr(&w, "");
		sbxa_put_u32(&w, 1);
		sbxa_put_str(&w, "hello", 5);
		sbxa_frame_end(&w, at);
		ck_assert_int_eq(readdir_reply(&w, &u, &d), i == 4 ? -EPROTO : 0);
	}
}
END_TEST

static void put_dir_rec(struct sbxa_w *w, const char *rel)
{
	sbxa_put_u32(w, SBXA_REC_DIR);
	sbxa_put_cstr(w, rel);
	put_attr(w, S_IFDIR | 0755, 0);
	sbxa_put_u32(w, 0);
}

static int tree_reply(struct sbxa_w *w, uint32_t max_entries, size_t *ndirs)
{
	struct sbx_rfs_tree t = {0};
	struct agent_req q = {.on_frame = rfs_agent_tree_frame, .on_reset = rfs_agent_tree_reset};
	struct tree_ud u = {.root = "/r", .t = &t, .max_entries = max_entries};
	struct fx f;
	int rc;

	fx_init(&f);
	u.r = &f.r;
	q.ud = &u;
	send_req(&f, &q);
	feed(&f, w);
	fx_end(&f);
	rc = q.status ? q.status : rfs_agent_tree_finish(&u);
	*ndirs = t.n;
	sbx_rfs_tree_release(&t);
	return rc;
}

/* every directory of a tree reply is below the root and was announced */
START_TEST(tree_stays_under_root)
{
	const char *rels[] = {"../etc", "sub/..", "/abs", "sub//x", "sub/", "sub", "other"};
	struct sbxa_w w = {0};
	size_t i, at, n;

	for (i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READDIR, 0, true);
		put_dir_rec(&w, "");
		sbxa_put_u32(&w, SBXA_REC_ENTRY);
		put_entry(&w, "sub", S_IFDIR | 0755);
		sbxa_put_u32(&w, SBXA_REC_END);
		put_dir_rec(&w, rels[i]);
		sbxa_put_u32(&w, SBXA_REC_END);
		sbxa_frame_end(&w, at);
		/* "sub" is the one directory announced; "other" took its place */
		ck_assert_int_eq(tree_reply(&w, 10, &n), i == 5 || i == 6 ? 0 : -EPROTO);
		if (i == 5)
			ck_assert_uint_eq(n, 2);
	}
	/* a second directory with only one announced */
	at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READDIR, 0, true);
	put_dir_rec(&w, "");
	sbxa_put_u32(&w, SBXA_REC_ENTRY);
	put_entry(&w, "sub", S_IFDIR | 0755);
	sbxa_put_u32(&w, SBXA_REC_END);
	put_dir_rec(&w, "sub");
	sbxa_put_u32(&w, SBXA_REC_END);
	put_dir_rec(&w, "sub2");
	sbxa_put_u32(&w, SBXA_REC_END);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(tree_reply(&w, 10, &n), -EPROTO);
	/* more entries than asked for */
	at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READDIR, 0, true);
	put_dir_rec(&w, "");
	sbxa_put_u32(&w, SBXA_REC_ENTRY);
	put_entry(&w, "a", S_IFREG | 0644);
	sbxa_put_u32(&w, SBXA_REC_ENTRY);
	put_entry(&w, "b", S_IFREG | 0644);
	sbxa_put_u32(&w, SBXA_REC_END);
	sbxa_frame_end(&w, at);
	ck_assert_int_eq(tree_reply(&w, 1, &n), -EPROTO);
}
END_TEST

/* ---- single replies ---- */

/* READLINK is one frame (a second one leaked the first string) holding
 * no NUL (it cut the target short) */
START_TEST(readlink_one_string)
{
	struct str_ud u = {0};
	struct agent_req q = {.on_frame = rfs_agent_str_frame, .on_reset = rfs_agent_str_reset};
	struct sbxa_w w = {0};
	struct fx f;
	size_t at;

	q.ud = &u;
	fx_init(&f);
	send_req(&f, &q);
	at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READLINK, SBXA_F_MORE, true);
	sbxa_put_cstr(&w, "a");
	sbxa_frame_end(&w, at);
	at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READLINK, 0, true);
	sbxa_put_cstr(&w, "b");
	sbxa_frame_end(&w, at);
	feed(&f, &w);
	fx_end(&f);
	ck_assert_int_eq(q.status, -EPROTO);
	rfs_agent_str_reset(&u);

	fx_init(&f);
	send_req(&f, &q);
	at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READLINK, 0, true);
	sbxa_put_str(&w, "ab\0c", 4);
	sbxa_frame_end(&w, at);
	feed(&f, &w);
	fx_end(&f);
	ck_assert_int_eq(q.status, -EPROTO);
	rfs_agent_str_reset(&u);
}
END_TEST

/* a ranged read takes no more than the length asked for (it wrote past
 * the range into the caller's file), and "unchanged" comes with no bytes */
START_TEST(read_bounds)
{
	struct read_ud u = {0};
	struct agent_req q = {.on_frame = rfs_agent_read_frame, .on_reset = rfs_agent_read_reset};
	struct sbxa_w w = {0};
	struct stat st;
	struct fx f;
	size_t at;
	int unchanged;

	q.ud = &u;
	for (unchanged = 0; unchanged <= 1; unchanged++) {
		u = (struct read_ud){.fd = memfd_create("t", MFD_CLOEXEC), .first = true};
		u.max = unchanged ? 0 : 2;
		ck_assert_int_ge(u.fd, 0);
		fx_init(&f);
		send_req(&f, &q);
		at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READ, 0, true);
		put_attr(&w, S_IFREG | 0644, 4);
		sbxa_put_u32(&w, (uint32_t)unchanged);
		sbxa_put_bytes(&w, "abcd", 4);
		sbxa_frame_end(&w, at);
		feed(&f, &w);
		fx_end(&f);
		ck_assert_int_eq(q.status, -EPROTO);
		ck_assert_int_eq(fstat(u.fd, &st), 0);
		ck_assert_int_eq(st.st_size, 0);
		close(u.fd);
	}
}
END_TEST

/* Waits until a request is in flight (a send wakes nobody: polled). */
static void wait_sent(struct rfs_agent *a)
{
	pthread_mutex_lock(&a->m);
	while (!a->reqs) {
		pthread_mutex_unlock(&a->m);
		usleep(1000);
		pthread_mutex_lock(&a->m);
	}
	pthread_mutex_unlock(&a->m);
}

struct fetch_arg {
	struct fx *f;
	const char *validator;
	bool unchanged;
	int rc;
};

static void *fetch_main(void *p)
{
	struct fetch_arg *fa = p;
	int fd = memfd_create("t", MFD_CLOEXEC);

	fa->rc = sbx_rfs_fetch(&fa->f->r, "/f", fd, fa->validator, 0, &fa->unchanged, NULL, NULL,
			       NULL, NULL);
	close(fd);
	return NULL;
}

/* "unchanged" answers a validator, for the version it names: else the
 * caller kept what it had (nothing, or another version) as current */
START_TEST(fetch_unchanged_names_the_version)
{
	struct sbx_rfs_attr ra = {.ino = 7, .size = 4};
	char val[SBX_RFS_VALIDATOR_MAX];
	struct fetch_arg fa;
	struct sbxa_w w = {0};
	pthread_t t;
	struct fx f;
	size_t at;
	int i;

	rfs_agent_validator(&ra, val);
	for (i = 0; i < 3; i++) {
		fx_init(&f);
		fa = (struct fetch_arg){.f = &f, .validator = i ? val : NULL};
		ck_assert_int_eq(pthread_create(&t, NULL, fetch_main, &fa), 0);
		wait_sent(f.a);
		at = begin(&w, 1, SBXA_REPLY | SBXA_OP_READ, 0, true);
		sbxa_put_attr(&w, &(struct sbxa_attr){
				      .mode = S_IFREG | 0644, .ino = 7, .size = i == 2 ? 4 : 5});
		sbxa_put_u32(&w, 1);
		sbxa_frame_end(&w, at);
		ck_assert_int_eq(feed(&f, &w), 0);
		pthread_join(t, NULL);
		/* no validator; another version; the one named */
		ck_assert_int_eq(fa.rc, i == 2 ? 0 : -SBX_EPROTO);
		ck_assert(i < 2 || fa.unchanged);
		fx_end(&f);
	}
}
END_TEST

/* ---- the session ---- */

/* a status is 0 or -errno below 512 (FUSE cannot answer with more, and
 * -INT32_MIN overflowed) */
START_TEST(status_range)
{
	const int32_t sts[] = {-2, -600, INT32_MIN, 1};
	const int want[] = {-2, -EPROTO, -EPROTO, -EPROTO};
	struct agent_req q = {0};
	struct sbxa_w w = {0};
	struct fx f;
	size_t i, at;

	for (i = 0; i < 4; i++) {
		fx_init(&f);
		send_req(&f, &q);
		at = sbxa_frame_begin(&w, 1, SBXA_REPLY | SBXA_OP_LSTAT, 0);
		sbxa_put_i32(&w, sts[i]);
		sbxa_frame_end(&w, at);
		feed(&f, &w);
		ck_assert(q.done);
		ck_assert_int_eq(q.status, want[i]);
		fx_end(&f);
	}
}
END_TEST

/* an event naming "." or ".." breaks the stream; after a malformed frame
 * nothing more is dispatched (frames kept in the buffer still were) */
START_TEST(broken_stream_ignored)
{
	struct sbxa_attr a = {0};
	struct agent_req q = {.on_frame = rfs_agent_attr_frame, .ud = &a};
	struct sbxa_w w = {0};
	struct fx f;
	size_t at;

	fx_init(&f);
	pthread_mutex_lock(&f.a->m);
	rfs_agent_watch_known_locked(f.a, "/d", 3);
	pthread_mutex_unlock(&f.a->m);
	send_req(&f, &q);
	at = sbxa_frame_begin(&w, 0, SBXA_EV_CHANGE, 0);
	sbxa_put_u32(&w, 3);
	sbxa_put_u32(&w, SBXA_CH_CREATE);
	sbxa_put_cstr(&w, "..");
	sbxa_put_u32(&w, 0);
	sbxa_frame_end(&w, at);
	ck_assert_int_lt(feed(&f, &w), 0);
	ck_assert_int_eq(f.changes, 0);
	at = begin(&w, 1, SBXA_REPLY | SBXA_OP_LSTAT, 0, true);
	put_attr(&w, S_IFREG | 0644, 1);
	sbxa_frame_end(&w, at);
	ck_assert_int_lt(feed(&f, &w), 0);
	ck_assert(!q.done);
	fx_end(&f);
	ck_assert_int_eq(q.status, -SBX_ECONN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rfs_agent");
	TCase *tc = tcase_create("replies");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, job_exit_is_last);
	tcase_add_test(tc, job_ends_without_exit);
	tcase_add_test(tc, job_exit_values);
	tcase_add_test(tc, job_stdin_window);
	tcase_add_test(tc, job_stdin_refused);
	tcase_add_test(tc, listing_names_and_data);
	tcase_add_test(tc, tree_stays_under_root);
	tcase_add_test(tc, readlink_one_string);
	tcase_add_test(tc, read_bounds);
	tcase_add_test(tc, fetch_unchanged_names_the_version);
	tcase_add_test(tc, status_range);
	tcase_add_test(tc, broken_stream_ignored);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
