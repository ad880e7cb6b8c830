/* exec.h - exec sessions: the /v1/streams/instances/exec WebSocket
 * (docs/executor-protocol.md section 3) bound to a process in a sandbox.
 *
 * A session starts with the first client message, which must carry
 * body.command; later messages carry stdin (base64) and its close, and may
 * repeat id/idType/command (ignored). The server sends stdout and stderr
 * chunks as {"result":{"stdout":{"data":B64}}} (at most 64 KiB of raw bytes
 * each, per-stream order kept), then {"result":{"exited":true,
 * "exit_code":N}} and closes with 1000. Errors are
 * {"error":{"code":C,"message":M,"details":[]}} followed by a close: 3
 * invalid argument, 5 not found, 9 sandbox not HEALTHY, 13 internal.
 *
 * A terminal is allocated only when the first message says disableTty:
 * false (the Koyeb CLI's interactive case); tty_size sizes it, then and in
 * any later message. Otherwise (the SDKs send true or nothing) stdout and
 * stderr stay separate pipes, as their parsing expects. See exec_tty.h.
 *
 * Lifetime: a session lives until both its WebSocket is gone and its process
 * was reaped. A client that goes away before the command exited gets the
 * command's whole process tree killed.
 *
 * Backpressure: the command's pipes are not read while more than
 * SBX_EXEC_HIGH_WATER bytes wait for the socket; the socket is not read while
 * more than SBX_EXEC_HIGH_WATER bytes of stdin wait for the command.
 */
#ifndef SBX_HOST_EXEC_H
#define SBX_HOST_EXEC_H

#include <stdbool.h>

#include "host/http/server.h"

struct sbxd;

#define SBX_EXEC_CHUNK	    (256u * 1024)
#define SBX_EXEC_HIGH_WATER (1u << 20)
#define SBX_EXEC_DRAIN_MS   250

/* Upgrades c to an exec session. id is the instance (or, with
 * id_is_service, service) id from the query, or "" when the query had none
 * (then the first message must name it). protocol is the subprotocol to
 * select ("Bearer") or NULL. 0, or -EINVAL when the upgrade request is not
 * valid WebSocket (the caller answers 400), -ENOMEM. */
int sbxd_exec_accept(struct sbxd *d, struct sbxd_http_conn *c, const struct sbxd_http_req *req,
		     const char *id, bool id_is_service, const char *protocol);

/* Kills every running exec's process tree (shutdown). */
void sbxd_exec_kill_all(struct sbxd *d);

#endif
