/* agent_tree.c - sbx_rfs_readtree over the agent: one READDIR with
 * SBXA_DIR_TREE, whose records (proto.h: SBXA_REC_*) become one listing
 * per directory. A directory whose SBXA_REC_END did not come was cut
 * short by the entry bound and is dropped, with everything after it. The
 * agent watched each directory before reading it (SBXA_DIR_WATCH): those
 * watches are recorded as if WATCH had made them, so change reports of
 * them are delivered from the start.
 *
 * Nothing the agent says is taken on trust: a directory's path must be a
 * plain relative path (no "", "." or ".." component: the listing stays
 * under the root), every directory but the root must have been announced
 * by a directory entry before, and the entries and file data stay within
 * the bounds the request asked for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/errmap.h"
#include "rfs/agent_dec.h"
#include "rfs/agent_int.h"
#include "rfs/call.h"

/* Whether rel (n bytes) is a relative path of names: no NUL, no leading,
 * trailing or double '/', no "." or "..". */
static bool rel_ok(const char *rel, size_t n)
{
	size_t i = 0, k;

	if (memchr(rel, '\0', n))
		return false;
	while (i < n) {
		for (k = i; k < n && rel[k] != '/'; k++)
			;
		if (k == i || (k - i <= 2 && !memcmp(rel + i, "..", k - i)) ||
		    (k < n && k + 1 == n))
			return false;
		i = k + 1;
	}
	return true;
}

/* root joined with rel ("" for root itself). */
static char *join(const char *root, const char *rel, size_t rlen)
{
	size_t n = strlen(root);
	char *p;

	if (!rlen)
		return strdup(root);
	if (n == 1) /* "/" */
		n = 0;
	p = malloc(n + 1 + rlen + 1);
	if (!p)
		return NULL;
	memcpy(p, root, n);
	p[n] = '/';
	memcpy(p + n + 1, rel, rlen);
	p[n + 1 + rlen] = '\0';
	return p;
}

static int rec_dir(struct tree_ud *u, struct sbxa_r *rd)
{
	struct sbx_rfs_tree_dir *d, *nd;
	struct sbxa_attr self;
	const char *rel;
	size_t rlen;
	uint32_t wd;

	rel = sbxa_get_str(rd, SBXA_PATH_MAX, &rlen);
	sbxa_get_attr(rd, &self);
	wd = sbxa_get_u32(rd);
	if (rd->err || (u->t->n == 0) != (rlen == 0) || !rel_ok(rel, rlen))
		return -EPROTO;
	if (u->open)
		return -EPROTO; /* the previous one must have ended */
	if (u->t->n > u->subdirs)
		return -EPROTO; /* no directory entry announced it */
	if (u->t->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 16;

		nd = realloc(u->t->dirs, ncap * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		u->t->dirs = nd;
		u->cap = ncap;
	}
	d = &u->t->dirs[u->t->n];
	memset(d, 0, sizeof(*d));
	d->path = join(u->root, rel, rlen);
	if (!d->path)
		return -ENOMEM;
	rfs_agent_attr(&d->dir.self, &self);
	d->watched = wd != 0;
	u->t->n++;
	/* the data bounds hold for the whole tree */
	u->cur = (struct dir_ud){.d = &d->dir,
				 .data = u->data,
				 .file_max = u->cur.file_max,
				 .total_max = u->cur.total_max,
				 .total = u->cur.total,
				 .xattrs = u->xattrs};
	u->open = true;
	if (wd)
		rfs_agent_watch_known_locked(u->r->agent, d->path, wd);
	return 0;
}

int rfs_agent_tree_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct tree_ud *u = ud;
	struct sbxa_r rd;
	uint32_t kind;
	int rc = 0;

	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	while (rc == 0 && !rd.err && sbxa_r_left(&rd) > 0) {
		kind = sbxa_get_u32(&rd);
		if (kind == SBXA_REC_DIR) {
			rc = rec_dir(u, &rd);
		} else if (kind == SBXA_REC_ENTRY && u->open && u->entries < u->max_entries) {
			/* the listing's array may move: point again */
			u->cur.d = &u->t->dirs[u->t->n - 1].dir;
			rc = rfs_agent_dir_entry(&u->cur, &rd);
			u->entries++;
			if (rc == 0 && S_ISDIR(u->cur.d->ents[u->cur.d->n - 1].attr.mode))
				u->subdirs++;
		} else if (kind == SBXA_REC_END && u->open) {
			u->open = false;
		} else {
			rc = -EPROTO;
		}
	}
	return rc < 0 ? rc : rd.err;
}

