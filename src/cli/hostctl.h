/* hostctl.h - start, stop and query the local host sbxd from the CLI.
 *
 * The CLI finds sbxd beside its own binary, else on $PATH. A started sbxd
 * runs in its own session with its output in STATE/sbxd.log; it is "up" when
 * STATE/sbxd.json names a live pid and its api_host accepts a connection.
 */
#ifndef SBX_CLI_HOSTCTL_H
#define SBX_CLI_HOSTCTL_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/buf.h"

/* The port sbxd listens on by default (src/host/main.c DEFAULT_LISTEN). */
#define HOSTCTL_DEFAULT_PORT 7723

struct hostctl_info {
	bool running;
	bool moved_port; /* hostctl_ensure started it on a free port: the default was taken */
	pid_t pid;
	struct sbx_buf api_host; /* "http://127.0.0.1:7723" */
	struct sbx_buf token;
	struct sbx_buf state_dir;
};

void hostctl_info_release(struct hostctl_info *hi);
/* Fills hi from the state dir; running says whether sbxd is up. 0 or -errno. */
int hostctl_query(struct hostctl_info *hi);
/* Starts sbxd unless it runs; *started tells which. When something else
 * holds the default port (another host with other state, say), the new one
 * listens on a free port and hi->moved_port says so; hi->api_host says
 * where either way. Waits until it listens (at most 10 s). sbxd_dir is where to look for the binary
 * first (may be NULL). 0 or -errno. */
int hostctl_ensure(const char *sbxd_dir, struct hostctl_info *hi, bool *started);
/* Stops a running sbxd (SIGTERM, then waits up to 15 s). 0, -ESRCH if it
 * was not running, -errno. */
int hostctl_stop(void);
/* Runs dir/prog (else prog from $PATH) with argv, waits, and returns its
 * exit status (128+N for a death by signal N) or -errno. */
int hostctl_run(const char *dir, const char *prog, char *const *argv);
/* Runs `sbxd ARGS...` in the foreground and returns its exit status. */
int hostctl_run_sbxd(const char *sbxd_dir, char *const *args);

#endif
