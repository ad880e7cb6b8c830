/* later.h - FUSE requests answered when the sandbox replies.
 *
 * A handler that needs one remote operation (a stat, a mkdir, an unlink,
 * a rename…) does its local part, hands the operation to libsbx with
 * sbx_rfs_submit() and returns: its worker thread goes back to the FUSE
 * queue at once, so the requests in flight are not bounded by the worker
 * threads, and a request the caches answer never waits behind remote
 * ones. The handler's second half (`then`) runs when the reply came, on
 * libsbx's completion thread (or on the worker itself with the shell
 * transport, which cannot answer later): it updates the caches and
 * replies to the kernel.
 *
 * A `then` must not wait for anything another FUSE request may hold (a
 * file's cache lock, a store, a listing in flight): all completions share
 * one thread. What it may do: take fs->lock, change nodes, cache what a
 * listing brought (small contents into memory), reply, tell the kernel to
 * drop attributes, hand over another request (a lookup whose listing
 * did not have the name asks for the one name), and let go a file's lock
 * its request held (fcache_unlock() hands it to the request queued for
 * it, which goes on on another thread).
 *
 * When the loop ends (a signal, an unmount), every request handed over
 * is answered before the kernel connection goes (later_drain): each has
 * a deadline (op_timeout), so the wait is bounded.
 */
#ifndef SBX_FS_LATER_H
#define SBX_FS_LATER_H

#include "fs/fs.h"

struct later {
	struct sbx_rfs_async q; /* first */
	struct sbx_fs *fs;
	fuse_req_t req;
	void (*then)(struct later *l); /* the handler's second half */
	/* the handler's state, as it needs */
	fuse_ino_t ino, parent, newparent;
	char *name, *newname, *link; /* owned */
	uint64_t gen0, pgen0, seq0;
	struct fuse_file_info fi; /* opendir's, replied later */
	size_t size;		  /* getxattr, listxattr, readdir: the caller's buffer */
	off_t off;		  /* readdir: where it starts */
	bool plus;		  /* readdir: readdirplus */
	struct sbx_rfs_cred cred; /* the caller's, for a request sent later */
	bool has_cred;		  /* else the transport's own ids */
	struct sbx_rfs_attr seen; /* readlink: the node's attributes when sent */
	/* a listing (ops_get_list_later); ep also readlink's fs epoch */
	uint64_t ep, own0;
	double t;
	struct dirlist *list;		/* owned */
	void (*after)(struct later *l); /* the caller's second half */
	void *ctx;			/* the caller's state (a read's: fcache_aread.c), its own */
	/* a request that makes the name parent/name (later_naming): in
	 * fs->naming from its submission to the end of its second half */
	bool naming, naming_seen;
	struct later *naming_next;
};

/* A request of op for req, its second half then; NULL when out of memory
 * (the caller replies ENOMEM). name and newname are copied (may be NULL). */
struct later *later_new(struct sbx_fs *fs, fuse_req_t req, enum sbx_rfs_op op,
			void (*then)(struct later *l), const char *name, const char *newname);
/* Sends it (l->q's request fields set; the strings they point to may go
 * once this returns). Then l->then(l) runs, and l is freed after it. */
void later_submit(struct later *l);
/* later_new() for a handler whose local part ended with r (0 or a
 * negative errno), on a mount still alive: NULL after replying the error
 * (r's, the mount's end, or ENOMEM). */
struct later *later_start(struct sbx_fs *fs, fuse_req_t req, int r, enum sbx_rfs_op op,
			  void (*then)(struct later *l), const char *name, const char *newname);
/* In a second half: true after replying the request's error, when it
 * failed (nothing more to do). */
bool later_failed(struct later *l);
/* Frees l unsent (accepts NULL): the caller replied itself. */
void later_drop(struct later *l);
/* Marks l (not submitted yet) as making the name l->parent/l->name. Until
 * its second half has run, later_naming_pending() finds it: a change
 * report of that name may come before the reply it follows in the agent's
 * stream has been handled, and must not make the kernel drop the entry
 * the reply is about to give it. */
void later_naming(struct later *l);
/* Whether a request making parent/name is in flight (fs->lock held); it
 * is marked, so that the kernel is told about the name should it fail. */
bool later_naming_pending(struct sbx_fs *fs, uint64_t parent, const char *name);
/* A request answered later that is not a struct later (a large file's
 * read parked for its ranged reads, fcache_aread.c) begins, and ends:
 * later_drain() waits for it too. */
void later_begin(struct sbx_fs *fs);
void later_end(struct sbx_fs *fs);
/* Waits until every request submitted has run its second half. */
void later_drain(struct sbx_fs *fs);

#endif
