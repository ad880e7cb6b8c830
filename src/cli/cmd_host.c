/* cmd_host.c - sbx host start|stop|status|env|image: the local host sbxd. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "cli/hostctl.h"
#include "util/json.h"
#include "util/statedir.h"

static void print_info_json(const struct hostctl_info *hi, bool started)
{
	json_object *o = json_object_new_object();
	struct sbx_buf b = SBX_BUF_INIT;

	if (!o)
		return;
	sbx_json_add_bool(o, "running", hi->running);
	if (started)
		sbx_json_add_bool(o, "started", true);
	sbx_json_add_int(o, "pid", hi->running ? hi->pid : 0);
	sbx_json_add_str(o, "api_host", hi->running ? hi->api_host.data : "");
	sbx_json_add_str(o, "state_dir", hi->state_dir.data);
	if (sbx_json_dump(&b, o) == 0)
		printf("%s\n", b.data);
	sbx_buf_release(&b);
	sbx_json_put(o);
}

static int host_start(struct cli *cli)
{
	struct hostctl_info hi = {0};
	bool started = false;
	int r;

	r = hostctl_ensure(cli->argv0_dir, &hi, &started);
	if (r < 0) {
		if (r == -ECHILD)
			cli_failf(cli, "host start", "sbxd did not start; see %s/sbxd.log",
				  hi.state_dir.data ? hi.state_dir.data : "the state dir");
		else
			cli_failf(cli, "host start", "cannot start sbxd: %s", strerror(-r));
		hostctl_info_release(&hi);
		return CLI_EXIT_FAIL;
	}
	if (cli->json) {
		print_info_json(&hi, started);
	} else {
		if (hi.moved_port)
			printf("port %d is taken (by another sbxd?): ", HOSTCTL_DEFAULT_PORT);
		printf("sbxd %s at %s (pid %d, state in %s)\n",
		       started ? "started" : "already running", hi.api_host.data, (int)hi.pid,
		       hi.state_dir.data);
	}
	hostctl_info_release(&hi);
	return 0;
}

static int host_status(struct cli *cli)
{
	struct hostctl_info hi = {0};
	int r = hostctl_query(&hi);

	if (r < 0) {
		hostctl_info_release(&hi);
		return cli_fail(cli, NULL, r, "host status");
	}
	if (cli->json)
		print_info_json(&hi, false);
	else if (hi.running) {
		printf("running at %s (pid %d, state in %s)\n", hi.api_host.data, (int)hi.pid,
		       hi.state_dir.data);
	} else {
		printf("not running (state in %s)\n", hi.state_dir.data);
	}
	r = hi.running ? 0 : 3; /* like `systemctl status`: 3 = not running */
	hostctl_info_release(&hi);
	return r;
}

static int host_env(struct cli *cli)
{
	struct hostctl_info hi = {0};
	int r = cli_ensure_host(cli, &hi);

	if (r < 0) {
		hostctl_info_release(&hi);
		return CLI_EXIT_FAIL;
	}
	/* both values are made of URL-safe characters: no quoting needed, but
	 * quote anyway so that eval is safe whatever they hold */
	if (cli->json) {
		json_object *o = json_object_new_object();
		struct sbx_buf b = SBX_BUF_INIT;

		sbx_json_add_str(o, "KOYEB_API_HOST", hi.api_host.data);
		sbx_json_add_str(o, "KOYEB_API_TOKEN", hi.token.data);
		if (o && sbx_json_dump(&b, o) == 0)
			printf("%s\n", b.data);
		sbx_buf_release(&b);
		sbx_json_put(o);
		hostctl_info_release(&hi);
		return 0;
	}
	printf("KOYEB_API_HOST='%s'\nKOYEB_API_TOKEN='%s'\nexport KOYEB_API_HOST KOYEB_API_TOKEN\n",
	       hi.api_host.data, hi.token.data);
	hostctl_info_release(&hi);
	return 0;
}

static int host_stop(struct cli *cli)
{
	int r = hostctl_stop();

	if (r < 0 && r != -ESRCH)
		return cli_fail(cli, NULL, r, "host stop");
	if (cli->json)
		printf("{\"stopped\":%s}\n", r == -ESRCH ? "false" : "true");
	else
		printf(r == -ESRCH ? "sbxd was not running\n" : "sbxd stopped\n");
	return 0;
}

static int host_image(struct cli *cli, int argc, char **argv)
{
	struct sbx_buf sd = SBX_BUF_INIT;
	char *args[8] = {"--state-dir", NULL};
	int i, n = 2, r;

	if (argc < 2)
		return cli_usage_error("host", "image wants add, import, ls or rm");
	if (argc > 5)
		return cli_usage_error("host", "too many arguments");
	if (sbx_state_dir(&sd) < 0)
		return cli_fail(cli, NULL, -ENOENT, "host image");
	args[1] = sd.data;
	for (i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	r = hostctl_run_sbxd(cli->argv0_dir, args);
	sbx_buf_release(&sd);
	return r < 0 ? cli_fail(cli, NULL, r, "host image") : r;
}

static bool is_help(const char *s)
{
	return !strcmp(s, "-h") || !strcmp(s, "--help");
}

int cmd_host(struct cli *cli, int argc, char **argv)
{
	const char *sub;
	int i, n = 0;

	/* options anywhere after the subcommand; `image` passes its own on */
	for (i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return cli_help("host");
		if (!strcmp(argv[i], "--json"))
			cli->json = true;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			cli->quiet = true;
		else
			argv[1 + n++] = argv[i];
	}
	if (!n)
		return cli_usage_error("host", "no subcommand given");
	sub = argv[1];
	if (!strcmp(sub, "image"))
		return host_image(cli, n, argv + 1);
	if (n > 1)
		return cli_usage_error("host", "unexpected '%s'", argv[2]);
	if (!strcmp(sub, "start"))
		return host_start(cli);
	if (!strcmp(sub, "stop"))
		return host_stop(cli);
	if (!strcmp(sub, "status"))
		return host_status(cli);
	if (!strcmp(sub, "env"))
		return host_env(cli);
	return cli_usage_error("host", "unknown subcommand '%s'", sub);
}
