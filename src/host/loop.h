/* loop.h - the single-threaded epoll event loop of sbxd.
 *
 * Everything in sbxd runs on one thread inside sbxd_loop_run(): sockets,
 * pipes, pidfds and the signalfd are watched here; nothing may block.
 *
 * Invariants:
 *  - A struct sbxd_watch is embedded in its owner. After sbxd_loop_unwatch()
 *    no callback runs for it again, even for an event already fetched in the
 *    current batch: owners that free themselves must do so through
 *    sbxd_loop_defer() so that a pending event never touches freed memory.
 *  - Timers are one-shot, embedded in their owner, and must be cancelled
 *    before the owner is freed. A timer armed from its own callback fires at
 *    the earliest on the next iteration.
 */
#ifndef SBX_HOST_LOOP_H
#define SBX_HOST_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct sbxd_loop;
struct sbxd_watch;
struct sbxd_timer;

typedef void (*sbxd_watch_fn)(struct sbxd_watch *w, uint32_t events);
typedef void (*sbxd_timer_fn)(struct sbxd_timer *t);

struct sbxd_watch {
	int fd;		 /* -1 when not watched */
	uint32_t events; /* EPOLLIN / EPOLLOUT currently asked for */
	sbxd_watch_fn fn;
	void *arg; /* for the owner; the loop never touches it */
};

struct sbxd_timer {
	int64_t deadline; /* sbx_now_ms() value */
	uint64_t seq;	  /* arming order, to keep re-armed timers for later */
	bool armed;
	sbxd_timer_fn fn;
	void *arg;
	struct sbxd_timer *prev, *next;
};

#define SBX_WATCH_INIT                                                                             \
	{                                                                                          \
		-1, 0, 0, 0                                                                        \
	}

/* Creates a loop. 0 or -errno; *ret untouched on failure. */
int sbxd_loop_new(struct sbxd_loop **ret);
/* Frees the loop (runs pending deferred frees first). Accepts NULL. */
void sbxd_loop_free(struct sbxd_loop *l);

/* Starts watching fd (borrowed: the caller closes it after unwatching). */
int sbxd_loop_watch(struct sbxd_loop *l, struct sbxd_watch *w, int fd, uint32_t events,
		    sbxd_watch_fn fn, void *arg);
/* Changes the event mask; a no-op when it is unchanged. 0 or -errno. */
int sbxd_loop_modify(struct sbxd_loop *l, struct sbxd_watch *w, uint32_t events);
/* Stops watching; safe on a watch that is not active. */
void sbxd_loop_unwatch(struct sbxd_loop *l, struct sbxd_watch *w);

/* Arms (or re-arms) t to fire after delay_ms. */
void sbxd_loop_timer(struct sbxd_loop *l, struct sbxd_timer *t, int64_t delay_ms, sbxd_timer_fn fn,
		     void *arg);
/* Disarms t; safe when it is not armed. */
void sbxd_loop_timer_cancel(struct sbxd_loop *l, struct sbxd_timer *t);

/* Runs fn(arg) at the end of the current iteration, after every event of the
 * batch was dispatched. 0, or -ENOMEM when nothing could be scheduled (the
 * caller then leaks its object rather than freeing it early). */
int sbxd_loop_defer(struct sbxd_loop *l, void (*fn)(void *), void *arg);

/* Runs until sbxd_loop_quit(). 0, or -errno when epoll fails. */
int sbxd_loop_run(struct sbxd_loop *l);
void sbxd_loop_quit(struct sbxd_loop *l);

#endif
