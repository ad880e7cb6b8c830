/* files.c - what the /.ctl files say (status, info, stats) and what their
 * writes do (the verbs of .ctl/ctl and jobs/N/ctl).
 *
 * info never holds a secret: it is built from the sandbox's public ids only
 * (never sbx_sandbox_secret(), never the API token).
 */
#include "fs/ctl/ctl_int.h"
#include "fs/ctl/verbs.h"
#include "fs/conns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/timeutil.h"

int ctl_snap_status(struct sbx_fs *fs, struct sbx_buf *out)
{
	enum sbx_status st;
	int r;

	if (fs_check_alive(fs) < 0)
		return sbx_buf_puts(out, "DELETED\n");
	r = sbx_sandbox_status(fs->sb, &st, NULL);
	/* like the SDK: any failure to read the status is ERROR */
	return sbx_buf_printf(out, "%s\n", r < 0 ? "ERROR" : sbx_status_name(st));
}

int ctl_snap_info(struct sbx_fs *fs, struct sbx_buf *out)
{
	const struct sbxfs_opts *o = fs->opts;
	json_object *j = json_object_new_object(), *regions;
	char mounted[40];
	int r;

	if (!j)
		return -ENOMEM;
	sbx_rfc3339(fs->mount_time.tv_sec, mounted, sizeof(mounted));
	r = sbx_json_add_str(j, "sandbox_id", sbx_sandbox_id(fs->sb)) ?:
	    sbx_json_add_str(j, "name", sbx_sandbox_name(fs->sb)) ?:
	    sbx_json_add_str(j, "app_id", sbx_sandbox_app_id(fs->sb)) ?:
	    sbx_json_add_str(j, "service_id", sbx_sandbox_service_id(fs->sb)) ?:
	    sbx_json_add_str(j, "deployment_id", sbx_sandbox_deployment_id(fs->sb)) ?:
	    sbx_json_add_str(j, "instance_id", sbx_sandbox_instance_id(fs->sb)) ?:
	    sbx_json_add_str(j, "image", sbx_sandbox_image(fs->sb)) ?:
	    sbx_json_add_str(j, "instance_type", sbx_sandbox_instance_type(fs->sb));
	regions = json_object_new_array();
	if (!r && regions && sbx_sandbox_region(fs->sb)[0])
		json_object_array_add(regions, json_object_new_string(sbx_sandbox_region(fs->sb)));
	r = r ?: sbx_json_add(j, "regions", regions);
	r = r ?: sbx_json_add_str(j, "api_host", sbx_client_api_host(fs->client)) ?:
	    sbx_json_add_str(j, "remote_dir", fs->root[0] ? fs->root : "/") ?:
	    sbx_json_add_str(j, "mountpoint", o->mountpoint ? o->mountpoint : "") ?:
	    sbx_json_add_str(j, "transport", sbx_rfs_transport_name(fs->rfs)) ?:
	    sbx_json_add_str(j, "transport_note", sbx_rfs_transport_note(fs->rfs)) ?:
	    sbx_json_add_bool(j, "change_events", fs->watching) ?:
	    sbx_json_add_str(j, "mounted_at", mounted) ?:
	    sbx_json_add_str(j, "version", SBX_VERSION) ?:
	    sbx_json_add_bool(j, "deleted", fs_check_alive(fs) < 0);
	r = r ?: sbx_json_dump(out, j) ?: sbx_buf_putc(out, '\n');
	sbx_json_put(j);
	return r;
}

static const char *const op_names[FS_OP__N] = {
    "lookup", "forget", "getattr",  "setattr",	"readlink",  "mknod",	    "mkdir",
    "unlink", "rmdir",	"symlink",  "rename",	"link",	     "open",	    "read",
    "write",  "flush",	"release",  "fsync",	"opendir",   "readdir",	    "releasedir",
    "statfs", "create", "getxattr", "setxattr", "listxattr", "removexattr",
};

#define LD(x) ((unsigned long long)__atomic_load_n(&(x), __ATOMIC_RELAXED))