void rfs_agent_tree_reset(void *ud)
{
	struct tree_ud *u = ud;

	sbx_rfs_tree_release(u->t);
	u->cap = 0;
	u->open = false;
	u->entries = u->subdirs = 0;
	u->cur.total = 0;
}

int rfs_agent_tree_finish(struct tree_ud *u)
{
	struct sbx_rfs_tree *t = u->t;

	if (u->open) {
		/* the last one was cut short by the bound */
		sbx_rfs_dir_release(&t->dirs[t->n - 1].dir);
		free(t->dirs[t->n - 1].path);
		t->n--;
		u->open = false;
	}
	return t->n ? 0 : -EPROTO;
}

void rfs_agent_tree_request(struct sbx_rfs *r, struct sbxa_w *w, struct tree_ud *u,
			    const char *path, uint32_t max_entries, unsigned flags,
			    struct sbx_rfs_tree *ret)
{
	uint32_t aflags = SBXA_DIR_TREE | SBXA_DIR_XATTRS;

	memset(ret, 0, sizeof(*ret));
	memset(u, 0, sizeof(*u));
	u->r = r;
	u->root = path;
	u->t = ret;
	u->data = (flags & SBX_RFS_TREE_DATA) && r->prefetch_file_max > 0;
	u->xattrs = true;
	if (max_entries > SBXA_TREE_MAX)
		max_entries = SBXA_TREE_MAX;
	u->max_entries = max_entries;
	u->cur.file_max = u->data ? r->prefetch_file_max : 0;
	u->cur.total_max = u->data ? r->prefetch_total_max : 0;
	aflags |= r->on_change ? SBXA_DIR_WATCH : 0;
	aflags |= u->data ? SBXA_DIR_DATA : 0;
	rfs_agent_begin(w, SBXA_OP_READDIR);
	sbxa_put_cstr(w, path);
	sbxa_put_u32(w, aflags);
	sbxa_put_u32(w, u->data ? r->prefetch_file_max : 0);
	sbxa_put_u32(w, u->data ? r->prefetch_total_max : 0);
	sbxa_put_u32(w, max_entries);
}

int rfs_agent_tree_done(struct tree_ud *u, int rc, uint64_t seq)
{
	struct sbx_rfs_tree *t = u->t;
	size_t i, k;

	if (rc == 0 && rfs_agent_tree_finish(u) < 0)
		rc = -SBX_EPROTO;
	if (rc < 0) {
		sbx_rfs_tree_release(t);
		return rc;
	}
	for (i = 0; i < t->n; i++) {
		t->dirs[i].dir.self.seq = seq;
		for (k = 0; k < t->dirs[i].dir.n; k++)
			t->dirs[i].dir.ents[k].attr.seq = seq;
	}
	return 0;
}

int rfs_agent_readtree(struct sbx_rfs *r, const char *path, uint32_t max_entries, unsigned flags,
		       struct sbx_rfs_tree *ret, struct sbx_err *err)
{
	struct tree_ud u;
	struct agent_req q = {
	    .on_frame = rfs_agent_tree_frame, .on_reset = rfs_agent_tree_reset, .ud = &u};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc;

	sbx_fs_describe(what, sizeof(what), "readdir", path, NULL);
	rfs_agent_tree_request(r, &w, &u, path, max_entries, flags, ret);
	rc = rfs_agent_call(r, SBX_RFS_OP_READDIR, what, &w, &q, 0, err);
	if (rfs_agent_tree_done(&u, rc, q.seq) < 0 && rc == 0)
		rc = sbx_err_set(err, -SBX_EPROTO, 0, "%s: an empty tree listing", what);
	return rc;
}
