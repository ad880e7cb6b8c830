/* child.c - pidfd child watching; see child.h. */
#include "host/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_send_signal_(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static void on_pidfd(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_child *c = w->arg;
	siginfo_t si = {0};
	int wstatus;

	if (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) < 0)
		return;
	if (si.si_pid == 0)
		return; /* spurious */
	if (si.si_code == CLD_EXITED)
		wstatus = W_EXITCODE(si.si_status, 0);
	else
		wstatus = si.si_status & 0x7f; /* killed or dumped: the signal */
	c->pid = 0;
	sbxd_loop_unwatch(c->loop, &c->w);
	close(c->pidfd);
	c->pidfd = -1;
	if (c->live && *c->live)
		(*c->live)--;
	c->fn(c, wstatus);
}

int sbxd_child_watch(struct sbxd_loop *l, struct sbxd_child *c, pid_t pid, size_t *live,
		     sbxd_child_fn fn, void *arg)
{
	int fd = pidfd_open_(pid), r;

	if (fd < 0)
		return -errno;
	c->w.fd = -1;
	r = sbxd_loop_watch(l, &c->w, fd, EPOLLIN, on_pidfd, c);
	if (r < 0) {
		close(fd);
		return r;
	}
	c->loop = l;
	c->pid = pid;
	c->pidfd = fd;
	c->fn = fn;
	c->arg = arg;
	c->live = live;
	if (live)
		(*live)++;
	return 0;
}

bool sbxd_child_running(const struct sbxd_child *c)
{
	return c->pid > 0;
}

void sbxd_child_kill(struct sbxd_child *c, int sig)
{
	if (c->pid > 0 && c->pidfd >= 0)
		pidfd_send_signal_(c->pidfd, sig);
}

void sbxd_child_kill_reap(struct sbxd_child *c)
{
	siginfo_t si;

	if (c->pid <= 0)
		return;
	pidfd_send_signal_(c->pidfd, SIGKILL);
	while (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	c->pid = 0;
	sbxd_loop_unwatch(c->loop, &c->w);
	close(c->pidfd);
	c->pidfd = -1;
	if (c->live && *c->live)
		(*c->live)--;
}

int sbxd_pidfd_open(pid_t pid)
{
	int fd = pidfd_open_(pid);

	return fd < 0 ? -errno : fd;
}

bool sbxd_pidfd_alive(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (fd < 0)
		return false;
	return poll(&p, 1, 0) == 0;
}

void sbxd_pidfd_kill(int fd, int sig)
{
	if (fd >= 0)
		pidfd_send_signal_(fd, sig);
}

int sbxd_child_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

int sbxd_spawn_simple(char *const argv[], char *const envp[], pid_t *ret_pid)
{
	sigset_t all;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execve(argv[0], argv, envp);
		_exit(127);
	}
	*ret_pid = pid;
	return 0;
}
