/* longpath.c - long absolute paths in steps (see longpath.h). */
#include <fcntl.h>
#include <unistd.h>

#include "longpath.h"

int longpath_at(const char *path, int *ret_fd, const char **rest)
{
	char step[LONGPATH_STEP + 1];
	const char *p = path;
	int fd = AT_FDCWD, nfd;
	size_t k;

	*rest = path;
	while (strlen(p) > LONGPATH_STEP) {
		for (k = LONGPATH_STEP; k > 0 && p[k] != '/'; k--)
			;
		if (k == 0) {
			nfd = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(step, p, k);
		step[k] = '\0';
		nfd = openat(fd, step, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0) {
			nfd = -errno;
			goto fail;
		}
		if (fd >= 0)
			close(fd);
		fd = nfd;
		for (p += k; *p == '/'; p++)
			;
	}
	*rest = p;
	*ret_fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return nfd;
}

/* The ops that act on q->path alone and keep nothing of it for later
 * requests that would not resolve it again the same way. */
static bool one_path_op(uint16_t op)
{
	switch (op) {
	case SBXA_OP_LSTAT:
	case SBXA_OP_READDIR:
	case SBXA_OP_READLINK:
	case SBXA_OP_MKDIR:
	case SBXA_OP_MKNOD:
	case SBXA_OP_UNLINK:
	case SBXA_OP_RMDIR:
	case SBXA_OP_SYMLINK:
	case SBXA_OP_SETATTR:
	case SBXA_OP_STATFS:
	case SBXA_OP_OPEN:
	case SBXA_OP_TMPFILE:
	case SBXA_OP_COMMIT:
	case SBXA_OP_READ:
	case SBXA_OP_GETXATTR:
	case SBXA_OP_SETXATTR:
	case SBXA_OP_LISTXATTR:
	case SBXA_OP_REMOVEXATTR: return true;
	default: return false;
	}
}

int longpath_enter(struct agent_req *q, bool *entered)
{
	const char *rest;
	int fd, r = 0;

	*entered = false;
	if (!one_path_op(q->op) || strlen(q->path) <= LONGPATH_STEP)
		return 0;
	r = longpath_at(q->path, &fd, &rest);
	if (r < 0)
		return r;
	if (fchdir(fd) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	*entered = true;
	/* "./" keeps a '/' in it for the ops that split off a directory */
	memmove(q->path + 2, rest, strlen(rest) + 1);
	memcpy(q->path, "./", 2);
	return 0;
}

void longpath_leave(void)
{
	/* "/" always exists and is searchable by the agent's own ids */
	if (chdir("/") < 0)
		return;
}
