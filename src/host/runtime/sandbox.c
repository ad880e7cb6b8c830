/* sandbox.c - start, watch and stop one sandbox; see sandbox.h.
 *
 * State of a struct sbxd_sandbox, in order: mounted -> bwrap running (info fd
 * open) -> init pid known (readiness polled) -> HEALTHY -> stopping ->
 * freed. One timer serves the readiness poll, the start timeout and the
 * retries of cgroup removal, never two of them at once.
 */
#include "host/runtime/sandbox.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host/child.h"
#include "host/configfiles.h"
#include "host/daemon.h"
#include "host/fsutil.h"
#include "host/runtime/caps.h"
#include "host/runtime/net.h"
#include "host/runtime/rootfs.h"
#include "host/runtime/spawner.h"
#include "host/runtime/userns.h"
#include "util/log.h"
#include "util/timeutil.h"

#define INFO_MAX      65536
#define TAIL_MAX      2048
#define READY_POLL_MS 5
#define CG_RETRY_MS   50
#define CG_RETRIES    100

struct sbxd_sandbox {
	struct sbxd *d;
	struct sbxd_svc *v;
	struct sbx_buf dir;
	bool mounted;
	bool stopping;
	struct sbxd_cg cg;
	int userns_fd;	    /* the sandbox's user namespace, kept for every exec */
	char run_root[128]; /* SBX_RUN_DIR/sandboxes/<id>: the root bwrap binds; "" when unbound */
	struct sbxd_net net;
	bool net_started;
	struct sbxd_child bwrap;
	pid_t init_pid;
	int init_pidfd;		      /* signals and liveness of init_pid, never a raw kill */
	struct sbxd_spawner *spawner; /* started by the first exec; NULL before */
	int info_fd, con_fd;
	struct sbxd_watch info_w, con_w;
	struct sbx_buf info;
	char tail[TAIL_MAX];
	size_t tail_len;
	struct sbxd_timer timer;
	int64_t started_ms;
	dev_t root_dev;
	ino_t root_ino;
	int cg_tries;
	struct sbxd_cfgw *cfgw; /* config files being written before HEALTHY */
};

int sbxd_sandbox_dir(const struct sbxd *d, const char *svc_id, struct sbx_buf *out)
{
	return sbx_buf_printf(out, "%s/sandboxes/%s", d->state_dir.data, svc_id);
}

pid_t sbxd_sandbox_pid(const struct sbxd_svc *v)
{
	if (!v->sb || v->sb->stopping || v->inst != SBX_INST_HEALTHY ||
	    !sbxd_pidfd_alive(v->sb->init_pidfd))
		return 0;
	return v->sb->init_pid;
}

struct sbxd_spawner *sbxd_sandbox_spawner(struct sbxd_svc *v)
{
	struct sbxd_sandbox *sb = v->sb;
	pid_t target = sbxd_sandbox_pid(v);
	struct sbxd_spawner_cfg cfg = {target, &sb->cg, &sb->d->filter};
	int r;

	if (!target)
		return NULL;
	if (sbxd_spawner_usable(sb->spawner))
		return sb->spawner;
	sbxd_spawner_free(sb->spawner); /* a lost one: its jobs were settled */
	sb->spawner = NULL;
	r = sbxd_spawner_new(sb->d->loop, &cfg, v->id, &sb->d->nchildren, &sb->spawner);
	if (r < 0)
		sbx_log(SBX_LOG_WARN, "sandbox %s: cannot start an exec spawner: %s", v->id,
			strerror(-r));
	return sb->spawner;
}

/* Before the cgroups are emptied: the spawner is in them. */
static void stop_spawner(struct sbxd_sandbox *sb)
{
	struct sbxd_spawner *s = sb->spawner;

	sb->spawner = NULL;
	sbxd_spawner_free(s);
}

