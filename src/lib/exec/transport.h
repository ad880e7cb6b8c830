/* transport.h - which way one exec or one filesystem primitive travels.
 *
 * Two transports reach a sandbox: the exec WebSocket of the control plane
 * (one session per call, stdin, terminals, bytes) and the sandbox's executor
 * API (docs/executor-protocol.md §5: kept-alive HTTP, no stdin, text only).
 * The choice is the client's option (sbx_client_opts.transport), overridden
 * by $SBX_EXEC_TRANSPORT when that is set to a valid name; it is read on
 * each call, so a test can switch between runs.
 *
 * The auto rule: the filesystem primitives take the executor when the
 * sandbox has one (except the bulk ones: SBX_TP_FS_BULK), since one kept-alive request beats a new WebSocket and
 * src/lib/fs/xfer.h keeps them byte-exact; exec takes the WebSocket, whose
 * output is bytes and which carries stdin and terminals. "Has one" means
 * sbx_sandbox_executor() gives a client and GET /health answers "ok": the
 * first call finds it (REST calls the first time, a probe of up to 5 s)
 * and the client remembers the answer for that sandbox handle (struct
 * sbx_client.xseen), so a sandbox on an image without an executor keeps
 * the WebSocket at the cost of one probe. A call on a callback thread never
 * blocks on that: until the answer is known it takes the WebSocket. A forced choice is
 * never silently replaced: executor with no executor, or with stdin or a
 * terminal, is an error.
 *
 * The agent (SBX_TRANSPORT_AGENT, never chosen by auto: starting it costs
 * more than a one-shot program saves) carries the filesystem primitives as
 * jobs on the handle's one agent session (agent_slot.h); exec keeps the
 * WebSocket. Where the agent cannot run, the handle takes the WebSocket
 * for good and says why (sbx_sandbox_transport_note), as sbxfs falls back
 * to its shell transport.
 */
#ifndef SBX_EXEC_TRANSPORT_H
#define SBX_EXEC_TRANSPORT_H

#include <stdbool.h>

#include "sbx/client.h"
#include "sbx/sandbox.h"

struct xc;

/* What a call needs from its transport. */
enum sbx_tp_use {
	SBX_TP_FS,	   /* a filesystem primitive */
	SBX_TP_FS_BULK,	   /* one that moves much data (FS_BULK_MIN, a stream): auto
			    * takes the WebSocket, 3-6x faster for it (no base64 in
			    * JSON, no staging) */
	SBX_TP_EXEC,	   /* exec without stdin or terminal */
	SBX_TP_EXEC_STDIN, /* exec with stdin or a terminal: WebSocket only */
};

/* The choice in force for @p sb: the env override, else the client's. */
enum sbx_transport sbx_transport_wanted(struct sbx_sandbox *sb);

/* Picks the transport of one call. Returns SBX_TRANSPORT_WEBSOCKET, or
 * SBX_TRANSPORT_EXECUTOR with the sandbox's executor client in *ret_xc
 * (borrowed: it lives as long as the sandbox handle), or
 * SBX_TRANSPORT_AGENT (a filesystem primitive: the agent runs, or, for a
 * caller on a callback thread, is not known yet not to), or a negative
 * errno with a message (a forced executor that cannot serve the call). A
 * caller that may block can wait here for the agent's first start. */
int sbx_transport_pick(struct sbx_sandbox *sb, enum sbx_tp_use use, struct xc **ret_xc,
		       struct sbx_err *err);

/* Stack of the threads that run executor calls (curl, json-c and the
 * callbacks need far less than the default 8 MiB; many run at once). */
#define SBX_XTHREAD_STACK ((size_t)512 << 10)

/* Starts fn(arg) on a detached thread with that stack: the one thread of
 * an executor or agent call. 0, or the positive error of pthread_create. */
int sbx_xthread_start(void *(*fn)(void *), void *arg);

/* Marks the calling thread as one that makes executor callbacks (the
 * threads of fs_xop.c and exec_x.c), for sbx_transport_in_callback(). */
void sbx_transport_mark_thread(void);

/* true when the caller runs on a thread that makes exec or fs callbacks
 * (the client's WebSocket thread or a marked one): a synchronous call from
 * there fails with -EDEADLK, whichever transport would serve it, so that
 * code written against one transport does not deadlock on the other. */
bool sbx_transport_in_callback(struct sbx_sandbox *sb);

#endif
