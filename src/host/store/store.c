/* store.c - in-memory records and tombstones; see store.h.
 *
 * Records sit in two arrays in creation order; linear lookups are fine for
 * the bounded counts involved (a few thousand at most).
 */
#include "host/store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/rand.h"

const char *sbx_app_status_str(enum sbx_app_status s)
{
	static const char *const n[] = {"STARTING",  "HEALTHY",	 "DEGRADED",
					"UNHEALTHY", "DELETING", "DELETED"};

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "UNHEALTHY";
}

const char *sbx_inst_status_str(enum sbx_inst_status s)
{
	static const char *const n[] = {"ALLOCATING", "STARTING", "HEALTHY", "UNHEALTHY",
					"STOPPING",   "STOPPED",  "ERROR"};

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "ERROR";
}

const char *sbx_deploy_status_str(enum sbx_inst_status s)
{
	return sbx_inst_status_str(s);
}

void sbx_store_init(struct sbx_store *s)
{
	memset(s, 0, sizeof(*s));
}

void sbx_store_release(struct sbx_store *s)
{
	size_t i;

	for (i = 0; i < s->napps; i++)
		sbx_app_free(s->apps[i]);
	for (i = 0; i < s->nsvcs; i++)
		sbx_svc_free(s->svcs[i]);
	free(s->apps);
	free(s->svcs);
	sbx_store_init(s);
}

static int grow(void ***arr, size_t n, size_t *cap)
{
	void **na;

	if (n < *cap)
		return 0;
	na = realloc(*arr, (*cap ? *cap * 2 : 16) * sizeof(void *));
	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

size_t sbx_store_live_apps(const struct sbx_store *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->napps; i++)
		n += !s->apps[i]->tomb;
	return n;
}

size_t sbx_store_live_svcs(const struct sbx_store *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nsvcs; i++)
		n += !s->svcs[i]->tomb;
	return n;
}

int sbx_store_add_app(struct sbx_store *s, struct sbx_app *a)
{
	if (sbx_store_live_apps(s) >= SBX_STORE_MAX_APPS)
		return -ENOSPC;
	if (grow((void ***)&s->apps, s->napps, &s->capapps) < 0)
		return -ENOMEM;
	s->apps[s->napps++] = a;
	return 0;
}

int sbx_store_add_svc(struct sbx_store *s, struct sbx_svc *v)
{
	if (sbx_store_live_svcs(s) >= SBX_STORE_MAX_SVCS)
		return -ENOSPC;
	if (grow((void ***)&s->svcs, s->nsvcs, &s->capsvcs) < 0)
		return -ENOMEM;
	s->svcs[s->nsvcs++] = v;
	return 0;
}

struct sbx_app *sbx_store_app(struct sbx_store *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->napps; i++)
		if (!strcmp(s->apps[i]->id, id))
			return s->apps[i];
	return NULL;
}

struct sbx_svc *sbx_store_svc(struct sbx_store *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nsvcs; i++)
		if (!strcmp(s->svcs[i]->id, id))
			return s->svcs[i];
	return NULL;
}

struct sbx_svc *sbx_store_svc_by_dep(struct sbx_store *s, const char *dep_id)
{
	size_t i;

	for (i = 0; i < s->nsvcs; i++)
		if (!strcmp(s->svcs[i]->dep_id, dep_id))
			return s->svcs[i];
	return NULL;
}

struct sbx_svc *sbx_store_svc_by_inst(struct sbx_store *s, const char *inst_id)
{
	size_t i;

	for (i = 0; i < s->nsvcs; i++)
		if (!strcmp(s->svcs[i]->inst_id, inst_id))
			return s->svcs[i];
	return NULL;
}

/* Removes the oldest tombstone of an array when there are too many. */
static void evict(void **arr, size_t *n, bool (*is_tomb)(void *), void (*fr)(void *))
{
	size_t i, tombs = 0, first = (size_t)-1;

	for (i = 0; i < *n; i++) {
		if (!is_tomb(arr[i]))
			continue;
		if (first == (size_t)-1)
			first = i;
		tombs++;
	}
	if (tombs <= SBX_STORE_MAX_TOMBS)
		return;
	fr(arr[first]);
	memmove(arr + first, arr + first + 1, (*n - first - 1) * sizeof(void *));
	(*n)--;
}

