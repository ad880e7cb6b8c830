/* watch.c - WATCH, UNWATCH and the EV_CHANGE events (see watch.h).
 *
 * inotify's events map to the protocol's bits: IN_ATTRIB -> ATTRIB,
 * IN_CLOSE_WRITE -> DATA, IN_CREATE/IN_MOVED_TO -> CREATE,
 * IN_DELETE/IN_MOVED_FROM -> DELETE, IN_DELETE_SELF/IN_MOVE_SELF/
 * IN_IGNORED -> GONE, IN_Q_OVERFLOW -> wd 0 OVERFLOW.
 *
 * After the events of one read, each watched directory in which names
 * appeared or went away gets one more report: ATTRIB of the directory
 * itself (empty name) with its lstat, since its mtime and link count
 * moved and inotify says nothing of that; so a client keeps the
 * directory's attributes instead of asking for them again.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "longpath.h"
#include "ops.h"

#define WATCH_MASK                                                                                 \
	(IN_ATTRIB | IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE |            \
	 IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW |             \
	 IN_EXCL_UNLINK)

void watch_init(struct agent_watches *ws)
{
	ws->fd = -1;
	ws->wd = NULL;
	ws->dir = NULL;
	ws->n = ws->cap = 0;
}

void watch_release(struct agent_watches *ws)
{
	size_t i;

	if (ws->fd >= 0)
		close(ws->fd);
	for (i = 0; i < ws->n; i++)
		free(ws->dir[i]);
	free(ws->wd);
	free(ws->dir);
	watch_init(ws);
}

static ssize_t wd_index(const struct agent_watches *ws, int wd)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		if (ws->wd[i] == wd)
			return (ssize_t)i;
	return -1;
}

static void wd_forget(struct agent_watches *ws, int wd)
{
	ssize_t i = wd_index(ws, wd);

	if (i < 0)
		return;
	free(ws->dir[i]);
	ws->n--;
	ws->wd[i] = ws->wd[ws->n];
	ws->dir[i] = ws->dir[ws->n];
}

/* Records wd and its directory (a new one, or one inotify gave again for
 * the same inode: then the newer path wins). */
static int wd_add(struct agent_watches *ws, int wd, const char *path)
{
	ssize_t i = wd_index(ws, wd);
	char *d = strdup(path), **nd;
	int *nw;

	if (!d)
		return -ENOMEM;
	if (i >= 0) {
		free(ws->dir[i]);
		ws->dir[i] = d;
		return 0;
	}
	if (ws->n == ws->cap) {
		size_t ncap = ws->cap ? ws->cap * 2 : 16;

		nw = realloc(ws->wd, ncap * sizeof(*nw));
		if (nw)
			ws->wd = nw;
		nd = nw ? realloc(ws->dir, ncap * sizeof(*nd)) : NULL;
		if (!nd) {
			free(d);
			return -ENOMEM;
		}
		ws->dir = nd;
		ws->cap = ncap;
	}
	ws->wd[ws->n] = wd;
	ws->dir[ws->n++] = d;
	return 0;
}

int watch_add(struct agent *a, const char *path)
{
	struct agent_watches *ws = &a->watches;
	int wd, r;

	if (path[0] != '/')
		return -ENAMETOOLONG; /* from a long path's request (longpath.h): kept for later */
	if (ws->n >= SBXA_WATCH_MAX)
		return -ENOSPC;
	if (ws->fd < 0) {
		ws->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ws->fd < 0)
			return -errno;
	}
	wd = inotify_add_watch(ws->fd, path, WATCH_MASK);
	if (wd < 0)
		return -errno;
	r = wd_add(ws, wd, path);
	if (r < 0) {
		inotify_rm_watch(ws->fd, wd);
		return r;
	}
	return wd;
}

int op_watch(struct agent *a, const struct agent_req *q)
{
	int wd = watch_add(a, q->path);
	size_t at;

	if (wd < 0)
		return wd;
	at = out_reply(&a->out, q->id, q->op, 0);
	sbxa_put_u32(&a->out.w, (uint32_t)wd);
	out_end(&a->out, at);
	return 0;
}

int op_unwatch(struct agent *a, const struct agent_req *q)
{
	struct agent_watches *ws = &a->watches;

	if (q->num > INT32_MAX || wd_index(ws, (int)q->num) < 0)
		return -EINVAL;
	if (inotify_rm_watch(ws->fd, (int)q->num) < 0)
		return -errno;
	wd_forget(ws, (int)q->num);
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}

static uint32_t map_mask(uint32_t m)
{
	uint32_t c = 0;

	c |= (m & IN_ATTRIB) ? SBXA_CH_ATTRIB : 0;
	c |= (m & (IN_MODIFY | IN_CLOSE_WRITE)) ? SBXA_CH_DATA : 0;
	c |= (m & (IN_CREATE | IN_MOVED_TO)) ? SBXA_CH_CREATE : 0;
	c |= (m & (IN_DELETE | IN_MOVED_FROM)) ? SBXA_CH_DELETE : 0;
	c |= (m & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) ? SBXA_CH_GONE : 0;
	c |= (m & IN_Q_OVERFLOW) ? SBXA_CH_OVERFLOW : 0;
	return c;
}

