/* agent_ops.c - the agent transport: each operation of rfs.h as requests
 * to sbx-agent (src/agent/proto.h) on the context's session.
 *
 * A metadata operation is one request and one reply; a store is several
 * (agent_store.c). Statistics count one round trip per wait for the
 * sandbox (a pipelined batch counts once).
 *
 * The signal and sweep operations have no agent request: they use the
 * shell transport's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "rfs/agent.h"
#include "rfs/agent_dec.h"
#include "rfs/call.h"
#include "rfs/shell.h"
#include "rfs/transport.h"
#include "util/timeutil.h"

_Static_assert(SBX_RFS_SET_MODE == SBXA_SET_MODE && SBX_RFS_SET_UID == SBXA_SET_UID &&
		   SBX_RFS_SET_GID == SBXA_SET_GID && SBX_RFS_SET_SIZE == SBXA_SET_SIZE &&
		   SBX_RFS_SET_ATIME == SBXA_SET_ATIME && SBX_RFS_SET_MTIME == SBXA_SET_MTIME &&
		   SBX_RFS_SET_ATIME_NOW == SBXA_SET_ATIME_NOW &&
		   SBX_RFS_SET_MTIME_NOW == SBXA_SET_MTIME_NOW &&
		   SBX_RFS_SET_ACL_PLAIN == SBXA_SET_ACL_PLAIN,
	       "rfs.h and proto.h setattr bits agree");
_Static_assert(SBX_RFS_GROUPS_MAX == SBXA_GROUPS_MAX && SBX_RFS_XATTR_MAX == SBXA_XATTR_MAX &&
		   SBX_RFS_PATH_MAX == SBXA_LONGPATH_MAX,
	       "rfs.h and proto.h bounds agree");

static void to_ts(struct timespec *ts, struct sbxa_time t)
{
	ts->tv_sec = (time_t)t.sec;
	ts->tv_nsec = (long)t.nsec;
}

void rfs_agent_attr(struct sbx_rfs_attr *o, const struct sbxa_attr *a)
{
	memset(o, 0, sizeof(*o));
	o->mode = a->mode;
	o->nlink = a->nlink;
	o->uid = a->uid;
	o->gid = a->gid;
	o->size = a->size;
	o->blocks = a->blocks;
	o->ino = a->ino;
	o->dev = a->dev;
	to_ts(&o->atime, a->atime);
	to_ts(&o->mtime, a->mtime);
	to_ts(&o->ctime, a->ctime);
}

static void to_attr(struct sbx_rfs_attr *o, const struct sbxa_attr *a)
{
	rfs_agent_attr(o, a);
}

static struct sbxa_time from_ts(const struct timespec *ts)
{
	struct sbxa_time t = {.sec = ts->tv_sec, .nsec = (uint32_t)ts->tv_nsec};

	return t;
}

void rfs_agent_setattr_of(struct sbxa_setattr *o, const struct sbx_rfs_setattr *sa)
{
	memset(o, 0, sizeof(*o));
	o->valid = sa->valid;
	o->mode = sa->mode;
	o->uid = sa->uid;
	o->gid = sa->gid;
	o->size = sa->size;
	o->atime = from_ts(&sa->atime);
	o->mtime = from_ts(&sa->mtime);
}

/* "A<ino>:<size>:<mtime>:<ctime>": names one version of a file's bytes. */
void rfs_agent_validator(const struct sbx_rfs_attr *a, char *out)
{
	snprintf(out, SBX_RFS_VALIDATOR_MAX,
		 "A%" PRIu64 ":%" PRIu64 ":%" PRId64 ".%09ld:%" PRId64 ".%09ld", a->ino, a->size,
		 (int64_t)a->mtime.tv_sec, a->mtime.tv_nsec, (int64_t)a->ctime.tv_sec,
		 a->ctime.tv_nsec);
}

static void validator_of(char *out, const struct sbxa_attr *a)
{
	struct sbx_rfs_attr ra;

	to_attr(&ra, a);
	rfs_agent_validator(&ra, out);
}

/* Whether a names the version v names. */
static bool same_version(const struct sbxa_attr *a, const struct sbxa_validator *v)
{
	return a->ino == v->ino && a->size == v->size && a->mtime.sec == v->mtime.sec &&
	       a->mtime.nsec == v->mtime.nsec && a->ctime.sec == v->ctime.sec &&
	       a->ctime.nsec == v->ctime.nsec;
}

