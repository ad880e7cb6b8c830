/* proto.h - the sbx-agent wire protocol, shared by the agent (src/agent)
 * and its client in libsbx (src/lib/rfs). docs/agent-protocol.md describes
 * it for people; this header is the definition.
 *
 * Transport: the agent's stdin (requests) and stdout (replies and events)
 * over one exec session. Everything is a frame:
 *
 *   u32 len    bytes that follow this field: 8 + payload, at most
 *              SBXA_FRAME_MAX; anything else ends the session (the stream
 *              cannot be resynchronised)
 *   u32 id     request id chosen by the client; every reply and event
 *              about that request carries it. 0 is never a request id.
 *   u16 type   a request op (SBXA_OP_*), SBXA_REPLY | op for its reply, or
 *              an event (SBXA_EV_*)
 *   u16 flags  SBXA_F_MORE: more frames follow for this id
 *   payload    len - 8 bytes
 *
 * All integers are little-endian. A string is u32 length + bytes (no NUL
 * on the wire, none allowed inside a path or name). Times are i64 seconds
 * + u32 nanoseconds.
 *
 * Requests may be pipelined without limit but SBXA_INFLIGHT_MAX; the agent
 * handles them in arrival order (so a request sees every earlier one's
 * effect), but replies of jobs and streamed reads interleave with others.
 * Every request payload but HELLO's starts with a credential block
 * (u32 uid, u32 gid, u32 ngroups <= SBXA_GROUPS_MAX, u32 groups[ngroups]);
 * the agent acts with those filesystem ids and groups for that request
 * (setfsuid/setfsgid/setgroups), or with its own when uid is SBXA_ID_SELF.
 *
 * Every reply payload starts with i32 status: 0, or a negative Linux errno
 * (the kernel's own, from the system call that failed). The op's data
 * follows only when status is 0. A reply with SBXA_F_MORE is followed by
 * more frames of the same id; the last one has no SBXA_F_MORE.
 *
 * The readers below never read past their buffer: a short or malformed
 * payload sets the reader's err to -EPROTO and every later read yields 0.
 */
#ifndef SBX_AGENT_PROTO_H
#define SBX_AGENT_PROTO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SBXA_MAGIC   0x41584253u /* "SBXA" little-endian, in HELLO */
#define SBXA_VERSION 1u

#define SBXA_HDR_LEN   12u		    /* len + id + type + flags */
#define SBXA_IO_MAX    (1u << 20)	    /* data bytes in one frame */
#define SBXA_FRAME_MAX (SBXA_IO_MAX + 8192) /* value of len, at most */
#define SBXA_PATH_MAX  4095u		    /* bytes of a path the kernel takes, NUL excluded */
/* Bytes of an absolute path on the wire: past SBXA_PATH_MAX too. The agent
 * resolves a longer one in steps (src/agent/longpath.h), so a name deep
 * below a long root is reached as the kernel reaches it relative to a
 * directory; longer ones are -ENAMETOOLONG. */
#define SBXA_LONGPATH_MAX 32767u
#define SBXA_NAME_MAX	  255u /* bytes of one name / xattr name */
#define SBXA_GROUPS_MAX	  64u
#define SBXA_ARGS_MAX	  4096u	       /* argv or env entries of a job */
#define SBXA_ARG_MAX	  (128u << 10) /* bytes of one argv or env entry */
#define SBXA_HANDLES_MAX  1024u	       /* open handles per session */
#define SBXA_JOBS_MAX	  256u	       /* running jobs per session */
#define SBXA_WATCH_MAX	  65536u       /* watched directories per session */
#define SBXA_INFLIGHT_MAX 4096u	       /* requests the client may have unanswered */
#define SBXA_XATTR_MAX	  65536u       /* bytes of one xattr value or list */

#define SBXA_ID_SELF 0xffffffffu /* credential uid: the agent's own ids */

#define SBXA_F_MORE 0x0001u

#define SBXA_REPLY 0x8000u

/* Requests. "->" is the reply data after the status. attr is
 * struct sbxa_attr as written by sbxa_put_attr(). */
