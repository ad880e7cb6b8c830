/* spawner.c - see spawner.h.
 *
 * Invariants: s->jobs holds exactly the active jobs; a job leaves the list
 * (detach) before its callback runs, so a callback may free its owner. Once
 * s->lost is set nothing more is sent, and the jobs wait for the pidfd to
 * say the process is gone before they learn their fate: only then is it
 * certain that a job without STARTED never ran.
 */
#include "host/runtime/spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/runtime/nsexec.h"
#include "host/runtime/spawn_msg.h"
#include "util/log.h"

struct sbxd_spawner {
	struct sbxd_loop *loop;
	char name[64]; /* the sandbox's id, for the log */
	struct sbxd_child proc;
	pid_t pid;
	int sock;
	struct sbxd_watch w;
	struct sbxd_spawn_job *jobs;
	uint32_t next_id;
	bool lost;
};

static void detach(struct sbxd_spawn_job *j)
{
	struct sbxd_spawner *s = j->s;

	sbxd_loop_timer_cancel(s->loop, &j->deadline);
	if (j->prev)
		j->prev->next = j->next;
	else
		s->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->prev = j->next = NULL;
	j->s = NULL;
}

/* The process is gone: every job learns it (see the header). */
static void fail_jobs(struct sbxd_spawner *s)
{
	while (s->jobs) {
		struct sbxd_spawn_job *j = s->jobs;

		detach(j);
		/* PR_SET_PDEATHSIG killed it, unless it cleared that: kill its
		 * tree too, so the SIGKILL we report is true. Its pid may just
		 * have been freed (the sandbox's init reaps it now), but pids are
		 * handed out in sequence: a stranger would need the counter to
		 * wrap around in between. */
		if (j->pid) {
			sbxd_proctree_kill(j->pid);
			j->fn(j, SBX_SPAWN_EV_EXITED, SIGKILL);
		} else
			j->fn(j, SBX_SPAWN_EV_RETRY, -ESRCH);
	}
}

static void close_sock(struct sbxd_spawner *s)
{
	sbxd_loop_unwatch(s->loop, &s->w);
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
}

/* Gives up on the spawner; the jobs are settled when its pidfd fires. */
static void lose(struct sbxd_spawner *s, const char *why)
{
	if (s->lost)
		return;
	s->lost = true;
	sbx_log(SBX_LOG_WARN,
		"sandbox %s: the exec spawner (pid %d) %s; killing it, a new one starts with the "
		"next exec",
		s->name, (int)s->pid, why);
	close_sock(s);
	sbxd_child_kill(&s->proc, SIGKILL);
}

static void on_proc_exit(struct sbxd_child *c, int wstatus)
{
	struct sbxd_spawner *s = c->arg;

	if (!s->lost)
		sbx_log(SBX_LOG_WARN, "sandbox %s: the exec spawner (pid %d) ended (status %d)",
			s->name, (int)s->pid, sbxd_child_exit_code(wstatus));
	s->lost = true;
	close_sock(s);
	fail_jobs(s);
}

static struct sbxd_spawn_job *find(struct sbxd_spawner *s, uint32_t id)
{
	struct sbxd_spawn_job *j;

	for (j = s->jobs; j && j->id != id; j = j->next)
		;
	return j;
}

