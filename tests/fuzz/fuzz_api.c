/* fuzz_api.c - sbxd's REST API end to end (src/host/api.c and
 * api_handlers.c): routing, authentication, query parameters and the JSON
 * bodies of every route, on arbitrary requests from a client.
 *
 * The input is one or more pipelined HTTP requests. Each goes through the
 * head parser and, when its body is all there, through sbxd_api_handle() on
 * a daemon in test mode (as test_host_api.c does: nothing is ever started,
 * the event loop never runs; state files go to a temporary directory),
 * fresh for every input. The token is "tok". The reply must be JSON.
 *
 * GET on the exec WebSocket path is left out: its upgrade needs a live
 * connection. What a WebSocket then carries is fuzzed by ws_frame and
 * exec_msg.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/api.h"
#include "host/daemon.h"
#include "host/executor.h"
#include "host/http/http_parse.h"
#include "util/json.h"

#define MAX_REQUESTS 8

struct td {
	struct sbxd d;
	char dir[64];
};

static int td_init(struct td *t)
{
	memset(t, 0, sizeof(*t));
	/* db.json is written (and fsync'ed) on every change: RAM if we can */
	snprintf(t->dir, sizeof(t->dir), "%s/sbx-fuzz-api.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(t->dir))
		return -1;
	sbx_buf_puts(&t->d.state_dir, t->dir);
	sbx_buf_puts(&t->d.token, "tok");
	t->d.test_mode = true;
	if (sbxd_loop_new(&t->d.loop) < 0)
		return -1;
	sbxd_store_init(&t->d.store);
	return 0;
}

static void td_release(struct td *t)
{
	char p[128];

	sbxd_store_release(&t->d.store);
	sbxd_loop_free(t->d.loop);
	sbx_buf_release(&t->d.state_dir);
	sbx_buf_release(&t->d.token);
	snprintf(p, sizeof(p), "%s/db.json", t->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/db.json.tmp", t->dir);
	unlink(p);
	rmdir(t->dir);
}

/* One request at buf[0..n); returns the bytes it used, 0 to stop. */
static size_t one(struct td *t, const char *buf, size_t n)
{
	struct sbxd_http_resp resp = {.status = 0};
	struct sbxd_http_req req;
	json_object *o = NULL;
	size_t used = 0;
	bool executor;
	int r;

	memset(&req, 0, sizeof(req));
	r = sbxd_http_parse_head(buf, n, &req);
	if (r <= 0 || req.content_length > n - (size_t)r)
		goto out;
	used = (size_t)r + req.content_length;
	if (!strcmp(req.method, "GET") && strstr(req.path, "exec"))
		goto out;
	sbx_buf_init(&resp.body);
	/* the executor API (docs/executor-protocol.md) answers some errors
	 * in plain text, as Koyeb's does: only the REST API's are JSON */
	executor = sbxd_executor_path(req.path);
	r = sbxd_api_handle(&t->d, NULL, &req, buf + r, req.content_length, &resp);
	if (r != SBX_HTTP_RESPOND || resp.status < 200 || resp.status > 599 ||
	    (!executor && sbx_json_parse(resp.body.data, resp.body.len, &o) < 0)) {
		fprintf(stderr, "fuzz_api: %s %s -> r %d status %d body %.200s\n", req.method,
			req.path, r, resp.status, resp.body.data ? resp.body.data : "");
		abort();
	}
	sbx_json_put(o);
	sbx_buf_release(&resp.body);
out:
	sbxd_http_req_release(&req);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td t;
	size_t off = 0, k;
	int i;
	char *buf;

	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (td_init(&t) == 0)
		for (i = 0; i < MAX_REQUESTS && (k = one(&t, buf + off, size - off)) > 0; i++)
			off += k;
	td_release(&t);
	free(buf);
	return 0;
}