static bool parse_validator(const char *s, struct sbxa_validator *v)
{
	unsigned mns, cns;
	int n = 0;

	if (!s || s[0] != 'A')
		return false;
	memset(v, 0, sizeof(*v));
	if (sscanf(s, "A%" SCNu64 ":%" SCNu64 ":%" SCNd64 ".%u:%" SCNd64 ".%u%n", &v->ino, &v->size,
		   &v->mtime.sec, &mns, &v->ctime.sec, &cns, &n) != 6 ||
	    s[n] || mns >= 1000000000u || cns >= 1000000000u)
		return false;
	v->mtime.nsec = mns;
	v->ctime.nsec = cns;
	return true;
}

int64_t rfs_agent_deadline(const struct sbx_rfs *r, uint64_t bytes)
{
	return sbx_now_ms() + (int64_t)(r->op_timeout_s * 1000) + (int64_t)(bytes >> 20) * 1000;
}

/* Sends the request in w, waits for its reply, counts it. */
/* Operations that may run twice: a read, or one whose repetition finds
 * the same state. They are sent again, once, on a new session when the
 * session they were on ended (the agent killed, sbxd restarted, the link
 * dropped): the caller sees nothing of it. Others fail. */
bool rfs_agent_idempotent(enum sbx_rfs_op op)
{
	switch (op) {
	case SBX_RFS_OP_STAT:
	case SBX_RFS_OP_READDIR:
	case SBX_RFS_OP_READLINK:
	case SBX_RFS_OP_STATFS:
	case SBX_RFS_OP_FETCH:
	case SBX_RFS_OP_READ_RANGE:
	case SBX_RFS_OP_SETATTR: return true;
	default: return false;
	}
}

int rfs_agent_call(struct sbx_rfs *r, enum sbx_rfs_op op, const char *what, struct sbxa_w *w,
		   struct agent_req *q, uint64_t bytes_in_hint, struct sbx_err *err)
{
	int64_t t0 = sbx_now_ms();
	uint64_t out = w->len;
	int rc, tries = rfs_agent_idempotent(op) ? 2 : 1;

	do {
		if (q->on_reset)
			q->on_reset(q->ud);
		rc = rfs_agent_send(r->agent, q, w, err);
		if (rc == 0)
			rc = rfs_agent_wait(r->agent, q, rfs_agent_deadline(r, bytes_in_hint), err);
	} while (rc == -SBX_ECONN && --tries > 0);
	if (rc < 0 && !sbx_rfs_is_transport_error(rc))
		sbx_err_set(err, rc, 0, "%s: %s", what, strerror(-rc));
	rfs_count(r, op, 1, rc, (sbx_now_ms() - t0) * 1000, bytes_in_hint, out);
	sbxa_w_release(w);
	return rc;
}

/* on_frame of the replies that are one attr. */
int rfs_agent_attr_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct sbxa_attr *a = ud;
	struct sbxa_r rd;

	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	sbxa_get_attr(&rd, a);
	return rd.err;
}

int rfs_agent_attr_pair_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct rfs_attr_pair *pa = ud;
	struct sbxa_r rd;

	(void)type;
	(void)flags;
	memset(&pa->parent, 0, sizeof(pa->parent));
	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	sbxa_get_attr(&rd, &pa->a);
	if (rd.err == 0 && rd.off < rd.len)
		sbxa_get_attr(&rd, &pa->parent);
	return rd.err;
}

int rfs_agent_attr_opt_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	if (n <= 4) {
		memset(ud, 0, sizeof(struct sbxa_attr));
		return n == 4 ? 0 : -EPROTO;
	}
	return rfs_agent_attr_frame(ud, type, flags, p, n);
}

/* A request on one path whose reply is an attr (ret may be NULL). */
static int path_attr(struct sbx_rfs *r, enum sbx_rfs_op op, const char *opname, struct sbxa_w *w,
		     const char *path, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbxa_attr a;
	struct agent_req q = {.on_frame = rfs_agent_attr_frame, .ud = &a};
	char what[SBX_FS_WHAT_MAX];
	int rc;

	sbx_fs_describe(what, sizeof(what), opname, path, NULL);
	rc = rfs_agent_call(r, op, what, w, &q, 0, err);
	if (rc == 0 && ret) {
		to_attr(ret, &a);
		ret->seq = q.seq;
	}
	return rc;
}

