/* fs_aop.c - the fs_tp_agent transport: a filesystem primitive as a job of
 * the sandbox handle's agent (exec/agent_slot.h), through the public
 * sbx_rfs_proc calls of sbx/rfs.h; see fs_op.h.
 *
 * The job runs the script as fs_tp_exec's session does (argv sh -c
 * SCRIPT, the sandbox's default environment and umask, stdin the same
 * bytes), and its output and end come as the same callbacks into the same
 * collector (fs_run.h): the result and the error are the same, byte for
 * byte. What changes: no exec session per call, and a job runs in "/"
 * (the agent's directory for jobs) where an exec runs in the sandbox's
 * default directory (also "/" on sbxd).
 *
 * Each operation starts on a detached thread of its own, which starts the
 * job, feeds its stdin and ends: starting may block (a new session after
 * the old one ended, the agent's stdin window, the bound on jobs, the
 * first connection when the caller was a callback thread that could not
 * wait for it), and the asynchronous contract and the callback threads
 * must not. The callbacks then come on the client's WebSocket thread,
 * which carries the agent's session, like fs_tp_exec's; a job that could
 * not start ends the run on this thread.
 *
 * The common primitives (enum fs_native) are requests of the agent
 * instead (fs_native.h: no process in the sandbox), made on that thread,
 * where their callback then runs too (a marked transport thread, as the
 * executor's); whatever they cannot answer as the script would is left
 * to the job, which then runs as above.
 *
 * Nothing of an op is shared after the start but the run (fs_run.h: its
 * own lock) and the caller's borrowed stdin source, pulled here while the
 * caller waits for the callback. The thread may still let go of the job
 * after the callback ran: it holds the slot until then, so that a handle
 * freed right after the callback waits for it (agent_slot.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/sandbox_priv.h"
#include "exec/agent_slot.h"
#include "exec/transport.h"
#include "fs_native.h"
#include "fs_op.h"
#include "fs_run.h"
#include "sbx/rfs.h"
#include "util/log.h"

/* Bytes of stdin pulled from a source and written at once. */
#define AOP_CHUNK ((size_t)256 << 10)

struct aop {
	struct sbx_sandbox *sb;
	struct fs_run *run;    /* the starter's reference, dropped by the thread */
	bool has_in;	       /* the script reads stdin */
	struct sbx_buf in;     /* its stdin, copied (asynchronous forms) */
	struct fs_src src;     /* or pulled from here (synchronous forms) */
	enum fs_native native; /* NONE: always the job */
	char *path;	       /* what the native requests act on */
};

static void aop_free(struct aop *op)
{
	sbx_buf_release(&op->in);
	free(op->path);
	free(op);
}

static void job_left(void *ud)
{
	sbx_agent_slot_job_leave(ud);
}

/* Pulls the source into the job's stdin until its end. 0, or a negative
 * errno (a local failure, already recorded in the run). */
static int feed_src(struct aop *op, struct sbx_rfs_proc *p)
{
	char *buf = malloc(AOP_CHUNK);
	const char *chunk;
	ssize_t n = 1;
	int r = buf ? 0 : -ENOMEM;

	while (!r && (n = op->src.next(op->src.ud, buf, AOP_CHUNK, &chunk)) > 0)
		r = sbx_rfs_proc_write_stdin(p, chunk, (size_t)n);
	free(buf);
	if (!r && n < 0) {
		fs_run_fail(op->run, (int)n, "%s: reading the data: %s", fs_run_what(op->run),
			    strerror((int)-n));
		return (int)n;
	}
	return r;
}

/* Writes the job's stdin and closes it. -EPIPE means the job is already
 * gone: its end says why, so only other failures are recorded. */
static void feed(struct aop *op, struct sbx_rfs_proc *p)
{
	int r = 0;

	if (op->src.next)
		r = feed_src(op, p);
	else if (op->in.len)
		r = sbx_rfs_proc_write_stdin(p, op->in.data, op->in.len);
	if (r == 0)
		r = sbx_rfs_proc_close_stdin(p);
	if (r < 0 && r != -EPIPE)
		fs_run_fail(op->run, r, "%s: writing stdin: %s", fs_run_what(op->run),
			    strerror(-r));
}

/* The run as a job of the agent of rfs. */
static void run_job(struct aop *op, struct sbx_rfs *rfs)
{
	struct sbx_agent_slot *slot = sbx_sandbox_agent_slot(op->sb);
	struct sbx_exec_opts o = {.command = fs_run_script(op->run), .stdin_open = op->has_in};
	struct sbx_rfs_proc *p = NULL;
	struct sbx_err err = {0};
	bool cancel;
	int r;

	sbx_agent_slot_job_enter(slot);
	fs_run_on_end(op->run, job_left, slot);
	r = sbx_rfs_proc_start(rfs, &o, &fs_run_cbs, op->run, &p, &err);
	if (r < 0) {
		fs_run_fail_start(op->run, r, err.msg);
		return;
	}
	cancel = fs_run_attach_proc(op->run, p);
	if (op->has_in && !cancel)
		feed(op, p);
	if (cancel)
		sbx_rfs_proc_cancel(p);
	sbx_rfs_proc_unref(p);
}

