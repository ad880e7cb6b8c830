/* fs.h - the state of one sbxfs mount, shared by the FUSE handlers.
 *
 * One struct sbx_fs per mount, reached from a request through
 * fuse_req_userdata(); no global state. Locks, in the order they may be
 * taken (never the other way):
 *   fc->lock (one open file's cache)  →  fs->lock (nodes, attributes,
 *   listings, negative entries)       →  ctl->lock (jobs; see ctl/ctl.h)
 * No remote operation runs under fs->lock or ctl->lock; an upload or a
 * download runs under the fc->lock of its file only.
 *
 * Consistency (design.md): attributes and listings are cached for their
 * timeouts and dropped on every change made through the mount; an open()
 * revalidates the file's content on its first read (close-to-open); a
 * completed /.ctl job drops every cache (fs->epoch) and tells the kernel.
 */
#ifndef SBX_FS_FS_H
#define SBX_FS_FS_H

#include "fs/fuse_inc.h"

#include <pthread.h>
#include <sys/statvfs.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fs/access.h"
#include "fs/node.h"
#include "fs/opts.h"
#include "sbx/rfs.h"
#include "sbx/sbx.h"

struct ctl;
struct inval;
struct wback;
struct bgrun;

/* What a handle the kernel holds (an open file's, an open directory's)
 * starts with: its link in one of the mount's lists (fs->lock), so that
 * those the kernel never released are released at teardown. */
struct fs_handle {
	struct fs_handle *prev, *next;
};

/* FUSE requests counted for /.ctl/stats. */
enum fs_op {
	FS_LOOKUP,
	FS_FORGET,
	FS_GETATTR,
	FS_SETATTR,
	FS_READLINK,
	FS_MKNOD,
	FS_MKDIR,
	FS_UNLINK,
	FS_RMDIR,
	FS_SYMLINK,
	FS_RENAME,
	FS_LINK,
	FS_OPEN,
	FS_READ,
	FS_WRITE,
	FS_FLUSH,
	FS_RELEASE,
	FS_FSYNC,
	FS_OPENDIR,
	FS_READDIR,
	FS_RELEASEDIR,
	FS_STATFS,
	FS_CREATE,
	FS_GETXATTR,
	FS_SETXATTR,
	FS_LISTXATTR,
	FS_REMOVEXATTR,
	FS_OP__N
};

/* Counters; updated with atomic adds, read without a lock. */
struct fs_stats {
	uint64_t ops[FS_OP__N];
	uint64_t attr_hit, attr_miss; /* lookup/getattr from cache, or remote */
	uint64_t dir_hit, dir_miss;   /* a listing (opendir, readdir, lookup) cached, or remote */
	uint64_t neg_hit;	      /* lookups answered "no such name" from a listing */
	uint64_t dir_checked;	      /* listings of directories just made (ops_ns.c) */
	uint64_t xattr_hit;	      /* getxattr/listxattr answered from the caches */
	uint64_t link_hit;	      /* readlink answered from the caches */
	uint64_t data_hit, data_miss; /* reads served locally / content fetched */
	uint64_t data_revalidated;    /* fetches that found the content unchanged */
	uint64_t data_spilled;	      /* contents moved from memory to the cache dir */
	uint64_t data_trimmed;	      /* bytes an open large file's local copy let go */
	uint64_t reads_queued;	      /* reads answered with another's fetch (fcache_aread.c) */
	uint64_t lock_queued;	      /* requests queued for a file's lock (fcache_lock.c) */
	uint64_t lock_waiting;	      /* of those, not handed the lock yet (now) */
	uint64_t reads_parked;	      /* large files' reads that waited without a thread */
	uint64_t stores, store_errors;
	uint64_t creates_deferred; /* creates made by their first store */
	uint64_t stores_behind;	   /* stores made after the close returned (wback.h) */
	uint64_t behind_errors;	   /* of those, failed (and setattrs made after stores) */
	uint64_t attrs_after;	   /* setattrs made after a store, for changes made during it */
	uint64_t dir_attrs;	   /* directory setattrs answered at once (dattr.h) */
	uint64_t stores_in_flight; /* now: stores begun and not ended (with their attrs_after) */
	uint64_t fsyncs;	   /* fsync(2)s that made an FSYNC in the sandbox */
	uint64_t invalidations;	   /* whole-cache drops (jobs, drop-caches) */
	uint64_t changes;	   /* change events from the sandbox applied */
	uint64_t refused;	   /* requests refused to other users (access.h) */
};

