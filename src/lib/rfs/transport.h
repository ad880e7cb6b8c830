/* transport.h - the table of operations behind rfs.h.
 *
 * Every public sbx_rfs_* operation is a call through the transport the
 * context chose at sbx_rfs_connect(): `shell` (one exec session per
 * operation running a POSIX sh script; works on any image) or `agent`
 * (requests to sbx-agent over one long-lived exec session). Each entry has
 * the contract of the public function of the same name in sbx/rfs.h; a
 * transport that has no better way for an operation points the entry at
 * the shell one. Statistics are kept by the transport (rfs_count()).
 * The operations that act for someone take the caller's credential
 * (NULL: the transport's own ids); the shell transport drops it (shell.c).
 * A transport without extended attributes points the xattr entries at
 * functions that answer -ENOTSUP.
 */
#ifndef SBX_LIB_RFS_TRANSPORT_H
#define SBX_LIB_RFS_TRANSPORT_H

#include "sbx/rfs.h"

struct rfs_transport {
	const char *name;
	int (*stat)(struct sbx_rfs *r, const char *path, struct sbx_rfs_attr *ret,
		    struct sbx_err *err);
	int (*readdir)(struct sbx_rfs *r, const char *path, struct sbx_rfs_dir *ret,
		       struct sbx_err *err);
	int (*readlink)(struct sbx_rfs *r, const char *path, char **ret, struct sbx_err *err);
	int (*mkdir)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     uint32_t mode, struct sbx_rfs_attr *ret, struct sbx_err *err);
	int (*create)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		      uint32_t mode, bool excl, struct sbx_rfs_attr *ret, struct sbx_err *err);
	int (*unlink)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		      struct sbx_err *err);
	int (*rmdir)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     struct sbx_err *err);
	int (*rename)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		      const char *to, unsigned flags, struct sbx_err *err);
	int (*link)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *from,
		    const char *to, struct sbx_rfs_attr *ret, struct sbx_err *err);
	int (*symlink)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *target,
		       const char *path, struct sbx_rfs_attr *ret, struct sbx_err *err);
	int (*setattr)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		       const struct sbx_rfs_setattr *sa, struct sbx_rfs_attr *ret,
		       struct sbx_err *err);
	int (*getxattr)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			const char *name, void *buf, size_t size, size_t *ret_len,
			struct sbx_err *err);
	int (*listxattr)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			 void *buf, size_t size, size_t *ret_len, struct sbx_err *err);
	int (*setxattr)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			const char *name, const void *value, size_t len, int flags,
			struct sbx_err *err);
	int (*removexattr)(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			   const char *name, struct sbx_err *err);
	int (*statfs)(struct sbx_rfs *r, const char *path, struct statvfs *ret,
		      struct sbx_err *err);
	int (*fetch)(struct sbx_rfs *r, const char *path, int fd, const char *validator,
		     uint64_t size_hint, bool *ret_unchanged, uint64_t *ret_len,
		     struct sbx_rfs_attr *ret_attr, char *ret_validator, struct sbx_err *err);
	int (*read_range)(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			  uint64_t fd_off, uint64_t *ret_n, struct sbx_err *err);
	int (*store)(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
		     const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret,
		     char *ret_validator, struct sbx_err *err);
	/* rfs.h's sbx_rfs_read_start/_finish; a read is ended by the
	 * transport that started it (p->tp) */
	int (*read_start)(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			  uint64_t fd_off, struct sbx_rfs_pread **ret, struct sbx_err *err);
	int (*read_finish)(struct sbx_rfs_pread *p, uint64_t *ret_n, struct sbx_rfs_attr *ret_attr,
			   struct sbx_err *err);
	/* rfs.h's sbx_rfs_wfile_open (NULL: -ENOTSUP) */
	int (*wfile_open)(struct sbx_rfs *r, const char *path, struct sbx_rfs_wfile **ret,
			  struct sbx_err *err);
	int (*signal_env)(struct sbx_rfs *r, const char *env_marker, const char *sig_name,
			  unsigned *ret_count, struct sbx_err *err);
	int (*sweep)(struct sbx_rfs *r, unsigned *ret_removed, struct sbx_err *err);
};

/* The part of a ranged read in flight every transport has; a transport
 * may wrap it (agent_io.c: first member). */
struct sbx_rfs_pread {
	const struct rfs_transport *tp; /* the one that started it */
	int rc;				/* shell: the outcome, known at start */
	uint64_t n;
	struct sbx_err err;
};

/* src/lib/rfs/shell.c */
extern const struct rfs_transport rfs_shell_transport;
/* src/lib/rfs/agent_ops.c */
extern const struct rfs_transport rfs_agent_transport;

/* Counts one operation in the context's statistics: round_trips requests
 * that went to the sandbox, rc its outcome, us its latency. */
void rfs_count(struct sbx_rfs *r, enum sbx_rfs_op op, unsigned round_trips, int rc, int64_t us,
	       uint64_t bytes_in, uint64_t bytes_out);

#endif
