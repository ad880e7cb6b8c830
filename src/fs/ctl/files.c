/* files.c - what the /.ctl files say (status, info, stats) and what their
 * writes do (the verbs of .ctl/ctl and jobs/N/ctl).
 *
 * info never holds a secret: it is built from the sandbox's public ids only
 * (never sbx_sandbox_secret(), never the API token).
 */
#include "fs/ctl/ctl_int.h"

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
	    sbx_json_add_str(j, "transport", "shell") ?:
	    sbx_json_add_str(j, "mounted_at", mounted) ?:
	    sbx_json_add_str(j, "version", SBX_VERSION) ?:
	    sbx_json_add_bool(j, "deleted", fs_check_alive(fs) < 0);
	r = r ?: sbx_json_dump(out, j) ?: sbx_buf_putc(out, '\n');
	sbx_json_put(j);
	return r;
}

static const char *const op_names[FS_OP__N] = {
    "lookup",  "forget",  "getattr", "setattr", "readlink",   "mknod",	"mkdir",  "unlink",
    "rmdir",   "symlink", "rename",  "link",	"open",	      "read",	"write",  "flush",
    "release", "fsync",	  "opendir", "readdir", "releasedir", "statfs", "create",
};

#define LD(x) ((unsigned long long)__atomic_load_n(&(x), __ATOMIC_RELAXED))

static int stats_rfs(struct sbx_fs *fs, struct sbx_buf *out)
{
	struct sbx_rfs_opstats st[SBX_RFS_OP__N];
	uint64_t req = 0, rt = 0;
	int i, r = 0;

	sbx_rfs_stats(fs->rfs, st);
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
	return r
		   ?: sbx_buf_printf(out, "rfs.total requests=%llu round_trips=%llu\n",
				     (unsigned long long)req, (unsigned long long)rt);
}

int ctl_snap_stats(struct sbx_fs *fs, struct sbx_buf *out)
{
	struct fs_stats *s = &fs->stats;
	size_t jobs, running;
	int i, r;

	r = sbx_buf_puts(out, "# sbxfs: FUSE requests, remote round trips, caches\n");
	for (i = 0; !r && i < FS_OP__N; i++)
		r = sbx_buf_printf(out, "fuse.%s %llu\n", op_names[i], LD(s->ops[i]));
	r = r ?: stats_rfs(fs, out);
	pthread_mutex_lock(&fs->ctl->lock);
	jobs = fs->ctl->n_jobs;
	running = fs->ctl->running;
	pthread_mutex_unlock(&fs->ctl->lock);
	return r
		   ?: sbx_buf_printf(out,
				     "cache.attr hits=%llu misses=%llu\n"
				     "cache.dir hits=%llu misses=%llu negative_hits=%llu\n"
				     "cache.data hits=%llu misses=%llu revalidated=%llu\n"
				     "store count=%llu errors=%llu\n"
				     "invalidations %llu\n"
				     "refused %llu\n"
				     "jobs total=%zu running=%zu\n",
				     LD(s->attr_hit), LD(s->attr_miss), LD(s->dir_hit),
				     LD(s->dir_miss), LD(s->neg_hit), LD(s->data_hit),
				     LD(s->data_miss), LD(s->data_revalidated), LD(s->stores),
				     LD(s->store_errors), LD(s->invalidations), LD(s->refused),
				     jobs, running);
}

/* Next line of [*p, end): its start and length (no '\n', no trailing '\r'
 * or blanks); false at the end. */
static bool next_line(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p, *nl;
	size_t n;

	if (s >= end)
		return false;
	nl = memchr(s, '\n', (size_t)(end - s));
	n = nl ? (size_t)(nl - s) : (size_t)(end - s);
	*p = nl ? nl + 1 : end;
	while (n && strchr("\r \t", s[n - 1]))
		n--;
	*ret = s;
	*ret_len = n;
	return true;
}

/* Is the line "verb" or "verb ARG"? *arg gets ARG (or NULL). */
static bool verb_is(const char *line, size_t n, const char *verb, char **arg)
{
	size_t vl = strlen(verb);

	*arg = NULL;
	if (n < vl || memcmp(line, verb, vl) || (n > vl && line[vl] != ' '))
		return false;
	if (n > vl + 1)
		*arg = strndup(line + vl + 1, n - vl - 1);
	return true;
}

