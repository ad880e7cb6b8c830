/* statedir.c - the state directory rule and small file helpers. */
#include "util/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
