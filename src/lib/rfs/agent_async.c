/* agent_async.c - requests answered later: rfs.h's sbx_rfs_submit() over
 * the agent's session.
 *
 * A request is sent from the caller's thread and then belongs to the
 * session; nobody waits for it. When it ends (its reply, an error status,
 * the session's end), the session's on_end hook puts it on the context's
 * completion queue, and one completion thread per context (started with
 * the first request) decodes the result, counts it and calls the caller's
 * done(). The same thread keeps the deadlines: a request still unanswered
 * at op_timeout is taken back from the session (a late reply is then
 * dropped) and ends with -SBX_ETIMEDOUT, as a waiting call would. A
 * request that may run twice and lost its session is sent again once,
 * from that thread, exactly as rfs_agent_call() does for a waiting one.
 *
 * Ownership: struct acall is allocated at submit and freed by whoever
 * calls done(): the completion thread, or the submitting thread when the
 * request never left. While it is registered with the session, only the
 * hooks (under a->m) touch its links.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rfs/agent.h"
#include "rfs/agent_dec.h"
#include "rfs/agent_int.h"
#include "rfs/call.h"
#include "rfs/transport.h"
#include "util/timeutil.h"

/* how long the completion thread sleeps at most with nothing due */
#define IDLE_MS 60000

struct acall {
	struct agent_req q; /* first: the hooks get &q */
	struct rfs_agent *a;
	struct sbx_rfs_async *user;
	struct sbxa_w w;	 /* the frame, kept for a second try (tries > 1) */
	size_t wlen;		 /* its length, once let go */
	struct rfs_attr_pair at; /* .a alone but for MKDIR */
	struct str_ud su;
	struct tree_ud tu;     /* READDIR */
	struct sbxa_statfs sf; /* STATFS */
	struct sized_ud zu;    /* XATTR: its buf is the caller's value once done */
	struct read_ud ru;     /* FETCH, READ_RANGE: into the caller's fd */
	char *validator;       /* FETCH: the caller's, kept to check "unchanged" */
	uint64_t hint;	       /* FETCH, READ_RANGE: bytes expected (a later deadline) */
	char *root;	       /* READDIR, FETCH: the path, kept for the decoder */
	/* rfs_agent_submit_frame: no user; this ends it (ended_ctx) */
	void (*ended)(void *ctx, int rc, uint64_t seq);
	void *ended_ctx;
	int tries;	    /* sends left, this one included */
	int64_t t0;	    /* when it was submitted */
	int64_t deadline;   /* a->m: of the send in flight */
	bool live;	    /* a->m: on a->alive */
	struct acall *prev; /* a->m: a->alive links */
	struct acall *next;
	struct acall *qnext; /* a->m: a->adone */
};

static struct acall *of(struct agent_req *q)
{
	return (struct acall *)q;
}

/* ---- a->m held ---- */

static void live_add(struct rfs_agent *a, struct acall *x)
{
	x->prev = NULL;
	x->next = a->alive;
	if (a->alive)
		a->alive->prev = x;
	a->alive = x;
	x->live = true;
}

static void live_del(struct rfs_agent *a, struct acall *x)
{
	if (!x->live)
		return;
	if (x->prev)
		x->prev->next = x->next;
	else
		a->alive = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->live = false;
}

static void queue_done(struct rfs_agent *a, struct acall *x)
{
	live_del(a, x);
	x->qnext = NULL;
	if (a->adone_tail)
		a->adone_tail->qnext = x;
	else
		a->adone = x;
	a->adone_tail = x;
	pthread_cond_signal(&a->acv);
}

static void on_sent(struct agent_req *q)
{
	struct acall *x = of(q);

	live_add(x->a, x);
	pthread_cond_signal(&x->a->acv); /* a new deadline to keep */
}

static void on_end(struct agent_req *q)
{
	queue_done(of(q)->a, of(q));
}

