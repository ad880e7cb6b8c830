/* xcmd.c - commands run in a sandbox for the executor API; see xcmd.h.
 *
 * The same two ways as exec.c: the sandbox's spawner, and the one-fork path
 * when it does not take the request or is lost before the command started
 * (then the command never ran, so running it again is safe). fd[1]/fd[2]
 * are read only while they are watched; pausing unwatches them.
 */
#include "host/xcmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/child.h"
#include "host/daemon.h"
#include "host/runtime/nsexec.h"
#include "host/runtime/sandbox.h"
#include "host/runtime/spawn_msg.h"
#include "host/runtime/spawner.h"
#include "util/log.h"

struct sbxd_xcmd {
	struct sbxd *d;
	const struct sbxd_xcmd_ops *ops;
	void *user; /* NULL once released */
	char svc_id[37];
	struct sbxd_child child;   /* the one-fork path */
	struct sbxd_spawn_job job; /* the spawner's path */
	bool via_spawner, started, exited, done, freed, paused, kill_pending;
	int wstatus;
	pid_t pid;
	struct sbx_buf pkt; /* for a fallback */
	int fd[3], cfd[3];
	struct sbxd_watch w[3];
	struct sbxd_timer drain;
	struct sbxd_timer started_t; /* reports the pid of the one-fork path */
	char *rbuf;
};

static void on_out(struct sbxd_watch *w, uint32_t events);

static bool running(const struct sbxd_xcmd *x)
{
	if (!x->started)
		return false;
	return x->via_spawner ? sbxd_spawn_job_active(&x->job) : sbxd_child_running(&x->child);
}

static void close_cfds(struct sbxd_xcmd *x)
{
	for (int i = 0; i < 3; i++) {
		if (x->cfd[i] >= 0)
			close(x->cfd[i]);
		x->cfd[i] = -1;
	}
}

static void close_fd(struct sbxd_xcmd *x, int i)
{
	sbxd_loop_unwatch(x->d->loop, &x->w[i]);
	if (x->fd[i] >= 0)
		close(x->fd[i]);
	x->fd[i] = -1;
}

static void free_x(void *arg)
{
	struct sbxd_xcmd *x = arg;

	sbx_buf_release(&x->pkt);
	free(x->rbuf);
	free(x);
}

static void maybe_free(struct sbxd_xcmd *x)
{
	if (x->freed || x->user || running(x))
		return;
	x->freed = true;
	close_cfds(x);
	for (int i = 0; i < 3; i++)
		close_fd(x, i);
	sbxd_loop_timer_cancel(x->d->loop, &x->drain);
	sbxd_loop_timer_cancel(x->d->loop, &x->started_t);
	if (sbxd_loop_defer(x->d->loop, free_x, x) < 0)
		sbx_log(SBX_LOG_WARN, "executor: leaking a command (out of memory)");
}

/* Exactly once: the exit is known and the output drained. */
static void finish(struct sbxd_xcmd *x)
{
	if (x->done)
		return;
	x->done = true;
	sbxd_loop_timer_cancel(x->d->loop, &x->drain);
	for (int i = 1; i <= 2; i++)
		close_fd(x, i);
	if (x->user && x->ops->on_exit)
		x->ops->on_exit(x->user, x->wstatus);
}

static void on_drain(struct sbxd_timer *t)
{
	struct sbxd_xcmd *x = t->arg;

	if (x->paused && x->user) { /* still flowing, just slower than the reader */
		sbxd_loop_timer(x->d->loop, t, SBX_XCMD_DRAIN_MS, on_drain, x);
		return;
	}
	finish(x);
}

static void check_done(struct sbxd_xcmd *x)
{
	if (!x->exited || x->done)
		return;
	if (x->fd[1] < 0 && x->fd[2] < 0)
		finish(x);
	else
		sbxd_loop_timer(x->d->loop, &x->drain, SBX_XCMD_DRAIN_MS, on_drain, x);
}

static void watch(struct sbxd_xcmd *x, bool on)
{
	for (int i = 1; i <= 2; i++) {
		if (x->fd[i] < 0)
			continue;
		if (on && x->w[i].fd < 0)
			sbxd_loop_watch(x->d->loop, &x->w[i], x->fd[i], EPOLLIN, on_out, x);
		else if (!on)
			sbxd_loop_unwatch(x->d->loop, &x->w[i]);
	}
}

