/* cmd_shell.c - sbx shell SANDBOX [SHELL]: an interactive shell on a
 * terminal in the sandbox; `sbx exec -it SANDBOX -- SHELL` under another
 * name, with bash when the image has it and sh otherwise. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define SHELL_ARGS_MAX 64

/* Picks bash when present: the command line is run by sh -c, so the choice
 * is made in the sandbox, with no extra round trip. */
static const char default_shell[] =
    "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";

int cmd_shell(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"workdir", required_argument, NULL, 'w'},
	    {"env", required_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *args[SHELL_ARGS_MAX + 8];
	int n = 0, ch;

	args[n++] = "exec";
	args[n++] = "-it";
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+w:e:h", longopts, NULL)) != -1) {
		if (n >= SHELL_ARGS_MAX)
			return cli_usage_error("shell", "too many options");
		switch (ch) {
		case 'w':
			args[n++] = "-w";
			args[n++] = optarg;
			break;
		case 'e':
			args[n++] = "-e";
			args[n++] = optarg;
			break;
		case 'h': return cli_help("shell");
		default: return cli_bad_option("shell", argv);
		}
	}
	if (optind == argc)
		return cli_usage_error("shell", "no SANDBOX given");
	if (argc - optind > 2)
		return cli_usage_error("shell", "unexpected '%s'", argv[optind + 2]);
	args[n++] = argv[optind];
	args[n++] = "--";
	if (argc - optind == 2) {
		args[n++] = argv[optind + 1];
	} else {
		args[n++] = "sh";
		args[n++] = "-c";
		args[n++] = (char *)default_shell;
	}
	args[n] = NULL;
	return cmd_exec(cli, n, args);
}