/* Ends the requests past their deadline; the next deadline. */
static int64_t expire_locked(struct rfs_agent *a, int64_t now)
{
	struct acall *x, *next;
	int64_t due = now + IDLE_MS;

	for (x = a->alive; x; x = next) {
		next = x->next;
		if (x->deadline > now) {
			if (x->deadline < due)
				due = x->deadline;
			continue;
		}
		rfs_agent_forget_locked(a, &x->q);
		x->q.done = true;
		x->q.status = -SBX_ETIMEDOUT;
		if (a->last_rx_ms < x->q.sent_ms) /* nothing came since it went out */
			a->stall_until = now + RFS_AGENT_STALL_MS;
		queue_done(a, x);
	}
	return due;
}

/* ---- the completion thread ---- */

static int send(struct acall *x)
{
	struct sbxa_w w;
	int rc;

	x->q.on_sent = on_sent;
	x->q.on_end = on_end;
	x->deadline = rfs_agent_deadline(x->a->r, x->hint);
	if (x->q.on_reset)
		x->q.on_reset(x->q.ud);
	if (x->tries > 1)
		return rfs_agent_send(x->a, &x->q, &x->w, NULL);
	/* never sent again: the session takes a copy, and a store's writes
	 * kept until answered would hold their whole content. Taken out of
	 * x first: x may be completed and freed as soon as it is sent. */
	w = x->w;
	memset(&x->w, 0, sizeof(x->w));
	x->wlen = w.len;
	rc = rfs_agent_send(x->a, &x->q, &w, NULL);
	sbxa_w_release(&w);
	return rc;
}

/* Hands the result to the caller and frees x. */
static void complete(struct acall *x, int rc)
{
	struct sbx_rfs_async *u = x->user;
	struct sbx_rfs *r = x->a->r;

	if (x->ended) {
		void (*ended)(void *ctx, int rc, uint64_t seq) = x->ended;
		void *ctx = x->ended_ctx;
		uint64_t seq = x->q.seq;

		sbxa_w_release(&x->w);
		free(x);
		ended(ctx, rc, seq);
		return;
	}

	if (rc == 0 &&
	    (x->q.on_frame == rfs_agent_attr_frame || x->q.on_frame == rfs_agent_attr_opt_frame)) {
		rfs_agent_attr(&u->attr, &x->at.a);
		u->attr.seq = x->q.seq;
	}
	if (rc == 0 && x->q.on_frame == rfs_agent_attr_pair_frame) {
		rfs_agent_attr(&u->attr, &x->at.a);
		rfs_agent_attr(&u->parent_attr, &x->at.parent);
		u->attr.seq = u->parent_attr.seq = x->q.seq;
	}
	if (rc == 0 && u->op == SBX_RFS_OP_READLINK)
		u->link = x->su.s;
	else
		free(x->su.s);
	if (u->op == SBX_RFS_OP_READDIR && x->tu.t)
		rc = rfs_agent_tree_done(&x->tu, rc, x->q.seq);
	if (rc == 0 && u->op == SBX_RFS_OP_FETCH) {
		x->ru.seq = x->q.seq;
		rc = rfs_agent_fetch_end(&x->ru, x->validator, x->root, &u->unchanged, &u->len,
					 &u->attr, u->fetched_validator, NULL);
	}
	if (rc == 0 && u->op == SBX_RFS_OP_READ_RANGE) {
		u->len = x->ru.n;
		rfs_agent_attr(&u->attr, &x->ru.a);
		u->attr.seq = x->q.seq;
	}
	if (rc == 0 && u->op == SBX_RFS_OP_STATFS)
		rfs_agent_statvfs(&u->vfs, &x->sf);
	if (rc == 0 && u->op == SBX_RFS_OP_XATTR) {
		u->value = x->zu.buf;
		u->value_len = x->zu.len;
	} else {
		free(x->zu.buf);
	}
	free(x->root);
	free(x->validator);
	rfs_count(r, u->op, 1, rc, (sbx_now_ms() - x->t0) * 1000, x->ru.n,
		  x->w.p ? x->w.len : x->wlen);
	sbxa_w_release(&x->w);
	free(x);
	u->rc = rc;
	rfs_async_end(r);
	u->done(u);
}

