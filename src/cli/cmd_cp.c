/* cmd_cp.c - sbx cp [-a] SRC DST: files and trees in and out of a sandbox.
 *
 * A tar stream over one exec, never the whole file in memory: going in, a
 * local `tar -c` feeds the command's stdin through a bounded window (the
 * main thread waits for on_stdin_sent, not a timer); coming out, the
 * command's stdout goes straight into a local `tar -x` as it arrives.
 *
 * Naming follows cp -r: when DST is an existing directory the copy goes
 * into it under SRC's name; otherwise the copy is named DST. For the second
 * case the tree is unpacked in a fresh directory beside DST and renamed into
 * place, so that no tar feature beyond -c/-x/-C is needed on either side
 * (busybox does). Paths travel as exec arguments, never through a shell
 * line, so spaces, newlines and quotes need nothing; a relative path that
 * starts with '-' gets "./" in front so that no tool takes it for an option.
 *
 * Threads: the main thread runs the local tar and the stdin window; the
 * libsbx transport thread calls on_stdout/on_stderr/on_stdin_sent/on_done.
 * The progress bar is drawn by whichever side counts the bytes (main
 * thread going in, transport thread coming out), never both.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/hostctl.h"
#include "cli/progress.h"
#include "util/statedir.h"

extern char **environ;

#define CHUNK	    (64 * 1024)
#define HIGH_WATER  (4u << 20) /* stdin bytes in flight before we wait */
#define LOW_WATER   (1u << 20)
#define SIZE_LINE   "SBXCP-SIZE " /* first stderr line of the download script */
#define ERRLINE_MAX 256

/* The sandbox side of a copy in: $1 DST, $2 DST's parent, $3 the name of
 * SRC in the archive; the rest are options for tar -x. */
static const char in_script[] =
    "set -e\n"
    "if [ -d \"$1\" ]; then cd \"$1\"; shift 3; exec tar -xf - \"$@\"; fi\n"
    "t=$(mktemp -d \"$2/.sbx-cp.XXXXXX\")\n"
    "trap 'rm -rf \"$t\"' EXIT\n"
    "d=$1 m=$3; shift 3\n"
    "(cd \"$t\" && tar -xf - \"$@\")\n"
    "mv -f \"$t/$m\" \"$d\"\n";

/* The sandbox side of a copy out: $1 SRC's parent, $2 its name. The first
 * stderr line estimates the archive size (headers and padded contents). */
static const char out_script[] =
    "cd \"$1\" || exit 1\n"
    "[ -e \"$2\" ] || [ -L \"$2\" ] || { echo \"$2: No such file or directory\" >&2; exit 1; }\n"
    "s=$(find \"$2\" -exec stat -c %s {} + 2>/dev/null |"
    " awk '{s+=512+int(($1+511)/512)*512} END{print s+1024}')\n"
    "printf '" SIZE_LINE "%s\\n' \"${s:-0}\" >&2\n"
    "exec tar -cf - \"$2\"\n";

struct cp {
	struct cli *cli;
	bool archive, bar;
	bool upload;
	const char *sandbox;	     /* the SANDBOX of SANDBOX:/path */
	const char *rpath;	     /* the path in the sandbox */
	const char *lpath;	     /* the local path */
	char *src_parent, *src_name; /* SRC split, made safe for tools */
	char *dst_parent;	     /* DST's parent (copy in) */
	char *tmpdir;		     /* local: where a copy out unpacks first */
	char *rpath_safe;	     /* rpath with "./" in front, when it needs one */

	int done_fd; /* eventfd: on_done fired */
	int room_fd; /* eventfd: the stdin window has room again */
	struct sbx_exec *exec;
	struct sbx_exec_result res; /* copied in on_done */

	int tar_fd; /* our end of the local tar's pipe */
	pid_t tar_pid;
	struct progress prog;

	/* transport thread only (copy out) */
	char errline[ERRLINE_MAX];
	size_t errlen;
	bool size_seen;
	bool out_broken;
};

