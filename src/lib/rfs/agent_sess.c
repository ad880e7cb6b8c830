/* agent_sess.c - one exec session running sbx-agent, and the requests in
 * flight on it (see agent.h).
 *
 * A session (struct sess) lives from its exec start until on_done; the
 * agent context points at the current one. Bytes from the agent's stdout
 * are cut into frames on the transport thread (at most SBXA_FRAME_MAX
 * each: a longer length ends the session, since the stream cannot be
 * resynchronised) and handed to the request with that id.
 *
 * stdin is a window: a sender waits while more than AGENT_STDIN_WINDOW
 * bytes are queued in libsbx, woken by on_stdin_sent, so a large store
 * never queues more than that in memory. The senders of large frames
 * (a store's writes) take room in it before they build the frame
 * (rfs_agent_reserve), so that many of them waiting at once do not each
 * hold a frame of data.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "rfs/agent.h"
#include "rfs/agent_dec.h"
#include "rfs/agent_int.h"
#include "rfs/call.h"
#include "rfs/transport.h"
#include "sbx/exec.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#define AGENT_STDIN_WINDOW (8u << 20)
#define AGENT_STDERR_MAX   4096u
/* exit codes of the boot command (agent_boot.c) */
#define BOOT_NEED_UPLOAD 97
#define BOOT_OTHER_ARCH	 98
/* deadline of the start and HELLO */
#define AGENT_START_MS 30000
/* how long requests fail at once after one met a silent session */
/* how long freeing waits for the agent to exit by itself */
#define AGENT_CLOSE_MS 2000
/* a reply's status is 0 or -errno: the kernel's errno values are all
 * below 512, and FUSE refuses to answer with a larger one */
#define AGENT_ERRNO_MAX 511

/* ---- requests ---- */

static struct agent_req *req_find(struct rfs_agent *a, uint32_t id)
{
	struct agent_req *q;

	for (q = a->reqs; q; q = q->next)
		if (q->id == id)
			return q;
	return NULL;
}

static void req_unlink(struct rfs_agent *a, struct agent_req *q)
{
	struct agent_req **pp;

	for (pp = &a->reqs; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return;
		}
}

void rfs_agent_forget_locked(struct rfs_agent *a, struct agent_req *q)
{
	req_unlink(a, q);
}

/* Ends every request in flight with code; a->m held. */
static void fail_all(struct rfs_agent *a, int code)
{
	struct agent_req *q;

	struct agent_req *next;

	for (q = a->reqs; q; q = next) {
		int c = q->got_first && q->status < 0 ? q->status : code;

		next = q->next;
		if (q->on_fail)
			q->on_fail(q->ud, c);
		q->status = c;
		q->done = true;
		if (q->on_end)
			q->on_end(q);
		else if (q->detached)
			free(q);
	}
	a->reqs = NULL;
	pthread_cond_broadcast(&a->cv);
}

uint64_t rfs_agent_seq(struct rfs_agent *a)
{
	return __atomic_load_n(&a->seq, __ATOMIC_ACQUIRE); /* no wait on the session */
}

