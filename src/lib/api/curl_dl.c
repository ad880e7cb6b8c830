/* curl_dl.c - libcurl through dlopen(); see curl_dl.h. */
#include "api/curl_dl.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

/* Each entry: its offset in the table and libcurl's symbol name. */
#define ENTRY(field, sym)                                                                          \
	{                                                                                          \
		offsetof(struct sbx_curl, field), #sym                                             \
	}
static const struct {
	size_t off;
	const char *sym;
} entries[] = {
    ENTRY(global_init, curl_global_init),   ENTRY(global_cleanup, curl_global_cleanup),
    ENTRY(easy_init, curl_easy_init),	    ENTRY(easy_cleanup, curl_easy_cleanup),
    ENTRY(easy_setopt, curl_easy_setopt),   ENTRY(easy_perform, curl_easy_perform),
    ENTRY(easy_getinfo, curl_easy_getinfo), ENTRY(easy_strerror, curl_easy_strerror),
    ENTRY(slist_append, curl_slist_append), ENTRY(slist_free_all, curl_slist_free_all),
};

int sbx_curl_load(struct sbx_curl *t, struct sbx_err *err)
{
	const char *why;
	void *dl, *fn;
	size_t i;

	if (t->dl)
		return 0;
	dl = dlopen(SBX_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!dl) {
		why = dlerror();
		return sbx_err_set(err, -SBX_EIO, 0, "cannot load %s: %.200s", SBX_LIBCURL_SONAME,
				   why ? why : "unknown reason");
	}
	for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		fn = dlsym(dl, entries[i].sym);
		if (!fn) {
			dlclose(dl);
			memset(t, 0, sizeof(*t));
			return sbx_err_set(err, -SBX_EIO, 0, "%s has no %s", SBX_LIBCURL_SONAME,
					   entries[i].sym);
		}
		/* POSIX: a data pointer from dlsym() converts to a function pointer */
		memcpy((char *)t + entries[i].off, &fn, sizeof(fn));
	}
	t->dl = dl;
	return 0;
}

void sbx_curl_unload(struct sbx_curl *t)
{
	if (t->dl)
		dlclose(t->dl);
	memset(t, 0, sizeof(*t));
}

CURLcode sbx_curl_set_method(const struct sbx_curl *t, CURL *h, const char *method,
			     const char *body)
{
	CURLcode cc;

	if (body) {
		cc = t->easy_setopt(h, CURLOPT_POST, 1L);
		if (!cc)
			cc = t->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
					    (curl_off_t)strlen(body));
		if (!cc)
			cc = t->easy_setopt(h, CURLOPT_POSTFIELDS, body);
		if (!cc)
			cc = t->easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					    strcmp(method, "POST") ? method : NULL);
		return cc;
	}
	cc = t->easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (!cc)
		cc = t->easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") ? 0L : 1L);
	if (!cc)
		cc =
		    t->easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
	return cc;
}
