/* net.c - see net.h. */
#include "host/runtime/net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util/log.h"

void sbxd_net_init(struct sbxd_net *n)
{
	memset(n, 0, sizeof(*n));
	n->exit_w = n->ready_r = -1;
	n->ready_w.fd = -1;
	n->child.w.fd = -1;
}

static void on_ready_fd(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_net *n = w->arg;
	char c;
	ssize_t r = read(n->ready_r, &c, 1);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	sbxd_loop_unwatch(n->loop, &n->ready_w);
	close(n->ready_r);
	n->ready_r = -1;
	if (r == 1 && !n->ready) {
		n->ready = true;
		n->on_ready(n->arg);
	}
	/* EOF without the byte: slirp4netns failed; on_child reports it */
}

static void on_child(struct sbxd_child *c, int wstatus)
{
	struct sbxd_net *n = c->arg;

	n->on_exit(n->arg, wstatus);
}

/* In the child: fds 3 (exit) and 4 (ready), exec. */
static void exec_slirp(const char *slirp, pid_t target, int exit_r, int ready_w)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	char pid[16], *argv[] = {(char *)slirp,
				 "--configure",
				 "--mtu=65520",
				 "--disable-host-loopback",
				 "--enable-sandbox",
				 "--enable-seccomp",
				 "--exit-fd=3",
				 "--ready-fd=4",
				 pid,
				 "tap0",
				 NULL};
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	int e = fcntl(exit_r, F_DUPFD_CLOEXEC, 10), rd = fcntl(ready_w, F_DUPFD_CLOEXEC, 10);
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	snprintf(pid, sizeof(pid), "%d", (int)target);
	if (nul < 0 || e < 0 || rd < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(nul, 2) < 0 || dup2(e, 3) < 0 || dup2(rd, 4) < 0)
		_exit(126);
	execve(slirp, argv, envp);
	_exit(127);
}

int sbxd_net_start(struct sbxd_net *n, struct sbxd_loop *l, const char *slirp, pid_t target,
		   size_t *live, void (*on_ready)(void *arg),
		   void (*on_exit)(void *arg, int wstatus), void *arg)
{
	int ex[2] = {-1, -1}, rd[2] = {-1, -1}, r = 0;
	pid_t pid;

	n->loop = l;
	n->on_ready = on_ready;
	n->on_exit = on_exit;
	n->arg = arg;
	if (pipe2(ex, O_CLOEXEC) < 0 || pipe2(rd, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		exec_slirp(slirp, target, ex[0], rd[1]);
	r = sbxd_child_watch(l, &n->child, pid, live, on_child, n);
	if (r < 0) {
		kill(pid, SIGKILL);
		goto out;
	}
	n->exit_w = ex[1];
	n->ready_r = rd[0];
	ex[1] = rd[0] = -1;
	fcntl(n->ready_r, F_SETFL, O_NONBLOCK);
	r = sbxd_loop_watch(l, &n->ready_w, n->ready_r, EPOLLIN, on_ready_fd, n);
out:
	for (int i = 0; i < 2; i++) {
		if (ex[i] >= 0)
			close(ex[i]);
		if (rd[i] >= 0)
			close(rd[i]);
	}
	return r;
}

void sbxd_net_stop(struct sbxd_net *n)
{
	if (n->ready_r >= 0) {
		sbxd_loop_unwatch(n->loop, &n->ready_w);
		close(n->ready_r);
		n->ready_r = -1;
	}
	if (n->exit_w >= 0) {
		close(n->exit_w);
		n->exit_w = -1;
	}
	sbxd_child_kill_reap(&n->child);
}