/* ---- request frames (the calls here and agent_async.c's) ---- */

static void frame_path(struct sbxa_w *w, uint16_t aop, const struct sbx_rfs_cred *cred,
		       const char *path)
{
	rfs_agent_begin_as(w, aop, cred);
	sbxa_put_cstr(w, path);
}

static void frame_mkdir(struct sbxa_w *w, const struct sbx_rfs_cred *cred, const char *path,
			uint32_t mode)
{
	frame_path(w, SBXA_OP_MKDIR, cred, path);
	sbxa_put_u32(w, mode & 07777);
}

static void frame_mknod(struct sbxa_w *w, const struct sbx_rfs_cred *cred, const char *path,
			uint32_t mode, uint64_t rdev, bool excl)
{
	frame_path(w, SBXA_OP_MKNOD, cred, path);
	sbxa_put_u32(w, mode);
	sbxa_put_u64(w, rdev);
	sbxa_put_u32(w, excl ? SBXA_MKNOD_EXCL : 0);
}

/* SBXA_OP_LINK, SBXA_OP_SYMLINK: two names */
static void frame_two(struct sbxa_w *w, uint16_t aop, const struct sbx_rfs_cred *cred,
		      const char *a, const char *b)
{
	frame_path(w, aop, cred, a);
	sbxa_put_cstr(w, b);
}

static int frame_rename(struct sbxa_w *w, const struct sbx_rfs_cred *cred, const char *from,
			const char *to, unsigned flags)
{
	uint32_t f = 0;

	if (flags & ~(SBX_RFS_NOREPLACE | SBX_RFS_EXCHANGE) ||
	    (flags & SBX_RFS_NOREPLACE && flags & SBX_RFS_EXCHANGE))
		return -EINVAL;
	f |= flags & SBX_RFS_NOREPLACE ? 1u : 0; /* RENAME_NOREPLACE */
	f |= flags & SBX_RFS_EXCHANGE ? 2u : 0;	 /* RENAME_EXCHANGE */
	frame_two(w, SBXA_OP_RENAME, cred, from, to);
	sbxa_put_u32(w, f);
	return 0;
}

static void frame_setattr(struct sbxa_w *w, const struct sbx_rfs_cred *cred, const char *path,
			  const struct sbx_rfs_setattr *sa)
{
	struct sbxa_setattr s;

	rfs_agent_setattr_of(&s, sa);
	frame_path(w, SBXA_OP_SETATTR, cred, path);
	sbxa_put_setattr(w, &s);
}

static void frame_statfs(struct sbxa_w *w, const char *path)
{
	rfs_agent_begin(w, SBXA_OP_STATFS);
	sbxa_put_cstr(w, path);
}

int rfs_agent_async_frame(struct sbxa_w *w, const struct sbx_rfs_async *q)
{
	switch (q->op) {
	case SBX_RFS_OP_STAT: frame_path(w, SBXA_OP_LSTAT, NULL, q->path); return 0;
	case SBX_RFS_OP_READLINK: frame_path(w, SBXA_OP_READLINK, NULL, q->path); return 0;
	case SBX_RFS_OP_MKDIR: frame_mkdir(w, q->cred, q->path, q->mode); return 0;
	case SBX_RFS_OP_CREATE:
		frame_mknod(w, q->cred, q->path, q->mode, q->rdev,
			    !(q->flags & SBX_RFS_CREATE_SHARED) || !S_ISREG(q->mode));
		return 0;
	case SBX_RFS_OP_UNLINK: frame_path(w, SBXA_OP_UNLINK, q->cred, q->path); return 0;
	case SBX_RFS_OP_RMDIR: frame_path(w, SBXA_OP_RMDIR, q->cred, q->path); return 0;
	case SBX_RFS_OP_LINK: frame_two(w, SBXA_OP_LINK, q->cred, q->from, q->path); return 0;
	case SBX_RFS_OP_SYMLINK: frame_two(w, SBXA_OP_SYMLINK, q->cred, q->from, q->path); return 0;
	case SBX_RFS_OP_RENAME: return frame_rename(w, q->cred, q->from, q->path, q->flags);
	case SBX_RFS_OP_SETATTR: frame_setattr(w, q->cred, q->path, q->sa); return 0;
	case SBX_RFS_OP_STATFS: frame_statfs(w, q->path); return 0;
	default: return -EINVAL;
	}
}

