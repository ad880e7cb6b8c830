/* cred.c - the credential of a FUSE request (see cred.h). */
#include "fs/cred.h"

#include <string.h>

const struct sbx_rfs_cred *fs_cred_pick(uid_t owner, uid_t uid, gid_t gid, const gid_t *groups,
					int n, struct sbx_rfs_cred *out)
{
	int i;

	if (uid == owner)
		return NULL;
	memset(out, 0, sizeof(*out));
	out->uid = (uint32_t)uid;
	out->gid = (uint32_t)gid;
	for (i = 0; groups && i < n && out->ngroups < SBX_RFS_GROUPS_MAX; i++)
		out->groups[out->ngroups++] = (uint32_t)groups[i];
	return out;
}

const struct sbx_rfs_cred *fs_cred_of(fuse_req_t req, uid_t owner, struct sbx_rfs_cred *out)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	gid_t g[SBX_RFS_GROUPS_MAX];
	int n;

	if (c->uid == owner)
		return NULL;
	/* from /proc/PID/status; a caller gone or a kernel without it: no
	 * supplementary groups (less permission, never more) */
	n = fuse_req_getgroups(req, SBX_RFS_GROUPS_MAX, g);
	if (n < 0)
		n = 0;
	return fs_cred_pick(owner, c->uid, c->gid, g,
			    n < SBX_RFS_GROUPS_MAX ? n : SBX_RFS_GROUPS_MAX, out);
}
