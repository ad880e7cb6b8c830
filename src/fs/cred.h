/* cred.h - whose ids a FUSE request acts with in the sandbox.
 *
 * The mount shows the sandbox's own uids and gids (what the sandbox's
 * kernel reports, unmapped), so a host user acts in the sandbox under the
 * same number: host uid 1000 is sandbox uid 1000, its gid and
 * supplementary groups likewise. The one exception is the mount's owner
 * (the uid that ran sbxfs): its requests act with the transport's own ids
 * (the sandbox user the agent runs as, usually the sandbox's root), as
 * every request did before credentials existed, so the owner can still do
 * anything that user can. Other users exist only with allow_other, and
 * then default_permissions makes the host kernel check their access to
 * the cached attributes first; the sandbox's kernel checks the rest
 * (ownership of new files, sticky directories, chown, utimes) with their
 * ids. Groups past SBX_RFS_GROUPS_MAX are left out (a request can only
 * lose a permission by it, never gain one). An id the sandbox's user
 * namespace does not map (sbxd maps 0..65535) is refused there: EPERM.
 *
 * fs_cred_pick() is the pure decision, unit-tested alone; fs_cred_of()
 * applies it to a request.
 */
#ifndef SBX_FS_CRED_H
#define SBX_FS_CRED_H

#include <sys/types.h>

#include "fs/fuse_inc.h"
#include "sbx/rfs.h"

/* The credential for a caller (uid, gid and n groups): NULL for the
 * owner (the transport's own ids), else out, filled. */
const struct sbx_rfs_cred *fs_cred_pick(uid_t owner, uid_t uid, gid_t gid, const gid_t *groups,
					int n, struct sbx_rfs_cred *out);

/* The credential of req's caller (fuse_req_ctx, fuse_req_getgroups):
 * NULL for the mount's owner, else out. */
const struct sbx_rfs_cred *fs_cred_of(fuse_req_t req, uid_t owner, struct sbx_rfs_cred *out);

#endif
