/* job.c - jobs of /.ctl: one exec session each, its output kept in
 * memory (bounded), reads parked until data or the end.
 *
 * Life of a job: pending (made by .ctl/new or a write to .ctl/exec) →
 * running (job_run: dirty files are stored first, so the command sees every
 * write made through the mount) → done (on_done, transport thread) →
 * ended (inval thread: every cache was dropped, then the final state is
 * shown and parked reads get their last bytes and EOF). So a reader that
 * sees the end of a job also sees what the job changed.
 *
 * Parking a read (job_read) without a race with its interrupt: the waiter
 * is queued with `registering` set, the interrupt hook is installed, then
 * the waiter is checked again under the lock. While `registering` is set
 * nobody but the parking thread answers it (an interrupt only marks it), so
 * the request is never used after its reply.
 */
#include "fs/ctl/ctl_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/inval.h"
#include "util/log.h"
#include "util/rand.h"
#include "util/shquote.h"

const char *job_state_name(enum job_state s)
{
	switch (s) {
	case JOB_PENDING: return "pending";
	case JOB_RUNNING: return "running";
	case JOB_FINISHED: return "finished";
	case JOB_FAILED: return "failed";
	case JOB_KILLED: return "killed";
	case JOB_TIMEOUT: return "timeout";
	}
	return "failed";
}

struct job *job_new(struct ctl *c, uid_t uid, bool from_exec, int *err)
{
	struct job *j = calloc(1, sizeof(*j)), *reaped = NULL, *o;
	char uuid[37];

	*err = j ? sbx_rand_uuid(uuid) : -ENOMEM;
	if (*err < 0) {
		free(j);
		return NULL;
	}
	j->ctl = c;
	j->refs = 1; /* the caller's */
	j->uid = uid;
	j->from_exec = from_exec;
	snprintf(j->marker, sizeof(j->marker), "SBXFS_JOB=%s", uuid);
	clock_gettime(CLOCK_REALTIME, &j->ctime);
	j->mtime = j->ctime;
	pthread_mutex_lock(&c->lock);
	*err = jobtab_add(c, j, &reaped);
	pthread_mutex_unlock(&c->lock);
	while ((o = reaped)) {
		reaped = o->next;
		job_put(c, o); /* the table's reference */
	}
	if (*err < 0) {
		free(j);
		return NULL;
	}
	return j;
}

struct job *job_find(struct ctl *c, unsigned id)
{
	struct job *j;

	pthread_mutex_lock(&c->lock);
	j = jobtab_get(c, id);
	if (j)
		j->refs++;
	pthread_mutex_unlock(&c->lock);
	return j;
}

void job_put(struct ctl *c, struct job *j)
{
	bool last;

	if (!j)
		return;
	pthread_mutex_lock(&c->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		job_free(j);
}

void job_discard(struct ctl *c, struct job *j)
{
	bool linked;

	pthread_mutex_lock(&c->lock);
	linked = jobtab_get(c, j->id) == j;
	if (linked)
		jobtab_remove(c, j);
	pthread_mutex_unlock(&c->lock);
	if (linked)
		job_put(c, j); /* the table's reference */
}

void job_free(struct job *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < 3; i++)
		sbx_buf_release(&j->s[i].b);
	for (i = 0; i < j->n_env; i++)
		free(j->env[i]);
	free(j->env);
	free(j->cmd);
	free(j->cwd);
	sbx_buf_release(&j->stdin_pend);
	if (j->e)
		sbx_rfs_proc_unref(j->e);
	free(j);
}

int job_exit_code(const struct job *j)
{
	switch (j->final) {
	case JOB_TIMEOUT: return 124;
	case JOB_KILLED: return 137;
	default: return j->exit_code;
	}
}

/* ---- parked reads (ctl->lock held throughout) ---- */

