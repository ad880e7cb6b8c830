/* agent_job.c - commands run by the agent on its own session (JOB_START),
 * behind the sbx_rfs_proc calls of rfs.h: no exec session per command.
 *
 * A job is its JOB_START request, registered until its EV_EXIT (or the
 * session's end). Its frames arrive under the session lock, but the
 * caller's callbacks must not run there (they take their own locks, which
 * they also hold while calling us): frames are copied to a queue that the
 * transport thread empties once it released the lock (rfs_agent_deliver),
 * so callbacks run in order, one at a time, on that thread, like
 * sbx_exec's.
 *
 * References (a->m): the caller's, and the session's from the start until
 * the last callback ran; a JOB_STDIN in flight holds one too. Deadlines
 * (timeout_s) are kept by one timer thread per agent context, started
 * with the first job that has one; cancel and timeout send SIGKILL to the
 * job's process group.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfs/agent_int.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Bytes of stdin sent and not yet written to the job's pipe, at most: the
 * agent's own bound (src/agent/jobs.h: AGENT_STDIN_QUEUE_MAX), past which
 * it refuses a JOB_STDIN. */
#define JOB_STDIN_WINDOW (4u << 20)

struct agent_job {
	struct agent_req q; /* JOB_START; the job's id is q.id */
	struct rfs_agent *a;
	struct sbx_exec_cbs cbs;      /* fixed */
	void *ud;		      /* fixed */
	double timeout_s;	      /* fixed */
	int64_t t0, deadline;	      /* fixed; deadline 0: none */
	int refs;		      /* a->m */
	bool ended;		      /* a->m: the last event is queued */
	bool cancelled, timed_out;    /* a->m */
	bool stdin_closed;	      /* a->m */
	size_t unacked;		      /* a->m: stdin bytes not yet in the pipe */
	int stdin_err;		      /* a->m: a JOB_STDIN refused: bytes were lost */
	struct agent_job *next_timed; /* a->m: jobs with a deadline */
	struct job_ev *end;	      /* a->m: the last event, made at the start */
};

/* A frame (or the end) waiting to reach the caller's callbacks. */
struct job_ev {
	struct agent_job *j;
	uint16_t type; /* SBXA_EV_*, or 0: the session ended (code) */
	int code;
	size_t n;
	struct job_ev *next;
	char data[]; /* n bytes */
};

static void job_unref_locked(struct agent_job *j)
{
	if (--j->refs == 0) {
		free(j->end);
		free(j);
	}
}

/* Queues an event; the end (EV_EXIT or 0) uses the one made at the start,
 * so that on_done is never lost. Output that cannot be held is dropped. */
static void queue_ev(struct agent_job *j, uint16_t type, int code, const void *d, size_t n)
{
	struct rfs_agent *a = j->a;
	struct job_ev *ev;

	if (type == SBXA_EV_STDOUT || type == SBXA_EV_STDERR) {
		ev = malloc(sizeof(*ev) + n);
	} else {
		ev = j->end;
		j->end = NULL;
		n = 0;
	}
	if (!ev)
		return;
	ev->j = j;
	ev->type = type;
	ev->code = code;
	ev->n = n;
	ev->next = NULL;
	if (n)
		memcpy(ev->data, d, n);
	if (a->jobq_tail)
		a->jobq_tail->next = ev;
	else
		a->jobq = ev;
	a->jobq_tail = ev;
}

/* JOB_START's frames (a->m held): queued for rfs_agent_deliver(). EV_EXIT
 * and only it is the last frame: a job that ends otherwise (or goes on
 * after it) fails with -EPROTO through job_fail, so on_done comes exactly
 * once and nothing after it. */
static int job_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	struct agent_job *j = ud;
	struct sbxa_r rd;
	uint32_t how;
	int32_t code;

	if ((type == SBXA_EV_EXIT) == !!(flags & SBXA_F_MORE))
		return -EPROTO;
	sbxa_r_init(&rd, p, n);
	switch (type) {
	case SBXA_EV_STDOUT:
	case SBXA_EV_STDERR: /* bare bytes */
		if (n)
			queue_ev(j, type, 0, p, n);
		return 0;
	case SBXA_EV_EXIT:
		sbxa_get_i32(&rd); /* its status: 0 */
		how = sbxa_get_u32(&rd);
		code = sbxa_get_i32(&rd);
		if (rd.err ||
		    !(how == SBXA_EXIT_CODE ? code >= 0 && code <= 255
					    : how == SBXA_EXIT_SIGNAL && code > 0 && code < 128))
			return -EPROTO;
		j->ended = true;
		queue_ev(j, SBXA_EV_EXIT, how == SBXA_EXIT_SIGNAL ? 128 + code : code, NULL, 0);
		return 0;
	default: return 0; /* the first frame: the pid */
	}
}

