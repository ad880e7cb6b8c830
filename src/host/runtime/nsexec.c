/* nsexec.c - see nsexec.h.
 *
 * Everything between fork() and the command's execve() is sbxd's own code:
 * no program of the sandbox's runs while the process holds any privilege
 * over the host (a planted nsenter, setpriv or sh in the sandbox's PATH is
 * only ever started as the confined command itself).
 */
#include "host/runtime/nsexec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/runtime/confine.h"
#include "util/statedir.h"

#define PIPE_SIZE   (1 << 20)
#define KILL_ROUNDS 20
#define MAX_PROCS   65536

/* Namespace types an exec joins, as /proc/PID/ns names and setns flags.
 * The user namespace is always joined; each other type only when the
 * sandbox has its own (with host networking, net is the host's). */
static const struct {
	const char *name;
	int flag;
} NS_TYPES[] = {
    {"mnt", CLONE_NEWNS},  {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
    {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
};

/* Tells the exec's stderr why it did not run, then ends the child. */
_Noreturn static void die(const char *what, int err, int code)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "sbxd: %s: %s\n", what, strerror(err));

	if (n > 0 && write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0)
		_exit(code);
	_exit(code);
}

static bool same_ns(pid_t target, const char *name)
{
	char p[64];
	struct stat a, b;

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)target, name);
	if (stat(p, &a) < 0)
		return false;
	snprintf(p, sizeof(p), "/proc/self/ns/%s", name);
	return stat(p, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Joins every namespace of target at once (a pidfd setns), becomes the
 * sandbox's root and moves to the sandbox's root directory. Still host root
 * until the setns: that is why nothing of the sandbox's is touched before. */
int sbxd_nsexec_enter(pid_t target)
{
	char p[64];
	int pidfd, rootfd, flags = CLONE_NEWUSER, r = 0;
	size_t i;

	snprintf(p, sizeof(p), "/proc/%d/root", (int)target);
	rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	pidfd = (int)syscall(SYS_pidfd_open, target, 0);
	if (rootfd < 0 || pidfd < 0) {
		r = -errno;
		goto out;
	}
	for (i = 0; i < sizeof(NS_TYPES) / sizeof(NS_TYPES[0]); i++)
		if (!same_ns(target, NS_TYPES[i].name))
			flags |= NS_TYPES[i].flag;
	if (setgroups(0, NULL) < 0 || setns(pidfd, flags) < 0)
		r = -errno;
	else if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		r = -errno;
	/* the init's root: after bwrap's pivot_root, not the namespace's */
	else if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		r = -errno;
out:
	if (pidfd >= 0)
		close(pidfd);
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

void sbxd_nsexec_run(const struct sbxd_seccomp *filter, char *const *argv, char *const *envp)
{
	extern char **environ;
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	int r, sig;

	/* every signal at its default, whatever sbxd inherited: started by a
	 * shell as `sbxd &`, it ignores SIGINT and SIGQUIT, and an ignored
	 * signal stays ignored across exec (Ctrl-C on a terminal did nothing) */
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	r = sbxd_confine_apply(filter);
	if (r < 0)
		die("cannot confine the command", -r, 126);
	syscall(SYS_close_range, 3, ~0U, 0);
	environ = (char **)envp; /* execvp searches this PATH */
	execvp(argv[0], argv);
	die(argv[0], errno, errno == ENOENT ? 127 : 126);
}

/* Waits for the command and ends the same way: its exit code, or a
 * death by the same signal (no core dump of this process). */
static void relay(pid_t pid)
{
	struct rlimit none = {0, 0};
	int st, sig;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	sig = WTERMSIG(st);
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

static void child(const struct sbxd_nsexec *x, int in_r, int out_w, int err_w)
{
	sigset_t none;
	pid_t pid;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(126);
	/* a terminal (exec_tty.h) becomes the session's: Ctrl-C is a SIGINT */
	if (isatty(0))
		ioctl(0, TIOCSCTTY, 0);
	if (x->cg && (r = sbxd_cg_join(x->cg, (int)getpid())) < 0)
		die("cannot join the sandbox's cgroups", -r, 126);
	/* this is a copy of sbxd's memory: never readable by the sandbox */
	prctl(PR_SET_DUMPABLE, 0);
	r = sbxd_nsexec_enter(x->target);
	if (r < 0)
		die("cannot enter the sandbox", -r, 126);
	pid = fork();
	if (pid < 0)
		die("fork", errno, 126);
	if (pid == 0)
		sbxd_nsexec_run(x->filter, x->argv, x->envp);
	syscall(SYS_close_range, 3, ~0U, 0);
	relay(pid);
}

int sbxd_nsexec_pipes(int parent[3], int child[3])
{
	int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}}, i;

	for (i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			int r = -errno;

			while (i-- > 0) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return r;
		}
		fcntl(p[i][0], F_SETPIPE_SZ, PIPE_SIZE);
	}
	/* stdin: the child reads p[0][0]; stdout, stderr: the child writes */
	child[0] = p[0][0];
	parent[0] = p[0][1];
	for (i = 1; i < 3; i++) {
		parent[i] = p[i][0];
		child[i] = p[i][1];
	}
	for (i = 0; i < 3; i++)
		fcntl(parent[i], F_SETFL, O_NONBLOCK);
	return 0;
}