/* Answers w if it can be answered now; true when it was. */
static bool try_serve(struct job *j, struct waiter *w)
{
	char code[16];
	const struct sbx_buf *b;
	uint64_t off = w->cursor ? *w->cursor : w->off;
	size_t n, len;

	if (w->interrupted) {
		fuse_reply_err(w->req, EINTR);
		return true;
	}
	if (w->stream == S_EXIT) {
		if (!j->ended)
			return false;
		len = (size_t)snprintf(code, sizeof(code), "%d\n", job_exit_code(j));
		n = off < len ? len - (size_t)off : 0;
		fuse_reply_buf(w->req, code + (off < len ? off : 0), n < w->size ? n : w->size);
		return true;
	}
	b = &j->s[w->stream].b;
	if (off < b->len) {
		n = b->len - (size_t)off < w->size ? b->len - (size_t)off : w->size;
		fuse_reply_buf(w->req, b->data + off, n);
		if (w->cursor)
			*w->cursor += n;
		return true;
	}
	if (j->ended) {
		fuse_reply_buf(w->req, NULL, 0);
		return true;
	}
	return false;
}

static void unlink_waiter(struct job *j, struct waiter *w)
{
	struct waiter **pp = &j->waiters;

	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
}

/* Answers every parked read that can be answered. */
static void serve_all(struct job *j)
{
	struct waiter **pp = &j->waiters, *w;

	while ((w = *pp)) {
		if (!w->registering && try_serve(j, w)) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

/* The interrupt hook gets the ctl, not the job: libfuse may call it after
 * the read was answered, when the job may already be reaped. */
static void on_interrupt(fuse_req_t req, void *data)
{
	struct ctl *c = data;
	struct waiter *w = NULL;
	struct job *j = NULL;
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; !w && i < c->n_jobs; i++)
		for (j = c->jobs[i], w = j->waiters; w && w->req != req; w = w->next)
			;
	if (w) {
		w->interrupted = true;
		if (!w->registering) {
			unlink_waiter(j, w);
			fuse_reply_err(req, EINTR);
			free(w);
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void job_forget_cursor_locked(struct job *j, const uint64_t *cursor)
{
	struct waiter **pp = &j->waiters, *w;

	while ((w = *pp)) {
		if (w->cursor != cursor) {
			pp = &w->next;
			continue;
		}
		w->cursor = NULL;
		w->interrupted = true;
		if (w->registering) { /* job_read ends it */
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		fuse_reply_err(w->req, EINTR);
		free(w);
	}
}

void job_read(fuse_req_t req, struct job *j, int stream, uint64_t off, size_t size,
	      uint64_t *cursor)
{
	struct ctl *c = j->ctl;
	struct waiter *w = calloc(1, sizeof(*w));

	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	w->req = req;
	w->stream = stream;
	w->off = off;
	w->cursor = cursor;
	w->size = size;
	w->registering = true;
	pthread_mutex_lock(&c->lock);
	if (try_serve(j, w)) {
		pthread_mutex_unlock(&c->lock);
		free(w);
		return;
	}
	w->next = j->waiters;
	j->waiters = w;
	pthread_mutex_unlock(&c->lock);
	/* may call on_interrupt at once, which then only marks w */
	fuse_req_interrupt_func(req, on_interrupt, c);
	pthread_mutex_lock(&c->lock);
	w->registering = false;
	if (try_serve(j, w)) {
		unlink_waiter(j, w);
		free(w);
	}
	pthread_mutex_unlock(&c->lock);
}

/* ---- the exec session (transport thread) ---- */

static void append(struct stream *s, const char *d, size_t n)
{
	size_t room = s->b.len < JOB_STREAM_MAX ? JOB_STREAM_MAX - s->b.len : 0;
	size_t k = n < room ? n : room;

	if (k && sbx_buf_append(&s->b, d, k) < 0)
		k = 0;
	s->dropped += n - k;
}

static void output(struct job *j, int stream, const char *d, size_t n)
{
	struct ctl *c = j->ctl;

	pthread_mutex_lock(&c->lock);
	append(&j->s[stream], d, n);
	append(&j->s[S_ALL], d, n);
	clock_gettime(CLOCK_REALTIME, &j->mtime);
	serve_all(j);
	pthread_mutex_unlock(&c->lock);
}

static void on_stdout(void *ud, const char *d, size_t n)
{
	output(ud, S_OUT, d, n);
}

static void on_stderr(void *ud, const char *d, size_t n)
{
	output(ud, S_ERR, d, n);
}

/* Frees the output of ended jobs older than the newest JOB_KEEP_OUTPUT
 * ended ones, so memory stays bounded however many jobs run. A parked read
 * of a pruned job cannot exist: it was answered at the end. */
static void prune(struct ctl *c)
{
	size_t i, kept = 0;
	int s;

	for (i = c->n_jobs; i-- > 0;) {
		struct job *o = c->jobs[i];

		if (!o->ended || o->pruned || o->waiters || ++kept <= JOB_KEEP_OUTPUT)
			continue;
		for (s = 0; s < 3; s++)
			sbx_buf_release(&o->s[s].b);
		o->pruned = true;
	}
}

/* Inval thread, after the caches were dropped: the job has ended. */
static void publish(void *ud)
{
	struct job *j = ud;
	struct ctl *c = j->ctl;
	char note[128];
	int i, len;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < 3; i++) {
		if (!j->s[i].dropped)
			continue;
		len = snprintf(note, sizeof(note),
			       "\n[sbxfs: %llu bytes of output dropped "
			       "past %u MiB]\n",
			       (unsigned long long)j->s[i].dropped, JOB_STREAM_MAX >> 20);
		sbx_buf_append(&j->s[i].b, note, (size_t)len);
	}
	j->state = j->final;
	j->ended = true;
	clock_gettime(CLOCK_REALTIME, &j->mtime);
	serve_all(j);
	prune(c);
	pthread_mutex_unlock(&c->lock);
}

static void on_done(void *ud, const struct sbx_exec_result *r)
{
	struct job *j = ud;
	struct ctl *c = j->ctl;

	pthread_mutex_lock(&c->lock);
	switch (r->status) {
	case SBX_EXEC_FINISHED: j->final = JOB_FINISHED; break;
	case SBX_EXEC_TIMEOUT: j->final = JOB_TIMEOUT; break;
	case SBX_EXEC_KILLED: j->final = JOB_KILLED; break;
	default: j->final = JOB_FAILED; break;
	}
	j->exit_code = r->error ? 255 : r->exit_code;
	if (r->error)
		snprintf(j->msg, sizeof(j->msg), "%s", r->message);
	j->done = true;
	c->running--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->lock);
	/* with change events the job's effects were reported before its end
	 * (sbx_rfs_proc_ordered): they are applied first, no cache drop */
	if (c->fs->watching)
		inval_post_ordered(c->fs->inval, publish, j);
	else
		inval_post(c->fs->inval, publish, j);
}

/* ---- starting and steering ---- */

static int start(struct ctl *c, struct job *j)
{
	const struct sbx_exec_cbs cbs = {
	    .on_stdout = on_stdout, .on_stderr = on_stderr, .on_done = on_done};
	struct sbx_exec_opts o = {0};
	struct sbx_fs *fs = c->fs;
	struct sbx_err err = {0};
	const char **env = calloc(j->n_env + 1, sizeof(*env));
	struct sbx_buf cmd = SBX_BUF_INIT;
	struct sbx_rfs_proc *e = NULL;
	size_t i;
	int r;

	if (!env || sbx_buf_puts(&cmd, "exec sh -c ") < 0 || sbx_shquote(&cmd, j->cmd) < 0) {
		free(env);
		sbx_buf_release(&cmd);
		return -ENOMEM;
	}
	for (i = 0; i < j->n_env; i++)
		env[i] = j->env[i];
	env[j->n_env] = j->marker;
	/* a new sh, so that the job's first process has the marker in its
	 * initial environment (what /proc/PID/environ shows to `signal`) */
	o.command = cmd.data;
	o.cwd = j->cwd ? j->cwd : fs->root[0] ? fs->root : "/";
	o.env = env;
	o.n_env = j->n_env + 1;
	o.timeout_s = j->timeout_s;
	o.stdin_open = !j->from_exec;
	r = fs_check_alive(fs) ?: sbx_rfs_proc_start(fs->rfs, &o, &cbs, j, &e, &err);
	free(env);
	sbx_buf_release(&cmd);
	pthread_mutex_lock(&c->lock);
	if (r < 0) {
		c->running--;
		j->final = j->state = JOB_FAILED;
		j->exit_code = 255;
		j->done = j->ended = true;
		snprintf(j->msg, sizeof(j->msg), "%s", err.msg[0] ? err.msg : strerror(-r));
		serve_all(j);
	} else {
		j->e = e;
		if (j->stdin_pend.len)
			sbx_rfs_proc_write_stdin(e, j->stdin_pend.data, j->stdin_pend.len);
		sbx_buf_release(&j->stdin_pend);
		if (j->stdin_eof && o.stdin_open)
			sbx_rfs_proc_close_stdin(e);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

int job_run(struct ctl *c, struct job *j, const char *cmd, size_t len)
{
	struct sbx_fs *fs = c->fs;
	char *copy;
	int r;

	while (len && (cmd[len - 1] == '\n' || cmd[len - 1] == '\r'))
		len--;
	if (!len || len > JOB_CMD_MAX || memchr(cmd, '\0', len))
		return -EINVAL;
	copy = strndup(cmd, len);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	if (j->state != JOB_PENDING) {
		pthread_mutex_unlock(&c->lock);
		free(copy);
		return -EBUSY;
	}
	j->state = JOB_RUNNING;
	j->cmd = copy;
	c->running++;
	pthread_mutex_unlock(&c->lock);
	r = fs_flush_all(fs);
	if (r < 0)
		sbx_debug("ctl: job %u starts although a file could not be stored: %s", j->id,
			  strerror(-r));
	return start(c, j);
}

int job_kill(struct ctl *c, struct job *j)
{
	struct sbx_rfs_proc *e = NULL;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (j->state == JOB_PENDING) {
		j->final = j->state = JOB_KILLED;
		j->done = j->ended = true;
		serve_all(j);
	} else if (j->e && !j->done) {
		e = sbx_rfs_proc_ref(j->e);
	} else {
		r = -ESRCH;
	}
	pthread_mutex_unlock(&c->lock);
	if (e) {
		sbx_rfs_proc_cancel(e);
		sbx_rfs_proc_unref(e);
	}
	return r;
}

int job_signal(struct ctl *c, struct job *j, const char *name)
{
	char sig[24];
	unsigned count = 0;
	size_t i;
	int r;

	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (i = 0; name[i] && i < sizeof(sig) - 1; i++)
		sig[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	sig[i] = '\0';
	pthread_mutex_lock(&c->lock);
	r = j->state == JOB_RUNNING && !j->done ? 0 : -ESRCH;
	pthread_mutex_unlock(&c->lock);
	if (r == 0)
		r = sbx_rfs_signal_env(c->fs->rfs, j->marker, sig, &count, NULL);
	if (r == 0 && count == 0)
		r = -ESRCH;
	return r;
}

int job_stdin_write(struct ctl *c, struct job *j, const char *d, size_t n)
{
	struct sbx_rfs_proc *e = NULL;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (j->done || j->from_exec)
		r = -EPIPE;
	else if (j->state == JOB_PENDING)
		r = j->stdin_pend.len + n > JOB_STDIN_PENDING_MAX
			? -EFBIG
			: sbx_buf_append(&j->stdin_pend, d, n);
	else if (j->e)
		e = sbx_rfs_proc_ref(j->e);
	pthread_mutex_unlock(&c->lock);
	if (!e)
		return r;
	r = sbx_rfs_proc_write_stdin(e, d, n); /* waits while much is unsent */
	sbx_rfs_proc_unref(e);
	return r;
}

void job_stdin_open(struct ctl *c, struct job *j)
{
	pthread_mutex_lock(&c->lock);
	j->stdin_writers++;
	pthread_mutex_unlock(&c->lock);
}

void job_stdin_close(struct ctl *c, struct job *j)
{
	struct sbx_rfs_proc *e = NULL;

	pthread_mutex_lock(&c->lock);
	if (j->stdin_writers && --j->stdin_writers == 0) {
		if (j->state == JOB_PENDING)
			j->stdin_eof = true;
		else if (j->e && !j->done)
			e = sbx_rfs_proc_ref(j->e);
	}
	pthread_mutex_unlock(&c->lock);
	if (e) {
		sbx_rfs_proc_close_stdin(e);
		sbx_rfs_proc_unref(e);
	}
}
