/* rfs.c - the public face of rfs.h: the context, the choice of transport,
 * and every operation handed to the transport's table (transport.h).
 *
 * The transport is chosen once, by sbx_rfs_connect() (or, for a context
 * that was never connected, it is the shell one: it needs no setup). With
 * SBX_RFS_TRANSPORT_AUTO a failure to start the agent is not an error: the
 * context uses the shell transport and keeps the reason for .ctl/info.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rfs/agent.h"
#include "rfs/call.h"
#include "rfs/transport.h"
#include "util/log.h"
#include "util/timeutil.h"

int sbx_rfs_new(struct sbx_sandbox *sb, const struct sbx_rfs_opts *opts, struct sbx_rfs **ret)
{
	struct sbx_rfs *r;

	if (!sb || !ret)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->sb = sb;
	r->op_timeout_s = opts && opts->op_timeout_s > 0 ? opts->op_timeout_s : 60;
	r->pref = opts ? opts->transport : SBX_RFS_TRANSPORT_AUTO;
	r->on_change = opts ? opts->on_change : NULL;
	if (opts && opts->prefetch_file_max && opts->prefetch_total_max) {
		r->prefetch_file_max = opts->prefetch_file_max < SBXA_DIR_FILE_MAX
					   ? opts->prefetch_file_max
					   : SBXA_DIR_FILE_MAX;
		r->prefetch_total_max = opts->prefetch_total_max < SBXA_DIR_TOTAL_MAX
					    ? opts->prefetch_total_max
					    : SBXA_DIR_TOTAL_MAX;
	}
	r->change_ud = opts ? opts->change_ud : NULL;
	r->tp = &rfs_shell_transport;
	pthread_mutex_init(&r->lock, NULL);
	*ret = r;
	return 0;
}

void sbx_rfs_free(struct sbx_rfs *r)
{
	if (!r)
		return;
	rfs_agent_free(r->agent);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct sbx_sandbox *sbx_rfs_sandbox(const struct sbx_rfs *r)
{
	return r->sb;
}

int sbx_rfs_connect(struct sbx_rfs *r, struct sbx_err *err)
{
	struct sbx_err local = {0};
	int rc;

	if (r->pref == SBX_RFS_TRANSPORT_SHELL) {
		snprintf(r->note, sizeof(r->note), "asked for");
		return 0;
	}
	rc = rfs_agent_new(r, &r->agent, &local);
	if (rc == 0) {
		r->tp = &rfs_agent_transport;
		r->note[0] = '\0';
		return 0;
	}
	snprintf(r->note, sizeof(r->note), "agent unavailable: %s", local.msg);
	if (r->pref == SBX_RFS_TRANSPORT_AGENT) {
		if (err)
			*err = local;
		return rc;
	}
	sbx_debug("rfs: %s; using the shell transport", r->note);
	return 0;
}

int sbx_rfs_watch(struct sbx_rfs *r, const char *dir, struct sbx_err *err)
{
	if (!r->agent || !r->on_change)
		return sbx_err_set(err, -ENOTSUP, 0, "change events need the agent transport");
	return rfs_agent_watch(r->agent, dir, err);
}

int sbx_rfs_validator(const struct sbx_rfs *r, const struct sbx_rfs_attr *a, char *out)
{
	if (!r->agent)
		return -ENOTSUP;
	rfs_agent_validator(a, out);
	return 0;
}

void sbx_rfs_events_off(struct sbx_rfs *r)
{
	if (r->agent)
		rfs_agent_events_off(r->agent);
}

bool sbx_rfs_reports_changes(const struct sbx_rfs *r)
{
	return r->agent && r->on_change;
}

int sbx_rfs_readtree(struct sbx_rfs *r, const char *path, uint32_t max_entries, unsigned flags,
		     struct sbx_rfs_tree *ret, struct sbx_err *err)
{
	if (!r->agent)
		return sbx_err_set(err, -ENOTSUP, 0, "tree listings need the agent transport");
	if (flags & ~SBX_RFS_TREE_DATA)
		return sbx_err_set(err, -EINVAL, 0, "unknown tree listing flags");
	return rfs_agent_readtree(r, path, max_entries, flags, ret, err);
}

void sbx_rfs_tree_release(struct sbx_rfs_tree *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->dirs[i].path);
		sbx_rfs_dir_release(&t->dirs[i].dir);
	}
	free(t->dirs);
	t->dirs = NULL;
	t->n = 0;
}

int sbx_rfs_mknod(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		  uint32_t mode, uint64_t rdev, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	if (r->agent)
		return rfs_agent_mknod(r, cred, path, mode, rdev, ret, err);
	if (!S_ISREG(mode) && !S_ISFIFO(mode))
		return sbx_err_set(err, -EPERM, 0,
				   "mknod %s: only files and FIFOs without the agent", path);
	return r->tp->create(r, cred, path, mode, true, ret, err);
}

uint64_t sbx_rfs_seq(const struct sbx_rfs *r)
{
	return r->agent ? rfs_agent_seq(r->agent) : 0;
}

const char *sbx_rfs_transport_name(const struct sbx_rfs *r)
{
	return r->tp->name;
}

const char *sbx_rfs_transport_note(const struct sbx_rfs *r)
{
	return r->note;
}

int sbx_rfs_stat(struct sbx_rfs *r, const char *path, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	return r->tp->stat(r, path, ret, err);
}

int sbx_rfs_readdir(struct sbx_rfs *r, const char *path, struct sbx_rfs_dir *ret,
		    struct sbx_err *err)
{
	return r->tp->readdir(r, path, ret, err);
}

int sbx_rfs_readlink(struct sbx_rfs *r, const char *path, char **ret, struct sbx_err *err)
{
	return r->tp->readlink(r, path, ret, err);
}

int sbx_rfs_mkdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		  uint32_t mode, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	return r->tp->mkdir(r, cred, path, mode, ret, err);
}

int sbx_rfs_create(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		   uint32_t mode, bool excl, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	return r->tp->create(r, cred, path, mode, excl, ret, err);
}

int sbx_rfs_unlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		   struct sbx_err *err)
{
	return r->tp->unlink(r, cred, path, err);
}

int sbx_rfs_rmdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		  struct sbx_err *err)
{
	return r->tp->rmdir(r, cred, path, err);
}

int sbx_rfs_rename(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		   const char *to, unsigned flags, struct sbx_err *err)
{
	return r->tp->rename(r, cred, from, to, flags, err);
}

int sbx_rfs_link(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		 const char *to, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	return r->tp->link(r, cred, from, to, ret, err);
}

int sbx_rfs_symlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *target,
		    const char *path, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	return r->tp->symlink(r, cred, target, path, ret, err);
}

int sbx_rfs_setattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		    const struct sbx_rfs_setattr *sa, struct sbx_rfs_attr *ret, struct sbx_err *err)
{
	return r->tp->setattr(r, cred, path, sa, ret, err);
}

int sbx_rfs_getxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     const char *name, void *buf, size_t size, size_t *ret_len, struct sbx_err *err)
{
	return r->tp->getxattr(r, cred, path, name, buf, size, ret_len, err);
}

int sbx_rfs_listxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		      void *buf, size_t size, size_t *ret_len, struct sbx_err *err)
{
	return r->tp->listxattr(r, cred, path, buf, size, ret_len, err);
}

int sbx_rfs_setxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     const char *name, const void *value, size_t len, int flags,
		     struct sbx_err *err)
{
	return r->tp->setxattr(r, cred, path, name, value, len, flags, err);
}

int sbx_rfs_removexattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			const char *name, struct sbx_err *err)
{
	return r->tp->removexattr(r, cred, path, name, err);
}

int sbx_rfs_statfs(struct sbx_rfs *r, const char *path, struct statvfs *ret, struct sbx_err *err)
{
	return r->tp->statfs(r, path, ret, err);
}

int sbx_rfs_fetch(struct sbx_rfs *r, const char *path, int fd, const char *validator,
		  uint64_t size_hint, bool *ret_unchanged, uint64_t *ret_len,
		  struct sbx_rfs_attr *ret_attr, char *ret_validator, struct sbx_err *err)
{
	return r->tp->fetch(r, path, fd, validator, size_hint, ret_unchanged, ret_len, ret_attr,
			    ret_validator, err);
}

int sbx_rfs_read_range(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
		       uint64_t fd_off, uint64_t *ret_n, struct sbx_err *err)
{
	return r->tp->read_range(r, path, off, len, fd, fd_off, ret_n, err);
}

int sbx_rfs_read_start(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
		       uint64_t fd_off, struct sbx_rfs_pread **ret, struct sbx_err *err)
{
	if (len > SBX_RFS_READ_MAX)
		return sbx_err_set(err, -EINVAL, 0, "read of %llu bytes: too long",
				   (unsigned long long)len);
	return r->tp->read_start(r, path, off, len, fd, fd_off, ret, err);
}

int sbx_rfs_read_finish(struct sbx_rfs_pread *p, uint64_t *ret_n, struct sbx_rfs_attr *ret_attr,
			struct sbx_err *err)
{
	return p->tp->read_finish(p, ret_n, ret_attr, err);
}

int sbx_rfs_wfile_open(struct sbx_rfs *r, const char *path, struct sbx_rfs_wfile **ret,
		       struct sbx_err *err)
{
	if (!r->tp->wfile_open)
		return sbx_err_set(err, -ENOTSUP, 0, "writes in place need the agent transport");
	return r->tp->wfile_open(r, path, ret, err);
}

int sbx_rfs_fsync(struct sbx_rfs *r, const char *path, struct sbx_err *err)
{
	struct sbx_rfs_wfile *wf = NULL;
	int64_t t0 = sbx_now_ms();
	int rc, rc2;

	rc = sbx_rfs_wfile_open(r, path, &wf, err);
	if (rc < 0)
		return rc;
	rc = sbx_rfs_wfile_sync(wf, true, err);
	rc2 = sbx_rfs_wfile_close(wf, rc < 0 ? NULL : err);
	rc = rc ?: rc2;
	/* the open, the FSYNC and the close: one wait each */
	rfs_count(r, SBX_RFS_OP_FSYNC, 3, rc, (sbx_now_ms() - t0) * 1000, 0, 0);
	return rc;
}

