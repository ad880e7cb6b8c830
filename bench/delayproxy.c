/* delayproxy.c - a TCP proxy that adds a fixed one-way delay, for the benchmark.
 *
 *   sbx-delayproxy -t HOST:PORT [-l ADDR:PORT] [-d MS] [-b BYTES] [-m CONNS]
 *
 * Listens on ADDR:PORT (default 127.0.0.1:0) and prints the port it got on
 * stdout, one line, once it accepts. Each accepted client is connected to
 * HOST:PORT; every byte is then handed on MS milliseconds (a decimal, default
 * 0) after it was read, in each direction, so a request and its answer take
 * 2*MS more than without the proxy. This stands in for a network link where
 * the kernel's netem is not available.
 *
 * Invariants:
 * - Delay, not throughput: each direction is a queue of chunks stamped with
 *   the time they may leave; reading never waits for writing, so a stream
 *   keeps its rate and gains only the delay. One timerfd is armed at the
 *   earliest stamp over all queues (the queues are short: CONNS bounded).
 * - Bounded: at most BYTES (default 8 MiB) queued per direction; past it the
 *   source is not read (TCP's own flow control pushes back); at most CONNS
 *   (default 512) connections, further clients are closed at once.
 * - Order: a direction's stamps never decrease, its chunks leave in order;
 *   the end of a stream (EOF) is a chunk too, and becomes shutdown(SHUT_WR).
 * - A new connection pays the TCP handshake as on a real link: the client's
 *   first bytes leave no earlier than 3*MS after the accept, the server's no
 *   earlier than 2*MS (connect returns here at once, not after a round trip).
 * - SIGTERM or SIGINT (read through a signalfd): every connection is closed,
 *   everything freed, exit 0. Any error on one connection closes that pair.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MAX  (64 * 1024)
#define DELAY_MAX  60000.0 /* ms */
#define CAP_MAX	   (1L << 30)
#define CONNS_MAX  65536
#define TAG_LISTEN ((void *)1)
#define TAG_TIMER  ((void *)2)
#define TAG_SIGNAL ((void *)3)

struct chunk {
	struct chunk *next;
	int64_t due; /* CLOCK_MONOTONIC ns when it may leave */
	size_t len;  /* 0: the end of the stream */
	size_t off;  /* bytes of data already written */
	char data[];
};

/* One direction: bytes read from src wait in the queue, then go to dst. */
struct dir {
	struct chunk *head, *tail;
	size_t queued;	 /* bytes in the queue, bounded by proxy.cap */
	int64_t floor;	 /* no chunk leaves before this (the handshake) */
	int eof_read;	 /* src said EOF (or failed): no more reads */
	int eof_sent;	 /* the EOF chunk was delivered */
	int src_off;	 /* stopped reading src because the queue is full */
	int dst_blocked; /* dst said EAGAIN: waiting for EPOLLOUT */
};

struct side {
	struct pair *p;
	int fd;
	int is_server;
	int in_epoll; /* registered: an fd that waits for nothing is removed, or
		       * a hung-up socket would wake the loop forever */
};

struct pair {
	struct pair *prev, *next;
	struct side c, s; /* the client and the connection to the target */
	struct dir up;	  /* client -> target */
	struct dir down;  /* target -> client */
	int connected;	  /* the connect to the target completed */
	int dead;	  /* closed; freed after the current batch of events */
};

