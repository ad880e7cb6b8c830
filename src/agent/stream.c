/* stream.c - the replies of more than one frame: READDIR and READ.
 *
 * READDIR is answered whole at once (one directory's entries; each frame
 * at most SBXA_IO_MAX bytes of payload). READ sends its first frame at
 * once and the rest through reads_pump() (see stream.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "longpath.h"
#include "ops.h"

#define ATTR_LEN 92u /* bytes of an attr block on the wire */

static size_t payload_of(const struct agent_out *o, size_t at)
{
	return o->w.len - at - SBXA_HDR_LEN;
}

/* The whole content of the regular file name of dfd into buf (at most max
 * bytes), with the open file's attributes in *st; false when it is not a
 * regular file of at most max bytes, or changed size while read. */
static bool read_small(int dfd, const char *name, char *buf, size_t max, struct stat *st)
{
	size_t got = 0;
	ssize_t n = 0;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || (uint64_t)st->st_size > max) {
		close(fd);
		return false;
	}
	for (;;) {
		n = read(fd, buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got > max)
			break;
	}
	close(fd);
	return n == 0 && got == (size_t)st->st_size;
}

/* One entry; a name that went away since readdir saw it is left out (0
 * is returned, else its mode). With SBXA_DIR_DATA a small regular file's
 * content comes along while the reply's budget (*budget bytes) lasts. In
 * a tree reply (rec) it is a SBXA_REC_ENTRY record. With SBXA_DIR_XATTRS
 * the names of its xattrs come last. */
/* The names of the xattrs of name in directory dfd into xb
 * (SBXA_DIR_XNAMES_MAX bytes): their length, or -1 when not known (more
 * than fit, a filesystem without xattrs, an error). There is no
 * llistxattrat, and the last name must not be followed: the agent steps
 * into dfd (it is single-threaded; the listing ops go back to "/" when
 * they end, as longpath.h does) and names it relatively, one path step.
 * Through /proc/self/fd/N/name instead, each entry of a cold listing cost
 * a walk of /proc with its ownership checks, most of the agent's time. */
static ssize_t xattr_names(int dfd, const char *name, char *xb)
{
	char p[64 + NAME_MAX + 1];

	if (fchdir(dfd) == 0)
		return llistxattr(name, xb, SBXA_DIR_XNAMES_MAX);
	if ((size_t)snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dfd, name) >= sizeof(p))
		return -1;
	return llistxattr(p, xb, SBXA_DIR_XNAMES_MAX);
}

static mode_t put_entry(struct agent *a, const struct agent_req *q, int dfd, const char *name,
			size_t *at, char *buf, uint64_t *budget, bool rec)
{
	char target[SBXA_PATH_MAX + 1], xb[SBXA_DIR_XNAMES_MAX];
	size_t nlen = strlen(name), tlen = 0, dlen = 0;
	bool data = false;
	ssize_t n, xlen = -1;
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dfd, name, target, sizeof(target));
		tlen = n > 0 && (size_t)n < sizeof(target) ? (size_t)n : 0;
	}
	if (buf && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= q->num &&
	    (uint64_t)st.st_size <= *budget) {
		struct stat fst;

		data = read_small(dfd, name, buf, q->num, &fst) && (uint64_t)fst.st_size <= *budget;
		if (data) {
			st = fst;
			dlen = (size_t)fst.st_size;
			*budget -= dlen;
		}
	}
	if (q->flags & SBXA_DIR_XATTRS)
		xlen = xattr_names(dfd, name, xb);
	if (payload_of(&a->out, *at) + 28 + nlen + ATTR_LEN + tlen + dlen +
		(xlen > 0 ? (size_t)xlen : 0) >
	    SBXA_IO_MAX) {
		out_end(&a->out, *at);
		*at = out_reply(&a->out, q->id, q->op, SBXA_F_MORE);
	}
	if (rec)
		sbxa_put_u32(&a->out.w, SBXA_REC_ENTRY);
	sbxa_put_str(&a->out.w, name, nlen);
	out_put_stat(&a->out, &st);
	sbxa_put_str(&a->out.w, target, tlen);
	if (q->flags & SBXA_DIR_DATA) {
		sbxa_put_u32(&a->out.w, data);
		if (data)
			sbxa_put_str(&a->out.w, buf, dlen);
	}
	if (q->flags & SBXA_DIR_XATTRS) {
		sbxa_put_u32(&a->out.w, xlen >= 0);
		if (xlen >= 0)
			sbxa_put_str(&a->out.w, xb, (size_t)xlen);
	}
	return st.st_mode;
}

/* ---- SBXA_DIR_TREE: the subtree, breadth first ---- */

struct tree {
	struct agent *a;
	const struct agent_req *q;
	int root;     /* the request's directory */
	dev_t dev;    /* its filesystem: others are not entered */
	char **queue; /* paths relative to root, waiting */
	size_t head, tail, cap;
	size_t entries; /* sent so far */
	uint64_t budget;
	char *buf;
	size_t at; /* the frame being filled */
};

