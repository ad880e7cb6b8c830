/* xfile.c - sbxd's side of the executor's file operations; see xfile.h.
 *
 * One child per operation: forked, it enters the sandbox and runs
 * xfile_child.c, writing the reply body to a pipe. The parent reads the
 * pipe from the loop (bounded) and reaps the child by pidfd; the answer
 * goes to the caller once both the pipe's EOF and the exit are seen.
 */
#include "host/xfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/child.h"
#include "host/daemon.h"
#include "host/runtime/nsexec.h"
#include "host/runtime/sandbox.h"
#include "host/xfile_child.h"
#include "util/log.h"

/* the reply: a file's content escaped (up to 6 bytes for one) plus slack */
#define MAX_REPLY ((size_t)SBX_XFILE_MAX_READ * 6 + 65536)

struct sbxd_xfile {
	struct sbxd *d;
	sbxd_xfile_fn fn; /* NULL once cancelled or answered */
	void *user;
	struct sbxd_child child;
	int fd;
	struct sbxd_watch w;
	struct sbxd_timer deadline;
	struct sbx_buf out;
	int err;
	bool eof, reaped, freed;
};

static void free_f(void *arg)
{
	struct sbxd_xfile *f = arg;

	sbx_buf_release(&f->out);
	free(f);
}

static void close_pipe(struct sbxd_xfile *f)
{
	sbxd_loop_unwatch(f->d->loop, &f->w);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Answers once both ends are in, then frees. */
static void maybe_done(struct sbxd_xfile *f)
{
	sbxd_xfile_fn fn = f->fn;

	if (!f->reaped || (!f->eof && f->fn) || f->freed)
		return;
	f->freed = true;
	f->fn = NULL;
	close_pipe(f);
	sbxd_loop_timer_cancel(f->d->loop, &f->deadline);
	f->d->nxfiles--;
	if (fn)
		fn(f->user, f->err, &f->out);
	if (sbxd_loop_defer(f->d->loop, free_f, f) < 0)
		sbx_log(SBX_LOG_WARN, "executor: leaking a file operation (out of memory)");
}

static void on_pipe(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_xfile *f = w->arg;
	ssize_t n;

	(void)events;
	if (sbx_buf_reserve(&f->out, 65536) < 0) {
		f->err = -ENOMEM;
		n = 0;
	} else {
		n = read(f->fd, f->out.data + f->out.len, 65536);
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		f->out.len += (size_t)n;
		if (f->out.len <= MAX_REPLY)
			return;
		f->err = -EFBIG;
	}
	if (n < 0)
		f->err = -errno;
	f->eof = true;
	close_pipe(f);
	if (!f->reaped)
		sbxd_child_kill(&f->child, SIGKILL);
	maybe_done(f);
}

static void on_exit_child(struct sbxd_child *c, int wstatus)
{
	struct sbxd_xfile *f = c->arg;

	f->reaped = true;
	if (!f->err && (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus)))
		f->err = -EIO;
	maybe_done(f);
}

static void on_deadline(struct sbxd_timer *t)
{
	struct sbxd_xfile *f = t->arg;

	f->err = -ETIMEDOUT;
	sbxd_child_kill(&f->child, SIGKILL);
}

/* In the child: never returns. */
static _Noreturn void child_main(pid_t target, int wfd, int op, const char *path, const char *data,
				 size_t len, unsigned mode)
{
	struct sbx_buf b = SBX_BUF_INIT;
	sigset_t none;
	size_t off = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	if (dup2(wfd, 3) < 0)
		_exit(125);
	syscall(SYS_close_range, 4, ~0U, 0);
	if (sbxd_nsexec_enter(target) < 0)
		_exit(125);
	sbxd_xfile_child_run(&b, op, path, data, len, mode);
	while (off < b.len) {
		ssize_t n = write(3, b.data + off, b.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(125);
		off += (size_t)n;
	}
	_exit(0);
}

int sbxd_xfile_start(struct sbxd *d, struct sbxd_svc *v, enum sbxd_xfile_op op, const char *path,
		     const char *data, size_t len, unsigned mode, sbxd_xfile_fn fn, void *user,
		     struct sbxd_xfile **ret)
{
	return sbxd_xfile_start_pid(d, sbxd_sandbox_pid(v), op, path, data, len, mode, fn, user,
				    ret);
}

int sbxd_xfile_start_pid(struct sbxd *d, pid_t target, enum sbxd_xfile_op op, const char *path,
			 const char *data, size_t len, unsigned mode, sbxd_xfile_fn fn, void *user,
			 struct sbxd_xfile **ret)
{
	pid_t pid;
	struct sbxd_xfile *f;
	int p[2], r;

	if (!target)
		return -ESRCH;
	if (d->nxfiles >= SBX_XFILE_MAX_LIVE)
		return -EAGAIN;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(f);
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		child_main(target, p[1], (int)op, path, data, len, mode);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		free(f);
		return -errno;
	}
	f->d = d;
	f->fn = fn;
	f->user = user;
	f->fd = p[0];
	f->w.fd = -1;
	f->child.w.fd = -1;
	sbx_buf_init(&f->out);
	r = sbxd_child_watch(d->loop, &f->child, pid, &d->nchildren, on_exit_child, f);
	if (r == 0)
		r = sbxd_loop_watch(d->loop, &f->w, f->fd, EPOLLIN, on_pipe, f);
	if (r < 0) {
		/* nothing can be left half-watched: kill, reap, undo */
		sbxd_child_kill_reap(&f->child);
		if (f->child.pid == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		close_pipe(f);
		free(f);
		return r;
	}
	sbxd_loop_timer(d->loop, &f->deadline, SBX_XFILE_DEADLINE_MS, on_deadline, f);
	d->nxfiles++;
	*ret = f;
	return 0;
}

void sbxd_xfile_cancel(struct sbxd_xfile *f)
{
	if (!f || !f->fn)
		return;
	f->fn = NULL;
	if (!f->reaped)
		sbxd_child_kill(&f->child, SIGKILL);
	maybe_done(f);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

int sbxd_json_str_utf8(struct sbx_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int r = 0;

	while (i < n && r == 0) {
		size_t l = utf8_seq(p + i, n - i);
		unsigned c = p[i];

		if (!l) {
			r = sbx_buf_puts(out, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			r = sbx_buf_append(out, e, 2);
		} else if (c == '\n') {
			r = sbx_buf_puts(out, "\\n");
		} else if (c == '\t') {
			r = sbx_buf_puts(out, "\\t");
		} else if (c == '\r') {
			r = sbx_buf_puts(out, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			r = sbx_buf_append(out, e, 6);
		} else {
			r = sbx_buf_append(out, s + i, l);
		}
		i += l;
	}
	return r;
}
