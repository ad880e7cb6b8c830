/* agent_store.c - the agent transport's store (rfs.h: sbx_rfs_store(), and
 * sbx_rfs_submit()'s STORE).
 *
 * A store sends all of its requests (TMPFILE or OPEN, FTRUNCATE, the
 * PWRITEs, FSYNC when durable, COMMIT or CLOSE then SETATTR) back to back
 * on the session, which the agent runs in order, and then waits, so a
 * small file costs one round trip. The new content is first given its
 * length (FTRUNCATE) and then only the data extents of the local copy
 * are sent, so a sparse file stays sparse. The agent's COMMIT puts it in
 * place only when no write on the handle failed or wrote short and the
 * size is the length sent, and the client checks every write's reply as
 * well, so a store that lost a write fails.
 *
 * The waiting store keeps at most STORE_WINDOW writes unanswered. The one
 * answered later (rfs_agent_store_submit) sends every request as a request
 * of agent_async.c (rfs_agent_submit_frame) and ends when the last of them
 * has: nobody waits, and no thread is held meanwhile. It takes at most
 * STORE_ASYNC_MAX bytes (its frames are queued on the session at once);
 * a larger one is the waiting store, made on the caller's thread. An
 * FSYNC answered later (sbx_rfs_fsync() of a file stored before) is made
 * the same way: OPEN, FSYNC and CLOSE back to back, one round trip; one
 * of a write handle's writes is an FSYNC on it and an LSTAT of the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "rfs/agent.h"
#include "rfs/agent_dec.h"
#include "rfs/call.h"
#include "rfs/transport.h"
#include "util/timeutil.h"

#define STORE_WINDOW	16 /* PWRITEs unanswered at once */
#define STORE_ASYNC_MAX ((uint64_t)STORE_WINDOW * SBXA_IO_MAX)

/* ---- the requests' frames ---- */

/* The request that opens the file to write: TMPFILE (atomic) or OPEN. */
static void frame_open(struct sbxa_w *w, const struct sbx_rfs_cred *cred, uint32_t h,
		       const char *path, const struct sbx_rfs_store_opts *o)
{
	uint32_t mode = o->attrs.valid & SBX_RFS_SET_MODE ? o->attrs.mode & 07777 : 0644;

	rfs_agent_begin_as(w, o->in_place ? SBXA_OP_OPEN : SBXA_OP_TMPFILE, cred);
	sbxa_put_u32(w, h);
	sbxa_put_cstr(w, path);
	if (o->in_place)
		sbxa_put_u32(w, SBXA_O_WRONLY | SBXA_O_CREAT | SBXA_O_TRUNC);
	sbxa_put_u32(w, mode);
}

/* FTRUNCATE of the new content to its length, so that only data needs
 * sending. */
static void frame_length(struct sbxa_w *w, const struct sbx_rfs_cred *cred, uint32_t h,
			 uint64_t len)
{
	rfs_agent_begin_as(w, SBXA_OP_FTRUNCATE, cred);
	sbxa_put_u32(w, h);
	sbxa_put_u64(w, len);
}

/* A PWRITE of fd's n bytes at off: 0, or a negative errno (the local
 * copy is shorter: -EIO). */
static int frame_chunk(struct sbxa_w *w, const struct sbx_rfs_cred *cred, uint32_t h, int fd,
		       uint64_t off, size_t n)
{
	uint8_t *dst;
	ssize_t got;

	rfs_agent_begin_as(w, SBXA_OP_PWRITE, cred);
	sbxa_put_u32(w, h);
	sbxa_put_u64(w, off);
	dst = sbxa_w_room(w, n);
	if (!dst)
		return -ENOMEM;
	got = pread(fd, dst, n, (off_t)off);
	if (got != (ssize_t)n)
		return got < 0 ? -errno : -EIO;
	return 0;
}

