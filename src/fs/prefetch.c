/* prefetch.c - the subtree a first read fills (prefetch.h). */
#include "fs/prefetch.h"

#include <sys/stat.h>

#include "fs/dirlist.h"
#include "fs/node.h"

/* Deeper than this, a subtree is not measured (nor filled from above). */
#define PREFETCH_DEPTH_MAX 32

struct measure {
	struct sbx_fs *fs;
	uint64_t file_max, bytes, entries;
	uint64_t max_bytes, max_entries;
};

/* Adds n's cached subtree to m: false when some part of it has no fresh
 * listing or a bound is passed. */
static bool measure(struct measure *m, struct node *n, unsigned depth)
{
	struct dirlist *l = fs_fresh_list(m->fs, n);
	size_t i;

	if (!l || depth > PREFETCH_DEPTH_MAX)
		return false;
	for (i = 0; i < l->d.n; i++) {
		const struct sbx_rfs_dirent *e = &l->d.ents[i];

		if (++m->entries > m->max_entries)
			return false;
		if (S_ISREG(e->attr.mode) && e->attr.size <= m->file_max) {
			m->bytes += e->attr.size;
			if (m->bytes > m->max_bytes)
				return false;
		} else if (S_ISDIR(e->attr.mode)) {
			struct node *c = node_child(&m->fs->nodes, n, e->name);

			if (!c || !measure(m, c, depth + 1))
				return false;
		}
	}
	return true;
}

struct node *prefetch_top(struct sbx_fs *fs, struct node *p, uint64_t file_max, uint64_t max_bytes,
			  uint64_t max_entries)
{
	uint64_t ep1 = fs_epoch(fs) + 1;
	struct node *top = p, *a;
	unsigned up = 0;

	for (a = p->parent; a && up < PREFETCH_DEPTH_MAX; a = a->parent, up++) {
		struct measure m = {.fs = fs,
				    .file_max = file_max,
				    .max_bytes = max_bytes,
				    .max_entries = max_entries};

		/* The top of a fill this epoch brought all its subtree could:
		 * a second one would bring nothing new. An ancestor marked
		 * only because its own files came (ops_install_subdirs: a
		 * listing's byte bound, breadth first, left its deeper
		 * directories out) is still worth filling from. */
		if (a->data_epoch == ep1 && a->data_evicted == fs->idle_evicted && a->data_top)
			break;
		if (!measure(&m, a, 0))
			break;
		top = a;
	}
	return top;
}
