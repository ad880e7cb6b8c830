/* main.c - sbx: the command line of sbx, and mount.sbxfs (later).
 *
 * Dispatches to one function per subcommand (cli.h). Global options: --json
 * for machine-readable output, -q for no progress notes.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: sbx [--json] [-q] COMMAND [ARGS]\n"
    "\n"
    "Sandboxes (Koyeb with $KOYEB_API_TOKEN set, else the local host sbxd):\n"
    "  create [--image I] [--name N] [--instance-type T] [--env K=V] [--region R]\n"
    "         [--port P] [--no-wait]       create a sandbox, print its id\n"
    "  ls                                  list sandboxes\n"
    "  status SANDBOX                      print the sandbox status word\n"
    "  rm SANDBOX...                       delete sandboxes\n"
    "  exec SANDBOX [-w DIR] [-e K=V] [-t SECONDS] [-n] -- CMD [ARG]...\n"
    "                                      run a command; exit with its code\n"
    "Mounts (FUSE, with sbxfs):\n"
    "  up DIR                              create a sandbox and mount it at DIR\n"
    "  mount SANDBOX[:/dir] DIR [-o OPTS]  mount a sandbox (also: mount -t sbxfs)\n"
    "  umount DIR                          unmount it\n"
    "  Inside a mount, `sbx exec -- CMD` runs CMD in the sandbox, in the\n"
    "  directory that matches the local one.\n"
    "The local host:\n"
    "  host start|stop|status|env          manage sbxd; `eval \"$(sbx host env)\"`\n"
    "                                      points any Koyeb client at it\n"
    "  host image add NAME DIR|ls|rm NAME  register a directory rootfs as an image\n"
    "\n"
    "SANDBOX is an id or a name. sbx --version prints the version.\n";

struct command {
	const char *name;
	int (*fn)(struct cli *, int, char **);
};

static const struct command commands[] = {
    {"create", cmd_create}, {"ls", cmd_ls},	    {"list", cmd_ls},	{"status", cmd_status},
    {"rm", cmd_rm},	    {"delete", cmd_rm},	    {"exec", cmd_exec}, {"host", cmd_host},
    {"mount", cmd_mount},   {"umount", cmd_umount}, {"up", cmd_up},
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

int main(int argc, char **argv)
{
	struct cli cli = {0};
	char *base = strrchr(argv[0], '/');
	size_t i;
	int rc = CLI_EXIT_USAGE;

	if (!strcmp(base ? base + 1 : argv[0], "mount.sbxfs")) {
		cli.argv0_dir = self_dir();
		rc = cmd_mount_helper(&cli, argc, argv);
		goto out;
	}

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--json")) {
			cli.json = true;
		} else if (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet")) {
			cli.quiet = true;
		} else if (!strcmp(argv[1], "--version")) {
			printf("sbx %s\n", SBX_VERSION);
			return 0;
		} else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "sbx: unknown option '%s'\n%s", argv[1], usage);
			return CLI_EXIT_USAGE;
		}
		argv++;
		argc--;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	cli.argv0_dir = self_dir();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			rc = commands[i].fn(&cli, argc - 1, argv + 1);
			goto out;
		}
	}
	fprintf(stderr, "sbx: unknown command '%s'\n%s", argv[1], usage);
out:
	sbx_client_free(cli.client);
	free(cli.argv0_dir);
	return rc;
}
