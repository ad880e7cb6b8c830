/* fsops.c - the path operations that are one system call each.
 *
 * Each answers with the kernel's own errno. Operations that create a name
 * answer with its attributes, taken with lstat after the fact. Nothing
 * here follows a symlink in the last component of a path.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "longpath.h"
#include "ops.h"

int reply_lstat(struct agent *a, const struct agent_req *q, const char *path)
{
	return reply_lstat_at(a, q, AT_FDCWD, path);
}

int reply_lstat_at(struct agent *a, const struct agent_req *q, int dirfd, const char *path)
{
	struct stat st;
	size_t at;

	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	at = out_reply(&a->out, q->id, q->op, 0);
	out_put_stat(&a->out, &st);
	out_end(&a->out, at);
	return 0;
}

int op_lstat(struct agent *a, const struct agent_req *q)
{
	return reply_lstat(a, q, q->path);
}

int op_readlink(struct agent *a, const struct agent_req *q)
{
	char buf[SBXA_PATH_MAX + 1];
	ssize_t n = readlink(q->path, buf, sizeof(buf));
	size_t at;

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	at = out_reply(&a->out, q->id, q->op, 0);
	sbxa_put_str(&a->out.w, buf, (size_t)n);
	out_end(&a->out, at);
	return 0;
}

/* The attributes of path's parent directory ("." for a bare name, "/"
 * for a name at the root), or all zero (mode 0) when they cannot be had. */
static void put_parent_stat(struct agent *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[SBXA_PATH_MAX + 1];
	struct stat st;
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (n == 0)
		snprintf(dir, sizeof(dir), "/");
	else if (n <= SBXA_PATH_MAX)
		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
	if ((slash && n > SBXA_PATH_MAX) || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		memset(&st, 0, sizeof(st));
	out_put_stat(&a->out, &st);
}

/* MKDIR answers the new directory's attributes, then its parent's (whose
 * link count and times moved), so that a client need not ask for them. */
int op_mkdir(struct agent *a, const struct agent_req *q)
{
	struct stat st;
	size_t at;

	if (mkdir(q->path, q->mode & 07777) < 0)
		return -errno;
	if (lstat(q->path, &st) < 0)
		return -errno;
	at = out_reply(&a->out, q->id, q->op, 0);
	out_put_stat(&a->out, &st);
	put_parent_stat(a, q->path);
	out_end(&a->out, at);
	return 0;
}

/* A regular file: mknod(S_IFREG) is open(O_CREAT|O_EXCL) without opening
 * (so no read permission is needed and nothing blocks). Without
 * SBXA_MKNOD_EXCL an existing regular file is kept as it is. */
static int mknod_reg(struct agent *a, const struct agent_req *q)
{
	struct stat st;

	if (mknod(q->path, S_IFREG | (q->mode & 07777), 0) == 0)
		return reply_lstat(a, q, q->path);
	if (errno != EEXIST || (q->flags & SBXA_MKNOD_EXCL))
		return -errno;
	if (lstat(q->path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EEXIST;
	return reply_lstat(a, q, q->path);
}

int op_mknod(struct agent *a, const struct agent_req *q)
{
	mode_t type = q->mode & S_IFMT;

	if (q->flags & ~SBXA_MKNOD_EXCL)
		return -EINVAL;
	switch (type) {
	case 0:
	case S_IFREG: return mknod_reg(a, q);
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		if (mknod(q->path, type | (q->mode & 07777), (dev_t)q->rdev) < 0)
			return -errno;
		return reply_lstat(a, q, q->path);
	default: return -EINVAL;
	}
}

int op_unlink(struct agent *a, const struct agent_req *q)
{
	if (unlink(q->path) < 0)
		return -errno;
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}

int op_rmdir(struct agent *a, const struct agent_req *q)
{
	if (rmdir(q->path) < 0)
		return -errno;
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}

/* Both paths of RENAME or LINK as (directory, rest): long ones in steps
 * (longpath.h). The caller closes the descriptors (close_at()). */
static int two_at(const struct agent_req *q, int fd[2], const char *rel[2])
{
	int r = longpath_at(q->path, &fd[0], &rel[0]);

	if (r < 0)
		return r;
	r = longpath_at(q->path2, &fd[1], &rel[1]);
	if (r < 0 && fd[0] >= 0)
		close(fd[0]);
	return r;
}

static void close_at(const int fd[2])
{
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
}

int op_rename(struct agent *a, const struct agent_req *q)
{
	const char *rel[2];
	int fd[2], r = two_at(q, fd, rel);

	if (r < 0)
		return r;
	r = renameat2(fd[0], rel[0], fd[1], rel[1], q->flags) < 0 ? -errno : 0;
	if (r == 0) {
		/* the moved entry's attributes (its ctime moved), so that the
		 * client keeps it without asking; all zero (mode 0) after an
		 * exchange, or when it is gone already */
		struct stat st;
		size_t at = out_reply(&a->out, q->id, q->op, 0);

		if ((q->flags & RENAME_EXCHANGE) ||
		    fstatat(fd[1], rel[1], &st, AT_SYMLINK_NOFOLLOW) < 0)
			memset(&st, 0, sizeof(st));
		out_put_stat(&a->out, &st);
		out_end(&a->out, at);
	}
	close_at(fd);
	return r;
}

int op_link(struct agent *a, const struct agent_req *q)
{
	const char *rel[2];
	int fd[2], r = two_at(q, fd, rel);

	if (r < 0)
		return r;
	/* linkat without AT_SYMLINK_FOLLOW links a symlink itself */
	r = linkat(fd[0], rel[0], fd[1], rel[1], 0) < 0 ? -errno : 0;
	if (r == 0)
		r = reply_lstat_at(a, q, fd[1], rel[1]);
	close_at(fd);
	return r;
}

int op_symlink(struct agent *a, const struct agent_req *q)
{
	if (symlink(q->path2, q->path) < 0)
		return -errno;
	return reply_lstat(a, q, q->path);
}

int op_statfs(struct agent *a, const struct agent_req *q)
{
	struct statvfs v;
	struct sbxa_statfs s;
	size_t at;

	if (statvfs(q->path, &v) < 0)
		return -errno;
	s = (struct sbxa_statfs){
	    .bsize = v.f_bsize,
	    .frsize = v.f_frsize,
	    .blocks = v.f_blocks,
	    .bfree = v.f_bfree,
	    .bavail = v.f_bavail,
	    .files = v.f_files,
	    .ffree = v.f_ffree,
	    .favail = v.f_favail,
	    .fsid = v.f_fsid,
	    .flag = v.f_flag,
	    .namemax = v.f_namemax,
	};
	at = out_reply(&a->out, q->id, q->op, 0);
	sbxa_put_statfs(&a->out.w, &s);
	out_end(&a->out, at);
	return 0;
}
