/* transport.c - the transport choice; see transport.h. */
#include "transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/sandbox_priv.h"
#include "client_priv.h"
#include "exec/ws.h"
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
	}
	return "auto";
}

int sbx_transport_parse(const char *s, enum sbx_transport *ret)
{
	static const enum sbx_transport all[] = {SBX_TRANSPORT_AUTO, SBX_TRANSPORT_WEBSOCKET,
						 SBX_TRANSPORT_EXECUTOR};
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
		sbx_debug("transport: SBX_EXEC_TRANSPORT=%s is not auto, websocket or executor; "
			  "ignored",
			  env);
	return sbx_sandbox_client(sb)->transport;
}

int sbx_transport_pick(struct sbx_sandbox *sb, enum sbx_tp_use use, struct xc **ret_xc,
		       struct sbx_err *err)
{
	enum sbx_transport t = sbx_transport_wanted(sb);
	struct sbx_err local;
	int r;

	if (t == SBX_TRANSPORT_WEBSOCKET || (t == SBX_TRANSPORT_AUTO && use != SBX_TP_FS))
		return SBX_TRANSPORT_WEBSOCKET;
	if (t == SBX_TRANSPORT_EXECUTOR && use == SBX_TP_EXEC_STDIN)
		return sbx_err_set(err, -ENOTSUP, 0,
				   "exec: the executor transport has no stdin and no terminal "
				   "(use the websocket transport)");
	memset(&local, 0, sizeof(local));
	r = sbx_sandbox_executor(sb, ret_xc, t == SBX_TRANSPORT_EXECUTOR ? err : &local);
	if (r >= 0)
		return SBX_TRANSPORT_EXECUTOR;
	if (t == SBX_TRANSPORT_EXECUTOR)
		return r;
	sbx_debug("transport: no executor (%s); using the websocket", local.msg);
	return SBX_TRANSPORT_WEBSOCKET;
}

void sbx_transport_mark_thread(void)
{
	on_x_thread = true;
}

bool sbx_transport_in_callback(struct sbx_sandbox *sb)
{
	return on_x_thread || sbx_wsc_on_thread(sbx_sandbox_client(sb)->ws);
}
