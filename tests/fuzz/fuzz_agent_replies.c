/* fuzz_agent_replies.c - the client's parser of sbx-agent's output
 * (src/lib/rfs/agent_*.c): what root in a sandbox can write to the
 * agent's stdout, parsed on the host.
 *
 * An offline session (agent_dec.h) gets the requests the input asks for,
 * sent by the library's own code (ids 1, 2, ... in that order), then the
 * rest of the input as the agent's stdout, in pieces of sizes the input
 * chooses, cut into frames and dispatched by the session's own code; the
 * session then ends as a dropped link does. Each finished request's
 * result must keep its contract, and everything must be freed (the
 * fuzz build has LeakSanitizer).
 *
 * Input: u8 nreq (1 + n % 8), u8 pieces (bit 7: no change reports), then
 * per request u8 kind, u8 a, u8 b; then the stream (frames, proto.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rfs/agent_dec.h"
#include "rfs/agent_int.h"
#include "rfs/call.h"

#define NREQ_MAX  8
#define ERRNO_MAX 511

enum kind {
	K_STAT,
	K_READDIR,
	K_READDIR_DATA,
	K_TREE,
	K_READLINK,
	K_STATFS,
	K_FETCH,
	K_RANGE,
	K_PWRITE,
	K_HELLO,
	K_WATCH,
	K_JOB,
	K_STDIN,
	K__N
};

struct job_seen {
	int done, out_after_done;
};

struct fz_req {
	enum kind kind;
	struct agent_req q;
	bool sent, mine;
	struct sbxa_attr attr;
	struct rfs_attr_pair pair;
	struct sbxa_statfs stfs;
	uint32_t want;
	struct str_ud str;
	struct sbx_rfs_dir dir;
	struct dir_ud du;
	struct sbx_rfs_tree tree;
	struct tree_ud tu;
	struct read_ud ru;
	struct agent_job *job;
	struct job_seen js;
};

static void on_out(void *ud, const char *d, size_t n)
{
	struct job_seen *js = ud;

	if (js->done)
		js->out_after_done++;
}

static void on_done(void *ud, const struct sbx_exec_result *res)
{
	struct job_seen *js = ud;

	js->done++;
	if (res->exit_code < -1 || res->exit_code > 255)
		abort();
}

/* A change event: a watched directory and one name in it (or ""). */
static void on_change(void *ud, const char *dir, const char *name, unsigned mask,
		      const struct sbx_rfs_attr *attr, uint64_t seq)
{
	if (mask == SBX_RFS_CH_RESET)
		return;
	if (dir[0] != '/' || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strlen(name) > SBXA_NAME_MAX || (mask & ~(0x1fu | SBX_RFS_CH_DIR_NEXT)) ||
	    ((mask & SBX_RFS_CH_DIR_NEXT) && !(mask & (SBX_RFS_CH_CREATE | SBX_RFS_CH_DELETE))) ||
	    (attr && attr->seq != seq))
		abort();
}

/* A listing's entries as rfs.h promises them; returns its data bytes. */
static uint64_t check_dir(const struct sbx_rfs_dir *d, const struct dir_ud *u)
{
	uint64_t total = 0;
	size_t i, nl;

	if (d->n > SBX_RFS_DIR_MAX)
		abort();
	for (i = 0; i < d->n; i++) {
		const struct sbx_rfs_dirent *e = &d->ents[i];

		nl = strlen(e->name);
		if (!nl || nl > SBXA_NAME_MAX || strchr(e->name, '/') || !strcmp(e->name, ".") ||
		    !strcmp(e->name, ".."))
			abort();
		if (!S_ISLNK(e->attr.mode) != !e->link ||
		    (e->link && strlen(e->link) > SBXA_PATH_MAX))
			abort();
		if (e->data && (!u->data || !S_ISREG(e->attr.mode) || e->data_len != e->attr.size ||
				e->data_len > u->file_max))
			abort();
		total += e->data ? e->data_len : 0;
	}
	return total;
}