static void on_out(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_xcmd *x = w->arg;
	int i = w == &x->w[1] ? 1 : 2;
	ssize_t n = read(x->fd[i], x->rbuf, SBX_XCMD_CHUNK);

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(x, i);
		check_done(x);
		return;
	}
	if (x->exited)
		sbxd_loop_timer(x->d->loop, &x->drain, SBX_XCMD_DRAIN_MS, on_drain, x);
	if (x->user && x->ops->on_output)
		x->ops->on_output(x->user, i, x->rbuf, (size_t)n);
}

static void exited(struct sbxd_xcmd *x, int wstatus)
{
	x->exited = true;
	x->wstatus = wstatus;
	if (!x->user) {
		x->done = true;
		maybe_free(x);
		return;
	}
	check_done(x);
}

static void on_child(struct sbxd_child *c, int wstatus)
{
	exited(c->arg, wstatus);
}

static void kill_tree(struct sbxd_xcmd *x)
{
	if (!running(x))
		return;
	if (!x->via_spawner)
		sbxd_proctree_kill(x->child.pid);
	else if (x->job.pid)
		sbxd_proctree_kill(x->job.pid);
	else
		x->kill_pending = true;
}

/* The pid inside the sandbox's PID namespace: the last NSpid field. */
static pid_t ns_pid(pid_t host)
{
	char p[64], line[256];
	FILE *f;
	pid_t r = host;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)host);
	f = fopen(p, "re");
	if (!f)
		return host;
	while (fgets(line, sizeof(line), f)) {
		char *last;

		if (strncmp(line, "NSpid:", 6))
			continue;
		last = strrchr(line, '\t');
		if (last)
			r = (pid_t)strtol(last + 1, NULL, 10);
		break;
	}
	fclose(f);
	return r > 0 ? r : host;
}

static void report_started(struct sbxd_xcmd *x)
{
	if (x->user && x->ops->on_started)
		x->ops->on_started(x->user, x->pid);
}

static void on_started_timer(struct sbxd_timer *t)
{
	report_started(t->arg);
}

static int start_direct(struct sbxd_xcmd *x, struct sbxd_svc *v, char *const *argv,
			char *const *envp)
{
	struct sbxd_nsexec n = {.target = sbxd_sandbox_pid(v),
				.cg = sbxd_sandbox_cgroups(v),
				.filter = &x->d->filter,
				.argv = argv,
				.envp = envp};
	pid_t pid;
	int r = n.target ? sbxd_nsexec_start(&n, x->cfd, &pid) : -ESRCH;

	close_cfds(x);
	x->via_spawner = false;
	if (r == 0) {
		r = sbxd_child_watch(x->d->loop, &x->child, pid, &x->d->nchildren, on_child, x);
		if (r < 0) {
			sbxd_proctree_kill(pid);
		} else {
			x->pid = pid;
			sbxd_loop_timer(x->d->loop, &x->started_t, 0, on_started_timer, x);
		}
	}
	return r;
}

static void fallback(struct sbxd_xcmd *x, int err)
{
	struct sbxd_svc *v = sbxd_store_svc(&x->d->store, x->svc_id);
	struct sbxd_spawn_req *req = malloc(sizeof(*req));
	int r = -ESRCH;

	sbx_log(SBX_LOG_INFO, "sandbox %s: executor command not run by the spawner (%s)", x->svc_id,
		strerror(-err));
	if (v && req && !x->kill_pending &&
	    sbxd_spawn_msg_decode(x->pkt.data, x->pkt.len, req) == 0)
		r = start_direct(x, v, req->argv, req->envp);
	free(req);
	if (r < 0) {
		close_cfds(x);
		x->started = false;
		exited(x, -1);
	}
}

static void on_job(struct sbxd_spawn_job *j, enum sbxd_spawn_event ev, int value)
{
	struct sbxd_xcmd *x = j->arg;

	switch (ev) {
	case SBX_SPAWN_EV_STARTED:
		close_cfds(x);
		x->pid = ns_pid(value);
		if (x->kill_pending)
			sbxd_proctree_kill(value);
		report_started(x);
		break;
	case SBX_SPAWN_EV_EXITED: exited(x, value); break;
	case SBX_SPAWN_EV_RETRY: fallback(x, value); break;
	}
}

