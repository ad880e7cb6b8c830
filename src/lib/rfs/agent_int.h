/* agent_int.h - the state of the agent transport, shared by its files
 * (agent_sess.c: sessions and requests; agent_watch.c: change events).
 * Nothing outside src/lib/rfs/agent_*.c uses it.
 */
#ifndef SBX_LIB_RFS_AGENT_INT_H
#define SBX_LIB_RFS_AGENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "rfs/agent.h"
#include "util/buf.h"

/* A directory the client asked to watch. The agent's wd is known once the
 * WATCH reply came (live); a new session sends it again. */
struct agent_watch {
	char *dir;    /* owned */
	uint32_t wd;  /* valid when live */
	bool live;    /* the current session's agent watches it */
	bool pending; /* a WATCH is on its way */
};

/* a request that waited its whole deadline for a session that said
 * nothing: the next ones fail at once for this long (agent_sess.c) */
#define RFS_AGENT_STALL_MS 5000

struct job_ev;
struct agent_job;
struct acall;

struct sess {
	struct rfs_agent *a;
	struct sbx_exec *e;	   /* a->m; NULL once over */
	struct sbx_buf in;	   /* transport thread: a partial frame */
	struct sbx_buf errb;	   /* a->m: the agent's stderr, first bytes */
	bool over;		   /* a->m */
	bool broken;		   /* a->m: its output was malformed; ignored since */
	bool offline;		   /* fixed: no exec (agent_dec.h: tests) */
	int exit_code;		   /* a->m: when over; -1 if it did not exit */
	char why[SBX_ERR_MSG_MAX]; /* a->m: how it ended */
	struct sess *next_dead;	   /* a->m: ended sessions, freed with a */
};

struct rfs_agent {
	struct sbx_rfs *r; /* borrowed */
	char hex[65];	   /* fixed: the agent's SHA-256 */
	char machine[65];  /* fixed: this machine */
	char *boot;	   /* fixed: the boot command */
	pthread_mutex_t m;
	pthread_cond_t cv;	/* m: a reply, the end of a session, stdin drained */
	struct sess *cur;	/* m: the session in use, or NULL */
	struct sess *dead;	/* m: ended sessions, freed with the context */
	bool starting;		/* m: a thread is starting a session */
	struct agent_req *reqs; /* m: in flight */
	size_t reserved;	/* m: stdin room taken for frames being built */
	uint32_t next_id;	/* m */
	uint64_t seq;		/* m: frames received, over all sessions */
	int64_t last_rx_ms;	/* m: when the last frame arrived */
	int64_t stall_until;	/* m: a silent session: fail fast until then */
	int64_t retry_at;	/* m: no new session before (backoff after a failure) */
	int64_t backoff_ms;	/* m: the wait after the next failure; 0 after a success */
	int retry_err;		/* m: why the last start failed */
	char agent_machine[65]; /* m: from HELLO */
	uint64_t handles[SBXA_HANDLES_MAX / 64]; /* m: handles in use */
	sbx_rfs_change_fn on_change;		 /* fixed */
	void *change_ud;			 /* fixed */
	struct agent_watch *watches;		 /* m: every directory asked for */
	size_t n_watches, cap_watches;		 /* m */
	size_t *dir_tab, dir_cap;	 /* m: watches' indexes by directory (agent_watch.c) */
	uint32_t *wd_tab;		 /* m: index + 1 of the live watch of each wd, 0: none */
	size_t wd_cap;			 /* m */
	struct job_ev *jobq, *jobq_tail; /* m: callbacks waiting (agent_job.c) */
	struct agent_job *timed;	 /* m: jobs with a deadline */
	pthread_t timer;		 /* the deadline thread, when timer_on */
	pthread_cond_t tcv;		 /* m: wakes it */
	bool timer_on, timer_stop;	 /* m */
	/* agent_async.c: requests answered later */
	struct acall *alive;		  /* m: in flight (their deadlines) */
	struct acall *adone, *adone_tail; /* m: ended, for the completion thread */
	pthread_t athr;			  /* the completion thread, when athr_on */
	pthread_cond_t acv;		  /* m: wakes it */
	bool athr_on, athr_stop;	  /* m */
};

#endif