static int wait_ready(struct sbx_fs *fs, const char *arg)
{
	struct sbx_err err = {0};
	double t = arg ? strtod(arg, NULL) : 300;

	if (t <= 0 || t > 86400)
		return -EINVAL;
	return fs_check_alive(fs) ?: sbx_sandbox_wait_ready(fs->sb, t, 1.0, &err);
}

int ctl_verbs(struct ctl *c, const char *buf, size_t size)
{
	struct sbx_fs *fs = c->fs;
	const char *p = buf, *end = buf + size, *line;
	struct sbx_err err = {0};
	size_t n;
	char *arg = NULL;
	int r = 0;

	while (!r && next_line(&p, end, &line, &n)) {
		if (n == 0)
			continue;
		if (verb_is(line, n, "wait-ready", &arg)) {
			r = wait_ready(fs, arg);
		} else if (verb_is(line, n, "delete", &arg) && !arg) {
			r = fs_check_alive(fs) ?: sbx_sandbox_delete(fs->sb, &err);
			if (r == 0)
				__atomic_store_n(&fs->deleted, 1, __ATOMIC_RELEASE);
		} else if (verb_is(line, n, "drop-caches", &arg) && !arg) {
			fs_drop_caches(fs);
		} else {
			r = -EINVAL;
		}
		free(arg);
		arg = NULL;
	}
	return r;
}

/* env KEY=VALUE: KEY must be a shell name. */
static int add_env(struct job *j, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char **v, *copy;
	size_t i;

	if (!eq || eq == kv)
		return -EINVAL;
	for (i = 0; kv + i < eq; i++)
		if (!(kv[i] == '_' || (kv[i] >= 'A' && kv[i] <= 'Z') ||
		      (kv[i] >= 'a' && kv[i] <= 'z') || (i && kv[i] >= '0' && kv[i] <= '9')))
			return -EINVAL;
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
static int job_setting(struct ctl *c, struct job *j, const char *line, size_t n)
{
	char *arg = NULL, *end;
	double t;
	int r = -EINVAL;

	if (j->state != JOB_PENDING)
		return -EBUSY;
	if (verb_is(line, n, "cwd", &arg) && arg) {
		free(j->cwd);
		j->cwd = NULL;
		if (arg[0] == '/') {
			j->cwd = arg;
			arg = NULL;
			r = 0;
		} else {
			/* relative to the mounted directory */
			struct sbx_buf b = SBX_BUF_INIT;

			r = sbx_buf_printf(&b, "%s/%s", c->fs->root, arg);
			j->cwd = r ? NULL : sbx_buf_detach(&b, NULL);
			sbx_buf_release(&b);
		}
	} else if (verb_is(line, n, "env", &arg) && arg) {
		r = add_env(j, arg);
	} else if (verb_is(line, n, "timeout", &arg) && arg) {
		t = strtod(arg, &end);
		if (!*end && t >= 0 && t <= 31 * 86400)
			j->timeout_s = t, r = 0;
	}
	free(arg);
	return r;
}

int ctl_job_verbs(struct ctl *c, struct job *j, const char *buf, size_t size)
{
	const char *p = buf, *end = buf + size, *line;
	char *arg = NULL;
	size_t n;
	int r = 0;

	while (!r && next_line(&p, end, &line, &n)) {
		if (n == 0)
			continue;
		if (n >= 4 && !memcmp(line, "run ", 4)) {
			/* the command is the rest of the write, newlines included */
			return job_run(c, j, line + 4, (size_t)(end - line) - 4);
		} else if (verb_is(line, n, "kill", &arg) && !arg) {
			r = job_kill(c, j);
		} else if (verb_is(line, n, "signal", &arg) && arg) {
			r = job_signal(c, j, arg);
		} else {
			pthread_mutex_lock(&c->lock);
			r = job_setting(c, j, line, n);
			pthread_mutex_unlock(&c->lock);
		}
		free(arg);
		arg = NULL;
	}
	return r;
}
