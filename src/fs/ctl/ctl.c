/* ctl.c - the /.ctl tree: names, attributes, directories, and the file
 * handlers that route to jobs (job.c) and to generated content (files.c).
 *
 * Node ids: CTL_INO(0, kind) for the top level, CTL_INO(N, kind) for the
 * files of job N. Entries and attributes are never cached by the kernel
 * (timeouts 0, except the fixed names of the top level), sizes are the
 * current lengths of the streams, files are direct_io, and reads of streams
 * use the kernel's offsets (so tail -f and cat both work), except on
 * .ctl/exec, whose handle keeps its own position (writes there start the
 * job and must not move where its output is read from).
 */
#include "fs/ctl/ctl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Modes: the tree is its owner's alone (access.h refuses everyone else
 * but root; the modes say so too, and the kernel checks them when
 * default_permissions is on): no group or other bits, write-only files
 * 0200, read-only 0400, exec 0600, directories 0700. */
struct ent {
	const char *name;
	int kind;
	mode_t mode;
};

static const struct ent top[] = {
    {"status", K_STATUS, S_IFREG | 0400}, {"info", K_INFO, S_IFREG | 0400},
    {"ctl", K_CTL, S_IFREG | 0200},	  {"exec", K_EXEC, S_IFREG | 0600},
    {"new", K_NEW, S_IFREG | 0400},	  {"jobs", K_JOBS, S_IFDIR | 0700},
    {"stats", K_STATS, S_IFREG | 0400},	  {"procs", K_PROCS, S_IFREG | 0600},
    {"ports", K_PORTS, S_IFREG | 0600},	  {"logs", K_LOGS, S_IFDIR | 0700},
};

static const struct ent jobf[] = {
    {"ctl", J_CTL, S_IFREG | 0200},	  {"stdin", J_STDIN, S_IFREG | 0200},
    {"stdout", J_STDOUT, S_IFREG | 0400}, {"stderr", J_STDERR, S_IFREG | 0400},
    {"output", J_OUTPUT, S_IFREG | 0400}, {"status", J_STATUS, S_IFREG | 0400},
    {"exit", J_EXIT, S_IFREG | 0400},	  {"cmd", J_CMD, S_IFREG | 0400},
};

#define N_TOP  (sizeof(top) / sizeof(top[0]))
#define N_JOBF (sizeof(jobf) / sizeof(jobf[0]))

static struct ctl *ctl_of(fuse_req_t req)
{
	return fs_of(req)->ctl;
}

int ctl_new(struct sbx_fs *fs, struct ctl **ret)
{
	struct ctl *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->fs = fs;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cv, NULL);
	*ret = c;
	return 0;
}

void ctl_shutdown(struct ctl *c, double timeout_s)
{
	struct timespec ts;
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n_jobs; i++)
		if (c->jobs[i]->e && !c->jobs[i]->done)
			sbx_rfs_proc_cancel(c->jobs[i]->e);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)timeout_s;
	while (c->running > 0)
		if (pthread_cond_timedwait(&c->cv, &c->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&c->lock);
}

void ctl_free(struct ctl *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_jobs; i++)
		job_free(c->jobs[i]);
	free(c->jobs);
	free(c->port_url);
	free(c->plogs);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The id of the newest job kept, 0 when none (ctl->lock held). */
static unsigned newest(const struct ctl *c)
{
	return c->n_jobs ? c->jobs[c->n_jobs - 1]->id : 0;
}

void ctl_stamp(struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec < t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec <= t->tv_nsec)) {
		now = *t;
		if (++now.tv_nsec == 1000000000L) {
			now.tv_sec++;
			now.tv_nsec = 0;
		}
	}
	*t = now;
}

