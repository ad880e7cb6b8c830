/* later.c - FUSE requests answered when the sandbox replies (later.h). */
#include "fs/later.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/dirlist.h"

void later_drop(struct later *l)
{
	if (!l)
		return;
	free(l->name);
	free(l->newname);
	free(l->link);
	free(l->q.link);
	free(l->q.value);
	sbx_rfs_tree_release(&l->q.tree);
	dirlist_unref(l->list);
	free(l);
}

static void done(struct sbx_rfs_async *q)
{
	struct later *l = (struct later *)q;
	struct sbx_fs *fs = l->fs;

	l->then(l);
	later_drop(l);
	pthread_mutex_lock(&fs->lock);
	if (--fs->later_n == 0)
		pthread_cond_broadcast(&fs->later_cv);
	pthread_mutex_unlock(&fs->lock);
}

struct later *later_new(struct sbx_fs *fs, fuse_req_t req, enum sbx_rfs_op op,
			void (*then)(struct later *l), const char *name, const char *newname)
{
	struct later *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->q.op = op;
	l->q.done = done;
	l->fs = fs;
	l->req = req;
	l->then = then;
	if ((name && !(l->name = strdup(name))) || (newname && !(l->newname = strdup(newname)))) {
		later_drop(l);
		return NULL;
	}
	return l;
}

struct later *later_start(struct sbx_fs *fs, fuse_req_t req, int r, enum sbx_rfs_op op,
			  void (*then)(struct later *l), const char *name, const char *newname)
{
	struct later *l = NULL;

	r = r ?: fs_check_alive(fs);
	if (r == 0 && !(l = later_new(fs, req, op, then, name, newname)))
		r = -ENOMEM;
	if (r < 0)
		fuse_reply_err(req, fs_errno(r));
	return l;
}

bool later_failed(struct later *l)
{
	if (l->q.rc >= 0)
		return false;
	fuse_reply_err(l->req, fs_errno(l->q.rc));
	return true;
}

void later_submit(struct later *l)
{
	struct sbx_fs *fs = l->fs;

	pthread_mutex_lock(&fs->lock);
	fs->later_n++;
	pthread_mutex_unlock(&fs->lock);
	sbx_rfs_submit(fs->rfs, &l->q);
}

void later_drain(struct sbx_fs *fs)
{
	pthread_mutex_lock(&fs->lock);
	while (fs->later_n)
		pthread_cond_wait(&fs->later_cv, &fs->lock);
	pthread_mutex_unlock(&fs->lock);
}
