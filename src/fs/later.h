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
 * one thread. What it may do: take fs->lock, change nodes, reply, tell
 * the kernel to drop attributes.
 *
 * Unmount waits for every request handed over (later_drain): each has a
 * deadline (op_timeout), so the wait is bounded.
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
	unsigned flags;
};

/* A request of op for req, its second half then; NULL when out of memory
 * (the caller replies ENOMEM). name and newname are copied (may be NULL). */
struct later *later_new(struct sbx_fs *fs, fuse_req_t req, enum sbx_rfs_op op,
			void (*then)(struct later *l), const char *name, const char *newname);
/* Sends it (l->q's request fields set; the strings they point to may go
 * once this returns). Then l->then(l) runs, and l is freed after it. */
void later_submit(struct later *l);
/* Frees l unsent (accepts NULL): the caller replied itself. */
void later_drop(struct later *l);
/* Waits until every request submitted has run its second half. */
void later_drain(struct sbx_fs *fs);

#endif