/* The session ended or the start failed before EV_EXIT (a->m held). */
static void job_fail(void *ud, int code)
{
	struct agent_job *j = ud;

	if (j->ended)
		return;
	j->ended = true;
	queue_ev(j, 0, code, NULL, 0);
}

/* The result of a job that ended; code is the exit code, or for type 0
 * the transport's error. */
static void result_of(const struct agent_job *j, const struct job_ev *ev, struct sbx_exec_result *r)
{
	memset(r, 0, sizeof(*r));
	r->duration_s = (double)(sbx_now_ms() - j->t0) / 1000;
	r->exit_code = ev->type ? ev->code : -1;
	if (j->timed_out) {
		r->status = SBX_EXEC_TIMEOUT;
		r->error = -SBX_ETIMEDOUT;
		snprintf(r->message, sizeof(r->message), "command timed out after %g s",
			 j->timeout_s);
	} else if (j->cancelled) {
		r->status = SBX_EXEC_KILLED;
		r->error = -SBX_ECANCELED;
		snprintf(r->message, sizeof(r->message), "command cancelled");
	} else if (!ev->type) {
		r->status = SBX_EXEC_FAILED;
		r->error = ev->code < 0 ? ev->code : -SBX_ECONN;
		if (r->error == -SBX_ECONN)
			snprintf(r->message, sizeof(r->message), "the agent session ended");
		else
			snprintf(r->message, sizeof(r->message), "cannot start the command: %s",
				 strerror(-r->error));
	} else {
		r->status = ev->code == 0 ? SBX_EXEC_FINISHED : SBX_EXEC_FAILED;
	}
}

void rfs_agent_deliver(struct rfs_agent *a)
{
	struct sbx_exec_result res;
	struct job_ev *ev;
	struct agent_job *j;

	for (;;) {
		pthread_mutex_lock(&a->m);
		ev = a->jobq;
		if (ev) {
			a->jobq = ev->next;
			if (!a->jobq)
				a->jobq_tail = NULL;
		}
		pthread_mutex_unlock(&a->m);
		if (!ev)
			return;
		j = ev->j;
		if (ev->type == SBXA_EV_STDOUT && j->cbs.on_stdout)
			j->cbs.on_stdout(j->ud, ev->data, ev->n);
		else if (ev->type == SBXA_EV_STDERR && j->cbs.on_stderr)
			j->cbs.on_stderr(j->ud, ev->data, ev->n);
		else if (ev->type == SBXA_EV_EXIT || ev->type == 0) {
			pthread_mutex_lock(&a->m);
			result_of(j, ev, &res);
			pthread_mutex_unlock(&a->m);
			if (j->cbs.on_done)
				j->cbs.on_done(j->ud, &res);
			pthread_mutex_lock(&a->m);
			job_unref_locked(j); /* the session's */
			pthread_mutex_unlock(&a->m);
		}
		free(ev);
	}
}

/* ---- signals and deadlines ---- */

struct sig_req {
	struct agent_req q;
};

/* SIGKILL (or sig) to the job's process group; nobody waits (a->m). */
static void send_signal_locked(struct agent_job *j, int sig)
{
	struct sig_req *s = calloc(1, sizeof(*s));
	struct sbxa_w w = {0};

	if (!s)
		return;
	s->q.detached = true;
	rfs_agent_begin(&w, SBXA_OP_JOB_SIGNAL);
	sbxa_put_u32(&w, j->q.id);
	sbxa_put_u32(&w, (uint32_t)sig);
	rfs_agent_send_locked(j->a, &s->q, &w); /* frees s on failure */
	sbxa_w_release(&w);
}