/* Adds the counters of the sessions of -o max_conns past the first. */
static void add_conns(struct sbx_fs *fs, struct sbx_rfs_opstats *st)
{
	struct sbx_rfs_opstats more[SBX_RFS_OP__N];
	unsigned c;
	int i, h;

	for (c = 0; c < conns_count(fs); c++) {
		sbx_rfs_stats(fs->conns[c].rfs, more);
		for (i = 0; i < SBX_RFS_OP__N; i++) {
			st[i].requests += more[i].requests;
			st[i].round_trips += more[i].round_trips;
			st[i].errors += more[i].errors;
			st[i].bytes_in += more[i].bytes_in;
			st[i].bytes_out += more[i].bytes_out;
			st[i].us_total += more[i].us_total;
			for (h = 0; h < SBX_RFS_HIST_N; h++)
				st[i].hist[h] += more[i].hist[h];
		}
	}
}

static int stats_rfs(struct sbx_fs *fs, struct sbx_buf *out)
{
	struct sbx_rfs_opstats st[SBX_RFS_OP__N];
	uint64_t req = 0, rt = 0, now, most;
	int i, r = 0;

	sbx_rfs_stats(fs->rfs, st);
	add_conns(fs, st);
	for (i = 0; !r && i < SBX_RFS_OP__N; i++) {
		const struct sbx_rfs_opstats *s = &st[i];

		req += s->requests;
		rt += s->round_trips;
		r = sbx_buf_printf(
		    out,
		    "rfs.%s requests=%llu round_trips=%llu errors=%llu "
		    "bytes_in=%llu bytes_out=%llu avg_ms=%.1f p50_ms=%llu "
		    "p90_ms=%llu p99_ms=%llu\n",
		    sbx_rfs_op_name(i), (unsigned long long)s->requests,
		    (unsigned long long)s->round_trips, (unsigned long long)s->errors,
		    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
		    s->requests ? (double)s->us_total / 1000.0 / (double)s->requests : 0.0,
		    (unsigned long long)sbx_rfs_percentile_ms(s, 50),
		    (unsigned long long)sbx_rfs_percentile_ms(s, 90),
		    (unsigned long long)sbx_rfs_percentile_ms(s, 99));
	}
	sbx_rfs_async_counts(fs->rfs, &now, &most);
	return r
		   ?: sbx_buf_printf(out, "rfs.total requests=%llu round_trips=%llu\n",
				     (unsigned long long)req, (unsigned long long)rt)
		   ?: sbx_buf_printf(out,
				     "async in_flight=%llu most=%llu reads_queued=%llu "
				     "reads_parked=%llu lock_waiting=%llu lock_queued=%llu\n",
				     (unsigned long long)now, (unsigned long long)most,
				     LD(fs->stats.reads_queued), LD(fs->stats.reads_parked),
				     LD(fs->stats.lock_waiting), LD(fs->stats.lock_queued));
}

int ctl_snap_stats(struct sbx_fs *fs, struct sbx_buf *out)
{
	struct fs_stats *s = &fs->stats;
	uint64_t idle_b, idle_n, ranged_b;
	size_t jobs, running;
	int i, r;

	r = sbx_buf_puts(out, "# sbxfs: FUSE requests, remote round trips, caches\n");
	for (i = 0; !r && i < FS_OP__N; i++)
		r = sbx_buf_printf(out, "fuse.%s %llu\n", op_names[i], LD(s->ops[i]));
	r = r ?: stats_rfs(fs, out);
	pthread_mutex_lock(&fs->lock);
	idle_b = fs->idle_bytes;
	idle_n = fs->idle_count;
	ranged_b = fs->ranged_mem;
	pthread_mutex_unlock(&fs->lock);
	pthread_mutex_lock(&fs->ctl->lock);
	jobs = fs->ctl->n_jobs;
	running = fs->ctl->running;
	pthread_mutex_unlock(&fs->ctl->lock);
	return r
		   ?: sbx_buf_printf(
			  out,
			  "cache.attr hits=%llu misses=%llu\n"
			  "cache.dir hits=%llu misses=%llu negative_hits=%llu new_checked=%llu\n"
			  "cache.xattr hits=%llu\n"
			  "cache.link hits=%llu\n"
			  "cache.data hits=%llu misses=%llu revalidated=%llu spilled=%llu "
			  "trimmed=%llu\n"
			  "cache.held idle_files=%llu idle_bytes=%llu ranged_in_memory=%llu\n"
			  "store count=%llu errors=%llu creates_deferred=%llu behind=%llu "
			  "behind_errors=%llu attrs_after=%llu in_flight=%llu fsyncs=%llu "
			  "dir_attrs=%llu\n"
			  "invalidations %llu\n"
			  "changes %llu\n"
			  "refused %llu\n"
			  "jobs total=%zu running=%zu\n",
			  LD(s->attr_hit), LD(s->attr_miss), LD(s->dir_hit), LD(s->dir_miss),
			  LD(s->neg_hit), LD(s->dir_checked), LD(s->xattr_hit), LD(s->link_hit),
			  LD(s->data_hit), LD(s->data_miss), LD(s->data_revalidated),
			  LD(s->data_spilled), LD(s->data_trimmed), (unsigned long long)idle_n,
			  (unsigned long long)idle_b, (unsigned long long)ranged_b, LD(s->stores),
			  LD(s->store_errors), LD(s->creates_deferred), LD(s->stores_behind),
			  LD(s->behind_errors), LD(s->attrs_after), LD(s->stores_in_flight),
			  LD(s->fsyncs), LD(s->dir_attrs), LD(s->invalidations), LD(s->changes), LD(s->refused), jobs,
			  running);
}

