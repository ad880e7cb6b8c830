/* help.c - the usage text of every subcommand, in one table.
 *
 * One text per command serves `sbx CMD --help` (stdout, exit 0), `sbx help
 * CMD` (the same) and a usage error (stderr after the reason, exit 2), so
 * that the three never drift apart.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct usage {
	const char *name;
	const char *text;
};

static const char main_usage[] =
    "usage: sbx [--json] [-q] COMMAND [ARGS]\n"
    "\n"
    "Sandboxes (Koyeb with $KOYEB_API_TOKEN set, else the local host sbxd):\n"
    "  create [--image I] [--name N] ...   create a sandbox, print its id\n"
    "  ls                                  list sandboxes\n"
    "  status SANDBOX                      print the sandbox status word\n"
    "  rm SANDBOX...                       delete sandboxes\n"
    "  exec [-i] [-t] SANDBOX [-w DIR] [-e K=V] -- CMD [ARG]...\n"
    "                                      run a command; exit with its code\n"
    "  exec -d SANDBOX -- CMD [ARG]...     start a background process, print its id\n"
    "  ps SANDBOX                          list its background processes\n"
    "  logs [-f] SANDBOX ID                print (or follow) a process's output\n"
    "  kill SANDBOX ID...                  kill background processes\n"
    "  port SANDBOX PORT                   publish PORT, print where it is reachable\n"
    "  port --unbind SANDBOX               take the published port away\n"
    "  shell SANDBOX                       an interactive shell in the sandbox\n"
    "  cp [-a] SRC DST                     copy files and trees in or out\n"
    "                                      (SANDBOX:/path on one side)\n"
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
    "Other:\n"
    "  help [COMMAND]                      this text, or a command's\n"
    "  version                             print the version (also -V, --version)\n"
    "  completion bash|zsh|fish            print a shell completion script\n"
    "\n"
    "Global options: --json prints data (and errors) as JSON on stdout;\n"
    "-q drops progress notes. SANDBOX is an id or a name. Colour only on a\n"
    "terminal and never with NO_COLOR set. See sbx(1).\n";

static const struct usage usages[] = {
    {"create", "usage: sbx create [--image IMAGE] [--name NAME] [--instance-type TYPE]\n"
	       "                  [--env K=V]... [--region R]... [--port P]... [--no-ports]\n"
	       "                  [--timeout SECONDS] [--no-wait] [--json] [-q]\n"
	       "Creates a sandbox, waits until it is ready (unless --no-wait) and\n"
	       "prints its id (with --json: its description).\n"},
    {"ls", "usage: sbx ls [--json]\n"
	   "Lists the sandboxes: id, name, status, creation time.\n"},
    {"status", "usage: sbx status [--json] SANDBOX\n"
	       "Prints the status word of a sandbox (HEALTHY, STARTING, ...).\n"},
    {"rm", "usage: sbx rm [--json] [-q] SANDBOX...\n"
	   "Deletes sandboxes and waits until each is gone.\n"},
    {"exec", "usage: sbx exec [-i] [-t] SANDBOX [-w DIR] [-e K=V]... [-T SECONDS] [-n]\n"
	     "                -- CMD [ARG]...\n"
	     "       sbx exec -d [--json] SANDBOX [-w DIR] [-e K=V]... -- CMD [ARG]...\n"
	     "       sbx exec [OPTIONS] -- CMD [ARG]...   (inside an sbxfs mount: that\n"
	     "       sandbox, in the directory matching the current one)\n"
	     "  -i, --interactive  keep stdin open (the default unless -n)\n"
	     "  -t, --tty          a terminal in the sandbox; ours in raw mode\n"
	     "  -w DIR             working directory in the sandbox\n"
	     "  -e K=V             environment variable (repeatable)\n"
	     "  -T, --timeout S    kill the command (and all it started) after S seconds\n"
	     "  -n, --no-stdin     do not forward stdin (the command reads EOF)\n"
	     "  -d, --detach       start it as a background process of the sandbox and\n"
	     "                     print its id (see sbx ps, logs, kill); exit 0 once\n"
	     "                     started. --json: {\"id\",\"pid\",\"status\",\"command\"}\n"
	     "Exits with the command's code; 124 on timeout, 255 when the sandbox\n"
	     "could not be reached.\n"},
    {"ps", "usage: sbx ps [--json] SANDBOX\n"
	   "Lists the background processes of a sandbox, running and ended: id, pid,\n"
	   "status (running, completed, failed, killed) and command. Any client's\n"
	   "processes show: the sandbox keeps the list.\n"},
    {"logs", "usage: sbx logs [-f] [-t] [--json] SANDBOX ID\n"
	     "Prints the output a background process has kept (its last lines): its\n"
	     "stdout lines on stdout, then its stderr lines on stderr.\n"
	     "  -f, --follow      then print new lines until the process ends\n"
	     "  -t, --timestamps  start each line with the time it was written\n"
	     "  --json            one {\"stream\",\"timestamp\",\"data\"} object a line\n"},
    {"kill", "usage: sbx kill [--json] SANDBOX ID...\n"
	     "Kills background processes (SIGKILL) and prints each id killed; their\n"
	     "status turns to killed. A process that has ended already is an error.\n"},
    {"port", "usage: sbx port [--json] SANDBOX PORT\n"
	     "       sbx port --unbind [--json] SANDBOX\n"
	     "Publishes PORT of the sandbox: connections to the sandbox's proxy port\n"
	     "reach it. Prints where that is (tcp://HOST:PORT, or an https URL), with\n"
	     "--json {\"port\",\"url\"}. One port at a time: binding another one\n"
	     "fails until --unbind takes the binding away.\n"},
    {"shell", "usage: sbx shell SANDBOX [-w DIR] [-e K=V]... [SHELL]\n"
	      "Runs an interactive shell (default: bash if present, else sh) in the\n"
	      "sandbox on a terminal: the same as sbx exec -it SANDBOX -- SHELL.\n"},
    {"cp", "usage: sbx cp [-a] [-q] [--json] SRC DST\n"
	   "Copies a file or a directory tree between this machine and a sandbox.\n"
	   "Exactly one of SRC and DST is SANDBOX:/path. A directory is copied\n"
	   "recursively, as cp -r does; DST names the copy, or an existing\n"
	   "directory to copy into. The bytes stream through exec (tar); a\n"
	   "progress bar shows on a terminal (not with -q or when piped).\n"
	   "  -a, --archive  keep modes, times and, as root, owners\n"
	   "  -q, --quiet    no progress bar\n"
	   "  --json         print {\"bytes\":N,\"seconds\":S} (or the error) on stdout\n"},
    {"mount", "usage: sbx mount [-f] [-o OPTIONS] SANDBOX[:/remote/dir] DIR\n"
	      "Mounts a sandbox's files at DIR with sbxfs (see sbxfs(1)).\n"
	      "  -f          stay in the foreground\n"
	      "  -o OPTIONS  sbxfs mount options\n"},
    {"umount", "usage: sbx umount [-z] DIR...\n"
	       "Unmounts sbxfs mounts.\n"
	       "  -z, --lazy  detach now, clean up when no longer busy\n"},
    {"up", "usage: sbx up [--name NAME] [--image IMAGE] DIR\n"
	   "Creates a sandbox and mounts it at DIR.\n"},
    {"host", "usage: sbx host start        start the local host sbxd (if not running)\n"
	     "       sbx host stop         stop it (sandbox files are kept; processes end)\n"
	     "       sbx host status       say whether it runs, where, and its pid\n"
	     "       sbx host env          print KOYEB_API_HOST=... and KOYEB_API_TOKEN=...\n"
	     "                             (use: eval \"$(sbx host env)\")\n"
	     "       sbx host image add NAME ROOTFS_DIR | image import NAME FILE.tar\n"
	     "       sbx host image ls | image rm NAME\n"
	     "The state lives in $SBX_STATE_DIR (default $XDG_STATE_HOME/sbx or\n"
	     "~/.local/state/sbx). A host with its own state directory takes a\n"
	     "free port when the default one (7723) is taken, and says which.\n"},
    {"help", "usage: sbx help [COMMAND]\n"},
    {"version", "usage: sbx version [--json]\n"},
    {"completion", "usage: sbx completion bash|zsh|fish\n"
		   "Prints a completion script. For example:\n"
		   "  source <(sbx completion bash)\n"
		   "  sbx completion fish > ~/.config/fish/completions/sbx.fish\n"},
};

/* The canonical name of an alias. */
static const char *canonical(const char *cmd)
{
	if (!strcmp(cmd, "list"))
		return "ls";
	if (!strcmp(cmd, "delete"))
		return "rm";
	return cmd;
}