/* FSYNC of the new content, after its data and before it is put in place. */
static void frame_fsync(struct sbxa_w *w, const struct sbx_rfs_cred *cred, uint32_t h)
{
	rfs_agent_begin_as(w, SBXA_OP_FSYNC, cred);
	sbxa_put_u32(w, h);
	sbxa_put_u32(w, 0);
}

/* The attributes to apply at the end (SIZE is the length sent). */
static void end_attrs(struct sbxa_setattr *set, const struct sbx_rfs_store_opts *o)
{
	struct sbx_rfs_setattr sa = o->attrs;

	sa.valid &= ~SBX_RFS_SET_SIZE;
	rfs_agent_setattr_of(set, &sa);
}

/* The closing request: COMMIT (atomic: the attributes after it come
 * back) or CLOSE (in place: frame_setattr follows). */
static void frame_finish(struct sbxa_w *w, const struct sbx_rfs_cred *cred, uint32_t h,
			 const char *path, uint64_t len, const struct sbx_rfs_store_opts *o)
{
	struct sbxa_setattr set;

	rfs_agent_begin_as(w, o->in_place ? SBXA_OP_CLOSE : SBXA_OP_COMMIT, cred);
	sbxa_put_u32(w, h);
	if (o->in_place)
		return;
	end_attrs(&set, o);
	sbxa_put_cstr(w, path);
	sbxa_put_u64(w, len);
	sbxa_put_setattr(w, &set);
}

/* In place, after the CLOSE: the attributes, and the file's after them. */
static void frame_setattr(struct sbxa_w *w, const struct sbx_rfs_cred *cred, const char *path,
			  const struct sbx_rfs_store_opts *o)
{
	struct sbxa_setattr set;

	end_attrs(&set, o);
	rfs_agent_begin_as(w, SBXA_OP_SETATTR, cred);
	sbxa_put_cstr(w, path);
	sbxa_put_setattr(w, &set);
}

/* A CLOSE that gives the handle back after a store that stopped before
 * its closing request. */
static void frame_close(struct sbxa_w *w, const struct sbx_rfs_cred *cred, uint32_t h)
{
	rfs_agent_begin_as(w, SBXA_OP_CLOSE, cred);
	sbxa_put_u32(w, h);
}

/* The next data extent of fd at or after *off, below len: its end in
 * *ret_end; false when none is left (a hole up to len). */
static bool next_data(int fd, uint64_t *off, uint64_t len, uint64_t *ret_end)
{
	off_t d = lseek(fd, (off_t)*off, SEEK_DATA), h;

	*ret_end = len;
	if (d < 0 && errno == ENXIO)
		return false;
	if (d >= 0) {
		*off = (uint64_t)d;
		h = lseek(fd, d, SEEK_HOLE);
		*ret_end = h >= 0 && (uint64_t)h < len ? (uint64_t)h : len;
	}
	return *off < len;
}

/* ---- the waiting store ---- */

struct store {
	struct sbx_rfs *r;
	const struct sbx_rfs_cred *cred; /* borrowed: o->cred */
	uint32_t h;
	struct agent_req win[STORE_WINDOW];
	uint32_t want[STORE_WINDOW]; /* bytes each PWRITE must report */
	unsigned inflight, head;     /* ring of PWRITE requests */
	int first_err;
	struct sbx_err err;
	uint64_t bytes_out;
};

static void store_note(struct store *s, int rc)
{
	if (rc < 0 && !s->first_err)
		s->first_err = rc;
}

/* Sends w as q (w released). */
static int store_send(struct store *s, struct agent_req *q, struct sbxa_w *w)
{
	int rc = rfs_agent_send(s->r->agent, q, w, &s->err);

	if (rc == 0)
		s->bytes_out += w->len;
	sbxa_w_release(w);
	return rc;
}

/* Waits for the oldest PWRITE. */
static void store_wait_one(struct store *s, int64_t end)
{
	struct agent_req *q = &s->win[s->head];

	store_note(s, rfs_agent_wait(s->r->agent, q, end, &s->err));
	s->head = (s->head + 1) % STORE_WINDOW;
	s->inflight--;
}

