/**
 * @file sbx/rfs.h
 * @brief Remote filesystem operations for a FUSE driver, over exec.
 *
 * What the seed primitives of fs.h lack and a POSIX filesystem needs: lstat,
 * a directory listing with every entry's attributes, readlink, link,
 * symlink, chmod/chown/truncate/utimens, statfs, whole-file and ranged reads
 * streamed into a local descriptor, and atomic (or in-place) writes streamed
 * from a local descriptor.
 *
 * Two transports carry them (sbx_rfs_connect chooses). With the agent,
 * sbx-agent runs in the sandbox over ONE exec session kept open, and each
 * operation is one binary request on it (docs/agent-protocol.md), many in
 * flight at once. With the shell transport each operation is ONE exec
 * session (one round trip) running a short
 * POSIX sh script under LC_ALL=C. The scripts use GNU find -printf for
 * attributes (the default image has GNU findutils and coreutils); a missing
 * tool fails with -SBX_EIO and a message that names it. Paths are absolute
 * remote paths and may hold any byte but NUL: every one is quoted with
 * sbx_shquote(). Machine-readable output is NUL-separated, so names with
 * newlines are exact.
 *
 * Paths: with the agent transport a path may be up to SBX_RFS_PATH_MAX
 * bytes, longer than the kernel's PATH_MAX (the agent reaches it in steps,
 * docs/agent-protocol.md); with the shell one the sandbox's tools give
 * -ENAMETOOLONG past PATH_MAX.
 *
 * Errors: file errors are the errno a local filesystem would give (-ENOENT,
 * -EEXIST, -ENOTEMPTY, -EISDIR, -ENOTDIR, -EACCES, -EPERM, -ENOSPC, -EROFS,
 * -EINVAL, -ENAMETOOLONG, …), mapped from the tools' LC_ALL=C stderr or from
 * the scripts' own markers. A failure to reach the sandbox is never a file
 * error: it is -SBX_ECONN, -SBX_ENOTHEALTHY, -SBX_ETIMEDOUT, -SBX_EPROTO or
 * -SBX_EAUTH (sbx_rfs_is_transport_error() tells them apart).
 *
 * Credentials: the operations that create, remove, rename or change a
 * file (and the xattr ones) take a `const struct sbx_rfs_cred *cred`: the
 * filesystem ids and groups the sandbox's kernel checks that one operation
 * with, so ownership of new files, sticky directories, chown and utimes
 * rules are its own. NULL means the transport's own ids (the sandbox user
 * the agent or the shell runs as), which is what every caller got before
 * credentials existed. The credential is a plain value given per call:
 * no state is kept between calls, so threads acting for different users
 * share one context. The agent transport sends it on the request frame
 * (the agent switches with setfsuid/setfsgid/setgroups for that request);
 * the shell transport IGNORES it (each script runs as the exec user), so
 * with the shell transport every operation acts as that user. Reads
 * (stat, listings, readlink, fetch, read_range, statfs) always use the
 * transport's own ids: a caller that serves several users checks their
 * read access itself (sbxfs: the kernel's default_permissions).
 *
 * Threading: a struct sbx_rfs is thread-safe; every call here is synchronous
 * (it blocks the calling thread until its session ends) and must not be made
 * from an exec callback (the transport thread). Counters of requests, round
 * trips, bytes and latency per operation are kept for /.ctl/stats.
 */
#ifndef SBX_RFS_H
#define SBX_RFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <time.h>
/* struct timespec is POSIX (and C11): glibc's <time.h> hides it in strict
 * C99 mode, where only <pthread.h> (a POSIX header) declares it */