/* An ended request: sent again when it may be and its session is what
 * failed, else completed. */
static void finish(struct acall *x)
{
	int rc = x->q.status;
	bool stopping;

	pthread_mutex_lock(&x->a->m);
	stopping = x->a->athr_stop;
	pthread_mutex_unlock(&x->a->m);
	if (rc == -SBX_ECONN && --x->tries > 0 && !stopping) {
		rc = send(x);
		if (rc == 0)
			return;
	}
	complete(x, rc);
}

static void *completion_main(void *arg)
{
	struct rfs_agent *a = arg;
	struct timespec ts;
	struct acall *x;
	int64_t now, due;

	pthread_mutex_lock(&a->m);
	while (!a->athr_stop || a->adone) {
		if ((x = a->adone)) {
			a->adone = x->qnext;
			if (!a->adone)
				a->adone_tail = NULL;
			pthread_mutex_unlock(&a->m);
			finish(x);
			pthread_mutex_lock(&a->m);
			continue;
		}
		now = sbx_now_ms();
		due = expire_locked(a, now);
		if (a->adone)
			continue;
		sbx_deadline_ts(&ts, due - now);
		pthread_cond_timedwait(&a->acv, &a->m, &ts);
	}
	pthread_mutex_unlock(&a->m);
	return NULL;
}

static int thread_up(struct rfs_agent *a)
{
	int rc = 0;

	pthread_mutex_lock(&a->m);
	if (!a->athr_on && !a->athr_stop) {
		if (pthread_create(&a->athr, NULL, completion_main, a) == 0)
			a->athr_on = true;
		else
			rc = -EAGAIN;
	}
	if (a->athr_stop)
		rc = -SBX_ECONN;
	pthread_mutex_unlock(&a->m);
	return rc;
}

int rfs_agent_submit_frame(struct sbx_rfs *r, struct sbxa_w *w,
			   int (*on_frame)(void *ud, uint16_t type, uint16_t flags,
					   const uint8_t *p, size_t n),
			   void *ud, uint64_t hint, void (*ended)(void *ctx, int rc, uint64_t seq),
			   void *ctx)
{
	struct acall *x = calloc(1, sizeof(*x));
	int rc;

	if (!x) {
		sbxa_w_release(w);
		return -ENOMEM;
	}
	x->a = r->agent;
	x->t0 = sbx_now_ms();
	x->tries = 1;
	x->hint = hint;
	x->w = *w;
	memset(w, 0, sizeof(*w));
	x->q.on_frame = on_frame;
	x->q.ud = ud;
	x->ended = ended;
	x->ended_ctx = ctx;
	rc = thread_up(x->a) ?: send(x);
	if (rc < 0) {
		sbxa_w_release(&x->w);
		free(x);
	}
	return rc;
}

