/* parse.c - parsers of the rfs scripts' output; see parse.h.
 *
 * Numbers are parsed by hand (no strtoull on unterminated input) and each is
 * bounded by its type; a field out of range is -EPROTO, never a wrap.
 */
#include "rfs/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NSEC_PER_SEC 1000000000L

/* Unsigned decimal (base 10) or octal (base 8) of exactly n bytes. */
static int parse_u64(const char *s, size_t n, unsigned base, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 22)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d >= base || v > (UINT64_MAX - d) / base)
			return -EPROTO;
		v = v * base + d;
	}
	*ret = v;
	return 0;
}

int sbx_rfs_parse_time(const char *s, size_t n, struct timespec *ret)
{
	const char *dot = memchr(s, '.', n);
	size_t ilen = dot ? (size_t)(dot - s) : n, i;
	bool neg = n > 0 && s[0] == '-';
	uint64_t sec;
	long nsec = 0, scale = NSEC_PER_SEC / 10;

	if (neg) {
		s++;
		n--;
		ilen--;
	}
	if (parse_u64(s, ilen, 10, &sec) < 0 || sec > (uint64_t)INT64_MAX / 2)
		return -EPROTO;
	for (i = ilen + 1; dot && i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9)
			return -EPROTO;
		nsec += (long)d * scale;
		scale /= 10;
	}
	if (dot && ilen + 1 == n)
		return -EPROTO;
	ret->tv_sec = neg ? -(time_t)sec : (time_t)sec;
	ret->tv_nsec = nsec;
	if (neg && nsec) {
		ret->tv_sec -= 1;
		ret->tv_nsec = NSEC_PER_SEC - nsec;
	}
	return 0;
}

static uint32_t type_bits(char y)
{
	switch (y) {
	case 'f': return S_IFREG;
	case 'd': return S_IFDIR;
	case 'l': return S_IFLNK;
	case 'p': return S_IFIFO;
	case 's': return S_IFSOCK;
	case 'c': return S_IFCHR;
	case 'b': return S_IFBLK;
	default: return 0;
	}
}

/* Next space-separated token of [*p, end). */
static bool token(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p, *sp;

	if (s >= end)
		return false;
	sp = memchr(s, ' ', (size_t)(end - s));
	*ret = s;
	*ret_len = sp ? (size_t)(sp - s) : (size_t)(end - s);
	*p = sp ? sp + 1 : end;
	return *ret_len > 0;
}

int sbx_rfs_parse_attr(const char *s, size_t n, struct sbx_rfs_attr *ret)
{
	const char *p = s, *end = s + n, *t;
	struct sbx_rfs_attr a = {0};
	uint64_t v[8];
	size_t len;
	int i;

	if (!token(&p, end, &t, &len) || len != 1 || !(a.mode = type_bits(t[0])))
		return -EPROTO;
	for (i = 0; i < 8; i++) {
		if (!token(&p, end, &t, &len) || parse_u64(t, len, i == 0 ? 8 : 10, &v[i]) < 0)
			return -EPROTO;
	}
	if (v[0] > 07777 || v[1] > UINT32_MAX || v[2] > UINT32_MAX || v[3] > UINT32_MAX ||
	    v[4] > (uint64_t)INT64_MAX)
		return -EPROTO;
	a.mode |= (uint32_t)v[0];
	a.nlink = (uint32_t)v[1];
	a.uid = (uint32_t)v[2];
	a.gid = (uint32_t)v[3];
	a.size = v[4];
	a.blocks = v[5];
	a.ino = v[6];
	a.dev = v[7];
	if (!token(&p, end, &t, &len) || sbx_rfs_parse_time(t, len, &a.atime) < 0 ||
	    !token(&p, end, &t, &len) || sbx_rfs_parse_time(t, len, &a.mtime) < 0 ||
	    !token(&p, end, &t, &len) || sbx_rfs_parse_time(t, len, &a.ctime) < 0 || p != end)
		return -EPROTO;
	*ret = a;
	return 0;
}

bool sbx_rfs_next_field(const char **p, size_t *n, const char **ret, size_t *ret_len)
{
	const char *nul = *n ? memchr(*p, '\0', *n) : NULL;
	size_t len;

	if (!nul)
		return false;
	len = (size_t)(nul - *p);
	*ret = *p;
	*ret_len = len;
	*p += len + 1;
	*n -= len + 1;
	return true;
}

void sbx_rfs_dir_release(struct sbx_rfs_dir *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->ents[i].name);
		free(d->ents[i].link);
		free(d->ents[i].data);
		free(d->ents[i].xattrs);
	}
	free(d->ents);
	d->ents = NULL;
	d->n = 0;
}

