/* daemon.c - sbxd start-up, serving and shutdown; see daemon.h.
 *
 * Start-up order matters: the state dir lock comes first (two daemons must
 * never share a state dir), the private mount namespace before any overlay
 * is mounted, the listening socket before sbxd.json is written (the CLI
 * takes that file as "sbxd is ready"), restored sandboxes last.
 *
 * Shutdown (SIGTERM, SIGINT): stop listening, kill every exec, stop every
 * sandbox (files are kept), wait for all children with a deadline, remove
 * sbxd.json, exit 0.
 */
#include "host/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/api.h"
#include "host/exec.h"
#include "host/executor.h"
#include "host/fsutil.h"
#include "host/runtime/sandbox.h"
#include "host/store/db.h"
#include "host/token.h"
#include "util/json.h"
#include "util/log.h"
#include "util/statedir.h"
#include "util/timeutil.h"

#define STOP_GRACE_MS 10000
#define STOP_POLL_MS  20

/* Finds prog in a few standard directories (PATH is not trusted: sbxd may
 * be started from anywhere). */
static int find_tool(const char *prog, char *out, size_t outlen)
{
	static const char *const dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin",
					   "/usr/local/bin"};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (sbxd_pathf(out, outlen, "%s/%s", dirs[i], prog) == 0 && access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static int find_tools(struct sbxd_tools *t, enum sbxd_netmode net)
{
	static const char *const names[] = {"bwrap", "rm", "slirp4netns"};
	static const char *const pkgs[] = {"bubblewrap", "coreutils", "slirp4netns"};
	char *outs[] = {t->bwrap, t->rm, t->slirp4netns};
	size_t i, n = net == SBX_NET_PRIVATE ? 3 : 2;

	for (i = 0; i < n; i++) {
		if (find_tool(names[i], outs[i], sizeof(t->bwrap)) < 0) {
			sbx_log(SBX_LOG_ERR, "%s not found (install %s%s)", names[i], pkgs[i],
				i == 2 ? ", or run sbxd --network host" : "");
			return -ENOENT;
		}
	}
	return 0;
}

/* Creates, resolves and checks the state directory. */
static int setup_state_dir(struct sbxd *d)
{
	char real[PATH_MAX];
	int r;

	r = sbx_mkdir_p(d->state_dir.data, 0700);
	if (r < 0 || !realpath(d->state_dir.data, real)) {
		r = r < 0 ? r : -errno;
		sbx_log(SBX_LOG_ERR, "cannot create the state directory %s: %s", d->state_dir.data,
			strerror(-r));
		return r;
	}
	if (strpbrk(real, ",:\\\n")) {
		sbx_log(SBX_LOG_ERR,
			"the state directory path %s may not hold ',' ':' or '\\' "
			"(overlayfs options cannot carry them)",
			real);
		return -EINVAL;
	}
	chmod(real, 0700);
	sbx_buf_reset(&d->state_dir);
	r = sbx_buf_puts(&d->state_dir, real);
	if (r == 0) {
		struct sbx_buf p = SBX_BUF_INIT;

		r = sbxd_path(d, &p, "sandboxes");
		if (r == 0)
			r = sbx_mkdir_p(p.data, 0700);
		sbx_buf_release(&p);
	}
	return r;
}

static int take_lock(struct sbxd *d)
{
	struct sbx_buf p = SBX_BUF_INIT;
	int r = sbxd_path(d, &p, "sbxd.lock");

	if (r < 0)
		return r;
	d->lock_fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0) {
		r = -errno;
		sbx_log(SBX_LOG_ERR, "cannot open %s: %s", p.data, strerror(-r));
	} else if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK)
			sbx_log(SBX_LOG_ERR,
				"another sbxd is already running with the state "
				"directory %s (it holds %s)",
				d->state_dir.data, p.data);
		else
			sbx_log(SBX_LOG_ERR, "cannot lock %s: %s", p.data, strerror(-r));
	}
	sbx_buf_release(&p);
	return r;
}

/* Every overlay lives in sbxd's own mount namespace and dies with it. */
/* Undoes the \ooo escapes of a mountinfo path field, in place. */
static void unescape_mount_path(char *p)
{
	char *o = p;

	for (; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* Our copy of the host's mount table holds every FUSE mount that existed
 * when sbxd started. Kept, such a copy would keep its driver alive after
 * the user unmounts it on the host (fusermount -u only detaches the host's
 * copy): sbxfs would never see its unmount. Detach them all; sbxd never
 * needs a FUSE filesystem. Best effort: a failure only costs that delay. */
static void drop_fuse_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192], mp[4096], type[256];
	int n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root MOUNTPOINT ... - TYPE SOURCE OPTIONS */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
		    sscanf(sep + 3, "%255s", type) != 1 || strncmp(type, "fuse", 4))
			continue;
		unescape_mount_path(mp);
		if (umount2(mp, MNT_DETACH) == 0)
			n++;
	}
	fclose(f);
	if (n)
		sbx_debug("detached %d FUSE mounts from sbxd's mount namespace", n);
}

