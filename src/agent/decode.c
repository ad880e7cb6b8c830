/* decode.c - request payloads to struct agent_req, without system calls.
 *
 * Every read goes through proto.h's reader, which stops at the end of the
 * payload; a payload must be consumed exactly (trailing bytes are
 * malformed too). The order of the checks makes the answer stable:
 * malformed (-EPROTO) before relative path (-EINVAL).
 */
#include "req.h"

struct dec {
	struct sbxa_r r;
	bool relative;
	bool toolong;
};

static void get_cred(struct dec *d, struct agent_cred *c)
{
	uint32_t i;

	c->uid = sbxa_get_u32(&d->r);
	c->gid = sbxa_get_u32(&d->r);
	c->ngroups = sbxa_get_u32(&d->r);
	if (c->ngroups > SBXA_GROUPS_MAX) {
		d->r.err = -EPROTO;
		c->ngroups = 0;
	}
	for (i = 0; i < c->ngroups; i++)
		c->groups[i] = sbxa_get_u32(&d->r);
}

/* An absolute path (out: SBXA_LONGPATH_MAX + 1 bytes); a relative one is
 * noted (-EINVAL), and so is one too long (-ENAMETOOLONG), not malformed. */
static void get_abs(struct dec *d, char *out)
{
	struct sbxa_r peek = d->r;
	size_t n;

	if (sbxa_get_u32(&peek) > SBXA_LONGPATH_MAX && sbxa_get_str(&d->r, SIZE_MAX, &n)) {
		d->toolong = true;
		memcpy(out, "/", 2);
		return;
	}
	if (sbxa_get_path(&d->r, out, SBXA_LONGPATH_MAX, false) && out[0] != '/')
		d->relative = true;
}

static void get_name(struct dec *d, char *out)
{
	sbxa_get_path(&d->r, out, SBXA_NAME_MAX, false);
}

/* count strings into a NULL-terminated array whose bytes go to *pos. */
static char **get_strv(struct dec *d, uint32_t count, char **pos)
{
	char **v = calloc((size_t)count + 1, sizeof(*v));
	uint32_t i;
	size_t n;
	const char *s;

	if (!v) {
		d->r.err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < count && !d->r.err; i++) {
		s = sbxa_get_str(&d->r, SBXA_ARG_MAX, &n);
		if (!s || memchr(s, '\0', n)) {
			d->r.err = -EPROTO;
			break;
		}
		memcpy(*pos, s, n);
		(*pos)[n] = '\0';
		v[i] = *pos;
		*pos += n + 1;
	}
	return v;
}

static void get_job(struct dec *d, struct agent_req *q, size_t n)
{
	uint32_t argc, envc;
	char *pos;

	argc = sbxa_get_u32(&d->r);
	if (d->r.err || argc > SBXA_ARGS_MAX || argc > sbxa_r_left(&d->r) / 4) {
		d->r.err = -EPROTO;
		return;
	}
	/* every string's bytes come from the payload: n + one NUL each */
	q->strs = malloc(n + 2 * (size_t)SBXA_ARGS_MAX + 2);
	if (!q->strs) {
		d->r.err = -ENOMEM;
		return;
	}
	pos = q->strs;
	q->argv = get_strv(d, argc, &pos);
	envc = sbxa_get_u32(&d->r);
	if (d->r.err || envc > SBXA_ARGS_MAX || envc > sbxa_r_left(&d->r) / 4) {
		d->r.err = d->r.err ? d->r.err : -EPROTO;
		return;
	}
	q->envp = get_strv(d, envc, &pos);
	sbxa_get_path(&d->r, q->path, SBXA_PATH_MAX, true);
	if (!d->r.err && !q->path[0])
		memcpy(q->path, "/", 2);
	else if (!d->r.err && q->path[0] != '/')
		d->relative = true;
	q->flags = sbxa_get_u32(&d->r);
	if (!d->r.err && argc == 0)
		d->r.err = -EINVAL;
}

