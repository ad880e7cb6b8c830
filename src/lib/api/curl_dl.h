/* curl_dl.h - libcurl, loaded when the first REST call of a client needs it.
 *
 * Why: libcurl and the thirty libraries it pulls in (two TLS stacks,
 * Kerberos, LDAP, SSH, IDN, brotli, ...) cost about 7 ms of dynamic linking
 * (BIND_NOW relocations) at every start of a program linked with it, and an
 * `sbx exec` whose ids come from the id cache makes no REST call at all.
 * So libsbx does not link libcurl: each client dlopen()s it on first use and
 * calls it through this table. The library is opened RTLD_NODELETE (libcurl
 * and its TLS stack register exit handlers, so it must never be unmapped)
 * and RTLD_LOCAL (its symbols stay out of the global scope).
 *
 * The names and prototypes are libcurl's own (curl/curl.h), minus the
 * curl_ prefix; see libcurl's documentation for each.
 */
#ifndef SBX_API_CURL_DL_H
#define SBX_API_CURL_DL_H

#include <curl/curl.h>

#include "sbx/error.h"

/* The soname libsbx asks for (libcurl's ABI has been 4 since 7.16). */
#ifndef SBX_LIBCURL_SONAME
#define SBX_LIBCURL_SONAME "libcurl.so.4"
#endif

struct sbx_curl {
	void *dl; /* the dlopen() handle; NULL until loaded */
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode cc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* Loads libcurl into *t and fills every entry. 0 (also when already
 * loaded), or -SBX_EIO with the loader's reason in err; *t is left empty
 * on failure. Not thread-safe for one t: the caller serialises. */
int sbx_curl_load(struct sbx_curl *t, struct sbx_err *err);

/* Drops the handle (the library stays mapped: RTLD_NODELETE). Accepts an
 * unloaded table. */
void sbx_curl_unload(struct sbx_curl *t);

/* Sets the method of the next transfer on h: with a body (borrowed until
 * the transfer ends) a POST, sent as @p method when that is another; without
 * one a GET, or @p method (HEAD: no body read). */
CURLcode sbx_curl_set_method(const struct sbx_curl *t, CURL *h, const char *method,
			     const char *body);

#endif
