/* loop.c - epoll loop with one-shot timers and deferred frees; see loop.h.
 *
 * Timers live in an unsorted doubly linked list: sbxd has at most a few
 * hundred of them (one per connection or exec at most), so a linear scan per
 * iteration is cheaper than keeping a heap in order.
 */
#include "host/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/timeutil.h"

#define MAX_EVENTS 64

struct deferred {
	void (*fn)(void *);
	void *arg;
};

struct sbxd_loop {
	int epfd;
	bool quit;
	uint64_t seq;
	struct sbxd_timer *timers;
	struct deferred *defer;
	size_t ndefer, capdefer;
};

int sbxd_loop_new(struct sbxd_loop **ret)
{
	struct sbxd_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void run_deferred(struct sbxd_loop *l)
{
	size_t i;

	/* a deferred function may defer more: loop until the list is empty */
	while (l->ndefer) {
		size_t n = l->ndefer;
		struct deferred *d = l->defer;

		l->defer = NULL;
		l->ndefer = l->capdefer = 0;
		for (i = 0; i < n; i++)
			d[i].fn(d[i].arg);
		free(d);
	}
}

void sbxd_loop_free(struct sbxd_loop *l)
{
	if (!l)
		return;
	run_deferred(l);
	close(l->epfd);
	free(l);
}

int sbxd_loop_watch(struct sbxd_loop *l, struct sbxd_watch *w, int fd, uint32_t events,
		    sbxd_watch_fn fn, void *arg)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	return 0;
}

int sbxd_loop_modify(struct sbxd_loop *l, struct sbxd_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (w->fd < 0)
		return -EBADF;
	if (w->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void sbxd_loop_unwatch(struct sbxd_loop *l, struct sbxd_watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	w->events = 0;
}

void sbxd_loop_timer(struct sbxd_loop *l, struct sbxd_timer *t, int64_t delay_ms, sbxd_timer_fn fn,
		     void *arg)
{
	sbxd_loop_timer_cancel(l, t);
	t->deadline = sbx_now_ms() + (delay_ms > 0 ? delay_ms : 0);
	t->seq = ++l->seq;
	t->fn = fn;
	t->arg = arg;
	t->armed = true;
	t->prev = NULL;
	t->next = l->timers;
	if (l->timers)
		l->timers->prev = t;
	l->timers = t;
}

void sbxd_loop_timer_cancel(struct sbxd_loop *l, struct sbxd_timer *t)
{
	if (!t->armed)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->armed = false;
}

int sbxd_loop_defer(struct sbxd_loop *l, void (*fn)(void *), void *arg)
{
	if (l->ndefer == l->capdefer) {
		size_t ncap = l->capdefer ? 2 * l->capdefer : 16;
		struct deferred *d = realloc(l->defer, ncap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		l->defer = d;
		l->capdefer = ncap;
	}
	l->defer[l->ndefer].fn = fn;
	l->defer[l->ndefer].arg = arg;
	l->ndefer++;
	return 0;
}

/* Milliseconds until the next timer, -1 when none is armed. */
static int next_timeout(struct sbxd_loop *l)
{
	int64_t now = sbx_now_ms(), best = -1;
	struct sbxd_timer *t;

	for (t = l->timers; t; t = t->next) {
		int64_t d = t->deadline - now;

		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	if (best > 60000)
		best = 60000;
	return (int)best;
}

static void run_timers(struct sbxd_loop *l)
{
	int64_t now = sbx_now_ms();
	uint64_t seq = l->seq;
	struct sbxd_timer *t;

again:
	for (t = l->timers; t; t = t->next) {
		if (t->deadline <= now && t->seq <= seq) {
			sbxd_loop_timer_cancel(l, t);
			t->fn(t);
			/* the callback may have changed the list: rescan */
			goto again;
		}
	}
}

int sbxd_loop_run(struct sbxd_loop *l)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n;

	while (!l->quit) {
		n = epoll_wait(l->epfd, evs, MAX_EVENTS, next_timeout(l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n; i++) {
			struct sbxd_watch *w = evs[i].data.ptr;

			/* unwatched earlier in this batch: the owner is kept
			 * alive by the deferral rule, but wants no callback */
			if (w->fd < 0)
				continue;
			w->fn(w, evs[i].events);
		}
		run_timers(l);
		run_deferred(l);
	}
	run_deferred(l);
	return 0;
}

void sbxd_loop_quit(struct sbxd_loop *l)
{
	l->quit = true;
}
