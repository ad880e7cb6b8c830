/* main.c - sbxfs: mounts a sandbox's filesystem with FUSE.
 *
 *   sbxfs [-f] [-d] [-o OPTS] SANDBOX[:/remote/dir] MOUNTPOINT
 *
 * Order: parse options, find the credentials, connect once in the
 * foreground (so a wrong sandbox or an unreachable host is reported before
 * anything is mounted), mount, daemonize, connect again in the daemon (the
 * client's transport thread does not survive the fork), serve with the
 * multithreaded loop, and tear down in the reverse order. Exit status: 0
 * after a clean unmount, 1 on an error, 2 on a usage error.
 */
#include "fs/fuse_inc.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fs/fcache.h"
#include "fs/fs.h"
#include "fs/later.h"
#include "fs/inval.h"
#include "fs/mount.h"
#include "fs/wback.h"
#include "fs/opts.h"
#include "util/statedir.h"

static int resolve(const struct sbxfs_opts *o, struct sbxfs_creds *cr)
{
	struct sbx_buf state = SBX_BUF_INIT;
	char msg[512];
	int r;

	r = sbx_state_dir(&state);
	r = sbxfs_creds_resolve(o, getenv("KOYEB_API_TOKEN"), getenv("KOYEB_API_HOST"),
				r == 0 ? state.data : NULL, cr, msg, sizeof(msg));
	if (r < 0)
		fprintf(stderr, "sbxfs: %s\n", msg);
	sbx_buf_release(&state);
	return r;
}

static int serve(struct fuse_session *se, const struct sbxfs_opts *o)
{
	struct fuse_loop_config *cfg;
	int r;

	if (o->singlethread)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_max_threads(cfg, (unsigned)o->max_threads);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

/* Names the mount: type fuse.sbxfs, source SANDBOX:/remote/dir (what
 * `sbx exec` and `sbx umount` look for in /proc/self/mountinfo); adds
 * default_permissions with allow_other (opts.h). */
static int mount_args(struct fuse_args *args, const struct sbxfs_opts *o)
{
	char *opt = NULL;
	int r;

	r = sbxfs_opts_mount_args(o, &opt);
	r = r ?: fuse_opt_add_arg(args, "-o");
	r = r ?: fuse_opt_add_arg(args, opt);
	free(opt);
	return r;
}

/* Mounts and serves until unmounted; 0 or 1. */
static int run(struct sbx_fs *fs, struct fuse_args *args, const struct sbxfs_creds *cr)
{
	const struct sbxfs_opts *o = fs->opts;
	struct fuse_session *se;
	struct inval *iv = NULL;
	char msg[1024];
	int rc = 1;

	if (mount_args(args, o) < 0)
		return 1;
	se = fuse_session_new(args, &sbxfs_ll_ops, sizeof(sbxfs_ll_ops), fs);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, o->mountpoint) != 0)
		goto out_signals;
	if (fuse_daemonize(o->foreground) != 0)
		goto out_unmount;
	if (!fs->client && sbxfs_connect(fs, cr, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "sbxfs: %s\n", msg);
		goto out_unmount;
	}
	if (inval_start(fs, &iv) < 0) /* threads, after the fork */
		goto out_unmount;
	__atomic_store_n(&fs->inval, iv, __ATOMIC_RELEASE); /* change reports may come now */
	if (!o->sync_close && wback_start(fs, o->empty_delay, &fs->wb) < 0)
		fs->wb = NULL; /* every close stores: slower, not wrong */
	if (sbx_rfs_submits_async(fs->rfs) && bgrun_new(&fs->bg) < 0)
		fs->bg = NULL; /* requests wait for a file's lock on their worker */
	fs->se = se;
	rc = serve(se, o) == 0 ? 0 : 1;
	/* the requests handed over (later.h) are answered while the kernel
	 * can still take the replies (a SIGTERM, not an unmount, ended serve) */
	later_drain(fs);
	fuse_session_unmount(se);
	sbxfs_teardown(fs);
	bgrun_free(fs->bg); /* idle: later_drain() waited for its jobs */
	fs->bg = NULL;
	fs->se = NULL;
	goto out_signals;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return rc;
}

/* Open files and idle caches each hold a descriptor: allow what the hard
 * limit allows, and size the idle caches' bound by it. */
static void raise_nofile(struct sbx_fs *fs)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		fs->idle_max = FCACHE_IDLE_MIN;
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	fs->idle_max = fcache_idle_limit(rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur);
}

/* The frames of stores and writes are 1 MiB each, made and freed by many
 * threads. glibc raises its mmap threshold to the size of the first such
 * block freed, so that the next ones come from the threads' arenas, which
 * keep them once freed: with 16 workers and the write-behind threads that
 * is tens of MiB held for nothing (a 256 MiB write peaked at 29 MiB of
 * RSS, 100 closes of 4 MB files at once at 50 MiB; 21 and 25 MiB with the
 * threshold fixed, write throughput within the noise). A fixed threshold
 * keeps blocks this large in mappings of their own, given back on free. */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct sbxfs_creds cr = {0};
	struct sbxfs_opts o;
	struct sbx_fs fs;
	char msg[1024];
	int rc = 1;

	tune_malloc();
	memset(&fs, 0, sizeof(fs));
	fs.cache_dirfd = -1;
	if (sbxfs_opts_parse(&args, &o) < 0) {
		rc = 2;
		goto out;
	}
	if (o.show_help || o.show_version) {
		if (o.show_help)
			sbxfs_usage(argv[0]);
		else
			printf("sbxfs %s (libfuse %s)\n", SBX_VERSION, fuse_pkgversion());
		rc = 0;
		goto out;
	}
	fs.opts = &o;
	fs.root = o.remote_dir;
	raise_nofile(&fs);
	if (resolve(&o, &cr) < 0)
		goto out;
	if (sbxfs_connect(&fs, &cr, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "sbxfs: %s\n", msg);
		goto out;
	}
	if (!o.foreground)
		sbxfs_disconnect(&fs); /* reconnected after the fork */
	if (sbxfs_setup(&fs, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "sbxfs: %s\n", msg);
		goto out_free;
	}
	rc = run(&fs, &args, &cr);
out_free:
	sbxfs_disconnect(&fs);
	sbxfs_free(&fs);
out:
	sbxfs_creds_release(&cr);
	sbxfs_opts_release(&o);
	fuse_opt_free_args(&args);
	return rc;
}
