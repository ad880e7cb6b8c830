/* userns.c - see userns.h.
 *
 * The namespace is made by a helper child that unshares CLONE_NEWUSER and
 * waits; the parent writes the maps from outside (only a process outside the
 * namespace, privileged over the range, can map ids other than its own),
 * opens /proc/CHILD/ns/user, and lets the child exit. The open fd keeps the
 * namespace alive after the helper is gone.
 */
#include "host/runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int sbxd_idmap_valid(const struct sbxd_idmap *m)
{
	uint64_t end = (uint64_t)m->base + m->count;

	if (m->base == 0 || m->count == 0 || end > (uint64_t)UINT32_MAX)
		return 0;
	/* 65534 is the kernel's overflow id; it must never be a sandbox's */
	if (m->base <= 65534 && end > 65534)
		return 0;
	return 1;
}

static int write_file(pid_t pid, const char *name, const char *data)
{
	char path[64];
	size_t len = strlen(data);
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

static int write_maps(pid_t pid, const struct sbxd_idmap *m)
{
	char map[64];
	int r;

	snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)m->base, (unsigned)m->count);
	r = write_file(pid, "uid_map", map);
	if (r == 0)
		r = write_file(pid, "setgroups", "deny");
	if (r == 0)
		r = write_file(pid, "gid_map", map);
	return r;
}

/* The helper: unshare, say so, wait for the parent to close its pipe. */
static void helper(const int ready[2], const int done[2])
{
	char c = 0;

	close(ready[0]);
	close(done[1]); /* else the read below never sees EOF */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWUSER) < 0)
		c = 1;
	if (write(ready[1], &c, 1) != 1)
		_exit(1);
	while (read(done[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int sbxd_userns_open(const struct sbxd_idmap *m)
{
	int ready[2] = {-1, -1}, done[2] = {-1, -1}, fd = -1, r = 0;
	char path[64], c = 1;
	pid_t pid = -1;

	if (!sbxd_idmap_valid(m))
		return -EINVAL;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		helper(ready, done);
	close(ready[1]);
	ready[1] = -1;
	if (read(ready[0], &c, 1) != 1 || c != 0) {
		r = -EPERM;
		goto out;
	}
	r = write_maps(pid, m);
	if (r < 0)
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		r = -errno;
out:
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (done[i] >= 0)
			close(done[i]); /* the helper's read returns: it exits */
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	return r < 0 ? r : fd;
}

int sbxd_userns_enter(int fd)
{
	/* the host's supplementary groups go first: setgroups is denied inside */
	if (setgroups(0, NULL) < 0 || setns(fd, CLONE_NEWUSER) < 0)
		return -errno;
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -errno;
	return 0;
}
