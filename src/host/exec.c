/* exec.c - exec sessions over the WebSocket; see exec.h for the protocol.
 *
 * Per session: fd[0] is the command's stdin (we write), fd[1]/fd[2] its
 * stdout/stderr (we read). A pipe is only registered in epoll while there is
 * something to do with it (data queued for stdin; room on the socket for
 * output): a paused pipe would otherwise keep reporting EPOLLHUP.
 *
 * With a terminal (exec_tty.h), fd[0] and fd[1] are the master and fd[2] is
 * -1; reading the master fails with EIO once no process holds the terminal,
 * which ends the output like a pipe's EOF.
 *
 * End of output: once the command exited, output is forwarded until both
 * pipes reach EOF, or until no byte arrived for SBX_EXEC_DRAIN_MS while the
 * socket was keeping up (a background child may hold a pipe open forever).
 */
#include "host/exec.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/child.h"
#include "host/daemon.h"
#include "host/exec_msg.h"
#include "host/exec_tty.h"
#include "util/ws_frame.h"
#include "host/runtime/nsexec.h"
#include "host/runtime/sandbox.h"
#include "host/runtime/spawn_msg.h"
#include "host/runtime/spawner.h"
#include "util/b64.h"
#include "util/json.h"
#include "util/log.h"
#include "util/timeutil.h"

enum {
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_NOT_FOUND = 5,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_INTERNAL = 13
};

struct sbxd_exec {
	struct sbxd *d;
	struct sbxd_exec *prev, *next; /* in d->execs */
	struct sbxd_http_conn *conn;   /* NULL once the socket is not ours */
	char qid[64];
	bool q_is_service;
	bool started, exited, finished, freed;
	struct sbxd_child child;   /* the command, on the one-fork path */
	struct sbxd_spawn_job job; /* the command, when the sandbox's spawner runs it */
	bool via_spawner;
	bool kill_pending;  /* asked to die before its pid was known */
	char svc_id[64];    /* to find the sandbox again for a fallback */
	struct sbx_buf pkt; /* argv and env as sent to the spawner, for a fallback */
	int cfd[3];	    /* the command's ends of the pipes, until it started */
	int fd[3];
	struct sbxd_watch w[3];
	struct sbx_buf inq; /* stdin bytes not yet written */
	size_t inq_off;
	bool in_close_req;
	bool out_paused; /* socket above the high water mark */
	bool in_paused;	 /* socket reading paused for stdin */
	bool tty;	 /* fd[0] and fd[1] are a terminal's master (exec_tty.h) */
	int exit_code;
	struct sbxd_timer drain;
	struct sbx_buf frame;
	char *rbuf;
};

static void on_output(struct sbxd_watch *w, uint32_t events);
static void on_stdin_writable(struct sbxd_watch *w, uint32_t events);

static void free_exec(void *arg)
{
	struct sbxd_exec *e = arg;

	sbx_buf_release(&e->inq);
	sbx_buf_release(&e->frame);
	sbx_buf_release(&e->pkt);
	free(e->rbuf);
	free(e);
}

static void close_fd(struct sbxd_exec *e, int i)
{
	sbxd_loop_unwatch(e->d->loop, &e->w[i]);
	if (e->fd[i] >= 0)
		close(e->fd[i]);
	e->fd[i] = -1;
}

static void close_cfds(struct sbxd_exec *e)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (e->cfd[i] >= 0)
			close(e->cfd[i]);
		e->cfd[i] = -1;
	}
}

/* True from the start until the exit status is known. */
static bool running(const struct sbxd_exec *e)
{
	if (!e->started)
		return false;
	return e->via_spawner ? sbxd_spawn_job_active(&e->job) : sbxd_child_running(&e->child);
}

/* Frees the session once neither the socket nor the process needs it. */
static void maybe_free(struct sbxd_exec *e)
{
	int i;

	if (e->freed || e->conn || running(e))
		return;
	e->freed = true;
	close_cfds(e);
	for (i = 0; i < 3; i++)
		close_fd(e, i);
	sbxd_loop_timer_cancel(e->d->loop, &e->drain);
	if (e->prev)
		e->prev->next = e->next;
	else
		e->d->execs = e->next;
	if (e->next)
		e->next->prev = e->prev;
	if (sbxd_loop_defer(e->d->loop, free_exec, e) < 0)
		sbx_log(SBX_LOG_WARN, "exec: leaking a session (out of memory)");
}