/* lstat of dir/name into *st (of dir itself, a directory, for an empty
 * name); false when it is gone. A path past PATH_MAX is taken in steps
 * (longpath.h). */
static bool stat_entry(const char *dir, const char *name, size_t nlen, struct stat *st)
{
	char p[SBXA_LONGPATH_MAX + 1];
	size_t dl = strlen(dir);
	const char *path = dir, *rest; /* no name: the directory itself */
	bool ok;
	int fd;

	if (nlen) {
		if (dl + 1 + nlen > SBXA_LONGPATH_MAX)
			return false;
		memcpy(p, dir, dl);
		p[dl] = '/';
		memcpy(p + dl + 1, name, nlen);
		p[dl + 1 + nlen] = '\0';
		path = dl == 1 ? p + 1 : p;
	}
	if (longpath_at(path, &fd, &rest) < 0)
		return false;
	ok = fstatat(fd, rest, st, AT_SYMLINK_NOFOLLOW) == 0 && (nlen || S_ISDIR(st->st_mode));
	if (fd >= 0)
		close(fd);
	return ok;
}

/* dir_next: the report of e's directory itself follows (note_dir). */
static void send_event(struct agent *a, const struct inotify_event *e, bool dir_next)
{
	uint32_t mask = map_mask(e->mask);
	size_t nlen = e->len ? strnlen(e->name, e->len) : 0, at;
	ssize_t i = wd_index(&a->watches, e->wd);
	struct stat st;
	bool have;

	if (!mask)
		return;
	have = i >= 0 && !(mask & (SBXA_CH_GONE | SBXA_CH_OVERFLOW)) &&
	       stat_entry(a->watches.dir[i], e->name, nlen, &st);
	at = out_begin(&a->out, 0, SBXA_EV_CHANGE, 0);
	sbxa_put_u32(&a->out.w, (e->mask & IN_Q_OVERFLOW) ? 0 : (uint32_t)e->wd);
	if (dir_next && (mask & (SBXA_CH_CREATE | SBXA_CH_DELETE)))
		mask |= SBXA_CH_DIR_NEXT;
	sbxa_put_u32(&a->out.w, mask);
	sbxa_put_str(&a->out.w, e->name, nlen);
	sbxa_put_u32(&a->out.w, have);
	if (have)
		out_put_stat(&a->out, &st);
	out_end(&a->out, at);
	if (e->mask & IN_IGNORED)
		wd_forget(&a->watches, e->wd);
}

/* The watches whose directory changed in one read of events (a bounded
 * set: past it a client asks for the attributes itself). */
#define DIRS_MAX 64
struct moved_dirs {
	int wd[DIRS_MAX];
	size_t n;
};

/* Notes e's directory when e made or removed a name in it, and forgets
 * it when it went (its path may name another directory now). true when
 * it is noted: its report follows. */
static bool note_dir(struct moved_dirs *m, const struct inotify_event *e)
{
	bool names = e->mask & (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM);
	bool gone = e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_Q_OVERFLOW);
	size_t i;

	for (i = 0; i < m->n && m->wd[i] != e->wd; i++)
		;
	if (gone && i < m->n)
		m->wd[i] = m->wd[--m->n];
	else if (names && !gone && i == m->n && m->n < DIRS_MAX)
		m->wd[m->n++] = e->wd;
	return names && !gone && i < m->n;
}

/* The report of the watched directory itself, with its attributes. */
static void send_dir(struct agent *a, int wd)
{
	ssize_t i = wd_index(&a->watches, wd);
	struct stat st;
	size_t at;

	if (i < 0 || lstat(a->watches.dir[i], &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	at = out_begin(&a->out, 0, SBXA_EV_CHANGE, 0);
	sbxa_put_u32(&a->out.w, (uint32_t)wd);
	sbxa_put_u32(&a->out.w, SBXA_CH_ATTRIB);
	sbxa_put_str(&a->out.w, "", 0);
	sbxa_put_u32(&a->out.w, 1);
	out_put_stat(&a->out, &st);
	out_end(&a->out, at);
}

void watch_on_event(struct agent *a)
{
	const struct agent_cred self = {.uid = SBXA_ID_SELF, .gid = SBXA_ID_SELF};
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	struct moved_dirs m;
	ssize_t n;
	size_t off, i;

	/* the lstat of each report is the agent's own, not the last caller's */
	cred_apply(&a->ids, &self);
	for (;;) {
		n = read(a->watches.fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		m.n = 0;
		for (off = 0; off + sizeof(*e) <= (size_t)n; off += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(buf + off);
			if (off + sizeof(*e) + e->len > (size_t)n)
				break;
			send_event(a, e, note_dir(&m, e));
		}
		for (i = 0; i < m.n; i++)
			send_dir(a, m.wd[i]);
	}
}
