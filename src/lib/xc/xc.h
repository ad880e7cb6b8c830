/* xc.h - a client of one sandbox's executor API (docs/executor-protocol.md §5).
 *
 * The executor runs inside the sandbox (Koyeb's image) or is served for it
 * by sbxd; either way its replies are untrusted input: every reply body,
 * every server-sent event and every line is bounded, and a malformed reply
 * is -SBX_EPROTO, never a crash or a partial result taken as whole.
 *
 * Connections are kept alive between calls (libcurl reuses them), so a
 * call costs one HTTP exchange and no new TCP or TLS handshake. A struct xc
 * is thread-safe: calls from several threads run concurrently, each on its
 * own connection. Every call is synchronous and must not be made from an
 * exec callback.
 *
 * Headers sent: `Authorization: Bearer <secret>` (never logged, never in a
 * message), `X-Routing-Key: <key>` when the sandbox has one,
 * `Content-Type: application/json` on requests with a body. A 503 is tried
 * again up to 3 times, pausing 1, 2 then 4 s, as the SDKs do.
 *
 * Errors: a refusal carries the executor's own text (text/plain body, or the
 * "error" member of a JSON one) in err->msg; the code is sbx_err_from_http()
 * of the status (401 → -SBX_EAUTH, …). A failure to connect or a dropped
 * reply is -SBX_ECONN, a deadline -SBX_ETIMEDOUT.
 */
#ifndef SBX_LIB_XC_H
#define SBX_LIB_XC_H

#include <stddef.h>

#include <json-c/json.h>

#include "sbx/error.h"

struct xc;

/* Bound on a JSON reply body (a /read_file of the executor's largest file,
 * 8 MiB, as a JSON string with escapes, fits). */
#define XC_REPLY_MAX ((size_t)64 << 20)
/* Bound on one server-sent event (name and data lines together). */
#define XC_EVENT_MAX ((size_t)4 << 20)

/* Where an executor is and how to talk to it. Strings are copied. */
struct xc_target {
	const char *base_url;	 /* ".../koyeb-sandbox" or sbxd's, no trailing '/' */
	const char *secret;	 /* the sandbox secret: the bearer token */
	const char *routing_key; /* NULL or "": no X-Routing-Key */
	const char *ca_file;	 /* NULL: the system store */
};

int xc_new(const struct xc_target *t, struct xc **ret, struct sbx_err *err);
/* Accepts NULL. No call may be running. */
void xc_free(struct xc *x);
/* The base URL (borrowed; no secret in it). */
const char *xc_base_url(const struct xc *x);

/* One request with a JSON reply. @p method "GET" or "POST"; @p path
 * "/run"; @p query NULL or "id=…" (already escaped); @p body NULL (no body)
 * or an object, borrowed. timeout_s 0: none. On a 2xx status returns 0,
 * the status in *ret_status and the parsed reply in *ret (a new reference:
 * put it with sbx_json_put; NULL when the body was empty). Any other status
 * is a negative errno as above, *ret left NULL, *ret_status still set. */
int xc_call(struct xc *x, const char *method, const char *path, const char *query,
	    json_object *body, double timeout_s, int *ret_status, json_object **ret,
	    struct sbx_err *err);

/* xc_call() that also gives, on a refusal (a status past 2xx) whose body is
 * a JSON object, that object in *ret_refusal (a new reference; untouched
 * otherwise), for refusals that carry data (/bind_port's 409 names the
 * port already bound). */
int xc_call_refusal(struct xc *x, const char *method, const char *path, const char *query,
		    json_object *body, double timeout_s, int *ret_status, json_object **ret,
		    json_object **ret_refusal, struct sbx_err *err);

/* Called for each server-sent event of a stream, on the calling thread:
 * @p event the event's name ("message" when it had none), @p data its data
 * parsed as JSON (borrowed for the call). A non-zero return ends the
 * stream early and becomes xc_stream()'s return value. */
typedef int (*xc_event_fn)(void *ud, const char *event, json_object *data);

/* A request whose 2xx reply is a stream of server-sent events. Returns 0
 * when the server ended the stream, the callback's non-zero value when it
 * stopped it, or a negative errno (a non-2xx status as in xc_call(); a
 * stream cut inside an event, or an event that is not JSON, -SBX_EPROTO).
 * Leaving a stream early closes its connection (on /run_streaming that
 * kills the command). */
int xc_stream(struct xc *x, const char *method, const char *path, const char *query,
	      json_object *body, double timeout_s, xc_event_fn fn, void *ud, struct sbx_err *err);

/* xc_stream() that also ends, with -EAGAIN (err set), once idle_s (> 0)
 * seconds pass without a byte of the reply after its headers came (the
 * wait for the headers is not counted). The check runs about once a
 * second, so the pause seen may be up to a second longer than idle_s. */
int xc_stream_idle(struct xc *x, const char *method, const char *path, const char *query,
		   json_object *body, double timeout_s, double idle_s, xc_event_fn fn, void *ud,
		   struct sbx_err *err);

#endif
