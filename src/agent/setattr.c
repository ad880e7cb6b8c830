/* setattr.c - SETATTR: size, owner, mode, times, in that order.
 *
 * A size is set with truncate(2), which leaves a hole: a 1 GiB truncate
 * allocates nothing. A symlink's target is never touched: truncate and
 * chmod follow symlinks, so both are refused (-EINVAL) or skipped (mode)
 * on one; owner and times use the l- and AT_SYMLINK_NOFOLLOW forms.
 * Each step is the kernel's; the first failure is the answer and the
 * steps before it stay done.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"

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

int op_setattr(struct agent *a, const struct agent_req *q)
{
	const struct sbxa_setattr *s = &q->sa;
	struct timespec t[2];
	struct stat st;

	if (lstat(q->path, &st) < 0)
		return -errno;
	if (s->valid & SBXA_SET_SIZE) {
		if (S_ISLNK(st.st_mode) || s->size > INT64_MAX)
			return -EINVAL;
		if (truncate(q->path, (off_t)s->size) < 0)
			return -errno;
	}
	if (s->valid & (SBXA_SET_UID | SBXA_SET_GID)) {
		if (lchown(q->path, (s->valid & SBXA_SET_UID) ? s->uid : (uid_t)-1,
			   (s->valid & SBXA_SET_GID) ? s->gid : (gid_t)-1) < 0)
			return -errno;
	}
	if ((s->valid & SBXA_SET_MODE) && !S_ISLNK(st.st_mode)) {
		if (chmod(q->path, s->mode & 07777) < 0)
			return -errno;
	}
	if (setattr_times(s, t) && utimensat(AT_FDCWD, q->path, t, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return reply_lstat(a, q, q->path);
}
