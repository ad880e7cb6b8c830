/* changes.h - changes made in the sandbox, reported by the agent, applied
 * to the mount's caches.
 *
 * The agent watches every directory sbxfs has listed or looked into
 * (fs_watch_dir) and reports each change there with the entry's fresh
 * attributes. The report is queued from libsbx's transport thread to the
 * invalidation thread (inval.h), which updates what is cached where it
 * happened: the listing's entry, the node's attributes, an idle file
 * cache whose version is gone, negative entries, and tells the kernel
 * (fuse_lowlevel_notify_inval_*). So caches of watched directories can
 * live for watch_timeout, and a change made by any process of the sandbox
 * shows in the mount as soon as its report arrives.
 *
 * Stale reports: every attribute carries the place in the agent's stream
 * where it was seen (sbx_rfs_attr.seq); a report older than what is cached
 * (our own later reply, or a later report) is ignored, and our own
 * changes, whose attributes we already hold, change nothing.
 */
#ifndef SBX_FS_CHANGES_H
#define SBX_FS_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

#include "sbx/rfs.h"

struct sbx_fs;

struct fs_change {
	char *dir;  /* owned: the watched directory's remote path ("" for RESET) */
	char *name; /* owned: the entry, "" for the directory itself */
	unsigned mask;
	bool has_attr;
	struct sbx_rfs_attr attr;
	uint64_t seq;
};

/* The sbx_rfs_change_fn of a mount (ud is the struct sbx_fs): copies the
 * report and queues it. Never blocks; drops it once the mount is going. */
void fs_on_change(void *ud, const char *dir, const char *name, unsigned mask,
		  const struct sbx_rfs_attr *attr, uint64_t seq);
/* Applies one report (invalidation thread; fs->lock NOT held). */
void fs_apply_change(struct sbx_fs *fs, const struct fs_change *ch);
/* Accepts NULL. */
void fs_change_free(struct fs_change *ch);

#endif
