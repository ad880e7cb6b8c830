/* client_priv.h - the inside of struct sbx_client, for the modules of libsbx.
 *
 * A client is immutable after sbx_client_new() except for what its two locks
 * protect. rest_lock is taken alone, around one try of a REST call. lock
 * protects the exec objects of the client (exec.c); it may be held while
 * calling into the transport (exec/ws.h), which takes its own mutex inside,
 * and the transport never calls back with its mutex held: the only order is
 * lock, then the transport's mutex.
 */
#ifndef SBX_CLIENT_PRIV_H
#define SBX_CLIENT_PRIV_H

#include <pthread.h>
#include <stdbool.h>

#include "api/curl_dl.h"
#include "sbx/client.h"

struct sbx_wsc;

struct sbx_client {
	char *api_host;		      /* "scheme://host[:port][/base]", no trailing '/' */
	char *token;		      /* never logged */
	char *ca_file;		      /* NULL: system store */
	long request_timeout_ms;      /* > 0 */
	enum sbx_transport transport; /* fixed: the option, before the env override */

	/* Serialises the REST calls. libcurl is loaded and set up by the first
	 * call (sbx_client_rest_handle), so a client that never makes one never
	 * loads it. */
	pthread_mutex_t rest_lock;
	struct sbx_curl curl_fn;    /* rest_lock: the libcurl entry points */
	CURL *curl;		    /* rest_lock */
	struct curl_slist *headers; /* rest_lock: fixed request headers (holds the token) */
	bool curl_global;	    /* rest_lock: curl_global_init() succeeded */

	char *id_cache_dir; /* NULL: no id cache (api/idcache.h); fixed */

	/* Protects the mutable state of every struct sbx_exec of this client
	 * (reference counts, stdin queues, session pointers). */
	pthread_mutex_t lock;

	struct sbx_wsc *ws; /* the transport thread and its lws_context */

	/* exec/transport.c: what the auto choice found of a sandbox's executor
	 * (there and answering /health, or not), a ring keyed by handle and
	 * service id. lock. */
	struct sbx_xseen {
		const void *sb;
		char id[128];
		bool ok;
	} xseen[16];
	unsigned xseen_next; /* lock */
};

/* With rest_lock held: the client's CURL handle, loading and setting up
 * libcurl on first use. 0 and the handle in *ret, or a negative errno. */
int sbx_client_rest_handle(struct sbx_client *c, CURL **ret, struct sbx_err *err);

/* For the other users of libcurl in libsbx (the executor client): the
 * entry points, loading and initialising libcurl on first use. Takes
 * rest_lock. 0 and *ret (valid until the client is freed), or a negative
 * errno. Call libcurl only through it, so that a program that needs no
 * HTTP never loads libcurl (api/curl_dl.h). */
int sbx_client_curl(struct sbx_client *c, const struct sbx_curl **ret, struct sbx_err *err);

#endif