static void *timer_main(void *arg)
{
	struct rfs_agent *a = arg;
	struct agent_job **pp, *j;
	struct timespec ts;
	int64_t now, next;

	pthread_mutex_lock(&a->m);
	while (!a->timer_stop) {
		now = sbx_now_ms();
		next = now + 60000;
		for (pp = &a->timed; (j = *pp);) {
			if (j->ended) {
				*pp = j->next_timed;
				job_unref_locked(j);
				continue;
			}
			if (j->deadline <= now && !j->timed_out) {
				j->timed_out = true;
				send_signal_locked(j, SIGKILL);
			} else if (j->deadline < next) {
				next = j->deadline;
			}
			pp = &j->next_timed;
		}
		sbx_deadline_ts(&ts, next - now > 100 ? next - now : 100);
		pthread_cond_timedwait(&a->tcv, &a->m, &ts);
	}
	pthread_mutex_unlock(&a->m);
	return NULL;
}

/* Puts j on the timer's list (a->m held); starts the thread once. */
static int arm_locked(struct agent_job *j)
{
	struct rfs_agent *a = j->a;

	if (!a->timer_on) {
		if (pthread_create(&a->timer, NULL, timer_main, a))
			return -EAGAIN;
		a->timer_on = true;
	}
	j->refs++;
	j->next_timed = a->timed;
	a->timed = j;
	pthread_cond_signal(&a->tcv);
	return 0;
}

void rfs_agent_timer_stop(struct rfs_agent *a)
{
	struct agent_job *j;

	pthread_mutex_lock(&a->m);
	a->timer_stop = true;
	pthread_cond_signal(&a->tcv);
	pthread_mutex_unlock(&a->m);
	if (a->timer_on)
		pthread_join(a->timer, NULL);
	a->timer_on = false;
	while ((j = a->timed)) {
		a->timed = j->next_timed;
		job_unref_locked(j);
	}
}

/* ---- the calls behind sbx_rfs_proc ---- */

static int put_job(struct sbxa_w *w, const struct sbx_exec_opts *o)
{
	size_t i;

	rfs_agent_begin(w, SBXA_OP_JOB_START);
	if (o->command) {
		sbxa_put_u32(w, 3);
		sbxa_put_cstr(w, "sh");
		sbxa_put_cstr(w, "-c");
		sbxa_put_cstr(w, o->command);
	} else {
		if (!o->argc || o->argc > SBXA_ARGS_MAX)
			return -EINVAL;
		sbxa_put_u32(w, (uint32_t)o->argc);
		for (i = 0; i < o->argc; i++)
			sbxa_put_cstr(w, o->argv[i]);
	}
	if (o->n_env > SBXA_ARGS_MAX)
		return -EINVAL;
	sbxa_put_u32(w, (uint32_t)o->n_env);
	for (i = 0; i < o->n_env; i++)
		sbxa_put_cstr(w, o->env[i]);
	sbxa_put_cstr(w, o->cwd ? o->cwd : "");
	sbxa_put_u32(w, SBXA_JOB_ENV_ADD | (o->stdin_open ? SBXA_JOB_STDIN : 0));
	return w->err;
}

int rfs_agent_job_start(struct rfs_agent *a, const struct sbx_exec_opts *o,
			const struct sbx_exec_cbs *cbs, void *ud, struct agent_job **ret,
			struct sbx_err *err)
{
	struct agent_job *j = calloc(1, sizeof(*j));
	struct sbxa_w w = {0};
	int rc;

	if (!j)
		return sbx_err_set(err, -ENOMEM, 0, "out of memory");
	j->a = a;
	j->cbs = *cbs;
	j->ud = ud;
	j->t0 = sbx_now_ms();
	j->timeout_s = o->timeout_s;
	j->deadline = o->timeout_s > 0 ? j->t0 + (int64_t)(o->timeout_s * 1000) : 0;
	j->stdin_closed = !o->stdin_open;
	j->refs = 2; /* the caller's and the session's */
	j->q.on_frame = job_frame;
	j->q.on_fail = job_fail;
	j->q.ud = j;
	j->end = calloc(1, sizeof(*j->end));
	rc = j->end ? put_job(&w, o) : -ENOMEM;
	if (rc < 0) {
		sbxa_w_release(&w);
		free(j->end);
		free(j);
		return sbx_err_set(err, rc, 0, "%s",
				   rc == -ENOMEM ? "out of memory"
						 : "command too large for the agent");
	}
	rc = rfs_agent_send(a, &j->q, &w, err);
	sbxa_w_release(&w);
	if (rc < 0) {
		free(j->end);
		free(j);
		return rc;
	}
	pthread_mutex_lock(&a->m);
	if (j->deadline && !j->ended && arm_locked(j) < 0)
		sbx_debug("agent job: no timer thread; its deadline is not kept");
	pthread_mutex_unlock(&a->m);
	*ret = j;
	return 0;
}

