/* data.c - file content between a local descriptor and the sandbox.
 *
 * fetch streams `cat` of the remote file into the descriptor as it arrives
 * (on the transport thread, with pwrite at a running offset), behind a small
 * header with the attributes and the validator; store streams the
 * descriptor as the session's stdin into the guarded store of fs/store.h
 * (a temporary renamed over PATH only when its length and SHA-256 match),
 * or `cat > PATH` in place. Neither holds a whole file in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "rfs/call.h"
#include "rfs/shell.h"
#include "rfs/parse.h"
#include "rfs/scripts.h"
#include "rfs/transport.h"
#include "util/log.h"

/* pwrite all of d[0..n) at *off, advancing it. */
static int put_all(int fd, uint64_t *off, const char *d, size_t n)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, d, n, (off_t)*off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		d += w;
		n -= (size_t)w;
		*off += (uint64_t)w;
	}
	return 0;
}

struct fetch_ctx {
	struct sbx_rfs_fetchp p;
	int fd;
	uint64_t off;
};

static int fetch_content(void *ud, const char *d, size_t n)
{
	struct fetch_ctx *f = ud;

	return put_all(f->fd, &f->off, d, n);
}

static int fetch_sink(void *ud, const char *d, size_t n)
{
	struct fetch_ctx *f = ud;

	return sbx_rfs_fetchp_feed(&f->p, d, n, fetch_content, f);
}

int rfs_shell_fetch(struct sbx_rfs *r, const char *path, int fd, const char *validator,
		    uint64_t size_hint, bool *ret_unchanged, uint64_t *ret_len,
		    struct sbx_rfs_attr *ret_attr, char *ret_validator, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct fetch_ctx f = {.fd = fd};
	char what[SBX_FS_WHAT_MAX];
	struct rfs_call c;
	struct sbx_rfs_attr a;
	bool unchanged = false;
	int rc;

	sbx_fs_describe(what, sizeof(what), "read", path, NULL);
	rc = sbx_rfs_script_fetch(&s, path, validator);
	if (rc < 0) {
		rfs_count_local_failure(r, SBX_RFS_OP_FETCH);
		rc = sbx_err_set(err, rc, 0, "%s: %s", what, strerror(-rc));
		goto out;
	}
	sbx_rfs_fetchp_init(&f.p);
	rfs_call_init(&c, r, SBX_RFS_OP_FETCH, what, s.data);
	c.sink = fetch_sink;
	c.sink_ud = &f;
	c.xfer_len = size_hint;
	rc = rfs_call_run(&c, err);
	rfs_call_release(&c);
	if (rc == 0 && sbx_rfs_fetchp_finish(&f.p, &a, ret_validator, &unchanged) < 0)
		rc = sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output", what);
	if (rc < 0)
		goto out;
	if (ret_attr)
		*ret_attr = a;
	if (ret_unchanged)
		*ret_unchanged = unchanged;
	if (ret_len)
		*ret_len = f.off;
out:
	sbx_buf_release(&s);
	return rc;
}

struct range_ctx {
	int fd;
	uint64_t off, n, max;
};

static int range_sink(void *ud, const char *d, size_t n)
{
	struct range_ctx *g = ud;

	if (g->n + n > g->max)
		return -EPROTO;
	g->n += n;
	return put_all(g->fd, &g->off, d, n);
}

int rfs_shell_read_range(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			 uint64_t fd_off, uint64_t *ret_n, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct range_ctx g = {.fd = fd, .off = fd_off, .max = len};
	char what[SBX_FS_WHAT_MAX];
	struct rfs_call c;
	int rc;

	sbx_fs_describe(what, sizeof(what), "read", path, NULL);
	rc = sbx_rfs_script_read_range(&s, path, off, len);
	if (rc < 0) {
		rfs_count_local_failure(r, SBX_RFS_OP_READ_RANGE);
		rc = sbx_err_set(err, rc, 0, "%s: %s", what, strerror(-rc));
		goto out;
	}
	rfs_call_init(&c, r, SBX_RFS_OP_READ_RANGE, what, s.data);
	c.sink = range_sink;
	c.sink_ud = &g;
	c.xfer_len = len;
	rc = rfs_call_run(&c, err);
	rfs_call_release(&c);
	if (rc == 0 && ret_n)
		*ret_n = g.n;
out:
	sbx_buf_release(&s);
	return rc;
}