static void check_tree(struct fz_req *f)
{
	const struct sbx_rfs_tree *t = &f->tree;
	/* "/" joins as "/name", another root as "root/name" */
	size_t i, rl = strcmp(f->tu.root, "/") ? strlen(f->tu.root) : 0, n = 0;
	uint64_t data = 0;
	const char *p;

	if (!t->n || strcmp(t->dirs[0].path, f->tu.root))
		abort();
	for (i = 0; i < t->n; i++) {
		p = t->dirs[i].path;
		/* under the root: root/ followed by names, never . or .. */
		if (i && (strncmp(p, f->tu.root, rl) || p[rl] != '/' || strstr(p + rl, "//") ||
			  strstr(p + rl, "/./") || strstr(p + rl, "/../") ||
			  (strlen(p) >= 2 && !strcmp(p + strlen(p) - 2, "/.")) ||
			  (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")) ||
			  p[strlen(p) - 1] == '/'))
			abort();
		data += check_dir(&t->dirs[i].dir, &f->tu.cur);
		n += t->dirs[i].dir.n;
	}
	if (n > f->tu.max_entries || t->n > (size_t)f->tu.max_entries + 1 ||
	    data > f->tu.cur.total_max)
		abort();
}

static void check_read(const struct fz_req *f, int fd)
{
	struct stat st;

	if (f->ru.unchanged && f->ru.n)
		abort();
	if (f->ru.max && f->ru.n > f->ru.max)
		abort();
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > f->ru.fd_off + f->ru.n)
		abort(); /* written past what it reports */
}

/* Checks a finished request and frees its result. */
static void finish(struct fz_req *f, struct rfs_agent *a)
{
	int st = f->q.status;

	if (f->mine && (!f->q.done || st > 0 || st < -ERRNO_MAX))
		abort();
	switch (f->kind) {
	case K_READDIR:
	case K_READDIR_DATA:
		if (st == 0 && check_dir(&f->dir, &f->du) > f->du.total_max)
			abort();
		sbx_rfs_dir_release(&f->dir);
		break;
	case K_TREE:
		if (st == 0 && rfs_agent_tree_finish(&f->tu) == 0)
			check_tree(f);
		sbx_rfs_tree_release(&f->tree);
		break;
	case K_READLINK:
		if (st == 0 && (!f->str.s || strlen(f->str.s) > SBXA_PATH_MAX))
			abort();
		free(f->str.s);
		break;
	case K_FETCH:
	case K_RANGE:
		if (st == 0)
			check_read(f, f->ru.fd);
		close(f->ru.fd);
		break;
	case K_HELLO:
		if (strnlen(a->agent_machine, sizeof(a->agent_machine)) >= sizeof(a->agent_machine))
			abort();
		break;
	case K_JOB:
		if (f->js.done != 1 || f->js.out_after_done)
			abort();
		break;
	default: break;
	}
}

/* The requests the session owns (detached), sent by the library's own
 * calls; a STDIN with no job before it sends nothing. */
static void send_async(struct rfs_agent *a, struct fz_req *f, struct fz_req *prev, uint8_t pa)
{
	char dir[16];

	f->mine = false;
	switch (f->kind) {
	case K_WATCH: /* detached: the session owns it */
		snprintf(dir, sizeof(dir), "/w%u", pa);
		f->sent = rfs_agent_watch(a, dir, NULL) == 0;
		return;
	case K_JOB: {
		struct sbx_exec_opts o = {.command = "true", .stdin_open = true};
		struct sbx_exec_cbs cbs = {
		    .on_stdout = on_out, .on_stderr = on_out, .on_done = on_done};

		f->sent = rfs_agent_job_start(a, &o, &cbs, &f->js, &f->job, NULL) == 0;
		return;
	}
	case K_STDIN:
		if (prev && prev->kind == K_JOB && prev->sent && !(pa & 1))
			f->sent = rfs_agent_job_write_stdin(prev->job, "x", 1) == 0;
		else if (prev && prev->kind == K_JOB && prev->sent)
			f->sent = rfs_agent_job_close_stdin(prev->job) == 0;
		return;
	default: return;
	}
}

