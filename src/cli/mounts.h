/* mounts.h - find sbxfs mounts in /proc/self/mountinfo.
 *
 * Used by `sbx exec` run from inside a mount (the sandbox may be left out),
 * by `sbx umount`, and by the commands that act in a sandbox (write-behind). A mount is ours when
 * its type is "fuse.sbxfs".
 */
#ifndef SBX_CLI_MOUNTS_H
#define SBX_CLI_MOUNTS_H

#include <stdbool.h>
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

/* Asks the sbxfs mount at mnt to store what closes left queued (writes
 * `sync` to its .ctl/ctl; sbxfs's write-behind). 0 or a negative errno
 * (EIO: a store failed; the mount keeps the data). */
int mounts_sync(const char *mnt);

/* Asks every sbxfs mount of the sandbox (its source names one of names:
 * the id or the name it was mounted by) to store what closes left queued
 * (`sync` in its .ctl/ctl; sbxfs's write-behind), so that a command run
 * in the sandbox next sees every write made through them. Mounts of
 * another user and mounts whose server is gone are skipped. Returns 0,
 * or the first failure (-EIO: a store failed; the mount keeps the data).
 * note: a wait of a mount past 2 s is said on stderr, naming names[0]
 * (stores on a slow or stopped link last up to op_timeout). No thread is
 * started when no mount matches. */
int mounts_sync_sandbox(const char *mountinfo, const char *const *names, size_t n, bool note);

#endif
