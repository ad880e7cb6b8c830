/* statedir.c - the state directory rule and small file helpers. */
#include "util/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/rand.h"

int sbx_state_dir(struct sbx_buf *out)
{
	const char *v = getenv("SBX_STATE_DIR");

	if (v && *v)
		return sbx_buf_puts(out, v);
	v = getenv("XDG_STATE_HOME");
	if (v && *v == '/')
		return sbx_buf_printf(out, "%s/sbx", v);
	v = getenv("HOME");
	if (v && *v == '/')
		return sbx_buf_printf(out, "%s/.local/state/sbx", strcmp(v, "/") ? v : "");
	return -ENOENT;
}

int sbx_mkdir_p(const char *path, unsigned mode)
{
	struct sbx_buf b = SBX_BUF_INIT;
	size_t i;
	int r;

	r = sbx_buf_puts(&b, path);
	if (r < 0)
		return r;
	for (i = 1; i <= b.len; i++) {
		if (b.data[i] != '/' && b.data[i] != '\0')
			continue;
		b.data[i] = '\0';
		if (mkdir(b.data, mode) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		if (i < b.len)
			b.data[i] = '/';
	}
	sbx_buf_release(&b);
	return r;
}

int sbx_read_small_file(const char *path, size_t max, struct sbx_buf *out)
{
	char chunk[4096];
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			r = -EFBIG;
			break;
		}
		r = sbx_buf_append(out, chunk, (size_t)n);
		if (r < 0)
			break;
	}
	close(fd);
	return r;
}

int sbx_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* owned by us, and nobody else may read or write it */
static bool private_mode(const struct stat *st)
{
	return st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}

int sbx_private_dir_open(const char *dir, bool create)
{
	struct stat st;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		r = sbx_mkdir_p(dir, 0700);
		if (r < 0)
			return r;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
	if (fstat(fd, &st) < 0 || !private_mode(&st)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int sbx_private_file_read(int dirfd, const char *name, size_t max, struct sbx_buf *out)
{
	char chunk[4096];
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !private_mode(&st))
		r = -EPERM;
	else if ((uint64_t)st.st_size > max)
		r = -EFBIG;
	while (r == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else if (out->len + (size_t)n > max)
			r = -EFBIG;
		else
			r = sbx_buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	return r;
}

int sbx_private_file_write(int dirfd, const char *name, const void *p, size_t n)
{
	char tmp[256], hex[9];
	int fd, r;

	if (sbx_rand_hex(hex, 4) < 0)
		return -EIO;
	r = snprintf(tmp, sizeof(tmp), ".%s.%s.tmp", name, hex);
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = sbx_write_all(fd, p, n);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}
