/* dattr.h - attribute changes of a directory made behind the caller.
 *
 * `tar x` and `cp -a` give every directory they made its owner, mode and
 * times once its files are written: a chown, a chmod and a utimensat, each
 * waited for. At 50 ms a round trip that was half of a `tar x`. When the
 * directory was made through this mount (mkdir), the caller is the
 * mount's owner and the agent acts as root in the sandbox (so no
 * permission rule of the sandbox can tell them apart from the kernel's
 * own check here), those changes are answered at once from the
 * attributes they give, and made by the write-behind queue (wback.h):
 * changes of one directory queued one after the other become one SETATTR.
 *
 * What holds:
 *  - the queue keeps their order: they wait for every store queued
 *    before them (a store landing later would move the mtime again), and
 *    every store queued after them waits for them;
 *  - until they are made, the directory's attributes are ours
 *    (node->attrs_behind): no listing or report put the old ones back;
 *  - anything else that the sandbox sees of the directory waits for
 *    them (dattr_settle): a setattr not made this way, a name made or
 *    removed in it, its rename or rmdir, an xattr change or read that
 *    asks the sandbox, a /.ctl job,
 *    `sbx exec` in the mount, `sync`;
 *  - an xattr read that asks the sandbox waits for them too (a chmod
 *    changes an ACL's mask there; the kernel drops the ACLs it keeps at
 *    every chmod, and asks again);
 *  - one that fails is logged and counted like a failed store (store
 *    behind_errors= in .ctl/stats; the handles open then get EIO from
 *    their next flush or fsync), and the directory's attributes are asked
 *    for again.
 *
 * Counted in .ctl/stats as store dir_attrs= (changes answered so).
 */
#ifndef SBX_FS_DATTR_H
#define SBX_FS_DATTR_H

#include <stdbool.h>
#include <stdint.h>

#include "sbx/rfs.h"

struct sbx_fs;

/* Takes the setattr sa of node ino behind the caller when it may (see
 * above; cred: the caller's, NULL for the mount's owner): the node's
 * attributes are then the new ones, to reply with. false: nothing was
 * done, the caller makes it the usual way. */
bool dattr_defer(struct sbx_fs *fs, uint64_t ino, const struct sbx_rfs_setattr *sa,
		 const struct sbx_rfs_cred *cred);

/* Makes the changes of a queue item (wback.c): path is the directory's as
 * of their queueing (a rename of it waits for them). */
void dattr_apply(struct sbx_fs *fs, uint64_t ino, const char *path,
		 const struct sbx_rfs_setattr *sa);

/* Adds the changes of later to those of sa, as if made after them. */
void dattr_merge(struct sbx_rfs_setattr *sa, const struct sbx_rfs_setattr *later);

/* Waits until no change of node ino (a directory) is behind. Call before
 * sending what the sandbox would see of the directory otherwise. */
void dattr_settle(struct sbx_fs *fs, uint64_t ino);

#endif