#if !defined(__cplusplus) && defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) &&              \
    (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#include <pthread.h>
#endif

#include "sbx/error.h"
#include "sbx/exec.h"
#include "sbx/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_rfs;

/** How remote operations travel (see sbx_rfs_connect()). */
enum sbx_rfs_transport {
	/** the agent where it can run, else the shell transport */
	SBX_RFS_TRANSPORT_AUTO,
	/** sbx-agent over one long-lived exec session: requests pipelined,
	 *  one message each way per operation, no process per operation */
	SBX_RFS_TRANSPORT_AGENT,
	/** one exec session per operation running a POSIX sh script: works
	 *  on any image with sh, coreutils and findutils */
	SBX_RFS_TRANSPORT_SHELL,
};

struct sbx_rfs_attr;

/** Bytes of a path with the agent transport (longer: -ENAMETOOLONG). */
#define SBX_RFS_PATH_MAX 32767
/** Supplementary groups a credential carries at most. */
#define SBX_RFS_GROUPS_MAX 64
/** Whose operation it is: the sandbox's uid, gid and supplementary groups
 *  it acts with (see the file comment). Ids are the sandbox's own: the
 *  caller maps its users to them. */
struct sbx_rfs_cred {
	uint32_t uid, gid;
	uint32_t ngroups; /**< <= SBX_RFS_GROUPS_MAX (-EINVAL past it) */
	uint32_t groups[SBX_RFS_GROUPS_MAX];
};

/** Bits of a change event (sbx_rfs_change_fn). */
#define SBX_RFS_CH_ATTRIB 0x01u /**< metadata of the name changed */
#define SBX_RFS_CH_DATA	  0x02u /**< its content changed */
#define SBX_RFS_CH_CREATE 0x04u /**< the name appeared (create, mkdir, link, moved in) */
#define SBX_RFS_CH_DELETE 0x08u /**< the name went away (unlink, rmdir, moved out) */
#define SBX_RFS_CH_GONE	  0x10u /**< the watched directory itself went away */
/** Changes may have been missed (the agent's queue overflowed, or its
 *  session was restarted): drop everything cached. dir and name are "". */
#define SBX_RFS_CH_RESET 0x40u
/** On a CREATE or DELETE: a report of the directory itself (empty name,
 *  its attributes) follows soon, unless the directory goes away: its
 *  attributes need not be taken for stale meanwhile. */
#define SBX_RFS_CH_DIR_NEXT 0x80u

/** A change in a watched directory (sbx_rfs_watch()), seen by the sandbox's
 *  kernel: @p dir the directory as it was watched, @p name the entry ("":
 *  the directory itself), @p attr the entry's attributes right after the
 *  change, or NULL when it no longer exists; @p seq the event's place in
 *  the stream (see sbx_rfs_attr.seq; attr->seq is the same). Called on
 *  libsbx's transport thread: it must not block and must not call libsbx. */
typedef void (*sbx_rfs_change_fn)(void *ud, const char *dir, const char *name, unsigned mask,
				  const struct sbx_rfs_attr *attr, uint64_t seq);

/** Options of sbx_rfs_new(). Zero-initialise. */
struct sbx_rfs_opts {
	/** Deadline of one metadata operation in seconds; 0 means 60. Data
	 *  transfers get this plus one second per MiB. */
	double op_timeout_s;
	enum sbx_rfs_transport transport;
	/** Listings bring along the content of regular files of at most
	 *  prefetch_file_max bytes, up to prefetch_total_max bytes per
	 *  listing (agent transport only; 0: never). Bounded by 256 KiB and
	 *  64 MiB. */
	uint32_t prefetch_file_max, prefetch_total_max;
	/** Change events of watched directories (agent transport only). */
	sbx_rfs_change_fn on_change;
	void *change_ud;
};

/** Creates the context for @p sb (borrowed: it must outlive the context).
 *  Returns 0 and *ret (free with sbx_rfs_free), or -ENOMEM. */
SBX_API int sbx_rfs_new(struct sbx_sandbox *sb, const struct sbx_rfs_opts *opts,
			struct sbx_rfs **ret);
/** Frees the context. Accepts NULL. No call may be in progress. */
SBX_API void sbx_rfs_free(struct sbx_rfs *r);
/** The sandbox (borrowed). */
SBX_API struct sbx_sandbox *sbx_rfs_sandbox(const struct sbx_rfs *r);

/** Chooses the transport. With SBX_RFS_TRANSPORT_AGENT or _AUTO it starts
 *  sbx-agent in the sandbox: the agent built into libsbx is uploaded once
 *  (to /var/tmp or /tmp of the sandbox, checked by SHA-256, then shared by
 *  every later client) and started over one exec session. With _AUTO a
 *  sandbox where it cannot run (another architecture, nowhere to put it,
 *  no sha256sum) gets the shell transport, and sbx_rfs_transport_note()
 *  says why; with _AGENT that is an error. A context never connected uses
 *  the shell transport. Call once, before any operation. */
SBX_API int sbx_rfs_connect(struct sbx_rfs *r, struct sbx_err *err);
/** Reports the changes made in directory @p dir by anyone in the sandbox
 *  to opts.on_change, from now on (agent transport with on_change only:
 *  -ENOTSUP otherwise). Costs no round trip (nothing waits for the
 *  agent's answer); asking again for a watched directory does nothing.
 *  Watches survive a new agent session (after a SBX_RFS_CH_RESET event).
 *  At most 65536 directories (-ENOSPC past it). */
SBX_API int sbx_rfs_watch(struct sbx_rfs *r, const char *dir, struct sbx_err *err);
/** Stops change events: once it returns, on_change is not running and is
 *  never called again for this context. */
SBX_API void sbx_rfs_events_off(struct sbx_rfs *r);
/** true when sbx_rfs_watch() works: the agent transport and on_change. */
SBX_API bool sbx_rfs_reports_changes(const struct sbx_rfs *r);
/** The stream position (sbx_rfs_attr.seq) of the last frame received
 *  from the agent: a change reported at or before it happened before
 *  every reply received so far. 0 with the shell transport. */
SBX_API uint64_t sbx_rfs_seq(const struct sbx_rfs *r);
/** "agent" or "shell" (static string). */
SBX_API const char *sbx_rfs_transport_name(const struct sbx_rfs *r);
/** Why the transport is not the agent ("" when it is): borrowed. */
SBX_API const char *sbx_rfs_transport_note(const struct sbx_rfs *r);

/** true for the codes that say "the sandbox could not be reached or did not
 *  answer" rather than "the file operation failed". @p code is negative. */
SBX_API bool sbx_rfs_is_transport_error(int code);

/** Attributes of a remote file, as lstat(2) gives them. */
struct sbx_rfs_attr {
	uint32_t mode; /**< type and permission bits, like st_mode */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks; /**< 512-byte blocks */
	uint64_t ino;	 /**< remote inode number */
	uint64_t dev;	 /**< remote device number */
	struct timespec atime, mtime, ctime;
	/** When the sandbox reported these: larger is later, in the order of
	 *  the agent's stream (replies and change events alike), so a cache
	 *  can tell a stale report from a fresh one. 0: unknown (shell). */
	uint64_t seq;
};

/** One entry of a listing. */
struct sbx_rfs_dirent {
	char *name; /**< never "." or ".."; any byte but NUL and '/' */
	char *link; /**< symlink target, or NULL for other types */
	struct sbx_rfs_attr attr;
	/** The file's whole content when the listing brought it along
	 *  (sbx_rfs_opts.prefetch_*; agent only): data_len bytes, and attr
	 *  is that of the version read. NULL otherwise. Freed with the dir;
	 *  a caller may take it (and set it to NULL). */
	char *data;
	size_t data_len;
	/** The names of its extended attributes, NUL-terminated one after the
	 *  other (listxattr(2)'s form, xattrs_len bytes), when the listing
	 *  brought them (agent only); NULL when not known. Freed with the dir. */
	char *xattrs;
	size_t xattrs_len;
};

/** A directory listing: the directory's own attributes and its entries in
 *  the order the remote returned them. Release with sbx_rfs_dir_release(). */
struct sbx_rfs_dir {
	struct sbx_rfs_attr self;
	struct sbx_rfs_dirent *ents;
	size_t n;
};
SBX_API void sbx_rfs_dir_release(struct sbx_rfs_dir *d);

/** One directory of a tree listing. */
struct sbx_rfs_tree_dir {
	char *path;		/**< absolute remote path */
	struct sbx_rfs_dir dir; /**< its whole listing */
	bool watched;		/**< its changes are reported (watched before it was read) */
};
/** A tree listing: dirs[0] is the directory asked for, the others below
 *  it, breadth first (a parent before its children). */
struct sbx_rfs_tree {
	struct sbx_rfs_tree_dir *dirs;
	size_t n;
};
SBX_API void sbx_rfs_tree_release(struct sbx_rfs_tree *t);

/** lstat. */
SBX_API int sbx_rfs_stat(struct sbx_rfs *r, const char *path, struct sbx_rfs_attr *ret,
			 struct sbx_err *err);
/** Lists a directory with every entry's attributes and symlink targets, in
 *  one round trip. -ENOTDIR when @p path is not a directory. At most
 *  SBX_RFS_DIR_MAX entries (-EFBIG past it). */
#define SBX_RFS_DIR_MAX 1000000
SBX_API int sbx_rfs_readdir(struct sbx_rfs *r, const char *path, struct sbx_rfs_dir *ret,
			    struct sbx_err *err);
/** Lists @p path and the directories below it in one round trip (agent
 *  transport only; -ENOTSUP otherwise), breadth first, at most
 *  @p max_entries entries in all (<= 100000): a directory the bound cut
 *  short is left out, and so are those not reached. Subdirectories on
 *  another filesystem are not entered. File contents come along only with
 *  SBX_RFS_TREE_DATA in @p flags (within opts.prefetch_*, the total bound
 *  applying to the whole tree, filled breadth first). With change
 *  reports on (opts.on_change), every directory is watched before it is
 *  read, so no change after the listing is missed. dirs[0] is @p path
 *  (-ENOTDIR and friends as readdir). Release with sbx_rfs_tree_release. */
SBX_API int sbx_rfs_readtree(struct sbx_rfs *r, const char *path, uint32_t max_entries,
			     unsigned flags, struct sbx_rfs_tree *ret, struct sbx_err *err);
/** sbx_rfs_readtree() flag: small files' contents come along. */
#define SBX_RFS_TREE_DATA 1u
/** The target of a symlink (caller frees); -EINVAL if not a symlink. */
SBX_API int sbx_rfs_readlink(struct sbx_rfs *r, const char *path, char **ret, struct sbx_err *err);

/** mkdir with exactly @p mode (no umask); attributes of the new dir in *ret
 *  (may be NULL). */
SBX_API int sbx_rfs_mkdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			  uint32_t mode, struct sbx_rfs_attr *ret, struct sbx_err *err);
/** Creates a regular file (S_IFREG) or a FIFO (S_IFIFO) with exactly @p mode.
 *  With @p excl an existing path is -EEXIST; without, an existing regular
 *  file is opened as is (not truncated, mode kept). */