const struct sbxd_cg *sbxd_sandbox_cgroups(const struct sbxd_svc *v)
{
	return v->sb ? &v->sb->cg : NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_watch(struct sbxd_sandbox *sb, struct sbxd_watch *w, int *fd)
{
	sbxd_loop_unwatch(sb->d->loop, w);
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The last non-empty line the sandbox printed (for error messages). */
static void last_line(const struct sbxd_sandbox *sb, char *out, size_t outlen)
{
	size_t end = sb->tail_len, start;

	while (end && (sb->tail[end - 1] == '\n' || sb->tail[end - 1] == '\r'))
		end--;
	start = end;
	while (start && sb->tail[start - 1] != '\n')
		start--;
	snprintf(out, outlen, "%.*s", (int)(end - start), sb->tail + start);
}

static void on_console(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_sandbox *sb = w->arg;
	char buf[4096];
	ssize_t n = read(sb->con_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_watch(sb, &sb->con_w, &sb->con_fd);
		return;
	}
	sbx_debug("sandbox %s: %.*s", sb->v->id, (int)n, buf);
	if ((size_t)n >= TAIL_MAX) {
		memcpy(sb->tail, buf + n - TAIL_MAX, TAIL_MAX);
		sb->tail_len = TAIL_MAX;
		return;
	}
	if (sb->tail_len + (size_t)n > TAIL_MAX) {
		size_t drop = sb->tail_len + (size_t)n - TAIL_MAX;

		memmove(sb->tail, sb->tail + drop, sb->tail_len - drop);
		sb->tail_len -= drop;
	}
	memcpy(sb->tail + sb->tail_len, buf, (size_t)n);
	sb->tail_len += (size_t)n;
}

static void free_deferred(void *arg)
{
	struct sbxd_sandbox *sb = arg;

	sbx_buf_release(&sb->info);
	sbx_buf_release(&sb->dir);
	free(sb);
}

/* Releases everything now, the memory at the end of the loop iteration (an
 * event of this batch may still point at one of its watches). */
static void free_sandbox(struct sbxd_sandbox *sb)
{
	close_watch(sb, &sb->info_w, &sb->info_fd);
	close_watch(sb, &sb->con_w, &sb->con_fd);
	sbxd_loop_timer_cancel(sb->d->loop, &sb->timer);
	sbxd_config_files_cancel(sb->cfgw);
	sb->cfgw = NULL;
	stop_spawner(sb);
	close_fd(&sb->init_pidfd);
	close_fd(&sb->userns_fd);
	sbxd_net_stop(&sb->net);
	if (sbxd_loop_defer(sb->d->loop, free_deferred, sb) < 0)
		sbx_log(SBX_LOG_WARN, "leaking a sandbox record (out of memory)");
}

static void on_cg_retry(struct sbxd_timer *t);

/* Processes are gone: release the mount and the cgroups, then report. */
static void finish_stop(struct sbxd_sandbox *sb)
{
	struct sbxd_svc *v = sb->v;
	struct sbxd *d = sb->d;

	close_watch(sb, &sb->info_w, &sb->info_fd);
	close_watch(sb, &sb->con_w, &sb->con_fd);
	stop_spawner(sb);
	sbxd_net_stop(&sb->net);
	if (sb->run_root[0]) {
		umount2(sb->run_root, MNT_DETACH);
		rmdir(sb->run_root);
		sb->run_root[0] = '\0';
	}
	if (sb->mounted) {
		sbxd_rootfs_umount(sb->dir.data); /* the disk too: delete may follow */
		sb->mounted = false;
	}
	sbxd_cg_kill_all(&sb->cg);
	if (sbxd_cg_remove(&sb->cg) == -EBUSY && sb->cg_tries++ < CG_RETRIES) {
		sbxd_loop_timer(d->loop, &sb->timer, CG_RETRY_MS, on_cg_retry, sb);
		return;
	}
	if (sb->cg.n)
		sbx_log(SBX_LOG_WARN, "sandbox %s: cgroups still busy, left in place", v->id);
	v->sb = NULL;
	free_sandbox(sb);
	sbxd_sandbox_stopped(d, v);
}

static void on_cg_retry(struct sbxd_timer *t)
{
	finish_stop(t->arg);
}

/* The sandbox died without being asked to: ERROR, and clean up. */
static void died(struct sbxd_sandbox *sb, int wstatus)
{
	struct sbxd_svc *v = sb->v;
	char line[256];

	last_line(sb, line, sizeof(line));
	v->inst = SBX_INST_ERROR;
	v->terminated_at = v->updated_at = time(NULL);
	if (sb->init_pid && v->started_at)
		sbxd_svc_message(v, "the sandbox's main process exited with status %d%s%s",
				 sbxd_child_exit_code(wstatus), line[0] ? ": " : "", line);
	else
		sbxd_svc_message(v, "the sandbox failed to start (status %d)%s%s",
				 sbxd_child_exit_code(wstatus), line[0] ? ": " : "", line);
	sbx_log(SBX_LOG_WARN, "sandbox %s: %s", v->id, v->messages[v->nmessages - 1]);
	sb->stopping = true;
	finish_stop(sb);
}

static void on_bwrap_exit(struct sbxd_child *c, int wstatus)
{
	struct sbxd_sandbox *sb = c->arg;

	sbxd_loop_timer_cancel(sb->d->loop, &sb->timer);
	sbxd_pidfd_kill(sb->init_pidfd, SIGKILL);
	if (sb->stopping)
		finish_stop(sb);
	else
		died(sb, wstatus);
}

static void on_timer_ready(struct sbxd_timer *t);

static void mark_healthy(struct sbxd_sandbox *sb)
{
	struct sbxd_svc *v = sb->v;

	v->inst = SBX_INST_HEALTHY;
	v->started_at = v->updated_at = time(NULL);
	sbx_log(SBX_LOG_INFO, "sandbox %s (%s) is HEALTHY, pid %d", v->id, v->spec.name,
		(int)sb->init_pid);
}

static void on_config_written(void *arg)
{
	struct sbxd_sandbox *sb = arg;

	sb->cfgw = NULL;
	if (!sb->stopping)
		mark_healthy(sb);
}

/* The definition's config_files go in first (configfiles.h). */
static void become_healthy(struct sbxd_sandbox *sb)
{
	if (sb->cfgw)
		return;
	if (sbxd_config_files_write(sb->d, sb->v, sb->init_pid, on_config_written, sb, &sb->cfgw) <
	    0) {
		sb->cfgw = NULL;
		mark_healthy(sb);
	}
}

static void on_net_ready(void *arg)
{
	struct sbxd_sandbox *sb = arg;

	sbx_debug("sandbox %s: network ready", sb->v->id);
}

/* A sandbox that lost its network is broken: stop it, say why. */
static void on_net_exit(void *arg, int wstatus)
{
	struct sbxd_sandbox *sb = arg;

	if (sb->stopping)
		return;
	sbxd_svc_message(sb->v, "slirp4netns exited with status %d: the sandbox has no network",
			 sbxd_child_exit_code(wstatus));
	sbx_log(SBX_LOG_WARN, "sandbox %s: %s", sb->v->id, sb->v->messages[sb->v->nmessages - 1]);
	sbxd_child_kill(&sb->bwrap, SIGKILL); /* on_bwrap_exit reports it */
}

/* Once bwrap is done with the network namespace (see on_timer_ready). */
static void start_net(struct sbxd_sandbox *sb)
{
	int r;

	sb->net_started = true;
	r = sbxd_net_start(&sb->net, sb->d->loop, sb->d->tools.slirp4netns, sb->init_pid,
			   &sb->d->nchildren, on_net_ready, on_net_exit, sb);
	if (r < 0) {
		sbxd_svc_message(sb->v, "cannot start slirp4netns: %s", strerror(-r));
		sbxd_child_kill(&sb->bwrap, SIGKILL);
	}
}

/* Polls until the init's root is the overlay (bwrap's pivot_root is done)
 * and its network is up, or the start timeout passes. */
static void on_timer_ready(struct sbxd_timer *t)
{
	struct sbxd_sandbox *sb = t->arg;
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/root/", (int)sb->init_pid);
	if (sb->init_pid > 0 && sbxd_pidfd_alive(sb->init_pidfd) && stat(p, &st) == 0 &&
	    st.st_dev == sb->root_dev && st.st_ino == sb->root_ino) {
		/* bwrap set up the namespace's loopback before its pivot_root:
		 * only now may slirp4netns touch the namespace (concurrent
		 * netlink requests made bwrap's fail now and then) */
		if (sb->d->network == SBX_NET_HOST || sb->net.ready) {
			become_healthy(sb);
			return;
		}
		if (!sb->net_started)
			start_net(sb);
	}
	if (sbx_now_ms() - sb->started_ms > SBX_START_TIMEOUT_MS) {
		sbxd_svc_message(sb->v, "the sandbox did not start within %d s",
				 SBX_START_TIMEOUT_MS / 1000);
		sbxd_child_kill(&sb->bwrap, SIGKILL);
		return; /* on_bwrap_exit reports it */
	}
	sbxd_loop_timer(sb->d->loop, t, sb->init_pid > 0 ? READY_POLL_MS : 100, on_timer_ready, sb);
}

static void on_info(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd_sandbox *sb = w->arg;
	json_object *o = NULL;
	int64_t pid = 0;
	ssize_t n;

	if (sbx_buf_reserve(&sb->info, 4096) < 0)
		return;
	n = read(sb->info_fd, sb->info.data + sb->info.len, 4096);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		sb->info.len += (size_t)n;
		sb->info.data[sb->info.len] = '\0';
	}
	if (sb->init_pid == 0 && sb->info.len &&
	    sbx_json_parse(sb->info.data, sb->info.len, &o) == 0) {
		if (sbx_json_int(o, "child-pid", &pid) == 0 && pid > 1) {
			sb->init_pid = (pid_t)pid;
			sb->init_pidfd = sbxd_pidfd_open(sb->init_pid);
			sbxd_loop_timer(sb->d->loop, &sb->timer, 0, on_timer_ready, sb);
		}
		sbx_json_put(o);
	}
	if (n <= 0 || sb->info.len > INFO_MAX)
		close_watch(sb, &sb->info_w, &sb->info_fd);
}

/* A growable NULL-terminated argv whose strings point at stable storage
 * (the spec, the sandbox, or literals), so only the array is allocated. */
struct argv {
	const char **v;
	size_t n, cap;
	bool failed;
};

static void arg(struct argv *a, const char *s)
{
	if (a->failed)
		return;
	if (a->n + 2 > a->cap) {
		size_t ncap = a->cap ? 2 * a->cap : 64;
		const char **nv = realloc(a->v, ncap * sizeof(*nv));

		if (!nv) {
			a->failed = true;
			return;
		}
		a->v = nv;
		a->cap = ncap;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void setenv_arg(struct argv *a, const char *k, const char *v)
{
	arg(a, "--setenv");
	arg(a, k);
	arg(a, v);
}

/* --setenv KEY VALUE for each "KEY=VALUE" (the '=' is split in place of a
 * copy kept in keys, which the caller frees). */
static void env_args(struct argv *a, char *const *env, struct sbx_buf *keys)
{
	size_t i, off = 0;

	for (i = 0; env && env[i]; i++) {
		size_t kl = strcspn(env[i], "=");

		if (sbx_buf_append(keys, env[i], kl) < 0 || sbx_buf_putc(keys, '\0') < 0) {
			a->failed = true;
			return;
		}
	}
	for (i = 0; env && env[i]; i++) {
		size_t kl = strcspn(env[i], "=");

		setenv_arg(a, keys->data + off, env[i][kl] ? env[i] + kl + 1 : "");
		off += kl + 1;
	}
}

#define SANDBOX_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Parts of /proc that reach past the sandbox. Read-only: the kernel's
 * tunables (writes are refused to a user namespace anyway; this makes it
 * plain). Hidden: files that show the host's other processes or kernel
 * memory; a file is covered by /dev/null, a directory by an empty tmpfs.
 * Only those that exist on this kernel are named (bwrap fails on others). */
static const char *const PROC_RO[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
				      "/proc/fs"};
static const char *const PROC_HIDDEN[] = {
    "/proc/kcore",	   "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
    "/proc/latency_stats", "/proc/acpi", "/proc/scsi",	     "/sys/firmware"};

static void proc_args(struct argv *a)
{
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(PROC_RO) / sizeof(PROC_RO[0]); i++) {
		if (stat(PROC_RO[i], &st) < 0)
			continue;
		arg(a, "--ro-bind");
		arg(a, PROC_RO[i]);
		arg(a, PROC_RO[i]);
	}
	for (i = 0; i < sizeof(PROC_HIDDEN) / sizeof(PROC_HIDDEN[0]); i++) {
		if (stat(PROC_HIDDEN[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			arg(a, "--tmpfs");
		} else {
			arg(a, "--ro-bind");
			arg(a, "/dev/null");
		}
		arg(a, PROC_HIDDEN[i]);
	}
}

/* The options after "bwrap --bind ROOT /": passed through a memfd with
 * --args, so the environment (the sandbox secret) never shows in the
 * host's process list. (bwrap takes the command from its real argv only.)
 * bwrap runs as root of the sandbox's user namespace (exec_bwrap), so each
 * namespace it creates is owned by that one; fd 6 holds the seccomp
 * filter, applied just before the command. */
static void bwrap_args(struct sbxd_sandbox *sb, struct argv *a, struct sbx_buf *strs,
		       struct sbx_buf *keys)
{
	static const char *const fixed[] = {
	    "--proc",
	    "/proc",
	    "--dev",
	    "/dev",
	    "--ro-bind",
	    "/sys",
	    "/sys",
	    "--unshare-pid",
	    "--unshare-uts",
	    "--unshare-ipc",
	    "--unshare-cgroup-try",
	    "--die-with-parent",
	    "--new-session",
	    "--cap-drop",
	    "ALL",
	    "--seccomp",
	    "6",
	};
	const struct sbxd_spec *sp = &sb->v->spec;
	const char *const *c;
	size_t i, off[32], n = 0;

	/* strings built here live in strs: record offsets, it may move */
	for (c = sbxd_caps_kept(); *c && n < 32; c++) {
		off[n++] = strs->len;
		if (sbx_buf_puts(strs, "CAP_") < 0 || sbx_buf_puts(strs, *c) < 0 ||
		    sbx_buf_putc(strs, '\0') < 0)
			a->failed = true;
		for (i = off[n - 1] + 4; !a->failed && strs->data[i]; i++)
			strs->data[i] = (char)toupper((unsigned char)strs->data[i]);
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		arg(a, fixed[i]);
	if (sb->d->network == SBX_NET_PRIVATE)
		arg(a, "--unshare-net");
	proc_args(a);
	for (i = 0; i < n && !a->failed; i++) {
		arg(a, "--cap-add");
		arg(a, strs->data + off[i]);
	}
	arg(a, "--hostname");
	arg(a, sp->hostname);
	arg(a, "--clearenv");
	setenv_arg(a, "PATH", SANDBOX_PATH);
	setenv_arg(a, "HOME", "/root");
	setenv_arg(a, "LANG", "C.UTF-8");
	setenv_arg(a, "HOSTNAME", sp->hostname);
	env_args(a, sp->env, keys);
	arg(a, "--chdir");
	arg(a, "/");
	arg(a, "--info-fd");
	arg(a, "3");
}

/* A memfd holding the NUL-separated arguments, at offset 0. fd or -errno. */
static int args_memfd(const struct argv *a)
{
	int fd = memfd_create("sbxd-bwrap-args", MFD_CLOEXEC);
	size_t i;

	if (fd < 0)
		return -errno;
	for (i = 0; i < a->n; i++) {
		size_t len = strlen(a->v[i]) + 1;

		if (write(fd, a->v[i], len) != (ssize_t)len) {
			int r = -errno;

			close(fd);
			return r ? r : -EIO;
		}
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* The descriptors bwrap gets: 0 /dev/null, 1-2 the console pipe, 3 the
 * info pipe, 4 the arguments, 6 the seccomp filter. */
enum { FD_INFO, FD_CON, FD_ARGS, FD_SECCOMP, FD_N };

/* Ends the bwrap child with msg on its console (the sandbox's error). */
static void fail_child(const char *msg)
{
	if (write(2, msg, strlen(msg)) < 0)
		_exit(126);
	_exit(126);
}

/* In the forked child: cgroups, signals, fds; then the sandbox's user
 * namespace, and exec bwrap as its root. The fds are first moved above 9
 * so no dup2() clobbers another. */
static void exec_bwrap(struct sbxd_sandbox *sb, const char **argv, const int fds[FD_N])
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	int nullfd, hi[FD_N], i;
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < FD_N; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
			_exit(126);
	if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(hi[FD_CON], 1) < 0 ||
	    dup2(hi[FD_CON], 2) < 0 || dup2(hi[FD_INFO], 3) < 0 || dup2(hi[FD_ARGS], 4) < 0 ||
	    dup2(hi[FD_SECCOMP], 6) < 0)
		_exit(126);
	if (sbxd_cg_join(&sb->cg, (int)getpid()) < 0)
		fail_child("sbxd: cannot join the sandbox's cgroups\n");
	if (sbxd_userns_enter(sb->userns_fd) < 0)
		fail_child("sbxd: cannot enter the sandbox's user namespace\n");
	/* nothing else crosses into the sandbox, whatever sbxd holds */
	if (syscall(SYS_close_range, 5, 5, 0) < 0 || syscall(SYS_close_range, 7, ~0U, 0) < 0)
		fail_child("sbxd: cannot close the descriptors a sandbox must not get\n");
	execve(argv[0], (char *const *)argv, envp);
	_exit(127);
}

/* bwrap --bind SBX_RUN_DIR/sandboxes/ID / --args 4 -- COMMAND...: the
 * root path stays visible (it names the sandbox in `ps`), the options come
 * from the memfd. */
static void outer_argv(struct sbxd_sandbox *sb, struct argv *argv)
{
	char *const *cmd = sb->v->spec.argv;

	arg(argv, sb->d->tools.bwrap);
	arg(argv, "--bind");
	arg(argv, sb->run_root);
	arg(argv, "/");
	arg(argv, "--args");
	arg(argv, "4");
	arg(argv, "--");
	while (cmd && *cmd)
		arg(argv, *cmd++);
}

/* Forks bwrap with the info and console pipes. 0 or -errno. */
static int spawn_bwrap(struct sbxd_sandbox *sb)
{
	struct argv a = {0}, argv = {0};
	struct sbx_buf strs = SBX_BUF_INIT, keys = SBX_BUF_INIT;
	int info[2] = {-1, -1}, con[2] = {-1, -1}, args_fd = -1, sc_fd = -1, r = 0;
	pid_t pid;

	bwrap_args(sb, &a, &strs, &keys);
	outer_argv(sb, &argv);
	r = a.failed || argv.failed ? -ENOMEM : 0;
	if (r == 0)
		args_fd = r = args_memfd(&a);
	if (r >= 0)
		sc_fd = r = sbxd_seccomp_memfd(&sb->d->filter);
	if (r < 0)
		goto out;
	r = 0;
	if (pipe2(info, O_CLOEXEC) < 0 || pipe2(con, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		const int fds[FD_N] = {info[1], con[1], args_fd, sc_fd};

		exec_bwrap(sb, argv.v, fds);
	}
	r = sbxd_child_watch(sb->d->loop, &sb->bwrap, pid, &sb->d->nchildren, on_bwrap_exit, sb);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	sb->info_fd = info[0];
	sb->con_fd = con[0];
	info[0] = con[0] = -1;
	fcntl(sb->info_fd, F_SETFL, O_NONBLOCK);
	fcntl(sb->con_fd, F_SETFL, O_NONBLOCK);
	sbxd_loop_watch(sb->d->loop, &sb->info_w, sb->info_fd, EPOLLIN, on_info, sb);
	sbxd_loop_watch(sb->d->loop, &sb->con_w, sb->con_fd, EPOLLIN, on_console, sb);
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&info[i]);
		close_fd(&con[i]);
	}
	close_fd(&args_fd);
	close_fd(&sc_fd);
	free(a.v);
	free(argv.v);
	sbx_buf_release(&strs);
	sbx_buf_release(&keys);
	return r;
}

static void note_msg(void *arg, const char *msg)
{
	struct sbxd_svc *v = arg;

	sbxd_svc_message(v, "%s", msg);
	sbx_debug("sandbox %s: %s", v->id, msg);
}

/* Binds the merged root where bwrap (already the sandbox's root, without
 * access to the state dir) can reach it. 0 or -errno with a message. */
static int bind_run_root(struct sbxd_sandbox *sb, const char *root)
{
	char p[sizeof(sb->run_root)];
	int r = 0;

	if (sbxd_pathf(p, sizeof(p), SBX_RUN_DIR "/sandboxes/%s", sb->v->id) < 0)
		return -ENAMETOOLONG;
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		r = -errno;
	umount2(p, MNT_DETACH); /* a stale bind of an earlier attempt */
	if (r == 0 && mount(root, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
		r = -errno;
		rmdir(p);
	}
	if (r < 0) {
		sbxd_svc_message(sb->v, "cannot bind the root at %s: %s", p, strerror(-r));
		return r;
	}
	memcpy(sb->run_root, p, sizeof(p));
	return 0;
}

/* The sandbox's disk and root filesystem (rootfs.h), and the root's
 * identity for the readiness check. 0 or -errno with a message recorded. */
static int prepare_fs(struct sbxd_sandbox *sb)
{
	struct sbxd_svc *v = sb->v;
	struct sbx_buf root = SBX_BUF_INIT, resolv = SBX_BUF_INIT;
	struct sbxd_rootfs rf = {
	    .sbdir = sb->dir.data,
	    .image = v->rootfs,
	    .state = sb->d->state_dir.data,
	    .hostname = v->spec.hostname,
	    .disk_size = v->spec.itype->disk,
	    .idmap = &sb->d->idmap,
	    .userns_fd = sb->userns_fd,
	};
	char why[128] = "";
	struct stat st;
	int r;

	/* a private network resolves through slirp4netns; the host's shares
	 * the host's resolver */
	if (sb->d->network == SBX_NET_PRIVATE)
		r = sbx_buf_puts(&resolv, "nameserver " SBX_NET_DNS "\n");
	else
		r = sbxd_rootfs_host_resolv(&resolv);
	rf.resolv = resolv.data;
	if (r == 0)
		r = sbxd_rootfs_mount(&rf, why, sizeof(why));
	sbx_buf_release(&resolv);
	if (r < 0) {
		sbxd_svc_message(v, "cannot prepare the sandbox filesystem%s%s: %s",
				 why[0] ? ": " : "", why, strerror(-r));
		return r;
	}
	sb->mounted = true;
	r = sbx_buf_printf(&root, "%s/root", sb->dir.data);
	if (r == 0)
		r = bind_run_root(sb, root.data);
	if (r == 0 && stat(sb->run_root, &st) < 0)
		r = -errno;
	if (r == 0) {
		sb->root_dev = st.st_dev;
		sb->root_ino = st.st_ino;
	}
	sbx_buf_release(&root);
	return r;
}

int sbxd_sandbox_start(struct sbxd *d, struct sbxd_svc *v)
{
	struct sbxd_sandbox *sb = calloc(1, sizeof(*sb));
	int r;

	if (!sb)
		return -ENOMEM;
	sb->d = d;
	sb->v = v;
	sb->info_fd = sb->con_fd = sb->init_pidfd = sb->userns_fd = -1;
	sbxd_net_init(&sb->net);
	sb->info_w.fd = sb->con_w.fd = -1;
	sb->bwrap.w.fd = -1;
	v->sb = sb;
	sbxd_svc_clear_messages(v);
	v->inst = SBX_INST_STARTING;
	v->started_at = v->terminated_at = 0;
	v->updated_at = time(NULL);
	r = sbxd_sandbox_dir(d, v->id, &sb->dir);
	if (r == 0 && (r = sb->userns_fd = sbxd_userns_open(&d->idmap)) < 0)
		sbxd_svc_message(v, "cannot create the sandbox's user namespace: %s", strerror(-r));
	if (r >= 0)
		r = prepare_fs(sb);
	if (r == 0) {
		sbxd_cg_create(&d->cg, v->id, v->spec.itype, d->ncpu, &sb->cg, note_msg, v);
		r = spawn_bwrap(sb);
		if (r < 0)
			sbxd_svc_message(v, "cannot start bwrap: %s", strerror(-r));
	}
	if (r < 0) {
		v->inst = SBX_INST_ERROR;
		v->terminated_at = time(NULL);
		sb->stopping = true;
		sbx_log(SBX_LOG_WARN, "sandbox %s: %s", v->id, v->messages[v->nmessages - 1]);
		finish_stop(sb);
		return r;
	}
	sb->started_ms = sbx_now_ms();
	sbxd_loop_timer(d->loop, &sb->timer, 100, on_timer_ready, sb);
	return 0;
}

static void on_stop_now(struct sbxd_timer *t)
{
	finish_stop(t->arg);
}

void sbxd_sandbox_stop(struct sbxd *d, struct sbxd_svc *v)
{
	struct sbxd_sandbox *sb = v->sb;

	if (!sb) {
		sbxd_sandbox_stopped(d, v);
		return;
	}
	if (sb->stopping)
		return;
	sb->stopping = true;
	sbxd_loop_timer_cancel(d->loop, &sb->timer);
	stop_spawner(sb);
	if (sbxd_child_running(&sb->bwrap)) {
		sbxd_child_kill(&sb->bwrap, SIGKILL);
		sbxd_pidfd_kill(sb->init_pidfd, SIGKILL);
		sbxd_cg_kill_all(&sb->cg);
		return; /* on_bwrap_exit finishes */
	}
	/* never from inside the caller */
	sbxd_loop_timer(d->loop, &sb->timer, 0, on_stop_now, sb);
}