static void send_release(struct sbxd_spawner *s, uint32_t id)
{
	struct sbxd_spawn_hdr h;

	sbxd_spawn_msg_release(&h, id);
	/* lost only leaves a zombie until the spawner goes */
	if (s->sock >= 0 && send(s->sock, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		sbx_log(SBX_LOG_DEBUG, "sandbox %s: release %u not sent: %s", s->name, id,
			strerror(errno));
}

/* One reply; false when it breaks the protocol. */
static bool handle(struct sbxd_spawner *s, const struct sbxd_spawn_reply *r)
{
	struct sbxd_spawn_job *j = find(s, r->id);

	if (!j || (r->type == SBX_SPAWN_EXITED) != (j->pid != 0))
		return false; /* unknown id, or not in the order STARTED, EXITED */
	switch (r->type) {
	case SBX_SPAWN_STARTED:
		j->pid = r->value;
		sbxd_loop_timer_cancel(s->loop, &j->deadline);
		j->fn(j, SBX_SPAWN_EV_STARTED, r->value);
		break;
	case SBX_SPAWN_FAILED:
		detach(j);
		j->fn(j, SBX_SPAWN_EV_RETRY, -r->value);
		break;
	default:
		detach(j);
		j->fn(j, SBX_SPAWN_EV_EXITED, r->value);
		send_release(s, r->id);
	}
	return true;
}

static void on_readable(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_spawner *s = w->arg;
	struct sbxd_spawn_reply r;
	char buf[sizeof(r) + 1];

	while (!s->lost) {
		ssize_t n = recv(s->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			lose(s, "closed its socket");
			return;
		}
		if (sbxd_spawn_reply_decode(buf, (size_t)n, &r) < 0 || !handle(s, &r)) {
			lose(s, "sent a reply that breaks the protocol");
			return;
		}
	}
}

static void on_deadline(struct sbxd_timer *t)
{
	struct sbxd_spawn_job *j = t->arg;

	lose(j->s, "did not answer a request in time");
}

int sbxd_spawner_new(struct sbxd_loop *l, const struct sbxd_spawner_cfg *cfg, const char *name,
		     size_t *live, struct sbxd_spawner **ret)
{
	struct sbxd_spawner *s = calloc(1, sizeof(*s));
	pid_t parent = getpid(), pid;
	int sv[2], r;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->w.fd = s->proc.w.fd = -1;
	s->next_id = 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(s);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		sbxd_spawner_main(sv[1], parent, cfg);
	}
	r = pid < 0 ? -errno : 0;
	close(sv[1]);
	s->sock = sv[0];
	s->pid = pid;
	if (r == 0 && fcntl(s->sock, F_SETFL, O_NONBLOCK) < 0)
		r = -errno;
	if (r == 0 && (r = sbxd_child_watch(l, &s->proc, pid, live, on_proc_exit, s)) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (r == 0 && (r = sbxd_loop_watch(l, &s->w, s->sock, EPOLLIN, on_readable, s)) < 0)
		sbxd_child_kill_reap(&s->proc);
	if (r < 0) {
		close(s->sock);
		free(s);
		return r;
	}
	sbx_log(SBX_LOG_INFO, "sandbox %s: exec spawner started (pid %d)", name, (int)pid);
	*ret = s;
	return 0;
}

bool sbxd_spawner_usable(const struct sbxd_spawner *s)
{
	return s && !s->lost;
}

bool sbxd_spawn_job_active(const struct sbxd_spawn_job *j)
{
	return j->s != NULL;
}

int sbxd_spawner_spawn(struct sbxd_spawner *s, struct sbxd_spawn_job *j, const struct sbx_buf *pkt,
		       const int fds[3], sbxd_spawn_fn fn, void *arg)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(3 * sizeof(int))];
	} ctl;
	struct sbxd_spawn_hdr h;
	struct iovec iov[2];
	struct msghdr mh = {
	    .msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *c;

	if (!sbxd_spawner_usable(s))
		return -ESRCH;
	if (pkt->len < sizeof(h))
		return -EINVAL;
	memcpy(&h, pkt->data, sizeof(h));
	h.id = s->next_id++;
	if (!s->next_id)
		s->next_id = 1; /* 0 is never an id */
	iov[0] = (struct iovec){&h, sizeof(h)};
	iov[1] = (struct iovec){pkt->data + sizeof(h), pkt->len - sizeof(h)};
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(c), fds, 3 * sizeof(int));
	/* EAGAIN (a full socket) is left to the deadlines of earlier jobs */
	if (sendmsg(s->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	*j = (struct sbxd_spawn_job){.s = s, .id = h.id, .fn = fn, .arg = arg, .next = s->jobs};
	if (s->jobs)
		s->jobs->prev = j;
	s->jobs = j;
	sbxd_loop_timer(s->loop, &j->deadline, SBX_SPAWNER_DEADLINE_MS, on_deadline, j);
	return 0;
}

static void free_deferred(void *arg)
{
	free(arg);
}

void sbxd_spawner_free(struct sbxd_spawner *s)
{
	if (!s)
		return;
	s->lost = true;
	close_sock(s);
	sbxd_child_kill_reap(&s->proc); /* its callback never fires */
	fail_jobs(s);
	if (sbxd_loop_defer(s->loop, free_deferred, s) < 0)
		sbx_log(SBX_LOG_WARN, "leaking a spawner record (out of memory)");
}