SBX_API int sbx_rfs_create(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			   uint32_t mode, bool excl, struct sbx_rfs_attr *ret, struct sbx_err *err);
/** mknod(2) of any type with exactly @p mode: a socket or a device node
 *  (@p rdev) too with the agent transport, the sandbox kernel's errno
 *  (EPERM for devices it does not allow); with the shell transport only
 *  S_IFREG and S_IFIFO (-EPERM otherwise). An existing name is -EEXIST. */
SBX_API int sbx_rfs_mknod(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			  uint32_t mode, uint64_t rdev, struct sbx_rfs_attr *ret,
			  struct sbx_err *err);
/** unlink: -EISDIR for a directory. */
SBX_API int sbx_rfs_unlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			   struct sbx_err *err);
/** rmdir: -ENOTEMPTY, -ENOTDIR. */
SBX_API int sbx_rfs_rmdir(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			  struct sbx_err *err);

#define SBX_RFS_NOREPLACE 1u /**< rename: fail with -EEXIST if @p to exists */
#define SBX_RFS_EXCHANGE  2u /**< rename: swap the two (agent transport only) */
/** sbx_rfs_submit()'s CREATE of a regular file: an existing one is
 *  opened (its attributes returned), as sbx_rfs_create() without excl. */
#define SBX_RFS_CREATE_SHARED 4u
/** rename(2) semantics: an existing target is replaced atomically (a file by
 *  a file, a directory by a directory if empty). Flags: SBX_RFS_NOREPLACE
 *  (atomic with the agent; with the shell transport checked just before the
 *  rename, so not atomic against other writers) and SBX_RFS_EXCHANGE (the
 *  agent only: -EINVAL with the shell transport). Other flags: -EINVAL. */
