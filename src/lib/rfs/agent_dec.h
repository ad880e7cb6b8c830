/* agent_dec.h - the client's decoders of sbx-agent's replies (the
 * on_frame callbacks of the agent transport's requests), and an offline
 * session that feeds them bytes as if the agent had sent them. For the
 * fuzz target tests/fuzz/fuzz_agent_replies.c and the unit tests; the
 * library itself only uses the decoders through its own requests.
 *
 * Every decoder keeps its contract whatever the bytes: a negative return
 * (-EPROTO for a malformed or out-of-bounds reply) and nothing kept but
 * what its reset or release frees.
 */
#ifndef SBX_LIB_RFS_AGENT_DEC_H
#define SBX_LIB_RFS_AGENT_DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rfs/agent.h"

/* ---- decoders: the on_frame (and on_reset) of each kind of request ---- */

/* agent_sess.c: HELLO; ud is the context (its agent_machine is set). */
int rfs_agent_hello_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
/* agent_ops.c: one attr (LSTAT, MKDIR, MKNOD, LINK, SYMLINK, SETATTR,
 * COMMIT); ud is a struct sbxa_attr. */
int rfs_agent_attr_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
/* MKDIR's reply: the new directory's attr, then its parent's, which an
 * agent before that change does not send (parent then all zero, mode 0).
 * ud is a struct rfs_attr_pair. */
struct rfs_attr_pair {
	struct sbxa_attr a, parent;
};
int rfs_agent_attr_pair_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
/* The same for a reply whose attr may be missing (RENAME's from an agent
 * that sends none): then ud is all zero (mode 0: unknown). */
int rfs_agent_attr_opt_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
/* agent_ops.c: statfs block; ud is a struct sbxa_statfs. */
int rfs_agent_statfs_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
/* agent_store.c: PWRITE's count; ud is the uint32_t it must be. */
int rfs_agent_pwrite_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
/* agent_xattr.c: a sized reply ("u32 len, bytes": GETXATTR, LISTXATTR)
 * into buf (size bytes; size 0: the length only); ud is a struct
 * sized_ud set by rfs_agent_xattr_request(). */
struct sized_ud {
	void *buf;
	size_t size;
	size_t len;
};
int rfs_agent_sized_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
/* The GETXATTR (name) or LISTXATTR (name NULL) frame into w, and u set up
 * for its reply into buf: 0, or -EINVAL / -ERANGE for a bad name (nothing
 * written). */
int rfs_agent_xattr_request(struct sbxa_w *w, struct sized_ud *u, const struct sbx_rfs_cred *cred,
			    const char *path, const char *name, void *buf, size_t size);
/* The SETXATTR (set: value of len bytes, may be NULL when len is 0;
 * flags) or REMOVEXATTR frame into w: 0, or -EINVAL / -ERANGE for a bad
 * name, -E2BIG for a value past the wire's bound (nothing written). Its
 * reply is a status. */
int rfs_agent_xattr_change(struct sbxa_w *w, const struct sbx_rfs_cred *cred, const char *path,
			   const char *name, bool set, const void *value, size_t len, int flags);
/* agent_ops.c: the statvfs of a decoded statfs block. */
void rfs_agent_statvfs(struct statvfs *ret, const struct sbxa_statfs *s);
/* agent_ops.c: READLINK's target (one frame); s is the caller's to free. */
struct str_ud {
	char *s;
};
int rfs_agent_str_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
void rfs_agent_str_reset(void *ud);
/* agent_ops.c: a plain READDIR (ud: struct dir_ud, agent.h; first set,
 * the data bounds as asked); on failure the caller releases u->d. */
int rfs_agent_dir_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
void rfs_agent_dir_reset(void *ud);

/* agent_tree.c: a SBXA_DIR_TREE reply into t. Set by the caller: r, root,
 * t (zeroed), data, max_entries and cur's file_max and total_max. */
struct tree_ud {
	struct sbx_rfs *r;
	const char *root; /* the path asked for */
	struct sbx_rfs_tree *t;
	size_t cap;
	struct dir_ud cur;    /* the listing being filled: t->dirs[t->n - 1] */
	bool data;	      /* entries carry has_data (SBXA_DIR_DATA) */
	bool xattrs;	      /* entries carry has_names (SBXA_DIR_XATTRS) */
	bool open;	      /* a DIR came and its END not yet */
	uint32_t max_entries; /* entries of the whole tree, at most (as asked) */
	uint32_t entries;     /* entries taken so far */
	uint32_t subdirs;     /* of them directories: the DIRs that may follow */
};
int rfs_agent_tree_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n);
void rfs_agent_tree_reset(void *ud);
/* After the last frame: drops a last directory whose END did not come;
 * -EPROTO when no directory is left. The caller releases t either way. */
int rfs_agent_tree_finish(struct tree_ud *u);
/* The READDIR frame of a tree listing of path into *ret (emptied), and u
 * set up to decode its reply (path is kept: it must live as long). */
void rfs_agent_tree_request(struct sbx_rfs *r, struct sbxa_w *w, struct tree_ud *u,
			    const char *path, uint32_t max_entries, unsigned flags,
			    struct sbx_rfs_tree *ret);
/* After the request ended with rc (its last frame at stream position
 * seq): rc, or -SBX_EPROTO for a listing with no directory left; on
 * failure the tree is released, else its attributes carry seq. */
int rfs_agent_tree_done(struct tree_ud *u, int rc, uint64_t seq);

/* ---- offline sessions ---- */

/* A context for r (which must outlive it) whose session has no exec:
 * requests are registered (ids 1, 2, ... in the order sent) but their
 * frames go nowhere, and the agent's output is whatever
 * rfs_agent_offline_feed() is given. 0 or -ENOMEM. */
int rfs_agent_offline(struct sbx_rfs *r, struct rfs_agent **ret);
/* n bytes of the agent's stdout, cut into frames and dispatched by the
 * session's own code, then the jobs' callbacks run (as on the transport
 * thread). A negative return: the stream is broken (a real session would
 * be cancelled); later bytes are ignored. */
int rfs_agent_offline_feed(struct rfs_agent *a, const void *d, size_t n);
/* Ends the session as a dropped link does: every request in flight
 * fails with -SBX_ECONN and the jobs get on_done. Then rfs_agent_free(). */
void rfs_agent_offline_end(struct rfs_agent *a);

#endif