/* A name the sandbox said does not exist: answers the next lookups of it
 * (dir_cache_timeout) and, if the kernel caches it too (negative_timeout),
 * tells the kernel to forget it when caches are dropped. Valid while the
 * parent did not change through us (gen) and no drop happened (epoch). */
struct neg_entry {
	uint64_t parent;
	char *name;
	int64_t expire;
	uint64_t parent_gen;
	uint64_t epoch;
};
#define FS_NEG_MAX 4096
/* Sessions of a mount at most (-o max_conns). */
#define FS_CONNS_MAX 8

struct sbxfs_fh;

struct sbx_fs {
	const struct sbxfs_opts *opts; /* fixed */
	struct sbx_client *client;     /* fixed while mounted */
	struct sbx_sandbox *sb;	       /* fixed while mounted */
	struct sbx_rfs *rfs;	       /* fixed while mounted */
	/* max_conns - 1 more sessions, each with its own client (so its own
	 * transport thread), for ranged reads only, opened on demand
	 * (conns.h): entries below n_conns (atomic) are fixed until
	 * conns_close(). data_rr: atomic, picks the next one. */
	struct fs_conn {
		struct sbx_client *client;
		struct sbx_sandbox *sb;
		struct sbx_rfs *rfs;
	} conns[FS_CONNS_MAX - 1];
	unsigned n_conns;
	unsigned data_rr;
	int conns_state;		 /* atomic: conns.c */
	bool conns_stop, conns_thr_on;	 /* atomic: conns.c */
	pthread_t conns_thr;		 /* the opener, while conns_thr_on */
	const struct sbxfs_creds *creds; /* fixed while mounted (main's) */
	struct fuse_session *se;       /* fixed while mounted */
	const char *root;	       /* remote dir, "" for "/" (opts) */
	struct sbx_rfs_attr root_attr; /* of the remote dir, from connect */
	uid_t uid;		       /* the mounting user, owner of /.ctl */
	gid_t gid;
	struct fs_access access; /* fixed: who may use the mount (access.h) */
	struct timespec mount_time;
	int cache_dirfd; /* directory of local cache files */

	pthread_mutex_t lock;
	struct node_table nodes;	   /* lock */
	struct neg_entry negs[FS_NEG_MAX]; /* lock: ring */
	unsigned neg_next;		   /* lock */
	uint64_t epoch;			   /* atomic: bumped by every cache drop */
	uint64_t dir_changes;		   /* lock: our own changes of directories */
	int deleted;			   /* atomic: the sandbox was deleted via /.ctl */

	struct fcache *idle_head; /* lock: idle file caches, oldest first */
	struct fcache *idle_tail; /* lock */
	uint64_t idle_bytes;	  /* lock */
	uint64_t ranged_mem;	  /* lock: what open large files' copies hold in memory */
	unsigned idle_count;	  /* lock */
	unsigned idle_max;	  /* fixed: idle caches kept at most (fcache_idle_limit) */
	uint64_t idle_evicted;	  /* lock: idle caches dropped to keep the bounds */
	struct fcache *reap;	  /* lock: evicted, to be freed */
	bool create_ids_known;	  /* lock: create_uid/gid are known */
	uint32_t create_uid;	  /* lock: owner and group of a file the agent creates */
	uint32_t create_gid;	  /* lock: (in a directory without set-group-id) */
	struct statvfs statfs;	  /* lock: the last statfs answer */
	int64_t statfs_expire;	  /* lock: it serves until then (ops_statfs), */
	uint64_t statfs_epoch;	  /* lock: in this cache epoch, */
	uint64_t statfs_usage;	  /* lock: while no store or change report came */

	struct ctl *ctl;
	struct wback *wb; /* fixed while mounted; NULL: every close stores */
	/* fixed while mounted: threads for requests queued behind a file's
	 * lock (bgrun.h); NULL: they wait for it on their own thread */
	struct bgrun *bg;
	uint64_t wq_bytes;	 /* atomic: bytes of writes queued for a file's lock */
	struct inval *inval;	 /* atomic: read by the change callback */
	bool watching;		 /* fixed once connected: change events on */
	bool no_opendir;	 /* fixed at init: opendir is the kernel's (ops_dir.c) */
	unsigned later_n;	 /* lock: requests answered later, in flight (later.h) */
	struct later *naming;	 /* lock: those of them that make a name (later_naming) */
	pthread_cond_t later_cv; /* lock: later_n reached 0 */
	/* lock: file and directory handles the kernel has not released
	 * (ops_file.c, ops_dir.c); those left when the loop ends (a process
	 * had one open at SIGTERM) are released at teardown (ops_release_all,
	 * ops_releasedir_all) */
	struct fs_handle *fhs, *dhs;
	struct fs_stats stats;
};