SBX_API int sbx_rfs_rename(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
			   const char *to, unsigned flags, struct sbx_err *err);
/** Hard link @p to → @p from; attributes of the file in *ret (may be NULL).
 *  An existing @p to is -EEXIST; a directory @p from is -EPERM. */
SBX_API int sbx_rfs_link(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
			 const char *to, struct sbx_rfs_attr *ret, struct sbx_err *err);
/** Symlink @p path whose content is @p target (any bytes but NUL). */
SBX_API int sbx_rfs_symlink(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *target,
			    const char *path, struct sbx_rfs_attr *ret, struct sbx_err *err);

/** Which members of struct sbx_rfs_setattr are set. */
#define SBX_RFS_SET_MODE      0x01u
#define SBX_RFS_SET_UID	      0x02u
#define SBX_RFS_SET_GID	      0x04u
#define SBX_RFS_SET_SIZE      0x08u
#define SBX_RFS_SET_ATIME     0x10u /**< to atime */
#define SBX_RFS_SET_MTIME     0x20u /**< to mtime */
#define SBX_RFS_SET_ATIME_NOW 0x40u /**< to the remote clock's now */
#define SBX_RFS_SET_MTIME_NOW 0x80u
/** Drop an extended access ACL (system.posix_acl_access), before the mode:
 *  what setting an ACL of the owner, group and other entries alone does.
 *  The agent only; the shell transport ignores it. */
#define SBX_RFS_SET_ACL_PLAIN 0x100u

/** Attribute changes, applied in the order size, owner, mode, times. */
struct sbx_rfs_setattr {
	unsigned valid; /**< SBX_RFS_SET_* */
	uint32_t mode;	/**< permission bits (07777) */
	uint32_t uid, gid;
	uint64_t size;
	struct timespec atime, mtime;
};
/** chmod / lchown / truncate / utimensat(AT_SYMLINK_NOFOLLOW) in one round
 *  trip; the new attributes in *ret (may be NULL). */
SBX_API int sbx_rfs_setattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			    const struct sbx_rfs_setattr *sa, struct sbx_rfs_attr *ret,
			    struct sbx_err *err);
/** Extended attributes of @p path itself (never through a symlink), as
 *  the l*xattr(2) calls with the sandbox kernel's errno (-ENODATA, -ERANGE,
 *  -E2BIG, -ENOTSUP, …). Agent transport only: -ENOTSUP with the shell
 *  one. Names are at most 255 bytes, values and lists at most
 *  SBX_RFS_XATTR_MAX. */
#define SBX_RFS_XATTR_MAX 65536
/** The value of @p name into @p buf (@p size bytes; size 0: only its
 *  length). *ret_len: the value's length. -ERANGE when size is too small. */
SBX_API int sbx_rfs_getxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			     const char *name, void *buf, size_t size, size_t *ret_len,
			     struct sbx_err *err);
/** The NUL-separated list of names into @p buf, like sbx_rfs_getxattr. */
SBX_API int sbx_rfs_listxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			      void *buf, size_t size, size_t *ret_len, struct sbx_err *err);
/** Sets @p name to @p len bytes of @p value; @p flags XATTR_CREATE or
 *  XATTR_REPLACE (or 0). */
SBX_API int sbx_rfs_setxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			     const char *name, const void *value, size_t len, int flags,
			     struct sbx_err *err);
SBX_API int sbx_rfs_removexattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred,
				const char *path, const char *name, struct sbx_err *err);

/** statvfs of the filesystem holding @p path. */
SBX_API int sbx_rfs_statfs(struct sbx_rfs *r, const char *path, struct statvfs *ret,
			   struct sbx_err *err);

