/* cmd_exec.c - sbx exec: run a command in a sandbox like ssh runs one on a host.
 *
 * stdout and stderr of the remote command go to our own as they arrive; our
 * stdin is forwarded (unless -n) with backpressure; Ctrl-C, SIGTERM and
 * SIGHUP cancel the exec, which kills the remote command and everything it
 * started. The exit status is the command's; 124 on timeout (like
 * timeout(1)); 255 when the sandbox could not be reached (like ssh).
 *
 * Threads: the main thread reads stdin and signals (signalfd) and waits for
 * the done event; the libsbx transport thread calls on_stdout/on_stderr/on_done.
 */
#include "cli/cli.h"
#include "cli/mounts.h"
#include "util/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define MAX_ENV		 256
#define STDIN_CHUNK	 (64 * 1024)
#define STDIN_HIGH_WATER (4u << 20) /* stop reading stdin past this much unsent */
#define STDIN_LOW_WATER	 (1u << 20) /* and read again once it fell to this */

struct exec_ctx {
	int done_fd;		    /* eventfd, signalled by on_done */
	int room_fd;		    /* eventfd, signalled when unsent stdin fell low */
	struct sbx_exec_result res; /* copied in on_done, read after done_fd fired */
	struct sbx_exec *exec;
	int out_broken;	    /* set on the transport thread when stdout is gone */
	bool got_output;    /* set on the transport thread, read after done_fd fired */
	size_t stdin_bytes; /* read from our stdin (main thread) */
};

static void on_stdout(void *ud, const char *data, size_t n)
{
	struct exec_ctx *x = ud;

	x->got_output = true;
	if (!x->out_broken && sbx_write_all(1, data, n) < 0) {
		x->out_broken = 1;
		sbx_exec_cancel(x->exec);
	}
}

static void on_stderr(void *ud, const char *data, size_t n)
{
	struct exec_ctx *x = ud;

	x->got_output = true;
	sbx_write_all(2, data, n);
}

static void on_stdin_sent(void *ud, size_t pending)
{
	struct exec_ctx *x = ud;

	if (pending <= STDIN_LOW_WATER)
		cli_wake(x->room_fd);
}

static void on_done(void *ud, const struct sbx_exec_result *r)
{
	struct exec_ctx *x = ud;

	cli_keep_result(&x->res, r);
	cli_wake(x->done_fd);
}

struct exec_args {
	const char *id;
	int id_idx;				  /* index of id in argv, or 0 */
	struct sbx_buf mnt_id, mnt_cwd, mnt_path; /* from the mount we run in */
	bool via_mount; /* running in the mounted sandbox: refresh its caches after */
	struct sbx_exec_opts o;
	const char *env[MAX_ENV];
	bool tty;	    /* -t: a terminal in the sandbox */
	bool detach;	    /* -d: a background process of the executor */
	bool json;	    /* --json (with -d: the process as JSON) */
	char term_env[128]; /* "TERM=..." passed on with -t */
};

static int parse_args(int argc, char **argv, struct exec_args *a)
{
	static const struct option longopts[] = {
	    {"workdir", required_argument, NULL, 'w'}, {"env", required_argument, NULL, 'e'},
	    {"timeout", required_argument, NULL, 'T'}, {"no-stdin", no_argument, NULL, 'n'},
	    {"interactive", no_argument, NULL, 'i'},   {"tty", no_argument, NULL, 't'},
	    {"detach", no_argument, NULL, 'd'},	       {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	a->o.stdin_open = true;
	optind = 0; /* a full restart: sbx shell ran getopt before us */
	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, "+w:e:T:nitdh", longopts, NULL);
		if (ch == -1) {
			/* a non-option before "--" is the sandbox */
			if (optind < argc && !a->id && strcmp(argv[optind - 1], "--") != 0 &&
			    argv[optind][0] != '-') {
				a->id_idx = optind;
				a->id = argv[optind++];
				continue;
			}
			break;
		}
		switch (ch) {
		case 'w': a->o.cwd = optarg; break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=' || a->o.n_env >= MAX_ENV)
				return cli_usage_error("exec", "bad -e '%s' (want KEY=VALUE)",
						       optarg);
			a->env[a->o.n_env++] = optarg;
			break;
		case 'T':
			a->o.timeout_s = strtod(optarg, &end);
			if (end == optarg || *end || !(a->o.timeout_s > 0) || a->o.timeout_s > 1e7)
				return cli_usage_error("exec", "bad --timeout '%s'", optarg);
			break;
		case 'n': a->o.stdin_open = false; break;
		case 'i': a->o.stdin_open = true; break;
		case 't': a->tty = true; break;
		case 'd': a->detach = true; break;
		case 'j': a->json = true; break;
		case 'h': cli_help("exec"); return 0;
		default: return cli_bad_option("exec", argv);
		}
	}
	if (a->detach && (a->tty || a->o.timeout_s > 0))
		return cli_usage_error("exec", "-d runs in the background: no -t, no --timeout");
	a->o.env = a->env;
	a->o.argv = (const char *const *)argv + optind;
	a->o.argc = (size_t)(argc - optind);
	return 1;
}

