/* dirlist.c - cached directory listings; see dirlist.h. */
#include "fs/dirlist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
	const struct sbx_rfs_dirent *x = a, *y = b;

	return strcmp(x->name, y->name);
}

struct dirlist *dirlist_new(struct sbx_rfs_dir *d, int64_t expire, uint64_t epoch)
{
	struct dirlist *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->d = *d;
	memset(d, 0, sizeof(*d));
	if (l->d.n > 1)
		qsort(l->d.ents, l->d.n, sizeof(l->d.ents[0]), by_name);
	l->expire = expire;
	l->epoch = epoch;
	l->refs = 1;
	return l;
}

struct dirlist *dirlist_ref(struct dirlist *l)
{
	l->refs++;
	return l;
}

void dirlist_unref(struct dirlist *l)
{
	if (!l || --l->refs > 0)
		return;
	sbx_rfs_dir_release(&l->d);
	free(l);
}

const struct sbx_rfs_dirent *dirlist_find(const struct dirlist *l, const char *name)
{
	struct sbx_rfs_dirent key = {.name = (char *)name};

	if (!l->d.n)
		return NULL;
	return bsearch(&key, l->d.ents, l->d.n, sizeof(key), by_name);
}

struct dirlist *dirlist_new_empty(const struct sbx_rfs_attr *self, int64_t expire, uint64_t epoch)
{
	struct sbx_rfs_dir d = {0};

	d.self = *self;
	return dirlist_new(&d, expire, epoch);
}

/* Index where name is or would be inserted; *found says which. */
static size_t position(const struct dirlist *l, const char *name, bool *found)
{
	size_t lo = 0, hi = l->d.n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->d.ents[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int dirlist_set(struct dirlist *l, const char *name, const struct sbx_rfs_attr *a, const char *link)
{
	struct sbx_rfs_dirent e = {0}, *v;
	bool found;
	size_t i = position(l, name, &found);

	e.attr = *a;
	e.name = strdup(name);
	e.link = link ? strdup(link) : NULL;
	if (!e.name || (link && !e.link))
		goto nomem;
	if (found) {
		free(l->d.ents[i].name);
		free(l->d.ents[i].link);
		free(l->d.ents[i].xattrs); /* no longer known */
		l->d.ents[i] = e;
		return 0;
	}
	v = realloc(l->d.ents, (l->d.n + 1) * sizeof(*v));
	if (!v)
		goto nomem;
	l->d.ents = v;
	memmove(&v[i + 1], &v[i], (l->d.n - i) * sizeof(*v));
	v[i] = e;
	l->d.n++;
	return 0;
nomem:
	free(e.name);
	free(e.link);
	return -ENOMEM;
}

void dirlist_del(struct dirlist *l, const char *name)
{
	bool found;
	size_t i = position(l, name, &found);

	if (!found)
		return;
	free(l->d.ents[i].name);
	free(l->d.ents[i].link);
	free(l->d.ents[i].xattrs);
	memmove(&l->d.ents[i], &l->d.ents[i + 1], (l->d.n - i - 1) * sizeof(l->d.ents[0]));
	l->d.n--;
}
