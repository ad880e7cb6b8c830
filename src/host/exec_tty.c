/* exec_tty.c - pseudo-terminals for exec sessions; see exec_tty.h. */
#include "host/exec_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

/* The ptmx of target's devpts: inside its root, no symlink followed. */
static int open_ptmx(pid_t target)
{
	struct open_how how = {
	    .flags = O_RDWR | O_NOCTTY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char root[64];
	struct stat st;
	int dfd, fd, r;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)target);
	dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, dfd, "dev/pts/ptmx", &how, sizeof(how));
	r = fd < 0 ? -errno : 0;
	close(dfd);
	if (r < 0)
		return r;
	/* the sandbox owns that directory: make sure this is a ptmx */
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2) {
		close(fd);
		return -ENOTTY;
	}
	return fd;
}

int sbxd_exec_tty_resize(int master, unsigned rows, unsigned cols)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (!rows || !cols || rows > SBXD_TTY_MAX || cols > SBXD_TTY_MAX)
		return -EINVAL;
	return ioctl(master, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

int sbxd_exec_tty_open(pid_t target, unsigned rows, unsigned cols, int parent[3], int child[3])
{
	int m = open_ptmx(target), unlock = 0, s = -1, i, r;
	int fds[5] = {m, -1, -1, -1, -1};

	if (m < 0)
		return m;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		goto fail;
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	fds[1] = s;
	fds[2] = fcntl(s, F_DUPFD_CLOEXEC, 3);
	fds[3] = fcntl(s, F_DUPFD_CLOEXEC, 3);
	fds[4] = fcntl(m, F_DUPFD_CLOEXEC, 3);
	if (fds[2] < 0 || fds[3] < 0 || fds[4] < 0)
		goto fail;
	if (rows && cols)
		sbxd_exec_tty_resize(m, rows, cols);
	fcntl(m, F_SETFL, O_NONBLOCK); /* the file status flags are shared by the two */
	parent[0] = fds[4];
	parent[1] = m;
	parent[2] = -1;
	child[0] = s;
	child[1] = fds[2];
	child[2] = fds[3];
	return 0;
fail:
	r = -errno;
	for (i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}