/* ---- paths ---- */

static bool is_remote(const char *s)
{
	const char *colon = strchr(s, ':');

	return colon && colon != s && memchr(s, '/', (size_t)(colon - s)) == NULL;
}

static char *safe_dup(const char *s, size_t n)
{
	char *r = malloc(n + 3);

	if (!r)
		return NULL;
	snprintf(r, n + 3, "%s%.*s", s[0] == '-' ? "./" : "", (int)n, s);
	return r;
}

/* Splits path into its parent and last name, ignoring trailing slashes;
 * both made safe for tools. -EINVAL for "/" and "" (no name to copy). */
static int split_path(const char *path, char **parent, char **name)
{
	size_t n = strlen(path);
	const char *slash;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && path[0] == '/'))
		return -EINVAL;
	slash = memrchr(path, '/', n);
	if (!slash)
		*parent = strdup(".");
	else if (slash == path)
		*parent = strdup("/");
	else
		*parent = safe_dup(path, (size_t)(slash - path));
	*name = slash ? safe_dup(slash + 1, n - (size_t)(slash - path) - 1) : safe_dup(path, n);
	if (!*parent || !*name)
		return -ENOMEM;
	if (!strcmp(*name, ".") || !strcmp(*name, "..") || !strcmp(*name, "./.") ||
	    !strcmp(*name, "./.."))
		return -EINVAL;
	return 0;
}

/* ---- size estimate of a local tree, as tar will stream it ---- */

static uint64_t tree_size(const char *path)
{
	char *paths[] = {(char *)path, NULL};
	uint64_t total = 1024; /* tar's two closing blocks */
	FTSENT *e;
	FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR, NULL);

	if (!fts)
		return 0;
	while ((e = fts_read(fts)) != NULL) {
		if (e->fts_info == FTS_DP)
			continue;
		total += 512;
		if (e->fts_info == FTS_F)
			total += ((uint64_t)e->fts_statp->st_size + 511) / 512 * 512;
	}
	fts_close(fts);
	return total;
}

/* ---- the local tar ---- */

/* Starts tar with argv; its stdin (child_fd 0) or stdout (1) is a pipe
 * whose other end goes to *ret_fd. */
static int spawn_tar(char *const *argv, int child_fd, int *ret_fd, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[child_fd == 0 ? 0 : 1], child_fd);
	r = posix_spawnp(ret_pid, "tar", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[child_fd == 0 ? 0 : 1]);
	if (r != 0) {
		close(p[child_fd == 0 ? 1 : 0]);
		return -r;
	}
	*ret_fd = p[child_fd == 0 ? 1 : 0];
	return 0;
}