enum sbxa_op {
	/* u32 magic, u32 version -> u32 magic, u32 version, u32 frame_max,
	 * u32 pid, u32 uid, u32 gid, str machine (uname -m). No cred block.
	 * The first request; nothing else is accepted before it. A version
	 * the agent does not speak is -EPROTONOSUPPORT. */
	SBXA_OP_HELLO = 1,
	SBXA_OP_LSTAT = 2, /* path -> attr */
	/* path [, u32 flags, u32 file_max, u32 total_max] -> attr of the
	 * directory, then entries, each: str name, attr, str link target
	 * (empty unless a symlink). Entries fill frames of at most
	 * SBXA_IO_MAX bytes, SBXA_F_MORE on all but the last; "." and ".."
	 * are left out. The self attr is in the first frame only.
	 * With SBXA_DIR_DATA in flags every entry also carries u32 has_data
	 * and, when 1, str data: the whole content of a regular file of at
	 * most file_max bytes (<= SBXA_DIR_FILE_MAX), as long as the data of
	 * the reply stays within total_max (<= SBXA_DIR_TOTAL_MAX); the
	 * entry's attr is then the open file's, so data and attr agree. A
	 * client reading a whole directory's small files saves a round trip
	 * per file. With SBXA_DIR_TREE the reply is the whole subtree as
	 * records instead (see SBXA_REC_*). */
	SBXA_OP_READDIR = 3,
	SBXA_OP_READLINK = 4, /* path -> str target */
	SBXA_OP_MKDIR = 5,    /* path, u32 mode -> attr (umask is 0: mode exact) */
	/* path, u32 mode (type and permissions), u64 rdev, u32 flags -> attr.
	 * S_IFREG creates (O_CREAT, plus O_EXCL with SBXA_MKNOD_EXCL; without
	 * it an existing file is kept as it is); S_IFIFO, S_IFSOCK, S_IFCHR and
	 * S_IFBLK are mknod(2). */
	SBXA_OP_MKNOD = 6,
	SBXA_OP_UNLINK = 7, /* path -> */
	SBXA_OP_RMDIR = 8,  /* path -> */
	/* path from, path to, u32 flags (renameat2's) -> attr of the moved
	 * entry (mode 0: not known) */
	SBXA_OP_RENAME = 9,
	SBXA_OP_LINK = 10,    /* path existing, path new -> attr */
	SBXA_OP_SYMLINK = 11, /* str target, path -> attr */
	/* path, setattr block -> attr. Applied in the order size, owner,
	 * mode, times; symlinks are never followed (mode is skipped on one). */
	SBXA_OP_SETATTR = 12,
	SBXA_OP_STATFS = 13, /* path -> statfs block */
	/* u32 handle (chosen by the client, < SBXA_HANDLES_MAX, not in use),
	 * path, u32 flags (SBXA_O_*), u32 mode -> attr. Because the client
	 * chooses the handle it may send PREAD/PWRITE on it at once; if the
	 * open failed, those fail with -EBADF. */
	SBXA_OP_OPEN = 14,
	/* u32 handle, path, u32 mode -> . A new empty file in the directory
	 * of path (O_TMPFILE where the filesystem has it, else a hidden
	 * ".sbx~" name removed on CLOSE or when the session ends), written
	 * with PWRITE and put in place by COMMIT. */
	SBXA_OP_TMPFILE = 15,
	SBXA_OP_PREAD = 16, /* u32 handle, u64 off, u32 len <= SBXA_IO_MAX -> bytes */
	/* u32 handle, u64 off, bytes (rest of payload) -> u32 n. A failure or
	 * a short write is also remembered by the handle (see COMMIT). */
	SBXA_OP_PWRITE = 17,
	SBXA_OP_FSYNC = 18, /* u32 handle, u32 datasync -> */
	/* u32 handle (a TMPFILE), path, u64 length, setattr block (SIZE
	 * ignored) -> attr. The file is put at path (replacing what is there,
	 * atomically) only if no PWRITE or FTRUNCATE on the handle failed or
	 * wrote short (else the first such error, -EIO for a short write) and
	 * its size is exactly length (else -EIO); otherwise nothing changes.
	 * The extended attributes of the file it replaces are copied onto it
	 * first (those the request may set; never security.capability, which
	 * a write drops), then the setattr block applies. The handle is
	 * closed either way. */
	SBXA_OP_COMMIT = 19,
	SBXA_OP_CLOSE = 20, /* u32 handle -> (an uncommitted TMPFILE is dropped) */
	/* path, u64 off, u64 len (UINT64_MAX: to the end), u32 flags,
	 * validator -> first frame: attr, u32 unchanged, bytes; later frames:
	 * bytes. With SBXA_READ_IF_CHANGED and a validator equal to the
	 * file's, unchanged is 1 and no bytes follow. Only regular files
	 * (-EISDIR, -EINVAL otherwise). */
	SBXA_OP_READ = 21,
	SBXA_OP_GETXATTR = 22,	  /* path, str name, u32 size -> u32 len, bytes (none if size 0) */
	SBXA_OP_SETXATTR = 23,	  /* path, str name, str value, u32 flags (XATTR_*) -> */
	SBXA_OP_LISTXATTR = 24,	  /* path, u32 size -> u32 len, bytes (none if size 0) */
	SBXA_OP_REMOVEXATTR = 25, /* path, str name -> */
	/* u32 handle, u64 size -> . ftruncate(2): a file can be given its
	 * length first and only its data written (holes stay holes). */
	SBXA_OP_FTRUNCATE = 26,
	/* u32 argc, str argv[argc], u32 envc, str env[envc] ("K=V"), str cwd
	 * (empty: "/"), u32 flags (SBXA_JOB_*) -> first frame (SBXA_F_MORE):
	 * u32 pid. Then SBXA_EV_STDOUT / SBXA_EV_STDERR frames (SBXA_F_MORE)
	 * and, last, one SBXA_EV_EXIT. argv[0] is looked up in the job's
	 * PATH. The request id names the job in JOB_STDIN and JOB_SIGNAL. */
	SBXA_OP_JOB_START = 32,
	/* u32 job, bytes -> u32 queued. Empty bytes close the job's stdin.
	 * The reply comes when the bytes are written to the job's pipe, which
	 * gives the client its flow control. */
	SBXA_OP_JOB_STDIN = 33,
	SBXA_OP_JOB_SIGNAL = 34, /* u32 job, u32 signal number -> */
	/* path (a directory) -> u32 wd. The agent then sends SBXA_EV_CHANGE
	 * with id 0 for every change inside it (inotify, not recursive). */
	SBXA_OP_WATCH = 40,
	SBXA_OP_UNWATCH = 41, /* u32 wd -> */
};

