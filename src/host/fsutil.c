/* fsutil.c - see fsutil.h. */
#include "host/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/statedir.h"

int sbxd_write_atomic(const char *path, const void *data, size_t n, mode_t mode)
{
	struct sbx_buf tmp = SBX_BUF_INIT;
	int fd = -1, r;

	r = sbx_buf_printf(&tmp, "%s.tmp.%d", path, (int)getpid());
	if (r < 0)
		return r;
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto out;
	}
	r = sbx_write_all(fd, data, n);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0 && rename(tmp.data, path) < 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp.data);
	sbx_buf_release(&tmp);
	return r;
}

int sbxd_pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}