/* The command leads its own session, also under the spawner, whose pid is
 * the host's: the same tree kill works on both paths. */
static void kill_tree(struct sbxd_exec *e)
{
	if (!running(e))
		return;
	if (!e->via_spawner)
		sbxd_proctree_kill(e->child.pid);
	else if (e->job.pid)
		sbxd_proctree_kill(e->job.pid); /* unreaped until we RELEASE it */
	else
		e->kill_pending = true;
}

/* Sends one JSON text message; failures end with the socket anyway. */
static void send_text(struct sbxd_exec *e, const char *s, size_t n)
{
	if (e->conn)
		sbxd_ws_send(e->conn, SBX_WS_TEXT, s, n);
}

static void close_socket(struct sbxd_exec *e)
{
	if (!e->conn)
		return;
	sbxd_ws_close(e->conn, SBX_WS_CLOSE_NORMAL, NULL);
	e->conn = NULL;
}

static void send_error(struct sbxd_exec *e, int code, const char *msg)
{
	json_object *o = json_object_new_object(), *err = json_object_new_object();
	struct sbx_buf b = SBX_BUF_INIT;

	if (o && err && sbx_json_add_int(err, "code", code) == 0 &&
	    sbx_json_add_str(err, "message", msg) == 0 &&
	    sbx_json_add(err, "details", json_object_new_array()) == 0 &&
	    sbx_json_add(o, "error", json_object_get(err)) == 0 && sbx_json_dump(&b, o) == 0)
		send_text(e, b.data, b.len);
	sbx_json_put(err);
	sbx_json_put(o);
	sbx_buf_release(&b);
	close_socket(e);
	kill_tree(e);
	e->finished = true;
	maybe_free(e);
}

static void finish(struct sbxd_exec *e)
{
	char msg[96];
	int n, i;

	if (e->finished)
		return;
	e->finished = true;
	sbxd_loop_timer_cancel(e->d->loop, &e->drain);
	for (i = 0; i < 3; i++)
		close_fd(e, i);
	n = snprintf(msg, sizeof(msg), "{\"result\":{\"exited\":true,\"exit_code\":%d}}",
		     e->exit_code);
	send_text(e, msg, (size_t)n);
	close_socket(e);
	maybe_free(e);
}

static void on_drain_timer(struct sbxd_timer *t)
{
	struct sbxd_exec *e = t->arg;

	/* bytes are still flowing, only slower than the socket takes them */
	if (e->out_paused && e->conn) {
		sbxd_loop_timer(e->d->loop, t, SBX_EXEC_DRAIN_MS, on_drain_timer, e);
		return;
	}
	finish(e);
}

/* After the exit: finish when both pipes are done, else (re)arm the drain. */
static void check_done(struct sbxd_exec *e)
{
	if (!e->exited || e->finished)
		return;
	if (e->fd[1] < 0 && e->fd[2] < 0) {
		finish(e);
		return;
	}
	sbxd_loop_timer(e->d->loop, &e->drain, SBX_EXEC_DRAIN_MS, on_drain_timer, e);
}

static void watch_outputs(struct sbxd_exec *e, bool on)
{
	int i;

	for (i = 1; i <= 2; i++) {
		if (e->fd[i] < 0)
			continue;
		if (on && e->w[i].fd < 0)
			sbxd_loop_watch(e->d->loop, &e->w[i], e->fd[i], EPOLLIN, on_output, e);
		else if (!on)
			sbxd_loop_unwatch(e->d->loop, &e->w[i]);
	}
	e->out_paused = !on;
}

static void send_chunk(struct sbxd_exec *e, const char *stream, const char *p, size_t n)
{
	sbx_buf_reset(&e->frame);
	if (sbx_buf_printf(&e->frame, "{\"result\":{\"%s\":{\"data\":\"", stream) < 0 ||
	    sbx_b64_encode(&e->frame, p, n) < 0 || sbx_buf_puts(&e->frame, "\"}}}") < 0) {
		send_error(e, GRPC_INTERNAL, "out of memory");
		return;
	}
	send_text(e, e->frame.data, e->frame.len);
}