/* Events: frames the agent sends without a request of that type. */
enum sbxa_ev {
	SBXA_EV_STDOUT = 0x4001, /* bytes (a job's id) */
	SBXA_EV_STDERR = 0x4002, /* bytes */
	/* i32 status (0), u32 how (SBXA_EXIT_*), i32 code (exit code or
	 * signal number). The last frame of a job. Every change event the
	 * job's own changes caused in watched directories comes before it
	 * (the agent reads its inotify queue after the job's process ended
	 * and before it sends this), so a client that applied the events up
	 * to here sees what the job did. */
	SBXA_EV_EXIT = 0x4003,
	/* id 0: u32 wd, u32 mask (SBXA_CH_*), str name (empty: the directory
	 * itself), u32 has_attr, then attr when has_attr is 1: the name's
	 * lstat taken when the event was read, so that a client can update
	 * its cache instead of dropping it (and tell its own changes, whose
	 * attributes it already has, from others'). wd 0 with
	 * SBXA_CH_OVERFLOW: events were lost; the client must drop everything
	 * it cached. After the events of one read of the agent's inotify
	 * queue, a directory in which names appeared or went away is reported
	 * once more: SBXA_CH_ATTRIB, empty name, has_attr 1 and its own lstat
	 * (its mtime and link count moved); the name events before it say so
	 * with SBXA_CH_DIR_NEXT. */
	SBXA_EV_CHANGE = 0x4010,
};

#define SBXA_EXIT_CODE	 1u
#define SBXA_EXIT_SIGNAL 2u

