/* loop.c - the poll() loop (see loop.h).
 *
 * Back-pressure: while the output queue holds AGENT_OUT_HIGH bytes or
 * more, stdin, the job pipes and the READ streams are left alone until
 * stdout takes enough; requests already buffered wait too. inotify is
 * still read: the kernel's own queue would overflow otherwise, and the
 * events are small.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "loop.h"
#include "ops.h"

#define POLL_MAX (4 + 3 * SBXA_JOBS_MAX)

enum { P_IN, P_OUT, P_SIG, P_WATCH, P_JOB_OUT, P_JOB_ERR, P_JOB_IN };

struct polls {
	struct pollfd fd[POLL_MAX];
	uint8_t kind[POLL_MAX];
	struct agent_job *job[POLL_MAX];
	nfds_t n;
};

static void add(struct polls *p, int fd, short ev, uint8_t kind, struct agent_job *j)
{
	p->fd[p->n] = (struct pollfd){.fd = fd, .events = ev};
	p->kind[p->n] = kind;
	p->job[p->n++] = j;
}

static bool room(const struct agent *a)
{
	return out_pending(&a->out) < AGENT_OUT_HIGH;
}

/* Handles every complete frame buffered while there is room. -EPROTO for
 * a length out of bounds. */
static int take_frames(struct agent *a)
{
	uint32_t plen = 0, id = 0, len;
	uint16_t type = 0, flags = 0;
	size_t off = 0;

	while (room(a) && a->in_len - off >= 4) {
		len = (uint32_t)a->in[off] | (uint32_t)a->in[off + 1] << 8 |
		      (uint32_t)a->in[off + 2] << 16 | (uint32_t)a->in[off + 3] << 24;
		if (len < 8 || len > SBXA_FRAME_MAX)
			return -EPROTO;
		if (a->in_len - off < 4 + (size_t)len)
			break;
		sbxa_hdr_decode(a->in + off, &plen, &id, &type, &flags);
		agent_handle_frame(a, id, type, a->in + off + SBXA_HDR_LEN, plen);
		if (a->out.w.err)
			return a->out.w.err;
		off += 4 + (size_t)len;
	}
	memmove(a->in, a->in + off, a->in_len - off);
	a->in_len -= off;
	return 0;
}

/* True when a complete frame is still buffered. */
static bool frame_ready(const struct agent *a)
{
	uint32_t len;

	if (a->in_len < 4)
		return false;
	len = (uint32_t)a->in[0] | (uint32_t)a->in[1] << 8 | (uint32_t)a->in[2] << 16 |
	      (uint32_t)a->in[3] << 24;
	return a->in_len >= 4 + (size_t)len;
}

static void build(struct agent *a, struct polls *p, bool eof)
{
	unsigned i;
	struct agent_job *j;

	p->n = 0;
	if (!eof && room(a) && a->in_len < AGENT_IN_MAX)
		add(p, a->in_fd, POLLIN, P_IN, NULL);
	if (out_pending(&a->out))
		add(p, a->out_fd, POLLOUT, P_OUT, NULL);
	add(p, a->sig_fd, POLLIN, P_SIG, NULL);
	if (a->watches.fd >= 0)
		add(p, a->watches.fd, POLLIN, P_WATCH, NULL);
	for (i = 0; i < SBXA_JOBS_MAX; i++) {
		j = &a->jobs.j[i];
		if (!j->used)
			continue;
		if (room(a) && j->fd_out >= 0)
			add(p, j->fd_out, POLLIN, P_JOB_OUT, j);
		if (room(a) && j->fd_err >= 0)
			add(p, j->fd_err, POLLIN, P_JOB_ERR, j);
		if (j->head && j->fd_in >= 0)
			add(p, j->fd_in, POLLOUT, P_JOB_IN, j);
	}
}

/* false when a signal asks the session to end */
static bool on_signal(struct agent *a)
{
	struct signalfd_siginfo si;
	bool go_on = true;

	while (read(a->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			jobs_reap(a);
		else
			go_on = false;
	}
	return go_on;
}

/* false at stdin's end */
static bool on_input(struct agent *a)
{
	ssize_t n = read(a->in_fd, a->in + a->in_len, AGENT_IN_MAX - a->in_len);

	if (n > 0)
		a->in_len += (size_t)n;
	return n != 0 && !(n < 0 && errno != EINTR && errno != EAGAIN);
}

static int dispatch(struct agent *a, struct polls *p, bool *eof)
{
	nfds_t i;

	for (i = 0; i < p->n; i++) {
		if (!p->fd[i].revents)
			continue;
		switch (p->kind[i]) {
		case P_IN: *eof = !on_input(a); break;
		case P_OUT:
			if (out_flush(&a->out, a->out_fd) < 0)
				return 1; /* the reader is gone */
			break;
		case P_SIG:
			if (!on_signal(a))
				return 1;
			break;
		case P_WATCH: watch_on_event(a); break;
		case P_JOB_OUT:
			if (p->job[i]->used && p->job[i]->fd_out == p->fd[i].fd)
				jobs_on_output(a, p->job[i], false);
			break;
		case P_JOB_ERR:
			if (p->job[i]->used && p->job[i]->fd_err == p->fd[i].fd)
				jobs_on_output(a, p->job[i], true);
			break;
		case P_JOB_IN:
			if (p->job[i]->used && p->job[i]->fd_in == p->fd[i].fd)
				jobs_on_stdin(a, p->job[i]);
			break;
		}
	}
	return 0;
}

int agent_run(struct agent *a)
{
	struct polls *p = calloc(1, sizeof(*p));
	bool eof = false;
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (;;) {
		build(a, p, eof);
		if (poll(p->fd, p->n, room(a) && a->reads.n ? 0 : -1) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (dispatch(a, p, &eof)) {
			r = 1;
			break;
		}
		if (room(a))
			reads_pump(a);
		r = take_frames(a);
		if (r < 0 || a->out.w.err) {
			r = r < 0 ? r : a->out.w.err;
			break;
		}
		if (out_flush(&a->out, a->out_fd) < 0) {
			r = 1;
			break;
		}
		if (eof && !a->reads.n && !frame_ready(a))
			break;
	}
	free(p);
	return r;
}
