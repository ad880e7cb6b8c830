/* mount.h - bringing a struct sbx_fs up and down (used by main.c).
 *
 * connect/disconnect own the network side (client, sandbox handle, rfs) and
 * may run twice: once in the foreground to report errors before anything is
 * mounted, and again after fuse_daemonize() forked (the client's transport
 * thread does not survive a fork). setup/teardown own the rest: the node
 * table, the control tree and the cache dir; main.c starts the invalidation
 * thread after the fork, and teardown stops it.
 */
#ifndef SBX_FS_MOUNT_H
#define SBX_FS_MOUNT_H

#include <stddef.h>

#include "fs/fs.h"

/* Opens the client, the sandbox and the remote root; checks that the root
 * is a directory. On failure returns a negative errno with a message. */
int sbxfs_connect(struct sbx_fs *fs, const struct sbxfs_creds *cr, char *msg, size_t cap);
void sbxfs_disconnect(struct sbx_fs *fs);

/* Everything but the network. fs->opts and fs->root must be set. */
int sbxfs_setup(struct sbx_fs *fs, char *msg, size_t cap);
/* After the session loop: stores what is left, stops the jobs (bounded),
 * stops the invalidation thread. Then disconnect, then sbxfs_free. */
void sbxfs_teardown(struct sbx_fs *fs);
void sbxfs_free(struct sbx_fs *fs);

#endif