#define SBXA_CH_ATTRIB	 0x01u /* metadata of name changed */
#define SBXA_CH_DATA	 0x02u /* content of name changed (written) */
#define SBXA_CH_CREATE	 0x04u /* name appeared (create, mkdir, link, moved in) */
#define SBXA_CH_DELETE	 0x08u /* name went away (unlink, rmdir, moved out) */
#define SBXA_CH_GONE	 0x10u /* the watched directory itself is gone */
#define SBXA_CH_OVERFLOW 0x20u
/* on a CREATE or DELETE: the report of the directory itself follows
 * in this read of events (unless the directory goes away meanwhile) */
#define SBXA_CH_DIR_NEXT 0x80u

/* READDIR flags and bounds */
#define SBXA_DIR_DATA 1u
/* The whole subtree, breadth first, as records (see SBXA_REC_*), up to
 * max_entries entries (a fourth u32 of the request, <= SBXA_TREE_MAX)
 * and total_max bytes of data; subdirectories on another filesystem are
 * not entered. A directory whose SBXA_REC_END did not come was cut short
 * by a bound: its listing is incomplete and must not be used. */
#define SBXA_DIR_TREE 2u
/* With SBXA_DIR_TREE: the agent watches each directory (as WATCH does)
 * before it reads it and sends the wd in its SBXA_REC_DIR */
#define SBXA_DIR_WATCH 4u
/* Every entry also carries u32 has_names and, when 1, str names: the
 * names of its extended attributes as llistxattr(2) gives them, when they
 * fit in SBXA_DIR_XNAMES_MAX bytes (0: not known, ask LISTXATTR). They come
 * after the data fields (SBXA_DIR_DATA). A client then answers a getxattr
 * of a name the file lacks (ls -l asks every file for ACLs and labels)
 * with no round trip. */
#define SBXA_DIR_XATTRS	    8u
#define SBXA_DIR_XNAMES_MAX 4096u
#define SBXA_TREE_MAX	    100000u
/* Records of a SBXA_DIR_TREE reply; each starts with u32 kind and never
 * spans frames:
 *   SBXA_REC_DIR:   str path relative to the request's ("" for itself),
 *                   attr, u32 wd (0: not watched) - the listing that follows
 *   SBXA_REC_ENTRY: an entry as in a plain READDIR reply (with data when
 *                   SBXA_DIR_DATA)
 *   SBXA_REC_END:   the listing of the last SBXA_REC_DIR is complete */
#define SBXA_REC_DIR	   1u
#define SBXA_REC_ENTRY	   2u
#define SBXA_REC_END	   3u
#define SBXA_DIR_FILE_MAX  (256u << 10)
#define SBXA_DIR_TOTAL_MAX (64u << 20)
/* MKNOD flags */
#define SBXA_MKNOD_EXCL 1u
/* READ flags */
#define SBXA_READ_IF_CHANGED 1u
/* JOB_START flags */
#define SBXA_JOB_STDIN 1u /* keep stdin open for JOB_STDIN (else /dev/null) */
/* env[] adds to (or replaces in) the agent's own environment, which is
 * the sandbox's default one, instead of being the whole environment */
#define SBXA_JOB_ENV_ADD 2u

/* OPEN flags: the wire's own values, mapped to O_* by the agent. */
#define SBXA_O_RDONLY	 0x00u
#define SBXA_O_WRONLY	 0x01u
#define SBXA_O_RDWR	 0x02u
#define SBXA_O_ACCMODE	 0x03u
#define SBXA_O_CREAT	 0x04u
#define SBXA_O_EXCL	 0x08u
#define SBXA_O_TRUNC	 0x10u
#define SBXA_O_APPEND	 0x20u
#define SBXA_O_NOFOLLOW	 0x40u
#define SBXA_O_DIRECTORY 0x80u
#define SBXA_O_ALL	 0xffu

/* setattr block: u32 valid, u32 mode, u32 uid, u32 gid, u64 size,
 * time atime, time mtime. valid bits: */
#define SBXA_SET_MODE	   0x01u
#define SBXA_SET_UID	   0x02u
#define SBXA_SET_GID	   0x04u
#define SBXA_SET_SIZE	   0x08u
#define SBXA_SET_ATIME	   0x10u
#define SBXA_SET_MTIME	   0x20u
#define SBXA_SET_ATIME_NOW 0x40u
#define SBXA_SET_MTIME_NOW 0x80u
#define SBXA_SET_ACL_PLAIN 0x100u /* drop an extended access ACL, before the mode */

