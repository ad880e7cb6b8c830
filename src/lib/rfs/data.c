/* data.c - file content between a local descriptor and the sandbox.
 *
 * fetch streams `cat` of the remote file into the descriptor as it arrives
 * (on the transport thread, with pwrite at a running offset), behind a small
 * header with the attributes and the validator; store streams the
 * descriptor as the session's stdin into `cat > TMP && mv TMP PATH` (or
 * `cat > PATH` in place). Neither holds a whole file in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/errmap.h"
#include "rfs/call.h"
#include "rfs/parse.h"
#include "rfs/scripts.h"
#include "util/rand.h"

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

int sbx_rfs_fetch(struct sbx_rfs *r, const char *path, int fd, const char *validator,
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

int sbx_rfs_read_range(struct sbx_rfs *r, const char *path, uint64_t off, uint64_t len, int fd,
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

int sbx_rfs_store(struct sbx_rfs *r, const char *path, int fd, uint64_t len,
		  const struct sbx_rfs_store_opts *o, struct sbx_rfs_attr *ret, char *ret_validator,
		  struct sbx_err *err)
{
	struct sbx_buf s = SBX_BUF_INIT;
	char what[SBX_FS_WHAT_MAX], suffix[17];
	const char *p, *attr, *val;
	struct sbx_rfs_attr a;
	struct rfs_call c;
	size_t n, alen, vlen;
	int rc;

	sbx_fs_describe(what, sizeof(what), "write", path, NULL);
	rc = sbx_rand_hex(suffix, 8);
	if (rc == 0)
		rc = sbx_rfs_script_store(&s, path, o, suffix);
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
	if (rc == 0) {
		p = c.out.data ? c.out.data : "";
		n = c.out.len;
		if (!sbx_rfs_next_field(&p, &n, &attr, &alen) ||
		    !sbx_rfs_next_field(&p, &n, &val, &vlen) || n != 0 ||
		    vlen >= SBX_RFS_VALIDATOR_MAX || sbx_rfs_parse_attr(attr, alen, &a) < 0) {
			rc = sbx_err_set(err, -SBX_EPROTO, 0, "%s: unexpected output", what);
		} else {
			if (ret)
				*ret = a;
			if (ret_validator) {
				memcpy(ret_validator, val, vlen);
				ret_validator[vlen] = '\0';
			}
		}
	}
	rfs_call_release(&c);
out:
	sbx_buf_release(&s);
	return rc;
}
