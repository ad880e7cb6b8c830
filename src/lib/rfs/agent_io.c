/* agent_io.c - file data in flight on the agent's session: ranged reads
 * that the caller starts and ends apart (so that many are in flight at
 * once), and writes in place on a handle, sent without waiting.
 *
 * A ranged read is a READ by path, not a PREAD on a handle: it needs no
 * open or close, survives a new session (it is sent again once, as every
 * read is), and its first frame carries the attributes of the version it
 * read, so the caller can tell a file that changed under it.
 *
 * Writes in place: OPEN (sent, not waited for: the client picks the
 * handle, so PWRITEs can follow it at once), then PWRITEs with at most
 * WF_WINDOW of them and WF_BYTES_MAX bytes unanswered. Every reply is checked (all bytes written);
 * the first failure is kept until a sync reports it. A session that ends loses the handle: later
 * writes fail (-EIO) until the file is opened again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "rfs/agent.h"
#include "rfs/agent_dec.h"
#include "rfs/call.h"
#include "rfs/transport.h"
#include "util/timeutil.h"

/* Unanswered PWRITEs at once: bounded in bytes, so that a writer of
 * small pieces (cp writes 128 KiB at a time) keeps as much in flight as
 * one of 1 MiB pieces: 32 MiB cover 50 ms of round trip at 640 MB/s. */
#define WF_WINDOW    256
#define WF_BYTES_MAX (32u << 20)

/* ---- ranged reads ---- */

struct agent_pread {
	struct sbx_rfs_pread pub; /* first: what rfs.c sees */
	struct sbx_rfs *r;
	struct agent_req q;
	struct read_ud u;
	struct sbxa_w w; /* the request, kept to send it again */
	int64_t t0, end;
	bool resent;
	char what[SBX_FS_WHAT_MAX];
};

static int pread_send(struct agent_pread *p, struct sbx_err *err)
{
	memset(&p->q, 0, sizeof(p->q));
	p->q.on_frame = rfs_agent_read_frame;
	p->q.on_reset = rfs_agent_read_reset;
	p->q.ud = &p->u;
	rfs_agent_read_reset(&p->u);
	return rfs_agent_send(p->r->agent, &p->q, &p->w, err);
}

int rfs_agent_read_start(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			 uint64_t fd_off, struct sbx_rfs_pread **ret, struct sbx_err *err)
{
	struct agent_pread *p = calloc(1, sizeof(*p));
	struct sbxa_validator none = {0};
	int rc;

	if (!p)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	p->pub.tp = &rfs_agent_transport;
	p->r = r;
	p->u.fd = fd;
	p->u.fd_off = fd_off;
	p->u.max = len; /* a reply longer than asked is refused */
	p->t0 = sbx_now_ms();
	p->end = rfs_agent_deadline(r, len);
	sbx_fs_describe(p->what, sizeof(p->what), "read range", path, NULL);
	rfs_agent_begin(&p->w, SBXA_OP_READ);
	sbxa_put_cstr(&p->w, path);
	sbxa_put_u64(&p->w, off);
	sbxa_put_u64(&p->w, len);
	sbxa_put_u32(&p->w, 0);
	sbxa_put_validator(&p->w, &none);
	rc = pread_send(p, err);
	if (rc == -SBX_ECONN) /* the session ended just now: a new one */
		rc = pread_send(p, err);
	if (rc < 0) {
		rfs_count(r, SBX_RFS_OP_READ_RANGE, 0, rc, 0, 0, 0);
		sbxa_w_release(&p->w);
		free(p);
		return rc;
	}
	*ret = &p->pub;
	return 0;
}

int rfs_agent_read_finish(struct sbx_rfs_pread *pub, uint64_t *ret_n, struct sbx_rfs_attr *ret_attr,
			  struct sbx_err *err)
{
	struct agent_pread *p = (struct agent_pread *)pub;
	int rc;

	rc = rfs_agent_wait(p->r->agent, &p->q, p->end, err);
	if (rc == -SBX_ECONN && !p->resent) {
		p->resent = true;
		rc = pread_send(p, err);
		if (rc == 0)
			rc = rfs_agent_wait(p->r->agent, &p->q, p->end, err);
	}
	if (rc < 0 && !sbx_rfs_is_transport_error(rc))
		sbx_err_set(err, rc, 0, "%s: %s", p->what, strerror(-rc));
	rfs_count(p->r, SBX_RFS_OP_READ_RANGE, 1, rc, (sbx_now_ms() - p->t0) * 1000,
		  rc == 0 ? p->u.n : 0, p->w.len);
	if (rc == 0 && ret_n)
		*ret_n = p->u.n;
	if (rc == 0 && ret_attr) {
		rfs_agent_attr(ret_attr, &p->u.a);
		ret_attr->seq = p->q.seq;
	}
	sbxa_w_release(&p->w);
	free(p);
	return rc;
}

/* ---- writes in place ---- */

struct sbx_rfs_wfile {
	struct sbx_rfs *r;
	uint32_t h;
	bool open_pending; /* the OPEN's reply is not yet waited for */
	struct agent_req qopen;
	struct agent_req win[WF_WINDOW]; /* ring of PWRITEs */
	uint32_t want[WF_WINDOW];	 /* bytes each must report */
	unsigned head, inflight;
	uint64_t inflight_bytes;
	int err; /* the first failure not yet reported */
	char what[SBX_FS_WHAT_MAX];
};

uint32_t rfs_agent_wfile_handle(const struct sbx_rfs_wfile *f)
{
	return f->h;
}

