/* inval.h - the invalidation thread of a mount.
 *
 * A job that ends must make its changes visible before anyone learns that
 * it ended: its callback (on the transport thread, which must not block)
 * posts a task here; this thread drops every cache and tells the kernel
 * (fuse_lowlevel_notify_inval_*, which may wait for kernel locks held by
 * requests that our FUSE workers are serving), and only then runs the
 * task's function (which publishes the end of the job).
 */
#ifndef SBX_FS_INVAL_H
#define SBX_FS_INVAL_H

#include <stdint.h>

struct sbx_fs;
struct inval;
struct fs_change;

int inval_start(struct sbx_fs *fs, struct inval **ret);
/* Queues: drop all caches, then fn(ud). Never blocks. After inval_stop,
 * fn runs at once on the caller's thread (no kernel to tell). */
void inval_post(struct inval *iv, void (*fn)(void *ud), void *ud);
/* Queues fn(ud) to run after the change events queued before it, with no
 * cache drop: for the end of a job whose effects those events report
 * (sbx_rfs_proc_ordered). Never blocks. */
void inval_post_ordered(struct inval *iv, void (*fn)(void *ud), void *ud);
/* Queues a change event (taken: freed here), applied in order with the
 * other tasks (changes.h). Never blocks; dropped once stopped. */
void inval_post_change(struct inval *iv, struct fs_change *ch);
/* Runs what is queued, then stops the thread and frees. Accepts NULL. */
void inval_stop(struct inval *iv);

#endif
