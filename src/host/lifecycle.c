/* lifecycle.c - what happens to a service between its POST and its
 * tombstone: scheduled start, deletion (stop, remove its state in a child
 * `rm -rf`, bury the record), app deletion, and the bookkeeping shared with
 * the shutdown path. See daemon.h.
 *
 * Deletion order: record marked deleting (and saved, so a restart finishes
 * the job) -> runtime stopped -> STATE/sandboxes/<id> removed -> instance
 * STOPPED, service DELETED (tombstone, removed from db.json) -> the app is
 * buried too once it is being deleted and has no service left.
 */
#include "host/daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/child.h"
#include "host/executor.h"
#include "host/runtime/sandbox.h"
#include "host/store/db.h"
#include "util/log.h"

struct rm_job {
	struct sbxd *d;
	char id[37];
	struct sbxd_child c;
};

int sbxd_path(const struct sbxd *d, struct sbx_buf *out, const char *fmt, ...)
{
	va_list ap;
	int r;

	r = sbx_buf_printf(out, "%s/", d->state_dir.data);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	r = sbx_buf_vprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

void sbxd_save(struct sbxd *d)
{
	struct sbx_buf p = SBX_BUF_INIT;
	int r = sbxd_path(d, &p, "db.json");

	if (r == 0)
		r = sbxd_db_save(&d->store, p.data);
	if (r < 0)
		sbx_log(SBX_LOG_ERR, "cannot write %s: %s", p.data ? p.data : "db.json",
			strerror(-r));
	sbx_buf_release(&p);
}

/* Starts every service waiting in ALLOCATING. */
static void on_start_timer(struct sbxd_timer *t)
{
	struct sbxd *d = t->arg;
	size_t i;

	for (i = 0; i < d->store.nsvcs && !d->stopping; i++) {
		struct sbxd_svc *v = d->store.svcs[i];

		if (!v->tomb && !v->deleting && !v->sb && v->inst == SBX_INST_ALLOCATING)
			sbxd_sandbox_start(d, v);
	}
}

void sbxd_sandbox_schedule(struct sbxd *d, struct sbxd_svc *v)
{
	v->inst = SBX_INST_ALLOCATING;
	sbxd_loop_timer(d->loop, &d->start_timer, 0, on_start_timer, d);
}

/* An app being deleted goes once its last service is gone. */
static void maybe_bury_app(struct sbxd *d, const char *app_id)
{
	struct sbxd_app *a = sbxd_store_app(&d->store, app_id);
	size_t i;

	if (!a || a->tomb || !a->deleting)
		return;
	for (i = 0; i < d->store.nsvcs; i++)
		if (!d->store.svcs[i]->tomb && !strcmp(d->store.svcs[i]->app_id, app_id))
			return;
	a->updated_at = time(NULL);
	sbxd_store_bury_app(&d->store, a);
	sbxd_save(d);
}

static void removed(struct sbxd *d, struct sbxd_svc *v)
{
	char app_id[37];

	memcpy(app_id, v->app_id, sizeof(app_id));
	v->inst = SBX_INST_STOPPED;
	v->updated_at = time(NULL);
	if (!v->terminated_at)
		v->terminated_at = v->updated_at;
	sbx_log(SBX_LOG_INFO, "sandbox %s deleted", v->id);
	sbxd_store_bury_svc(&d->store, v); /* v may be gone after this */
	sbxd_save(d);
	maybe_bury_app(d, app_id);
}

static void free_job(void *arg)
{
	free(arg);
}

static void on_rm_exit(struct sbxd_child *c, int wstatus)
{
	struct rm_job *job = c->arg;
	struct sbxd_svc *v = sbxd_store_svc(&job->d->store, job->id);

	if (wstatus)
		sbx_log(SBX_LOG_WARN, "removing the state of sandbox %s failed (status %d)",
			job->id, sbxd_child_exit_code(wstatus));
	if (v && !v->tomb)
		removed(job->d, v);
	if (sbxd_loop_defer(job->d->loop, free_job, job) < 0)
		sbx_log(SBX_LOG_WARN, "leaking a removal job (out of memory)");
}

/* rm -rf --one-file-system STATE/sandboxes/<id>, in a child process. */
static void remove_state(struct sbxd *d, struct sbxd_svc *v)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct rm_job *job = calloc(1, sizeof(*job));
	struct sbx_buf dir = SBX_BUF_INIT;
	char *argv[6];
	pid_t pid;
	int r = job ? sbxd_sandbox_dir(d, v->id, &dir) : -ENOMEM;

	if (r == 0) {
		argv[0] = d->tools.rm;
		argv[1] = "-rf";
		argv[2] = "--one-file-system";
		argv[3] = "--";
		argv[4] = dir.data;
		argv[5] = NULL;
		r = sbxd_spawn_simple(argv, envp, &pid);
	}
	if (r == 0) {
		job->d = d;
		memcpy(job->id, v->id, sizeof(job->id));
		job->c.w.fd = -1;
		r = sbxd_child_watch(d->loop, &job->c, pid, &d->nchildren, on_rm_exit, job);
	}
	sbx_buf_release(&dir);
	if (r < 0) {
		sbx_log(SBX_LOG_WARN, "cannot remove the state of sandbox %s: %s", v->id,
			strerror(-r));
		free(job);
		removed(d, v);
	}
}

void sbxd_sandbox_stopped(struct sbxd *d, struct sbxd_svc *v)
{
	if (!v->deleting || v->tomb)
		return; /* died on its own, or stopped for shutdown: files stay */
	if (d->test_mode) {
		removed(d, v);
		return;
	}
	remove_state(d, v);
}

void sbxd_service_delete(struct sbxd *d, struct sbxd_svc *v)
{
	if (v->tomb || v->deleting)
		return;
	v->deleting = true;
	v->updated_at = time(NULL);
	if (v->inst != SBX_INST_STOPPED)
		v->inst = SBX_INST_STOPPING;
	sbxd_save(d);
	sbx_log(SBX_LOG_INFO, "deleting sandbox %s", v->id);
	sbxd_executor_forget(d, v->id);
	sbxd_sandbox_stop(d, v);
}

void sbxd_app_delete(struct sbxd *d, struct sbxd_app *a)
{
	char app_id[37], (*ids)[37];
	size_t i, n = 0;

	memcpy(app_id, a->id, sizeof(app_id));
	a->deleting = true;
	a->updated_at = time(NULL);
	/* deleting may bury records and reshuffle the array: work on ids */
	ids = calloc(d->store.nsvcs + 1, sizeof(*ids));
	for (i = 0; ids && i < d->store.nsvcs; i++) {
		struct sbxd_svc *v = d->store.svcs[i];

		if (!v->tomb && !v->deleting && !strcmp(v->app_id, app_id))
			memcpy(ids[n++], v->id, 37);
	}
	for (i = 0; i < n; i++) {
		struct sbxd_svc *v = sbxd_store_svc(&d->store, ids[i]);

		if (v)
			sbxd_service_delete(d, v);
	}
	free(ids);
	maybe_bury_app(d, app_id);
}