/** Size of a content validator: a string (inode, size and mtime as the
 *  remote prints them) that names one version of a file's bytes. Two
 *  versions with the same validator are taken to hold the same bytes. */
#define SBX_RFS_VALIDATOR_MAX 96
/** The validator the transport would give the version of a file with
 *  attributes @p a (for content that came another way, e.g. a listing's
 *  data), into @p out (SBX_RFS_VALIDATOR_MAX bytes); -ENOTSUP with the
 *  shell transport. */
SBX_API int sbx_rfs_validator(const struct sbx_rfs *r, const struct sbx_rfs_attr *a, char *out);

/** Reads a whole regular file into @p fd (written with pwrite from offset 0;
 *  the caller truncates it first) in one round trip, together with its
 *  attributes and validator (@p ret_validator, SBX_RFS_VALIDATOR_MAX bytes).
 *  When @p validator is not NULL and still matches the remote file, no
 *  content is sent and *ret_unchanged is true (fd untouched). *ret_len:
 *  bytes written. @p size_hint (the expected size, or 0) extends the
 *  deadline. -EISDIR for a directory; -EINVAL for anything not a regular
 *  file. Every ret_ pointer may be NULL. */
SBX_API int sbx_rfs_fetch(struct sbx_rfs *r, const char *path, int fd, const char *validator,
			  uint64_t size_hint, bool *ret_unchanged, uint64_t *ret_len,
			  struct sbx_rfs_attr *ret_attr, char *ret_validator, struct sbx_err *err);
/** Reads up to @p len bytes at @p off into @p fd at @p fd_off; *ret_n gets
 *  the count (short at EOF). */
SBX_API int sbx_rfs_read_range(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len,
			       int fd, uint64_t fd_off, uint64_t *ret_n, struct sbx_err *err);

/** Longest range of one sbx_rfs_read_start(). */
#define SBX_RFS_READ_MAX (64u << 20)
/** A ranged read in flight (sbx_rfs_read_start()). */
struct sbx_rfs_pread;
/** Starts reading up to @p len bytes (at most SBX_RFS_READ_MAX: -EINVAL
 *  past it) at @p off of @p path into local @p fd at @p fd_off (written
 *  with pwrite as they arrive, on the transport thread) and returns
 *  without waiting. With the agent transport any number of reads are in
 *  flight on the one session, so a reader can keep the link busy; with the
 *  shell transport the read is done before this returns. The bytes of
 *  fd's range are undefined until sbx_rfs_read_finish() returns 0. Every
 *  read started (0 returned) must be ended with sbx_rfs_read_finish(). */
SBX_API int sbx_rfs_read_start(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len,
			       int fd, uint64_t fd_off, struct sbx_rfs_pread **ret,
			       struct sbx_err *err);
/** Waits for the read and frees it. *ret_n: bytes written (short at the
 *  end of the file); *ret_attr: the file's attributes when it was read,
 *  so that the caller can tell which version the bytes belong to (mode 0
 *  when the transport does not say: shell). Both may be NULL. A read cut
 *  by a lost session is sent again once. */
SBX_API int sbx_rfs_read_finish(struct sbx_rfs_pread *p, uint64_t *ret_n,
				struct sbx_rfs_attr *ret_attr, struct sbx_err *err);

/** A file opened for writes in place (sbx_rfs_wfile_open()). Used by one
 *  thread at a time. */
struct sbx_rfs_wfile;
/** Opens the existing regular file @p path for writes in place, without
 *  waiting for the sandbox (a failure to open shows at the first sync).
 *  Agent transport only: -ENOTSUP with the shell transport. */
SBX_API int sbx_rfs_wfile_open(struct sbx_rfs *r, const char *path, struct sbx_rfs_wfile **ret,
			       struct sbx_err *err);
/** true when sbx_rfs_wfile_open() works (the agent transport). */
SBX_API bool sbx_rfs_writes_in_place(const struct sbx_rfs *r);
/** Sends @p n bytes of @p buf to be written at @p off, and returns without
 *  waiting for the sandbox's answer; a bounded number of writes stay
 *  unanswered (past it, this waits for the oldest). The sandbox applies
 *  requests in the order they are sent, so a later request on the same
 *  context (a read, a job, a setattr) sees the write. Returns 0, or the
 *  failure of an earlier write (kept for the next sync too). */
SBX_API int sbx_rfs_wfile_write(struct sbx_rfs_wfile *f, const void *buf, size_t n, uint64_t off);
/** Waits for every write sent (with @p fsync: then fsync(2) in the
 *  sandbox). Returns 0, or the first failure since the last sync, which
 *  is then forgotten (a failed write is reported once). */
SBX_API int sbx_rfs_wfile_sync(struct sbx_rfs_wfile *f, bool fsync, struct sbx_err *err);
/** Syncs, closes and frees; returns what the sync returned. Accepts NULL. */
SBX_API int sbx_rfs_wfile_close(struct sbx_rfs_wfile *f, struct sbx_err *err);

/** How sbx_rfs_store() writes. Zero-initialise; set `valid` bits like
 *  sbx_rfs_setattr() for what to apply to the stored file (mode, owner and
 *  times: the values of the file it replaces, plus pending changes). */