/* One whole frame from the agent; a->m held. */
static int dispatch(struct rfs_agent *a, uint32_t id, uint16_t type, uint16_t flags,
		    const uint8_t *p, size_t n)
{
	struct agent_req *q;
	struct sbxa_r rd;
	int st, rc;

	__atomic_add_fetch(&a->seq, 1, __ATOMIC_RELEASE); /* read unlocked: rfs_agent_seq */
	if (id == 0)
		return type == SBXA_EV_CHANGE ? rfs_agent_on_event(a, p, n, a->seq) : 0;
	q = req_find(a, id);
	if (!q)
		return 0; /* its caller gave up (deadline) */
	q->seq = a->seq;
	/* a reply starts with its status; a job's output events are bare
	 * bytes (proto.h) */
	if (type & SBXA_REPLY) {
		if (n < 4)
			return -EPROTO;
		sbxa_r_init(&rd, p, n);
		st = sbxa_get_i32(&rd);
		if (!q->got_first)
			q->status = st > 0 || st < -AGENT_ERRNO_MAX ? -EPROTO : st;
	} else if (type != SBXA_EV_STDOUT && type != SBXA_EV_STDERR && type != SBXA_EV_EXIT) {
		return -EPROTO;
	}
	q->got_first = true;
	if (q->status == 0 && q->on_frame) {
		rc = q->on_frame(q->ud, type, flags, p, n);
		if (rc < 0)
			q->status = rc;
	}
	if (!(flags & SBXA_F_MORE)) {
		q->done = true;
		req_unlink(a, q);
		if (q->status < 0 && q->on_fail)
			q->on_fail(q->ud, q->status);
		if (q->on_end)
			q->on_end(q);
		else if (q->detached)
			free(q);
		pthread_cond_broadcast(&a->cv);
	}
	return 0;
}

/* ---- session callbacks (transport thread) ---- */

/* Bytes of the agent's stdout: cut into frames (s->in holds a partial
 * one) and dispatched; a->m held. A negative return: the stream is broken
 * (a length out of bounds, a malformed frame) and the session must end;
 * nothing it sends afterwards is looked at. */
static int sess_input_locked(struct sess *s, const char *d, size_t n)
{
	struct rfs_agent *a = s->a;
	uint32_t plen, id;
	uint16_t type, flags;
	int rc = 0;

	if (s->broken)
		return -EPROTO;
	if (sbx_buf_append(&s->in, d, n) < 0)
		rc = -ENOMEM;
	a->last_rx_ms = sbx_now_ms();
	a->stall_until = 0; /* it answers again */
	while (rc == 0 && s->in.len >= SBXA_HDR_LEN) {
		rc = sbxa_hdr_decode((const uint8_t *)s->in.data, &plen, &id, &type, &flags);
		if (rc < 0 || s->in.len < SBXA_HDR_LEN + plen)
			break;
		if (s == a->cur)
			rc = dispatch(a, id, type, flags,
				      (const uint8_t *)s->in.data + SBXA_HDR_LEN, plen);
		sbx_buf_consume(&s->in, SBXA_HDR_LEN + plen);
	}
	if (rc < 0) {
		s->broken = true;
		sbx_buf_release(&s->in);
	}
	return rc;
}

static void on_out(void *ud, const char *d, size_t n)
{
	struct sess *s = ud;
	struct rfs_agent *a = s->a;

	pthread_mutex_lock(&a->m);
	if (!s->broken && sess_input_locked(s, d, n) < 0 && s->e) {
		snprintf(s->why, sizeof(s->why), "malformed reply from the agent");
		sbx_exec_cancel(s->e);
	}
	pthread_mutex_unlock(&a->m);
	rfs_agent_deliver(a);
}

static void on_err(void *ud, const char *d, size_t n)
{
	struct sess *s = ud;
	size_t room;

	pthread_mutex_lock(&s->a->m);
	room = AGENT_STDERR_MAX - s->errb.len;
	sbx_buf_append(&s->errb, d, n < room ? n : room);
	pthread_mutex_unlock(&s->a->m);
}

static void on_sent(void *ud, size_t pending)
{
	struct sess *s = ud;

	if (pending <= AGENT_STDIN_WINDOW / 2) {
		pthread_mutex_lock(&s->a->m);
		pthread_cond_broadcast(&s->a->cv);
		pthread_mutex_unlock(&s->a->m);
	}
}