/* When the working directory is inside an sbxfs mount, fills mnt_id with
 * the mounted sandbox and mnt_cwd with the sandbox directory that matches
 * the local one. 0, -ENOENT when not in a mount, -errno. */
static int mount_context(struct exec_args *a)
{
	struct sbx_buf mnt = SBX_BUF_INIT, src = SBX_BUF_INIT;
	char *cwd = getcwd(NULL, 0), *colon;
	const char *rel, *dir;
	int r;

	if (!cwd)
		return -errno;
	r = mounts_find(NULL, cwd, &mnt, &src);
	if (r < 0)
		goto out;
	colon = strchr(src.data, ':');
	dir = colon ? colon + 1 : "/";
	if (colon)
		*colon = '\0';
	rel = cwd + (strcmp(mnt.data, "/") ? mnt.len : 0);
	r = sbx_buf_puts(&a->mnt_id, src.data);
	if (r == 0)
		r = sbx_buf_puts(&a->mnt_path, mnt.data);
	if (r == 0)
		r = sbx_buf_puts(&a->mnt_cwd, *dir ? dir : "/");
	/* join dir and rel with exactly one slash */
	while (r == 0 && a->mnt_cwd.len > 1 && a->mnt_cwd.data[a->mnt_cwd.len - 1] == '/')
		a->mnt_cwd.data[--a->mnt_cwd.len] = '\0';
	if (r == 0 && *rel)
		r = sbx_buf_puts(&a->mnt_cwd, a->mnt_cwd.len == 1 ? rel + 1 : rel);
	if (r == 0 && a->mnt_cwd.len == 0)
		r = sbx_buf_puts(&a->mnt_cwd, "/");
out:
	free(cwd);
	sbx_buf_release(&mnt);
	sbx_buf_release(&src);
	return r;
}

/* Decides the sandbox and directory: an explicit SANDBOX, or the mounted
 * one when run inside a mount (then a lone word is the command). */
static int resolve_target(struct exec_args *a, char **argv)
{
	bool in_mount = mount_context(a) == 0;

	if (a->id && a->o.argc == 0 && in_mount) {
		/* `sbx exec make`: inside a mount, the word is the command */
		a->o.argv = (const char *const *)argv + a->id_idx;
		a->o.argc = 1;
		a->id = NULL;
	}
	if (a->o.argc == 0)
		return -cli_usage_error("exec", "no command given");
	if (!a->id) {
		if (!in_mount)
			return -cli_usage_error("exec", "no SANDBOX given and %s",
						"the current directory is not in an sbxfs mount");
		a->id = a->mnt_id.data;
	}
	a->via_mount = in_mount && !strcmp(a->id, a->mnt_id.data);
	if (a->via_mount && !a->o.cwd)
		a->o.cwd = a->mnt_cwd.data;
	return 0;
}

/* The command ran beside the mount, not through its /.ctl: tell the driver
 * to drop its caches so that the mount shows what the command changed (the
 * consistency contract of design.md). Best effort: a failure only means the
 * mount may show old attributes until its cache timeout. */
static void refresh_mount(const struct exec_args *a)
{
	struct sbx_buf p = SBX_BUF_INIT;
	int fd;

	if (!a->via_mount || sbx_buf_printf(&p, "%s/.ctl/ctl", a->mnt_path.data) < 0)
		goto out;
	fd = open(p.data, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		sbx_write_all(fd, "drop-caches\n", 12);
		close(fd);
	}
out:
	sbx_buf_release(&p);
}

/* -t: our terminal in raw mode while the remote one runs, so that every
 * key (Ctrl-C too) goes to the sandbox as typed. */
struct rawmode {
	bool on;
	struct termios saved;
};

