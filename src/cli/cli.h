/* cli.h - shared pieces of the sbx command line.
 *
 * Every subcommand is a function `int cmd_x(struct cli *cli, int argc, char
 * **argv)` returning the process exit status. Errors are reported once, here
 * at the boundary, on stderr as "sbx: <what>: <why>".
 */
#ifndef SBX_CLI_CLI_H
#define SBX_CLI_CLI_H

#include <stdbool.h>

#include "sbx/proc.h"
#include "sbx/sbx.h"

/* Exit statuses of sbx itself (a command run by `sbx exec` passes its own). */
#define CLI_EXIT_USAGE	   2
#define CLI_EXIT_FAIL	   1
#define CLI_EXIT_TRANSPORT 255 /* like ssh: the remote side could not be reached */
#define CLI_EXIT_TIMEOUT   124 /* like timeout(1) */

struct cli {
	bool json;		   /* --json: machine-readable output */
	bool quiet;		   /* -q: no progress notes on stderr */
	struct sbx_client *client; /* opened on first use by cli_client() */
	bool local;		   /* talking to the embedded sbxd */
	char *argv0_dir;	   /* directory of the sbx binary (to find sbxd) */
};

/* Opens the client on first use: with $KOYEB_API_TOKEN, Koyeb (or
 * $KOYEB_API_HOST); else the local sbxd, started on demand (said once on
 * stderr). Returns 0 or a negative errno after printing why. */
int cli_client(struct cli *cli, struct sbx_client **ret);
struct hostctl_info;
/* Makes sure the local host sbxd runs (starting it if needed) and fills hi;
 * says on stderr, once, that it was started, or why it could not be.
 * 0 or a negative errno. The caller releases hi. */
int cli_ensure_host(struct cli *cli, struct hostctl_info *hi);
/* Reports a failure once: "sbx: <ctx>: <message or strerror>" on stderr,
 * or with --json one object {"error":{"context","message","class","errno"}}
 * on stdout. err may be NULL. Returns CLI_EXIT_FAIL. */
int cli_fail(const struct cli *cli, const struct sbx_err *err, int rc, const char *ctx);
/* The same with a formatted message and no errno. */
int cli_failf(const struct cli *cli, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints the usage of cmd (NULL: of sbx) on stdout. 0, -ENOENT if unknown. */
int cli_help(const char *cmd);
/* Prints "sbx CMD: <why>" (when fmt is not NULL) and the usage of cmd on
 * stderr. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt returned '?': says which option was bad, then the usage,
 * on stderr (getopt's own message is off: opterr = 0). CLI_EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv);
/* true when colour may be used on fd: a terminal, TERM not "dumb", and
 * NO_COLOR unset or empty (https://no-color.org). */
bool cli_color(int fd);
/* Prints a progress note on stderr unless quiet. */
void cli_note(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define CLI_NAME_MAX 32
/* A fresh name "sandbox-XXXXXX" (6 random hex digits) in buf, returned. The
 * SDK's default "quick-sandbox" would make every unnamed sandbox share one
 * name, and names are how people find sandboxes again. */
const char *cli_default_name(char buf[CLI_NAME_MAX]);
/* Opens a sandbox by id or name with only the ids exec needs, through the
 * id cache of the state directory (sbx_sandbox_open_ids; SBX_NO_ID_CACHE=1
 * turns it off); prints the error. */
int cli_open_ids(struct cli *cli, const char *id, struct sbx_sandbox **ret);
/* Opens a sandbox by id or name; prints the error. */
int cli_open_sandbox(struct cli *cli, const char *id, struct sbx_sandbox **ret);
/* Before a command acts in sandbox sb (opened by arg): every sbxfs mount
 * of it here stores what closes left queued, so the command sees every
 * write made through a mount (mounts.h). A failure is a warning: the
 * mount keeps the data and says which file in its log. Skipped when
 * $SBX_NO_MOUNT_SYNC is set (not "0"). */
void cli_sync_mounts(struct cli *cli, struct sbx_sandbox *sb, const char *arg);
/* sbx exec -d: starts a background process in SANDBOX and prints its id
 * (with --json, the process). Returns the exit status. */
int cli_proc_start(struct cli *cli, const char *sandbox, const struct sbx_proc_opts *o);
/* Wakes the thread polling eventfd fd (from an exec callback). */
void cli_wake(int fd);
/* Keeps the end of an exec (its status; the output was streamed). */
void cli_keep_result(struct sbx_exec_result *dst, const struct sbx_exec_result *r);

int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_host(struct cli *cli, int argc, char **argv);
int cmd_mount(struct cli *cli, int argc, char **argv);
int cmd_umount(struct cli *cli, int argc, char **argv);
int cmd_up(struct cli *cli, int argc, char **argv);
int cmd_shell(struct cli *cli, int argc, char **argv);
int cmd_cp(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_port(struct cli *cli, int argc, char **argv);
int cmd_help(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_completion(struct cli *cli, int argc, char **argv);
/* mount.sbxfs SPEC DIR [-sfnv] [-o OPTS], as mount(8) calls it */
int cmd_mount_helper(struct cli *cli, int argc, char **argv);

#endif