static void on_done(void *ud, const struct sbx_exec_result *res)
{
	struct sess *s = ud;
	struct rfs_agent *a = s->a;

	pthread_mutex_lock(&a->m);
	s->exit_code = res->error ? -1 : res->exit_code;
	if (!s->why[0])
		snprintf(s->why, sizeof(s->why), "%s",
			 res->error ? res->message : "the agent exited");
	if (s->e) {
		sbx_exec_unref(s->e);
		s->e = NULL;
	}
	if (a->cur == s) {
		a->cur = NULL;
		fail_all(a, -SBX_ECONN);
	}
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->m);
	/* the jobs' last callbacks, before anyone may free the context */
	rfs_agent_deliver(a);
	sbx_debug("agent session ended: %s (exit %d)", s->why, s->exit_code);
	/* the last touch of s: rfs_agent_free() frees it once it is over */
	pthread_mutex_lock(&a->m);
	s->over = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->m);
}

/* ---- starting a session ---- */

/* Starts the boot command; the new session in *ret (on a's dead list
 * once over). a->m not held. */
static int sess_start(struct rfs_agent *a, struct sess **ret, struct sbx_err *err)
{
	struct sbx_exec_cbs cbs = {
	    .on_stdout = on_out, .on_stderr = on_err, .on_done = on_done, .on_stdin_sent = on_sent};
	struct sbx_exec_opts eo = {.command = a->boot, .stdin_open = true};
	struct sess *s = calloc(1, sizeof(*s));
	struct sbx_exec *e = NULL;
	int rc;

	if (!s)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	s->a = a;
	pthread_mutex_lock(&a->m);
	s->next_dead = a->dead; /* kept until the context is freed */
	a->dead = s;
	a->cur = s;
	pthread_mutex_unlock(&a->m);
	rc = sbx_exec_start(sbx_rfs_sandbox(a->r), &eo, &cbs, s, &e, err);
	pthread_mutex_lock(&a->m);
	if (rc < 0) {
		s->over = true;
		if (a->cur == s)
			a->cur = NULL;
	} else if (s->over) {
		sbx_exec_unref(e); /* it already ended */
	} else {
		s->e = e;
	}
	pthread_mutex_unlock(&a->m);
	*ret = s;
	return rc;
}

/* HELLO's reply: the agent's machine. */
int rfs_agent_hello_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct rfs_agent *a = ud;
	struct sbxa_r rd;
	const char *mach;
	size_t mlen;
	uint32_t magic, version;

	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	magic = sbxa_get_u32(&rd);
	version = sbxa_get_u32(&rd);
	sbxa_get_u32(&rd); /* frame_max */
	sbxa_get_u32(&rd); /* pid */
	sbxa_get_u32(&rd); /* uid */
	sbxa_get_u32(&rd); /* gid */
	mach = sbxa_get_str(&rd, sizeof(a->agent_machine) - 1, &mlen);
	if (rd.err || magic != SBXA_MAGIC || version != SBXA_VERSION)
		return -EPROTO;
	memcpy(a->agent_machine, mach, mlen);
	a->agent_machine[mlen] = '\0';
	return 0;
}

/* Sends HELLO on the current session and waits for its answer. */
static int hello(struct rfs_agent *a, struct sbx_err *err)
{
	struct agent_req q = {.on_frame = rfs_agent_hello_frame, .ud = a};
	struct sbxa_w w = {0};
	size_t at;
	int rc;

	at = sbxa_frame_begin(&w, 0, SBXA_OP_HELLO, 0);
	sbxa_put_u32(&w, SBXA_MAGIC);
	sbxa_put_u32(&w, SBXA_VERSION);
	sbxa_frame_end(&w, at);
	/* straight onto the session being started (rfs_agent_send would wait
	 * for the start, which is this) */
	pthread_mutex_lock(&a->m);
	rc = rfs_agent_send_locked(a, &q, &w);
	pthread_mutex_unlock(&a->m);
	if (rc < 0)
		sbx_err_set(err, rc, 0, "the agent session ended before HELLO");
	else
		rc = rfs_agent_wait(a, &q, sbx_now_ms() + AGENT_START_MS, err);
	sbxa_w_release(&w);
	return rc;
}

/* After a failed HELLO: waits for the session's end (bounded) and says
 * what its exit code means. */
