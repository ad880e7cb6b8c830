/* main.c - sbx: the command line of sbx, and mount.sbxfs.
 *
 * Dispatches to one function per subcommand (cli.h). Global options: --json
 * for machine-readable output, -q for no progress notes. Conventions every
 * subcommand keeps: -h/--help prints its usage on stdout and exits 0; a
 * usage error prints the reason and the usage on stderr and exits 2.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/json.h"

struct command {
	const char *name;
	int (*fn)(struct cli *, int, char **);
};

static const struct command commands[] = {
    {"create", cmd_create},   {"ls", cmd_ls},
    {"list", cmd_ls},	      {"status", cmd_status},
    {"rm", cmd_rm},	      {"delete", cmd_rm},
    {"exec", cmd_exec},	      {"shell", cmd_shell},
    {"cp", cmd_cp},	      {"host", cmd_host},
    {"mount", cmd_mount},     {"umount", cmd_umount},
    {"up", cmd_up},	      {"ps", cmd_ps},
    {"logs", cmd_logs},	      {"kill", cmd_kill},
    {"port", cmd_port},	      {"help", cmd_help},
    {"version", cmd_version}, {"completion", cmd_completion},
};

static char *self_dir(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(dirname(buf));
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return cli_help("version");
		if (!strcmp(argv[i], "--json"))
			cli->json = true;
		else
			return cli_usage_error("version", "unexpected '%s'", argv[i]);
	}
	if (cli->json)
		printf("{\"version\":\"%s\"}\n", SBX_VERSION);
	else
		printf("sbx %s\n", SBX_VERSION);
	return 0;
}

/* Global options before the command; returns how many argv words they
 * took, or -1 after handling an option that ends the run (*rc set). */
static int global_opts(struct cli *cli, int argc, char **argv, int *rc)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			cli->json = true;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			cli->quiet = true;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			*rc = cmd_version(cli, 1, argv);
			return -1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			*rc = cli_help(NULL);
			return -1;
		} else {
			*rc = cli_usage_error(NULL, "unknown option '%s'", argv[i]);
			return -1;
		}
	}
	return i - 1;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	char *base = strrchr(argv[0], '/');
	size_t i;
	int rc = CLI_EXIT_USAGE, n;

	if (!strcmp(base ? base + 1 : argv[0], "mount.sbxfs")) {
		cli.argv0_dir = self_dir();
		rc = cmd_mount_helper(&cli, argc, argv);
		goto out;
	}
	n = global_opts(&cli, argc, argv, &rc);
	if (n < 0)
		goto out;
	argc -= n;
	argv += n;
	if (argc < 2) {
		rc = cli_usage_error(NULL, NULL);
		goto out;
	}
	cli.argv0_dir = self_dir();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			rc = commands[i].fn(&cli, argc - 1, argv + 1);
			goto out;
		}
	}
	rc = cli_usage_error(NULL, "unknown command '%s'", argv[1]);
out:
	sbx_client_free(cli.client);
	free(cli.argv0_dir);
	return rc;
}
