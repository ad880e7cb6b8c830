/* portfwd.c - the executor's ports: /bind_port, /unbind_port and the TCP
 * forwarder from a sandbox's proxy port to the bound port.
 *
 * Each sandbox gets, on first use (its deployment read, or a bind), a
 * listening socket on sbxd's listen host at a free port: the sandbox's
 * proxy port, named in the deployment's metadata.proxy_ports. A connection
 * to it is joined to 127.0.0.1:<bound port> *inside* the sandbox's network
 * namespace: the socket is made there (a setns() to the sandbox's netns and
 * straight back; sbxd is single-threaded, so nothing else runs meanwhile)
 * and connected without blocking. Without a binding a connection is
 * accepted and closed, as the executor does. One binding at a time.
 *
 * Bounds: FWD_MAX_CONNS connections per sandbox (more are closed at
 * accept), FWD_BUF bytes buffered per direction (a side is not read while
 * its buffer is full).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/daemon.h"
#include "host/executor_int.h"
#include "host/runtime/sandbox.h"
#include "util/log.h"

#define FWD_MAX_CONNS 64
#define FWD_BUF	      (64u * 1024)

struct fconn;

struct sbxd_portfwd {
	struct sbxd_portfwd *next;
	struct sbxd *d;
	char svc_id[37];
	int lfd, port;
	struct sbxd_watch lw;
	int bound; /* 0: none */
	struct fconn *conns;
	size_t nconns;
};

/* One forwarded connection: side 0 the client, side 1 the sandbox. */
struct fconn {
	struct fconn *next;
	struct sbxd_portfwd *f;
	int fd[2];
	struct sbxd_watch w[2];
	char buf[2][FWD_BUF]; /* buf[i]: read from side i, to write to the other */
	size_t len[2], off[2];
	bool eof[2], connecting, dead;
};

static void on_side(struct sbxd_watch *w, uint32_t events);

static void fconn_free(void *arg)
{
	free(arg);
}

static void fconn_close(struct fconn *k)
{
	struct sbxd_portfwd *f = k->f;

	if (k->dead)
		return;
	k->dead = true;
	for (int i = 0; i < 2; i++) {
		sbxd_loop_unwatch(f->d->loop, &k->w[i]);
		if (k->fd[i] >= 0)
			close(k->fd[i]);
	}
	for (struct fconn **pp = &f->conns; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			f->nconns--;
			break;
		}
	if (sbxd_loop_defer(f->d->loop, fconn_free, k) < 0)
		sbx_log(SBX_LOG_WARN, "portfwd: leaking a connection (out of memory)");
}

/* Events each side wants: read while its buffer has room, write while the
 * other side's buffer has bytes (or the connect is pending). */
static void fconn_update(struct fconn *k)
{
	for (int i = 0; i < 2; i++) {
		uint32_t ev = 0;

		if (!k->eof[i] && k->len[i] < FWD_BUF && !k->connecting)
			ev |= EPOLLIN;
		if (k->len[!i] > k->off[!i] || (i == 1 && k->connecting))
			ev |= EPOLLOUT;
		if (sbxd_loop_modify(k->f->d->loop, &k->w[i], ev) < 0) {
			fconn_close(k);
			return;
		}
	}
}

/* Moves bytes; false when the connection is over. */
static bool pump(struct fconn *k, int i)
{
	ssize_t n;

	if (!k->eof[i] && k->len[i] < FWD_BUF) {
		n = recv(k->fd[i], k->buf[i] + k->len[i], FWD_BUF - k->len[i], MSG_DONTWAIT);
		if (n > 0)
			k->len[i] += (size_t)n;
		else if (n == 0)
			k->eof[i] = true;
		else if (errno != EAGAIN && errno != EINTR)
			return false;
	}
	while (k->off[i] < k->len[i]) {
		n = send(k->fd[!i], k->buf[i] + k->off[i], k->len[i] - k->off[i],
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			k->off[i] += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		return false;
	}
	if (k->off[i] == k->len[i])
		k->off[i] = k->len[i] = 0;
	if (k->eof[i] && !k->len[i])
		shutdown(k->fd[!i], SHUT_WR);
	return !(k->eof[0] && k->eof[1] && !k->len[0] && !k->len[1]);
}

static void on_side(struct sbxd_watch *w, uint32_t events)
{
	struct fconn *k = w->arg;
	int err = 0;
	socklen_t el = sizeof(err);

	(void)events;
	if (k->connecting) {
		if (w != &k->w[1])
			return;
		if (getsockopt(k->fd[1], SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			fconn_close(k); /* nothing listens on the bound port */
			return;
		}
		k->connecting = false;
	}
	if (!pump(k, 0) || !pump(k, 1)) {
		fconn_close(k);
		return;
	}
	fconn_update(k);
}

/* A TCP socket in the network namespace of pid (non-blocking). */
static int sandbox_socket(pid_t pid)
{
	char p[64];
	int ns, self, fd = -1, r;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	ns = open(p, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns < 0 || self < 0) {
		r = -errno;
		goto out;
	}
	if (setns(ns, CLONE_NEWNET) < 0) {
		r = -errno;
		goto out;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : fd;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* sbxd would go on in the sandbox's network: never */
		sbx_log(SBX_LOG_ERR, "portfwd: cannot return to the host network: %s",
			strerror(errno));
		abort();
	}
out:
	if (ns >= 0)
		close(ns);
	if (self >= 0)
		close(self);
	return r;
}

static void start_conn(struct sbxd_portfwd *f, int cfd)
{
	struct sbxd_svc *v = sbxd_store_svc(&f->d->store, f->svc_id);
	pid_t pid = v ? sbxd_sandbox_pid(v) : 0;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct fconn *k;
	int sfd;

	if (!f->bound || !pid || f->nconns >= FWD_MAX_CONNS || (sfd = sandbox_socket(pid)) < 0) {
		close(cfd);
		return;
	}
	sa.sin_port = htons((uint16_t)f->bound);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	k = calloc(1, sizeof(*k));
	if (!k || (connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)) {
		free(k);
		close(sfd);
		close(cfd);
		return;
	}
	k->f = f;
	k->fd[0] = cfd;
	k->fd[1] = sfd;
	k->connecting = true;
	k->w[0].fd = k->w[1].fd = -1;
	k->next = f->conns;
	f->conns = k;
	f->nconns++;
	if (sbxd_loop_watch(f->d->loop, &k->w[0], cfd, 0, on_side, k) < 0 ||
	    sbxd_loop_watch(f->d->loop, &k->w[1], sfd, EPOLLOUT, on_side, k) < 0) {
		fconn_close(k);
		return;
	}
	fconn_update(k);
}

static void on_accept(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_portfwd *f = w->arg;

	(void)events;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		start_conn(f, fd);
	}
}

static struct sbxd_portfwd *find(struct sbxd *d, const char *svc_id)
{
	for (struct sbxd_portfwd *f = d->executor->fwds; f; f = f->next)
		if (!strcmp(f->svc_id, svc_id))
			return f;
	return NULL;
}

/* A listening socket on the host part of sbxd's own address, any port. */
static int open_listener(const char *host, int *port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char h[128];
	socklen_t sl;
	int fd, r;

	snprintf(h, sizeof(h), "%s", host[0] == '[' ? host + 1 : host);
	h[strcspn(h, "]")] = '\0';
	if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		sl = sizeof(*s6);
	} else {
		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, h, &s4->sin_addr) != 1)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ? s6->sin6_port : s4->sin_port);
	return fd;
}

