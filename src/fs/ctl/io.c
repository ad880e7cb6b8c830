/* io.c - open/read/write/release of the /.ctl files.
 *
 * status, info, stats, new, procs, ports, jobs/N/status and jobs/N/cmd are
 * snapshots made at open (procs only when opened for reading: a write needs
 * no list); the streams and exit of a job are read live (job_read parks the
 * request until there is something to say); ctl, procs, ports, jobs/N/ctl,
 * jobs/N/stdin and exec take writes. Every file is direct_io: the kernel caches nothing.
 */
#include "fs/ctl/ctl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ctl_fh.kind of the files of a job: FH_JOB + J_* (K_* for the top). */
#define FH_JOB 100

static struct ctl_fh *fh_of(struct fuse_file_info *fi)
{
	return (struct ctl_fh *)(uintptr_t)fi->fh;
}

/* Fills the snapshot of a file that has one; 0, or a negative errno. uid:
 * the caller (.ctl/new makes a job of theirs); acc: the open's O_ACCMODE. */
static int snapshot(struct ctl *c, struct ctl_fh *fh, uid_t uid, int acc)
{
	struct job *j;
	int r = 0;

	switch (fh->kind) {
	case K_STATUS: return ctl_snap_status(c->fs, &fh->snap);
	case K_INFO: return ctl_snap_info(c->fs, &fh->snap);
	case K_STATS: return ctl_snap_stats(c->fs, &fh->snap);
	case K_PROCS: return acc == O_WRONLY ? 0 : ctl_snap_procs(c->fs, &fh->snap);
	case K_PORTS: return ctl_snap_ports(c, &fh->snap);
	case K_PLOG: return ctl_snap_plog(c, fh->job - PLOG_BASE, &fh->snap);
	case K_NEW:
		j = job_new(c, uid, false, &r);
		if (j)
			r = sbx_buf_printf(&fh->snap, "%u\n", j->id);
		job_put(c, j);
		return r;
	case FH_JOB + J_STATUS:
	case FH_JOB + J_CMD:
		pthread_mutex_lock(&c->lock);
		j = jobtab_get(c, fh->job);
		if (!j)
			r = -ENOENT;
		else if (fh->kind == FH_JOB + J_STATUS)
			r = sbx_buf_printf(&fh->snap, "%s\n", job_state_name(j->state));
		else if (j->cmd)
			r = sbx_buf_printf(&fh->snap, "%s\n", j->cmd);
		pthread_mutex_unlock(&c->lock);
		return r;
	default: return 0;
	}
}

void ctl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ctl *c = fs_of(req)->ctl;
	struct ctl_fh *fh;
	struct job *j = NULL;
	int kind = CTL_KIND_OF(ino), r;
	unsigned jid = CTL_JOB_OF(ino);
	int acc = fi->flags & O_ACCMODE;
	bool plog = jid >= PLOG_BASE; /* logs/ID: no job behind it */

	if ((jid == 0 && (kind == K_DIR || kind == K_JOBS || kind == K_LOGS)) ||
	    (jid && !plog && kind == J_DIR)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	j = jid && !plog ? job_find(c, jid) : NULL;
	if (jid && !plog && !j) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	r = -ENOMEM;
	fh = calloc(1, sizeof(*fh));
	if (fh) {
		/* job kinds apart from top kinds */
		fh->kind = jid && !plog ? FH_JOB + kind : kind;
		fh->job = jid;
		r = snapshot(c, fh, fuse_req_ctx(req)->uid, acc);
	}
	if (r < 0)
		goto fail;
	if (jid && kind == J_STDIN && acc != O_RDONLY) {
		fh->stdin_writer = true;
		job_stdin_open(c, j);
	}
	fi->fh = (uintptr_t)fh;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fi->nonseekable = jid == 0 && kind == K_EXEC;
	fs_handle_link(c->fs, &c->fhs, &fh->link); /* its release may come at once */
	if (fuse_reply_open(req, fi) == 0) {
		fh = NULL; /* the kernel holds it now */
	} else {
		fs_handle_unlink(c->fs, &c->fhs, &fh->link);
		if (fh->stdin_writer)
			job_stdin_close(c, j); /* the open is undone */
	}
	r = 0;
fail:
	if (fh)
		sbx_buf_release(&fh->snap);
	free(fh);
	job_put(c, j);
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
}

/* A handle in use by a request (ctl->lock). */
static struct ctl_fh *fh_hold(struct ctl *c, struct ctl_fh *fh)
{
	pthread_mutex_lock(&c->lock);
	fh->busy++;
	pthread_mutex_unlock(&c->lock);
	return fh;
}

static void fh_free(struct ctl *c, struct ctl_fh *fh)
{
	job_put(c, fh->exec_job);
	sbx_buf_release(&fh->snap);
	free(fh);
}