/* PATH, HOME, LANG, HOSTNAME, the service env, then extra; later wins. */
static char **make_env(const struct sbxd_svc *v, char *const *extra, struct sbx_buf *host)
{
	static const char *const base[] = {
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
	    "LANG=C.UTF-8"};
	size_t n = 0, cap = 5, i, j;
	char *const *lists[2] = {v->spec.env, extra};
	char **env;

	for (int l = 0; l < 2; l++)
		for (i = 0; lists[l] && lists[l][i]; i++)
			cap++;
	env = calloc(cap, sizeof(char *));
	if (!env || sbx_buf_printf(host, "HOSTNAME=%s", v->spec.hostname) < 0) {
		free(env);
		return NULL;
	}
	for (i = 0; i < 3; i++)
		env[n++] = (char *)base[i];
	env[n++] = host->data;
	for (int l = 0; l < 2; l++)
		for (i = 0; lists[l] && lists[l][i]; i++) {
			size_t kl = strcspn(lists[l][i], "=") + 1;

			for (j = 0; j < n && strncmp(env[j], lists[l][i], kl); j++)
				;
			env[j] = lists[l][i];
			if (j == n)
				n++;
		}
	return env;
}

static int spawn(struct sbxd_xcmd *x, struct sbxd_svc *v, char *const *argv, char *const *extra)
{
	struct sbx_buf host = SBX_BUF_INIT;
	char **env = make_env(v, extra, &host);
	struct sbxd_spawner *sp;
	int r;

	if (!env)
		return -ENOMEM;
	r = sbxd_nsexec_pipes(x->fd, x->cfd);
	if (r < 0)
		goto out;
	close(x->fd[0]); /* stdin is empty: the command sees EOF */
	x->fd[0] = -1;
	r = sbxd_spawn_msg_encode(&x->pkt, 0, argv, env);
	if (r == 0 && (sp = sbxd_sandbox_spawner(v)) &&
	    (r = sbxd_spawner_spawn(sp, &x->job, &x->pkt, x->cfd, on_job, x)) == 0) {
		x->via_spawner = true;
		goto out;
	}
	r = start_direct(x, v, argv, env);
	if (r < 0)
		for (int i = 0; i < 3; i++)
			close_fd(x, i);
out:
	free(env);
	sbx_buf_release(&host);
	return r;
}

int sbxd_xcmd_start(struct sbxd *d, struct sbxd_svc *v, char *const *argv, char *const *extra_env,
		    const struct sbxd_xcmd_ops *ops, void *user, struct sbxd_xcmd **ret)
{
	struct sbxd_xcmd *x;
	int r;

	if (!sbxd_sandbox_pid(v))
		return -ESRCH;
	x = calloc(1, sizeof(*x));
	if (!x || !(x->rbuf = malloc(SBX_XCMD_CHUNK))) {
		free(x);
		return -ENOMEM;
	}
	x->d = d;
	x->ops = ops;
	x->user = user;
	snprintf(x->svc_id, sizeof(x->svc_id), "%s", v->id);
	for (int i = 0; i < 3; i++) {
		x->fd[i] = x->cfd[i] = -1;
		x->w[i].fd = -1;
	}
	x->child.w.fd = -1;
	r = spawn(x, v, argv, extra_env);
	if (r < 0) {
		close_cfds(x);
		free_x(x);
		return r;
	}
	x->started = true;
	watch(x, true);
	*ret = x;
	return 0;
}

void sbxd_xcmd_pause(struct sbxd_xcmd *x, bool paused)
{
	if (x->done || paused == x->paused)
		return;
	x->paused = paused;
	watch(x, !paused);
}

void sbxd_xcmd_kill(struct sbxd_xcmd *x)
{
	kill_tree(x);
}

pid_t sbxd_xcmd_pid(const struct sbxd_xcmd *x)
{
	return x->pid;
}

void sbxd_xcmd_release(struct sbxd_xcmd *x)
{
	if (!x)
		return;
	x->user = NULL;
	if (!x->exited)
		kill_tree(x);
	maybe_free(x);
}
