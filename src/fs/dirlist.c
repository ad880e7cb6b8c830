/* dirlist.c - cached directory listings; see dirlist.h. */
#include "fs/dirlist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fs/hash.h"

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

/* The readdir order goes with any change (rebuilt on next use). */
static void drop_order(struct dirlist *l)
{
	free(l->keys);
	free(l->order);
	l->keys = NULL;
	l->order = NULL;
}

void dirlist_unref(struct dirlist *l)
{
	if (!l || --l->refs > 0)
		return;
	drop_order(l);
	sbx_rfs_dir_release(&l->d);
	free(l);
}

uint64_t dirlist_name_hash(const char *name)
{
	return fs_str_hash(0, name);
}

static int by_key(const void *a, const void *b, void *ctx)
{
	const uint64_t *keys = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (keys[x] != keys[y])
		return keys[x] < keys[y] ? -1 : 1;
	return x < y ? -1 : x > y; /* same hash: by name */
}

/* A key is 23 bits of the name's hash, then 8 of its rank among the
 * names of the same hash (in name order): unique, above DIRLIST_KEY_MIN,
 * and below 2^31, so that a 32-bit program's getdents (a 32-bit d_off)
 * takes it too. Two names share a key only past 256 of one hash. A name
 * of a hash other names have may move within their ranks when one of
 * them comes or goes: a read under way could then skip or repeat one of
 * those few names (in a directory of 10,000 names, about one name in 840
 * has a hash another has). */
int dirlist_walk(struct dirlist *l)
{
	size_t i, rank = 0;

	if (l->order || !l->d.n)
		return 0;
	if (l->d.n > UINT32_MAX)
		return -ENOMEM;
	l->keys = malloc(l->d.n * sizeof(*l->keys));
	l->order = malloc(l->d.n * sizeof(*l->order));
	if (!l->keys || !l->order) {
		drop_order(l);
		return -ENOMEM;
	}
	for (i = 0; i < l->d.n; i++) {
		uint64_t h = dirlist_name_hash(l->d.ents[i].name) >> 41;

		l->keys[i] = (h ? h : 1) << 8;
		l->order[i] = (uint32_t)i;
	}
	qsort_r(l->order, l->d.n, sizeof(*l->order), by_key, l->keys);
	for (i = 1; i < l->d.n; i++) {
		uint64_t *k = &l->keys[l->order[i]];

		rank = (*k >> 8) == (l->keys[l->order[i - 1]] >> 8) ? rank + 1 : 0;
		*k |= rank < 255 ? rank : 255;
	}
	return 0;
}

size_t dirlist_after(const struct dirlist *l, uint64_t off)
{
	size_t lo = 0, hi = l->order ? l->d.n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->keys[l->order[mid]] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct sbx_rfs_dirent *dirlist_at(const struct dirlist *l, size_t k, uint64_t *key)
{
	*key = l->keys[l->order[k]];
	return &l->d.ents[l->order[k]];
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
	drop_order(l); /* a new name */
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
	drop_order(l);
	free(l->d.ents[i].name);
	free(l->d.ents[i].link);
	free(l->d.ents[i].xattrs);
	memmove(&l->d.ents[i], &l->d.ents[i + 1], (l->d.n - i - 1) * sizeof(l->d.ents[0]));
	l->d.n--;
}