/* Appends one entry; takes nothing on failure. */
static int dir_add(struct sbx_rfs_dir *d, size_t *cap, const char *name, size_t nlen,
		   const char *link, size_t llen, const struct sbx_rfs_attr *a)
{
	struct sbx_rfs_dirent *e;

	if (d->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;

		e = realloc(d->ents, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		d->ents = e;
		*cap = ncap;
	}
	e = &d->ents[d->n];
	memset(e, 0, sizeof(*e));
	e->attr = *a;
	e->name = strndup(name, nlen);
	if (e->name && S_ISLNK(a->mode))
		e->link = strndup(link, llen);
	if (!e->name || (S_ISLNK(a->mode) && !e->link)) {
		free(e->name);
		return -ENOMEM;
	}
	d->n++;
	return 0;
}

int sbx_rfs_parse_dir(const char *data, size_t n, struct sbx_rfs_dir *ret)
{
	struct sbx_rfs_dir d = {0};
	const char *p = data, *name, *attr, *link;
	size_t nlen, alen, llen, cap = 0;
	struct sbx_rfs_attr a;
	bool have_self = false;
	int r = 0;

	while (n > 0) {
		if (!sbx_rfs_next_field(&p, &n, &name, &nlen) ||
		    !sbx_rfs_next_field(&p, &n, &attr, &alen) ||
		    !sbx_rfs_next_field(&p, &n, &link, &llen) ||
		    sbx_rfs_parse_attr(attr, alen, &a) < 0) {
			r = -EPROTO;
			goto out;
		}
		if (nlen == 0) {
			if (have_self) {
				r = -EPROTO;
				goto out;
			}
			have_self = true;
			d.self = a;
			continue;
		}
		if (memchr(name, '/', nlen) || (nlen == 1 && name[0] == '.') ||
		    (nlen == 2 && name[0] == '.' && name[1] == '.')) {
			r = -EPROTO;
			goto out;
		}
		if (d.n >= SBX_RFS_DIR_MAX) {
			r = -EFBIG;
			goto out;
		}
		r = dir_add(&d, &cap, name, nlen, link, llen, &a);
		if (r < 0)
			goto out;
	}
	if (!have_self)
		r = -EPROTO;
	else if (!S_ISDIR(d.self.mode))
		r = -ENOTDIR;
out:
	if (r < 0)
		sbx_rfs_dir_release(&d);
	else
		*ret = d;
	return r;
}

int sbx_rfs_parse_statfs(const char *s, size_t n, struct statvfs *ret)
{
	const char *p = s, *end = s + n, *t;
	struct statvfs st;
	uint64_t v[7];
	size_t len;
	int i;

	while (end > p && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (i = 0; i < 7; i++)
		if (!token(&p, end, &t, &len) || parse_u64(t, len, 10, &v[i]) < 0)
			return -EPROTO;
	if (p != end || v[0] == 0 || v[0] > (1u << 30))
		return -EPROTO;
	memset(&st, 0, sizeof(st));
	st.f_bsize = st.f_frsize = (unsigned long)v[0];
	st.f_blocks = (fsblkcnt_t)v[1];
	st.f_bfree = (fsblkcnt_t)v[2];
	st.f_bavail = (fsblkcnt_t)v[3];
	st.f_files = (fsfilcnt_t)v[4];
	st.f_ffree = st.f_favail = (fsfilcnt_t)v[5];
	st.f_namemax = (unsigned long)v[6];
	*ret = st;
	return 0;
}

void sbx_rfs_fetchp_init(struct sbx_rfs_fetchp *p)
{
	memset(p, 0, sizeof(*p));
}

int sbx_rfs_fetchp_feed(struct sbx_rfs_fetchp *p, const char *d, size_t n,
			int (*sink)(void *ud, const char *d, size_t n), void *ud)
{
	while (n > 0 && p->state == 0) {
		if (p->fields == 2) {
			if (d[0] == 'U')
				p->state = 1;
			else if (d[0] == 'C')
				p->state = 2;
			else
				p->state = -1;
			d++;
			n--;
			break;
		}
		if (p->hdr_len == sizeof(p->hdr)) {
			p->state = -1;
			break;
		}
		if (d[0] == '\0')
			p->fields++;
		p->hdr[p->hdr_len++] = d[0];
		d++;
		n--;
	}
	if (p->state < 0 || (p->state == 1 && n > 0)) {
		p->state = -1;
		return -EPROTO;
	}
	if (p->state == 2 && n > 0) {
		int r = sink(ud, d, n);

		if (r < 0)
			return r;
		p->content_len += n;
	}
	return 0;
}

int sbx_rfs_fetchp_finish(const struct sbx_rfs_fetchp *p, struct sbx_rfs_attr *ret_attr,
			  char *ret_validator, bool *ret_unchanged)
{
	const char *q = p->hdr, *attr, *val;
	size_t n = p->hdr_len, alen, vlen;
	struct sbx_rfs_attr a;

	if (p->state != 1 && p->state != 2)
		return -EPROTO;
	if (!sbx_rfs_next_field(&q, &n, &attr, &alen) || !sbx_rfs_next_field(&q, &n, &val, &vlen) ||
	    vlen >= SBX_RFS_VALIDATOR_MAX || sbx_rfs_parse_attr(attr, alen, &a) < 0)
		return -EPROTO;
	if (ret_attr)
		*ret_attr = a;
	if (ret_validator) {
		memcpy(ret_validator, val, vlen);
		ret_validator[vlen] = '\0';
	}
	if (ret_unchanged)
		*ret_unchanged = p->state == 1;
	return 0;
}