struct sbx_rfs_store_opts {
	/** Write into the existing file (keeps its inode: hard links stay one
	 *  file) instead of a temporary file in the same directory renamed
	 *  over it (a reader never sees half a file). */
	bool in_place;
	struct sbx_rfs_setattr attrs; /**< SIZE is ignored */
	/** Whose store it is (NULL: the transport's own ids), as for
	 *  sbx_rfs_setattr(); borrowed for the call. */
	const struct sbx_rfs_cred *cred;
	/** fsync(2) the new content in the sandbox before it is put in
	 *  place: on its disk, not only in its page cache, when this returns
	 *  0 (agent transport; the shell transport's store ignores it). */
	bool durable;
};
/** Stores the first @p len bytes of local @p fd as the content of @p path, in
 *  one round trip, streaming it as the session's stdin (any size, any bytes).
 *  The attributes and validator after the store in *ret and
 *  *ret_validator (both may be NULL). The sandbox renames the new content
 *  over @p path only when all @p len bytes arrived and their SHA-256
 *  matches (the length alone without `sha256sum` there); a stream cut
 *  short fails with -EIO (or the transport's error). On failure the remote
 *  file is unchanged (atomic mode) and the temporary is removed, or, if the
 *  store was killed, left for sbx_rfs_sweep(). In place, a failed store may
 *  leave the file short, but still fails. */
SBX_API int sbx_rfs_store(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
			  const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret,
			  char *ret_validator, struct sbx_err *err);

/** fsync(2) in the sandbox of the regular file @p path as it is (what a
 *  store made without `durable` put there): opened for writing, not
 *  following a symlink, by the transport's own ids. Agent transport only:
 *  -ENOTSUP with the shell transport, which has no handles. */
SBX_API int sbx_rfs_fsync(struct sbx_rfs *r, const char *path, struct sbx_err *err);

/** Sends signal @p sig_name ("TERM", "INT", "KILL", …: letters only) to every
 *  process in the sandbox whose environment holds @p env_marker ("K=V").
 *  *ret_count: processes signalled. Linux /proc only. */
SBX_API int sbx_rfs_signal_env(struct sbx_rfs *r, const char *env_marker, const char *sig_name,
			       unsigned *ret_count, struct sbx_err *err);

/** Removes what stores killed mid-way (client or sbxd gone) left behind:
 *  each store registers its temporary in a journal of the sandbox
 *  (/var/tmp/.sbx-stores-UID, see src/lib/fs/store.h); the entries whose
 *  store process no longer runs are removed with their temporaries. Stores
 *  in flight, from any client, are left alone. One round trip; cheap (it
 *  reads the journal, never the filesystem). *ret_removed may be NULL. */
SBX_API int sbx_rfs_sweep(struct sbx_rfs *r, unsigned *ret_removed, struct sbx_err *err);

/** A command started with sbx_rfs_proc_start(). */
struct sbx_rfs_proc;

/** Starts a command like sbx_exec_start(): the same options, callbacks,
 *  threading rules and outcome (on_done exactly once when 0 is returned,
 *  never otherwise), over the context's transport. With the agent it is a
 *  job on the agent's session (no exec session per command), its
 *  environment the sandbox's default plus opts->env, and every change
 *  report of what it did in watched directories arrives before its
 *  on_done (sbx_rfs_proc_ordered()). With the shell transport it is
 *  sbx_exec_start(). *ret: the caller's reference (sbx_rfs_proc_unref). */
SBX_API int sbx_rfs_proc_start(struct sbx_rfs *r, const struct sbx_exec_opts *opts,
			       const struct sbx_exec_cbs *cbs, void *ud, struct sbx_rfs_proc **ret,
			       struct sbx_err *err);
/** Queues stdin bytes (copied); waits while much is unsent. -EPIPE once
 *  stdin was closed or the command ended. With the agent, bytes it
 *  refused (the job's queue full) are lost: this call and every later one,
 *  sbx_rfs_proc_close_stdin() too, return that error, so that the caller
 *  does not take the command's stdin as whole. */
SBX_API int sbx_rfs_proc_write_stdin(struct sbx_rfs_proc *p, const void *data, size_t n);
/** Ends the command's stdin. */
SBX_API int sbx_rfs_proc_close_stdin(struct sbx_rfs_proc *p);
/** Kills the command and what it started; on_done follows (KILLED). */
SBX_API int sbx_rfs_proc_cancel(struct sbx_rfs_proc *p);
/** Stdin bytes queued and not yet delivered. */
SBX_API size_t sbx_rfs_proc_stdin_pending(struct sbx_rfs_proc *p);
/** true when the change reports of the command's effects all come before
 *  its on_done (the agent transport). */
SBX_API bool sbx_rfs_proc_ordered(const struct sbx_rfs_proc *p);
/** Another reference, dropped with sbx_rfs_proc_unref(). */
SBX_API struct sbx_rfs_proc *sbx_rfs_proc_ref(struct sbx_rfs_proc *p);
/** Drops a reference; the command runs on. Accepts NULL. */
SBX_API void sbx_rfs_proc_unref(struct sbx_rfs_proc *p);

