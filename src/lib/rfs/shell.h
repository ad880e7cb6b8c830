/* shell.h - the shell transport: each operation one exec session running a
 * POSIX sh script (meta.c for metadata, data.c for contents). Contracts
 * are those of the public functions of the same name in sbx/rfs.h.
 */
#ifndef SBX_LIB_RFS_SHELL_H
#define SBX_LIB_RFS_SHELL_H

#include "sbx/rfs.h"

int rfs_shell_stat(struct sbx_rfs *r, const char *path, struct sbx_rfs_attr *ret,
		   struct sbx_err *err);
int rfs_shell_readdir(struct sbx_rfs *r, const char *path, struct sbx_rfs_dir *ret,
		      struct sbx_err *err);
int rfs_shell_readlink(struct sbx_rfs *r, const char *path, char **ret, struct sbx_err *err);
int rfs_shell_mkdir(struct sbx_rfs *r, const char *path, uint32_t mode, struct sbx_rfs_attr *ret,
		    struct sbx_err *err);
int rfs_shell_create(struct sbx_rfs *r, const char *path, uint32_t mode, bool excl,
		     struct sbx_rfs_attr *ret, struct sbx_err *err);
int rfs_shell_unlink(struct sbx_rfs *r, const char *path, struct sbx_err *err);
int rfs_shell_rmdir(struct sbx_rfs *r, const char *path, struct sbx_err *err);
int rfs_shell_rename(struct sbx_rfs *r, const char *from, const char *to, unsigned flags,
		     struct sbx_err *err);
int rfs_shell_link(struct sbx_rfs *r, const char *from, const char *to, struct sbx_rfs_attr *ret,
		   struct sbx_err *err);
int rfs_shell_symlink(struct sbx_rfs *r, const char *target, const char *path,
		      struct sbx_rfs_attr *ret, struct sbx_err *err);
int rfs_shell_setattr(struct sbx_rfs *r, const char *path, const struct sbx_rfs_setattr *sa,
		      struct sbx_rfs_attr *ret, struct sbx_err *err);
int rfs_shell_statfs(struct sbx_rfs *r, const char *path, struct statvfs *ret, struct sbx_err *err);
int rfs_shell_fetch(struct sbx_rfs *r, const char *path, int fd, const char *validator,
		    uint64_t size_hint, bool *ret_unchanged, uint64_t *ret_len,
		    struct sbx_rfs_attr *ret_attr, char *ret_validator, struct sbx_err *err);
int rfs_shell_read_range(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			 uint64_t fd_off, uint64_t *ret_n, struct sbx_err *err);
/* The read is done by start (one exec session); finish reports it. */
int rfs_shell_read_start(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			 uint64_t fd_off, struct sbx_rfs_pread **ret, struct sbx_err *err);
int rfs_shell_read_finish(struct sbx_rfs_pread *p, uint64_t *ret_n, struct sbx_rfs_attr *ret_attr,
			  struct sbx_err *err);
int rfs_shell_store(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
		    const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret,
		    char *ret_validator, struct sbx_err *err);
int rfs_shell_signal_env(struct sbx_rfs *r, const char *env_marker, const char *sig_name,
			 unsigned *ret_count, struct sbx_err *err);
int rfs_shell_sweep(struct sbx_rfs *r, unsigned *ret_removed, struct sbx_err *err);

#endif