static int ag_stat(struct sbx_rfs *r, const char *path, struct sbx_rfs_attr *ret,
		   struct sbx_err *err)
{
	struct sbxa_w w = {0};

	frame_path(&w, SBXA_OP_LSTAT, NULL, path);
	return path_attr(r, SBX_RFS_OP_STAT, "stat", &w, path, ret, err);
}

static int ag_mkdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		    uint32_t mode, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbxa_w w = {0};

	frame_mkdir(&w, cred, path, mode);
	return path_attr(r, SBX_RFS_OP_MKDIR, "mkdir", &w, path, ret, err);
}

static int ag_create(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     uint32_t mode, bool excl, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbxa_w w = {0};

	if (!(mode & S_IFMT))
		mode |= S_IFREG;
	frame_mknod(&w, cred, path, mode, 0, excl);
	return path_attr(r, SBX_RFS_OP_CREATE, "create", &w, path, ret, err);
}

int rfs_agent_mknod(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		    uint32_t mode, uint64_t rdev, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbxa_w w = {0};

	frame_mknod(&w, cred, path, mode, rdev, true);
	return path_attr(r, SBX_RFS_OP_CREATE, "mknod", &w, path, ret, err);
}

static int path_only(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, enum sbx_rfs_op op,
		     const char *opname, uint16_t aop, const char *path, struct sbx_err *err)
{
	struct sbxa_w w = {0};
	struct agent_req q = {0};
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), opname, path, NULL);
	frame_path(&w, aop, cred, path);
	return rfs_agent_call(r, op, what, &w, &q, 0, err);
}

static int ag_unlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     struct sbx_err *err)
{
	return path_only(r, cred, SBX_RFS_OP_UNLINK, "unlink", SBXA_OP_UNLINK, path, err);
}

static int ag_rmdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		    struct sbx_err *err)
{
	return path_only(r, cred, SBX_RFS_OP_RMDIR, "rmdir", SBXA_OP_RMDIR, path, err);
}

static int ag_rename(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		     const char *to, unsigned flags, struct sbx_err *err)
{
	struct sbxa_w w = {0};
	struct agent_req q = {0};
	char what[SBX_FS_WHAT_MAX];

	sbx_fs_describe(what, sizeof(what), "rename", from, to);
	if (frame_rename(&w, cred, from, to, flags) < 0) {
		sbxa_w_release(&w);
		return sbx_err_set(err, -EINVAL, 0, "%s: unsupported flags", what);
	}
	return rfs_agent_call(r, SBX_RFS_OP_RENAME, what, &w, &q, 0, err);
}

static int ag_link(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		   const char *to, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbxa_w w = {0};

	frame_two(&w, SBXA_OP_LINK, cred, from, to);
	return path_attr(r, SBX_RFS_OP_LINK, "link", &w, to, ret, err);
}

static int ag_symlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *target,
		      const char *path, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	struct sbxa_w w = {0};

	frame_two(&w, SBXA_OP_SYMLINK, cred, target, path);
	return path_attr(r, SBX_RFS_OP_SYMLINK, "symlink", &w, path, ret, err);
}

static int ag_setattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		      const struct sbx_rfs_setattr *sa, struct sbx_rfs_attr *ret,
		      struct sbx_err *err)
{
	struct sbxa_w w = {0};

	frame_setattr(&w, cred, path, sa);
	return path_attr(r, SBX_RFS_OP_SETATTR, "setattr", &w, path, ret, err);
}

void rfs_agent_str_reset(void *ud)
{
	struct str_ud *u = ud;

	free(u->s);
	u->s = NULL;
}

