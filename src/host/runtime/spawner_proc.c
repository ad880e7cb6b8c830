/* spawner_proc.c - see spawner_proc.h.
 *
 * Single-threaded and blocking: poll() on the socket and a signalfd for
 * SIGCHLD. Replies are 12-byte packets on a socket whose buffer holds
 * thousands of them, so a send only blocks when sbxd stopped reading.
 */
#include "host/runtime/spawner_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/runtime/nsexec.h"
#include "host/runtime/spawn_msg.h"

#define SOCK_FD 3

struct kid {
	pid_t pid;
	uint32_t id;
	bool reported; /* EXITED sent; reaped on RELEASE */
};

struct spawner {
	const struct sbxd_spawner_cfg *cfg;
	int sigfd;
	struct kid kids[SBX_SPAWNER_KIDS];
	size_t nkids;
	char pkt[SBX_SPAWN_MSG_MAX];
	struct sbxd_spawn_req req;
};

static void reply(uint32_t type, uint32_t id, int32_t value)
{
	struct sbxd_spawn_reply r = {type, id, value};

	if (send(SOCK_FD, &r, sizeof(r), MSG_NOSIGNAL) != (ssize_t)sizeof(r))
		_exit(1); /* sbxd is gone or broken: our children die with us */
}

/* Everything before the first request: see the header for the order. */
static int setup(int sock, pid_t parent, const struct sbxd_spawner_cfg *cfg)
{
	sigset_t chld;
	int null, sigfd, r;

	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "sbxd-spawner"); /* for the host's ps; argv stays sbxd's */
	if (getppid() != parent)
		return -ESRCH;
	setsid();
	if (sock != SOCK_FD && dup3(sock, SOCK_FD, O_CLOEXEC) < 0)
		return -errno;
	syscall(SYS_close_range, SOCK_FD + 1, ~0U, 0);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		return -errno;
	close(null);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return -errno;
	if (cfg->cg && (r = sbxd_cg_join(cfg->cg, (int)getpid())) < 0)
		return r;
	r = sbxd_nsexec_enter(cfg->target);
	/* a change of uid resets dumpability to fs.suid_dumpable: set it again */
	if (r == 0 && prctl(PR_SET_DUMPABLE, 0) < 0)
		r = -errno;
	return r < 0 ? r : sigfd;
}

/* The command's process, in the sandbox's PID namespace. */
_Noreturn static void kid_main(struct spawner *s, const int fds[3], const int go[2])
{
	sigset_t none;
	char c;
	ssize_t n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != 0) /* our parent is outside the namespace: 0 until it dies */
		_exit(126);
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
		_exit(126);
	/* a terminal (exec_tty.h) becomes the session's: Ctrl-C is a SIGINT */
	if (isatty(0))
		ioctl(0, TIOCSCTTY, 0);
	close(go[1]); /* else the spawner's death would not be an EOF */
	while ((n = read(go[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1) /* the spawner died before sbxd knew our pid */
		_exit(126);
	sbxd_nsexec_run(s->cfg->filter, s->req.argv, s->req.envp);
}

static void spawn(struct spawner *s, const int fds[3])
{
	int go[2];
	pid_t pid;

	if (s->nkids == SBX_SPAWNER_KIDS) {
		reply(SBX_SPAWN_FAILED, s->req.id, EAGAIN);
		return;
	}
	if (pipe2(go, O_CLOEXEC) < 0) {
		reply(SBX_SPAWN_FAILED, s->req.id, errno);
		return;
	}
	pid = fork();
	if (pid == 0)
		kid_main(s, fds, go);
	close(go[0]);
	if (pid < 0) {
		close(go[1]);
		reply(SBX_SPAWN_FAILED, s->req.id, errno);
		return;
	}
	s->kids[s->nkids++] = (struct kid){pid, s->req.id, false};
	reply(SBX_SPAWN_STARTED, s->req.id, pid);
	if (write(go[1], "g", 1) != 1)
		kill(pid, SIGKILL);
	close(go[1]);
}

static void release(struct spawner *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->nkids; i++) {
		if (s->kids[i].id != id || !s->kids[i].reported)
			continue;
		waitpid(s->kids[i].pid, NULL, WNOHANG);
		s->kids[i] = s->kids[--s->nkids];
		return;
	}
}

/* Reports every child that exited, without reaping it (WNOWAIT). */
static void check_kids(struct spawner *s)
{
	struct signalfd_siginfo si;
	size_t i;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	for (i = 0; i < s->nkids; i++) {
		siginfo_t w;
		int st;

		if (s->kids[i].reported)
			continue;
		memset(&w, 0, sizeof(w));
		if (waitid(P_PID, (id_t)s->kids[i].pid, &w, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    w.si_pid != s->kids[i].pid)
			continue;
		if (w.si_code == CLD_EXITED)
			st = (w.si_status & 0xff) << 8;
		else
			st = (w.si_status & 0x7f) | (w.si_code == CLD_DUMPED ? 0x80 : 0);
		s->kids[i].reported = true;
		reply(SBX_SPAWN_EXITED, s->kids[i].id, st);
	}
}

/* Receives one request with its descriptors. false ends the spawner. */
static bool serve_one(struct spawner *s)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(3 * sizeof(int))];
	} ctl;
	struct iovec iov = {s->pkt, sizeof(s->pkt)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *c;
	int fds[3] = {-1, -1, -1}, nfds = 0, i;
	ssize_t n = recvmsg(SOCK_FD, &mh, MSG_CMSG_CLOEXEC);
	bool ok;

	if (n < 0 && errno == EINTR)
		return true;
	for (c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k = c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
			       ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int)
			       : 0;

		for (i = 0; i < (int)k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds < 3)
				fds[nfds] = fd;
			else
				close(fd);
			nfds++;
		}
	}
	ok = n > 0 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
	     sbxd_spawn_msg_decode(s->pkt, (size_t)n, &s->req) == 0 &&
	     nfds == (s->req.type == SBX_SPAWN_SPAWN ? 3 : 0);
	if (ok && s->req.type == SBX_SPAWN_SPAWN)
		spawn(s, fds);
	else if (ok)
		release(s, s->req.id);
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ok;
}

_Noreturn void sbxd_spawner_main(int sock, pid_t parent, const struct sbxd_spawner_cfg *cfg)
{
	struct spawner s; /* ~120 KiB: fine on the stack of this single thread */
	int r = setup(sock, parent, cfg);

	if (r < 0)
		_exit(2);
	s.cfg = cfg;
	s.sigfd = r;
	s.nkids = 0;
	for (;;) {
		struct pollfd p[2] = {{SOCK_FD, POLLIN, 0}, {s.sigfd, POLLIN, 0}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p[1].revents)
			check_kids(&s);
		if (p[0].revents && !serve_one(&s))
			_exit(0);
	}
}
