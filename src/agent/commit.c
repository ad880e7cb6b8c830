/* commit.c - TMPFILE and COMMIT: a file written aside and put in place
 * whole, so that a reader in the sandbox sees the old bytes or the new,
 * never a part.
 *
 * TMPFILE prefers O_TMPFILE (no name until COMMIT links it); where the
 * filesystem refuses it, a ".sbx~XXXXXX" file is made with O_EXCL and its
 * name kept by the handle so that it is removed on CLOSE, on a failed
 * COMMIT and at the session's end. COMMIT gives an O_TMPFILE a temporary
 * name through /proc/self/fd and renames that over the target: rename is
 * the only atomic replacement there is.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"

/* xorshift64*: names need to differ, not to be secret (O_EXCL decides) */
static uint64_t next_rnd(struct agent_handles *hs)
{
	if (!hs->rnd) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		hs->rnd = ((uint64_t)t.tv_nsec << 20) ^ (uint64_t)t.tv_sec ^
			  ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ull;
	}
	hs->rnd ^= hs->rnd >> 12;
	hs->rnd ^= hs->rnd << 25;
	hs->rnd ^= hs->rnd >> 27;
	return hs->rnd * 0x2545f4914f6cdd1dull;
}

/* out (SBXA_PATH_MAX + 1 bytes): "<directory of path>/.sbx~XXXXXX" */
static int temp_name(struct agent_handles *hs, const char *path, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const char *slash = strrchr(path, '/');
	size_t dlen = (size_t)(slash - path), i;
	uint64_t r = next_rnd(hs);

	if (dlen + 13 > SBXA_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, path, dlen);
	memcpy(out + dlen, "/.sbx~", 6);
	for (i = 0; i < 6; i++, r /= 62)
		out[dlen + 6 + i] = abc[r % 62];
	out[dlen + 12] = '\0';
	return 0;
}

/* The directory of path into out ("/" for a name in the root). */
static void dir_of(const char *path, char *out)
{
	size_t dlen = (size_t)(strrchr(path, '/') - path);

	if (!dlen)
		dlen = 1;
	memcpy(out, path, dlen);
	out[dlen] = '\0';
}

static int open_named(struct agent_handles *hs, struct agent_handle *h, const char *path,
		      uint32_t mode)
{
	char name[SBXA_PATH_MAX + 1];
	int tries, r;

	for (tries = 0; tries < 100; tries++) {
		r = temp_name(hs, path, name);
		if (r < 0)
			return r;
		h->fd =
		    open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
		if (h->fd >= 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (h->fd < 0)
		return -EEXIST;
	h->name = strdup(name);
	if (!h->name) {
		unlink(name);
		close(h->fd);
		h->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

int op_tmpfile(struct agent *a, const struct agent_req *q)
{
	char dir[SBXA_PATH_MAX + 1];
	struct agent_handle *h;
	struct stat st;
	size_t at;
	int r;

	if (q->handle >= SBXA_HANDLES_MAX)
		return -EINVAL;
	h = &a->hs.h[q->handle];
	if (h->fd >= 0)
		return -EBUSY;
	dir_of(q->path, dir);
	errno = EOPNOTSUPP;
	if (!a->hs.no_otmpfile)
		h->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, q->mode & 07777);
	if (h->fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	if (h->fd < 0 && (r = open_named(&a->hs, h, q->path, q->mode)) < 0)
		return r;
	h->tmp = true;
	if (fstat(h->fd, &st) < 0) {
		r = -errno;
		handle_drop(h);
		return r;
	}
	at = out_reply(&a->out, q->id, q->op, 0);
	out_put_stat(&a->out, &st);
	out_end(&a->out, at);
	return 0;
}

/* Owner, plain ACL, mode, times of s onto the open temporary. */
static int apply_fd(int fd, const struct sbxa_setattr *s)
{
	struct timespec t[2];
	int r;

	if ((s->valid & (SBXA_SET_UID | SBXA_SET_GID)) &&
	    fchown(fd, (s->valid & SBXA_SET_UID) ? s->uid : (uid_t)-1,
		   (s->valid & SBXA_SET_GID) ? s->gid : (gid_t)-1) < 0)
		return -errno;
	if ((s->valid & SBXA_SET_ACL_PLAIN) &&
	    (r = setattr_acl_dropped(fremovexattr(fd, SETATTR_ACL_NAME))) < 0)
		return r;
	if ((s->valid & SBXA_SET_MODE) && fchmod(fd, s->mode & 07777) < 0)
		return -errno;
	if (setattr_times(s, t) && futimens(fd, t) < 0)
		return -errno;
	return 0;
}

/* Gives an O_TMPFILE descriptor a temporary name next to path. */
static int link_anon(struct agent_handles *hs, int fd, const char *path, char *name)
{
	char proc[64];
	int tries, r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (tries = 0; tries < 100; tries++) {
		r = temp_name(hs, path, name);
		if (r < 0)
			return r;
		if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		/* no /proc: AT_EMPTY_PATH does the same where it is allowed */
		if (errno == ENOENT && linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* The extended attributes of the file at path (the one being replaced)
 * onto the new content, so that a store keeps them (ACLs, user.*), as an
 * in-place write would. Best effort: a name the request may not set is
 * left out. security.capability is never carried over: the kernel drops
 * it on every write to a file, and this is one. */
static void copy_xattrs(const char *path, int fd)
{
	char *names = malloc(SBXA_XATTR_MAX), *val = malloc(SBXA_XATTR_MAX), *p;
	ssize_t n = names ? llistxattr(path, names, SBXA_XATTR_MAX) : -1, v;

	for (p = names; val && n > 0 && p < names + n; p += strlen(p) + 1) {
		if (!strcmp(p, "security.capability"))
			continue;
		v = lgetxattr(path, p, val, SBXA_XATTR_MAX);
		if (v >= 0)
			(void)fsetxattr(fd, p, val, (size_t)v, 0);
	}
	free(names);
	free(val);
}

static int commit(struct agent *a, struct agent_handle *h, const struct agent_req *q)
{
	char name[SBXA_PATH_MAX + 1];
	struct stat st;
	size_t at;
	int r;

	if (h->err)
		return h->err;
	if (fstat(h->fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != q->len)
		return -EIO;
	copy_xattrs(q->path, h->fd); /* before the mode: an ACL sets mode bits */
	r = apply_fd(h->fd, &q->sa);
	if (r < 0)
		return r;
	if (!h->name && (r = link_anon(&a->hs, h->fd, q->path, name)) < 0)
		return r;
	if (rename(h->name ? h->name : name, q->path) < 0) {
		r = -errno;
		if (!h->name)
			unlink(name);
		return r;
	}
	free(h->name); /* the name is the target's now: nothing to remove */
	h->name = NULL;
	if (fstat(h->fd, &st) < 0)
		return -errno;
	at = out_reply(&a->out, q->id, q->op, 0);
	out_put_stat(&a->out, &st);
	out_end(&a->out, at);
	return 0;
}

int op_commit(struct agent *a, const struct agent_req *q)
{
	struct agent_handle *h = handle_get(&a->hs, q->handle);
	int r;

	if (!h)
		return -EBADF;
	if (!h->tmp)
		return -EINVAL;
	r = commit(a, h, q);
	handle_drop(h);
	return r;
}