static void wf_note(struct sbx_rfs_wfile *f, int rc)
{
	if (rc == -EBADF)
		rc = -EIO; /* the handle was lost with its session */
	if (rc < 0 && !f->err)
		f->err = rc;
}

static void wf_wait_one(struct sbx_rfs_wfile *f)
{
	struct agent_req *q = &f->win[f->head];
	int64_t t0 = q->sent_ms;
	int rc;

	rc = rfs_agent_wait(f->r->agent, q, rfs_agent_deadline(f->r, f->want[f->head]), NULL);
	wf_note(f, rc);
	rfs_count(f->r, SBX_RFS_OP_WRITE_RANGE, 1, rc, (sbx_now_ms() - t0) * 1000, 0,
		  f->want[f->head]);
	f->inflight_bytes -= f->want[f->head];
	f->head = (f->head + 1) % WF_WINDOW;
	f->inflight--;
}

int rfs_agent_wfile_open(struct sbx_rfs *r, const char *path, struct sbx_rfs_wfile **ret,
			 struct sbx_err *err)
{
	struct sbx_rfs_wfile *f = calloc(1, sizeof(*f));
	struct sbxa_w w = {0};
	int rc;

	if (!f)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	f->r = r;
	sbx_fs_describe(f->what, sizeof(f->what), "write", path, NULL);
	rc = rfs_agent_handle_get(r->agent, &f->h);
	if (rc < 0) {
		rc = sbx_err_set(err, rc, 0, "%s: no free handle", f->what);
		free(f);
		return rc;
	}
	rfs_agent_begin(&w, SBXA_OP_OPEN);
	sbxa_put_u32(&w, f->h);
	sbxa_put_cstr(&w, path);
	sbxa_put_u32(&w, SBXA_O_WRONLY | SBXA_O_NOFOLLOW);
	sbxa_put_u32(&w, 0);
	rc = rfs_agent_send(r->agent, &f->qopen, &w, err);
	sbxa_w_release(&w);
	if (rc < 0) {
		rfs_agent_handle_put(r->agent, f->h);
		free(f);
		return rc;
	}
	f->open_pending = true;
	*ret = f;
	return 0;
}

int sbx_rfs_wfile_write(struct sbx_rfs_wfile *f, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *d = buf;
	int rc = 0;

	while (n > 0 && rc == 0) {
		size_t k = n < SBXA_IO_MAX ? n : SBXA_IO_MAX;
		unsigned slot;
		struct agent_req *q;
		struct sbxa_w w = {0};
		uint8_t *dst;

		while (f->inflight == WF_WINDOW ||
		       (f->inflight && f->inflight_bytes + k > WF_BYTES_MAX))
			wf_wait_one(f);
		slot = (f->head + f->inflight) % WF_WINDOW;
		q = &f->win[slot];
		memset(q, 0, sizeof(*q));
		f->want[slot] = (uint32_t)k;
		q->on_frame = rfs_agent_pwrite_frame;
		q->ud = &f->want[slot];
		rfs_agent_reserve(f->r->agent, k);
		rfs_agent_begin(&w, SBXA_OP_PWRITE);
		sbxa_put_u32(&w, f->h);
		sbxa_put_u64(&w, off);
		dst = sbxa_w_room(&w, k);
		if (dst)
			memcpy(dst, d, k);
		rc = dst ? rfs_agent_send(f->r->agent, q, &w, NULL) : -ENOMEM;
		sbxa_w_release(&w);
		rfs_agent_unreserve(f->r->agent, k);
		if (rc == 0) {
			f->inflight++;
			f->inflight_bytes += k;
		}
		d += k;
		n -= k;
		off += k;
	}
	wf_note(f, rc);
	return f->err;
}

int sbx_rfs_wfile_sync(struct sbx_rfs_wfile *f, bool fsync, struct sbx_err *err)
{
	struct agent_req q = {0};
	struct sbxa_w w = {0};
	int rc;

	if (f->open_pending) {
		f->open_pending = false;
		wf_note(f,
			rfs_agent_wait(f->r->agent, &f->qopen, rfs_agent_deadline(f->r, 0), NULL));
	}
	while (f->inflight)
		wf_wait_one(f);
	if (fsync && !f->err) {
		rfs_agent_begin(&w, SBXA_OP_FSYNC);
		sbxa_put_u32(&w, f->h);
		sbxa_put_u32(&w, 0);
		rc = rfs_agent_send(f->r->agent, &q, &w, NULL);
		if (rc == 0)
			rc = rfs_agent_wait(f->r->agent, &q, rfs_agent_deadline(f->r, 0), NULL);
		sbxa_w_release(&w);
		wf_note(f, rc);
	}
	rc = f->err;
	f->err = 0;
	if (rc < 0)
		sbx_err_set(err, rc, 0, "%s: %s", f->what, strerror(-rc));
	return rc;
}

int sbx_rfs_wfile_close(struct sbx_rfs_wfile *f, struct sbx_err *err)
{
	struct agent_req q = {0};
	struct sbxa_w w = {0};
	int rc;

	if (!f)
		return 0;
	rc = sbx_rfs_wfile_sync(f, false, err);
	rfs_agent_begin(&w, SBXA_OP_CLOSE);
	sbxa_put_u32(&w, f->h);
	if (rfs_agent_send(f->r->agent, &q, &w, NULL) == 0)
		rfs_agent_wait(f->r->agent, &q, rfs_agent_deadline(f->r, 0), NULL);
	sbxa_w_release(&w);
	rfs_agent_handle_put(f->r->agent, f->h);
	free(f);
	return rc;
}
