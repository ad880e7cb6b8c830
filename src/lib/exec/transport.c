/* transport.c - the transport choice; see transport.h. */
#include "transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/sandbox_priv.h"
#include "client_priv.h"
#include "exec/agent_slot.h"
#include "exec/ws.h"
#include "util/json.h"
#include "xc/xc.h"
#include "util/log.h"

/* Set on the threads that run executor callbacks. Per thread and never
 * shared, so no lock: the one way to tell, from inside a call, that the
 * caller is one of our callbacks (ws.c compares thread ids instead). */
static _Thread_local bool on_x_thread;

const char *sbx_transport_name(enum sbx_transport t)
{
	switch (t) {
	case SBX_TRANSPORT_AUTO: return "auto";
	case SBX_TRANSPORT_WEBSOCKET: return "websocket";
	case SBX_TRANSPORT_EXECUTOR: return "executor";
	case SBX_TRANSPORT_AGENT: return "agent";
	}
	return "auto";
}

int sbx_transport_parse(const char *s, enum sbx_transport *ret)
{
	static const enum sbx_transport all[] = {SBX_TRANSPORT_AUTO, SBX_TRANSPORT_WEBSOCKET,
						 SBX_TRANSPORT_EXECUTOR, SBX_TRANSPORT_AGENT};
	size_t i;

	for (i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, sbx_transport_name(all[i]))) {
			*ret = all[i];
			return 0;
		}
	return -SBX_EINVAL;
}

enum sbx_transport sbx_transport_wanted(struct sbx_sandbox *sb)
{
	const char *env = getenv("SBX_EXEC_TRANSPORT");
	enum sbx_transport t;

	if (env && *env && sbx_transport_parse(env, &t) == 0)
		return t;
	if (env && *env)
		sbx_debug("transport: SBX_EXEC_TRANSPORT=%s is not auto, websocket, executor or "
			  "agent; ignored",
			  env);
	return sbx_sandbox_client(sb)->transport;
}

/* Deadline of the /health probe of the auto choice. */
#define PROBE_TIMEOUT_S 5.0

/* What the auto choice knows of sb: 1 its executor answers, 0 it has
 * none or it does not answer, -1 not probed yet. */
static int seen(struct sbx_client *c, struct sbx_sandbox *sb)
{
	const char *id = sbx_sandbox_id(sb);
	int v = -1;
	unsigned i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < sizeof(c->xseen) / sizeof(c->xseen[0]); i++)
		if (c->xseen[i].sb == sb && !strcmp(c->xseen[i].id, id))
			v = c->xseen[i].ok;
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void remember(struct sbx_client *c, struct sbx_sandbox *sb, bool ok)
{
	const char *id = sbx_sandbox_id(sb);
	struct sbx_xseen *e;

	if (!*id || strlen(id) >= sizeof(c->xseen[0].id))
		return; /* not kept: probed again next time */
	pthread_mutex_lock(&c->lock);
	e = &c->xseen[c->xseen_next++ % (sizeof(c->xseen) / sizeof(c->xseen[0]))];
	e->sb = sb;
	memcpy(e->id, id, strlen(id) + 1);
	e->ok = ok;
	pthread_mutex_unlock(&c->lock);
}

/* Whether the executor answers GET /health with an ok status. */
static bool healthy(struct xc *xc)
{
	json_object *rep = NULL;
	struct sbx_err e = {0};
	const char *st;
	int status = 0;
	bool ok;

	ok = xc_call(xc, "GET", "/health", NULL, NULL, PROBE_TIMEOUT_S, &status, &rep, &e) == 0 &&
	     rep && (st = sbx_json_str(rep, "status")) &&
	     (!strcmp(st, "ok") || !strcmp(st, "healthy") || !strcmp(st, "ready"));
	sbx_json_put(rep);
	if (!ok)
		sbx_debug("transport: executor %s does not answer (%s)", xc_base_url(xc), e.msg);
	return ok;
}

/* The auto choice of a filesystem primitive: the executor once it is known
 * to answer. The first call finds it (REST calls, a probe); a call on a
 * callback thread never blocks on that, it takes the WebSocket until then. */
static int pick_auto(struct sbx_sandbox *sb, struct xc **ret_xc)
{
	struct sbx_client *c = sbx_sandbox_client(sb);
	struct sbx_err local = {0};
	int v = seen(c, sb), r;
	bool ok;

	if (v == 0 || (v < 0 && sbx_transport_in_callback(sb)))
		return SBX_TRANSPORT_WEBSOCKET;
	r = sbx_sandbox_executor(sb, ret_xc, &local);
	if (v > 0)
		return r >= 0 ? SBX_TRANSPORT_EXECUTOR : SBX_TRANSPORT_WEBSOCKET;
	ok = r >= 0 && healthy(*ret_xc);
	if (r < 0)
		sbx_debug("transport: no executor (%s)", local.msg);
	sbx_debug("transport: the filesystem primitives of %s take the %s", sbx_sandbox_id(sb),
		  ok ? "executor" : "websocket");
	remember(c, sb, ok);
	return ok ? SBX_TRANSPORT_EXECUTOR : SBX_TRANSPORT_WEBSOCKET;
}

/* The agent choice: the filesystem primitives take the handle's agent
 * unless it is known not to run there; exec keeps the WebSocket. A caller
 * that may block finds out now (the first one connects); a callback thread
 * gets the agent transport, whose own thread finds out (fs_aop.c). */
static int pick_agent(struct sbx_sandbox *sb, enum sbx_tp_use use)
{
	struct sbx_rfs *rfs = NULL;

	if (use != SBX_TP_FS && use != SBX_TP_FS_BULK)
		return SBX_TRANSPORT_WEBSOCKET;
	if (sbx_agent_slot_get(sb, !sbx_transport_in_callback(sb), &rfs) == 0)
		return SBX_TRANSPORT_WEBSOCKET; /* said once, by the slot */
	return SBX_TRANSPORT_AGENT;
}

int sbx_transport_pick(struct sbx_sandbox *sb, enum sbx_tp_use use, struct xc **ret_xc,
		       struct sbx_err *err)
{
	enum sbx_transport t = sbx_transport_wanted(sb);
	int r;

	if (t == SBX_TRANSPORT_AGENT)
		return pick_agent(sb, use);
	if (t == SBX_TRANSPORT_WEBSOCKET || (t == SBX_TRANSPORT_AUTO && use != SBX_TP_FS))
		return SBX_TRANSPORT_WEBSOCKET;
	if (t == SBX_TRANSPORT_AUTO)
		return pick_auto(sb, ret_xc);
	if (use == SBX_TP_EXEC_STDIN)
		return sbx_err_set(err, -ENOTSUP, 0,
				   "exec: the executor transport has no stdin and no terminal "
				   "(use the websocket transport)");
	r = sbx_sandbox_executor(sb, ret_xc, err);
	return r < 0 ? r : SBX_TRANSPORT_EXECUTOR;
}

void sbx_transport_mark_thread(void)
{
	on_x_thread = true;
}

bool sbx_transport_in_callback(struct sbx_sandbox *sb)
{
	return on_x_thread || sbx_wsc_on_thread(sbx_sandbox_client(sb)->ws);
}

int sbx_xthread_start(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t th;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SBX_XTHREAD_STACK);
	r = pthread_create(&th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return r;
}