bool sbx_rfs_writes_in_place(const struct sbx_rfs *r)
{
	return r->tp->wfile_open != NULL;
}

int sbx_rfs_store(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
		  const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret, char *ret_validator,
		  struct sbx_err *err)
{
	return r->tp->store(r, path, fd, len, o, ret, ret_validator, err);
}

int sbx_rfs_signal_env(struct sbx_rfs *r, const char *env_marker, const char *sig_name,
		       unsigned *ret_count, struct sbx_err *err)
{
	return r->tp->signal_env(r, env_marker, sig_name, ret_count, err);
}

int sbx_rfs_sweep(struct sbx_rfs *r, unsigned *ret_removed, struct sbx_err *err)
{
	return r->tp->sweep(r, ret_removed, err);
}

/* ---- requests answered later ---- */

void rfs_async_begin(struct sbx_rfs *r, struct sbx_rfs_async *q)
{
	q->link = NULL;
	q->value = NULL;
	q->value_len = 0;
	memset(&q->tree, 0, sizeof(q->tree));
	q->unchanged = false;
	q->len = 0;
	pthread_mutex_lock(&r->lock);
	if (++r->async_now > r->async_max)
		r->async_max = r->async_now;
	pthread_mutex_unlock(&r->lock);
}

void rfs_async_end(struct sbx_rfs *r)
{
	pthread_mutex_lock(&r->lock);
	r->async_now--;
	pthread_mutex_unlock(&r->lock);
}

