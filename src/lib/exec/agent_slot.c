/* agent_slot.c - the agent of a sandbox handle; see agent_slot.h. */
#include "exec/agent_slot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/sandbox_priv.h"
#include "sbx/client.h"
#include "sbx/rfs.h"
#include "util/log.h"
#include "util/timeutil.h"

void sbx_agent_slot_init(struct sbx_agent_slot *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->state = SBX_AGENT_UNTRIED;
	s->umask = -1;
}

void sbx_agent_slot_release(struct sbx_agent_slot *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->holds)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	sbx_rfs_free(s->rfs);
	s->rfs = NULL;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

/* Connects a context with the agent transport: 0 and *ret, or a negative
 * errno with the reason in note. Blocks (an exec, a HELLO, an upload). */
static int agent_connect(struct sbx_sandbox *sb, struct sbx_rfs **ret, char *note, size_t cap)
{
	struct sbx_rfs_opts o = {.transport = SBX_RFS_TRANSPORT_AGENT};
	struct sbx_err err = {0};
	struct sbx_rfs *r = NULL;
	int64_t t0 = sbx_now_ms();
	int rc;

	rc = sbx_rfs_new(sb, &o, &r);
	if (rc == 0)
		rc = sbx_rfs_connect(r, &err);
	if (rc < 0) {
		snprintf(note, cap, "agent unavailable: %.400s",
			 err.msg[0] ? err.msg : strerror(-rc));
		sbx_rfs_free(r);
		/* the one report of it: the handle keeps the WebSocket */
		sbx_debug("transport: %s; the filesystem primitives of %s take the websocket", note,
			  sbx_sandbox_id(sb));
		return rc;
	}
	sbx_debug("transport: the agent of %s is up (%lld ms)", sbx_sandbox_id(sb),
		  (long long)(sbx_now_ms() - t0));
	*ret = r;
	return 0;
}

int sbx_agent_slot_get(struct sbx_sandbox *sb, bool may_wait, struct sbx_rfs **ret)
{
	struct sbx_agent_slot *s = sbx_sandbox_agent_slot(sb);
	char note[SBX_ERR_MSG_MAX] = "";
	struct sbx_rfs *r = NULL;
	int rc;

	pthread_mutex_lock(&s->mu);
	while (may_wait && s->state == SBX_AGENT_STARTING)
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->state == SBX_AGENT_UP || s->state == SBX_AGENT_DOWN) {
		rc = s->state == SBX_AGENT_UP;
		if (rc)
			*ret = s->rfs;
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	if (!may_wait) {
		pthread_mutex_unlock(&s->mu);
		return -EAGAIN;
	}
	s->state = SBX_AGENT_STARTING;
	pthread_mutex_unlock(&s->mu);
	rc = agent_connect(sb, &r, note, sizeof(note));
	pthread_mutex_lock(&s->mu);
	if (rc == 0) {
		s->rfs = r;
		s->state = SBX_AGENT_UP;
		*ret = r;
	} else {
		memcpy(s->note, note, sizeof(s->note));
		s->state = SBX_AGENT_DOWN;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return rc == 0;
}

void sbx_agent_slot_hold(struct sbx_agent_slot *s)
{
	pthread_mutex_lock(&s->mu);
	s->holds++;
	pthread_mutex_unlock(&s->mu);
}

void sbx_agent_slot_unhold(struct sbx_agent_slot *s)
{
	pthread_mutex_lock(&s->mu);
	s->holds--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu); /* the slot may be released from here on */
}

void sbx_agent_slot_job_enter(struct sbx_agent_slot *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->jobs >= SBX_AGENT_JOBS)
		pthread_cond_wait(&s->cv, &s->mu);
	s->jobs++;
	pthread_mutex_unlock(&s->mu);
}

void sbx_agent_slot_job_leave(struct sbx_agent_slot *s)
{
	pthread_mutex_lock(&s->mu);
	s->jobs--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

int sbx_agent_slot_umask(struct sbx_agent_slot *s)
{
	int m;

	pthread_mutex_lock(&s->mu);
	m = s->umask;
	pthread_mutex_unlock(&s->mu);
	return m;
}

void sbx_agent_slot_set_umask(struct sbx_agent_slot *s, int umask)
{
	pthread_mutex_lock(&s->mu);
	s->umask = umask;
	pthread_mutex_unlock(&s->mu);
}

const char *sbx_sandbox_transport_note(struct sbx_sandbox *sb)
{
	struct sbx_agent_slot *s;
	bool down;

	if (!sb)
		return "";
	s = sbx_sandbox_agent_slot(sb);
	pthread_mutex_lock(&s->mu);
	down = s->state == SBX_AGENT_DOWN;
	pthread_mutex_unlock(&s->mu);
	return down ? s->note : ""; /* fixed once DOWN */
}