int rfs_agent_str_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct str_ud *u = ud;
	struct sbxa_r rd;
	const char *s;
	size_t len;

	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	s = sbxa_get_str(&rd, SBXA_PATH_MAX, &len);
	/* one frame, one string with no NUL (it would cut the target short) */
	if (!s || u->s || memchr(s, '\0', len))
		return -EPROTO;
	u->s = strndup(s, len);
	return u->s ? 0 : -ENOMEM;
}

static int ag_readlink(struct sbx_rfs *r, const char *path, char **ret, struct sbx_err *err)
{
	struct str_ud u = {0};
	struct agent_req q = {
	    .on_frame = rfs_agent_str_frame, .on_reset = rfs_agent_str_reset, .ud = &u};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc;

	sbx_fs_describe(what, sizeof(what), "readlink", path, NULL);
	frame_path(&w, SBXA_OP_READLINK, NULL, path);
	rc = rfs_agent_call(r, SBX_RFS_OP_READLINK, what, &w, &q, 0, err);
	if (rc == 0)
		*ret = u.s;
	else
		free(u.s);
	return rc;
}

int rfs_agent_statfs_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct sbxa_statfs *s = ud;
	struct sbxa_r rd;

	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	sbxa_get_statfs(&rd, s);
	return rd.err;
}

static int ag_statfs(struct sbx_rfs *r, const char *path, struct statvfs *ret, struct sbx_err *err)
{
	struct sbxa_statfs s;
	struct agent_req q = {.on_frame = rfs_agent_statfs_frame, .ud = &s};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc;

	sbx_fs_describe(what, sizeof(what), "statfs", path, NULL);
	frame_statfs(&w, path);
	rc = rfs_agent_call(r, SBX_RFS_OP_STATFS, what, &w, &q, 0, err);
	if (rc == 0)
		rfs_agent_statvfs(ret, &s);
	return rc;
}

void rfs_agent_statvfs(struct statvfs *ret, const struct sbxa_statfs *s)
{
	memset(ret, 0, sizeof(*ret));
	ret->f_bsize = s->bsize;
	ret->f_frsize = s->frsize;
	ret->f_blocks = s->blocks;
	ret->f_bfree = s->bfree;
	ret->f_bavail = s->bavail;
	ret->f_files = s->files;
	ret->f_ffree = s->ffree;
	ret->f_favail = s->favail;
	ret->f_fsid = s->fsid;
	ret->f_flag = s->flag;
	ret->f_namemax = s->namemax;
}

/* ---- readdir ---- */

int rfs_agent_dir_entry(struct dir_ud *u, struct sbxa_r *rd)
{
	struct sbx_rfs_dirent *e;
	const char *name, *link, *data = NULL, *xn = NULL;
	size_t nlen, llen, dlen = 0, xlen = 0;
	struct sbxa_attr a;

	name = sbxa_get_str(rd, SBXA_NAME_MAX, &nlen);
	sbxa_get_attr(rd, &a);
	link = sbxa_get_str(rd, SBXA_PATH_MAX, &llen);
	if (u->data && sbxa_get_u32(rd))
		data = sbxa_get_str(rd, SBXA_DIR_FILE_MAX, &dlen);
	if (u->xattrs && sbxa_get_u32(rd))
		xn = sbxa_get_str(rd, SBXA_DIR_XNAMES_MAX, &xlen);
	if (rd->err || !nlen || memchr(name, '/', nlen) || memchr(name, '\0', nlen) ||
	    (nlen <= 2 && !memcmp(name, "..", nlen)))
		return -EPROTO;
	/* data only within the bounds asked for, and only the whole file */
	if (data && (!S_ISREG(a.mode) || dlen != a.size || dlen > u->file_max ||
		     dlen > u->total_max - u->total))
		return -EPROTO;
	if (u->d->n >= SBX_RFS_DIR_MAX)
		return -EFBIG;
	if (u->d->n == u->cap) {
		size_t ncap = u->cap ? u->cap * 2 : 64;
		struct sbx_rfs_dirent *ne = realloc(u->d->ents, ncap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		u->d->ents = ne;
		u->cap = ncap;
	}
	e = &u->d->ents[u->d->n];
	memset(e, 0, sizeof(*e));
	to_attr(&e->attr, &a);
	e->name = strndup(name, nlen);
	e->link = S_ISLNK(a.mode) ? strndup(link, llen) : NULL;
	if (data) {
		e->data = malloc(dlen ? dlen : 1);
		if (e->data)
			memcpy(e->data, data, dlen);
		e->data_len = dlen;
	}
	if (xn) {
		e->xattrs = malloc(xlen ? xlen : 1);
		if (e->xattrs)
			memcpy(e->xattrs, xn, xlen);
		e->xattrs_len = xlen;
	}
	if (!e->name || (S_ISLNK(a.mode) && !e->link) || (data && !e->data) || (xn && !e->xattrs)) {
		free(e->name);
		free(e->link);
		free(e->data);
		free(e->xattrs);
		return -ENOMEM;
	}
	u->total += dlen;
	u->d->n++;
	return 0;
}

int rfs_agent_dir_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct dir_ud *u = ud;
	struct sbxa_attr self;
	struct sbxa_r rd;
	int rc = 0;

	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	if (u->first) {
		u->first = false;
		sbxa_get_attr(&rd, &self);
		to_attr(&u->d->self, &self);
	}
	while (rc == 0 && !rd.err && sbxa_r_left(&rd) > 0)
		rc = rfs_agent_dir_entry(u, &rd);
	return rc < 0 ? rc : rd.err;
}