static int private_mounts(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		sbx_log(SBX_LOG_ERR, "unshare(CLONE_NEWNS): %s", strerror(errno));
		return -errno;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		sbx_log(SBX_LOG_ERR, "making mounts private: %s", strerror(errno));
		return -errno;
	}
	drop_fuse_mounts();
	/* where bwrap finds each sandbox's root (see sandbox.h); this daemon's
	 * own tmpfs, seen by no other process on the host */
	if ((mkdir(SBX_RUN_DIR, 0755) < 0 && errno != EEXIST) ||
	    mount("tmpfs", SBX_RUN_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0711,size=1m") < 0 ||
	    mkdir(SBX_RUN_DIR "/sandboxes", 0711) < 0) {
		sbx_log(SBX_LOG_ERR, "cannot set up %s: %s", SBX_RUN_DIR, strerror(errno));
		return -errno;
	}
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int write_runfile(struct sbxd *d)
{
	struct sbx_buf p = SBX_BUF_INIT, b = SBX_BUF_INIT;
	int r = sbxd_path(d, &p, "sbxd.json");

	if (r == 0)
		r = sbx_buf_printf(
		    &b, "{\"pid\":%d,\"api_host\":\"http://%s:%d\",\"version\":\"%s\"}\n",
		    (int)getpid(), d->listen_host, sbxd_http_server_port(d->http), SBX_VERSION);
	if (r == 0)
		r = sbxd_write_atomic(p.data, b.data, b.len, 0644);
	if (r < 0)
		sbx_log(SBX_LOG_ERR, "cannot write %s: %s", p.data ? p.data : "sbxd.json",
			strerror(-r));
	sbx_buf_release(&p);
	sbx_buf_release(&b);
	return r;
}

static void remove_runfile(struct sbxd *d)
{
	struct sbx_buf p = SBX_BUF_INIT;

	if (sbxd_path(d, &p, "sbxd.json") == 0)
		unlink(p.data);
	sbx_buf_release(&p);
}

static bool all_stopped(const struct sbxd *d)
{
	size_t i;

	if (d->nchildren)
		return false;
	for (i = 0; i < d->store.nsvcs; i++)
		if (d->store.svcs[i]->sb)
			return false;
	return true;
}

static void on_stop_poll(struct sbxd_timer *t)
{
	struct sbxd *d = t->arg;

	if (all_stopped(d) || sbx_now_ms() > d->stop_deadline) {
		if (!all_stopped(d))
			sbx_log(SBX_LOG_WARN, "shutdown: giving up waiting for %zu children",
				d->nchildren);
		sbxd_loop_quit(d->loop);
		return;
	}
	sbxd_loop_timer(d->loop, t, STOP_POLL_MS, on_stop_poll, d);
}

static void begin_shutdown(struct sbxd *d)
{
	size_t i;

	if (d->stopping)
		return;
	d->stopping = true;
	sbx_log(SBX_LOG_INFO, "stopping: every sandbox's processes end, their files stay");
	sbxd_http_server_stop_listening(d->http);
	remove_runfile(d);
	sbxd_exec_kill_all(d);
	sbxd_executor_free(d);
	for (i = 0; i < d->store.nsvcs; i++)
		if (d->store.svcs[i]->sb)
			sbxd_sandbox_stop(d, d->store.svcs[i]);
	d->stop_deadline = sbx_now_ms() + STOP_GRACE_MS;
	sbxd_loop_timer(d->loop, &d->stop_timer, 0, on_stop_poll, d);
}

static void on_signal(struct sbxd_watch *w, uint32_t events)
{
	struct sbxd *d = w->arg;
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_shutdown(d);
	}
}

static int setup_signals(struct sbxd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sigdelset(&set, SIGHUP); /* blocked and never read: ignored */
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return -errno;
	return sbxd_loop_watch(d->loop, &d->sig_w, d->sig_fd, EPOLLIN, on_signal, d);
}

/* Brings back every service of db.json: running ones start again (same ids,
 * same files), half-deleted ones finish their deletion. */
static void restore(struct sbxd *d)
{
	struct sbx_buf p = SBX_BUF_INIT;
	size_t i, n;
	int r = sbxd_path(d, &p, "db.json");

	if (r == 0)
		r = sbxd_db_load(&d->store, p.data);
	if (r < 0)
		sbx_log(SBX_LOG_ERR, "cannot read %s (%s): starting with no sandbox", p.data,
			strerror(-r));
	sbx_buf_release(&p);
	n = d->store.nsvcs;
	for (i = 0; i < n && i < d->store.nsvcs; i++) {
		struct sbxd_svc *v = d->store.svcs[i];

		if (v->deleting)
			sbxd_sandbox_stop(d, v);
		else
			sbxd_sandbox_schedule(d, v);
	}
	for (i = 0; i < d->store.napps; i++)
		if (d->store.apps[i]->deleting && !d->store.apps[i]->tomb)
			sbxd_app_delete(d, d->store.apps[i]);
	if (d->store.nsvcs || d->store.napps)
		sbx_log(SBX_LOG_INFO, "restored %zu apps and %zu sandboxes", d->store.napps,
			d->store.nsvcs);
}