int rfs_shell_read_start(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
			 uint64_t fd_off, struct sbx_rfs_pread **ret, struct sbx_err *err)
{
	struct sbx_rfs_pread *p = calloc(1, sizeof(*p));

	if (!p)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	p->tp = &rfs_shell_transport;
	p->rc = rfs_shell_read_range(r, path, off, len, fd, fd_off, &p->n, &p->err);
	*ret = p;
	return 0;
}

int rfs_shell_read_finish(struct sbx_rfs_pread *p, uint64_t *ret_n, struct sbx_rfs_attr *ret_attr,
			  struct sbx_err *err)
{
	int rc = p->rc;

	if (rc < 0 && err)
		*err = p->err;
	if (rc == 0 && ret_n)
		*ret_n = p->n;
	if (rc == 0 && ret_attr)
		memset(ret_attr, 0, sizeof(*ret_attr)); /* the shell does not say */
	free(p);
	return rc;
}

/* Parses the store's output: attributes, validator, what was checked. */
static int store_parse(const struct rfs_call *c, struct sbx_rfs_attr *a, char *ret_validator,
		       bool *ret_sha)
{
	const char *p = c->out.data ? c->out.data : "", *attr, *val, *chk;
	size_t n = c->out.len, alen, vlen, clen;

	if (!sbx_rfs_next_field(&p, &n, &attr, &alen) || !sbx_rfs_next_field(&p, &n, &val, &vlen) ||
	    !sbx_rfs_next_field(&p, &n, &chk, &clen) || n != 0 || vlen >= SBX_RFS_VALIDATOR_MAX ||
	    sbx_rfs_parse_attr(attr, alen, a) < 0)
		return -SBX_EPROTO;
	if (ret_validator) {
		memcpy(ret_validator, val, vlen);
		ret_validator[vlen] = '\0';
	}
	*ret_sha = clen == 6 && !memcmp(chk, "sha256", 6);
	return 0;
}

int rfs_shell_store(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
		    const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret,
		    char *ret_validator, struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_fs_store_check chk = {0};
	char what[SBX_FS_WHAT_MAX];
	struct sbx_rfs_attr a;
	struct rfs_call c;
	bool sha = false;
	int rc;

	sbx_fs_describe(what, sizeof(what), "write", path, NULL);
	/* the digest is taken before the session: what the sandbox checks is
	 * exactly what the descriptor held when the store began */
	rc = sbx_fs_store_suffix(&chk) ?: sbx_fs_store_digest_fd(&chk, fd, len);
	if (rc == 0)
		rc = sbx_rfs_script_store(&s, path, o, &chk);
	if (rc < 0) {
		rfs_count_local_failure(r, SBX_RFS_OP_STORE);
		rc = sbx_err_set(err, rc, 0, "%s: %s", what, strerror(-rc));
		goto out;
	}
	rfs_call_init(&c, r, SBX_RFS_OP_STORE, what, s.data);
	c.in_fd = fd;
	c.in_len = len;
	c.xfer_len = len;
	rc = rfs_call_run(&c, err);
	if (rc == 0 && store_parse(&c, &a, ret_validator, &sha) < 0)
		rc = sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output", what);
	if (rc == 0 && ret)
		*ret = a;
	if (rc == 0 && !sha)
		sbx_debug("rfs store %s: no sha256sum in the sandbox, length checked only", what);
	rfs_call_release(&c);
out:
	sbx_buf_release(&s);
	return rc;
}
