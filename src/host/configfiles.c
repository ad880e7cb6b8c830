/* configfiles.c - writes a definition's config_files; see configfiles.h.
 * One file at a time, each through its own xfile child. */
#include "host/configfiles.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/daemon.h"
#include "host/xfile.h"
#include "util/json.h"
#include "util/log.h"

struct sbxd_cfgw {
	struct sbxd *d;
	char svc_id[37];
	pid_t pid;
	json_object *files; /* a reference on the definition's array */
	size_t next;
	struct sbxd_xfile *op;
	sbxd_cfgw_fn fn;
	void *arg;
};

static unsigned mode_of(json_object *e)
{
	const char *p = sbx_json_str(e, "permissions");
	char *end;
	unsigned long m;

	if (!p || !p[0])
		return 0644;
	m = strtoul(p, &end, 8);
	return *end || m > 07777 ? 0644 : (unsigned)m;
}

static void step(struct sbxd_cfgw *w);

static void on_written(void *user, int err, const struct sbx_buf *body)
{
	struct sbxd_cfgw *w = user;
	json_object *e = json_object_array_get_idx(w->files, w->next - 1);
	struct sbxd_svc *v = sbxd_store_svc(&w->d->store, w->svc_id);

	w->op = NULL;
	if (v && (err || !body->len || !strstr(body->data, "\"success\":true")))
		sbxd_svc_message(v, "config file %s not written: %.200s", sbx_json_str(e, "path"),
				 err	      ? strerror(-err)
				 : body->data ? body->data
					      : "");
	step(w);
}

static void finish(struct sbxd_cfgw *w)
{
	sbxd_cfgw_fn fn = w->fn;
	void *arg = w->arg;

	sbx_json_put(w->files);
	free(w);
	fn(arg);
}

/* Starts the next file, or finishes. */
static void step(struct sbxd_cfgw *w)
{
	while (w->next < json_object_array_length(w->files)) {
		json_object *e = json_object_array_get_idx(w->files, w->next++);
		json_object *c = json_object_object_get(e, "content");
		const char *path = sbx_json_str(e, "path");

		if (!path || path[0] != '/')
			continue;
		if (sbxd_xfile_start_pid(w->d, w->pid, SBXD_XF_CONFIGFILE, path,
					 c ? json_object_get_string(c) : "",
					 c ? (size_t)json_object_get_string_len(c) : 0, mode_of(e),
					 on_written, w, &w->op) == 0)
			return;
	}
	finish(w);
}

int sbxd_config_files_write(struct sbxd *d, struct sbxd_svc *v, pid_t pid, sbxd_cfgw_fn fn,
			    void *arg, struct sbxd_cfgw **ret)
{
	json_object *files = sbx_json_get(v->definition, "config_files");
	struct sbxd_cfgw *w;

	if (!files || !json_object_is_type(files, json_type_array) ||
	    !json_object_array_length(files))
		return -ENOENT;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->d = d;
	w->pid = pid;
	w->fn = fn;
	w->arg = arg;
	w->files = json_object_get(files);
	snprintf(w->svc_id, sizeof(w->svc_id), "%s", v->id);
	*ret = w;
	step(w); /* may finish at once: fn then runs before we return */
	return 0;
}

void sbxd_config_files_cancel(struct sbxd_cfgw *w)
{
	if (!w)
		return;
	sbxd_xfile_cancel(w->op);
	sbx_json_put(w->files);
	free(w);
}