struct proxy {
	int ep, lfd, tfd, sfd;
	struct sockaddr_storage target;
	socklen_t target_len;
	int64_t delay; /* ns, one way */
	size_t cap;
	int nconns, max_conns;
	struct pair *pairs;
	struct pair *dead; /* closed pairs, freed once no event can name them */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int parse_hostport(const char *arg, int passive, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char host[256];
	const char *colon = strrchr(arg, ':');
	size_t n;
	int r;

	if (!colon || (n = (size_t)(colon - arg)) >= sizeof(host) || !colon[1])
		return -EINVAL;
	memcpy(host, arg, n);
	host[n] = '\0';
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	r = getaddrinfo(n ? host : NULL, colon + 1, &hints, &res);
	if (r || !res)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int ep_set(struct proxy *px, int op, int fd, uint32_t ev, void *ptr)
{
	struct epoll_event e = {.events = ev, .data.ptr = ptr};

	return epoll_ctl(px->ep, op, fd, &e) < 0 ? -errno : 0;
}

/* What a side waits for: input while its incoming queue has room, output
 * while its outgoing queue is blocked. */
static int side_update(struct proxy *px, struct side *sd)
{
	struct pair *p = sd->p;
	struct dir *in = sd->is_server ? &p->down : &p->up;
	struct dir *out = sd->is_server ? &p->up : &p->down;
	uint32_t ev = 0;
	int op;

	in->src_off = in->queued >= px->cap;
	if (!in->eof_read && !in->src_off)
		ev |= EPOLLIN;
	if (out->dst_blocked || (sd->is_server && !p->connected))
		ev |= EPOLLOUT;
	if (!ev) {
		if (sd->in_epoll && epoll_ctl(px->ep, EPOLL_CTL_DEL, sd->fd, NULL) < 0)
			return -errno;
		sd->in_epoll = 0;
		return 0;
	}
	op = sd->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	sd->in_epoll = 1;
	return ep_set(px, op, sd->fd, ev, sd);
}

static void dir_free(struct dir *d)
{
	struct chunk *c, *n;

	for (c = d->head; c; c = n) {
		n = c->next;
		free(c);
	}
	d->head = d->tail = NULL;
}

/* Unlinks and closes a pair; its memory lives on in px->dead until the
 * current batch of events is handled (a later event may name its sides). */
static void pair_close(struct proxy *px, struct pair *p)
{
	if (p->dead)
		return;
	p->dead = 1;
	if (p->prev)
		p->prev->next = p->next;
	else
		px->pairs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	close(p->c.fd);
	close(p->s.fd);
	dir_free(&p->up);
	dir_free(&p->down);
	p->next = px->dead;
	px->dead = p;
	px->nconns--;
}

static void free_dead(struct proxy *px)
{
	struct pair *p;

	while ((p = px->dead)) {
		px->dead = p->next;
		free(p);
	}
}

/* Reads what src has (up to the room left) into a stamped chunk. */
static int dir_read(struct proxy *px, struct dir *d, int src)
{
	size_t room = px->cap > d->queued ? px->cap - d->queued : 0;
	size_t want = room < CHUNK_MAX ? room : CHUNK_MAX;
	struct chunk *c;
	ssize_t n;
	int64_t due;

	if (d->eof_read || !want)
		return 0;
	c = malloc(sizeof(*c) + want);
	if (!c)
		return -ENOMEM;
	n = read(src, c->data, want);
	if (n < 0) {
		free(c);
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	}
	if (n == 0)
		d->eof_read = 1;
	due = now_ns() + px->delay;
	c->due = due > d->floor ? due : d->floor;
	c->len = (size_t)n;
	c->off = 0;
	c->next = NULL;
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += (size_t)n;
	return 0;
}

/* Writes the chunks that are due. -EAGAIN: dst is full (dst_blocked set). */
static int dir_write(struct dir *d, int dst, int64_t now)
{
	struct chunk *c;
	ssize_t n;

	while ((c = d->head) && c->due <= now) {
		if (c->len == 0) {
			if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN)
				return -errno;
			d->eof_sent = 1;
		} else {
			n = write(dst, c->data + c->off, c->len - c->off);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				d->dst_blocked = 1;
				return -EAGAIN;
			}
			if (n < 0)
				return -errno;
			c->off += (size_t)n;
			d->queued -= (size_t)n;
			if (c->off < c->len)
				continue;
		}
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	d->dst_blocked = 0;
	return 0;
}

/* Moves whatever is due on both directions; closes the pair when both ends
 * were delivered or on an error. Returns 1 if the pair is gone. */
static int pair_pump(struct proxy *px, struct pair *p, int64_t now)
{
	int r = 0;

	if (p->connected) {
		r = dir_write(&p->up, p->s.fd, now);
		if (r == -EAGAIN)
			r = 0;
	}
	if (!r) {
		r = dir_write(&p->down, p->c.fd, now);
		if (r == -EAGAIN)
			r = 0;
	}
	if (!r && p->up.eof_sent && p->down.eof_sent)
		r = -ECONNRESET; /* both streams ended: done */
	if (!r)
		r = side_update(px, &p->c) ?: side_update(px, &p->s);
	if (r) {
		pair_close(px, p);
		return 1;
	}
	return 0;
}

static int check_connect(struct pair *p)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->s.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	if (err)
		return -err;
	p->connected = 1;
	return 0;
}

