/* loop.h - the single-threaded epoll event loop of sbxd.
 *
 * Everything in sbxd runs on one thread inside sbx_loop_run(): sockets,
 * pipes, pidfds and the signalfd are watched here; nothing may block.
 *
 * Invariants:
 *  - A struct sbx_watch is embedded in its owner. After sbx_loop_unwatch()
 *    no callback runs for it again, even for an event already fetched in the
 *    current batch: owners that free themselves must do so through
 *    sbx_loop_defer() so that a pending event never touches freed memory.
 *  - Timers are one-shot, embedded in their owner, and must be cancelled
 *    before the owner is freed. A timer armed from its own callback fires at
 *    the earliest on the next iteration.
 */
#ifndef SBX_HOST_LOOP_H
#define SBX_HOST_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct sbx_loop;
struct sbx_watch;
struct sbx_timer;

typedef void (*sbx_watch_fn)(struct sbx_watch *w, uint32_t events);
typedef void (*sbx_timer_fn)(struct sbx_timer *t);

struct sbx_watch {
	int fd;		 /* -1 when not watched */
	uint32_t events; /* EPOLLIN / EPOLLOUT currently asked for */
	sbx_watch_fn fn;
	void *arg; /* for the owner; the loop never touches it */
};

struct sbx_timer {
	int64_t deadline; /* sbx_now_ms() value */
	uint64_t seq;	  /* arming order, to keep re-armed timers for later */
	bool armed;
	sbx_timer_fn fn;
	void *arg;
	struct sbx_timer *prev, *next;
};

#define SBX_WATCH_INIT                                                                             \
	{                                                                                          \
		-1, 0, 0, 0                                                                        \
	}

/* Creates a loop. 0 or -errno; *ret untouched on failure. */
int sbx_loop_new(struct sbx_loop **ret);
/* Frees the loop (runs pending deferred frees first). Accepts NULL. */
void sbx_loop_free(struct sbx_loop *l);

/* Starts watching fd (borrowed: the caller closes it after unwatching). */
int sbx_loop_watch(struct sbx_loop *l, struct sbx_watch *w, int fd, uint32_t events,
		   sbx_watch_fn fn, void *arg);
/* Changes the event mask; a no-op when it is unchanged. 0 or -errno. */
int sbx_loop_modify(struct sbx_loop *l, struct sbx_watch *w, uint32_t events);
/* Stops watching; safe on a watch that is not active. */
void sbx_loop_unwatch(struct sbx_loop *l, struct sbx_watch *w);

/* Arms (or re-arms) t to fire after delay_ms. */
void sbx_loop_timer(struct sbx_loop *l, struct sbx_timer *t, int64_t delay_ms, sbx_timer_fn fn,
		    void *arg);
/* Disarms t; safe when it is not armed. */
void sbx_loop_timer_cancel(struct sbx_loop *l, struct sbx_timer *t);

/* Runs fn(arg) at the end of the current iteration, after every event of the
 * batch was dispatched. 0, or -ENOMEM when nothing could be scheduled (the
 * caller then leaks its object rather than freeing it early). */
int sbx_loop_defer(struct sbx_loop *l, void (*fn)(void *), void *arg);

/* Runs until sbx_loop_quit(). 0, or -errno when epoll fails. */
int sbx_loop_run(struct sbx_loop *l);
void sbx_loop_quit(struct sbx_loop *l);

#endif
