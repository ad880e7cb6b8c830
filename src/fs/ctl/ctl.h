/* ctl.h - the control tree /.ctl of a mount (design.md's table).
 *
 * Its nodes are virtual: their ids carry CTL_BIT, so every handler asks
 * ctl_is() first and hands them here. They are never counted for forget
 * (nothing to free), are direct_io and are never cached by the kernel.
 *
 *   .ctl/status  info  ctl  exec  new  stats  procs  ports  logs/ID
 *   .ctl/jobs/  jobs/last -> N
 *   .ctl/jobs/N/ctl stdin stdout stderr output status exit cmd
 *
 * Reads of a running job's streams and exit wait for data or the end of the
 * job without holding a FUSE worker: the request is parked on the job and
 * answered from the transport thread (or the invalidation thread at the
 * end); an interrupt answers it with EINTR and leaves the job running.
 */
#ifndef SBX_FS_CTL_CTL_H
#define SBX_FS_CTL_CTL_H

#include "fs/fs.h"

#define CTL_NAME ".ctl"
#define CTL_BIT	 (1ULL << 62)

static inline bool ctl_is(uint64_t ino)
{
	return (ino & CTL_BIT) != 0;
}

struct ctl;

int ctl_new(struct sbx_fs *fs, struct ctl **ret);
/* At teardown, once no request can come: releases the handles of /.ctl
 * files the kernel never released (a process had one open at SIGTERM), as
 * its releases would have (a job's stdin held open is closed). */
void ctl_release_all(struct ctl *c);
/* Cancels the running jobs and waits (at most timeout_s) for their end.
 * After it, no exec callback touches the tree. */
void ctl_shutdown(struct ctl *c, double timeout_s);
/* Frees the tree (after ctl_shutdown and after the client is freed). */
void ctl_free(struct ctl *c);

/* The entry of /.ctl in the root (for readdir with ctl_visible). */
void ctl_root_entry(struct sbx_fs *fs, struct fuse_entry_param *e);

void ctl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void ctl_getattr(fuse_req_t req, fuse_ino_t ino);
void ctl_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set);
void ctl_readlink(fuse_req_t req, fuse_ino_t ino);
void ctl_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ctl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi,
		 bool plus);
void ctl_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ctl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ctl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void ctl_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi);
void ctl_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

#endif
