/* async.c - several commands at once: start them without waiting, let the
 * callbacks (on libsbx's transport thread) collect the results, and wait on
 * a condition variable until the last one is done. Also one asynchronous
 * file read alongside.
 *
 *   ./sbx-example-async SANDBOX
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <sbx/sbx.h>

#define N 4

struct waiter {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int left;	/* m: callbacks still to come */
	int codes[N];	/* m */
	size_t hostlen; /* m: bytes of /etc/hostname */
};

struct job {
	struct waiter *w;
	int i;
};

static void one_done(struct waiter *w)
{
	pthread_mutex_lock(&w->m);
	if (--w->left == 0)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->m);
}

/* callbacks must not block: record and return */
static void on_done(void *ud, const struct sbx_exec_result *r)
{
	struct job *j = ud;

	pthread_mutex_lock(&j->w->m);
	j->w->codes[j->i] = r->error ? -1 : r->exit_code;
	pthread_mutex_unlock(&j->w->m);
	one_done(j->w);
}

static void on_read(void *ud, struct sbx_fs_result *res)
{
	struct waiter *w = ud;

	pthread_mutex_lock(&w->m);
	w->hostlen = res->rc == 0 ? res->len : 0;
	pthread_mutex_unlock(&w->m);
	one_done(w);
}

int main(int argc, char **argv)
{
	static const char *const cmds[N] = {"sleep 1; exit 0", "sleep 1; exit 1", "sleep 1; exit 2",
					    "sleep 1; exit 3"};
	struct waiter w = {.left = N + 1};
	struct job jobs[N];
	struct sbx_exec_cbs cbs = {.on_done = on_done};
	struct sbx_client *c = NULL;
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	int i, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SANDBOX\n", argv[0]);
		return 2;
	}
	pthread_mutex_init(&w.m, NULL);
	pthread_cond_init(&w.cv, NULL);
	if (sbx_client_new(NULL, &c, &err) < 0 || sbx_sandbox_open(c, argv[1], &sb, &err) < 0)
		goto out;
	for (i = 0; i < N; i++) {
		struct sbx_exec_opts o = {0};
		struct sbx_exec *e;

		o.command = cmds[i];
		jobs[i].w = &w;
		jobs[i].i = i;
		if (sbx_exec_start(sb, &o, &cbs, &jobs[i], &e, &err) < 0)
			goto out;  /* (the ones already started still finish) */
		sbx_exec_unref(e); /* it runs on; on_done still comes */
	}
	if (sbx_fs_read_file_async(sb, "/etc/hostname", on_read, &w) < 0)
		goto out;
	pthread_mutex_lock(&w.m);
	while (w.left > 0)
		pthread_cond_wait(&w.cv, &w.m);
	pthread_mutex_unlock(&w.m);
	for (i = 0; i < N; i++)
		printf("command %d (%s): exit code %d\n", i, cmds[i], w.codes[i]);
	printf("/etc/hostname: %zu bytes\n", w.hostlen);
	rc = 0;
	for (i = 0; i < N; i++)
		if (w.codes[i] != i)
			rc = 1;
out:
	if (err.code)
		fprintf(stderr, "async: %s\n", err.msg);
	sbx_sandbox_free(sb);
	sbx_client_free(c); /* waits for nothing: every callback has run */
	return rc;
}
