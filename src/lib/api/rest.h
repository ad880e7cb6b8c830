/* rest.h - one REST call to the control plane.
 *
 * A call is: method, path (appended to the client's api_host as is), an
 * optional JSON body → HTTP status and the parsed JSON reply. Requests carry
 * "Authorization: Bearer <token>", "Accept: star/star", "Content-Type:
 * application/json" and "User-Agent: sbx/<version>". TLS peer and host
 * verification are always on. Every call has a deadline (the client's
 * request_timeout_ms). GET and DELETE are retried, at most 3 tries with a
 * short backoff, on connection failures and on 503; POST never is.
 *
 * The client's single CURL handle is shared under its rest_lock, so
 * connections are reused and calls from several threads are serialised.
 */
#ifndef SBX_API_REST_H
#define SBX_API_REST_H

#include "sbx/client.h"
#include "sbx/error.h"
#include "util/buf.h"
#include "util/json.h"

/* Largest reply body we read. */
#define SBX_REST_REPLY_MAX SBX_JSON_MAX

/* Performs one call. body is JSON text or NULL (no body). On a 2xx reply
 * returns 0 and, when ret is not NULL, the parsed reply in *ret (a new
 * reference; an empty body gives an empty object). Otherwise returns a
 * negative errno: sbx_err_from_http() of the status with the server's
 * `message` in err (http_status set), -SBX_ETIMEDOUT, -SBX_ECONN (could not
 * connect, TLS failure, connection dropped), -SBX_EPROTO (a 2xx reply that is
 * not JSON, or one past SBX_REST_REPLY_MAX), -ENOMEM. *ret is untouched on
 * failure. A DELETE whose retry finds 404 counts as done (the lost try
 * deleted it). */
int sbx_rest_call(struct sbx_client *c, const char *method, const char *path, const char *body,
		  json_object **ret, struct sbx_err *err);

/* Appends s percent-encoded for a query value (RFC 3986 unreserved kept). */
int sbx_rest_escape(struct sbx_buf *out, const char *s);

#endif