static void tree_room(struct tree *t, size_t need)
{
	if (payload_of(&t->a->out, t->at) + need > SBXA_IO_MAX) {
		out_end(&t->a->out, t->at);
		t->at = out_reply(&t->a->out, t->q->id, t->q->op, SBXA_F_MORE);
	}
}

static void tree_push(struct tree *t, const char *rel, const char *name)
{
	size_t rl = strlen(rel), nl = strlen(name);
	char *p, **nq;

	if (rl + 1 + nl > SBXA_PATH_MAX - strlen(t->q->path) - 1 || t->tail >= SBXA_TREE_MAX)
		return; /* not entered: listed on demand later */
	if (t->tail == t->cap) {
		nq = realloc(t->queue, (t->cap ? t->cap * 2 : 64) * sizeof(*nq));
		if (!nq)
			return;
		t->queue = nq;
		t->cap = t->cap ? t->cap * 2 : 64;
	}
	p = malloc(rl + nl + 2);
	if (!p)
		return;
	if (rl) {
		memcpy(p, rel, rl);
		p[rl] = '/';
		memcpy(p + rl + 1, name, nl + 1);
	} else {
		memcpy(p, name, nl + 1);
	}
	t->queue[t->tail++] = p;
}

/* The watch of rel before it is read (0 when none could be made). */
static uint32_t tree_watch(struct tree *t, const char *rel)
{
	char p[SBXA_PATH_MAX + 1];
	int n, wd;

	if (!(t->q->flags & SBXA_DIR_WATCH))
		return 0;
	n = rel[0] ? snprintf(p, sizeof(p), "%s/%s", strcmp(t->q->path, "/") ? t->q->path : "", rel)
		   : snprintf(p, sizeof(p), "%s", t->q->path);
	if (n < 0 || (size_t)n >= sizeof(p))
		return 0;
	wd = watch_add(t->a, p);
	return wd > 0 ? (uint32_t)wd : 0;
}

/* Lists one directory of the tree; false when a bound cut it short. */
static bool tree_dir(struct tree *t, const char *rel)
{
	struct dirent *e;
	struct stat st;
	uint32_t wd;
	mode_t m;
	DIR *d;
	int fd;

	fd = rel[0] ? openat(t->root, rel,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
		    : dup(t->root);
	if (fd < 0)
		return true; /* gone meanwhile: skipped */
	if (fstat(fd, &st) < 0 || (rel[0] && st.st_dev != t->dev) || !(d = fdopendir(fd))) {
		close(fd);
		return true;
	}
	wd = tree_watch(t, rel);
	tree_room(t, 16 + strlen(rel) + ATTR_LEN);
	sbxa_put_u32(&t->a->out.w, SBXA_REC_DIR);
	sbxa_put_cstr(&t->a->out.w, rel);
	out_put_stat(&t->a->out, &st);
	sbxa_put_u32(&t->a->out.w, wd);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (t->entries >= t->q->num2) {
			closedir(d);
			return false;
		}
		m = put_entry(t->a, t->q, dirfd(d), e->d_name, &t->at, t->buf, &t->budget, true);
		t->entries += m != 0;
		if (S_ISDIR(m))
			tree_push(t, rel, e->d_name);
	}
	closedir(d);
	tree_room(t, 4);
	sbxa_put_u32(&t->a->out.w, SBXA_REC_END);
	return true;
}

static int op_readtree(struct agent *a, const struct agent_req *q)
{
	struct tree t = {.a = a, .q = q, .budget = q->len};
	struct stat st;
	size_t i;

	t.root = open(q->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (t.root < 0)
		return -errno;
	if (fstat(t.root, &st) < 0) {
		close(t.root);
		return -errno;
	}
	t.dev = st.st_dev;
	if (q->flags & SBXA_DIR_DATA && q->num && q->len)
		t.buf = malloc((size_t)q->num + 1);
	t.at = out_reply(&a->out, q->id, q->op, SBXA_F_MORE);
	tree_push(&t, "", "");
	if (t.tail == 1) { /* "" + "" pushed as "" */
		while (t.head < t.tail && tree_dir(&t, t.queue[t.head]))
			t.head++;
	}
	for (i = 0; i < t.tail; i++)
		free(t.queue[i]);
	free(t.queue);
	free(t.buf);
	close(t.root);
	longpath_leave(); /* xattr_names() stepped into the directories */
	out_set_flags(&a->out, t.at, 0);
	out_end(&a->out, t.at);
	return 0;
}

int op_readdir(struct agent *a, const struct agent_req *q)
{
	struct dirent *e;
	uint64_t budget;
	char *buf = NULL;
	struct stat st;
	size_t at;
	DIR *d;
	int fd, r = 0;

	if (q->flags & SBXA_DIR_TREE)
		return op_readtree(a, q);
	fd = open(q->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !(d = fdopendir(fd))) {
		r = -errno;
		close(fd);
		return r;
	}
	if (q->flags & SBXA_DIR_DATA && q->num && q->len)
		buf = malloc((size_t)q->num + 1); /* none: entries go without data */
	budget = q->len;
	at = out_reply(&a->out, q->id, q->op, SBXA_F_MORE);
	out_put_stat(&a->out, &st);
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e) {
			r = -errno;
			break;
		}
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			put_entry(a, q, fd, e->d_name, &at, buf, &budget, false);
	}
	free(buf);
	closedir(d);
	longpath_leave(); /* xattr_names() stepped into the directory */
	if (r < 0) {
		/* frames already queued stand; a last one carries the error */
		out_end(&a->out, at);
		out_status(&a->out, q->id, q->op, r);
		return 0;
	}
	out_set_flags(&a->out, at, 0);
	out_end(&a->out, at);
	return 0;
}

