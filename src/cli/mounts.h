/* mounts.h - find sbxfs mounts in /proc/self/mountinfo.
 *
 * Used by `sbx exec` run from inside a mount (the sandbox may be left out)
 * and by `sbx umount`. A mount is ours when its type is "fuse.sbxfs".
 */
#ifndef SBX_CLI_MOUNTS_H
#define SBX_CLI_MOUNTS_H

#include <stddef.h>

#include "util/buf.h"

/* Decodes the octal escapes (\040 for space, \012 for newline, \134 for
 * backslash) of a mountinfo field in place. */
void mounts_unescape(char *s);

/* Finds the innermost sbxfs mount that contains path (an absolute, canonical
 * path). On success sets ret_mnt to its mount point and, if ret_src is not
 * NULL, ret_src to its source ("SANDBOX:/remote/dir", the fsname sbxfs
 * sets), and returns 0; -ENOENT when path is in none. mountinfo is the file
 * to read (NULL: /proc/self/mountinfo). */
int mounts_find(const char *mountinfo, const char *path, struct sbx_buf *ret_mnt,
		struct sbx_buf *ret_src);

/* Is dir (canonical) an sbxfs mount point? 1, 0, or -errno. */
int mounts_is_sbxfs(const char *mountinfo, const char *dir);

#endif