static void raw_enter(struct rawmode *rm)
{
	struct termios t;

	if (!isatty(0) || tcgetattr(0, &rm->saved) < 0)
		return;
	t = rm->saved;
	cfmakeraw(&t);
	if (tcsetattr(0, TCSADRAIN, &t) == 0)
		rm->on = true;
}

static void raw_leave(struct rawmode *rm)
{
	if (rm->on)
		tcsetattr(0, TCSADRAIN, &rm->saved);
	rm->on = false;
}

/* With -t, the sandbox's terminal is described as ours (as ssh and docker
 * do), unless -e TERM=... said otherwise. */
static void add_term(struct exec_args *a)
{
	const char *term = getenv("TERM");
	size_t i;
	int n;

	if (!term || !*term || a->o.n_env >= MAX_ENV)
		return;
	for (i = 0; i < a->o.n_env; i++)
		if (!strncmp(a->env[i], "TERM=", 5))
			return;
	n = snprintf(a->term_env, sizeof(a->term_env), "TERM=%s", term);
	if (n < 0 || (size_t)n >= sizeof(a->term_env))
		return; /* no terminal type is that long */
	a->env[a->o.n_env++] = a->term_env;
}

/* The size of our terminal (stdin's, else stdout's); false if neither is. */
static bool term_size(unsigned short *rows, unsigned short *cols)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) < 0 && ioctl(1, TIOCGWINSZ, &ws) < 0)
		return false;
	if (!ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

/* Forwards one chunk of stdin; returns 1 at EOF, 0 otherwise, <0 on error. */
static int pump_stdin(struct exec_ctx *x)
{
	char buf[STDIN_CHUNK];
	ssize_t n = read(0, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		sbx_exec_close_stdin(x->exec);
		return 1;
	}
	x->stdin_bytes += (size_t)n;
	return sbx_exec_write_stdin(x->exec, buf, (size_t)n) < 0 ? 1 : 0;
}

/* Waits for the exec to end, forwarding stdin and turning signals into a
 * cancel. Returns the signal that cancelled it, or 0. */
static int wait_loop(struct exec_ctx *x, int sigfd, bool stdin_open)
{
	bool in_open = stdin_open;
	int cancelled_by = 0;

	for (;;) {
		/* past the high water mark, wait for room instead of reading stdin */
		bool full = in_open && sbx_exec_stdin_pending(x->exec) > STDIN_HIGH_WATER;
		struct pollfd p[3] = {{x->done_fd, POLLIN, 0},
				      {sigfd, POLLIN, 0},
				      {full ? x->room_fd : 0, POLLIN, 0}};
		nfds_t np = in_open ? 3 : 2;
		uint64_t v;

		if (poll(p, np, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents) {
			struct signalfd_siginfo si;
			unsigned short rows, cols;

			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGWINCH) {
				if (term_size(&rows, &cols))
					sbx_exec_resize(x->exec, rows, cols);
			} else if (!cancelled_by) {
				cancelled_by = (int)si.ssi_signo;
				sbx_exec_cancel(x->exec);
			}
		}
		if (np == 3 && full && p[2].revents) {
			if (read(x->room_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				break;
		} else if (np == 3 && p[2].revents) {
			int pr = pump_stdin(x);
			if (pr < 0) /* unreadable stdin: the command gets EOF */
				sbx_exec_close_stdin(x->exec);
			if (pr != 0)
				in_open = false;
		}
	}
	return cancelled_by;
}

/* Starts the exec on sb and waits for its end. Returns the signal that
 * cancelled it, 0, or -1 when it could not start (reported). */
static int start_and_wait(struct cli *cli, const struct exec_args *a, struct exec_ctx *x,
			  const struct sbx_exec_cbs *cbs, struct sbx_sandbox *sb, int sigfd)
{
	struct sbx_err err = {0};
	int r;

	r = sbx_exec_start(sb, &a->o, cbs, x, &x->exec, &err);
	if (r < 0) {
		cli_fail(cli, &err, r, "exec");
		return -1;
	}
	return wait_loop(x, sigfd, a->o.stdin_open);
}

/* Ids from the id cache are trusted until the exec says the instance is
 * gone or not running. When it said so before the command started (no
 * output, none of our stdin consumed), forgets them and opens the sandbox
 * through the API for a second try. 1: try again with *sb; 0: the result
 * stands; -1: the sandbox could not be opened (reported). */
static int reopen_if_stale(struct cli *cli, const struct exec_args *a, struct exec_ctx *x,
			   struct sbx_sandbox **sb)
{
	int e = x->res.error;
	uint64_t v;

	if (!sbx_sandbox_from_cache(*sb) || (e != -SBX_ENOTFOUND && e != -SBX_ENOTHEALTHY) ||
	    x->got_output || x->stdin_bytes || read(x->done_fd, &v, sizeof(v)) < 0)
		return 0;
	sbx_sandbox_uncache(*sb);
	sbx_sandbox_free(*sb);
	*sb = NULL;
	sbx_exec_unref(x->exec);
	x->exec = NULL;
	memset(&x->res, 0, sizeof(x->res));
	return cli_open_ids(cli, a->id, sb) < 0 ? -1 : 1;
}

static int exit_status(const struct exec_ctx *x, int cancelled_by)
{
	const struct sbx_exec_result *r = &x->res;

	if (cancelled_by)
		return 128 + cancelled_by;
	if (r->status == SBX_EXEC_TIMEOUT) {
		fprintf(stderr, "sbx: exec: timed out; the command was killed\n");
		return CLI_EXIT_TIMEOUT;
	}
	if (r->error) {
		fprintf(stderr, "sbx: exec: %s\n",
			r->message[0] ? r->message : strerror(-r->error));
		return CLI_EXIT_TRANSPORT;
	}
	if (r->exit_code < 0 || r->exit_code > 255)
		return CLI_EXIT_TRANSPORT;
	return r->exit_code;
}

/* -d: the command becomes a background process of the sandbox's executor
 * (stdin empty); prints its id. */
static int exec_detached(struct cli *cli, const struct exec_args *a)
{
	struct sbx_proc_opts po = {.argv = a->o.argv,
				   .argc = a->o.argc,
				   .cwd = a->o.cwd,
				   .env = a->o.env,
				   .n_env = a->o.n_env};

	return cli_proc_start(cli, a->id, &po);
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	struct sbx_exec_cbs cbs = {.on_stdout = on_stdout,
				   .on_stderr = on_stderr,
				   .on_done = on_done,
				   .on_stdin_sent = on_stdin_sent};
	struct exec_args a = {0};
	struct exec_ctx x = {.done_fd = -1, .room_fd = -1};
	struct rawmode rm = {0};
	struct sbx_sandbox *sb = NULL;
	sigset_t mask;
	int sigfd = -1, rc = CLI_EXIT_FAIL, r;

	r = parse_args(argc, argv, &a);
	if (r != 1) {
		rc = r;
		goto out;
	}
	if (resolve_target(&a, argv) < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	cli->json = cli->json || a.json;
	if (a.detach) {
		rc = exec_detached(cli, &a);
		goto out;
	}
	/* block before any thread exists so that the transport thread inherits it */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (a.tty)
		sigaddset(&mask, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	x.done_fd = eventfd(0, EFD_CLOEXEC);
	x.room_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sigfd < 0 || x.done_fd < 0 || x.room_fd < 0) {
		perror("sbx: exec");
		goto out;
	}
	if (cli_open_ids(cli, a.id, &sb) < 0) {
		rc = CLI_EXIT_TRANSPORT;
		goto out;
	}
	cli_sync_mounts(cli, sb, a.id);
	if (a.tty) {
		add_term(&a);
		a.o.tty = true;
		a.o.stdin_open = true;
		term_size(&a.o.tty_rows, &a.o.tty_cols);
		raw_enter(&rm);
	}
	r = start_and_wait(cli, &a, &x, &cbs, sb, sigfd);
	if (r == 0) {
		r = reopen_if_stale(cli, &a, &x, &sb);
		r = r > 0 ? start_and_wait(cli, &a, &x, &cbs, sb, sigfd) : r;
	}
	raw_leave(&rm);
	if (r < 0) {
		rc = CLI_EXIT_TRANSPORT;
		goto out;
	}
	rc = exit_status(&x, r);
	refresh_mount(&a);
out:
	sbx_exec_unref(x.exec);
	sbx_sandbox_free(sb);
	if (sigfd >= 0)
		close(sigfd);
	if (x.done_fd >= 0)
		close(x.done_fd);
	if (x.room_fd >= 0)
		close(x.room_fd);
	sbx_buf_release(&a.mnt_id);
	sbx_buf_release(&a.mnt_cwd);
	sbx_buf_release(&a.mnt_path);
	return rc;
}
