/* node.c - the inode table; see node.h for the invariants.
 *
 * Two intrusive chained hashes (by id; by parent id + name) that grow
 * together when the load passes 1. Pure data structure: no FUSE, no I/O,
 * no locking (the owner holds fs->lock), so it is unit-tested directly.
 */
#include "fs/node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/dirlist.h"
#include "fs/hash.h"
#include "util/timeutil.h"

static uint64_t name_hash(uint64_t parent, const char *name)
{
	return fs_str_hash(fs_mix64(parent), name);
}

static size_t id_slot(const struct node_table *t, uint64_t id)
{
	return (size_t)(fs_mix64(id) & (t->cap - 1));
}

static size_t name_slot(const struct node_table *t, uint64_t parent, const char *name)
{
	return (size_t)(name_hash(parent, name) & (t->cap - 1));
}

static void hash_id_add(struct node_table *t, struct node *n)
{
	size_t s = id_slot(t, n->id);

	n->next_id = t->by_id[s];
	t->by_id[s] = n;
}

static void hash_name_add(struct node_table *t, struct node *n)
{
	size_t s = name_slot(t, n->parent->id, n->name);

	n->next_name = t->by_name[s];
	t->by_name[s] = n;
}

static void hash_id_del(struct node_table *t, struct node *n)
{
	struct node **pp = &t->by_id[id_slot(t, n->id)];

	while (*pp && *pp != n)
		pp = &(*pp)->next_id;
	if (*pp)
		*pp = n->next_id;
}

static void hash_name_del(struct node_table *t, struct node *n)
{
	struct node **pp = &t->by_name[name_slot(t, n->parent->id, n->name)];

	while (*pp && *pp != n)
		pp = &(*pp)->next_name;
	if (*pp)
		*pp = n->next_name;
}

/* Doubles both hashes; keeps the old ones on ENOMEM (chains get longer). */
static void grow(struct node_table *t)
{
	struct node **oid = t->by_id, **oname = t->by_name;
	size_t ocap = t->cap, i;
	struct node *n, *next;

	t->by_id = calloc(ocap * 2, sizeof(*t->by_id));
	t->by_name = calloc(ocap * 2, sizeof(*t->by_name));
	if (!t->by_id || !t->by_name) {
		free(t->by_id);
		free(t->by_name);
		t->by_id = oid;
		t->by_name = oname;
		return;
	}
	t->cap = ocap * 2;
	for (i = 0; i < ocap; i++) {
		for (n = oid[i]; n; n = next) {
			next = n->next_id;
			hash_id_add(t, n);
		}
		for (n = oname[i]; n; n = next) {
			next = n->next_name;
			hash_name_add(t, n);
		}
	}
	free(oid);
	free(oname);
}

int node_table_init(struct node_table *t)
{
	memset(t, 0, sizeof(*t));
	t->cap = 1024;
	t->by_id = calloc(t->cap, sizeof(*t->by_id));
	t->by_name = calloc(t->cap, sizeof(*t->by_name));
	t->root = calloc(1, sizeof(*t->root));
	if (!t->by_id || !t->by_name || !t->root) {
		node_table_release(t);
		return -ENOMEM;
	}
	t->root->id = NODE_ROOT_ID;
	t->next_id = NODE_ROOT_ID + 1;
	hash_id_add(t, t->root);
	t->count = 1;
	return 0;
}

static void node_free(struct node *n)
{
	dirlist_unref(n->list);
	dirlist_unref(n->read_list);
	free(n->xlist);
	free(n->link);
	free(n->name);
	free(n);
}

void node_table_release(struct node_table *t)
{
	size_t i;
	struct node *n, *next;

	for (i = 0; t->by_id && i < t->cap; i++) {
		for (n = t->by_id[i]; n; n = next) {
			next = n->next_id;
			node_free(n);
		}
	}
	if (!t->by_id)
		free(t->root);
	free(t->by_id);
	free(t->by_name);
	memset(t, 0, sizeof(*t));
}

struct node *node_get(struct node_table *t, uint64_t id)
{
	struct node *n;

	for (n = t->by_id[id_slot(t, id)]; n; n = n->next_id)
		if (n->id == id)
			return n;
	return NULL;
}