static int why_failed(struct rfs_agent *a, struct sess *s, int rc, struct sbx_err *err)
{
	int64_t end = sbx_now_ms() + AGENT_START_MS;
	struct timespec ts;

	pthread_mutex_lock(&a->m);
	while (!s->over && sbx_now_ms() < end) {
		sbx_deadline_ts(&ts, 100);
		pthread_cond_timedwait(&a->cv, &a->m, &ts);
	}
	if (s->over && s->exit_code == BOOT_NEED_UPLOAD)
		rc = -ENOENT;
	else if (s->over && s->exit_code == BOOT_OTHER_ARCH)
		rc = sbx_err_set(err, -ENOEXEC, 0, "the sandbox is not a %s machine", a->machine);
	else
		rc = sbx_err_set(
		    err, rc < 0 ? rc : -SBX_EPROTO, 0, "the agent did not start: %s%s%.*s", s->why,
		    s->errb.len ? ": " : "", (int)s->errb.len, s->errb.data ? s->errb.data : "");
	pthread_mutex_unlock(&a->m);
	if (!s->over && s->e)
		sbx_exec_cancel(s->e);
	return rc;
}

/* Starts a session and greets the agent; -ENOENT when the sandbox needs
 * the agent uploaded first. */
static int sess_open(struct rfs_agent *a, struct sbx_err *err)
{
	struct sess *s = NULL;
	int rc;

	rc = sess_start(a, &s, err);
	if (rc < 0)
		return rc;
	rc = hello(a, err);
	if (rc < 0)
		rc = why_failed(a, s, rc, err);
	return rc;
}

/* After a failed start, the next waits AGENT_BACKOFF_MIN_MS, doubling up
 * to AGENT_BACKOFF_MAX_MS: requests meanwhile fail at once, so a host that
 * is down is not asked again by every FUSE request. */
#define AGENT_BACKOFF_MIN_MS 100
#define AGENT_BACKOFF_MAX_MS 5000

/* Makes sure a session is up; a->m held on entry and exit. Only one
 * thread starts a session; the others wait for it. */
static int ensure_session(struct rfs_agent *a, struct sbx_err *err)
{
	int64_t t0, now;
	int rc;

	while (a->starting)
		pthread_cond_wait(&a->cv, &a->m);
	if (a->cur && !a->cur->over)
		return 0;
	now = sbx_now_ms();
	if (now < a->retry_at)
		return sbx_err_set(err, a->retry_err, 0,
				   "the agent session is down (%s); next try in %lld ms",
				   strerror(-a->retry_err), (long long)(a->retry_at - now));
	a->starting = true;
	pthread_mutex_unlock(&a->m);
	t0 = sbx_now_ms();
	rc = sess_open(a, err);
	rfs_count(a->r, SBX_RFS_OP_CONNECT, 0, rc, (sbx_now_ms() - t0) * 1000, 0, 0);
	pthread_mutex_lock(&a->m);
	if (rc == 0) {
		a->backoff_ms = 0;
		a->retry_at = 0;
		rfs_agent_rewatch_locked(a);
	} else {
		a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : AGENT_BACKOFF_MIN_MS;
		if (a->backoff_ms > AGENT_BACKOFF_MAX_MS)
			a->backoff_ms = AGENT_BACKOFF_MAX_MS;
		a->retry_at = sbx_now_ms() + a->backoff_ms;
		a->retry_err = sbx_rfs_is_transport_error(rc) ? rc : -SBX_ECONN;
	}
	a->starting = false;
	pthread_cond_broadcast(&a->cv);
	return rc;
}

/* ---- public (agent.h) ---- */

void rfs_agent_begin(struct sbxa_w *w, uint16_t op)
{
	rfs_agent_begin_as(w, op, NULL);
}

