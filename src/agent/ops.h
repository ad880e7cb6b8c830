/* ops.h - the request handlers, one per op, grouped by file.
 *
 * Each takes a decoded request (q->err == 0, its credentials in force)
 * and either queues its whole reply and returns 0, or returns a negative
 * errno for the caller to send as the reply's status (having queued
 * nothing for q). Streams (READDIR, READ, JOB_START) may queue more
 * frames later.
 */
#ifndef SBX_AGENT_OPS_H
#define SBX_AGENT_OPS_H

#include <time.h>

#include "agent.h"

typedef int (*agent_op_fn)(struct agent *a, const struct agent_req *q);

/* fsops.c */
int op_lstat(struct agent *a, const struct agent_req *q);
int op_readlink(struct agent *a, const struct agent_req *q);
int op_mkdir(struct agent *a, const struct agent_req *q);
int op_mknod(struct agent *a, const struct agent_req *q);
int op_unlink(struct agent *a, const struct agent_req *q);
int op_rmdir(struct agent *a, const struct agent_req *q);
int op_rename(struct agent *a, const struct agent_req *q);
int op_link(struct agent *a, const struct agent_req *q);
int op_symlink(struct agent *a, const struct agent_req *q);
int op_statfs(struct agent *a, const struct agent_req *q);
/* setattr.c */
int op_setattr(struct agent *a, const struct agent_req *q);
/* xattr.c */
int op_getxattr(struct agent *a, const struct agent_req *q);
int op_setxattr(struct agent *a, const struct agent_req *q);
int op_listxattr(struct agent *a, const struct agent_req *q);
int op_removexattr(struct agent *a, const struct agent_req *q);
/* stream.c */
int op_readdir(struct agent *a, const struct agent_req *q);
int op_read(struct agent *a, const struct agent_req *q);
/* handles.c */
int op_open(struct agent *a, const struct agent_req *q);
int op_pread(struct agent *a, const struct agent_req *q);
int op_pwrite(struct agent *a, const struct agent_req *q);
int op_fsync(struct agent *a, const struct agent_req *q);
int op_close(struct agent *a, const struct agent_req *q);
int op_ftruncate(struct agent *a, const struct agent_req *q);
/* commit.c */
int op_tmpfile(struct agent *a, const struct agent_req *q);
int op_commit(struct agent *a, const struct agent_req *q);
/* jobs.c */
int op_job_start(struct agent *a, const struct agent_req *q);
int op_job_stdin(struct agent *a, const struct agent_req *q);
int op_job_signal(struct agent *a, const struct agent_req *q);
/* watch.c */
int op_watch(struct agent *a, const struct agent_req *q);
int op_unwatch(struct agent *a, const struct agent_req *q);

/** The times of s for utimensat/futimens; false when it sets none. */
bool setattr_times(const struct sbxa_setattr *s, struct timespec t[2]);
/* The answer of a removexattr(2) of the access ACL (r: its return) for
 * SBXA_SET_ACL_PLAIN: none there, or none possible, is done. */
int setattr_acl_dropped(int r);
#define SETATTR_ACL_NAME "system.posix_acl_access"

/** Queues the reply "status 0, attr of path (lstat)"; -errno if lstat fails. */
int reply_lstat(struct agent *a, const struct agent_req *q, const char *path);
/* The same for path relative to dirfd (AT_FDCWD: as reply_lstat). */
int reply_lstat_at(struct agent *a, const struct agent_req *q, int dirfd, const char *path);

#endif