static struct sbxd_portfwd *get_fwd(struct sbxd *d, struct sbxd_svc *v, int *err)
{
	struct sbxd_portfwd *f;

	if (!xec_get(d)) {
		*err = -ENOMEM;
		return NULL;
	}
	f = find(d, v->id);
	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->d = d;
	f->lw.fd = -1;
	snprintf(f->svc_id, sizeof(f->svc_id), "%s", v->id);
	f->lfd = open_listener(d->listen_host, &f->port);
	if (f->lfd < 0 ||
	    (*err = sbxd_loop_watch(d->loop, &f->lw, f->lfd, EPOLLIN, on_accept, f)) < 0) {
		*err = f->lfd < 0 ? f->lfd : *err;
		if (f->lfd >= 0)
			close(f->lfd);
		free(f);
		return NULL;
	}
	f->next = d->executor->fwds;
	d->executor->fwds = f;
	return f;
}

int sbxd_portfwd_port(struct sbxd *d, struct sbxd_svc *v)
{
	int err = 0;
	struct sbxd_portfwd *f = get_fwd(d, v, &err);

	return f ? f->port : err;
}

static void fwd_free(struct sbxd_portfwd *f)
{
	while (f->conns)
		fconn_close(f->conns);
	sbxd_loop_unwatch(f->d->loop, &f->lw);
	close(f->lfd);
	free(f);
}

void sbxd_portfwd_forget(struct sbxd *d, const char *svc_id)
{
	for (struct sbxd_portfwd **pp = &d->executor->fwds; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->svc_id, svc_id)) {
			struct sbxd_portfwd *f = *pp;

			*pp = f->next;
			fwd_free(f);
			return;
		}
}

void sbxd_portfwd_free_all(struct sbxd *d)
{
	while (d->executor->fwds) {
		struct sbxd_portfwd *f = d->executor->fwds;

		d->executor->fwds = f->next;
		fwd_free(f);
	}
}

void xec_bind_port(struct xcall *k)
{
	json_object *o = xec_body(k), *jp;
	const char *ps;
	struct sbxd_portfwd *f;
	char msg[256], *end;
	long port;
	int err = 0;

	if (!o)
		return;
	jp = json_object_object_get(o, "port");
	ps = jp && json_object_is_type(jp, json_type_string) ? json_object_get_string(jp) : NULL;
	if (!ps || !ps[0]) {
		xec_text(k, 400, "Port is required");
		goto out;
	}
	errno = 0;
	port = strtol(ps, &end, 10);
	if (errno || *end || port < 1 || port > 65535) {
		xec_text(k, 400, "Invalid port");
		goto out;
	}
	f = get_fwd(k->d, k->v, &err);
	if (!f) {
		xec_text(k, 500, "Internal Server Error");
	} else if (f->bound) {
		snprintf(
		    msg, sizeof(msg),
		    "{\"success\":false,\"error\":\"Port already bound\",\"current_port\":\"%d\"}",
		    f->bound);
		xec_json(k, 409, msg);
	} else {
		f->bound = (int)port;
		snprintf(msg, sizeof(msg),
			 "{\"success\":true,\"message\":\"Port %ld bound "
			 "successfully\",\"port\":\"%ld\"}",
			 port, port);
		xec_json(k, 200, msg);
	}
out:
	sbx_json_put(o);
}

void xec_unbind_port(struct xcall *k)
{
	struct sbxd_portfwd *f = find(k->d, k->v->id);

	if (f)
		f->bound = 0;
	xec_json(k, 200, "{\"success\":true,\"message\":\"Port unbound successfully\"}");
}