void rfs_agent_begin_as(struct sbxa_w *w, uint16_t op, const struct sbx_rfs_cred *cred)
{
	w->len = 0;
	w->err = 0;
	sbxa_frame_begin(w, 0, op, 0);
	if (!cred)
		sbxa_put_cred(w, SBXA_ID_SELF, SBXA_ID_SELF, 0, NULL);
	else if (cred->ngroups > SBXA_GROUPS_MAX || cred->uid == SBXA_ID_SELF)
		w->err = -EINVAL; /* the frame is refused at send */
	else
		sbxa_put_cred(w, cred->uid, cred->gid, cred->ngroups, cred->groups);
}

/* Assigns an id, writes the frame and registers q; a->m held and the
 * session up. */
static int send_frame_locked(struct rfs_agent *a, struct sess *s, struct agent_req *q,
			     struct sbxa_w *w)
{
	int rc;

	if (++a->next_id == 0)
		a->next_id = 1;
	q->id = a->next_id;
	w->p[4] = (uint8_t)q->id;
	w->p[5] = (uint8_t)(q->id >> 8);
	w->p[6] = (uint8_t)(q->id >> 16);
	w->p[7] = (uint8_t)(q->id >> 24);
	rc = s->offline ? 0 : sbx_exec_write_stdin(s->e, w->p, w->len);
	if (rc < 0)
		return -SBX_ECONN;
	q->sent_ms = sbx_now_ms();
	q->next = a->reqs;
	a->reqs = q;
	if (q->on_sent)
		q->on_sent(q);
	return 0;
}

int rfs_agent_send_locked(struct rfs_agent *a, struct agent_req *q, struct sbxa_w *w)
{
	struct sess *s = a->cur;
	int rc = -SBX_ECONN;

	q->done = false;
	q->got_first = false;
	q->status = 0;
	sbxa_frame_end(w, 0);
	if (!w->err && s && (s->e || s->offline))
		rc = send_frame_locked(a, s, q, w);
	if (rc < 0 && q->detached)
		free(q);
	return w->err ? w->err : rc;
}

void rfs_agent_reserve(struct rfs_agent *a, size_t n)
{
	struct sess *s;
	size_t used;

	pthread_mutex_lock(&a->m);
	while ((s = a->cur) && s->e && (used = sbx_exec_stdin_pending(s->e) + a->reserved) > 0 &&
	       used + n > AGENT_STDIN_WINDOW)
		pthread_cond_wait(&a->cv, &a->m);
	a->reserved += n;
	pthread_mutex_unlock(&a->m);
}

void rfs_agent_unreserve(struct rfs_agent *a, size_t n)
{
	pthread_mutex_lock(&a->m);
	a->reserved -= n;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->m);
}

int rfs_agent_send(struct rfs_agent *a, struct agent_req *q, struct sbxa_w *w, struct sbx_err *err)
{
	struct sess *s;
	int rc = 0;

	sbxa_frame_end(w, 0);
	if (w->err)
		return sbx_err_set(
		    err, w->err, 0,
		    "request the agent cannot take (too large, or a bad credential)");
	q->done = false;
	q->got_first = false;
	q->status = 0;
	pthread_mutex_lock(&a->m);
	rc = ensure_session(a, err);
	while (rc == 0 && (s = a->cur) && s->e && sbx_exec_stdin_pending(s->e) > AGENT_STDIN_WINDOW)
		pthread_cond_wait(&a->cv, &a->m);
	s = a->cur;
	if (rc == 0 && (!s || (!s->e && !s->offline)))
		rc = sbx_err_set(err, -SBX_ECONN, 0, "the agent session ended");
	/* a request just waited op_timeout for a session that said nothing:
	 * the next ones fail at once for a while rather than wait as long
	 * each (a syscall may need several); any frame ends this */
	if (rc == 0 && a->stall_until > sbx_now_ms())
		rc = sbx_err_set(err, -SBX_ETIMEDOUT, 0, "the sandbox does not answer");
	if (rc == 0 && send_frame_locked(a, s, q, w) < 0)
		rc = sbx_err_set(err, -SBX_ECONN, 0, "the agent session ended");
	pthread_mutex_unlock(&a->m);
	return rc;
}

