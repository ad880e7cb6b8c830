/* xattr.c - extended attributes of a path, never through a symlink (the
 * l* calls). Sizes above SBXA_XATTR_MAX are cut to it, which is also the
 * kernel's own limit for one value or list. */
#include <sys/xattr.h>

#include "ops.h"

/* Queues "u32 len, bytes" from get (size 0: the length only). */
static int reply_sized(struct agent *a, const struct agent_req *q, uint32_t size, bool list)
{
	size_t at = out_reply(&a->out, q->id, q->op, 0);
	size_t lenat = a->out.w.len;
	uint8_t *buf;
	ssize_t n;

	if (size > SBXA_XATTR_MAX)
		size = SBXA_XATTR_MAX;
	sbxa_put_u32(&a->out.w, 0);
	buf = size ? sbxa_w_room(&a->out.w, size) : NULL;
	if (a->out.w.err)
		return a->out.w.err;
	if (list)
		n = llistxattr(q->path, (char *)buf, size);
	else
		n = lgetxattr(q->path, q->name, buf, size);
	if (n < 0) {
		n = -errno;
		a->out.w.len = at; /* take the frame back */
		return (int)n;
	}
	a->out.w.len = lenat + 4 + (size ? (size_t)n : 0);
	a->out.w.p[lenat] = (uint8_t)n;
	a->out.w.p[lenat + 1] = (uint8_t)(n >> 8);
	a->out.w.p[lenat + 2] = (uint8_t)(n >> 16);
	a->out.w.p[lenat + 3] = (uint8_t)(n >> 24);
	out_end(&a->out, at);
	return 0;
}

int op_getxattr(struct agent *a, const struct agent_req *q)
{
	return reply_sized(a, q, q->num, false);
}

int op_listxattr(struct agent *a, const struct agent_req *q)
{
	return reply_sized(a, q, q->num, true);
}

int op_setxattr(struct agent *a, const struct agent_req *q)
{
	if (lsetxattr(q->path, q->name, q->data, q->data_len, (int)q->flags) < 0)
		return -errno;
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}

int op_removexattr(struct agent *a, const struct agent_req *q)
{
	if (lremovexattr(q->path, q->name) < 0)
		return -errno;
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}
