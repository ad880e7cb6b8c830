/* jobs.c - JOB_START, JOB_STDIN, JOB_SIGNAL and the job's events.
 *
 * A job is forked and exec'd at once; a CLOEXEC pipe tells the parent
 * whether the exec happened (EOF) or which errno stopped it, so a job that
 * cannot start is answered with that errno and never gets a pid. The
 * child leads a new process group (JOB_SIGNAL signals the group), starts
 * with default signal dispositions, an empty mask, the agent's original
 * umask, nothing open but 0-2, and, for a credential other than the
 * agent's own, those real ids and groups.
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops.h"

extern char **environ;

void jobs_init(struct agent_jobs *js, mode_t umask_for_jobs)
{
	memset(js, 0, sizeof(*js));
	js->umask = umask_for_jobs;
}

static struct agent_job *job_find(struct agent_jobs *js, uint32_t id)
{
	unsigned i;

	for (i = 0; i < SBXA_JOBS_MAX; i++)
		if (js->j[i].used && js->j[i].id == id)
			return &js->j[i];
	return NULL;
}

static void close_from(int lo, int keep)
{
	struct rlimit rl;
	long i, hi = 65536;

	if ((keep == lo || syscall(SYS_close_range, (unsigned)lo, (unsigned)keep - 1, 0) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)hi)
		hi = (long)rl.rlim_cur;
	for (i = lo; i < hi; i++)
		if (i != keep)
			close((int)i);
}

static _Noreturn void child_fail(int ep)
{
	int e = errno;

	while (write(ep, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* In the child: each "K=V" of env set in the inherited environment. */
static void add_env(char **env, int ep)
{
	for (; *env; env++) {
		char *eq = strchr(*env, '=');

		if (!eq || eq == *env)
			continue;
		*eq = '\0'; /* the child's copy of the request */
		if (setenv(*env, eq + 1, 1) < 0)
			child_fail(ep);
		*eq = '=';
	}
}

/* In the child: fds[0..2] become 0-2, ep reports a failure. */
static _Noreturn void child_run(const struct agent *a, const struct agent_req *q, const int fds[3],
				int ep)
{
	sigset_t none;
	bool changed;
	int s;

	for (s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setpgid(0, 0) < 0)
		child_fail(ep);
	for (s = 0; s < 3; s++)
		if (dup2(fds[s], s) < 0)
			child_fail(ep);
	close_from(3, ep);
	umask(a->jobs.umask);
	if (!a->ids.cur_self) {
		errno = -cred_setgroups(&a->ids, &q->cred, &changed);
		if (errno || setgid(q->cred.gid) < 0 || setuid(q->cred.uid) < 0)
			child_fail(ep);
	}
	if (chdir(q->path) < 0)
		child_fail(ep);
	if (q->flags & SBXA_JOB_ENV_ADD)
		add_env(q->envp, ep);
	else
		environ = q->envp;
	execvp(q->argv[0], q->argv);
	child_fail(ep);
}

static void close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* fds: child stdin, stdout, stderr; mine: stdin writer, stdout, stderr readers */
static int make_pipes(bool with_stdin, int child[3], int mine[3])
{
	int p[2], i;

	for (i = 0; i < 3; i++)
		child[i] = mine[i] = -1;
	if (!with_stdin) {
		child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (child[0] < 0)
			return -errno;
	}
	for (i = with_stdin ? 0 : 1; i < 3; i++) {
		if (pipe2(p, O_CLOEXEC) < 0) {
			int r = -errno;

			close_fds(child, 3);
			close_fds(mine, 3);
			return r;
		}
		child[i] = i ? p[1] : p[0];
		mine[i] = i ? p[0] : p[1];
		fcntl(mine[i], F_SETFL, O_NONBLOCK);
	}
	return 0;
}

/* Forks the job; its pid, or -errno from the child's setup or exec. */
static pid_t spawn(struct agent *a, const struct agent_req *q, const int child[3])
{
	int ep[2], e = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(ep[0]);
		child_run(a, q, child, ep[1]);
	}
	close(ep[1]);
	if (pid < 0) {
		e = errno;
		close(ep[0]);
		return -e;
	}
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -(e ? e : EIO);
	}
	return pid;
}

int op_job_start(struct agent *a, const struct agent_req *q)
{
	int child[3], mine[3], r;
	struct agent_job *j = NULL;
	unsigned i;
	size_t at;
	pid_t pid;

	if (q->flags & ~(SBXA_JOB_STDIN | SBXA_JOB_ENV_ADD))
		return -EINVAL;
	if (job_find(&a->jobs, q->id))
		return -EEXIST;
	for (i = 0; i < SBXA_JOBS_MAX && !j; i++)
		if (!a->jobs.j[i].used)
			j = &a->jobs.j[i];
	if (!j)
		return -EAGAIN;
	r = make_pipes(q->flags & SBXA_JOB_STDIN, child, mine);
	if (r < 0)
		return r;
	pid = spawn(a, q, child);
	close_fds(child, 3);
	if (pid < 0) {
		close_fds(mine, 3);
		return (int)pid;
	}
	*j = (struct agent_job){.used = true,
				.id = q->id,
				.pid = pid,
				.fd_in = mine[0],
				.fd_out = mine[1],
				.fd_err = mine[2]};
	a->jobs.n++;
	at = out_reply(&a->out, q->id, q->op, SBXA_F_MORE);
	sbxa_put_u32(&a->out.w, (uint32_t)pid);
	out_end(&a->out, at);
	return 0;
}

/* One read of a job's pipe into an event: >0 bytes sent, 0 at EOF (the
 * pipe is closed), -EAGAIN when empty, another -errno (closed too). */