int rfs_agent_wait(struct rfs_agent *a, struct agent_req *q, int64_t deadline_ms,
		   struct sbx_err *err)
{
	struct timespec ts;
	int64_t left;
	int rc;

	pthread_mutex_lock(&a->m);
	while (!q->done && (left = deadline_ms - sbx_now_ms()) > 0) {
		sbx_deadline_ts(&ts, left);
		pthread_cond_timedwait(&a->cv, &a->m, &ts);
	}
	if (!q->done) {
		req_unlink(a, q);
		q->done = true;
		q->status = -SBX_ETIMEDOUT;
		if (a->last_rx_ms < q->sent_ms) /* nothing came since it went out */
			a->stall_until = sbx_now_ms() + RFS_AGENT_STALL_MS;
	}
	rc = q->status;
	pthread_mutex_unlock(&a->m);
	if (rc == -SBX_ETIMEDOUT)
		sbx_err_set(err, rc, 0, "the agent did not answer in time");
	else if (rc == -SBX_ECONN)
		sbx_err_set(err, rc, 0, "the agent session ended");
	return rc;
}

/* A context with no session and no agent identity yet. */
static struct rfs_agent *agent_calloc(struct sbx_rfs *r)
{
	struct rfs_agent *a = calloc(1, sizeof(*a));
	pthread_condattr_t ca;

