/* prefetch.h - where a directory's first read fetches small files from.
 *
 * Reading the first file of a directory brings the small files of a whole
 * subtree in one listing (fcache.c: fill_from_dir). Which subtree matters:
 * a walk (grep -r, cp -a) often enters a subdirectory before it reads a
 * file of its parent, and a fill made from each directory in turn would
 * cost a round trip a directory and send the deeper files again. So the
 * fill starts from the highest ancestor whose subtree the cached listings
 * describe completely and whose small files fit the byte and entry bounds.
 */
#ifndef SBX_FS_PREFETCH_H
#define SBX_FS_PREFETCH_H

#include <stdint.h>

#include "fs/fs.h"

/* The directory to fill for a first read in directory p (fs->lock held):
 * p itself, or its highest ancestor, within the mount, that is not filled
 * yet this epoch and whose subtree is completely listed in the cache with
 * at most max_bytes of files of at most file_max bytes and at most
 * max_entries entries. */
struct node *prefetch_top(struct sbx_fs *fs, struct node *p, uint64_t file_max, uint64_t max_bytes,
			  uint64_t max_entries);

#endif
