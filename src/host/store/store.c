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

const char *sbxd_app_status_str(enum sbxd_app_status s)
{
	static const char *const n[] = {"STARTING",  "HEALTHY",	 "DEGRADED",
					"UNHEALTHY", "DELETING", "DELETED"};

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "UNHEALTHY";
}

const char *sbxd_inst_status_str(enum sbxd_inst_status s)
{
	static const char *const n[] = {"ALLOCATING", "STARTING", "HEALTHY", "UNHEALTHY",
					"STOPPING",   "STOPPED",  "ERROR"};

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "ERROR";
}

const char *sbxd_deploy_status_str(enum sbxd_inst_status s)
{
	return sbxd_inst_status_str(s);
}

void sbxd_store_init(struct sbxd_store *s)
{
	memset(s, 0, sizeof(*s));
}

void sbxd_store_release(struct sbxd_store *s)
{
	size_t i;

	for (i = 0; i < s->napps; i++)
		sbxd_app_free(s->apps[i]);
	for (i = 0; i < s->nsvcs; i++)
		sbxd_svc_free(s->svcs[i]);
	free(s->apps);
	free(s->svcs);
	sbxd_store_init(s);
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

size_t sbxd_store_live_apps(const struct sbxd_store *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->napps; i++)
		n += !s->apps[i]->tomb;
	return n;
}

size_t sbxd_store_live_svcs(const struct sbxd_store *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nsvcs; i++)
		n += !s->svcs[i]->tomb;
	return n;
}

int sbxd_store_add_app(struct sbxd_store *s, struct sbxd_app *a)
{
	if (sbxd_store_live_apps(s) >= SBX_STORE_MAX_APPS)
		return -ENOSPC;
	if (grow((void ***)&s->apps, s->napps, &s->capapps) < 0)
		return -ENOMEM;
	s->apps[s->napps++] = a;
	return 0;
}

int sbxd_store_add_svc(struct sbxd_store *s, struct sbxd_svc *v)
{
	if (sbxd_store_live_svcs(s) >= SBX_STORE_MAX_SVCS)
		return -ENOSPC;
	if (grow((void ***)&s->svcs, s->nsvcs, &s->capsvcs) < 0)
		return -ENOMEM;
	s->svcs[s->nsvcs++] = v;
	return 0;
}

struct sbxd_app *sbxd_store_app(struct sbxd_store *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->napps; i++)
		if (!strcmp(s->apps[i]->id, id))
			return s->apps[i];
	return NULL;
}

struct sbxd_svc *sbxd_store_svc(struct sbxd_store *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nsvcs; i++)
		if (!strcmp(s->svcs[i]->id, id))
			return s->svcs[i];
	return NULL;
}

struct sbxd_svc *sbxd_store_svc_by_dep(struct sbxd_store *s, const char *dep_id)
{
	size_t i;

	for (i = 0; i < s->nsvcs; i++)
		if (!strcmp(s->svcs[i]->dep_id, dep_id))
			return s->svcs[i];
	return NULL;
}

struct sbxd_svc *sbxd_store_svc_by_inst(struct sbxd_store *s, const char *inst_id)
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
	return ((struct sbxd_app *)p)->tomb;
}

static bool svc_is_tomb(void *p)
{
	return ((struct sbxd_svc *)p)->tomb;
}

static void app_free_v(void *p)
{
	sbxd_app_free(p);
}

static void svc_free_v(void *p)
{
	sbxd_svc_free(p);
}

void sbxd_store_bury_app(struct sbxd_store *s, struct sbxd_app *a)
{
	a->tomb = true;
	a->deleting = false;
	evict((void **)s->apps, &s->napps, app_is_tomb, app_free_v);
}

void sbxd_store_bury_svc(struct sbxd_store *s, struct sbxd_svc *v)
{
	v->tomb = true;
	v->deleting = false;
	evict((void **)s->svcs, &s->nsvcs, svc_is_tomb, svc_free_v);
}

struct sbxd_app *sbxd_app_new(const char *name)
{
	struct sbxd_app *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->name = strdup(name);
	if (!a->name || sbx_rand_uuid(a->id) < 0) {
		sbxd_app_free(a);
		return NULL;
	}
	a->created_at = a->updated_at = time(NULL);
	return a;
}

void sbxd_app_free(struct sbxd_app *a)
{
	if (!a)
		return;
	free(a->name);
	free(a);
}

struct sbxd_svc *sbxd_svc_new(const char *app_id, json_object *def, struct sbxd_spec *spec,
			      const char *rootfs)
{
	struct sbxd_svc *v = calloc(1, sizeof(*v));

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

void sbxd_svc_clear_messages(struct sbxd_svc *v)
{
	size_t i;

	for (i = 0; i < v->nmessages; i++)
		free(v->messages[i]);
	v->nmessages = 0;
}

void sbxd_svc_free(struct sbxd_svc *v)
{
	if (!v)
		return;
	sbxd_svc_clear_messages(v);
	sbxd_spec_release(&v->spec);
	sbx_json_put(v->definition);
	free(v->rootfs);
	free(v);
}

void sbxd_svc_message(struct sbxd_svc *v, const char *fmt, ...)
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

enum sbxd_app_status sbxd_svc_status(const struct sbxd_svc *v)
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

enum sbxd_app_status sbxd_app_status(struct sbxd_store *s, const struct sbxd_app *a)
{
	bool starting = false, bad = false, good = false;
	size_t i;

	if (a->tomb)
		return SBX_APP_DELETED;
	if (a->deleting)
		return SBX_APP_DELETING;
	for (i = 0; i < s->nsvcs; i++) {
		const struct sbxd_svc *v = s->svcs[i];

		if (v->tomb || v->deleting || strcmp(v->app_id, a->id))
			continue;
		switch (sbxd_svc_status(v)) {
		case SBX_APP_STARTING: starting = true; break;
		case SBX_APP_HEALTHY: good = true; break;
		default: bad = true; break;
		}
	}
	if (bad)
		return good ? SBX_APP_DEGRADED : SBX_APP_UNHEALTHY;
	return starting ? SBX_APP_STARTING : SBX_APP_HEALTHY;
}
