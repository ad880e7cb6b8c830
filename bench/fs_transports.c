/* fs_transports.c - what the filesystem primitives of libsbx cost per
 * transport (docs/libsbx-transports.md), against a running sbxd.
 *
 * Usage: bench-fs-transports API_HOST TOKEN [N]
 * Creates one sandbox, then per transport (a client each, with
 * sbx_client_opts.transport websocket, executor, agent):
 *   first    a new handle's first call (sbx_fs_exists "/"), the handle
 *            freed after it: what a one-shot program (a CLI call) pays.
 *            For the agent: "first" when the sandbox has a copy of it,
 *            "upload" the very first one (the copy sent, then started);
 *   row      N calls in a row on one handle (exists, write_file 5 B,
 *            read_file, list_dir, mkdir + delete_dir), total, and the
 *            median of each kind;
 *   free     sbx_sandbox_free of that handle (the agent's exit).
 * Prints one line per figure; milliseconds. Deletes the sandbox. Not part
 * of the tests: see bench/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sbx/sbx.h"

#define KINDS 5
static const char *const kind_names[KINDS] = {"exists", "write_file 5 B", "read_file 5 B",
					      "list_dir", "mkdir + delete_dir"};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n ? v[n / 2] : 0;
}

static int one_call(struct sbx_sandbox *sb, int kind, const char *dir)
{
	char path[256], **names = NULL, *data = NULL;
	bool flag;
	int r;

	snprintf(path, sizeof(path), "%s/f", dir);
	switch (kind) {
	case 0: return sbx_fs_exists(sb, "/", &flag, NULL);
	case 1: return sbx_fs_write_file(sb, path, "hello", 5, NULL);
	case 2:
		r = sbx_fs_read_file(sb, path, &data, NULL, NULL);
		free(data);
		return r;
	case 3:
		r = sbx_fs_list_dir(sb, dir, &names, NULL, NULL);
		sbx_strv_free(names);
		return r;
	default:
		snprintf(path, sizeof(path), "%s/d", dir);
		return sbx_fs_mkdir(sb, path, false, NULL) ?: sbx_fs_delete_dir(sb, path, NULL);
	}
}

static int open_handle(struct sbx_client *c, const char *id, struct sbx_sandbox **ret)
{
	struct sbx_err e = {0};
	int r = sbx_sandbox_open(c, id, ret, &e);

	if (r < 0)
		fprintf(stderr, "open %s: %s\n", id, e.msg);
	return r;
}

/* A new handle, its first call, its free, @p reps times: the medians. */
static int first_call(struct sbx_client *c, const char *id, const char *label, const char *t,
		      int reps)
{
	double call[16], fr[16], t0, t1, m;
	struct sbx_sandbox *sb = NULL;
	int i, r = 0;
	bool flag;

	for (i = 0; i < reps && i < 16 && r == 0; i++) {
		if (open_handle(c, id, &sb) < 0)
			return -1;
		t0 = now_ms();
		r = sbx_fs_exists(sb, "/", &flag, NULL);
		t1 = now_ms();
		if (*sbx_sandbox_transport_note(sb))
			fprintf(stderr, "%s: %s\n", t, sbx_sandbox_transport_note(sb));
		sbx_sandbox_free(sb);
		call[i] = t1 - t0;
		fr[i] = now_ms() - t1;
	}
	m = median(call, (size_t)i); /* sorts call */
	printf("%-9s %-22s %8.1f ms  (median of %d, %.1f to %.1f; rc %d; then freeing the "
	       "handle %.1f ms)\n",
	       t, label, m, i, call[0], call[i - 1], r, median(fr, (size_t)i));
	return r;
}

static int row(struct sbx_client *c, const char *id, const char *t, int n)
{
	double *lat[KINDS], t0, tot, tf;
	struct sbx_sandbox *sb = NULL;
	size_t cnt[KINDS] = {0};
	char dir[64];
	int i, k, r = 0;

	if (open_handle(c, id, &sb) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/bench-%s", t);
	sbx_fs_mkdir(sb, dir, true, NULL); /* the first call: not counted */
	one_call(sb, 1, dir);
	for (k = 0; k < KINDS; k++)
		lat[k] = calloc((size_t)n, sizeof(double));
	tot = now_ms();
	for (i = 0; i < n && r == 0; i++) {
		k = i % KINDS;
		t0 = now_ms();
		r = one_call(sb, k, dir);
		lat[k][cnt[k]++] = now_ms() - t0;
	}
	tot = now_ms() - tot;
	printf("%-9s %d calls in a row      %8.1f ms  (%.2f ms a call, rc %d)\n", t, n, tot,
	       tot / n, r);
	for (k = 0; k < KINDS; k++) {
		printf("%-9s   median %-18s %6.2f ms\n", t, kind_names[k], median(lat[k], cnt[k]));
		free(lat[k]);
	}
	sbx_fs_rm(sb, dir, true, NULL);
	tf = now_ms();
	sbx_sandbox_free(sb);
	printf("%-9s free of the handle     %8.1f ms\n", t, now_ms() - tf);
	return r;
}

int main(int argc, char **argv)
{
	static const char *const tps[] = {"websocket", "executor", "agent"};
	struct sbx_client_opts co = {0};
	struct sbx_create_opts so = {0};
	struct sbx_client *c = NULL, *ct;
	struct sbx_sandbox *sb = NULL;
	struct sbx_err e = {0};
	char id[128];
	int n = argc > 3 ? atoi(argv[3]) : 250, rc = 0;
	size_t i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s API_HOST TOKEN [N]\n", argv[0]);
		return 2;
	}
	unsetenv("SBX_EXEC_TRANSPORT"); /* each client's option rules */
	co.api_host = argv[1];
	co.token = argv[2];
	so.name = "bench-fs";
	so.wait_ready = true;
	so.timeout_s = 120;
	if (sbx_client_new(&co, &c, &e) < 0 || sbx_sandbox_create(c, &so, &sb, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return 1;
	}
	snprintf(id, sizeof(id), "%s", sbx_sandbox_id(sb));
	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		ct = NULL;
		if (sbx_transport_parse(tps[i], &co.transport) < 0 ||
		    sbx_client_new(&co, &ct, &e) < 0) {
			fprintf(stderr, "client %s: %s\n", tps[i], e.msg);
			rc = 1;
			continue;
		}
		if (!strcmp(tps[i], "agent"))
			rc |= first_call(ct, id, "first call, uploading", tps[i], 1) != 0;
		rc |= first_call(ct, id, "first call", tps[i], 15) != 0;
		rc |= row(ct, id, tps[i], n) != 0;
		sbx_client_free(ct);
	}
	sbx_sandbox_delete(sb, NULL);
	sbx_sandbox_free(sb);
	sbx_client_free(c);
	return rc;
}