/** The operations counted by sbx_rfs_stats(). */
enum sbx_rfs_op {
	SBX_RFS_OP_STAT,
	SBX_RFS_OP_READDIR,
	SBX_RFS_OP_READLINK,
	SBX_RFS_OP_MKDIR,
	SBX_RFS_OP_CREATE,
	SBX_RFS_OP_UNLINK,
	SBX_RFS_OP_RMDIR,
	SBX_RFS_OP_RENAME,
	SBX_RFS_OP_LINK,
	SBX_RFS_OP_SYMLINK,
	SBX_RFS_OP_SETATTR,
	SBX_RFS_OP_STATFS,
	SBX_RFS_OP_FETCH,
	SBX_RFS_OP_READ_RANGE,
	SBX_RFS_OP_STORE,
	SBX_RFS_OP_SIGNAL,
	SBX_RFS_OP_SWEEP,
	/** agent session starts, the first one included: requests =
	 *  attempts, errors = failures, no round trips counted */
	SBX_RFS_OP_CONNECT,
	SBX_RFS_OP_XATTR, /**< any of the four xattr calls */
	SBX_RFS_OP_WRITE_RANGE,
	SBX_RFS_OP_FSYNC, /**< sbx_rfs_fsync() */
	SBX_RFS_OP__N
};
/** "stat", "readdir", … (static string). */
SBX_API const char *sbx_rfs_op_name(enum sbx_rfs_op op);

/** What an XATTR request of sbx_rfs_submit() does. */
enum sbx_rfs_xattr_op {
	SBX_RFS_XATTR_GET = 0, /**< a value, or the list of names (name NULL) */
	SBX_RFS_XATTR_SET,     /**< set name to set_value */
	SBX_RFS_XATTR_REMOVE,  /**< remove name */
};

/** A request answered later (sbx_rfs_submit()): the namespace and
 *  attribute operations a FUSE driver waits for most, so that no thread
 *  of the caller waits for the sandbox. The caller fills the request part
 *  and owns the struct, which it must leave alone until done() ran. */