	if (!a)
		return NULL;
	a->r = r;
	a->on_change = r->on_change;
	a->change_ud = r->change_ud;
	pthread_mutex_init(&a->m, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_cond_init(&a->tcv, &ca);
	pthread_cond_init(&a->acv, &ca);
	pthread_condattr_destroy(&ca);
	return a;
}

static int agent_alloc(struct sbx_rfs *r, struct rfs_agent **ret, struct sbx_err *err)
{
	struct rfs_agent *a = agent_calloc(r);
	struct utsname u;

	if (!a)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	*ret = a;
	if (uname(&u) < 0 || rfs_agent_blob_sha256(a->hex) < 0)
		return sbx_err_set(err, -ENOEXEC, 0, "no agent built into libsbx");
	snprintf(a->machine, sizeof(a->machine), "%s", u.machine);
	a->boot = rfs_agent_boot_command(a->hex, a->machine);
	if (!a->boot)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	return 0;
}

int rfs_agent_new(struct sbx_rfs *r, struct rfs_agent **ret, struct sbx_err *err)
{
	struct rfs_agent *a = NULL;
	unsigned dir;
	int rc;

	rc = agent_alloc(r, &a, err);
	if (rc == 0) {
		pthread_mutex_lock(&a->m);
		rc = ensure_session(a, err);
		pthread_mutex_unlock(&a->m);
	}
	/* no usable copy: upload to each place in turn until one runs */
	for (dir = 0; rc == -ENOENT && dir < RFS_AGENT_DIRS; dir++) {
		rc = rfs_agent_upload(r, a->hex, dir, err);
		if (rc < 0 && !sbx_rfs_is_transport_error(rc)) {
			rc = -ENOENT;
			continue;
		}
		if (rc == 0) {
			pthread_mutex_lock(&a->m);
			a->retry_at = 0; /* the copy is new: no backoff */
			rc = ensure_session(a, err);
			pthread_mutex_unlock(&a->m);
		}
	}
	if (rc == -ENOENT)
		rc = sbx_err_set(err, -ENOEXEC, 0,
				 "no place in the sandbox where the agent can be stored, verified "
				 "(sha256sum) and run");
	if (rc < 0) {
		rfs_agent_free(a);
		return rc;
	}
	sbx_debug("agent %.12s running on %s", a->hex, a->agent_machine);
	*ret = a;
	return 0;
}

int rfs_agent_handle_get(struct rfs_agent *a, uint32_t *ret)
{
	uint32_t i;
	int rc = -EMFILE;

	pthread_mutex_lock(&a->m);
	for (i = 0; i < SBXA_HANDLES_MAX; i++)
		if (!(a->handles[i / 64] & (1ull << (i % 64)))) {
			a->handles[i / 64] |= 1ull << (i % 64);
			*ret = i;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&a->m);
	return rc;
}

void rfs_agent_handle_put(struct rfs_agent *a, uint32_t h)
{
	if (h >= SBXA_HANDLES_MAX)
		return;
	pthread_mutex_lock(&a->m);
	a->handles[h / 64] &= ~(1ull << (h % 64));
	pthread_mutex_unlock(&a->m);
}

void rfs_agent_free(struct rfs_agent *a)
{
	struct sess *s, *next;
	struct timespec ts;
	int64_t end;

	if (!a)
		return;
	/* the agent exits at the end of its stdin, removing its temporaries;
	 * one that does not within AGENT_CLOSE_MS is cancelled */
	pthread_mutex_lock(&a->m);
	for (s = a->dead; s; s = s->next_dead)
		if (!s->over && s->e)
			sbx_exec_close_stdin(s->e);
	end = sbx_now_ms() + AGENT_CLOSE_MS;
	for (s = a->dead; s; s = s->next_dead)
		while (!s->over && sbx_now_ms() < end) {
			sbx_deadline_ts(&ts, end - sbx_now_ms());
			pthread_cond_timedwait(&a->cv, &a->m, &ts);
		}
	for (s = a->dead; s; s = s->next_dead)
		if (!s->over && s->e)
			sbx_exec_cancel(s->e);
	for (s = a->dead; s; s = s->next_dead)
		while (!s->over)
			pthread_cond_wait(&a->cv, &a->m);
	pthread_mutex_unlock(&a->m);
	for (s = a->dead; s; s = next) {
		next = s->next_dead;
		sbx_buf_release(&s->in);
		sbx_buf_release(&s->errb);
		free(s);
	}
	rfs_agent_timer_stop(a);
	rfs_agent_async_stop(a);
	while (a->n_watches)
		free(a->watches[--a->n_watches].dir);
	free(a->watches);
	free(a->dir_tab);
	free(a->wd_tab);
	pthread_cond_destroy(&a->cv);
	pthread_cond_destroy(&a->tcv);
	pthread_cond_destroy(&a->acv);
	pthread_mutex_destroy(&a->m);
	free(a->boot);
	free(a);
}

/* ---- offline sessions (agent_dec.h) ---- */

int rfs_agent_offline(struct sbx_rfs *r, struct rfs_agent **ret)
{
	struct rfs_agent *a = agent_calloc(r);
	struct sess *s = calloc(1, sizeof(*s));

	if (!a || !s) {
		free(s);
		rfs_agent_free(a);
		return -ENOMEM;
	}
	s->a = a;
	s->offline = true;
	a->cur = a->dead = s;
	*ret = a;
	return 0;
}

int rfs_agent_offline_feed(struct rfs_agent *a, const void *d, size_t n)
{
	struct sess *s;
	int rc = -SBX_ECONN;

	pthread_mutex_lock(&a->m);
	s = a->cur;
	if (s && s->offline)
		rc = sess_input_locked(s, d, n);
	pthread_mutex_unlock(&a->m);
	rfs_agent_deliver(a);
	return rc;
}

void rfs_agent_offline_end(struct rfs_agent *a)
{
	struct sbx_exec_result res = {.error = -SBX_ECONN};
	struct sess *s;

	pthread_mutex_lock(&a->m);
	s = a->cur && a->cur->offline ? a->cur : NULL;
	pthread_mutex_unlock(&a->m);
	if (s) {
		snprintf(res.message, sizeof(res.message), "the offline session ended");
		on_done(s, &res);
	}
}
