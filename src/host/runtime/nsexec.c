/* nsexec.c - see nsexec.h. */
#include "host/runtime/nsexec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "host/runtime/caps.h"
#include "util/statedir.h"

#define PIPE_SIZE   (1 << 20)
#define KILL_ROUNDS 20
#define MAX_PROCS   65536

/* The nsenter + setpriv prefix followed by the user's argv. */
static char **build_argv(const struct sbx_nsexec *x, char *pidbuf, size_t pidlen, char *wd,
			 size_t wdlen, char *caps, size_t capslen)
{
	/* --wd takes a host path in util-linux 2.38 (opened before the chroot):
	 * the target's root directory is the sandbox's "/" */
	const char *pre[] = {x->nsenter, "--target", pidbuf,	       "--mount", "--uts",
			     "--ipc",	 "--pid",    "--cgroup",       "--root",  wd,
			     "--",	 "setpriv",  "--bounding-set", caps,	  "--"};
	size_t np = sizeof(pre) / sizeof(pre[0]), n = 0, i;
	char **v;

	while (x->argv[n])
		n++;
	v = calloc(np + n + 1, sizeof(char *));
	if (!v)
		return NULL;
	snprintf(pidbuf, pidlen, "%d", (int)x->target);
	snprintf(wd, wdlen, "--wd=/proc/%d/root", (int)x->target);
	sbx_caps_setpriv_arg(caps, capslen);
	for (i = 0; i < np; i++)
		v[i] = (char *)pre[i];
	for (i = 0; i < n; i++)
		v[np + i] = x->argv[i];
	return v;
}

static void child(const struct sbx_nsexec *x, char **argv, int in_r, int out_w, int err_w)
{
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (x->cg)
		sbx_cg_join(x->cg, (int)getpid());
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(126);
	execve(argv[0], argv, x->envp);
	_exit(127);
}

int sbx_nsexec_spawn(const struct sbx_nsexec *x, pid_t *ret_pid, int fds[3])
{
	int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}}, r = 0, i;
	char pidbuf[16], wd[48], caps[512];
	char **argv = build_argv(x, pidbuf, sizeof(pidbuf), wd, sizeof(wd), caps, sizeof(caps));
	pid_t pid;

	if (!argv)
		return -ENOMEM;
	for (i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			r = -errno;
			goto out;
		}
		fcntl(p[i][0], F_SETPIPE_SZ, PIPE_SIZE);
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		child(x, argv, p[0][0], p[1][1], p[2][1]);
	fds[0] = p[0][1];
	fds[1] = p[1][0];
	fds[2] = p[2][0];
	p[0][1] = p[1][0] = p[2][0] = -1;
	for (i = 0; i < 3; i++)
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	*ret_pid = pid;
out:
	for (i = 0; i < 3; i++) {
		if (p[i][0] >= 0)
			close(p[i][0]);
		if (p[i][1] >= 0)
			close(p[i][1]);
	}
	free(argv);
	return r;
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

int sbx_proctree_kill(pid_t sid)
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
