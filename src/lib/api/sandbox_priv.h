/* sandbox_priv.h - what other modules of libsbx need from a sandbox handle. */
#ifndef SBX_API_SANDBOX_PRIV_H
#define SBX_API_SANDBOX_PRIV_H

#include "sbx/sandbox.h"

struct xc;
struct sbx_agent_slot;

/* Copies the current instance id into *ret (caller frees), resolving it
 * first (sbx_sandbox_refresh) when none is known. -SBX_ENOTFOUND when the
 * sandbox has no instance. Thread-safe. */
int sbx_sandbox_instance_copy(struct sbx_sandbox *sb, char **ret, struct sbx_err *err);

/* The sandbox's executor client (xc/xc.h) in *ret: borrowed, made on the
 * first call and owned by the handle (sbx_sandbox_free frees it, so no call
 * may be running then). Its base URL is the deployment's
 * metadata.sandbox.public_url + "/koyeb-sandbox" with the metadata's
 * routing key, else https://<the app's first domain>/koyeb-sandbox; its
 * bearer is the sandbox secret. -SBX_ENOTSUP, with a message saying why,
 * when the sandbox has neither URL nor domain, or no secret. May make one
 * or two REST calls the first time (the deployment, the app). Thread-safe. */
int sbx_sandbox_executor(struct sbx_sandbox *sb, struct xc **ret, struct sbx_err *err);

/* Where the sandbox's proxy port is reachable from outside: the host
 * (caller frees) and port of metadata.proxy_ports[0], read from the
 * deployment again when the handle has none yet. -SBX_ENOTSUP when the
 * deployment publishes none. Thread-safe. */
int sbx_sandbox_proxy_port(struct sbx_sandbox *sb, char **ret_host, int *ret_port,
			   struct sbx_err *err);

/* The handle's agent slot (exec/agent_slot.h): fixed, lives as long as the
 * handle. */
struct sbx_agent_slot *sbx_sandbox_agent_slot(struct sbx_sandbox *sb);

#endif