/* Attributes of a ctl node; 0 or -ENOENT. */
static int ctl_stat(struct ctl *c, uint64_t ino, struct stat *st)
{
	unsigned jid = CTL_JOB_OF(ino);
	int kind = CTL_KIND_OF(ino);
	struct job *j = NULL;
	size_t i;
	int r = -ENOENT;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = c->fs->uid;
	st->st_gid = c->fs->gid;
	st->st_nlink = 1;
	st->st_atim = st->st_mtim = st->st_ctim = c->fs->mount_time;
	pthread_mutex_lock(&c->lock);
	if (jid == 0) {
		for (i = 0; i < N_TOP; i++)
			if (top[i].kind == kind)
				st->st_mode = top[i].mode, r = 0;
		if (kind == K_DIR)
			st->st_mode = S_IFDIR | 0700, r = 0;
		if (kind == K_LAST && c->n_jobs)
			st->st_mode = S_IFLNK | 0777, r = 0;
		if (kind == K_JOBS || kind == K_DIR || kind == K_LOGS)
			st->st_nlink = 2;
		if (kind == K_JOBS && c->jobs_mtime.tv_sec)
			st->st_mtim = st->st_ctim = c->jobs_mtime;
		if (kind == K_LOGS) {
			ctl_stamp(&c->logs_mtime);
			st->st_mtim = st->st_ctim = c->logs_mtime;
		}
	} else if (jid >= PLOG_BASE) {
		if (kind == K_PLOG && ctl_plog_known_locked(c, jid - PLOG_BASE))
			st->st_mode = S_IFREG | 0400, r = 0;
	} else if ((j = jobtab_get(c, jid))) {
		st->st_atim = st->st_ctim = j->ctime;
		st->st_mtim = j->mtime;
		for (i = 0; i < N_JOBF; i++)
			if (jobf[i].kind == kind)
				st->st_mode = jobf[i].mode, r = 0;
		if (kind == J_DIR)
			st->st_mode = S_IFDIR | 0700, st->st_nlink = 2, r = 0;
		if (kind >= J_STDOUT && kind <= J_OUTPUT)
			st->st_size = (off_t)j->s[kind - J_STDOUT].b.len;
	}
	if (kind == K_LAST && jid == 0 && r == 0)
		st->st_size = snprintf(NULL, 0, "%u", newest(c));
	pthread_mutex_unlock(&c->lock);
	return r;
}

void ctl_root_entry(struct sbx_fs *fs, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = CTL_INO(0, K_DIR);
	ctl_stat(fs->ctl, e->ino, &e->attr);
	e->entry_timeout = fs->opts->entry_timeout;
}

/* The child called name of the ctl directory parent: its id, or 0. */
static uint64_t child_of(struct ctl *c, uint64_t parent, const char *name)
{
	unsigned jid = CTL_JOB_OF(parent);
	int kind = CTL_KIND_OF(parent);
	char *end;
	unsigned long n;
	uint64_t id;
	size_t i;

	if (parent == NODE_ROOT_ID)
		return strcmp(name, CTL_NAME) ? 0 : CTL_INO(0, K_DIR);
	if (jid == 0 && kind == K_DIR) {
		for (i = 0; i < N_TOP; i++)
			if (!strcmp(top[i].name, name))
				return CTL_INO(0, top[i].kind);
		return 0;
	}
	if (jid == 0 && kind == K_LOGS)
		return ctl_plog_lookup(c, name, &id) == 0 ? id : 0;
	if (jid == 0 && kind == K_JOBS) {
		if (!strcmp(name, "last"))
			return CTL_INO(0, K_LAST);
		n = strtoul(name, &end, 10);
		if (*end || name[0] == '0' || n == 0 || n > JOB_ID_MAX)
			return 0;
		return CTL_INO(n, J_DIR);
	}
	if (jid && kind == J_DIR)
		for (i = 0; i < N_JOBF; i++)
			if (!strcmp(jobf[i].name, name))
				return CTL_INO(jid, jobf[i].kind);
	return 0;
}

void ctl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ctl *c = ctl_of(req);
	struct fuse_entry_param e;
	uint64_t id = child_of(c, parent, name);

	memset(&e, 0, sizeof(e));
	if (!id || ctl_stat(c, id, &e.attr) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.ino = id;
	/* fixed names of the top level may be cached; job names and "last" not */
	e.entry_timeout = CTL_JOB_OF(id) || CTL_KIND_OF(id) == K_LAST ? 0 : 1.0;
	fuse_reply_entry(req, &e);
}

void ctl_getattr(fuse_req_t req, fuse_ino_t ino)
{
	struct stat st;

	if (ctl_stat(ctl_of(req), ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, 0);
}

void ctl_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set)
{
	struct stat st;

	/* `> file` truncates: harmless; anything else is refused */
	if ((to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME)) ||
	    ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != 0)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (ctl_stat(ctl_of(req), ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, 0);
}