int sbxd_nsexec_start(const struct sbxd_nsexec *x, const int child_fds[3], pid_t *ret_pid)
{
	pid_t pid;

	if (!x->filter || !x->argv || !x->argv[0])
		return -EINVAL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(x, child_fds[0], child_fds[1], child_fds[2]);
	*ret_pid = pid;
	return 0;
}

struct proc {
	pid_t pid, ppid, sid;
	bool zombie;
};

/* Reads "pid (comm) S ppid pgrp session" from /proc/PID/stat. */
static bool read_stat(const char *name, struct proc *pr)
{
	char path[300]; /* "/proc/" + a d_name of up to 255 bytes + "/stat" */
	struct sbx_buf b = SBX_BUF_INIT;
	const char *rp;
	char state;
	int ppid, pgrp, sid;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%s/stat", name);
	if (sbx_read_small_file(path, 4096, &b) == 0 && b.data) {
		rp = strrchr(b.data, ')');
		if (rp && sscanf(rp + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) == 4) {
			pr->pid = (pid_t)strtol(name, NULL, 10);
			pr->ppid = ppid;
			pr->sid = sid;
			pr->zombie = state == 'Z' || state == 'X';
			ok = true;
		}
	}
	sbx_buf_release(&b);
	return ok;
}

/* Fills procs with every process; returns the count (bounded). */
static size_t scan(struct proc *procs, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while (n < max && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (read_stat(e->d_name, &procs[n]))
			n++;
	}
	closedir(d);
	return n;
}

/* Marks the members of the tree (session sid, plus descendants). */
static void mark_tree(const struct proc *procs, size_t n, pid_t sid, bool *in)
{
	bool changed = true;
	size_t i, j;

	for (i = 0; i < n; i++)
		in[i] = procs[i].sid == sid || procs[i].pid == sid;
	while (changed) {
		changed = false;
		for (i = 0; i < n; i++) {
			if (in[i])
				continue;
			for (j = 0; j < n; j++) {
				if (in[j] && procs[i].ppid == procs[j].pid) {
					in[i] = changed = true;
					break;
				}
			}
		}
	}
}

int sbxd_proctree_kill(pid_t sid)
{
	struct proc *procs = calloc(MAX_PROCS, sizeof(*procs));
	bool *in = calloc(MAX_PROCS, sizeof(bool));
	pid_t self = getpid();
	int round, sent = 0;

	if (!procs || !in || sid <= 1)
		goto out;
	for (round = 0; round < KILL_ROUNDS; round++) {
		size_t n = scan(procs, MAX_PROCS), i;
		int alive = 0;

		mark_tree(procs, n, sid, in);
		for (i = 0; i < n; i++) {
			if (!in[i] || procs[i].zombie || procs[i].pid == self || procs[i].pid <= 1)
				continue;
			alive++;
			if (kill(procs[i].pid, SIGKILL) == 0)
				sent++;
		}
		if (!alive)
			break;
		usleep(1000);
	}
out:
	free(procs);
	free(in);
	return sent;
}
