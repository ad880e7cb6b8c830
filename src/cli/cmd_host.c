/* cmd_host.c - sbx host start|stop|status|env|image: the local host sbxd. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "cli/hostctl.h"
#include "util/json.h"
#include "util/statedir.h"

static const char host_usage[] =
    "usage: sbx host start        start the local host sbxd (if not running)\n"
    "       sbx host stop         stop it (sandbox files are kept; processes end)\n"
    "       sbx host status       say whether it runs, where, and its pid\n"
    "       sbx host env          print KOYEB_API_HOST=… and KOYEB_API_TOKEN=… lines\n"
    "                             (use: eval \"$(sbx host env)\")\n"
    "       sbx host image add NAME ROOTFS_DIR | image import NAME FILE.tar\n"
    "       sbx host image ls | image rm NAME\n";

static int host_start(struct cli *cli)
{
	struct hostctl_info hi = {0};
	bool started = false;
	int r;

	r = hostctl_ensure(cli->argv0_dir, &hi, &started);
	if (r < 0) {
		if (r == -ECHILD)
			fprintf(stderr, "sbx: sbxd did not start; see %s/sbxd.log\n",
				hi.state_dir.data ? hi.state_dir.data : "the state dir");
		else
			fprintf(stderr, "sbx: cannot start sbxd: %s\n", strerror(-r));
		hostctl_info_release(&hi);
		return CLI_EXIT_FAIL;
	}
	printf("sbxd %s at %s (pid %d, state in %s)\n", started ? "started" : "already running",
	       hi.api_host.data, (int)hi.pid, hi.state_dir.data);
	hostctl_info_release(&hi);
	return 0;
}

static int host_status(struct cli *cli)
{
	struct hostctl_info hi = {0};
	int r = hostctl_query(&hi);

	if (r < 0) {
		hostctl_info_release(&hi);
		return cli_fail(NULL, r, "host status");
	}
	if (cli->json) {
		json_object *o = json_object_new_object();
		struct sbx_buf b = SBX_BUF_INIT;
		sbx_json_add_bool(o, "running", hi.running);
		sbx_json_add_int(o, "pid", hi.running ? hi.pid : 0);
		sbx_json_add_str(o, "api_host", hi.running ? hi.api_host.data : "");
		sbx_json_add_str(o, "state_dir", hi.state_dir.data);
		if (sbx_json_dump(&b, o) == 0)
			printf("%s\n", b.data);
		sbx_buf_release(&b);
		sbx_json_put(o);
	} else if (hi.running) {
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
	printf("KOYEB_API_HOST='%s'\nKOYEB_API_TOKEN='%s'\nexport KOYEB_API_HOST KOYEB_API_TOKEN\n",
	       hi.api_host.data, hi.token.data);
	hostctl_info_release(&hi);
	return 0;
}

int cmd_host(struct cli *cli, int argc, char **argv)
{
	int i, r;

	for (i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--json"))
			cli->json = true;
	if (argc < 2) {
		fputs(host_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "start"))
		return host_start(cli);
	if (!strcmp(argv[1], "stop")) {
		r = hostctl_stop();
		if (r == -ESRCH) {
			printf("sbxd was not running\n");
			return 0;
		}
		if (r < 0)
			return cli_fail(NULL, r, "host stop");
		printf("sbxd stopped\n");
		return 0;
	}
	if (!strcmp(argv[1], "status"))
		return host_status(cli);
	if (!strcmp(argv[1], "env"))
		return host_env(cli);
	if (!strcmp(argv[1], "image")) {
		struct sbx_buf sd = SBX_BUF_INIT;
		char *args[8] = {"--state-dir", NULL};
		int n = 2;

		if (sbx_state_dir(&sd) < 0)
			return cli_fail(NULL, -ENOENT, "host image");
		args[1] = sd.data;
		for (i = 1; i < argc && n < 7; i++)
			args[n++] = argv[i];
		args[n] = NULL;
		r = hostctl_run_sbxd(cli->argv0_dir, args);
		sbx_buf_release(&sd);
		return r < 0 ? cli_fail(NULL, r, "host image") : r;
	}
	fputs(host_usage, stderr);
	return CLI_EXIT_USAGE;
}
