/* setattr.c - SETATTR: size, owner, mode, times, in that order (with
 * ACL_PLAIN, the extended access ACL is dropped before the mode).
 *
 * A size is set with truncate(2), which leaves a hole: a 1 GiB truncate
 * allocates nothing. A symlink's target is never touched. truncate and
 * chmod have no form that refuses to follow a symlink, so the path is
 * opened once with O_PATH|O_NOFOLLOW and both act on that very inode
 * through /proc/self/fd (as glibc's fchmodat does): a name swapped for a
 * symlink meanwhile cannot redirect them. Without /proc they fall back to
 * the path. On a symlink a size is -EINVAL and a mode is skipped; owner
 * and times use the forms that do not follow. Each step is the kernel's;
 * the first failure is the answer and the steps before it stay done.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ops.h"

int setattr_acl_dropped(int r)
{
	if (r == 0 || errno == ENODATA || errno == EOPNOTSUPP)
		return 0;
	return -errno;
}

bool setattr_times(const struct sbxa_setattr *s, struct timespec t[2])
{
	t[0] = t[1] = (struct timespec){.tv_nsec = UTIME_OMIT};
	if (s->valid & SBXA_SET_ATIME_NOW)
		t[0].tv_nsec = UTIME_NOW;
	else if (s->valid & SBXA_SET_ATIME)
		t[0] = (struct timespec){.tv_sec = s->atime.sec, .tv_nsec = s->atime.nsec};
	if (s->valid & SBXA_SET_MTIME_NOW)
		t[1].tv_nsec = UTIME_NOW;
	else if (s->valid & SBXA_SET_MTIME)
		t[1] = (struct timespec){.tv_sec = s->mtime.sec, .tv_nsec = s->mtime.nsec};
	return t[0].tv_nsec != UTIME_OMIT || t[1].tv_nsec != UTIME_OMIT;
}

/* size and mode on the inode fd names; path only where /proc is missing */
static int size_and_mode(int fd, const char *path, const struct sbxa_setattr *s,
			 const struct stat *st)
{
	char proc[64];
	bool has_proc;
	int r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	has_proc = access(proc, F_OK) == 0 || errno != ENOENT;
	if (s->valid & SBXA_SET_SIZE) {
		if (S_ISLNK(st->st_mode) || s->size > INT64_MAX)
			return -EINVAL;
		if (truncate(has_proc ? proc : path, (off_t)s->size) < 0)
			return -errno;
	}
	if (S_ISLNK(st->st_mode))
		return 0;
	if ((s->valid & SBXA_SET_ACL_PLAIN) &&
	    (r = setattr_acl_dropped(has_proc ? removexattr(proc, SETATTR_ACL_NAME)
					      : lremovexattr(path, SETATTR_ACL_NAME))) < 0)
		return r;
	if ((s->valid & SBXA_SET_MODE) && chmod(has_proc ? proc : path, s->mode & 07777) < 0)
		return -errno;
	return 0;
}

static int apply(int fd, const char *path, const struct sbxa_setattr *s)
{
	const struct sbxa_setattr size_only = {.valid = s->valid & SBXA_SET_SIZE, .size = s->size};
	const struct sbxa_setattr mode_only = {
	    .valid = s->valid & (SBXA_SET_MODE | SBXA_SET_ACL_PLAIN), .mode = s->mode};
	struct timespec t[2];
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	r = size_and_mode(fd, path, &size_only, &st);
	if (r < 0)
		return r;
	if ((s->valid & (SBXA_SET_UID | SBXA_SET_GID)) &&
	    fchownat(fd, "", (s->valid & SBXA_SET_UID) ? s->uid : (uid_t)-1,
		     (s->valid & SBXA_SET_GID) ? s->gid : (gid_t)-1, AT_EMPTY_PATH) < 0)
		return -errno;
	r = size_and_mode(fd, path, &mode_only, &st);
	if (r < 0)
		return r;
	if (setattr_times(s, t) && utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int op_setattr(struct agent *a, const struct agent_req *q)
{
	int fd = open(q->path, O_PATH | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = apply(fd, q->path, &q->sa);
	close(fd);
	if (r < 0)
		return r;
	return reply_lstat(a, q, q->path);
}