static bool same_version(const struct stat *st, const struct sbxa_validator *v)
{
	return st->st_ino == v->ino && (uint64_t)st->st_size == v->size &&
	       st->st_mtim.tv_sec == v->mtime.sec && st->st_mtim.tv_nsec == v->mtime.nsec &&
	       st->st_ctim.tv_sec == v->ctime.sec && st->st_ctim.tv_nsec == v->ctime.nsec;
}

/* Appends up to len bytes of fd at off to the frame being built. The
 * number read, or -errno (the frame's bytes are then not appended). */
static ssize_t put_chunk(struct agent_out *o, int fd, uint64_t off, uint64_t len)
{
	size_t want = len > SBXA_IO_MAX ? SBXA_IO_MAX : (size_t)len, base = o->w.len;
	uint8_t *buf = sbxa_w_room(&o->w, want);
	ssize_t n;

	if (!buf)
		return o->w.err;
	do
		n = pread(fd, buf, want, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	o->w.len = base + (n > 0 ? (size_t)n : 0);
	return n;
}

static int open_regular(const char *path, struct stat *st)
{
	int fd;

	if (lstat(path, st) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* Keeps a READ going; false when the table is full. */
static bool add_stream(struct agent_reads *rs, const struct agent_read *r)
{
	struct agent_read *nr;

	if (rs->n == rs->cap) {
		if (rs->cap >= SBXA_INFLIGHT_MAX)
			return false;
		nr = realloc(rs->r, (rs->cap ? rs->cap * 2 : 8) * sizeof(*nr));
		if (!nr)
			return false;
		rs->r = nr;
		rs->cap = rs->cap ? rs->cap * 2 : 8;
	}
	rs->r[rs->n++] = *r;
	return true;
}

int op_read(struct agent *a, const struct agent_req *q)
{
	struct agent_read rd = {.id = q->id, .off = q->off, .left = q->len};
	struct stat st;
	size_t at;
	ssize_t n;

	if ((q->flags & ~SBXA_READ_IF_CHANGED) || q->off > INT64_MAX)
		return -EINVAL;
	if (a->reads.n >= SBXA_INFLIGHT_MAX)
		return -EAGAIN;
	rd.fd = open_regular(q->path, &st);
	if (rd.fd < 0)
		return rd.fd;
	at = out_reply(&a->out, q->id, q->op, 0);
	out_put_stat(&a->out, &st);
	if ((q->flags & SBXA_READ_IF_CHANGED) && same_version(&st, &q->val)) {
		sbxa_put_u32(&a->out.w, 1);
		out_end(&a->out, at);
		close(rd.fd);
		return 0;
	}
	sbxa_put_u32(&a->out.w, 0);
	n = put_chunk(&a->out, rd.fd, rd.off, rd.left);
	if (n < 0) {
		a->out.w.len = at;
		close(rd.fd);
		return (int)n;
	}
	rd.off += (uint64_t)n;
	rd.left -= (uint64_t)n;
	if (n < SBXA_IO_MAX || !rd.left) {
		close(rd.fd);
		out_end(&a->out, at);
		return 0;
	}
	out_set_flags(&a->out, at, SBXA_F_MORE);
	out_end(&a->out, at);
	if (!add_stream(&a->reads, &rd)) {
		close(rd.fd);
		out_status(&a->out, q->id, q->op, -ENOMEM); /* never a silent short read */
	}
	return 0;
}

/* One more chunk of rd; true when it was the last. */
static bool pump_one(struct agent *a, struct agent_read *rd)
{
	size_t at = out_reply(&a->out, rd->id, SBXA_OP_READ, SBXA_F_MORE);
	ssize_t n = put_chunk(&a->out, rd->fd, rd->off, rd->left);

	if (n < 0) {
		a->out.w.len = at;
		out_status(&a->out, rd->id, SBXA_OP_READ, (int)n);
		return true;
	}
	rd->off += (uint64_t)n;
	rd->left -= (uint64_t)n;
	if (n < SBXA_IO_MAX || !rd->left) {
		out_set_flags(&a->out, at, 0);
		out_end(&a->out, at);
		return true;
	}
	out_end(&a->out, at);
	return false;
}

void reads_pump(struct agent *a)
{
	struct agent_reads *rs = &a->reads;
	size_t i = 0;

	while (i < rs->n && out_pending(&a->out) < AGENT_OUT_HIGH) {
		if (pump_one(a, &rs->r[i])) {
			close(rs->r[i].fd);
			rs->r[i] = rs->r[--rs->n];
		} else {
			i++;
		}
	}
}

void reads_release(struct agent_reads *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		close(rs->r[i].fd);
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}