/* The host part of --listen as a client should use it in a URL. */
static void client_host(const char *listen_addr, char *out, size_t outlen)
{
	const char *colon = strrchr(listen_addr, ':');
	size_t hl = colon ? (size_t)(colon - listen_addr) : strlen(listen_addr);
	char host[128];

	snprintf(host, sizeof(host), "%.*s", (int)hl, listen_addr);
	if (!strcmp(host, "0.0.0.0") || !host[0])
		snprintf(out, outlen, "127.0.0.1");
	else if (!strcmp(host, "[::]"))
		snprintf(out, outlen, "[::1]");
	else
		snprintf(out, outlen, "%s", host);
}

static int start_up(struct sbxd *d)
{
	int r;

	r = setup_state_dir(d);
	if (r == 0)
		r = take_lock(d);
	if (r == 0) {
		r = sbxd_token_load(d->state_dir.data, &d->token);
		if (r < 0)
			sbx_log(SBX_LOG_ERR, "cannot read or create %s/token: %s",
				d->state_dir.data, strerror(-r));
	}
	if (r == 0)
		r = find_tools(&d->tools, d->network);
	if (r == 0) {
		r = sbxd_seccomp_build(&d->filter);
		if (r < 0)
			sbx_log(SBX_LOG_ERR, "cannot build the seccomp filter: %s", strerror(-r));
	}
	if (r == 0)
		r = private_mounts();
	if (r < 0)
		return r;
	raise_nofile();
	sbxd_cg_detect(&d->cg);
	if (!d->cg.version)
		sbx_log(SBX_LOG_WARN,
			"no usable cgroup hierarchy: instance types are not enforced");
	d->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (d->ncpu < 1)
		d->ncpu = 1;
	r = sbxd_loop_new(&d->loop);
	if (r == 0)
		r = setup_signals(d);
	if (r < 0) {
		sbx_log(SBX_LOG_ERR, "event loop setup: %s", strerror(-r));
		return r;
	}
	r = sbxd_http_server_new(d->loop, d->listen, sbxd_api_handle, d, &d->http);
	if (r < 0) {
		sbx_log(SBX_LOG_ERR, "cannot listen on %s: %s", d->listen, strerror(-r));
		return r;
	}
	client_host(d->listen, d->listen_host, sizeof(d->listen_host));
	return 0;
}

static void tear_down(struct sbxd *d)
{
	size_t i;

	/* normally empty by now; a sandbox that did not stop in time still
	 * has its overlay detached here (its processes die with bwrap) */
	for (i = 0; i < d->store.nsvcs; i++) {
		if (d->store.svcs[i]->sb) {
			struct sbx_buf dir = SBX_BUF_INIT;

			if (sbxd_sandbox_dir(d, d->store.svcs[i]->id, &dir) == 0) {
				char root[PATH_MAX];

				if (sbxd_pathf(root, sizeof(root), "%s/root", dir.data) == 0)
					umount2(root, MNT_DETACH);
			}
			sbx_buf_release(&dir);
		}
	}
	sbxd_executor_free(d);
	sbxd_http_server_free(d->http);
	d->http = NULL;
	if (d->sig_fd >= 0) {
		sbxd_loop_unwatch(d->loop, &d->sig_w);
		close(d->sig_fd);
	}
	sbxd_loop_free(d->loop);
	d->loop = NULL;
}

int sbxd_run(struct sbxd *d)
{
	int r;

	d->lock_fd = d->sig_fd = -1;
	d->sig_w.fd = -1;
	r = start_up(d);
	if (r < 0)
		goto out;
	restore(d);
	r = write_runfile(d);
	if (r < 0)
		goto out;
	sbx_log(SBX_LOG_INFO, "sbxd %s listening on http://%s:%d, state in %s", SBX_VERSION,
		d->listen_host, sbxd_http_server_port(d->http), d->state_dir.data);
	r = sbxd_loop_run(d->loop);
	if (r < 0)
		sbx_log(SBX_LOG_ERR, "event loop: %s", strerror(-r));
	remove_runfile(d);
out:
	if (d->loop)
		tear_down(d);
	for (size_t i = 0; i < d->store.nsvcs; i++)
		d->store.svcs[i]->sb = NULL; /* runtime memory goes with the process */
	sbxd_store_release(&d->store);
	sbxd_seccomp_release(&d->filter);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	return r < 0 ? 1 : 0;
}
