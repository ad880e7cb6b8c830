/* xfile_child.c - the part of xfile.h that runs in the forked child, already
 * inside the sandbox (its namespaces, its root, chrooted): one operation,
 * its JSON reply body written to the pipe, then _exit.
 *
 * Error texts are Go's (the executor this API copies is written in Go):
 * "<op> <path>: <errno text, first letter lowercased>". A child is a
 * single-threaded copy of sbxd, so malloc and stdio are safe here.
 */
#include "host/xfile_child.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/xfile.h"

#define RM_DEPTH 256

static void put_str(struct sbx_buf *b, const char *s)
{
	sbx_buf_putc(b, '"');
	sbxd_json_str_utf8(b, s, strlen(s));
	sbx_buf_putc(b, '"');
}

/* "op path: no such file or directory" */
static void go_err(struct sbx_buf *b, const char *op, const char *path, int err)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%s %s: %s", op, path, strerror(err));
	size_t at = strlen(op) + strlen(path) + 3;

	if (n > 0 && at < sizeof(msg))
		msg[at] = (char)tolower((unsigned char)msg[at]);
	put_str(b, msg);
}

static void fail(struct sbx_buf *b, bool with_success, const char *op, const char *path, int err)
{
	sbx_buf_puts(b, with_success ? "{\"success\":false,\"error\":" : "{\"error\":");
	go_err(b, op, path, err);
	sbx_buf_putc(b, '}');
}

static void do_write(struct sbx_buf *b, const char *path, const char *data, size_t len,
		     unsigned mode)
{
	/* O_NONBLOCK: a FIFO without a reader fails instead of hanging */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, mode);
	size_t off = 0;

	if (fd < 0) {
		fail(b, true, "open", path, errno);
		return;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(b, true, "write", path, n < 0 ? errno : EIO);
			close(fd);
			return;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && errno != EINTR) {
		fail(b, true, "close", path, errno);
		return;
	}
	sbx_buf_puts(b, "{\"success\":true}");
}

static void do_read(struct sbx_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct sbx_buf data = SBX_BUF_INIT;
	int err = 0;

	if (fd < 0) {
		fail(b, false, "open", path, errno);
		return;
	}
	for (;;) {
		ssize_t n;

		if (data.len > SBX_XFILE_MAX_READ) {
			err = EFBIG;
			break;
		}
		if (sbx_buf_reserve(&data, 65536) < 0) {
			err = ENOMEM;
			break;
		}
		n = read(fd, data.data + data.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno == EAGAIN ? EIO : errno;
			break;
		}
		if (n == 0)
			break;
		data.len += (size_t)n;
	}
	close(fd);
	if (err)
		fail(b, false, "read", path, err);
	else if (!data.len)
		sbx_buf_puts(b, "{}");
	else {
		sbx_buf_puts(b, "{\"content\":\"");
		sbxd_json_str_utf8(b, data.data, data.len);
		sbx_buf_puts(b, "\"}");
	}
	sbx_buf_release(&data);
}

/* os.Remove: unlink, else rmdir; the rmdir error unless it was ENOTDIR. */
static void do_delete(struct sbx_buf *b, const char *path)
{
	int e1, e2;

	if (unlink(path) == 0 || rmdir(path) == 0) {
		sbx_buf_puts(b, "{\"success\":true}");
		return;
	}
	e2 = errno;
	e1 = unlink(path) < 0 ? errno : 0;
	fail(b, true, "remove", path, e2 != ENOTDIR ? e2 : e1);
}

/* os.MkdirAll: each missing ancestor, then the path; an existing
 * directory (also through a link) is fine. */
static void do_mkdir(struct sbx_buf *b, const char *path)
{
	char *p = strdup(path);
	size_t i, n = p ? strlen(p) : 0;
	struct stat st;

	if (!p) {
		fail(b, true, "mkdir", path, ENOMEM);
		return;
	}
	for (i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (p[i - 1] == '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			fail(b, true, "mkdir", p, errno);
			free(p);
			return;
		}
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fail(b, true, "mkdir", p, ENOTDIR);
			free(p);
			return;
		}
		if (i < n)
			p[i] = '/';
	}
	free(p);
	sbx_buf_puts(b, "{\"success\":true}");
}

/* Removes name in dirfd and everything under it without following links.
 * 0 or an errno. */
static int rm_tree(int parent, const char *name, int depth)
{
	int fd, err = 0;
	DIR *dir;
	struct dirent *de;

	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return errno;
	if (depth > RM_DEPTH)
		return ELOOP;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return errno;
	}
	while (!err && (de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			err = rm_tree(dirfd(dir), de->d_name, depth + 1);
	closedir(dir);
	if (!err && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		err = errno;
	return err;
}

static void do_rmdir(struct sbx_buf *b, const char *path)
{
	int err = path[0] ? rm_tree(AT_FDCWD, path, 0) : 0;

	if (err)
		fail(b, true, "unlinkat", path, err);
	else
		sbx_buf_puts(b, "{\"success\":true}");
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_entries(struct sbx_buf *b, char **names, size_t n)
{
	if (!n) {
		sbx_buf_puts(b, "{}");
		return;
	}
	qsort(names, n, sizeof(char *), cmp_names);
	sbx_buf_puts(b, "{\"entries\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbx_buf_putc(b, ',');
		put_str(b, names[i]);
	}
	sbx_buf_puts(b, "]}");
}

static void free_names(char **names, size_t n)
{
	while (n)
		free(names[--n]);
	free(names);
}

static void do_list(struct sbx_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char **names = NULL, **nn;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int err = 0;
	DIR *dir;

	if (fd < 0) {
		fail(b, false, "open", path, errno);
		return;
	}
	dir = fdopendir(fd);
	if (!dir) {
		fail(b, false, "readdirent", path, errno);
		close(fd);
		return;
	}
	while (!err && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == SBX_XFILE_MAX_ENTRIES) {
			err = E2BIG;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(char *));
			if (!nn) {
				err = ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			err = ENOMEM;
		else
			n++;
	}
	closedir(dir);
	if (err)
		fail(b, false, "readdirent", path, err);
	else
		put_entries(b, names, n);
	free_names(names, n);
}

void sbxd_xfile_child_run(struct sbx_buf *b, int op, const char *path, const char *data, size_t len,
			  unsigned mode)
{
	struct stat st;

	umask(022);
	switch (op) {
	case SBXD_XF_WRITE: do_write(b, path, data, len, 0644); break;
	case SBXD_XF_READ: do_read(b, path); break;
	case SBXD_XF_DELETE: do_delete(b, path); break;
	case SBXD_XF_MKDIR: do_mkdir(b, path); break;
	case SBXD_XF_RMDIR: do_rmdir(b, path); break;
	case SBXD_XF_LIST: do_list(b, path); break;
	case SBXD_XF_ISDIR:
		sbx_buf_puts(b, stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? "{\"dir\":true}"
									    : "{\"dir\":false}");
		break;
	case SBXD_XF_CONFIGFILE: {
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
		struct sbx_buf ignore = SBX_BUF_INIT;

		if (slash && slash != dir) {
			*slash = '\0';
			do_mkdir(&ignore, dir);
		}
		sbx_buf_release(&ignore);
		free(dir);
		umask(0);
		do_write(b, path, data, len, mode & 07777);
		break;
	}
	}
}