void rfs_agent_dir_reset(void *ud)
{
	struct dir_ud *u = ud;

	sbx_rfs_dir_release(u->d);
	memset(u->d, 0, sizeof(*u->d));
	u->cap = 0;
	u->first = true;
	u->total = 0;
}

static int ag_readdir(struct sbx_rfs *r, const char *path, struct sbx_rfs_dir *ret,
		      struct sbx_err *err)
{
	struct dir_ud u = {.d = ret,
			   .first = true,
			   .data = r->prefetch_file_max > 0,
			   .file_max = r->prefetch_file_max,
			   .total_max = r->prefetch_total_max,
			   .xattrs = true};
	size_t i;
	struct agent_req q = {
	    .on_frame = rfs_agent_dir_frame, .on_reset = rfs_agent_dir_reset, .ud = &u};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc;

	memset(ret, 0, sizeof(*ret));
	sbx_fs_describe(what, sizeof(what), "readdir", path, NULL);
	rfs_agent_begin(&w, SBXA_OP_READDIR);
	sbxa_put_cstr(&w, path);
	sbxa_put_u32(&w, SBXA_DIR_XATTRS | (u.data ? SBXA_DIR_DATA : 0));
	sbxa_put_u32(&w, u.data ? r->prefetch_file_max : 0);
	sbxa_put_u32(&w, u.data ? r->prefetch_total_max : 0);
	rc = rfs_agent_call(r, SBX_RFS_OP_READDIR, what, &w, &q, 0, err);
	if (rc < 0) {
		sbx_rfs_dir_release(ret);
		return rc;
	}
	ret->self.seq = q.seq;
	for (i = 0; i < ret->n; i++)
		ret->ents[i].attr.seq = q.seq;
	return 0;
}

/* ---- reads ---- */

