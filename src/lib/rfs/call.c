/* call.c - the exec session behind every rfs operation; see call.h.
 *
 * Ordering: on_done is the last callback of a session (exec.h), so once
 * c->done is seen under c->m, no callback touches the call again and the
 * caller may free it. The stdin feeder runs on the caller's thread; it stops
 * early when the session is over (the script failed before reading all of
 * its input) and never queues more than RFS_STDIN_WINDOW bytes.
 */
#include "rfs/call.h"
#include "rfs/transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "util/log.h"
#include "util/timeutil.h"

static const char *const op_names[SBX_RFS_OP__N] = {
    [SBX_RFS_OP_STAT] = "stat",		[SBX_RFS_OP_READDIR] = "readdir",
    [SBX_RFS_OP_READLINK] = "readlink", [SBX_RFS_OP_MKDIR] = "mkdir",
    [SBX_RFS_OP_CREATE] = "create",	[SBX_RFS_OP_UNLINK] = "unlink",
    [SBX_RFS_OP_RMDIR] = "rmdir",	[SBX_RFS_OP_RENAME] = "rename",
    [SBX_RFS_OP_LINK] = "link",		[SBX_RFS_OP_SYMLINK] = "symlink",
    [SBX_RFS_OP_SETATTR] = "setattr",	[SBX_RFS_OP_STATFS] = "statfs",
    [SBX_RFS_OP_FETCH] = "fetch",	[SBX_RFS_OP_READ_RANGE] = "read_range",
    [SBX_RFS_OP_STORE] = "store",	[SBX_RFS_OP_SIGNAL] = "signal",
    [SBX_RFS_OP_SWEEP] = "sweep",	[SBX_RFS_OP_CONNECT] = "connect",
    [SBX_RFS_OP_XATTR] = "xattr",	[SBX_RFS_OP_WRITE_RANGE] = "write_range",
    [SBX_RFS_OP_FSYNC] = "fsync",
};

const char *sbx_rfs_op_name(enum sbx_rfs_op op)
{
	return op >= 0 && op < SBX_RFS_OP__N ? op_names[op] : "?";
}

bool sbx_rfs_is_transport_error(int code)
{
	switch (code) {
	case -SBX_ECONN:
	case -SBX_ENOTHEALTHY:
	case -SBX_ETIMEDOUT:
	case -SBX_EPROTO:
	case -SBX_EAUTH:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -EPIPE:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -SBX_ECANCELED:
	case -EBADMSG: return true;
	default: return false;
	}
}

void rfs_count(struct sbx_rfs *r, enum sbx_rfs_op op, unsigned round_trips, int rc, int64_t us,
	       uint64_t bytes_in, uint64_t bytes_out)
{
	struct sbx_rfs_opstats *s = &r->stats[op];
	uint64_t ms = us > 0 ? (uint64_t)us / 1000 : 0;
	int b = 0;

	while (b < SBX_RFS_HIST_N - 1 && ms >= (1ull << b))
		b++;
	pthread_mutex_lock(&r->lock);
	s->requests++;
	s->round_trips += round_trips;
	s->errors += rc < 0;
	s->bytes_in += bytes_in;
	s->bytes_out += bytes_out;
	s->us_total += us > 0 ? (uint64_t)us : 0;
	s->hist[b]++;
	pthread_mutex_unlock(&r->lock);
}

static void count(struct sbx_rfs *r, const struct rfs_call *c, bool session, int rc, int64_t us)
{
	rfs_count(r, c->op, session, rc, us, c->bytes_in, c->bytes_out);
}

void rfs_count_local_failure(struct sbx_rfs *r, enum sbx_rfs_op op)
{
	struct rfs_call c = {.op = op};

	count(r, &c, false, -EINVAL, 0);
}

void sbx_rfs_stats(struct sbx_rfs *r, struct sbx_rfs_opstats *out)
{
	pthread_mutex_lock(&r->lock);
	memcpy(out, r->stats, sizeof(r->stats));
	pthread_mutex_unlock(&r->lock);
}

uint64_t sbx_rfs_percentile_ms(const struct sbx_rfs_opstats *s, double pct)
{
	uint64_t total = 0, acc = 0, need;
	int i;

	for (i = 0; i < SBX_RFS_HIST_N; i++)
		total += s->hist[i];
	if (!total)
		return 0;
	need = (uint64_t)((double)total * pct / 100.0 + 0.999999);
	for (i = 0; i < SBX_RFS_HIST_N; i++) {
		acc += s->hist[i];
		if (acc >= need)
			break;
	}
	return 1ull << (i < SBX_RFS_HIST_N ? i : SBX_RFS_HIST_N - 1);
}

/* ---- callbacks (transport thread) ---- */

static void on_out(void *ud, const char *d, size_t n)
{
	struct rfs_call *c = ud;
	int r = 0;

	c->bytes_in += n;
	if (c->sink_err)
		return;
	if (c->sink)
		r = c->sink(c->sink_ud, d, n);
	else if (c->out.len + n > RFS_OUT_MAX)
		r = -EFBIG;
	else
		r = sbx_buf_append(&c->out, d, n);
	if (r < 0) {
		c->sink_err = r;
		/* c->e is set under c->m by rfs_call_run once the start returned */
		pthread_mutex_lock(&c->m);
		if (c->e)
			sbx_exec_cancel(c->e);
		pthread_mutex_unlock(&c->m);
	}
}

