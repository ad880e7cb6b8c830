/* common.c - the client target (Koyeb or the embedded sbxd) and error output.
 *
 * The embedded default: without $KOYEB_API_TOKEN, sbx talks to the local
 * host sbxd and starts it when it is not running, saying so once on stderr.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cli/hostctl.h"
#include "cli/mounts.h"
#include "util/json.h"
#include "util/rand.h"
#include "util/statedir.h"

static void fail_json(const char *ctx, const char *msg, int rc)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	struct sbx_buf b = SBX_BUF_INIT;

	if (!o || !e) {
		sbx_json_put(o);
		sbx_json_put(e);
		return;
	}
	sbx_json_add_str(e, "context", ctx);
	sbx_json_add_str(e, "message", msg);
	sbx_json_add_str(e, "class", rc ? sbx_errclass(rc < 0 ? rc : -rc) : "failed");
	sbx_json_add_int(e, "errno", rc < 0 ? -rc : rc);
	json_object_object_add(o, "error", e);
	if (sbx_json_dump(&b, o) == 0)
		printf("%s\n", b.data);
	fflush(stdout);
	sbx_buf_release(&b);
	sbx_json_put(o);
}

int cli_fail(const struct cli *cli, const struct sbx_err *err, int rc, const char *ctx)
{
	const char *msg = err && err->code && err->msg[0] ? err->msg : strerror(rc < 0 ? -rc : rc);

	if (cli && cli->json)
		fail_json(ctx, msg, rc);
	else
		fprintf(stderr, "sbx: %s: %s\n", ctx, msg);
	return CLI_EXIT_FAIL;
}

int cli_failf(const struct cli *cli, const char *ctx, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cli && cli->json)
		fail_json(ctx, msg, 0);
	else
		fprintf(stderr, "sbx: %s: %s\n", ctx, msg);
	return CLI_EXIT_FAIL;
}

bool cli_color(int fd)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc && *nc)
		return false;
	if (!term || !strcmp(term, "dumb"))
		return false;
	return isatty(fd) == 1;
}

void cli_note(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet)
		return;
	va_start(ap, fmt);
	fputs("sbx: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_ensure_host(struct cli *cli, struct hostctl_info *hi)
{
	bool started = false;
	int r;

	r = hostctl_ensure(cli->argv0_dir, hi, &started);
	if (r == -ECHILD)
		cli_failf(cli, "host", "the local host sbxd did not start; see %s/sbxd.log",
			  hi->state_dir.data ? hi->state_dir.data : "the state dir");
	else if (r < 0)
		cli_failf(cli, "host", "cannot start the local host sbxd: %s", strerror(-r));
	else if (started)
		cli_note(cli,
			 "no KOYEB_API_TOKEN set: started the local host sbxd at %s%s "
			 "(state in %s; `sbx host stop` stops it)",
			 hi->api_host.data, hi->moved_port ? " (the default port is taken)" : "",
			 hi->state_dir.data);
	return r;
}

static int open_local(struct cli *cli, struct sbx_client_opts *o, struct hostctl_info *hi)
{
	int r = cli_ensure_host(cli, hi);

	if (r < 0)
		return r;
	o->api_host = hi->api_host.data;
	o->token = hi->token.data;
	cli->local = true;
	return 0;
}

/* The id cache (sbx_sandbox_open_ids) lives in the state directory, unless
 * SBX_NO_ID_CACHE is set to anything but "" or "0". */
static void id_cache_dir(struct hostctl_info *hi, struct sbx_client_opts *o)
{
	const char *off = getenv("SBX_NO_ID_CACHE");

	if (off && *off && strcmp(off, "0") != 0)
		return;
	if (!hi->state_dir.len && sbx_state_dir(&hi->state_dir) < 0)
		return;
	o->id_cache_dir = hi->state_dir.data;
}

int cli_client(struct cli *cli, struct sbx_client **ret)
{
	struct sbx_client_opts o = {0};
	struct hostctl_info hi = {0};
	struct sbx_err err = {0};
	const char *tok = getenv("KOYEB_API_TOKEN");
	int r = 0;

	if (cli->client) {
		*ret = cli->client;
		return 0;
	}
	if (!tok || !*tok) {
		r = open_local(cli, &o, &hi);
		if (r < 0)
			goto out;
	}
	id_cache_dir(&hi, &o);
	r = sbx_client_new(&o, &cli->client, &err);
	if (r < 0) {
		cli_fail(cli, &err, r, "cannot open the API client");
		goto out;
	}
	*ret = cli->client;
out:
	hostctl_info_release(&hi);
	return r;
}

const char *cli_default_name(char buf[CLI_NAME_MAX])
{
	char hex[7];

	if (sbx_rand_hex(hex, 3) < 0)
		snprintf(hex, sizeof(hex), "%06x", (unsigned)getpid() & 0xffffffu);
	snprintf(buf, CLI_NAME_MAX, "sandbox-%s", hex);
	return buf;
}

/* Opens with fn (all of the sandbox, or its ids only); prints the error. */
static int open_by(struct cli *cli, const char *id, struct sbx_sandbox **ret,
		   int (*fn)(struct sbx_client *, const char *, struct sbx_sandbox **,
			     struct sbx_err *))
{
	struct sbx_client *c;
	struct sbx_err err = {0};
	int r;

	r = cli_client(cli, &c);
	if (r < 0)
		return r;
	r = fn(c, id, ret, &err);
	if (r < 0)
		cli_fail(cli, &err, r, id);
	return r;
}

int cli_open_sandbox(struct cli *cli, const char *id, struct sbx_sandbox **ret)
{
	return open_by(cli, id, ret, sbx_sandbox_open);
}

int cli_open_ids(struct cli *cli, const char *id, struct sbx_sandbox **ret)
{
	return open_by(cli, id, ret, sbx_sandbox_open_ids);
}

void cli_wake(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		abort(); /* an eventfd write cannot fail here; waiting forever would be worse */
}

void cli_keep_result(struct sbx_exec_result *dst, const struct sbx_exec_result *r)
{
	*dst = *r;
	dst->stdout_data = NULL;
	dst->stderr_data = NULL;
}

void cli_sync_mounts(struct cli *cli, struct sbx_sandbox *sb, const char *arg)
{
	const char *names[3] = {arg, sbx_sandbox_id(sb), sbx_sandbox_name(sb)};
	const char *off = getenv("SBX_NO_MOUNT_SYNC");
	int r;

	if (off && *off && strcmp(off, "0") != 0)
		return; /* a hung mount must not hang every exec */
	r = mounts_sync_sandbox(NULL, names, 3, !cli->quiet);

	if (r < 0 && !cli->quiet)
		fprintf(stderr,
			"sbx: warning: a file written through a mount of %s could not be "
			"stored (%s)\n",
			arg, strerror(-r));
}