static inline struct sbx_fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

#define FS_COUNT(fs, field) __atomic_add_fetch(&(fs)->stats.field, 1, __ATOMIC_RELAXED)
#define FS_COUNT_OP(fs, op) __atomic_add_fetch(&(fs)->stats.ops[op], 1, __ATOMIC_RELAXED)
#define FS_ADD(fs, field, n) __atomic_add_fetch(&(fs)->stats.field, (n), __ATOMIC_RELAXED)

static inline uint64_t fs_epoch(struct sbx_fs *fs)
{
	return __atomic_load_n(&fs->epoch, __ATOMIC_ACQUIRE);
}

/* The positive errno to reply for a negative result of libsbx or rfs: a
 * failure to reach the sandbox is ENOTCONN (EIO for a timeout or garbage),
 * never a file error. */
int fs_errno(int rc);
/* Monotonic now in ms, an expiry `timeout` seconds from now, and the
 * seconds left until an expiry (0 when past). */
int64_t fs_now(void);
int64_t fs_expiry(double timeout);
double fs_left(int64_t expire);
/* Fills a struct stat for a node id from remote attributes. */
void fs_stat_of(const struct sbx_rfs_attr *a, uint64_t id, struct stat *st);
/* true when n's cached attributes may be used (fs->lock held). */
bool fs_attr_fresh(struct sbx_fs *fs, const struct node *n);
/* A directory with attribute changes behind (dattr.h) keeps its own mode,
 * owner and times in v, attributes the sandbox gave (fs->lock held). */
void fs_attr_keep_behind(const struct node *n, struct sbx_rfs_attr *v);
/* Stores attributes into n unless n changed since gen0 (fs->lock held). A
 * node that holds local content keeps its local size and mtime; one with
 * attribute changes behind keeps those. */
void fs_node_set_attr(struct sbx_fs *fs, struct node *n, const struct sbx_rfs_attr *a,
		      uint64_t gen0);
/* Whether a and b name the same version of one file's inode: its number
 * and ctime (a symlink replaced, or any change to it, moves one). */
static inline bool fs_same_inode_version(const struct sbx_rfs_attr *a, const struct sbx_rfs_attr *b)
{
	return a->ino == b->ino && a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}
/* Marks what a change in directory dir makes stale: its listing, its
 * attributes (mtime, nlink). fs->lock held. */
void fs_dir_changed(struct sbx_fs *fs, struct node *dir);
/* Our own change of the entry name in dir (new attributes a, symlink target
 * link or NULL): updates dir's cached listing in place when it is fresh and
 * not shared, else drops it; makes dir's attributes stale. fs->lock held. */
void fs_dir_entry_set(struct sbx_fs *fs, struct node *dir, const char *name,
		      const struct sbx_rfs_attr *a, const char *link);
/* Likewise for a name that went away. */
void fs_dir_entry_del(struct sbx_fs *fs, struct node *dir, const char *name);
/* The same, keeping dir's cached attributes: for a change made in the
 * mount only (a deferred create, the removal of such a file before its
 * first store), since the sandbox's directory did not change (if the
 * store comes, the agent reports that change then); for new attributes of
 * the entry alone (setattr, xattrs, a link count), which leave the
 * directory as it was; or when a report of the agent refreshed them since
 * the request left (the report of this change follows it). fs->lock
 * held. */
void fs_dir_entry_set_keep(struct sbx_fs *fs, struct node *dir, const char *name,
			   const struct sbx_rfs_attr *a, const char *link);
void fs_dir_entry_del_keep(struct sbx_fs *fs, struct node *dir, const char *name);
/* Node ids to tell the kernel about. */
#define FS_IDS_MAX 32
struct fs_ids {
	uint64_t id[FS_IDS_MAX];
	size_t n;
};
/* The other names of the file n, a file with hard links whose
 * attributes changed through n: marks their nodes' attributes stale and
 * adds them to ids, and drops the cached listings that name the file
 * (but for n's own entry), since their entries carry the old link count
 * (fs->lock held). */