/* An XATTR request of sbx_rfs_submit() made by waiting. */
static int xattr_here(struct sbx_rfs *r, struct sbx_rfs_async *q)
{
	int rc;

	if (q->xop == SBX_RFS_XATTR_SET)
		return sbx_rfs_setxattr(r, q->cred, q->path, q->name, q->set_value, q->set_len,
					q->set_flags, NULL);
	if (q->xop == SBX_RFS_XATTR_REMOVE)
		return sbx_rfs_removexattr(r, q->cred, q->path, q->name, NULL);
	q->value = q->size ? malloc(q->size) : NULL;
	if (q->size && !q->value)
		return -ENOMEM;
	rc = q->name
		 ? sbx_rfs_getxattr(r, q->cred, q->path, q->name, q->value, q->size, &q->value_len,
				    NULL)
		 : sbx_rfs_listxattr(r, q->cred, q->path, q->value, q->size, &q->value_len, NULL);
	if (rc < 0) {
		free(q->value);
		q->value = NULL;
	}
	return rc;
}

/* The transports that cannot answer later: the waiting call, then done(). */
static void submit_here(struct sbx_rfs *r, struct sbx_rfs_async *q)
{
	rfs_async_begin(r, q);
	switch (q->op) {
	case SBX_RFS_OP_STAT: q->rc = sbx_rfs_stat(r, q->path, &q->attr, NULL); break;
	case SBX_RFS_OP_READLINK: q->rc = sbx_rfs_readlink(r, q->path, &q->link, NULL); break;
	case SBX_RFS_OP_MKDIR:
		q->rc = sbx_rfs_mkdir(r, q->cred, q->path, q->mode, &q->attr, NULL);
		break;
	case SBX_RFS_OP_CREATE:
		q->rc = (q->flags & SBX_RFS_CREATE_SHARED) && S_ISREG(q->mode)
			    ? sbx_rfs_create(r, q->cred, q->path, q->mode, false, &q->attr, NULL)
			    : sbx_rfs_mknod(r, q->cred, q->path, q->mode, q->rdev, &q->attr, NULL);
		break;
	case SBX_RFS_OP_SYMLINK:
		q->rc = sbx_rfs_symlink(r, q->cred, q->from, q->path, &q->attr, NULL);
		break;
	case SBX_RFS_OP_LINK:
		q->rc = sbx_rfs_link(r, q->cred, q->from, q->path, &q->attr, NULL);
		break;
	case SBX_RFS_OP_UNLINK: q->rc = sbx_rfs_unlink(r, q->cred, q->path, NULL); break;
	case SBX_RFS_OP_RMDIR: q->rc = sbx_rfs_rmdir(r, q->cred, q->path, NULL); break;
	case SBX_RFS_OP_RENAME:
		q->rc = sbx_rfs_rename(r, q->cred, q->from, q->path, q->flags, NULL);
		break;
	case SBX_RFS_OP_SETATTR:
		q->rc = sbx_rfs_setattr(r, q->cred, q->path, q->sa, &q->attr, NULL);
		break;
	case SBX_RFS_OP_READDIR:
		q->rc = sbx_rfs_readtree(r, q->path, q->max_entries, q->flags, &q->tree, NULL);
		break;
	case SBX_RFS_OP_STATFS: q->rc = sbx_rfs_statfs(r, q->path, &q->vfs, NULL); break;
	case SBX_RFS_OP_XATTR: q->rc = xattr_here(r, q); break;
	case SBX_RFS_OP_FETCH:
		q->rc = sbx_rfs_fetch(r, q->path, q->fd, q->validator, q->size_hint, &q->unchanged,
				      &q->len, &q->attr, q->fetched_validator, NULL);
		break;
	case SBX_RFS_OP_READ_RANGE:
		memset(&q->attr, 0, sizeof(q->attr)); /* the version read is not known */
		q->rc = q->count > SBX_RFS_READ_MAX
			    ? -EINVAL
			    : sbx_rfs_read_range(r, q->path, q->off, q->count, q->fd, q->fd_off,
						 &q->len, NULL);
		break;
	case SBX_RFS_OP_STORE:
		q->rc = sbx_rfs_store(r, q->path, q->fd, q->count, q->store, &q->attr,
				      q->fetched_validator, NULL);
		break;
	case SBX_RFS_OP_FSYNC:
		q->rc =
		    q->wf ? sbx_rfs_wfile_sync(q->wf, true, NULL) : sbx_rfs_fsync(r, q->path, NULL);
		memset(&q->attr, 0, sizeof(q->attr)); /* not asked for here */
		break;
	default: q->rc = -EINVAL; break;
	}
	rfs_async_end(r);
	q->done(q);
}

void sbx_rfs_submit(struct sbx_rfs *r, struct sbx_rfs_async *q)
{
	if (sbx_rfs_submits_async(r))
		rfs_agent_submit(r, q);
	else
		submit_here(r, q);
}

bool sbx_rfs_submits_async(const struct sbx_rfs *r)
{
	return r->agent != NULL;
}

void sbx_rfs_async_counts(struct sbx_rfs *r, uint64_t *ret_now, uint64_t *ret_max)
{
	pthread_mutex_lock(&r->lock);
	*ret_now = r->async_now;
	*ret_max = r->async_max;
	pthread_mutex_unlock(&r->lock);
}