void rfs_agent_submit(struct sbx_rfs *r, struct sbx_rfs_async *u)
{
	struct rfs_agent *a = r->agent;
	struct acall *x;
	int rc;

	if (u->op == SBX_RFS_OP_STORE || u->op == SBX_RFS_OP_FSYNC) {
		rfs_agent_store_submit(r, u);
		return;
	}
	x = calloc(1, sizeof(*x));
	rfs_async_begin(r, u);
	if (!x) {
		u->rc = -ENOMEM;
		rfs_count_local_failure(r, u->op);
		rfs_async_end(r);
		u->done(u);
		return;
	}
	x->a = a;
	x->user = u;
	x->t0 = sbx_now_ms();
	/* a GETXATTR or LISTXATTR only reads; a change may have landed */
	x->tries = rfs_agent_idempotent(u->op) ||
			   (u->op == SBX_RFS_OP_XATTR && u->xop == SBX_RFS_XATTR_GET)
		       ? 2
		       : 1;
	if (u->op == SBX_RFS_OP_READDIR) {
		x->root = strdup(u->path);
		if (!x->root) {
			complete(x, -ENOMEM);
			return;
		}
		rfs_agent_tree_request(r, &x->w, &x->tu, x->root, u->max_entries, u->flags,
				       &u->tree);
		x->q.on_frame = rfs_agent_tree_frame;
		x->q.on_reset = rfs_agent_tree_reset;
		x->q.ud = &x->tu;
	} else if (u->op == SBX_RFS_OP_FETCH) {
		x->root = strdup(u->path);
		x->validator = u->validator ? strdup(u->validator) : NULL;
		if (!x->root || (u->validator && !x->validator)) {
			complete(x, -ENOMEM);
			return;
		}
		x->hint = u->size_hint;
		x->ru.fd = u->fd;
		rfs_agent_read_request(&x->w, x->root, 0, UINT64_MAX, x->validator, &x->ru);
		x->q.on_frame = rfs_agent_read_frame;
		x->q.on_reset = rfs_agent_read_reset;
		x->q.ud = &x->ru;
	} else if (u->op == SBX_RFS_OP_READ_RANGE) {
		if (u->count > SBX_RFS_READ_MAX) {
			complete(x, -EINVAL);
			return;
		}
		x->hint = u->count;
		x->ru.fd = u->fd;
		x->ru.fd_off = u->fd_off;
		x->ru.max = u->count; /* a reply longer than asked is refused */
		rfs_agent_read_request(&x->w, u->path, u->off, u->count, NULL, &x->ru);
		x->q.on_frame = rfs_agent_read_frame;
		x->q.on_reset = rfs_agent_read_reset;
		x->q.ud = &x->ru;
	} else if (u->op == SBX_RFS_OP_XATTR && u->xop != SBX_RFS_XATTR_GET) {
		rc = rfs_agent_xattr_change(&x->w, u->cred, u->path, u->name,
					    u->xop == SBX_RFS_XATTR_SET, u->set_value, u->set_len,
					    u->set_flags);
		if (rc < 0) {
			complete(x, rc);
			return;
		}
	} else if (u->op == SBX_RFS_OP_XATTR) {
		void *buf = u->size ? malloc(u->size) : NULL;

		rc = u->size && !buf ? -ENOMEM
				     : rfs_agent_xattr_request(&x->w, &x->zu, u->cred, u->path,
							       u->name, buf, u->size);
		if (rc < 0) {
			free(buf);
			complete(x, rc);
			return;
		}
		x->q.on_frame = rfs_agent_sized_frame;
		x->q.ud = &x->zu;
	} else if (u->op == SBX_RFS_OP_STATFS) {
		x->q.on_frame = rfs_agent_statfs_frame;
		x->q.ud = &x->sf;
	} else if (u->op == SBX_RFS_OP_READLINK) {
		x->q.on_frame = rfs_agent_str_frame;
		x->q.on_reset = rfs_agent_str_reset;
		x->q.ud = &x->su;
	} else if (u->op == SBX_RFS_OP_RENAME) {
		x->q.on_frame = rfs_agent_attr_opt_frame;
		x->q.ud = &x->at.a;
	} else if (u->op == SBX_RFS_OP_MKDIR) {
		x->q.on_frame = rfs_agent_attr_pair_frame;
		x->q.ud = &x->at;
	} else if (u->op != SBX_RFS_OP_UNLINK && u->op != SBX_RFS_OP_RMDIR) {
		x->q.on_frame = rfs_agent_attr_frame;
		x->q.ud = &x->at.a;
	}
	rc = (u->op == SBX_RFS_OP_READDIR || u->op == SBX_RFS_OP_XATTR ||
			      u->op == SBX_RFS_OP_FETCH || u->op == SBX_RFS_OP_READ_RANGE
		      ? 0
		      : rfs_agent_async_frame(&x->w, u))
		?: thread_up(a) ?: send(x);
	if (rc < 0)
		complete(x, rc);
}

void rfs_agent_async_stop(struct rfs_agent *a)
{
	pthread_mutex_lock(&a->m);
	a->athr_stop = true;
	pthread_cond_signal(&a->acv);
	pthread_mutex_unlock(&a->m);
	if (a->athr_on)
		pthread_join(a->athr, NULL);
	a->athr_on = false;
}
