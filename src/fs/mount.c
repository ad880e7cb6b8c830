/* mount.c - bringing a mount's state up and down; see mount.h. */
#include "fs/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/changes.h"
#include "fs/conns.h"
#include "fs/ops.h"
#include "fs/ctl/ctl.h"
#include "fs/dirlist.h"
#include "fs/fcache.h"
#include "fs/later.h"
#include "fs/wback.h"
#include "fs/inval.h"
#include "util/log.h"

/* Removes the temporaries of stores that were killed mid-way (a previous
 * sbxfs or sbxd killed): see sbx_rfs_sweep(). Not on a read-only mount; a
 * failed sweep does not fail the mount (the next one retries). */
static void sweep(struct sbx_fs *fs)
{
	struct sbx_err err = {0};
	unsigned n = 0;

	if (fs->opts->ro)
		return;
	if (sbx_rfs_sweep(fs->rfs, &n, &err) < 0)
		sbx_debug("sbxfs: sweep of interrupted stores failed: %s", err.msg);
	else if (n)
		sbx_debug("sbxfs: removed %u temporaries of interrupted stores", n);
}

static enum sbx_rfs_transport transport_of(const char *name)
{
	if (name && !strcmp(name, "agent"))
		return SBX_RFS_TRANSPORT_AGENT;
	if (name && !strcmp(name, "shell"))
		return SBX_RFS_TRANSPORT_SHELL;
	return SBX_RFS_TRANSPORT_AUTO;
}

int sbxfs_connect(struct sbx_fs *fs, const struct sbxfs_creds *cr, char *msg, size_t cap)
{
	struct sbx_client_opts co = {0};
	struct sbx_rfs_opts ro = {0};
	struct sbx_err err = {0};
	struct sbx_rfs_attr a;
	const char *root = fs->root[0] ? fs->root : "/";
	int r;

	sbxfs_creds_client_opts(cr, &co);
	r = sbx_client_new(&co, &fs->client, &err);
	if (r < 0) {
		snprintf(msg, cap, "cannot open the API client: %s", err.msg);
		goto fail;
	}
	r = sbx_sandbox_open(fs->client, fs->opts->sandbox, &fs->sb, &err);
	if (r < 0) {
		snprintf(msg, cap, "sandbox %s: %s", fs->opts->sandbox, err.msg);
		goto fail;
	}
	ro.op_timeout_s = fs->opts->op_timeout;
	ro.transport = transport_of(fs->opts->transport);
	ro.on_change = fs_on_change;
	if (fs->opts->prefetch_kb > 0 && fs->opts->data_cache_mb > 0) {
		ro.prefetch_file_max = (uint32_t)fs->opts->prefetch_kb << 10;
		ro.prefetch_total_max = SBXFS_PREFETCH_DIR_MAX;
	}
	ro.change_ud = fs;
	r = sbx_rfs_new(fs->sb, &ro, &fs->rfs);
	if (r < 0) {
		snprintf(msg, cap, "out of memory");
		goto fail;
	}
	r = sbx_rfs_connect(fs->rfs, &err);
	if (r < 0) {
		snprintf(msg, cap, "sandbox %s: %s", fs->opts->sandbox, err.msg);
		goto fail;
	}
	fs->watching = sbx_rfs_reports_changes(fs->rfs) && fs->opts->watch_timeout > 0;
	r = sbx_rfs_stat(fs->rfs, root, &a, &err);
	if (r == 0 && !S_ISDIR(a.mode)) {
		r = -ENOTDIR;
		snprintf(msg, cap, "%s:%s is not a directory", fs->opts->sandbox, root);
	} else if (r < 0) {
		snprintf(msg, cap, "%s:%s: %s", fs->opts->sandbox, root, err.msg);
	}
	if (r < 0)
		goto fail;
	fs->root_attr = a;
	fs->creds = cr; /* for the sessions of max_conns, opened when wanted */
	sweep(fs);
	return 0;
fail:
	sbxfs_disconnect(fs);
	return r;
}

void sbxfs_disconnect(struct sbx_fs *fs)
{
	conns_close(fs);
	sbx_rfs_free(fs->rfs);
	fs->rfs = NULL;
	sbx_sandbox_free(fs->sb);
	fs->sb = NULL;
	sbx_client_free(fs->client);
	fs->client = NULL;
}

static int open_cache_dir(struct sbx_fs *fs, char *msg, size_t cap)
{
	const char *d = fs->opts->cache_dir;

	if (!d)
		d = getenv("TMPDIR");
	if (!d || !*d)
		d = "/tmp";
	fs->cache_dirfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->cache_dirfd < 0) {
		snprintf(msg, cap, "cache dir %s: %s", d, strerror(errno));
		return -errno;
	}
	return 0;
}

int sbxfs_setup(struct sbx_fs *fs, char *msg, size_t cap)
{
	int r;

	fs->cache_dirfd = -1;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->access.owner = fs->uid;
	fs->access.allow_other = fs->opts->allow_other != 0;
	clock_gettime(CLOCK_REALTIME, &fs->mount_time);
	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->later_cv, NULL);
	r = node_table_init(&fs->nodes);
	if (r < 0) {
		snprintf(msg, cap, "out of memory");
		return r;
	}
	fs->nodes.root->attr = fs->root_attr;
	fs->nodes.root->attr_expire = fs_expiry(fs->opts->attr_timeout);
	r = open_cache_dir(fs, msg, cap);
	if (r == 0 && (r = ctl_new(fs, &fs->ctl)) < 0)
		snprintf(msg, cap, "out of memory");
	return r;
}

void sbxfs_teardown(struct sbx_fs *fs)
{
	int r;

	wback_stop(fs->wb); /* stores what closes queued */
	fs->wb = NULL;
	r = fs->rfs ? fs_flush_all(fs) : 0;
	ops_release_all(fs);
	ops_releasedir_all(fs);
	ctl_release_all(fs->ctl);

	if (r < 0)
		fprintf(stderr, "sbxfs: some files could not be stored at unmount: %s\n",
			strerror(-r));
	ctl_shutdown(fs->ctl, 10);
	fcache_drop_idle(fs);
	if (fs->rfs)
		sbx_rfs_events_off(fs->rfs); /* no report may reach the queue freed below */
	inval_stop(fs->inval);
	__atomic_store_n(&fs->inval, NULL, __ATOMIC_RELEASE);
}

void sbxfs_free(struct sbx_fs *fs)
{
	size_t i;

	ctl_free(fs->ctl);
	fs->ctl = NULL;
	if (fs->nodes.by_id)
		node_table_release(&fs->nodes);
	for (i = 0; i < FS_NEG_MAX; i++)
		free(fs->negs[i].name);
	if (fs->cache_dirfd >= 0)
		close(fs->cache_dirfd);
	fs->cache_dirfd = -1;
	pthread_cond_destroy(&fs->later_cv);
	pthread_mutex_destroy(&fs->lock);
}