/* Sends request f of the kind the input chose, as the library does. */
static void send_one(struct rfs_agent *a, struct fz_req *f, struct fz_req *prev, uint8_t pa,
		     uint8_t pb)
{
	struct sbxa_w w = {0};

	f->mine = true;
	f->q.ud = f;
	switch (f->kind) {
	case K_STAT: /* LSTAT's reply; MKDIR's (two attrs); RENAME's (one, or none) */
		f->q.on_frame = pa % 3 == 1   ? rfs_agent_attr_pair_frame
				: pa % 3 == 2 ? rfs_agent_attr_opt_frame
					      : rfs_agent_attr_frame;
		f->q.ud = pa % 3 == 1 ? (void *)&f->pair : (void *)&f->attr;
		break;
	case K_READDIR:
	case K_READDIR_DATA:
		f->du = (struct dir_ud){.d = &f->dir, .first = true};
		if (f->kind == K_READDIR_DATA) {
			f->du.data = true;
			f->du.file_max = 1u + pa * 4u;
			f->du.total_max = (uint64_t)pb * 16u;
		}
		f->q.on_frame = rfs_agent_dir_frame;
		f->q.on_reset = rfs_agent_dir_reset;
		f->q.ud = &f->du;
		break;
	case K_TREE:
		f->tu = (struct tree_ud){.r = a->r, .root = pa & 1 ? "/" : "/r", .t = &f->tree};
		f->tu.data = pa & 2;
		f->tu.max_entries = pb;
		f->tu.cur.file_max = f->tu.data ? 1u + (pa >> 2) * 8u : 0;
		f->tu.cur.total_max = f->tu.data ? (uint64_t)pb * 16u : 0;
		f->q.on_frame = rfs_agent_tree_frame;
		f->q.on_reset = rfs_agent_tree_reset;
		f->q.ud = &f->tu;
		break;
	case K_READLINK:
		f->q.on_frame = rfs_agent_str_frame;
		f->q.on_reset = rfs_agent_str_reset;
		f->q.ud = &f->str;
		break;
	case K_STATFS:
		f->q.on_frame = rfs_agent_statfs_frame;
		f->q.ud = &f->stfs;
		break;
	case K_FETCH:
	case K_RANGE:
		f->ru.fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (f->kind == K_RANGE) {
			f->ru.fd_off = pa;
			f->ru.max = pb;
		}
		f->ru.first = true;
		f->q.on_frame = rfs_agent_read_frame;
		f->q.on_reset = rfs_agent_read_reset;
		f->q.ud = &f->ru;
		break;
	case K_PWRITE:
		f->want = pa;
		f->q.on_frame = rfs_agent_pwrite_frame;
		f->q.ud = &f->want;
		break;
	case K_HELLO:
		f->q.on_frame = rfs_agent_hello_frame;
		f->q.ud = a;
		break;
	default: send_async(a, f, prev, pa); return;
	}
	rfs_agent_begin(&w, SBXA_OP_LSTAT);
	f->sent = rfs_agent_send(a, &f->q, &w, NULL) == 0;
	sbxa_w_release(&w);
	if (!f->sent)
		abort();
}

/* Feeds the stream in pieces: all at once, byte by byte, or sizes from
 * a little generator seeded by the input. */
static void feed(struct rfs_agent *a, const uint8_t *d, size_t n, uint8_t pieces)
{
	uint32_t x = pieces | 1u;
	size_t off = 0, k;

	while (off < n) {
		if (pieces % 3 == 0) {
			k = n - off;
		} else if (pieces % 3 == 1) {
			k = 1;
		} else {
			x = x * 1103515245u + 12345u;
			k = 1 + (x >> 16) % 700;
		}
		if (k > n - off)
			k = n - off;
		if (rfs_agent_offline_feed(a, d + off, k) < 0)
			return; /* a real session is cancelled here */
		off += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_req *reqs;
	struct rfs_agent *a;
	struct sbx_rfs *r;
	size_t nreq, i, off;

	if (size < 2)
		return 0;
	nreq = 1 + data[0] % NREQ_MAX;
	off = 2 + 3 * nreq;
	if (size < off)
		return 0;
	r = calloc(1, sizeof(*r));
	reqs = calloc(nreq, sizeof(*reqs));
	if (!r || !reqs)
		abort();
	r->op_timeout_s = 30;
	r->on_change = data[1] & 0x80 ? NULL : on_change;
	if (rfs_agent_offline(r, &a) < 0)
		abort();
	r->agent = a;
	for (i = 0; i < nreq; i++) {
		reqs[i].kind = data[2 + 3 * i] % K__N;
		send_one(a, &reqs[i], i ? &reqs[i - 1] : NULL, data[3 + 3 * i], data[4 + 3 * i]);
	}
	feed(a, data + off, size - off, data[1]);
	rfs_agent_offline_end(a);
	for (i = 0; i < nreq; i++)
		finish(&reqs[i], a);
	for (i = 0; i < nreq; i++)
		if (reqs[i].kind == K_JOB && reqs[i].sent)
			rfs_agent_job_unref(reqs[i].job);
	rfs_agent_free(a);
	free(reqs);
	free(r);
	return 0;
}