struct sbx_rfs_async {
	/* the request (borrowed for the call of sbx_rfs_submit() only: the
	 * frame is built there) */
	enum sbx_rfs_op op; /**< STAT, READLINK, MKDIR, CREATE (mknod: mode
			     *   with its type bits, rdev, exclusive but with
			     *   SBX_RFS_CREATE_SHARED),
			     *   SYMLINK, LINK, UNLINK, RMDIR, RENAME, SETATTR,
			     *   READDIR (a tree listing: sbx_rfs_readtree()),
			     *   STATFS, XATTR (by xop: sbx_rfs_getxattr() of
			     *   name, or sbx_rfs_listxattr() when name is NULL;
			     *   sbx_rfs_setxattr(); sbx_rfs_removexattr()),
			     *   FETCH (sbx_rfs_fetch() into fd),
			     *   READ_RANGE (sbx_rfs_read_range() into fd),
			     *   STORE (sbx_rfs_store() of fd's first count
			     *   bytes as path; never sent again; one of more
			     *   than 16 MiB is made on the calling thread),
			     *   FSYNC (sbx_rfs_fsync() of path; with wf: an
			     *   FSYNC of wf's writes, sent behind them, then a
			     *   stat of path for attr) */
	const char *path;   /**< the name acted on (LINK, RENAME: the new one) */
	const char *from;   /**< LINK, RENAME: the existing name; SYMLINK: the target */
	const struct sbx_rfs_cred *cred; /**< NULL: the transport's own ids */
	uint32_t mode;			 /**< MKDIR, CREATE */
	uint64_t rdev;			 /**< CREATE */
	unsigned flags;			 /**< RENAME: SBX_RFS_NOREPLACE, SBX_RFS_EXCHANGE;
					  *   CREATE: SBX_RFS_CREATE_SHARED;
					  *   READDIR: SBX_RFS_TREE_DATA */
	uint32_t max_entries;		 /**< READDIR: entries of the tree, at most */
	const struct sbx_rfs_setattr *sa; /**< SETATTR: what to change */
	const char *name;		  /**< XATTR: the name; NULL: list the names */
	size_t size; /**< XATTR: the most bytes wanted (0: the length only) */
	enum sbx_rfs_xattr_op xop; /**< XATTR: what to do (0: GET) */
	const void *set_value;	   /**< XATTR SET: set_len bytes (borrowed, as the
				    *   rest of the request) */
	size_t set_len;
	int set_flags; /**< XATTR SET: 0, XATTR_CREATE or XATTR_REPLACE */
	int fd;	       /**< FETCH: the content is written there from offset 0;
			*   READ_RANGE: the range's bytes from fd_off; by a
			*   libsbx thread, until done() runs */
	uint64_t off;	 /**< READ_RANGE: where the range starts in the file */
	uint64_t count;	 /**< READ_RANGE: its length, at most SBX_RFS_READ_MAX;
			  *   STORE: the bytes of fd to store */
	uint64_t fd_off; /**< READ_RANGE: where in fd its first byte goes */
	const char *validator; /**< FETCH: the version held (NULL: none) */
	uint64_t size_hint;    /**< FETCH: the expected size (extends the deadline) */
	/** STORE: how (NULL: sbx_rfs_store()'s defaults); borrowed, cred included */
	const struct sbx_rfs_store_opts *store;
	/** FSYNC: the write handle whose writes to sync (NULL: open path).
	 *  Not used by anyone else until done() ran; when it has, every
	 *  write sent before was answered: sbx_rfs_wfile_sync(wf, false)
	 *  then collects their results without waiting. */
	struct sbx_rfs_wfile *wf;
	/** Called exactly once with the result filled in; on a libsbx thread
	 *  (one per context, which it shares with the other completions), or
	 *  on the caller's own before sbx_rfs_submit() returns (see there).
	 *  It must not wait for another request's completion; it may submit. */
	void (*done)(struct sbx_rfs_async *q);
	void *ud; /**< the caller's */
	/* the result, when done() runs */
	int rc;			  /**< 0 or a negative errno / SBX code, as the call would */
	/** STAT, MKDIR, CREATE, SYMLINK, LINK, SETATTR, FETCH, STORE, FSYNC
	 *  with wf (mode 0 when that stat failed, which does not fail the
	 *  FSYNC); READ_RANGE: the
	 *  file's when its bytes were read (sbx_rfs_read_finish()); RENAME: the
	 *  moved entry's after it (mode 0: not known, as after an exchange or
	 *  with the shell transport) */
	struct sbx_rfs_attr attr;
	/** MKDIR: the parent directory's attributes after it (its link count
	 *  and times moved; mode 0: not known, as with the shell transport) */
	struct sbx_rfs_attr parent_attr;
	char *link;		  /**< READLINK: the target; done() takes it (free) */
	struct sbx_rfs_tree tree; /**< READDIR: the listing; done() takes it
				   *   (sbx_rfs_tree_release) */
	struct statvfs vfs;	  /**< STATFS */
	void *value;		  /**< XATTR with size > 0: value_len bytes in a
				   *   buffer of size; done() takes it (free) */
	size_t value_len;	  /**< XATTR: the value's or the list's length */
	bool unchanged;		  /**< FETCH: validator still names the file (fd untouched) */
	uint64_t len;		  /**< FETCH, READ_RANGE: bytes written into fd (short
				   *   at the end of the file) */
	/** FETCH: the version read; STORE: the version stored */
	char fetched_validator[SBX_RFS_VALIDATOR_MAX];
};
/** Sends @p q and returns without waiting for the sandbox: q->done() runs
 *  when the reply came, the request failed, or its deadline (op_timeout,
 *  and for a FETCH 1 s more per MiB of size_hint, for a READ_RANGE and a
 *  STORE per MiB of count) passed (-SBX_ETIMEDOUT).
 *  A request that may run twice (STAT, READLINK, READDIR, SETATTR, STATFS,
 *  FETCH, READ_RANGE, an XATTR GET) is sent again once when its
 *  session ended before the reply. With the agent transport any number of requests are in flight
 *  at once. Where requests cannot be answered later (the shell transport),
 *  or the request could not be sent, q->done() runs on the calling thread
 *  before this returns: a caller must not hold a lock that done() takes. */
SBX_API void sbx_rfs_submit(struct sbx_rfs *r, struct sbx_rfs_async *q);
/** true when sbx_rfs_submit() answers later (the agent transport). */
SBX_API bool sbx_rfs_submits_async(const struct sbx_rfs *r);
/** Requests of sbx_rfs_submit() in flight now, and the most there were at
 *  once since the context was made. */
SBX_API void sbx_rfs_async_counts(struct sbx_rfs *r, uint64_t *ret_now, uint64_t *ret_max);


/** Latency histogram buckets: bucket i counts calls that took less than
 *  2^i milliseconds (the last one: everything slower). */
#define SBX_RFS_HIST_N 20

/** Counters of one operation. */
struct sbx_rfs_opstats {
	uint64_t requests;    /**< calls */
	uint64_t round_trips; /**< requests that went to the sandbox: exec
				 sessions (shell), agent requests (agent) */
	uint64_t errors;      /**< calls that failed (any error) */
	uint64_t bytes_in;    /**< stdout bytes received */
	uint64_t bytes_out;   /**< stdin bytes sent */
	uint64_t us_total;    /**< summed latency, microseconds */
	uint64_t hist[SBX_RFS_HIST_N];
};
/** Copies the counters (a consistent snapshot) into out[SBX_RFS_OP__N]. */
SBX_API void sbx_rfs_stats(struct sbx_rfs *r, struct sbx_rfs_opstats *out);
/** The latency below which @p pct percent (0 < pct <= 100) of the calls of
 *  @p s completed, in milliseconds (a power of two, from the histogram);
 *  0 when there were no calls. */
SBX_API uint64_t sbx_rfs_percentile_ms(const struct sbx_rfs_opstats *s, double pct);

#ifdef __cplusplus
}
#endif
#endif