/* A PWRITE's reply: all of the chunk was written, or the store fails. */
int rfs_agent_pwrite_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	const uint32_t *want = ud;
	struct sbxa_r rd;
	uint32_t got;

	(void)type;
	(void)flags;
	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	got = sbxa_get_u32(&rd);
	if (rd.err)
		return rd.err;
	return got == *want ? 0 : -EIO;
}

/* Sends one chunk of fd as a PWRITE, keeping at most STORE_WINDOW open. */
static int store_chunk(struct store *s, int fd, uint64_t off, size_t n, int64_t end)
{
	unsigned slot;
	struct agent_req *q;
	struct sbxa_w w = {0};
	int rc;

	if (s->inflight == STORE_WINDOW)
		store_wait_one(s, end);
	rfs_agent_reserve(s->r->agent, n);
	rc = frame_chunk(&w, s->cred, s->h, fd, off, n);
	if (rc < 0) {
		rfs_agent_unreserve(s->r->agent, n);
		sbxa_w_release(&w);
		return rc;
	}
	slot = (s->head + s->inflight) % STORE_WINDOW;
	q = &s->win[slot];
	memset(q, 0, sizeof(*q));
	s->want[slot] = (uint32_t)n;
	q->on_frame = rfs_agent_pwrite_frame;
	q->ud = &s->want[slot];
	rc = store_send(s, q, &w);
	rfs_agent_unreserve(s->r->agent, n);
	if (rc == 0)
		s->inflight++;
	return rc;
}

/* The closing request (and in place the SETATTR after it): 0 when only
 * the first was sent, 1 when both were, or a negative errno. */
static int store_finish(struct store *s, const char *path, uint64_t len,
			const struct sbx_rfs_store_opts *o, struct agent_req *q,
			struct agent_req *q2, struct sbxa_attr *a)
{
	struct sbxa_w w = {0};
	int rc;

	q->on_frame = o->in_place ? NULL : rfs_agent_attr_frame;
	q->ud = a;
	frame_finish(&w, s->cred, s->h, path, len, o);
	rc = store_send(s, q, &w);
	if (rc < 0 || !o->in_place)
		return rc;
	q2->on_frame = rfs_agent_attr_frame;
	q2->ud = a;
	frame_setattr(&w, s->cred, path, o);
	rc = store_send(s, q2, &w);
	store_note(s, rc);
	return rc < 0 ? 0 : 1; /* the CLOSE was sent: it is waited for */
}

static void store_abort(struct store *s, int64_t end)
{
	struct agent_req q = {0};
	struct sbxa_w w = {0};

	frame_close(&w, s->cred, s->h);
	if (rfs_agent_send(s->r->agent, &q, &w, NULL) == 0)
		rfs_agent_wait(s->r->agent, &q, end, NULL);
	sbxa_w_release(&w);
}

