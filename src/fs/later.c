/* later.c - FUSE requests answered when the sandbox replies (later.h). */
#include "fs/later.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/dirlist.h"
#include "fs/inval.h"

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

void later_naming(struct later *l)
{
	l->naming = true;
}

bool later_naming_pending(struct sbx_fs *fs, uint64_t parent, const char *name)
{
	struct later *l;

	for (l = fs->naming; l; l = l->naming_next)
		if (l->parent == parent && l->name && !strcmp(l->name, name)) {
			l->naming_seen = true;
			return true;
		}
	return false;
}

/* Takes l out of fs->naming; whether a report of its name was passed
 * over meanwhile. */
static bool naming_end(struct sbx_fs *fs, struct later *l)
{
	struct later **pp;
	bool seen;

	pthread_mutex_lock(&fs->lock);
	for (pp = &fs->naming; *pp && *pp != l; pp = &(*pp)->naming_next)
		;
	if (*pp)
		*pp = l->naming_next;
	seen = l->naming_seen;
	pthread_mutex_unlock(&fs->lock);
	return seen;
}

struct name_note {
	struct sbx_fs *fs;
	uint64_t parent;
	char name[];
};

/* On the invalidation thread: the kernel may wait there for its locks. */
static void tell_name(void *ud)
{
	struct name_note *nn = ud;

	if (nn->fs->se)
		fuse_lowlevel_notify_inval_entry(nn->fs->se, nn->parent, nn->name,
						 strlen(nn->name));
	free(nn);
}

static void done(struct sbx_rfs_async *q)
{
	struct later *l = (struct later *)q;
	struct sbx_fs *fs = l->fs;
	struct inval *iv;
	struct name_note *nn;

	l->then(l);
	/* a report of the name was passed over for this request, which
	 * failed: the name is someone else's, which the kernel must learn */
	if (l->naming && naming_end(fs, l) && l->q.rc < 0 &&
	    (iv = __atomic_load_n(&fs->inval, __ATOMIC_ACQUIRE)) &&
	    (nn = malloc(sizeof(*nn) + strlen(l->name) + 1))) {
		nn->fs = fs;
		nn->parent = l->parent;
		strcpy(nn->name, l->name);
		inval_post_ordered(iv, tell_name, nn);
	}
	later_drop(l);
	later_end(fs);
}

void later_begin(struct sbx_fs *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->later_n++;
	pthread_mutex_unlock(&fs->lock);
}

void later_end(struct sbx_fs *fs)
{
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
	if (l->naming) {
		l->naming_next = fs->naming;
		fs->naming = l;
	}
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