static int wait_ready(struct sbx_fs *fs, double t)
{
	struct sbx_err err = {0};

	return fs_check_alive(fs) ?: sbx_sandbox_wait_ready(fs->sb, t, 1.0, &err);
}

int ctl_verbs(struct ctl *c, const char *buf, size_t size)
{
	struct sbx_fs *fs = c->fs;
	const char *p = buf, *end = buf + size;
	struct sbx_err err = {0};
	struct ctl_cmd cmd;
	int r = 0, k;

	while (!r && (k = ctl_cmd_next(&p, end, CTL_F_TOP, &cmd)) != 0) {
		if (k < 0)
			return k;
		switch (cmd.verb) {
		case CTL_V_WAIT_READY: r = cmd.err ?: wait_ready(fs, cmd.seconds); break;
		case CTL_V_DELETE:
			r = fs_check_alive(fs) ?: sbx_sandbox_delete(fs->sb, &err);
			if (r == 0)
				__atomic_store_n(&fs->deleted, 1, __ATOMIC_RELEASE);
			break;
		case CTL_V_DROP_CACHES: fs_drop_caches(fs); break;
		case CTL_V_SYNC: r = fs_flush_all(fs); break;
		default: r = -EINVAL; break;
		}
		ctl_cmd_release(&cmd);
	}
	return r;
}

/* env KEY=VALUE (KEY checked by verbs.c). */
static int add_env(struct job *j, const char *kv)
{
	char **v, *copy;

	if (j->n_env >= 256)
		return -E2BIG;
	copy = strdup(kv);
	v = copy ? realloc(j->env, (j->n_env + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	j->env = v;
	j->env[j->n_env++] = copy;
	return 0;
}

/* cwd, env and timeout: only before the start. ctl->lock held. */
static int job_setting(struct ctl *c, struct job *j, struct ctl_cmd *cmd)
{
	int r = cmd->err;

	if (j->state != JOB_PENDING)
		return -EBUSY;
	if (r)
		return r;
	switch (cmd->verb) {
	case CTL_V_CWD:
		free(j->cwd);
		j->cwd = NULL;
		if (cmd->arg[0] == '/') {
			j->cwd = cmd->arg;
			cmd->arg = NULL;
		} else {
			/* relative to the mounted directory */
			struct sbx_buf b = SBX_BUF_INIT;

			r = sbx_buf_printf(&b, "%s/%s", c->fs->root, cmd->arg);
			j->cwd = r ? NULL : sbx_buf_detach(&b, NULL);
			sbx_buf_release(&b);
		}
		return r;
	case CTL_V_ENV: return add_env(j, cmd->arg);
	case CTL_V_TIMEOUT: j->timeout_s = cmd->seconds; return 0;
	default: return -EINVAL;
	}
}

int ctl_job_verbs(struct ctl *c, struct job *j, const char *buf, size_t size)
{
	const char *p = buf, *end = buf + size;
	struct ctl_cmd cmd;
	int r = 0, k;

	while (!r && (k = ctl_cmd_next(&p, end, CTL_F_JOB, &cmd)) != 0) {
		if (k < 0)
			return k;
		if (cmd.verb == CTL_V_RUN) {
			r = job_run(c, j, cmd.run, cmd.run_len);
		} else if (cmd.verb == CTL_V_KILL) {
			r = job_kill(c, j);
		} else if (cmd.verb == CTL_V_SIGNAL) {
			r = job_signal(c, j, cmd.arg);
		} else {
			pthread_mutex_lock(&c->lock);
			r = job_setting(c, j, &cmd);
			pthread_mutex_unlock(&c->lock);
		}
		ctl_cmd_release(&cmd);
	}
	return r;
}