static ssize_t pipe_read(struct agent *a, struct agent_job *j, bool err)
{
	int *fd = err ? &j->fd_err : &j->fd_out;
	size_t at = out_begin(&a->out, j->id, err ? SBXA_EV_STDERR : SBXA_EV_STDOUT, SBXA_F_MORE);
	size_t base = a->out.w.len;
	uint8_t *buf = sbxa_w_room(&a->out.w, 65536);
	ssize_t n;

	if (!buf)
		return a->out.w.err;
	do
		n = read(*fd, buf, 65536);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		a->out.w.len = base + (size_t)n;
		out_end(&a->out, at);
		return n;
	}
	a->out.w.len = at;
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	n = n < 0 ? -errno : 0;
	close(*fd);
	*fd = -1;
	return n;
}

void jobs_on_output(struct agent *a, struct agent_job *j, bool err)
{
	pipe_read(a, j, err);
}

static void stdin_answer(struct agent *a, struct agent_job *j, int status)
{
	struct agent_stdin_chunk *c = j->head;
	size_t at;

	j->head = c->next;
	if (!j->head)
		j->tail = NULL;
	j->queued -= c->len;
	if (status < 0) {
		out_status(&a->out, c->id, SBXA_OP_JOB_STDIN, status);
	} else {
		at = out_reply(&a->out, c->id, SBXA_OP_JOB_STDIN, 0);
		sbxa_put_u32(&a->out.w, (uint32_t)c->len);
		out_end(&a->out, at);
	}
	free(c);
}

void jobs_on_stdin(struct agent *a, struct agent_job *j)
{
	struct agent_stdin_chunk *c;
	ssize_t n;

	while ((c = j->head) && j->fd_in >= 0) {
		if (!c->len) { /* the close request */
			close(j->fd_in);
			j->fd_in = -1;
			stdin_answer(a, j, 0);
			break;
		}
		n = write(j->fd_in, c->data + c->off, c->len - c->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			close(j->fd_in);
			j->fd_in = -1;
			break;
		}
		c->off += (size_t)n;
		if (c->off == c->len)
			stdin_answer(a, j, 0);
	}
	while (j->head) /* the pipe is gone: nothing more can be written */
		stdin_answer(a, j, -EPIPE);
}

int op_job_stdin(struct agent *a, const struct agent_req *q)
{
	struct agent_job *j = job_find(&a->jobs, q->num);
	struct agent_stdin_chunk *c;

	if (!j)
		return -ESRCH;
	if (j->fd_in < 0 || (j->tail && !j->tail->len))
		return -EPIPE;
	if (j->queued + q->data_len > AGENT_STDIN_QUEUE_MAX)
		return -ENOBUFS;
	c = malloc(sizeof(*c) + q->data_len);
	if (!c)
		return -ENOMEM;
	*c = (struct agent_stdin_chunk){.id = q->id, .len = q->data_len};
	if (q->data_len)
		memcpy(c->data, q->data, q->data_len);
	if (j->tail)
		j->tail->next = c;
	else
		j->head = c;
	j->tail = c;
	j->queued += c->len;
	jobs_on_stdin(a, j);
	return 0;
}

int op_job_signal(struct agent *a, const struct agent_req *q)
{
	struct agent_job *j = job_find(&a->jobs, q->num);

	if (!j)
		return -ESRCH;
	if (q->num2 >= (uint32_t)NSIG)
		return -EINVAL;
	if (kill(-j->pid, (int)q->num2) < 0)
		return -errno;
	out_status(&a->out, q->id, q->op, 0);
	return 0;
}

static void job_free(struct agent_jobs *js, struct agent_job *j)
{
	struct agent_stdin_chunk *c;
	int fds[3] = {j->fd_in, j->fd_out, j->fd_err};

	close_fds(fds, 3);
	while ((c = j->head)) {
		j->head = c->next;
		free(c);
	}
	memset(j, 0, sizeof(*j));
	js->n--;
}

/* The job's process ended: what it left in its pipes, then EV_EXIT. */
static void job_exited(struct agent *a, struct agent_job *j, int status)
{
	size_t at;

	while (j->fd_out >= 0 && pipe_read(a, j, false) > 0)
		;
	while (j->fd_err >= 0 && pipe_read(a, j, true) > 0)
		;
	if (j->fd_in >= 0) {
		close(j->fd_in);
		j->fd_in = -1;
	}
	while (j->head)
		stdin_answer(a, j, -EPIPE);
	/* the changes the job made are reported before its end (proto.h) */
	if (a->watches.fd >= 0)
		watch_on_event(a);
	at = out_begin(&a->out, j->id, SBXA_EV_EXIT, 0);
	sbxa_put_i32(&a->out.w, 0);
	sbxa_put_u32(&a->out.w, WIFSIGNALED(status) ? SBXA_EXIT_SIGNAL : SBXA_EXIT_CODE);
	sbxa_put_i32(&a->out.w, WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	out_end(&a->out, at);
	job_free(&a->jobs, j);
}

void jobs_reap(struct agent *a)
{
	unsigned i;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < SBXA_JOBS_MAX; i++) {
			if (a->jobs.j[i].used && a->jobs.j[i].pid == pid) {
				job_exited(a, &a->jobs.j[i], status);
				break;
			}
		}
	}
}

void jobs_release(struct agent_jobs *js)
{
	unsigned i;

	for (i = 0; i < SBXA_JOBS_MAX; i++) {
		if (!js->j[i].used)
			continue;
		kill(-js->j[i].pid, SIGKILL);
		job_free(js, &js->j[i]);
	}
}