struct node *node_child(struct node_table *t, const struct node *parent, const char *name)
{
	struct node *n;

	for (n = t->by_name[name_slot(t, parent->id, name)]; n; n = n->next_name)
		if (n->parent == parent && !strcmp(n->name, name))
			return n;
	return NULL;
}

struct node *node_new_child(struct node_table *t, struct node *parent, const char *name)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	if (t->count >= t->cap)
		grow(t);
	n->id = t->next_id++;
	n->parent = parent;
	parent->refs++;
	hash_id_add(t, n);
	hash_name_add(t, n);
	t->count++;
	return n;
}

/* Frees n if nothing holds it, then walks up to its parent. */
static void maybe_free(struct node_table *t, struct node *n)
{
	while (n && n != t->root && n->nlookup == 0 && n->refs == 0) {
		struct node *parent = n->parent;

		if (parent)
			hash_name_del(t, n);
		hash_id_del(t, n);
		t->count--;
		node_free(n);
		if (!parent)
			break;
		parent->refs--;
		n = parent;
	}
}

void node_detach(struct node_table *t, struct node *n)
{
	struct node *parent = n->parent;

	if (!parent)
		return;
	hash_name_del(t, n);
	n->parent = NULL;
	free(n->name);
	n->name = NULL;
	parent->refs--;
	maybe_free(t, parent);
	maybe_free(t, n);
}

int node_move(struct node_table *t, struct node *n, struct node *parent, const char *name)
{
	struct node *old = n->parent;
	char *nm = strdup(name);

	if (!nm)
		return -ENOMEM;
	if (old)
		hash_name_del(t, n);
	free(n->name);
	n->name = nm;
	n->parent = parent;
	parent->refs++;
	hash_name_add(t, n);
	if (old) {
		old->refs--;
		maybe_free(t, old);
	}
	return 0;
}

void node_forget(struct node_table *t, struct node *n, uint64_t count)
{
	n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
	maybe_free(t, n);
}

void node_ref(struct node *n)
{
	n->refs++;
}

void node_unref(struct node_table *t, struct node *n)
{
	if (n->refs)
		n->refs--;
	maybe_free(t, n);
}

/* Appends the names from the root down to n, each after a '/'. */
static int put_names(const struct node *n, struct sbx_buf *out)
{
	int r;

	if (!n->parent)
		return 0;
	r = put_names(n->parent, out);
	if (!r)
		r = sbx_buf_putc(out, '/');
	return r ?: sbx_buf_puts(out, n->name);
}

int node_path(const struct node *n, const char *root, struct sbx_buf *out)
{
	const struct node *a = n;
	int r;

	while (a->parent)
		a = a->parent;
	if (a->id != NODE_ROOT_ID)
		return -ESTALE;
	r = sbx_buf_puts(out, root);
	if (!r)
		r = put_names(n, out);
	if (!r && out->len == 0)
		r = sbx_buf_putc(out, '/');
	return r;
}

int node_child_path(const struct node *parent, const char *root, const char *name,
		    struct sbx_buf *out)
{
	int r = node_path(parent, root, out);

	if (!r && !(out->len == 1 && out->data[0] == '/'))
		r = sbx_buf_putc(out, '/');
	return r ?: sbx_buf_puts(out, name);
}

void node_foreach(struct node_table *t, void (*fn)(struct node *n, void *ud), void *ud)
{
	size_t i;
	struct node *n;

	for (i = 0; i < t->cap; i++)
		for (n = t->by_id[i]; n; n = n->next_id)
			fn(n, ud);
}

bool node_kernel_keeps(struct node *n, bool fresh)
{
	bool keep = fresh && n->kver_ok && n->kver_ino == n->attr.ino &&
		    n->kver_size == n->attr.size && sbx_ts_equal(&n->kver_mtime, &n->attr.mtime) &&
		    sbx_ts_equal(&n->kver_ctime, &n->attr.ctime);

	n->kver_ok = fresh;
	n->kver_ino = n->attr.ino;
	n->kver_size = n->attr.size;
	n->kver_mtime = n->attr.mtime;
	n->kver_ctime = n->attr.ctime;
	return keep;
}
