/**
 * @file sbx/client.h
 * @brief A connection to a Koyeb-compatible control plane (Koyeb or sbxd).
 *
 * A client holds the API host and token, one HTTP connection (reused, calls
 * serialised by a mutex) and one transport thread that drives every exec
 * WebSocket of the client. It is thread-safe: any thread may use it and the
 * sandboxes opened through it. Free it only after every sandbox and exec that
 * uses it has been freed.
 */
#ifndef SBX_CLIENT_H
#define SBX_CLIENT_H

#include <stdbool.h>

#include "sbx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sbx_client;

/** How exec and the filesystem primitives (sbx/fs.h) reach a sandbox. */
enum sbx_transport {
	/** The filesystem primitives go over the sandbox's executor API when
	 *  it has one that answers /health (one kept-alive HTTP request instead
	 *  of a new WebSocket per call), else over the WebSocket; exec always
	 *  goes over the WebSocket (stdin, a terminal and byte-exact output
	 *  need it). Never the agent: starting it costs more than a one-shot
	 *  program saves. See docs/libsbx-transports.md. */
	SBX_TRANSPORT_AUTO = 0,
	/** Everything over the exec WebSocket (one session per call). */
	SBX_TRANSPORT_WEBSOCKET,
	/** Everything over the executor API: exec with stdin or a terminal is
	 *  refused (-SBX_ENOTSUP), and a sandbox without an executor fails
	 *  rather than fall back. What exec loses there: see sbx/exec.h. */
	SBX_TRANSPORT_EXECUTOR,
	/** The filesystem primitives run as jobs of sbx-agent (sbx/rfs.h's
	 *  agent transport) over ONE exec session per sandbox handle, kept
	 *  open: the first call starts the agent (uploading it once per
	 *  sandbox), later calls pay no session of their own. Where the agent
	 *  cannot run, the handle falls back to the WebSocket, as sbxfs does,
	 *  and sbx_sandbox_transport_note() says why. exec keeps the
	 *  WebSocket. Same results and errors as over the WebSocket. */
	SBX_TRANSPORT_AGENT,
};

/** "auto", "websocket", "executor", "agent". */
SBX_API const char *sbx_transport_name(enum sbx_transport t);
/** Parses a name of sbx_transport_name(): 0 and *ret, or -SBX_EINVAL. */
SBX_API int sbx_transport_parse(const char *s, enum sbx_transport *ret);

struct sbx_sandbox;
/** Why the agent transport does not serve @p sb's calls: "" while it does
 *  (or before a call wanted it), else "agent unavailable: REASON", fixed
 *  for the life of the handle (its calls take the WebSocket). Borrowed: it
 *  lives as long as the handle. */
SBX_API const char *sbx_sandbox_transport_note(struct sbx_sandbox *sb);

/** Options for sbx_client_new(). Zero-initialise, then set what you need. */
struct sbx_client_opts {
	/** Base URL, e.g. "https://app.koyeb.com" or "http://127.0.0.1:7070".
	 *  NULL: $KOYEB_API_HOST, else https://app.koyeb.com. A trailing '/' is
	 *  stripped. Schemes: http and https only. */
	const char *api_host;
	/** API token. NULL: $KOYEB_API_TOKEN. Missing → -SBX_EINVAL. Copied. */
	const char *token;
	/** A directory where sbx_sandbox_open_ids() keeps the ids of the
	 *  sandboxes it resolved, between runs (file ids.json; it must be the
	 *  caller's own, mode 0700, or it is not used). NULL: no cache. Copied. */
	const char *id_cache_dir;
	/** Deadline of each REST call in milliseconds; 0 means 30000. */
	long request_timeout_ms;
	/** CA bundle file for https (the REST calls and the exec WebSocket
	 *  alike). NULL: $SSL_CERT_FILE, else the system store. TLS peer and
	 *  host verification are always on. Copied. */
	const char *ca_file;
	/** Transport of exec and of the filesystem primitives. The environment
	 *  variable SBX_EXEC_TRANSPORT (auto, websocket, executor or agent),
	 *  when set and valid, overrides it. */
	enum sbx_transport transport;
};

/** Creates a client and starts its transport thread. Returns 0 and the new
 *  client in *ret (caller frees with sbx_client_free), or a negative errno. */
SBX_API int sbx_client_new(const struct sbx_client_opts *opts, struct sbx_client **ret,
			   struct sbx_err *err);
/** Stops the transport thread and frees the client. Accepts NULL. */
SBX_API void sbx_client_free(struct sbx_client *c);
/** The API host in use (borrowed, lives as long as the client). */
SBX_API const char *sbx_client_api_host(const struct sbx_client *c);

#ifdef __cplusplus
}
#endif
#endif