/* JOB_STDIN's answer: the bytes are in the pipe (or the job is gone). */
struct stdin_req {
	struct agent_req q;
	struct agent_job *j;
	size_t n;
};

static void stdin_done_locked(struct stdin_req *s, int code)
{
	struct agent_job *j = s->j;

	if (!j)
		return;
	/* refused while the job lives (its queue full, out of memory): the
	 * bytes are lost. The pipe gone or the session over is -EPIPE. */
	if (code < 0 && code != -EPIPE && code != -ESRCH && code != -SBX_ECONN && !j->stdin_err)
		j->stdin_err = code;
	s->j = NULL;
	j->unacked -= s->n;
	pthread_cond_broadcast(&j->a->cv);
	job_unref_locked(j);
}

static int stdin_frame(void *ud, uint16_t type, uint16_t flags, const uint8_t *p, size_t n)
{
	if (!(flags & SBXA_F_MORE))
		stdin_done_locked(ud, 0);
	return 0;
}

/* The agent refused the bytes, or the session ended. */
static void stdin_fail(void *ud, int code)
{
	stdin_done_locked(ud, code);
}

static int stdin_send_locked(struct agent_job *j, const void *d, size_t n)
{
	struct stdin_req *s = calloc(1, sizeof(*s));
	struct sbxa_w w = {0};
	int rc;

	if (!s)
		return -ENOMEM;
	s->q.detached = true;
	s->q.on_frame = stdin_frame;
	s->q.on_fail = stdin_fail;
	s->q.ud = s;
	s->j = j;
	s->n = n;
	j->refs++;
	j->unacked += n;
	rfs_agent_begin(&w, SBXA_OP_JOB_STDIN);
	sbxa_put_u32(&w, j->q.id);
	sbxa_put_bytes(&w, d, n);
	rc = rfs_agent_send_locked(j->a, &s->q, &w);
	if (rc < 0) { /* s was freed */
		j->unacked -= n;
		job_unref_locked(j);
	}
	sbxa_w_release(&w);
	return rc;
}

int rfs_agent_job_write_stdin(struct agent_job *j, const void *d, size_t n)
{
	const char *p = d;
	size_t chunk;
	int rc = 0;

	pthread_mutex_lock(&j->a->m);
	while (rc == 0 && n) {
		chunk = n < SBXA_IO_MAX ? n : SBXA_IO_MAX;
		/* the agent queues at most JOB_STDIN_WINDOW bytes of a job's
		 * stdin and refuses more: never have more than that unacked */
		while (j->unacked && j->unacked + chunk > JOB_STDIN_WINDOW && !j->ended &&
		       !j->stdin_err)
			pthread_cond_wait(&j->a->cv, &j->a->m);
		if (j->stdin_err) {
			rc = j->stdin_err;
			break;
		}
		if (j->ended || j->stdin_closed) {
			rc = -EPIPE;
			break;
		}
		rc = stdin_send_locked(j, p, chunk);
		p += chunk;
		n -= chunk;
	}
	pthread_mutex_unlock(&j->a->m);
	return rc;
}

int rfs_agent_job_close_stdin(struct agent_job *j)
{
	int rc = 0;

	pthread_mutex_lock(&j->a->m);
	if (j->stdin_err) {
		rc = j->stdin_err; /* the job must not take a stream cut short as whole */
	} else if (!j->stdin_closed && !j->ended) {
		j->stdin_closed = true;
		rc = stdin_send_locked(j, NULL, 0);
	}
	pthread_mutex_unlock(&j->a->m);
	return rc;
}

int rfs_agent_job_cancel(struct agent_job *j)
{
	pthread_mutex_lock(&j->a->m);
	if (!j->ended && !j->cancelled) {
		j->cancelled = true;
		send_signal_locked(j, SIGKILL);
	}
	pthread_mutex_unlock(&j->a->m);
	return 0;
}

size_t rfs_agent_job_stdin_pending(struct agent_job *j)
{
	size_t n;

	pthread_mutex_lock(&j->a->m);
	n = j->unacked;
	pthread_mutex_unlock(&j->a->m);
	return n;
}

void rfs_agent_job_unref(struct agent_job *j)
{
	struct rfs_agent *a;

	if (!j)
		return;
	a = j->a;
	pthread_mutex_lock(&a->m);
	job_unref_locked(j);
	pthread_mutex_unlock(&a->m);
}