int rfs_agent_store(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
		    const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret,
		    char *ret_validator, struct sbx_err *err)
{
	struct store s = {.r = r};
	struct agent_req qo = {0}, qt = {0}, qd = {0}, qf = {0}, qs = {0};
	struct sbx_rfs_store_opts none = {0};
	int64_t t0 = sbx_now_ms(), end = rfs_agent_deadline(r, len);
	char what[SBX_FS_WHAT_MAX];
	struct sbxa_w w = {0};
	struct sbxa_attr a;
	uint64_t off = 0, hole;
	bool opened = false, truncated = false, synced = false;
	int rc, fin = -1;

	o = o ? o : &none;
	s.cred = o->cred;
	sbx_fs_describe(what, sizeof(what), "store", path, NULL);
	rc = rfs_agent_handle_get(r->agent, &s.h);
	if (rc < 0)
		goto out;
	frame_open(&w, s.cred, s.h, path, o);
	rc = store_send(&s, &qo, &w);
	opened = rc == 0;
	if (rc == 0) {
		frame_length(&w, s.cred, s.h, len);
		rc = store_send(&s, &qt, &w);
	}
	truncated = rc == 0;
	/* only the data: holes of the local copy stay holes in the sandbox */
	while (rc == 0 && next_data(fd, &off, len, &hole)) {
		while (rc == 0 && off < hole) {
			size_t n = hole - off < SBXA_IO_MAX ? (size_t)(hole - off) : SBXA_IO_MAX;

			rc = store_chunk(&s, fd, off, n, end);
			off += n;
		}
	}
	if (rc == 0 && o->durable) {
		frame_fsync(&w, s.cred, s.h);
		rc = store_send(&s, &qd, &w);
		synced = rc == 0;
	}
	if (rc == 0)
		rc = fin = store_finish(&s, path, len, o, &qf, &qs, &a);
	/* every request sent is waited for */
	if (opened)
		store_note(&s, rfs_agent_wait(r->agent, &qo, end, &s.err));
	if (truncated)
		store_note(&s, rfs_agent_wait(r->agent, &qt, end, &s.err));
	while (s.inflight)
		store_wait_one(&s, end);
	if (synced)
		store_note(&s, rfs_agent_wait(r->agent, &qd, end, &s.err));
	if (fin >= 0)
		store_note(&s, rfs_agent_wait(r->agent, &qf, end, &s.err));
	if (fin == 1)
		store_note(&s, rfs_agent_wait(r->agent, &qs, end, &s.err));
	store_note(&s, rc);
	rc = s.first_err;
	if (rc < 0 && opened && fin < 0 && !sbx_rfs_is_transport_error(rc))
		store_abort(&s, end);
	rfs_agent_handle_put(r->agent, s.h);
out:
	if (rc < 0 && !sbx_rfs_is_transport_error(rc))
		sbx_err_set(err, rc, 0, "%s: %s", what, strerror(-rc));
	else if (rc < 0 && err)
		*err = s.err;
	if (rc == 0 && ret) {
		rfs_agent_attr(ret, &a);
		ret->seq = fin == 1 ? qs.seq : qf.seq;
	}
	if (rc == 0 && ret_validator) {
		struct sbx_rfs_attr ra;

		rfs_agent_attr(&ra, &a);
		rfs_agent_validator(&ra, ret_validator);
	}
	rfs_count(r, SBX_RFS_OP_STORE, 1, rc, (sbx_now_ms() - t0) * 1000, 0, s.bytes_out);
	return rc;
}

/* ---- the store answered later ---- */

/* One request of an astore; freed with it. */
struct apart {
	struct astore *as;
	uint32_t want; /* a PWRITE: the bytes it must report */
	bool last;     /* its reply carries the stored file's attributes */
	bool soft;     /* its failure only says the attributes are not known */
	struct apart *next;
};

struct astore {
	struct sbx_rfs *r;
	struct sbx_rfs_async *u;
	uint32_t h;
	bool has_h;
	unsigned pending;   /* atomic: requests not ended, and the submitter's hold */
	int first_err;	    /* atomic */
	struct sbxa_attr a; /* the last request's reply (its decoder) */
	uint64_t seq;	    /* of that reply */
	bool no_attr;	    /* a soft last request failed */
	uint64_t bytes_out;
	int64_t t0;
	struct apart *parts; /* the submitter's until its hold goes */
};