static void on_side(struct proxy *px, struct side *sd, uint32_t ev)
{
	struct pair *p = sd->p;
	struct dir *in = sd->is_server ? &p->down : &p->up;
	int r = 0;

	if (p->dead)
		return;
	if (sd->is_server && !p->connected && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		r = check_connect(p);
	if (!r && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		r = dir_read(px, in, sd->fd);
	if (r) {
		pair_close(px, p);
		return;
	}
	pair_pump(px, p, now_ns());
}

static int set_nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ? -errno : 0;
}

static int pair_open(struct proxy *px, int cfd)
{
	struct pair *p = calloc(1, sizeof(*p));
	int64_t t = now_ns();
	int r, sfd;

	if (!p)
		return -ENOMEM;
	sfd = socket(px->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sfd < 0) {
		r = -errno;
		free(p);
		close(cfd);
		return r;
	}
	p->c = (struct side){.p = p, .fd = cfd};
	p->s = (struct side){.p = p, .fd = sfd, .is_server = 1};
	p->up.floor = t + 3 * px->delay;
	p->down.floor = t + 2 * px->delay;
	p->next = px->pairs;
	if (px->pairs)
		px->pairs->prev = p;
	px->pairs = p;
	px->nconns++;
	set_nodelay(cfd);
	set_nodelay(sfd);
	r = connect(sfd, (struct sockaddr *)&px->target, px->target_len);
	if (r == 0)
		p->connected = 1;
	else if (errno != EINPROGRESS)
		r = -errno;
	else
		r = 0;
	r = r ?: side_update(px, &p->c) ?: side_update(px, &p->s);
	if (r < 0)
		pair_close(px, p);
	return r;
}

static void on_accept(struct proxy *px)
{
	int fd;

	while ((fd = accept4(px->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (px->nconns >= px->max_conns)
			close(fd);
		else
			pair_open(px, fd); /* closes fd itself when it fails */
	}
}

/* Arms the timer at the earliest due chunk of a direction that can write. */
static int arm_timer(struct proxy *px)
{
	struct itimerspec its = {0};
	int64_t next = INT64_MAX;
	struct pair *p;

	for (p = px->pairs; p; p = p->next) {
		if (p->up.head && p->connected && !p->up.dst_blocked && p->up.head->due < next)
			next = p->up.head->due;
		if (p->down.head && !p->down.dst_blocked && p->down.head->due < next)
			next = p->down.head->due;
	}
	if (next != INT64_MAX) {
		if (next <= 0)
			next = 1;
		its.it_value.tv_sec = next / 1000000000;
		its.it_value.tv_nsec = next % 1000000000;
	}
	return timerfd_settime(px->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

static void on_timer(struct proxy *px)
{
	struct pair *p, *n;
	uint64_t ticks;
	int64_t now = now_ns();

	if (read(px->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	for (p = px->pairs; p; p = n) {
		n = p->next;
		pair_pump(px, p, now);
	}
}

static int run(struct proxy *px)
{
	struct epoll_event evs[64];
	int i, n, r;

	for (;;) {
		r = arm_timer(px);
		if (r < 0)
			return r;
		n = epoll_wait(px->ep, evs, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;

			if (tag == TAG_SIGNAL)
				return 0; /* main closes everything */
			if (tag == TAG_LISTEN)
				on_accept(px);
			else if (tag == TAG_TIMER)
				on_timer(px);
			else
				on_side(px, tag, evs[i].events);
		}
		free_dead(px);
	}
}

static int listen_on(struct proxy *px, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, r;

	r = parse_hostport(addr, 1, &ss, &len);
	if (r < 0)
		return r;
	px->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (px->lfd < 0)
		return -errno;
	setsockopt(px->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(px->lfd, (struct sockaddr *)&ss, len) < 0 || listen(px->lfd, 128) < 0)
		return -errno;
	return 0;
}

static int print_port(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int port;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
					: ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (printf("%d\n", port) < 0 || fflush(stdout) != 0)
		return -EIO;
	return 0;
}

/* The listener, the timer and the signals, all in one epoll set. */
static int setup(struct proxy *px, const char *listen_addr)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	px->ep = epoll_create1(EPOLL_CLOEXEC);
	px->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	px->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (px->ep < 0 || px->tfd < 0 || px->sfd < 0)
		return -errno;
	r = listen_on(px, listen_addr);
	r = r ?: ep_set(px, EPOLL_CTL_ADD, px->lfd, EPOLLIN, TAG_LISTEN);
	r = r ?: ep_set(px, EPOLL_CTL_ADD, px->tfd, EPOLLIN, TAG_TIMER);
	r = r ?: ep_set(px, EPOLL_CTL_ADD, px->sfd, EPOLLIN, TAG_SIGNAL);
	return r ?: print_port(px->lfd);
}

static void teardown(struct proxy *px)
{
	while (px->pairs)
		pair_close(px, px->pairs);
	free_dead(px);
	if (px->lfd >= 0)
		close(px->lfd);
	if (px->tfd >= 0)
		close(px->tfd);
	if (px->sfd >= 0)
		close(px->sfd);
	if (px->ep >= 0)
		close(px->ep);
}

/* A number in [lo, hi]: the whole argument must be one. */
static int parse_num(const char *s, double lo, double hi, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -EINVAL;
	*ret = v;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: sbx-delayproxy -t HOST:PORT [-l ADDR:PORT] [-d MS] [-b BYTES] "
			"[-m CONNS]\n"
			"  -d MS     one-way delay in milliseconds, 0..60000 (default 0)\n"
			"  -b BYTES  bytes queued per direction of a connection (default 8 MiB)\n"
			"  -m CONNS  connections at once (default 512)\n"
			"Prints the port it listens on; SIGTERM or SIGINT stops it.\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct proxy px = {.ep = -1, .lfd = -1, .tfd = -1, .sfd = -1, .max_conns = 512};
	const char *listen_addr = "127.0.0.1:0", *target = NULL;
	double ms = 0, cap = 8 << 20, conns = 512;
	int c, r = 0;

	while ((c = getopt(argc, argv, "t:l:d:b:m:h")) != -1) {
		switch (c) {
		case 't': target = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'd': r = r ?: parse_num(optarg, 0, DELAY_MAX, &ms); break;
		case 'b': r = r ?: parse_num(optarg, CHUNK_MAX, CAP_MAX, &cap); break;
		case 'm': r = r ?: parse_num(optarg, 1, CONNS_MAX, &conns); break;
		default: return usage();
		}
	}
	if (r < 0 || !target || optind != argc)
		return usage();
	px.delay = (int64_t)(ms * 1e6);
	px.cap = (size_t)cap;
	px.max_conns = (int)conns;
	r = parse_hostport(target, 0, &px.target, &px.target_len);
	if (r < 0) {
		fprintf(stderr, "sbx-delayproxy: bad target '%s'\n", target);
		return 2;
	}
	r = setup(&px, listen_addr);
	r = r ?: run(&px);
	teardown(&px);
	if (r < 0) {
		fprintf(stderr, "sbx-delayproxy: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