static void on_output(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_exec *e = w->arg;
	int i = w == &e->w[1] ? 1 : 2;
	ssize_t n = read(e->fd[i], e->rbuf, SBX_EXEC_CHUNK);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(e, i);
		check_done(e);
		return;
	}
	send_chunk(e, i == 1 ? "stdout" : "stderr", e->rbuf, (size_t)n);
	if (e->finished || !e->conn)
		return;
	if (sbxd_ws_queued(e->conn) > SBX_EXEC_HIGH_WATER)
		watch_outputs(e, false);
	if (e->exited)
		sbxd_loop_timer(e->d->loop, &e->drain, SBX_EXEC_DRAIN_MS, on_drain_timer, e);
}

/* Stdin reading from the socket pauses while too much waits for the pipe. */
static void update_in_pause(struct sbxd_exec *e)
{
	bool want = e->inq.len - e->inq_off > SBX_EXEC_HIGH_WATER;

	if (e->conn && want != e->in_paused)
		sbxd_ws_pause(e->conn, want);
	e->in_paused = want;
}

/* Writes queued stdin; closes the pipe after the last byte when asked. */
static void pump_stdin(struct sbxd_exec *e)
{
	while (e->fd[0] >= 0 && e->inq_off < e->inq.len) {
		ssize_t n = write(e->fd[0], e->inq.data + e->inq_off, e->inq.len - e->inq_off);

		if (n > 0) {
			e->inq_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		close_fd(e, 0); /* EPIPE: the command stopped reading */
	}
	if (e->inq_off == e->inq.len || e->fd[0] < 0) {
		sbx_buf_reset(&e->inq);
		e->inq_off = 0;
	} else if (e->inq_off > SBX_EXEC_CHUNK) {
		sbx_buf_consume(&e->inq, e->inq_off);
		e->inq_off = 0;
	}
	if (e->fd[0] >= 0 && !e->inq.len && e->in_close_req)
		close_fd(e, 0);
	if (e->fd[0] >= 0 && e->inq.len && e->w[0].fd < 0)
		sbxd_loop_watch(e->d->loop, &e->w[0], e->fd[0], EPOLLOUT, on_stdin_writable, e);
	else if (e->fd[0] >= 0 && !e->inq.len)
		sbxd_loop_unwatch(e->d->loop, &e->w[0]);
	update_in_pause(e);
}

static void on_stdin_writable(struct sbxd_watch *w, uint32_t events)
{
	pump_stdin(w->arg);
}

/* body.stdin of a message: data (standard base64) and close; and
 * body.tty_size, a window size change, for a terminal. */
static void feed_stdin(struct sbxd_exec *e, const struct sbxd_exec_msg *m)
{
	if (e->tty && m->rows && e->fd[1] >= 0)
		sbxd_exec_tty_resize(e->fd[1], m->rows, m->cols);
	if (m->stdin_b64 && e->fd[0] >= 0) {
		int r = sbxd_exec_msg_stdin(m, &e->inq);

		if (r < 0) {
			send_error(e, GRPC_INVALID_ARGUMENT,
				   r == -ENOMEM ? "out of memory" : "stdin data is not base64");
			return;
		}
	}
	if (m->stdin_close)
		e->in_close_req = true;
	pump_stdin(e);
}

static void exited(struct sbxd_exec *e, int wstatus)
{
	e->exited = true;
	e->exit_code = sbxd_child_exit_code(wstatus);
	close_fd(e, 0);
	if (!e->conn || e->finished) {
		e->finished = true;
		maybe_free(e);
		return;
	}
	check_done(e);
}

static void on_child_exit(struct sbxd_child *c, int wstatus)
{
	exited(c->arg, wstatus);
}

/* The id of the first message (or the query) -> the sandbox's service. */
static struct sbxd_svc *resolve(struct sbxd_exec *e, const struct sbxd_exec_msg *m)
{
	const char *id;
	bool by_service;

	if (!sbxd_exec_msg_target(m, e->qid, e->q_is_service, &id, &by_service))
		return NULL;
	return by_service ? sbxd_store_svc(&e->d->store, id)
			  : sbxd_store_svc_by_inst(&e->d->store, id);
}

/* PATH, HOME, LANG, HOSTNAME, then the service env (which wins). */
static char **exec_env(const struct sbxd_svc *v, struct sbx_buf *host)
{
	static const char *const base[] = {
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
	    "LANG=C.UTF-8"};
	size_t n = 0, i, j, cap = 5;
	char **env;

	for (i = 0; v->spec.env && v->spec.env[i]; i++)
		cap++;
	env = calloc(cap, sizeof(char *));
	if (!env || sbx_buf_printf(host, "HOSTNAME=%s", v->spec.hostname) < 0) {
		free(env);
		return NULL;
	}
	for (i = 0; i < 3; i++)
		env[n++] = (char *)base[i];
	env[n++] = host->data;
	for (i = 0; v->spec.env && v->spec.env[i]; i++) {
		size_t kl = strcspn(v->spec.env[i], "=") + 1;

		for (j = 0; j < n && strncmp(env[j], v->spec.env[i], kl); j++)
			;
		env[j] = v->spec.env[i];
		if (j == n)
			n++;
	}
	return env;
}

/* The one-fork path (nsexec.h): always there, also when no spawner is. */
static int start_direct(struct sbxd_exec *e, struct sbxd_svc *v, pid_t target, char *const *argv,
			char *const *envp)
{
	struct sbxd_nsexec x = {.target = target,
				.cg = sbxd_sandbox_cgroups(v),
				.filter = &e->d->filter,
				.argv = argv,
				.envp = envp};
	pid_t pid;
	int r = sbxd_nsexec_start(&x, e->cfd, &pid);

	close_cfds(e);
	e->via_spawner = false;
	if (r == 0) {
		r = sbxd_child_watch(e->d->loop, &e->child, pid, &e->d->nchildren, on_child_exit,
				     e);
		if (r < 0)
			sbxd_proctree_kill(pid);
	}
	return r;
}

/* The spawner was lost before the command started: it never ran. */
static void fallback(struct sbxd_exec *e, int err)
{
	struct sbxd_svc *v = sbxd_store_svc(&e->d->store, e->svc_id);
	pid_t target = v ? sbxd_sandbox_pid(v) : 0;
	struct sbxd_spawn_req *req = malloc(sizeof(*req));
	char msg[128];
	int r = -ENOMEM;

	e->via_spawner = false;
	if (!target || e->kill_pending) {
		free(req);
		close_cfds(e);
		send_error(e, GRPC_FAILED_PRECONDITION, "instance is not running");
		return;
	}
	sbx_log(SBX_LOG_INFO, "sandbox %s: exec not run by the spawner (%s); forking it directly",
		e->svc_id, strerror(-err));
	if (req && sbxd_spawn_msg_decode(e->pkt.data, e->pkt.len, req) == 0)
		r = start_direct(e, v, target, req->argv, req->envp);
	free(req);
	if (r < 0) {
		close_cfds(e);
		snprintf(msg, sizeof(msg), "cannot start the command: %s", strerror(-r));
		send_error(e, GRPC_INTERNAL, msg);
	}
}

static void on_job(struct sbxd_spawn_job *j, enum sbxd_spawn_event ev, int value)
{
	struct sbxd_exec *e = j->arg;

	switch (ev) {
	case SBX_SPAWN_EV_STARTED:
		close_cfds(e);
		if (e->kill_pending)
			sbxd_proctree_kill(value);
		break;
	case SBX_SPAWN_EV_EXITED: exited(e, value); break;
	case SBX_SPAWN_EV_RETRY: fallback(e, value); break;
	}
}

/* Through the sandbox's spawner when it takes the request, else forked
 * here; on both paths the same pipes, environment and confinement. */
static int spawn(struct sbxd_exec *e, struct sbxd_svc *v, pid_t target, char **argv, unsigned rows,
		 unsigned cols)
{
	struct sbx_buf host = SBX_BUF_INIT;
	char **env = exec_env(v, &host);
	struct sbxd_spawner *sp;
	int r, i;

	if (!env)
		return -ENOMEM;
	r = e->tty ? sbxd_exec_tty_open(target, rows, cols, e->fd, e->cfd)
		   : sbxd_nsexec_pipes(e->fd, e->cfd);
	if (r < 0)
		goto out;
	snprintf(e->svc_id, sizeof(e->svc_id), "%s", v->id);
	r = sbxd_spawn_msg_encode(&e->pkt, 0, argv, env);
	if (r == 0 && (sp = sbxd_sandbox_spawner(v)) &&
	    (r = sbxd_spawner_spawn(sp, &e->job, &e->pkt, e->cfd, on_job, e)) == 0) {
		e->via_spawner = true;
		goto out;
	}
	sbx_log(SBX_LOG_INFO, "sandbox %s: exec not run by the spawner (%s); forking it directly",
		v->id, r < 0 ? strerror(-r) : "no spawner");
	r = start_direct(e, v, target, argv, env);
	if (r < 0)
		for (i = 0; i < 3; i++)
			close_fd(e, i);
out:
	free(env);
	sbx_buf_release(&host);
	return r;
}

static void start(struct sbxd_exec *e, const struct sbxd_exec_msg *m)
{
	struct sbxd_svc *v = resolve(e, m);
	char **argv = NULL, msg[128];
	pid_t target;
	int r;

	if (!v) {
		send_error(e, GRPC_NOT_FOUND, "instance not found");
		return;
	}
	target = sbxd_sandbox_pid(v);
	if (!target) {
		snprintf(msg, sizeof(msg), "instance is not running (status: %s)",
			 sbxd_inst_status_str(v->inst));
		send_error(e, GRPC_FAILED_PRECONDITION, msg);
		return;
	}
	argv = sbxd_exec_msg_argv(m);
	if (!argv) {
		send_error(e, GRPC_INVALID_ARGUMENT,
			   "body.command (a non-empty array of strings) is required in the first "
			   "message");
		return;
	}
	e->tty = m->want_tty;
	r = spawn(e, v, target, argv, m->rows, m->cols);
	free(argv);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "cannot start the command: %s", strerror(-r));
		send_error(e, GRPC_INTERNAL, msg);
		return;
	}
	e->started = true;
	watch_outputs(e, true);
	feed_stdin(e, m);
}