/* Waits for the local tar; 0 when it succeeded, -EIO otherwise. */
static int reap_tar(struct cp *c)
{
	int st;

	if (c->tar_pid <= 0)
		return 0;
	while (waitpid(c->tar_pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	c->tar_pid = 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* ---- exec callbacks (transport thread) ---- */

static void on_stdout(void *ud, const char *data, size_t n)
{
	struct cp *c = ud;

	if (c->upload) { /* tar -x says nothing on stdout; keep ours clean */
		sbx_write_all(2, data, n);
		return;
	}
	if (c->out_broken)
		return;
	if (sbx_write_all(c->tar_fd, data, n) < 0) {
		c->out_broken = true; /* the local tar died: it said why */
		sbx_exec_cancel(c->exec);
		return;
	}
	progress_add(&c->prog, n);
}

/* Copy out: the first line is the size estimate; the rest is for the user. */
static void on_stderr(void *ud, const char *data, size_t n)
{
	struct cp *c = ud;

	while (!c->size_seen && n) {
		char ch = *data++;

		n--;
		if (ch != '\n' && c->errlen < sizeof(c->errline) - 1) {
			c->errline[c->errlen++] = ch;
			continue;
		}
		c->errline[c->errlen] = '\0';
		c->size_seen = true;
		if (!strncmp(c->errline, SIZE_LINE, strlen(SIZE_LINE)))
			c->prog.total = strtoull(c->errline + strlen(SIZE_LINE), NULL, 10);
		else
			fprintf(stderr, "%s\n", c->errline);
	}
	if (n)
		sbx_write_all(2, data, n);
}

static void on_stdin_sent(void *ud, size_t pending)
{
	struct cp *c = ud;

	if (pending <= LOW_WATER)
		cli_wake(c->room_fd);
}

static void on_done(void *ud, const struct sbx_exec_result *r)
{
	struct cp *c = ud;

	cli_keep_result(&c->res, r);
	cli_wake(c->done_fd);
}

/* ---- running the copy ---- */

/* Options for tar -x: without -a, cp's defaults (no owners, fresh times);
 * with -a, permissions as they were (and, as root, owners: tar's default). */
static size_t x_opts(const struct cp *c, const char **v)
{
	size_t n = 0;

	if (c->archive) {
		v[n++] = "-p";
	} else {
		v[n++] = "-m";
		v[n++] = "-o";
	}
	return n;
}

/* Waits on the exec (and, going in, the stdin window and the local tar's
 * output). Returns the signal that cancelled the copy, or 0. */
static int pump(struct cp *c, int sigfd)
{
	bool in_open = c->upload, cancelled = false;
	int sig = 0;

	for (;;) {
		struct pollfd p[4] = {{c->done_fd, POLLIN, 0},
				      {sigfd, POLLIN, 0},
				      {c->room_fd, POLLIN, 0},
				      {c->tar_fd, POLLIN, 0}};
		bool full = in_open && sbx_exec_stdin_pending(c->exec) > HIGH_WATER;
		nfds_t np = !in_open ? 2 : full ? 3 : 4;
		uint64_t v;

		if (poll(p, np, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si) && !cancelled) {
				sig = (int)si.ssi_signo;
				cancelled = true;
				sbx_exec_cancel(c->exec);
			}
		}
		if (np >= 3 && p[2].revents && read(c->room_fd, &v, sizeof(v)) < 0)
			break;
		if (np == 4 && p[3].revents) {
			char buf[CHUNK];
			ssize_t n = read(c->tar_fd, buf, sizeof(buf));

			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0 || sbx_exec_write_stdin(c->exec, buf, (size_t)n) < 0) {
				sbx_exec_close_stdin(c->exec);
				in_open = false;
				continue;
			}
			progress_add(&c->prog, (uint64_t)n);
		}
	}
	return sig;
}

/* Starts the local tar and the remote command for the chosen direction. */
static int start(struct cp *c, struct sbx_sandbox *sb, struct sbx_err *err)
{
	struct sbx_exec_cbs cbs = {.on_stdout = on_stdout,
				   .on_stderr = on_stderr,
				   .on_done = on_done,
				   .on_stdin_sent = on_stdin_sent};
	struct sbx_exec_opts o = {0};
	const char *rargv[12];
	char *largv[12];
	size_t rn = 0, ln = 0;
	int r;

	rargv[rn++] = "sh";
	rargv[rn++] = "-c";
	largv[ln++] = "tar";
	if (c->upload) {
		rargv[rn++] = in_script;
		rargv[rn++] = "sbx-cp";
		rargv[rn++] = c->rpath;
		rargv[rn++] = c->dst_parent;
		rargv[rn++] = c->src_name;
		rn += x_opts(c, rargv + rn);
		largv[ln++] = "-cf";
		largv[ln++] = "-";
		largv[ln++] = "-C";
		largv[ln++] = c->src_parent;
		largv[ln++] = c->src_name;
		o.stdin_open = true;
	} else {
		rargv[rn++] = out_script;
		rargv[rn++] = "sbx-cp";
		rargv[rn++] = c->src_parent;
		rargv[rn++] = c->src_name;
		largv[ln++] = "-xf";
		largv[ln++] = "-";
		largv[ln++] = "-C";
		largv[ln++] = c->tmpdir ? c->tmpdir : (char *)c->lpath;
		ln += x_opts(c, (const char **)largv + ln);
	}
	largv[ln] = NULL;
	o.argv = rargv;
	o.argc = rn;
	r = spawn_tar(largv, c->upload ? 1 : 0, &c->tar_fd, &c->tar_pid);
	if (r < 0)
		return sbx_err_set(err, r, 0, "cannot run tar: %s", strerror(-r));
	c->size_seen = c->upload;
	return sbx_exec_start(sb, &o, &cbs, c, &c->exec, err);
}

/* A copy out to a DST that is not a directory unpacks beside it first. */
static int prepare_local(struct cp *c)
{
	struct stat st;
	char *parent = NULL, *name = NULL;
	int r;

	if (stat(c->lpath, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	r = split_path(c->lpath, &parent, &name);
	if (r == 0) {
		c->tmpdir = malloc(strlen(parent) + 32);
		if (!c->tmpdir)
			r = -ENOMEM;
	}
	if (r == 0) {
		snprintf(c->tmpdir, strlen(parent) + 32, "%s/.sbx-cp.XXXXXX", parent);
		if (!mkdtemp(c->tmpdir)) {
			r = -errno;
			free(c->tmpdir);
			c->tmpdir = NULL;
		}
	}
	free(parent);
	free(name);
	return r;
}

/* Moves the unpacked copy into place and removes the staging dir. */
static int finish_local(struct cp *c, bool ok)
{
	char *from = NULL;
	char *rm[] = {"rm", "-rf", "--", c->tmpdir, NULL};
	int r = 0;

	if (!c->tmpdir)
		return 0;
	if (ok) {
		size_t n = strlen(c->tmpdir) + strlen(c->src_name) + 2;
		from = malloc(n);
		if (!from)
			r = -ENOMEM;
		else if (snprintf(from, n, "%s/%s", c->tmpdir, c->src_name) < 0 ||
			 rename(from, c->lpath) < 0)
			r = -errno;
	}
	hostctl_run(NULL, "rm", rm);
	free(from);
	return r;
}

static int parse(struct cp *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"archive", no_argument, NULL, 'a'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *src, *dst;
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "aqh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': c->archive = true; break;
		case 'q': c->cli->quiet = true; break;
		case 'j': c->cli->json = true; break;
		case 'h': cli_help("cp"); return 0;
		default: return cli_bad_option("cp", argv);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("cp", "want SRC and DST");
	src = argv[optind];
	dst = argv[optind + 1];
	if (is_remote(src) == is_remote(dst))
		return cli_usage_error("cp",
				       "exactly one of SRC and DST is SANDBOX:/path "
				       "(write ./%s for a local name with a colon)",
				       is_remote(src) ? dst : src);
	c->upload = is_remote(dst);
	c->lpath = c->upload ? src : dst;
	c->sandbox = c->upload ? dst : src;
	c->rpath = strchr(c->sandbox, ':') + 1;
	*strchr((char *)c->sandbox, ':') = '\0';
	if (!*c->rpath)
		c->rpath = ".";
	return 1;
}

/* Splits the paths: SRC into parent and name, DST's parent (copy in). */
static int plan(struct cp *c)
{
	char *name = NULL;
	int r;

	r = split_path(c->upload ? c->lpath : c->rpath, &c->src_parent, &c->src_name);
	if (r == -EINVAL)
		return cli_usage_error("cp", "SRC names no file or directory to copy");
	if (r == 0 && c->upload) {
		struct stat st;

		if (lstat(c->lpath, &st) < 0)
			return cli_fail(c->cli, NULL, -errno, c->lpath);
		c->prog.total = tree_size(c->lpath);
		if (!strcmp(c->rpath, ".") || !strcmp(c->rpath, "/")) {
			c->dst_parent = strdup(c->rpath);
		} else {
			r = split_path(c->rpath, &c->dst_parent, &name);
			free(name);
		}
	}
	if (r == 0 && c->upload && c->rpath[0] == '-') { /* the script's cd and mv */
		c->rpath_safe = safe_dup(c->rpath, strlen(c->rpath));
		if (!c->rpath_safe)
			r = -ENOMEM;
		c->rpath = c->rpath_safe;
	}
	if (r < 0)
		return r == -EINVAL
			   ? cli_usage_error("cp", "bad DST '%s' (try ./%s)", c->rpath, c->rpath)
			   : cli_fail(c->cli, NULL, r, "cp");
	return 1;
}

static int run(struct cp *c, int sigfd)
{
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	uint64_t total = c->prog.total;
	int sig, r, lr;

	if (cli_open_sandbox(c->cli, c->sandbox, &sb) < 0)
		return CLI_EXIT_FAIL;
	cli_sync_mounts(c->cli, sb, c->sandbox);
	if (!c->upload && (r = prepare_local(c)) < 0) {
		sbx_sandbox_free(sb);
		return cli_fail(c->cli, NULL, r, c->lpath);
	}
	progress_init(&c->prog, !c->cli->quiet && !c->cli->json, c->upload ? c->lpath : c->rpath,
		      total);
	r = start(c, sb, &err);
	if (r < 0) {
		finish_local(c, false);
		sbx_sandbox_free(sb);
		return cli_fail(c->cli, &err, r, "cp");
	}
	sig = pump(c, sigfd);
	close(c->tar_fd); /* copy out: EOF for the local tar */
	c->tar_fd = -1;
	if (sig && c->tar_pid > 0)
		kill(c->tar_pid, SIGTERM);
	lr = reap_tar(c);
	r = sig ? -ECANCELED : c->res.error ? c->res.error : 0;
	if (!r && (c->res.exit_code != 0 || lr < 0 || c->out_broken))
		r = -EIO;
	progress_done(&c->prog, r == 0);
	lr = finish_local(c, r == 0);
	if (lr < 0 && r == 0) {
		sbx_sandbox_free(sb);
		return cli_fail(c->cli, NULL, lr, c->lpath);
	}
	sbx_sandbox_free(sb);
	if (sig)
		return 128 + sig;
	if (r < 0 && c->res.error)
		return cli_failf(c->cli, "cp", "%s",
				 c->res.message[0] ? c->res.message : strerror(-r));
	if (r < 0)
		return cli_failf(c->cli, "cp", "the copy failed (see above)");
	if (c->cli->json)
		printf("{\"bytes\":%" PRIu64 ",\"seconds\":%.3f}\n", c->prog.done,
		       c->res.duration_s);
	return 0;
}

int cmd_cp(struct cli *cli, int argc, char **argv)
{
	struct cp c = {.cli = cli, .done_fd = -1, .room_fd = -1, .tar_fd = -1};
	sigset_t mask;
	int sigfd = -1, rc;

	rc = parse(&c, argc, argv);
	if (rc == 1)
		rc = plan(&c);
	if (rc != 1)
		goto out;
	/* block before any thread exists so that the transport inherits it */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	c.done_fd = eventfd(0, EFD_CLOEXEC);
	c.room_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sigfd < 0 || c.done_fd < 0 || c.room_fd < 0) {
		rc = cli_fail(cli, NULL, -errno, "cp");
		goto out;
	}
	rc = run(&c, sigfd);
out:
	sbx_exec_unref(c.exec);
	if (c.tar_fd >= 0)
		close(c.tar_fd);
	reap_tar(&c);
	free(c.src_parent);
	free(c.src_name);
	free(c.dst_parent);
	free(c.tmpdir);
	free(c.rpath_safe);
	if (sigfd >= 0)
		close(sigfd);
	if (c.done_fd >= 0)
		close(c.done_fd);
	if (c.room_fd >= 0)
		close(c.room_fd);
	return rc;
}