static int put_all(int fd, uint64_t off, const uint8_t *d, size_t n)
{
	ssize_t w;

	while (n) {
		w = pwrite(fd, d, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		d += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int rfs_agent_read_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct read_ud *u = ud;
	struct sbxa_r rd;
	size_t left;
	int rc;

	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	if (u->first) {
		u->first = false;
		sbxa_get_attr(&rd, &u->a);
		u->unchanged = sbxa_get_u32(&rd) != 0;
		if (rd.err)
			return rd.err;
	}
	left = sbxa_r_left(&rd);
	if (!left)
		return 0;
	/* no bytes with "unchanged", none past the length asked for */
	if (u->unchanged || (u->max && left > u->max - u->n))
		return -EPROTO;
	rc = put_all(u->fd, u->fd_off + u->n, p + rd.off, left);
	if (rc == 0)
		u->n += left;
	return rc;
}

void rfs_agent_read_reset(void *ud)
{
	struct read_ud *u = ud;

	u->n = 0;
	u->first = true;
	u->unchanged = false;
}

void rfs_agent_read_request(struct sbxa_w *w, const char *path, uint64_t off, uint64_t len,
			    const char *validator, struct read_ud *u)
{
	struct sbxa_validator v;
	bool have_v = parse_validator(validator, &v);

	if (!have_v)
		memset(&v, 0, sizeof(v));
	u->first = true;
	rfs_agent_begin(w, SBXA_OP_READ);
	sbxa_put_cstr(w, path);
	sbxa_put_u64(w, off);
	sbxa_put_u64(w, len);
	sbxa_put_u32(w, have_v ? SBXA_READ_IF_CHANGED : 0);
	sbxa_put_validator(w, &v);
}

int rfs_agent_fetch_end(const struct read_ud *u, const char *validator, const char *path,
			bool *ret_unchanged, uint64_t *ret_len, struct sbx_rfs_attr *ret_attr,
			char *ret_validator, struct sbx_err *err)
{
	struct sbxa_validator v;

	/* "unchanged" only answers a validator, and names the same version */
	if (u->unchanged && (!parse_validator(validator, &v) || !same_version(&u->a, &v)))
		return sbx_err_set(err, -SBX_EPROTO, 0, "read '%s': unchanged from what?", path);
	if (ret_unchanged)
		*ret_unchanged = u->unchanged;
	if (ret_len)
		*ret_len = u->n;
	if (ret_attr) {
		to_attr(ret_attr, &u->a);
		ret_attr->seq = u->seq;
	}
	if (ret_validator)
		validator_of(ret_validator, &u->a);
	return 0;
}

static int ag_read(struct sbx_rfs *r, enum sbx_rfs_op op, const char *path, uint64_t off,
		   uint64_t len, const char *validator, struct read_ud *u, uint64_t size_hint,
		   struct sbx_err *err)
{
	struct agent_req q = {
	    .on_frame = rfs_agent_read_frame, .on_reset = rfs_agent_read_reset, .ud = u};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc;

	sbx_fs_describe(what, sizeof(what), op == SBX_RFS_OP_FETCH ? "read" : "read range", path,
			NULL);
	rfs_agent_read_request(&w, path, off, len, validator, u);
	rc = rfs_agent_call(r, op, what, &w, &q, size_hint, err);
	u->seq = q.seq;
	return rc;
}

static int ag_fetch(struct sbx_rfs *r, const char *path, int fd, const char *validator,
		    uint64_t size_hint, bool *ret_unchanged, uint64_t *ret_len,
		    struct sbx_rfs_attr *ret_attr, char *ret_validator, struct sbx_err *err)
{
	struct read_ud u = {.fd = fd};
	int rc;

	rc = ag_read(r, SBX_RFS_OP_FETCH, path, 0, UINT64_MAX, validator, &u, size_hint, err);
	return rc < 0 ? rc
		      : rfs_agent_fetch_end(&u, validator, path, ret_unchanged, ret_len, ret_attr,
					    ret_validator, err);
}

static int ag_read_range(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			 uint64_t fd_off, uint64_t *ret_n, struct sbx_err *err)
{
	struct read_ud u = {.fd = fd, .fd_off = fd_off, .max = len};
	int rc;

	rc = ag_read(r, SBX_RFS_OP_READ_RANGE, path, off, len, NULL, &u, len, err);
	if (rc == 0 && ret_n)
		*ret_n = u.n;
	return rc;
}

const struct rfs_transport rfs_agent_transport = {
    .name = "agent",
    .stat = ag_stat,
    .readdir = ag_readdir,
    .readlink = ag_readlink,
    .mkdir = ag_mkdir,
    .create = ag_create,
    .unlink = ag_unlink,
    .rmdir = ag_rmdir,
    .rename = ag_rename,
    .link = ag_link,
    .symlink = ag_symlink,
    .setattr = ag_setattr,
    .getxattr = rfs_agent_getxattr,
    .listxattr = rfs_agent_listxattr,
    .setxattr = rfs_agent_setxattr,
    .removexattr = rfs_agent_removexattr,
    .statfs = ag_statfs,
    .fetch = ag_fetch,
    .read_range = ag_read_range,
    .store = rfs_agent_store,
    .read_start = rfs_agent_read_start,
    .read_finish = rfs_agent_read_finish,
    .wfile_open = rfs_agent_wfile_open,
    .signal_env = rfs_shell_signal_env,
    .sweep = rfs_shell_sweep,
};
