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

#include <curl/curl.h>

#include "sbx/client.h"

struct sbx_wsc;

struct sbx_client {
	char *api_host;		      /* "scheme://host[:port][/base]", no trailing '/' */
	char *token;		      /* never logged */
	char *ca_file;		      /* NULL: system store */
	long request_timeout_ms;      /* > 0 */
	enum sbx_transport transport; /* fixed: the option, before the env override */

	pthread_mutex_t rest_lock;  /* serialises the REST calls */
	CURL *curl;		    /* rest_lock */
	struct curl_slist *headers; /* fixed request headers (holds the token) */
	bool curl_global;	    /* curl_global_init() succeeded */

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

#endif