void fs_siblings_stale(struct sbx_fs *fs, const struct node *n, struct fs_ids *ids);
/* The same for the file a, changed in the sandbox through the name `name`
 * of dir (a change report): its other names (fs->lock held). */
void fs_names_stale(struct sbx_fs *fs, const struct sbx_rfs_attr *a, const struct node *dir,
		    const char *name, struct fs_ids *ids);
/* Makes the kernel forget the attributes of ids (fs->lock NOT held). Safe
 * from a handler: attributes only, never the handler's own inode. */
void fs_notify_attrs(struct sbx_fs *fs, const struct fs_ids *ids);
/* Fills a fuse_entry_param for n (with its cached attributes and the
 * timeouts), and counts one kernel reference. fs->lock held. */
void fs_entry_of(struct sbx_fs *fs, struct node *n, struct fuse_entry_param *e);
/* Replies ENOENT to a lookup: a negative entry the kernel keeps timeout
 * seconds (fs_neg_timeout), or a plain error when that is 0. fs->lock NOT
 * held. */
void fs_reply_negative(struct sbx_fs *fs, fuse_req_t req, double timeout);
/* Remembers that parent has no child name / asks whether it is known not
 * to (fs->lock held). */
void fs_neg_remember(struct sbx_fs *fs, const struct node *parent, const char *name);
bool fs_neg_known(struct sbx_fs *fs, const struct node *parent, const char *name);
/* Links h at the head of *list / unlinks it / unlinks and returns the
 * head, or NULL when the list is empty (fs->lock NOT held: taken here). */
void fs_handle_link(struct sbx_fs *fs, struct fs_handle **list, struct fs_handle *h);
void fs_handle_unlink(struct sbx_fs *fs, struct fs_handle **list, struct fs_handle *h);
struct fs_handle *fs_handle_take(struct sbx_fs *fs, struct fs_handle **list);
/* A fresh listing of n, or NULL (fs->lock held). */
struct dirlist *fs_fresh_list(struct sbx_fs *fs, struct node *n);
/* Takes the node's path under fs->lock: 0, -ESTALE, -ENOMEM. */
int fs_path(struct sbx_fs *fs, uint64_t id, struct sbx_buf *out);
int fs_child_path(struct sbx_fs *fs, uint64_t parent, const char *name, struct sbx_buf *out);
/* Fails fast once the sandbox is gone (deleted via /.ctl): -ENOTCONN. */
int fs_check_alive(struct sbx_fs *fs);

/* How long the caches of a child of dir (attributes, kernel entry), of the
 * listing of dir and of a missing name in dir may be kept: long when the
 * agent reports dir's changes (watch_timeout), else the plain options. */
double fs_attr_timeout(struct sbx_fs *fs, const struct node *dir);
double fs_entry_timeout(struct sbx_fs *fs, const struct node *dir);
double fs_list_timeout(struct sbx_fs *fs, const struct node *dir);
double fs_neg_timeout(struct sbx_fs *fs, const struct node *dir);
/* How long n's own attributes may be kept: fs_attr_timeout of its parent,
 * or watch_timeout when n is a watched directory, whose reports cover its
 * own attributes too (a change to them, an entry made or removed in it,
 * its removal or rename): this is what keeps the root's attributes, whose
 * parent is never watched. */
double fs_node_attr_timeout(struct sbx_fs *fs, const struct node *n);
/* Asks the agent to report dir's changes (no round trip), so its caches
 * may live long; nothing with the shell transport. fs->lock held. */
void fs_watch_dir(struct sbx_fs *fs, struct node *dir);
/* Our rename moved dir: its path and those below changed, so their
 * watches no longer name them; they are asked again when used (fs->lock
 * held). */
void fs_unwatch_subtree(struct sbx_fs *fs, struct node *dir);

/* Drops every cache (listings, attributes, clean file contents at their
 * next read) and collects what the kernel must forget; then tells the
 * kernel. Must not run on a FUSE worker that holds a kernel lock the
 * notifications need (use inval.h from callbacks). */
void fs_drop_caches(struct sbx_fs *fs);

/* Stores every file with unstored changes and waits for the stores queued
 * at closes (wback.h): before a /.ctl job starts, on `sync` in .ctl/ctl
 * and at unmount. Returns 0 or the first error (-EIO when a queued store
 * failed meanwhile). */
int fs_flush_all(struct sbx_fs *fs);

/* The lowlevel operations table (lowlevel.c). */
extern const struct fuse_lowlevel_ops sbxfs_ll_ops;

#endif
