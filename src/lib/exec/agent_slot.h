/* agent_slot.h - the agent of a sandbox handle, for SBX_TRANSPORT_AGENT.
 *
 * A sandbox handle owns one slot (struct sbx_sandbox embeds it). The first
 * call that wants the agent makes one sbx_rfs context with the agent
 * transport (sbx/rfs.h: sbx-agent uploaded once if the sandbox has no
 * copy, then started over ONE exec session kept open) and every later call
 * of the handle uses it: a primitive is then a job on that session, not a
 * session of its own. Connecting blocks (an exec, a HELLO, maybe an
 * upload): only one thread does it, the others wait for its answer; a
 * caller that must not block (a callback thread) is told the answer is not
 * known yet.
 *
 * When the agent cannot run there (another architecture, nowhere to store
 * or verify it, the sandbox unreachable at that moment) the slot says so
 * for the rest of the handle's life, as sbxfs does for a mount: the calls
 * take the WebSocket, the reason is kept (sbx_sandbox_transport_note) and
 * logged once. A session that ends later (the agent killed, the link cut)
 * is not that: the context starts a new one on the next call, and a call
 * that finds it down fails like an exec would.
 *
 * The agent runs at most SBX_AGENT_JOBS jobs at once (src/agent: 256 per
 * session); callers past that wait for a job to end (job_enter/leave).
 */
#ifndef SBX_EXEC_AGENT_SLOT_H
#define SBX_EXEC_AGENT_SLOT_H

#include <pthread.h>
#include <stdbool.h>

#include "sbx/error.h"
#include "sbx/sandbox.h"

struct sbx_rfs;

/* Jobs of one handle's agent at once, at most (below the agent's 256). */
#define SBX_AGENT_JOBS 128

enum sbx_agent_state {
	SBX_AGENT_UNTRIED,  /* nobody asked yet */
	SBX_AGENT_STARTING, /* one thread is connecting */
	SBX_AGENT_UP,	    /* rfs is connected with the agent transport */
	SBX_AGENT_DOWN,	    /* it cannot run here: note says why */
};

struct sbx_agent_slot {
	pthread_mutex_t mu;
	pthread_cond_t cv;	    /* mu: state left STARTING; a job ended */
	enum sbx_agent_state state; /* mu */
	struct sbx_rfs *rfs;	    /* mu; fixed once UP */
	char note[SBX_ERR_MSG_MAX]; /* mu; fixed once DOWN ("" before) */
	unsigned jobs;		    /* mu: jobs running on rfs */
	unsigned holds;		    /* mu: threads that may still touch rfs */
	int umask;		    /* mu: the jobs' umask, -1 until known */
};

void sbx_agent_slot_init(struct sbx_agent_slot *s);
/* Waits for the threads that hold the slot, ends the agent's session (it
 * exits at the end of its stdin) and frees. No call of the handle may be
 * running. */
void sbx_agent_slot_release(struct sbx_agent_slot *s);

/* A thread of a call takes a hold before it starts and drops it as the
 * last thing it does: the caller's callback may have run (and the handle
 * be freed after it) while that thread still lets go of the job, so the
 * release waits for the holds. */
void sbx_agent_slot_hold(struct sbx_agent_slot *s);
void sbx_agent_slot_unhold(struct sbx_agent_slot *s);

/* The agent of @p sb: 1 and its context in *ret (borrowed: it lives as
 * long as the handle), 0 when it cannot run there (take the WebSocket),
 * or -EAGAIN when that is not known yet and @p may_wait is false (nothing
 * was started). With may_wait, the first call connects. Thread-safe. */
int sbx_agent_slot_get(struct sbx_sandbox *sb, bool may_wait, struct sbx_rfs **ret);

/* A job is about to start on the agent: waits while SBX_AGENT_JOBS run.
 * Every enter is paired with one leave, when the job ended or did not
 * start. */
void sbx_agent_slot_job_enter(struct sbx_agent_slot *s);
void sbx_agent_slot_job_leave(struct sbx_agent_slot *s);

/* The umask of the agent's jobs (the sandbox's default), which a file made
 * by a request instead of a job must get (the agent's own is 0): -1 until
 * someone found it out and set it. */
int sbx_agent_slot_umask(struct sbx_agent_slot *s);
void sbx_agent_slot_set_umask(struct sbx_agent_slot *s, int umask);

#endif