static void astore_note(struct astore *as, int rc)
{
	int none = 0;

	if (rc < 0)
		__atomic_compare_exchange_n(&as->first_err, &none, rc, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
}

/* The last request ended (or the submitter let go after it): the
 * caller's done(). */
static void astore_end(struct astore *as)
{
	struct sbx_rfs_async *u = as->u;
	struct sbx_rfs *r = as->r;
	struct apart *p;
	int rc = __atomic_load_n(&as->first_err, __ATOMIC_ACQUIRE);

	if (as->has_h)
		rfs_agent_handle_put(r->agent, as->h);
	memset(&u->attr, 0, sizeof(u->attr));
	if (rc == 0 && !as->no_attr && (u->op == SBX_RFS_OP_STORE || u->wf)) {
		rfs_agent_attr(&u->attr, &as->a);
		u->attr.seq = as->seq;
		if (u->op == SBX_RFS_OP_STORE)
			rfs_agent_validator(&u->attr, u->fetched_validator);
	}
	rfs_count(r, u->op, 1, rc, (sbx_now_ms() - as->t0) * 1000, 0, as->bytes_out);
	while ((p = as->parts)) {
		as->parts = p->next;
		free(p);
	}
	free(as);
	u->rc = rc;
	rfs_async_end(r);
	u->done(u);
}

static void astore_drop(struct astore *as)
{
	if (__atomic_sub_fetch(&as->pending, 1, __ATOMIC_ACQ_REL) == 0)
		astore_end(as);
}

/* A request of the store ended (the completion thread). */
static void part_ended(void *ctx, int rc, uint64_t seq)
{
	struct apart *p = ctx;

	if (p->soft && rc < 0)
		p->as->no_attr = true; /* alone at its end: read by astore_end() after */
	else
		astore_note(p->as, rc);
	if (rc == 0 && p->last)
		p->as->seq = seq;
	astore_drop(p->as);
}

/* part_send() below, and soft: the part's failure is not the request's. */
static int part_send_as(struct astore *as, struct sbxa_w *w, bool pwrite, uint32_t want, bool last,
			bool soft);

/* Sends w (released) as a request of as: 0, or a negative errno (noted). */
static int part_send(struct astore *as, struct sbxa_w *w, bool pwrite, uint32_t want, bool last)
{
	return part_send_as(as, w, pwrite, want, last, false);
}

static int part_send_as(struct astore *as, struct sbxa_w *w, bool pwrite, uint32_t want, bool last,
			bool soft)
{
	struct apart *p = calloc(1, sizeof(*p));
	size_t len = w->len;
	int rc;

	if (!p) {
		sbxa_w_release(w);
		astore_note(as, -ENOMEM);
		return -ENOMEM;
	}
	p->as = as;
	p->want = want;
	p->last = last;
	p->soft = soft;
	p->next = as->parts;
	as->parts = p;
	__atomic_add_fetch(&as->pending, 1, __ATOMIC_ACQ_REL);
	rc = rfs_agent_submit_frame(
	    as->r, w, pwrite ? rfs_agent_pwrite_frame : (last ? rfs_agent_attr_frame : NULL),
	    pwrite ? (void *)&p->want : (last ? (void *)&as->a : NULL), as->u->count, part_ended,
	    p);
	if (rc < 0) {
		__atomic_sub_fetch(&as->pending, 1, __ATOMIC_ACQ_REL);
		astore_note(as, rc);
		return rc;
	}
	as->bytes_out += len;
	return 0;
}

/* The requests of a STORE of len bytes after the handle's (see the top):
 * 0, or the first failure (noted). */
static int store_parts(struct astore *as, struct sbxa_w *w, const struct sbx_rfs_store_opts *o,
		       uint64_t len)
{
	const struct sbx_rfs_cred *cred = o->cred;
	struct sbx_rfs_async *u = as->u;
	uint64_t off = 0, hole;
	bool finished = false;
	int rc;

	frame_open(w, cred, as->h, u->path, o);
	rc = part_send(as, w, false, 0, false);
	if (rc < 0)
		return rc;
	frame_length(w, cred, as->h, len);
	rc = part_send(as, w, false, 0, false);
	while (rc == 0 && next_data(u->fd, &off, len, &hole)) {
		while (rc == 0 && off < hole) {
			size_t n = hole - off < SBXA_IO_MAX ? (size_t)(hole - off) : SBXA_IO_MAX;

			rfs_agent_reserve(as->r->agent, n);
			rc = frame_chunk(w, cred, as->h, u->fd, off, n);
			if (rc < 0)
				sbxa_w_release(w);
			rc = rc ?: part_send(as, w, true, (uint32_t)n, false);
			rfs_agent_unreserve(as->r->agent, n);
			off += n;
		}
	}
	if (rc == 0 && o->durable) {
		frame_fsync(w, cred, as->h);
		rc = part_send(as, w, false, 0, false);
	}
	if (rc == 0) {
		frame_finish(w, cred, as->h, u->path, len, o);
		rc = part_send(as, w, false, 0, !o->in_place);
		finished = rc == 0;
	}
	if (rc == 0 && o->in_place) {
		frame_setattr(w, cred, u->path, o);
		rc = part_send(as, w, false, 0, true);
	}
	astore_note(as, rc);
	/* stopped before the closing request, not by the session's end:
	 * the handle goes back */
	if (rc < 0 && !finished && !sbx_rfs_is_transport_error(rc)) {
		frame_close(w, cred, as->h);
		part_send(as, w, false, 0, false);
	}
	return rc;
}

/* The requests of an FSYNC of a write handle's writes: the FSYNC on it,
 * behind them, then the file's LSTAT (soft: its failure leaves the
 * attributes unknown). */
static int wf_fsync_parts(struct astore *as, struct sbxa_w *w)
{
	struct sbx_rfs_async st = {.op = SBX_RFS_OP_STAT, .path = as->u->path};
	int rc;

	frame_fsync(w, NULL, rfs_agent_wfile_handle(as->u->wf));
	rc = part_send(as, w, false, 0, false);
	if (rc < 0)
		return rc;
	rfs_agent_async_frame(w, &st);
	return part_send_as(as, w, false, 0, true, true);
}

/* The requests of an FSYNC (sbx_rfs_fsync()): OPEN of the file as it is,
 * FSYNC, CLOSE; 0, or the first failure (noted). */
static int fsync_parts(struct astore *as, struct sbxa_w *w)
{
	int rc;

	if (as->u->wf)
		return wf_fsync_parts(as, w);
	rfs_agent_begin(w, SBXA_OP_OPEN);
	sbxa_put_u32(w, as->h);
	sbxa_put_cstr(w, as->u->path);
	sbxa_put_u32(w, SBXA_O_WRONLY | SBXA_O_NOFOLLOW);
	sbxa_put_u32(w, 0);
	rc = part_send(as, w, false, 0, false);
	if (rc < 0)
		return rc;
	frame_fsync(w, NULL, as->h);
	rc = part_send(as, w, false, 0, false);
	if (rc < 0 && sbx_rfs_is_transport_error(rc))
		return rc;
	frame_close(w, NULL, as->h);
	return part_send(as, w, false, 0, false) ?: rc;
}

void rfs_agent_store_submit(struct sbx_rfs *r, struct sbx_rfs_async *u)
{
	struct sbx_rfs_store_opts none = {0};
	const struct sbx_rfs_store_opts *o = u->store ? u->store : &none;
	struct sbxa_w w = {0};
	struct astore *as;
	int rc;

	rfs_async_begin(r, u);
	if (u->op == SBX_RFS_OP_STORE && u->count > STORE_ASYNC_MAX) {
		u->rc = rfs_agent_store(r, u->path, u->fd, u->count, o, &u->attr,
					u->fetched_validator, NULL);
		rfs_async_end(r);
		u->done(u);
		return;
	}
	as = calloc(1, sizeof(*as));
	if (!as) {
		u->rc = -ENOMEM;
		rfs_count_local_failure(r, u->op);
		rfs_async_end(r);
		u->done(u);
		return;
	}
	as->r = r;
	as->u = u;
	as->t0 = sbx_now_ms();
	as->pending = 1;
	rc = u->wf ? 0 : rfs_agent_handle_get(r->agent, &as->h);
	as->has_h = rc == 0 && !u->wf;
	if (rc == 0)
		rc = u->op == SBX_RFS_OP_FSYNC ? fsync_parts(as, &w)
					       : store_parts(as, &w, o, u->count);
	astore_note(as, rc);
	astore_drop(as);
}
