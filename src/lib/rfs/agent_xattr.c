/* agent_xattr.c - the agent transport's extended attributes: GETXATTR,
 * LISTXATTR, SETXATTR and REMOVEXATTR (src/agent/proto.h), one request
 * and one reply each, acting with the caller's credential.
 *
 * Names and values are checked against the wire's bounds before anything
 * is sent (a name past SBXA_NAME_MAX is -ERANGE, a value past
 * SBXA_XATTR_MAX -E2BIG, as the kernel answers them), so a bad argument
 * never costs a round trip.
 */
#include <errno.h>
#include <string.h>

#include "fs/errmap.h"
#include "rfs/agent.h"
#include "rfs/agent_dec.h"
#include "rfs/transport.h"

int rfs_agent_sized_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct sized_ud *u = ud;
	struct sbxa_r rd;
	uint32_t len;
	const uint8_t *d;

	(void)type, (void)flags;
	sbxa_r_init(&rd, p, n);
	sbxa_get_i32(&rd);
	len = sbxa_get_u32(&rd);
	if (rd.err || len > SBXA_XATTR_MAX)
		return -EPROTO;
	u->len = len;
	if (!u->size)
		return sbxa_r_left(&rd) ? -EPROTO : 0;
	if (len > u->size || sbxa_r_left(&rd) != len)
		return -EPROTO; /* the agent answers -ERANGE, never more than asked */
	d = sbxa_get_bytes(&rd, len);
	if (len)
		memcpy(u->buf, d, len);
	return 0;
}

static int bad_name(const char *name)
{
	size_t n = strlen(name);

	return !n ? -EINVAL : n > SBXA_NAME_MAX ? -ERANGE : 0;
}

int rfs_agent_xattr_request(struct sbxa_w *w, struct sized_ud *u, const struct sbx_rfs_cred *cred,
			    const char *path, const char *name, void *buf, size_t size)
{
	int rc = name ? bad_name(name) : 0;

	if (rc < 0)
		return rc;
	u->buf = buf;
	u->size = size > SBXA_XATTR_MAX ? SBXA_XATTR_MAX : size;
	u->len = 0;
	rfs_agent_begin_as(w, name ? SBXA_OP_GETXATTR : SBXA_OP_LISTXATTR, cred);
	sbxa_put_cstr(w, path);
	if (name)
		sbxa_put_cstr(w, name);
	sbxa_put_u32(w, (uint32_t)u->size);
	return 0;
}

/* GETXATTR (name) or LISTXATTR (name NULL) into buf. */
static int get_sized(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		     const char *name, void *buf, size_t size, size_t *ret_len, struct sbx_err *err)
{
	struct sized_ud u;
	struct agent_req q = {.on_frame = rfs_agent_sized_frame, .ud = &u};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc;

	rc = rfs_agent_xattr_request(&w, &u, cred, path, name, buf, size);
	if (rc < 0)
		return sbx_err_set(err, rc, 0, "xattr name of %zu bytes", strlen(name));
	sbx_fs_describe(what, sizeof(what), name ? "getxattr" : "listxattr", path, NULL);
	rc = rfs_agent_call(r, SBX_RFS_OP_XATTR, what, &w, &q, 0, err);
	if (rc == 0 && ret_len)
		*ret_len = u.len;
	return rc;
}

int rfs_agent_getxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		       const char *name, void *buf, size_t size, size_t *ret_len,
		       struct sbx_err *err)
{
	return get_sized(r, cred, path, name, buf, size, ret_len, err);
}

int rfs_agent_listxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			void *buf, size_t size, size_t *ret_len, struct sbx_err *err)
{
	return get_sized(r, cred, path, NULL, buf, size, ret_len, err);
}

int rfs_agent_xattr_change(struct sbxa_w *w, const struct sbx_rfs_cred *cred, const char *path,
			   const char *name, bool set, const void *value, size_t len, int flags)
{
	int rc = bad_name(name);

	if (rc == 0 && set && len > SBXA_XATTR_MAX)
		rc = -E2BIG;
	if (rc < 0)
		return rc;
	rfs_agent_begin_as(w, set ? SBXA_OP_SETXATTR : SBXA_OP_REMOVEXATTR, cred);
	sbxa_put_cstr(w, path);
	sbxa_put_cstr(w, name);
	if (set) {
		sbxa_put_str(w, value ? value : "", len);
		sbxa_put_u32(w, (uint32_t)flags);
	}
	return 0;
}

int rfs_agent_setxattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
		       const char *name, const void *value, size_t len, int flags,
		       struct sbx_err *err)
{
	struct agent_req q = {0};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc = rfs_agent_xattr_change(&w, cred, path, name, true, value, len, flags);

	if (rc < 0)
		return sbx_err_set(err, rc, 0, "setxattr: name or value too large");
	sbx_fs_describe(what, sizeof(what), "setxattr", path, NULL);
	return rfs_agent_call(r, SBX_RFS_OP_XATTR, what, &w, &q, 0, err);
}

int rfs_agent_removexattr(struct sbx_rfs *r, const struct sbx_rfs_cred *cred, const char *path,
			  const char *name, struct sbx_err *err)
{
	struct agent_req q = {0};
	struct sbxa_w w = {0};
	char what[SBX_FS_WHAT_MAX];
	int rc = rfs_agent_xattr_change(&w, cred, path, name, false, NULL, 0, 0);

	if (rc < 0)
		return sbx_err_set(err, rc, 0, "removexattr: bad name");
	sbx_fs_describe(what, sizeof(what), "removexattr", path, NULL);
	return rfs_agent_call(r, SBX_RFS_OP_XATTR, what, &w, &q, 0, err);
}