struct sbxa_time {
	int64_t sec;
	uint32_t nsec;
};

/* lstat's answer; mode is st_mode (type and permissions). */
struct sbxa_attr {
	uint32_t mode, nlink, uid, gid;
	uint64_t size, blocks, ino, dev, rdev;
	struct sbxa_time atime, mtime, ctime;
};

struct sbxa_setattr {
	uint32_t valid, mode, uid, gid;
	uint64_t size;
	struct sbxa_time atime, mtime;
};

/* statvfs's answer */
struct sbxa_statfs {
	uint64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax;
};

/* READ's validator: a version of a file's bytes is named by these. */
struct sbxa_validator {
	uint64_t ino, size;
	struct sbxa_time mtime, ctime;
};

/* ---- writer: appends to a growable buffer; the first failure sticks ---- */

struct sbxa_w {
	uint8_t *p;
	size_t len, cap;
	int err; /* 0, -ENOMEM, or -E2BIG (a frame past SBXA_FRAME_MAX) */
};

static inline void sbxa_w_release(struct sbxa_w *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

static inline uint8_t *sbxa_w_room(struct sbxa_w *w, size_t n)
{
	size_t ncap;
	uint8_t *np;

	if (w->err)
		return NULL;
	if (n > SIZE_MAX / 2 - w->len) {
		w->err = -E2BIG;
		return NULL;
	}
	if (w->len + n > w->cap) {
		ncap = w->cap ? w->cap : 256;
		while (ncap < w->len + n)
			ncap *= 2;
		np = (uint8_t *)realloc(w->p, ncap);
		if (!np) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->p = np;
		w->cap = ncap;
	}
	w->len += n;
	return w->p + w->len - n;
}

static inline void sbxa_put_bytes(struct sbxa_w *w, const void *d, size_t n)
{
	uint8_t *q = sbxa_w_room(w, n);

	if (q && n)
		memcpy(q, d, n);
}

static inline void sbxa_put_le(struct sbxa_w *w, uint64_t v, unsigned n)
{
	uint8_t *q = sbxa_w_room(w, n);
	unsigned i;

	for (i = 0; q && i < n; i++)
		q[i] = (uint8_t)(v >> (8 * i));
}

static inline void sbxa_put_u16(struct sbxa_w *w, uint16_t v)
{
	sbxa_put_le(w, v, 2);
}
static inline void sbxa_put_u32(struct sbxa_w *w, uint32_t v)
{
	sbxa_put_le(w, v, 4);
}
static inline void sbxa_put_i32(struct sbxa_w *w, int32_t v)
{
	sbxa_put_le(w, (uint32_t)v, 4);
}
static inline void sbxa_put_u64(struct sbxa_w *w, uint64_t v)
{
	sbxa_put_le(w, v, 8);
}
static inline void sbxa_put_time(struct sbxa_w *w, struct sbxa_time t)
{
	sbxa_put_le(w, (uint64_t)t.sec, 8);
	sbxa_put_u32(w, t.nsec);
}
static inline void sbxa_put_str(struct sbxa_w *w, const void *s, size_t n)
{
	if (n > UINT32_MAX) {
		w->err = w->err ? w->err : -E2BIG;
		return;
	}
	sbxa_put_u32(w, (uint32_t)n);
	sbxa_put_bytes(w, s, n);
}
static inline void sbxa_put_cstr(struct sbxa_w *w, const char *s)
{
	sbxa_put_str(w, s, strlen(s));
}

/* Starts a frame; returns its offset for sbxa_frame_end(). */
static inline size_t sbxa_frame_begin(struct sbxa_w *w, uint32_t id, uint16_t type, uint16_t flags)
{
	size_t at = w->len;

	sbxa_put_u32(w, 0);
	sbxa_put_u32(w, id);
	sbxa_put_u16(w, type);
	sbxa_put_u16(w, flags);
	return at;
}

/* Fills in the frame's length; -E2BIG (sticky) past SBXA_FRAME_MAX. */
static inline int sbxa_frame_end(struct sbxa_w *w, size_t at)
{
	size_t n;
	unsigned i;

	if (w->err)
		return w->err;
	n = w->len - at - 4;
	if (n > SBXA_FRAME_MAX)
		return w->err = -E2BIG;
	for (i = 0; i < 4; i++)
		w->p[at + i] = (uint8_t)(n >> (8 * i));
	return 0;
}

static inline void sbxa_put_cred(struct sbxa_w *w, uint32_t uid, uint32_t gid, uint32_t ngroups,
				 const uint32_t *groups)
{
	uint32_t i;

	if (ngroups > SBXA_GROUPS_MAX)
		ngroups = SBXA_GROUPS_MAX;
	sbxa_put_u32(w, uid);
	sbxa_put_u32(w, gid);
	sbxa_put_u32(w, ngroups);
	for (i = 0; i < ngroups; i++)
		sbxa_put_u32(w, groups[i]);
}

static inline void sbxa_put_attr(struct sbxa_w *w, const struct sbxa_attr *a)
{
	sbxa_put_u32(w, a->mode);
	sbxa_put_u32(w, a->nlink);
	sbxa_put_u32(w, a->uid);
	sbxa_put_u32(w, a->gid);
	sbxa_put_u64(w, a->size);
	sbxa_put_u64(w, a->blocks);
	sbxa_put_u64(w, a->ino);
	sbxa_put_u64(w, a->dev);
	sbxa_put_u64(w, a->rdev);
	sbxa_put_time(w, a->atime);
	sbxa_put_time(w, a->mtime);
	sbxa_put_time(w, a->ctime);
}

static inline void sbxa_put_setattr(struct sbxa_w *w, const struct sbxa_setattr *s)
{
	sbxa_put_u32(w, s->valid);
	sbxa_put_u32(w, s->mode);
	sbxa_put_u32(w, s->uid);
	sbxa_put_u32(w, s->gid);
	sbxa_put_u64(w, s->size);
	sbxa_put_time(w, s->atime);
	sbxa_put_time(w, s->mtime);
}

static inline void sbxa_put_statfs(struct sbxa_w *w, const struct sbxa_statfs *s)
{
	const uint64_t v[] = {s->bsize, s->frsize, s->blocks, s->bfree, s->bavail, s->files,
			      s->ffree, s->favail, s->fsid,   s->flag,	s->namemax};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		sbxa_put_u64(w, v[i]);
}

static inline void sbxa_put_validator(struct sbxa_w *w, const struct sbxa_validator *v)
{
	sbxa_put_u64(w, v->ino);
	sbxa_put_u64(w, v->size);
	sbxa_put_time(w, v->mtime);
	sbxa_put_time(w, v->ctime);
}

/* ---- reader: over one payload; the first failure sticks ---- */

struct sbxa_r {
	const uint8_t *p;
	size_t len, off;
	int err; /* 0 or -EPROTO */
};

static inline void sbxa_r_init(struct sbxa_r *r, const void *p, size_t len)
{
	r->p = (const uint8_t *)p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static inline size_t sbxa_r_left(const struct sbxa_r *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* n bytes at the cursor (borrowed), or NULL (err set) when fewer are left. */
static inline const uint8_t *sbxa_get_bytes(struct sbxa_r *r, size_t n)
{
	const uint8_t *q;

	if (r->err || n > r->len - r->off) {
		r->err = -EPROTO;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

static inline uint64_t sbxa_get_le(struct sbxa_r *r, unsigned n)
{
	const uint8_t *q = sbxa_get_bytes(r, n);
	uint64_t v = 0;
	unsigned i;

	for (i = 0; q && i < n; i++)
		v |= (uint64_t)q[i] << (8 * i);
	return v;
}

static inline uint16_t sbxa_get_u16(struct sbxa_r *r)
{
	return (uint16_t)sbxa_get_le(r, 2);
}
static inline uint32_t sbxa_get_u32(struct sbxa_r *r)
{
	return (uint32_t)sbxa_get_le(r, 4);
}
static inline int32_t sbxa_get_i32(struct sbxa_r *r)
{
	return (int32_t)(uint32_t)sbxa_get_le(r, 4);
}
static inline uint64_t sbxa_get_u64(struct sbxa_r *r)
{
	return sbxa_get_le(r, 8);
}
static inline struct sbxa_time sbxa_get_time(struct sbxa_r *r)
{
	struct sbxa_time t;

	t.sec = (int64_t)sbxa_get_le(r, 8);
	t.nsec = sbxa_get_u32(r);
	if (t.nsec >= 1000000000u) {
		r->err = -EPROTO;
		t.nsec = 0;
	}
	return t;
}

/* A string of at most max bytes, borrowed (not NUL-terminated); *n its
 * length. NULL (err set) past max or past the payload. */
static inline const char *sbxa_get_str(struct sbxa_r *r, size_t max, size_t *n)
{
	uint32_t len = sbxa_get_u32(r);
	const uint8_t *q;

	*n = 0;
	if (r->err)
		return NULL;
	if (len > max) {
		r->err = -EPROTO;
		return NULL;
	}
	q = sbxa_get_bytes(r, len);
	if (q)
		*n = len;
	return (const char *)q;
}

/* A path or name into out (max + 1 bytes), NUL-terminated; rejects an
 * embedded NUL and, unless allow_empty, the empty string. */
static inline bool sbxa_get_path(struct sbxa_r *r, char *out, size_t max, bool allow_empty)
{
	size_t n;
	const char *s = sbxa_get_str(r, max, &n);

	out[0] = '\0';
	if (!s || (!n && !allow_empty) || (n && memchr(s, '\0', n))) {
		r->err = -EPROTO;
		return false;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

static inline void sbxa_get_attr(struct sbxa_r *r, struct sbxa_attr *a)
{
	a->mode = sbxa_get_u32(r);
	a->nlink = sbxa_get_u32(r);
	a->uid = sbxa_get_u32(r);
	a->gid = sbxa_get_u32(r);
	a->size = sbxa_get_u64(r);
	a->blocks = sbxa_get_u64(r);
	a->ino = sbxa_get_u64(r);
	a->dev = sbxa_get_u64(r);
	a->rdev = sbxa_get_u64(r);
	a->atime = sbxa_get_time(r);
	a->mtime = sbxa_get_time(r);
	a->ctime = sbxa_get_time(r);
}

static inline void sbxa_get_setattr(struct sbxa_r *r, struct sbxa_setattr *s)
{
	s->valid = sbxa_get_u32(r);
	s->mode = sbxa_get_u32(r);
	s->uid = sbxa_get_u32(r);
	s->gid = sbxa_get_u32(r);
	s->size = sbxa_get_u64(r);
	s->atime = sbxa_get_time(r);
	s->mtime = sbxa_get_time(r);
}

static inline void sbxa_get_statfs(struct sbxa_r *r, struct sbxa_statfs *s)
{
	uint64_t *v[] = {&s->bsize, &s->frsize, &s->blocks, &s->bfree, &s->bavail, &s->files,
			 &s->ffree, &s->favail, &s->fsid,   &s->flag,  &s->namemax};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		*v[i] = sbxa_get_u64(r);
}

static inline void sbxa_get_validator(struct sbxa_r *r, struct sbxa_validator *v)
{
	v->ino = sbxa_get_u64(r);
	v->size = sbxa_get_u64(r);
	v->mtime = sbxa_get_time(r);
	v->ctime = sbxa_get_time(r);
}

/* Decodes a frame header from SBXA_HDR_LEN bytes; -EPROTO when the length
 * is out of bounds (the session must end). *payload_len is len - 8. */
static inline int sbxa_hdr_decode(const uint8_t *h, uint32_t *payload_len, uint32_t *id,
				  uint16_t *type, uint16_t *flags)
{
	struct sbxa_r r;
	uint32_t len;

	sbxa_r_init(&r, h, SBXA_HDR_LEN);
	len = sbxa_get_u32(&r);
	*id = sbxa_get_u32(&r);
	*type = sbxa_get_u16(&r);
	*flags = sbxa_get_u16(&r);
	if (len < 8 || len > SBXA_FRAME_MAX)
		return -EPROTO;
	*payload_len = len - 8;
	return 0;
}

#endif