static const char *usage_of(const char *cmd)
{
	size_t i;

	if (!cmd)
		return main_usage;
	cmd = canonical(cmd);
	for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (!strcmp(usages[i].name, cmd))
			return usages[i].text;
	return NULL;
}

int cli_help(const char *cmd)
{
	const char *u = usage_of(cmd);

	if (!u)
		return -ENOENT;
	fputs(u, stdout);
	return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	const char *u = usage_of(cmd);
	va_list ap;

	if (fmt) {
		fprintf(stderr, "sbx%s%s: ", cmd ? " " : "", cmd ? cmd : "");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (u)
		fputs(u, stderr);
	return CLI_EXIT_USAGE;
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc > 2)
		return cli_usage_error("help", "one command at a time");
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cli_help("help"), 0;
	if (cli_help(argc == 2 ? argv[1] : NULL) < 0)
		return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	return 0;
}

int cli_bad_option(const char *cmd, char **argv)
{
	const char *w = optind > 0 ? argv[optind - 1] : "?";

	if (optopt && strchr(":?", optopt) == NULL && w[0] == '-' && w[1] != '-')
		return cli_usage_error(cmd, "bad option or missing argument: -%c", optopt);
	return cli_usage_error(cmd, "bad option or missing argument: '%s'", w);
}
