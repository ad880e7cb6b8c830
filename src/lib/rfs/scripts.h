/* scripts.h - the sh scripts of the remote filesystem operations (pure).
 *
 * Each builder appends one complete script for `sh -c` to a buffer. Every
 * script:
 *  - starts with LC_ALL=C (tools print the C library's strerror() texts,
 *    which lib/fs/errmap.c maps) and defines m(), which prints the marker
 *    line "@sbx:ENAME" on stderr and exits 3 (errmap's exact form);
 *  - takes absolute paths only (so no path can look like an option) and
 *    quotes each with sbx_shquote(); utilities also get "--";
 *  - prints machine-readable output as NUL-terminated records of
 *    SBX_RFS_ATTR_FMT (parse.h), so names with newlines are exact;
 *  - ends with the attributes of what it changed, so that a change and the
 *    new attributes cost one round trip.
 * Builders return 0, -EINVAL for a path that is not absolute (or a bad
 * argument), or -ENOMEM.
 */
#ifndef SBX_LIB_RFS_SCRIPTS_H
#define SBX_LIB_RFS_SCRIPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "fs/store.h"
#include "sbx/rfs.h"
#include "util/buf.h"

int sbx_rfs_script_stat(struct sbx_buf *b, const char *path);
int sbx_rfs_script_readdir(struct sbx_buf *b, const char *path);
int sbx_rfs_script_readlink(struct sbx_buf *b, const char *path);
int sbx_rfs_script_mkdir(struct sbx_buf *b, const char *path, uint32_t mode);
/* mode holds the type (S_IFREG or S_IFIFO) and the permission bits. */
int sbx_rfs_script_create(struct sbx_buf *b, const char *path, uint32_t mode, bool excl);
int sbx_rfs_script_unlink(struct sbx_buf *b, const char *path);
int sbx_rfs_script_rmdir(struct sbx_buf *b, const char *path);
int sbx_rfs_script_rename(struct sbx_buf *b, const char *from, const char *to, unsigned flags);
int sbx_rfs_script_link(struct sbx_buf *b, const char *from, const char *to);
int sbx_rfs_script_symlink(struct sbx_buf *b, const char *target, const char *path);
int sbx_rfs_script_setattr(struct sbx_buf *b, const char *path, const struct sbx_rfs_setattr *sa);
int sbx_rfs_script_statfs(struct sbx_buf *b, const char *path);
/* validator: NULL for an unconditional fetch. */
int sbx_rfs_script_fetch(struct sbx_buf *b, const char *path, const char *validator);
int sbx_rfs_script_read_range(struct sbx_buf *b, const char *path, uint64_t off, uint64_t len);
/* The guarded store of fs/store.h: the content (stdin) goes to a
 * temporary named by chk->suffix, registered in the journal, and is renamed
 * over path only when it holds chk->len bytes with chk->sha256 (in place
 * when o->in_place: then only checked). Prints the attributes, the
 * validator and what the check covered ("sha256" or "length"), each
 * NUL-terminated. */
int sbx_rfs_script_store(struct sbx_buf *b, const char *path, const struct sbx_rfs_store_opts *o,
			 const struct sbx_fs_store_check *chk);
int sbx_rfs_script_signal_env(struct sbx_buf *b, const char *env_marker, const char *sig_name);

#endif
