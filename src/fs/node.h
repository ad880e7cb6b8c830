/* node.h - the inode table of sbxfs: FUSE node ids ↔ remote paths.
 *
 * A node is one name in the remote tree (the remote has no stable handles,
 * so identity is the path): its parent node and its name. Hard links are two
 * nodes that report the same st_ino. A node ids is never reused (a 64-bit
 * counter), so generation numbers are always 0.
 *
 * Invariants (all under the owner's lock, fs->lock):
 *  - every node with a parent is in the name hash under (parent id, name);
 *    a node that was unlinked or replaced is "detached": no parent, no
 *    name, not in the name hash, still in the id hash until it is freed;
 *  - a node is freed when nlookup (the kernel's references, matched by
 *    forget) and refs (children, open files and directory handles) are both
 *    0; the root is never freed;
 *  - a child holds one ref on its parent, so a path can always be built
 *    from a node that is attached.
 */
#ifndef SBX_FS_NODE_H
#define SBX_FS_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "sbx/rfs.h"
#include "util/buf.h"

#define NODE_ROOT_ID 1

struct fcache;
struct dirlist;

struct node {
	uint64_t id;	     /* the FUSE node id */
	struct node *parent; /* NULL for the root and detached nodes */
	char *name;	     /* NULL likewise */
	uint64_t nlookup;
	unsigned refs;

	struct sbx_rfs_attr attr; /* last known remote attributes */
	int64_t attr_expire;	  /* monotonic ms; 0: none */
	uint64_t attr_epoch;	  /* the fs epoch it was fetched in */
	uint64_t gen;		  /* bumped by every change made through us */

	struct dirlist *list; /* cached listing of a directory, or NULL */
	/* the last listing a readdir fetched and could not keep as list (the
	 * directory changed through us meanwhile), for the rest of that read
	 * only (ops_dir.c), or NULL */
	struct dirlist *read_list;
	/* cached symlink target, or NULL: of the version attr names, valid
	 * while attr is fresh (fs_node_set_attr drops it with the version) */
	char *link;
	uint64_t link_epoch;

	/* The version (ino, size, mtime, ctime of attr) that the kernel's
	 * page cache of the file holds, as far as we know: set at each open,
	 * valid when kver_ok (node_kernel_keeps) */
	bool kver_ok;
	uint64_t kver_ino, kver_size;
	struct timespec kver_mtime, kver_ctime;

	struct fcache *fc;     /* shared cache of the open file, or NULL */
	bool local;	       /* fc holds the content: size/mtime are local */
	bool watched;	       /* a directory whose changes the agent reports */
	uint64_t data_epoch;   /* fs epoch + 1 of the last listing with contents */
	uint64_t data_evicted; /* fs->idle_evicted at that listing */
	bool data_top;	       /* that listing was of its subtree (the top of a fill),
				* not only of its own files (prefetch.h) */
	bool unstored;	       /* created here, not yet in the sandbox (deferred create) */
	bool made_dir;	       /* a directory made by our mkdir (dattr.h) */
	/* queue items with attribute changes of the directory not made yet
	 * (dattr.h): its mode, owner and times are ours until then */
	unsigned attrs_behind;
	bool local_dirty;      /* fc holds changes not yet stored */
	/* fcache.undurable of a cache that is gone: an fsync(2) through a
	 * later open of the file still owes the sandbox an FSYNC. Handed to
	 * the node's next cache (fc_new) and back when it is reaped. */
	bool undurable;
	/* The file is known to have no security.capability, which the
	 * kernel asks about before every write: valid while nocap_epoch is
	 * the fs epoch (ops_xattr.c). Set by a getxattr that found none and
	 * by our creates; cleared by our setxattr and by change events. */
	bool nocap;
	uint64_t nocap_epoch;
	/* The names of its extended attributes (xlist.h), as the sandbox
	 * listed them: valid while xlist_ok, xlist_epoch is the fs epoch and
	 * the attributes are fresh. Lets a getxattr of an absent name (ls -l
	 * asks for ACLs and security labels of every file) cost nothing. */
	char *xlist;
	size_t xlist_len;
	bool xlist_ok;
	uint64_t xlist_epoch;
	uint64_t xlist_gen; /* bumped by our own xattr changes */

	struct node *next_id, *next_name; /* hash chains */
};

struct node_table {
	struct node **by_id;
	struct node **by_name;
	size_t cap; /* buckets of each hash, a power of two */
	size_t count;
	uint64_t next_id;
	struct node *root;
};

int node_table_init(struct node_table *t);
/* Frees every node. */
void node_table_release(struct node_table *t);

struct node *node_get(struct node_table *t, uint64_t id);
struct node *node_child(struct node_table *t, const struct node *parent, const char *name);
/* Creates an attached child (nlookup 0, refs 0); NULL on ENOMEM. The caller
 * makes sure no child of that name exists (node_child() first). */
struct node *node_new_child(struct node_table *t, struct node *parent, const char *name);
/* Detaches a node (see the invariants); may free it and its ancestors. */
void node_detach(struct node_table *t, struct node *n);
/* Moves a node to (parent, name); 0 or -ENOMEM (then nothing changed). */
int node_move(struct node_table *t, struct node *n, struct node *parent, const char *name);
/* Drops count kernel references; frees the node when nothing holds it. */
void node_forget(struct node_table *t, struct node *n, uint64_t count);
void node_ref(struct node *n);
void node_unref(struct node_table *t, struct node *n);

/* Appends the remote path of n (root prefix + names) to out: 0, -ESTALE
 * when n is detached, or -ENOMEM. A root prefix "" makes the root "/". */
int node_path(const struct node *n, const char *root, struct sbx_buf *out);
/* Appends the path of the child `name` of parent. */
int node_child_path(const struct node *parent, const char *root, const char *name,
		    struct sbx_buf *out);

/* The open of n's file being answered: whether the kernel may keep the
 * pages it holds of it (FOPEN_KEEP_CACHE), given whether n's attributes
 * are fresh now. Yes when they are, and name the version (ino, size,
 * mtime, ctime) that they named at the previous open, which then was
 * fresh too; the version of now is remembered for the next open either
 * way (fcache_kernel_keeps says why this is enough). */
bool node_kernel_keeps(struct node *n, bool fresh);

/* Calls fn for every node (the table must not change meanwhile). */
void node_foreach(struct node_table *t, void (*fn)(struct node *n, void *ud), void *ud);

#endif