static bool app_is_tomb(void *p)
{
	return ((struct sbx_app *)p)->tomb;
}

static bool svc_is_tomb(void *p)
{
	return ((struct sbx_svc *)p)->tomb;
}

static void app_free_v(void *p)
{
	sbx_app_free(p);
}

static void svc_free_v(void *p)
{
	sbx_svc_free(p);
}

void sbx_store_bury_app(struct sbx_store *s, struct sbx_app *a)
{
	a->tomb = true;
	a->deleting = false;
	evict((void **)s->apps, &s->napps, app_is_tomb, app_free_v);
}

void sbx_store_bury_svc(struct sbx_store *s, struct sbx_svc *v)
{
	v->tomb = true;
	v->deleting = false;
	evict((void **)s->svcs, &s->nsvcs, svc_is_tomb, svc_free_v);
}

struct sbx_app *sbx_app_new(const char *name)
{
	struct sbx_app *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->name = strdup(name);
	if (!a->name || sbx_rand_uuid(a->id) < 0) {
		sbx_app_free(a);
		return NULL;
	}
	a->created_at = a->updated_at = time(NULL);
	return a;
}

void sbx_app_free(struct sbx_app *a)
{
	if (!a)
		return;
	free(a->name);
	free(a);
}

struct sbx_svc *sbx_svc_new(const char *app_id, json_object *def, struct sbx_spec *spec,
			    const char *rootfs)
{
	struct sbx_svc *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->rootfs = strdup(rootfs);
	if (!v->rootfs || sbx_rand_uuid(v->id) < 0 || sbx_rand_uuid(v->dep_id) < 0 ||
	    sbx_rand_uuid(v->inst_id) < 0) {
		free(v->rootfs);
		free(v);
		return NULL;
	}
	snprintf(v->app_id, sizeof(v->app_id), "%s", app_id);
	v->definition = json_object_get(def);
	v->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	v->created_at = v->updated_at = time(NULL);
	v->inst = SBX_INST_ALLOCATING;
	return v;
}

void sbx_svc_clear_messages(struct sbx_svc *v)
{
	size_t i;

	for (i = 0; i < v->nmessages; i++)
		free(v->messages[i]);
	v->nmessages = 0;
}

void sbx_svc_free(struct sbx_svc *v)
{
	if (!v)
		return;
	sbx_svc_clear_messages(v);
	sbx_spec_release(&v->spec);
	sbx_json_put(v->definition);
	free(v->rootfs);
	free(v);
}

void sbx_svc_message(struct sbx_svc *v, const char *fmt, ...)
{
	char buf[512];
	char *m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	m = strdup(buf);
	if (!m)
		return;
	if (v->nmessages == SBX_MAX_MESSAGES) {
		free(v->messages[0]);
		memmove(v->messages, v->messages + 1, (SBX_MAX_MESSAGES - 1) * sizeof(char *));
		v->nmessages--;
	}
	v->messages[v->nmessages++] = m;
}

enum sbx_app_status sbx_svc_status(const struct sbx_svc *v)
{
	if (v->tomb)
		return SBX_APP_DELETED;
	if (v->deleting)
		return SBX_APP_DELETING;
	switch (v->inst) {
	case SBX_INST_HEALTHY: return SBX_APP_HEALTHY;
	case SBX_INST_ALLOCATING:
	case SBX_INST_STARTING: return SBX_APP_STARTING;
	default: return SBX_APP_UNHEALTHY;
	}
}

enum sbx_app_status sbx_app_status(struct sbx_store *s, const struct sbx_app *a)
{
	bool starting = false, bad = false, good = false;
	size_t i;

	if (a->tomb)
		return SBX_APP_DELETED;
	if (a->deleting)
		return SBX_APP_DELETING;
	for (i = 0; i < s->nsvcs; i++) {
		const struct sbx_svc *v = s->svcs[i];

		if (v->tomb || v->deleting || strcmp(v->app_id, a->id))
			continue;
		switch (sbx_svc_status(v)) {
		case SBX_APP_STARTING: starting = true; break;
		case SBX_APP_HEALTHY: good = true; break;
		default: bad = true; break;
		}
	}
	if (bad)
		return good ? SBX_APP_DEGRADED : SBX_APP_UNHEALTHY;
	return starting ? SBX_APP_STARTING : SBX_APP_HEALTHY;
}