static void get_ops_fs(struct dec *d, struct agent_req *q)
{
	switch (q->op) {
	case SBXA_OP_READDIR:
		get_abs(d, q->path);
		q->flags = q->num = 0;
		q->len = 0;
		if (sbxa_r_left(&d->r)) { /* the optional data request */
			q->flags = sbxa_get_u32(&d->r);
			q->num = sbxa_get_u32(&d->r);
			q->len = sbxa_get_u32(&d->r);
			if (q->flags & SBXA_DIR_TREE)
				q->num2 = sbxa_get_u32(&d->r);
			if (q->flags & ~(SBXA_DIR_DATA | SBXA_DIR_TREE | SBXA_DIR_WATCH |
					 SBXA_DIR_XATTRS) ||
			    q->num > SBXA_DIR_FILE_MAX || q->len > SBXA_DIR_TOTAL_MAX ||
			    q->num2 > SBXA_TREE_MAX)
				d->r.err = -EPROTO;
		}
		break;
	case SBXA_OP_LSTAT:
	case SBXA_OP_READLINK:
	case SBXA_OP_UNLINK:
	case SBXA_OP_RMDIR:
	case SBXA_OP_STATFS:
	case SBXA_OP_WATCH: get_abs(d, q->path); break;
	case SBXA_OP_MKDIR:
		get_abs(d, q->path);
		q->mode = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_MKNOD:
		get_abs(d, q->path);
		q->mode = sbxa_get_u32(&d->r);
		q->rdev = sbxa_get_u64(&d->r);
		q->flags = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_RENAME:
		get_abs(d, q->path);
		get_abs(d, q->path2);
		q->flags = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_LINK:
		get_abs(d, q->path);
		get_abs(d, q->path2);
		break;
	case SBXA_OP_SYMLINK:
		/* the target is any string the kernel takes, relative too */
		sbxa_get_path(&d->r, q->path2, SBXA_PATH_MAX, true);
		get_abs(d, q->path);
		break;
	case SBXA_OP_SETATTR:
		get_abs(d, q->path);
		sbxa_get_setattr(&d->r, &q->sa);
		break;
	case SBXA_OP_READ:
		get_abs(d, q->path);
		q->off = sbxa_get_u64(&d->r);
		q->len = sbxa_get_u64(&d->r);
		q->flags = sbxa_get_u32(&d->r);
		sbxa_get_validator(&d->r, &q->val);
		break;
	case SBXA_OP_GETXATTR:
		get_abs(d, q->path);
		get_name(d, q->name);
		q->num = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_SETXATTR:
		get_abs(d, q->path);
		get_name(d, q->name);
		q->data = (const uint8_t *)sbxa_get_str(&d->r, SBXA_XATTR_MAX, &q->data_len);
		q->flags = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_LISTXATTR:
		get_abs(d, q->path);
		q->num = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_REMOVEXATTR:
		get_abs(d, q->path);
		get_name(d, q->name);
		break;
	default: break;
	}
}

static void get_ops_io(struct dec *d, struct agent_req *q, size_t n)
{
	switch (q->op) {
	case SBXA_OP_OPEN:
		q->handle = sbxa_get_u32(&d->r);
		get_abs(d, q->path);
		q->flags = sbxa_get_u32(&d->r);
		q->mode = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_TMPFILE:
		q->handle = sbxa_get_u32(&d->r);
		get_abs(d, q->path);
		q->mode = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_PREAD:
		q->handle = sbxa_get_u32(&d->r);
		q->off = sbxa_get_u64(&d->r);
		q->len = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_PWRITE:
		q->handle = sbxa_get_u32(&d->r);
		q->off = sbxa_get_u64(&d->r);
		q->data_len = sbxa_r_left(&d->r);
		q->data = sbxa_get_bytes(&d->r, q->data_len);
		break;
	case SBXA_OP_FSYNC:
		q->handle = sbxa_get_u32(&d->r);
		q->num = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_COMMIT:
		q->handle = sbxa_get_u32(&d->r);
		get_abs(d, q->path);
		q->len = sbxa_get_u64(&d->r);
		sbxa_get_setattr(&d->r, &q->sa);
		break;
	case SBXA_OP_CLOSE: q->handle = sbxa_get_u32(&d->r); break;
	case SBXA_OP_FTRUNCATE:
		q->handle = sbxa_get_u32(&d->r);
		q->off = sbxa_get_u64(&d->r);
		break;
	case SBXA_OP_JOB_START: get_job(d, q, n); break;
	case SBXA_OP_JOB_STDIN:
		q->num = sbxa_get_u32(&d->r);
		q->data_len = sbxa_r_left(&d->r);
		q->data = sbxa_get_bytes(&d->r, q->data_len);
		break;
	case SBXA_OP_JOB_SIGNAL:
		q->num = sbxa_get_u32(&d->r);
		q->num2 = sbxa_get_u32(&d->r);
		break;
	case SBXA_OP_UNWATCH: q->num = sbxa_get_u32(&d->r); break;
	default: get_ops_fs(d, q); break;
	}
}

static bool known_op(uint16_t type)
{
	return (type >= SBXA_OP_HELLO && type <= SBXA_OP_FTRUNCATE) ||
	       (type >= SBXA_OP_JOB_START && type <= SBXA_OP_JOB_SIGNAL) || type == SBXA_OP_WATCH ||
	       type == SBXA_OP_UNWATCH;
}

void agent_req_release(struct agent_req *q)
{
	free(q->argv);
	free(q->envp);
	free(q->strs);
	q->argv = q->envp = NULL;
	q->strs = NULL;
}

int agent_req_decode(struct agent_req *q, uint32_t id, uint16_t type, const uint8_t *p, size_t n)
{
	struct dec d = {.relative = false, .toolong = false};

	agent_req_release(q);
	q->id = id;
	q->op = type;
	q->data = NULL;
	q->data_len = 0;
	q->path[0] = q->path2[0] = q->name[0] = '\0';
	if (!known_op(type))
		return q->err = -ENOSYS;
	sbxa_r_init(&d.r, p, n);
	if (type == SBXA_OP_HELLO) {
		q->cred.uid = SBXA_ID_SELF;
		q->num = sbxa_get_u32(&d.r);
		q->num2 = sbxa_get_u32(&d.r);
	} else {
		get_cred(&d, &q->cred);
		get_ops_io(&d, q, n);
	}
	if (!d.r.err && sbxa_r_left(&d.r))
		d.r.err = -EPROTO;
	q->err = d.r.err ? d.r.err : d.relative ? -EINVAL : d.toolong ? -ENAMETOOLONG : 0;
	if (q->err)
		agent_req_release(q);
	return q->err;
}