static void on_err(void *ud, const char *d, size_t n)
{
	struct rfs_call *c = ud;
	size_t room = RFS_STDERR_MAX - c->errb.len;

	if (c->errb.len < RFS_STDERR_MAX)
		sbx_buf_append(&c->errb, d, n < room ? n : room);
}

static void on_done(void *ud, const struct sbx_exec_result *res)
{
	struct rfs_call *c = ud;

	pthread_mutex_lock(&c->m);
	c->res = *res;
	c->res.stdout_data = c->res.stderr_data = NULL;
	c->done = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->m);
}

/* ---- the caller's side ---- */

void rfs_call_init(struct rfs_call *c, struct sbx_rfs *r, enum sbx_rfs_op op, const char *what,
		   const char *script)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->op = op;
	c->what = what;
	c->script = script;
	c->in_fd = -1;
}

void rfs_call_release(struct rfs_call *c)
{
	sbx_buf_release(&c->out);
	sbx_buf_release(&c->errb);
}

static bool is_done(struct rfs_call *c)
{
	bool d;

	pthread_mutex_lock(&c->m);
	d = c->done;
	pthread_mutex_unlock(&c->m);
	return d;
}

/* Waits up to ms milliseconds for the end of the session. */
static void wait_done(struct rfs_call *c, long ms)
{
	struct timespec ts;

	pthread_mutex_lock(&c->m);
	if (ms < 0) {
		while (!c->done)
			pthread_cond_wait(&c->cv, &c->m);
	} else if (!c->done) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&c->cv, &c->m, &ts);
	}
	pthread_mutex_unlock(&c->m);
}

/* Streams in_len bytes of in_fd as stdin, then closes stdin. A local read
 * error cancels the session and is returned. */
static int feed(struct rfs_call *c)
{
	char *buf = NULL;
	uint64_t off = 0;
	int r = 0;

	buf = malloc(RFS_STDIN_CHUNK);
	if (!buf)
		r = -ENOMEM;
	while (!r && off < c->in_len && !is_done(c)) {
		size_t want =
		    c->in_len - off < RFS_STDIN_CHUNK ? (size_t)(c->in_len - off) : RFS_STDIN_CHUNK;
		ssize_t n;

		if (sbx_exec_stdin_pending(c->e) > RFS_STDIN_WINDOW) {
			wait_done(c, 2);
			continue;
		}
		n = pread(c->in_fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO; /* the file shrank under us */
			break;
		}
		if (sbx_exec_write_stdin(c->e, buf, (size_t)n) < 0)
			break; /* the session is over: its outcome tells why */
		off += (uint64_t)n;
		c->bytes_out += (uint64_t)n;
	}
	free(buf);
	if (r < 0)
		sbx_exec_cancel(c->e);
	else
		sbx_exec_close_stdin(c->e);
	return r;
}

static double deadline_s(const struct rfs_call *c)
{
	double t = c->r->op_timeout_s;

	return t + (double)(c->xfer_len >> 20);
}

int rfs_call_run(struct rfs_call *c, struct sbx_err *err)
{
	const struct sbx_exec_cbs cbs = {
	    .on_stdout = on_out, .on_stderr = on_err, .on_done = on_done};
	struct sbx_exec_opts o = {0};
	int64_t t0 = sbx_now_ms();
	pthread_condattr_t ca;
	int r, feed_err = 0;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&c->m, NULL);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	o.command = c->script;
	o.stdin_open = c->in_fd >= 0;
	o.timeout_s = deadline_s(c);
	/* on_out reads c->e: set it before any callback can run */
	pthread_mutex_lock(&c->m);
	r = sbx_exec_start(c->r->sb, &o, &cbs, c, &c->e, err);
	pthread_mutex_unlock(&c->m);
	if (r < 0) {
		count(c->r, c, false, r, (sbx_now_ms() - t0) * 1000);
		goto out;
	}
	if (c->in_fd >= 0)
		feed_err = feed(c);
	wait_done(c, -1);
	sbx_exec_unref(c->e); /* no callback runs after on_done */
	c->e = NULL;
	if (feed_err)
		r = sbx_err_set(err, feed_err, 0, "%s: reading the local data: %s", c->what,
				strerror(-feed_err));
	else if (c->sink_err)
		r = sbx_err_set(err, c->sink_err, 0, "%s: %s", c->what, strerror(-c->sink_err));
	else if (c->res.status == SBX_EXEC_FINISHED && c->res.error == 0)
		r = 0;
	else
		r = sbx_fs_errmap_exec(&c->res, c->errb.data, c->errb.len, c->what, err);
	count(c->r, c, true, r, (sbx_now_ms() - t0) * 1000);
	if (r < 0)
		sbx_debug("rfs %s: %s", sbx_rfs_op_name(c->op), err ? err->msg : "failed");
out:
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->m);
	return r;
}