/* Ends the use fh_hold began; frees a handle released meanwhile. */
static void fh_unhold(struct ctl *c, struct ctl_fh *fh)
{
	bool last;

	pthread_mutex_lock(&c->lock);
	last = --fh->busy == 0 && fh->released;
	pthread_mutex_unlock(&c->lock);
	if (last)
		fh_free(c, fh);
}

static void reply_snap(fuse_req_t req, const struct ctl_fh *fh, size_t size, off_t off)
{
	size_t o = off > 0 ? (size_t)off : 0;
	size_t n = o < fh->snap.len ? fh->snap.len - o : 0;

	fuse_reply_buf(req, n ? fh->snap.data + o : NULL, n < size ? n : size);
}

static void read_held(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct ctl_fh *fh);

void ctl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct ctl *c = fs_of(req)->ctl;
	struct ctl_fh *fh = fh_hold(c, fh_of(fi));

	read_held(req, ino, size, off, fh);
	fh_unhold(c, fh);
}

static void read_held(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct ctl_fh *fh)
{
	struct ctl *c = fs_of(req)->ctl;
	unsigned jid = CTL_JOB_OF(ino);
	int kind = CTL_KIND_OF(ino);
	struct job *j;
	uint64_t o = off > 0 ? (uint64_t)off : 0;

	if (jid == 0 && kind == K_EXEC) {
		if (!fh->exec_job)
			fuse_reply_buf(req, NULL, 0); /* nothing started on this handle */
		else
			job_read(req, fh->exec_job, S_ALL, 0, size, &fh->cursor);
		return;
	}
	if (!jid || (kind != J_STDOUT && kind != J_STDERR && kind != J_OUTPUT && kind != J_EXIT)) {
		reply_snap(req, fh, size, off);
		return;
	}
	j = job_find(c, jid);
	if (!j) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	job_read(req, j, kind == J_EXIT ? S_EXIT : kind - J_STDOUT, o, size, NULL);
	job_put(c, j);
}

/* A write to .ctl/exec by uid: its first one starts a job, which the
 * handle keeps a reference to. */
static int exec_write(struct ctl *c, struct ctl_fh *fh, uid_t uid, const char *buf, size_t size)
{
	struct job *j;
	int r;

	if (fh->exec_job)
		return -EBUSY;
	j = job_new(c, uid, true, &r);
	if (!j)
		return r;
	r = job_run(c, j, buf, size);
	if (r != -EINVAL) {
		fh->exec_job = j; /* a failure to start shows in its status too */
		return r;
	}
	job_discard(c, j); /* no command: it would stay pending forever */
	job_put(c, j);
	return r;
}

void ctl_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct ctl *c = fs_of(req)->ctl;
	struct ctl_fh *fh = fh_hold(c, fh_of(fi));
	unsigned jid = CTL_JOB_OF(ino);
	int kind = CTL_KIND_OF(ino), r;
	struct job *j = NULL;

	(void)off;
	if (jid)
		j = job_find(c, jid);
	if (jid == 0 && kind == K_CTL)
		r = ctl_verbs(c, buf, size);
	else if (jid == 0 && kind == K_PROCS)
		r = ctl_procs_verbs(c, buf, size);
	else if (jid == 0 && kind == K_PORTS)
		r = ctl_ports_verbs(c, buf, size);
	else if (jid == 0 && kind == K_EXEC)
		r = exec_write(c, fh, fuse_req_ctx(req)->uid, buf, size);
	else if (j && kind == J_CTL)
		r = ctl_job_verbs(c, j, buf, size);
	else if (j && kind == J_STDIN)
		r = job_stdin_write(c, j, buf, size);
	else
		r = -EBADF;
	job_put(c, j);
	fh_unhold(c, fh);
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	else
		fuse_reply_write(req, size);
}

/* What the kernel's release of fh does: fh is freed here, or by the
 * last request still using it. */
static void release_one(struct ctl *c, struct ctl_fh *fh)
{
	struct job *j;
	bool last;

	if (fh->stdin_writer) {
		j = job_find(c, fh->job);
		if (j)
			job_stdin_close(c, j);
		job_put(c, j);
	}
	pthread_mutex_lock(&c->lock);
	/* a read of .ctl/exec parked on the job points at this handle's
	 * position: it must not outlive the handle */
	if (fh->exec_job)
		job_forget_cursor_locked(fh->exec_job, &fh->cursor);
	fh->released = true;
	last = fh->busy == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		fh_free(c, fh);
}

void ctl_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ctl *c = fs_of(req)->ctl;
	struct ctl_fh *fh = fh_of(fi);

	(void)ino;
	fs_handle_unlink(c->fs, &c->fhs, &fh->link);
	release_one(c, fh);
	fuse_reply_err(req, 0);
}

void ctl_release_all(struct ctl *c)
{
	struct fs_handle *h;

	if (!c)
		return;
	while ((h = fs_handle_take(c->fs, &c->fhs)))
		release_one(c, (struct ctl_fh *)h);
}