void ctl_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct ctl *c = ctl_of(req);
	char buf[32];
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = newest(c);
	pthread_mutex_unlock(&c->lock);
	if (ino != CTL_INO(0, K_LAST) || !n) {
		fuse_reply_err(req, ino == CTL_INO(0, K_LAST) ? ENOENT : EINVAL);
		return;
	}
	snprintf(buf, sizeof(buf), "%u", n);
	fuse_reply_readlink(req, buf);
}

void ctl_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	if (ctl_stat(ctl_of(req), ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else if (!S_ISDIR(st.st_mode))
		fuse_reply_err(req, ENOTDIR);
	else {
		fi->fh = 0;
		fuse_reply_open(req, fi);
	}
}

/* Readdir offsets of jobs/: an entry for job N is at JOBS_POS(N) (ids
 * never change, so reaping between two reads skips or repeats nothing
 * else), then "last" at LAST_POS. Other ctl directories: entry i at i + 2. */
#define JOBS_POS(id) ((off_t)(id) + 1)
#define LAST_POS     JOBS_POS((off_t)JOB_ID_MAX + 1)

/* The entry at offset off (>= 2) of a ctl directory, or the first one
 * after it: name into buf, its id, and the offset that follows it. */
static bool dir_entry(struct ctl *c, uint64_t dir, off_t off, char *buf, size_t cap,
		      uint64_t *ret_id, off_t *ret_next)
{
	unsigned jid = CTL_JOB_OF(dir);
	size_t i = (size_t)off - 2, k;
	bool found = false;

	*ret_next = off + 1;
	if (jid == 0 && CTL_KIND_OF(dir) == K_DIR) {
		if (i >= N_TOP)
			return false;
		snprintf(buf, cap, "%s", top[i].name);
		*ret_id = CTL_INO(0, top[i].kind);
		return true;
	}
	if (jid == 0 && CTL_KIND_OF(dir) == K_LOGS) {
		pthread_mutex_lock(&c->lock);
		found = ctl_plog_entry_locked(c, off, buf, cap, ret_id, ret_next);
		pthread_mutex_unlock(&c->lock);
		return found;
	}
	if (jid) {
		if (i >= N_JOBF)
			return false;
		snprintf(buf, cap, "%s", jobf[i].name);
		*ret_id = CTL_INO(jid, jobf[i].kind);
		return true;
	}
	pthread_mutex_lock(&c->lock);
	k = off < LAST_POS ? jobtab_from(c, (unsigned)(off - 1)) : c->n_jobs;
	if (k < c->n_jobs) {
		snprintf(buf, cap, "%u", c->jobs[k]->id);
		*ret_id = CTL_INO(c->jobs[k]->id, J_DIR);
		*ret_next = JOBS_POS(c->jobs[k]->id) + 1;
		found = true;
	} else if (off <= LAST_POS && c->n_jobs) {
		snprintf(buf, cap, "last");
		*ret_id = CTL_INO(0, K_LAST);
		*ret_next = LAST_POS + 1;
		found = true;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

void ctl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi,
		 bool plus)
{
	struct ctl *c = ctl_of(req);
	struct fuse_entry_param e;
	char *buf = malloc(size ? size : 1),
	     name[CTL_PROC_ID_MAX + 8]; /* a job number or a process id */
	size_t rem = size, sz;
	off_t next;
	uint64_t id;

	(void)fi;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* a listing of logs/ starts with the executor's list as it is now */
	if (ino == CTL_INO(0, K_LOGS) && off <= 2)
		ctl_plog_refresh(c);
	for (off = off > 0 ? off : 0;; off = next) {
		memset(&e, 0, sizeof(e));
		next = off + 1;
		if (off < 2) {
			snprintf(name, sizeof(name), "%s", off ? ".." : ".");
			e.attr.st_mode = S_IFDIR;
			e.attr.st_ino = off ? NODE_ROOT_ID : ino;
		} else if (!dir_entry(c, ino, off, name, sizeof(name), &id, &next)) {
			break;
		} else if (ctl_stat(c, id, &e.attr) < 0) {
			continue; /* reaped meanwhile */
		} else if (plus) {
			e.ino = id; /* ctl ids are not counted: forget ignores them */
		}
		sz = plus ? fuse_add_direntry_plus(req, buf + size - rem, rem, name, &e, next)
			  : fuse_add_direntry(req, buf + size - rem, rem, name, &e.attr, next);
		if (sz > rem)
			break;
		rem -= sz;
	}
	fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

void ctl_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}