static void on_message(void *user, int opcode, const uint8_t *data, size_t len)
{
	struct sbxd_exec *e = user;
	struct sbxd_exec_msg m;

	if (e->finished)
		return;
	if (sbxd_exec_msg_parse(data, len, &m) < 0) {
		send_error(e, GRPC_INVALID_ARGUMENT, "a message must be one JSON object");
		return;
	}
	if (!e->started)
		start(e, &m);
	else if (!e->exited)
		feed_stdin(e, &m);
	sbxd_exec_msg_release(&m);
}

static void on_drain(void *user)
{
	struct sbxd_exec *e = user;

	if (e->out_paused && !e->finished)
		watch_outputs(e, true);
}

static void on_close(void *user, uint16_t code)
{
	struct sbxd_exec *e = user;

	e->conn = NULL;
	if (!e->exited)
		kill_tree(e);
	e->finished = true;
	maybe_free(e);
}

static const struct sbxd_ws_ops EXEC_OPS = {
    .on_message = on_message,
    .on_drain = on_drain,
    .on_close = on_close,
};

int sbxd_exec_accept(struct sbxd *d, struct sbxd_http_conn *c, const struct sbxd_http_req *req,
		     const char *id, bool id_is_service, const char *protocol)
{
	struct sbxd_exec *e = calloc(1, sizeof(*e));
	int r, i;

	if (!e)
		return -ENOMEM;
	e->rbuf = malloc(SBX_EXEC_CHUNK);
	if (!e->rbuf) {
		free(e);
		return -ENOMEM;
	}
	e->d = d;
	snprintf(e->qid, sizeof(e->qid), "%s", id);
	e->q_is_service = id_is_service;
	for (i = 0; i < 3; i++) {
		e->fd[i] = e->cfd[i] = -1;
		e->w[i].fd = -1;
	}
	e->child.w.fd = -1;
	e->conn = c;
	r = sbxd_http_conn_upgrade(c, req, protocol, &EXEC_OPS, e);
	if (r < 0) {
		free_exec(e);
		return r;
	}
	e->next = d->execs;
	if (d->execs)
		d->execs->prev = e;
	d->execs = e;
	return 0;
}

void sbxd_exec_kill_all(struct sbxd *d)
{
	struct sbxd_exec *e;

	for (e = d->execs; e; e = e->next)
		if (!e->exited)
			kill_tree(e);
}