/* Pulls all of the source into op->in (a native write needs it whole,
 * and the job may still need it after): 0 or a negative errno. */
static int drain_src(struct aop *op)
{
	char *buf = malloc(AOP_CHUNK);
	const char *chunk;
	ssize_t n = buf ? 1 : -ENOMEM;

	while (n > 0 && (n = op->src.next(op->src.ud, buf, AOP_CHUNK, &chunk)) > 0)
		if (sbx_buf_append(&op->in, chunk, (size_t)n) < 0)
			n = -ENOMEM;
	free(buf);
	op->src.next = NULL; /* the job feeds op->in from here on */
	return (int)n;
}

/* The op as requests of the agent: true when it ended the run, false when
 * the job must run (the run untouched). */
static bool run_native(struct aop *op, struct sbx_rfs *rfs)
{
	struct sbx_fs_result res;
	int r;

	memset(&res, 0, sizeof(res));
	if (op->src.next && (r = drain_src(op)) < 0) {
		res.rc = r;
		sbx_err_set(&res.err, r, 0, "%s: reading the data: %s", fs_run_what(op->run),
			    strerror(-r));
	} else if (!fs_native_run(op->sb, rfs, op->native, op->path, &op->in, &res)) {
		return false;
	}
	fs_run_deliver(op->run, &res);
	return true;
}

/* The agent cannot run in this sandbox, as this thread just found out:
 * the run takes the WebSocket. Only an asynchronous form gets here (a
 * caller that could wait found out before choosing), so stdin is copied. */
static void run_fallback(struct aop *op)
{
	struct iovec iov = {op->in.data, op->in.len};
	struct sbx_err err = {0};

	if (op->src.next) { /* not reached: see above */
		fs_run_fail_start(op->run, -SBX_EINVAL, "a stream cannot change transport");
		return;
	}
	if (fs_run_exec(op->sb, op->run, &iov, op->has_in ? 1 : 0, false, NULL, &err) < 0)
		fs_run_fail_start(op->run, err.code ? err.code : -SBX_EIO, err.msg);
}

static void *aop_main(void *arg)
{
	struct aop *op = arg;
	struct sbx_agent_slot *slot = sbx_sandbox_agent_slot(op->sb);
	struct sbx_rfs *rfs = NULL;

	sbx_transport_mark_thread();
	if (sbx_agent_slot_get(op->sb, true, &rfs) > 0) {
		if (!op->native || !run_native(op, rfs))
			run_job(op, rfs);
	} else
		run_fallback(op);
	fs_run_unref(op->run); /* may drop the last reference to the job */
	aop_free(op);
	sbx_agent_slot_unhold(slot); /* the handle may be freed from here on */
	return NULL;
}

/* Copies the spec into a new op. */
static struct aop *aop_new(struct sbx_sandbox *sb, struct fs_spec *s, sbx_fs_cb cb, void *ud)
{
	struct aop *op = calloc(1, sizeof(*op));
	size_t i;
	int r = 0;

	if (!op)
		return NULL;
	op->sb = sb;
	sbx_buf_init(&op->in);
	op->has_in = s->stdin_open || s->iovcnt > 0;
	if (s->stdin_open)
		op->src = s->src;
	if (fs_native_fits(s->native, s->native_path, s->native_len)) {
		op->native = s->native;
		op->path = strdup(s->native_path);
		if (!op->path)
			r = -ENOMEM;
	}
	for (i = 0; !r && i < s->iovcnt; i++)
		r = sbx_buf_append(&op->in, s->iov[i].iov_base, s->iov[i].iov_len);
	op->run = r ? NULL : fs_run_new(s, cb, ud);
	if (!op->run) {
		aop_free(op);
		return NULL;
	}
	return op;
}

static int aop_start(struct sbx_sandbox *sb, struct xc *xc, struct fs_spec *s, sbx_fs_cb cb,
		     void *ud, struct sbx_exec **ret_exec, struct sbx_err *err)
{
	struct aop *op;
	int r;

	(void)xc;
	if (ret_exec)
		*ret_exec = NULL; /* no exec to hand out: stdin comes from s->src */
	if (s->stdin_open && !s->src.next)
		return sbx_err_set(err, -SBX_EINVAL, 0, "%s: open stdin without a source", s->what);
	op = aop_new(sb, s, cb, ud);
	if (!op)
		return sbx_err_set(err, -ENOMEM, 0, "%s: out of memory", s->what);
	sbx_agent_slot_hold(sbx_sandbox_agent_slot(sb));
	r = sbx_xthread_start(aop_main, op);
	if (r) {
		sbx_agent_slot_unhold(sbx_sandbox_agent_slot(sb));
		fs_run_unref(op->run); /* the command's: nothing started */
		fs_run_unref(op->run);
		aop_free(op);
		return sbx_err_set(err, -r, 0, "%s: cannot start a thread: %s", s->what,
				   strerror(r));
	}
	return 0;
}

const struct fs_transport fs_tp_agent = {.name = "agent", .start = aop_start};
