/* test_fs_node.c - the inode table (src/fs/node.c) and cached listings
 * (src/fs/dirlist.c): paths under a root prefix, detach and move, freeing
 * when both the kernel's lookups and the internal references are gone, the
 * growth of the hashes, and binary search in a listing.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/dirlist.h"
#include "fs/node.h"

static const char *path_of(const struct node *n, const char *root)
{
	static char out[256];
	struct sbx_buf b = SBX_BUF_INIT;
	int r = node_path(n, root, &b);

	snprintf(out, sizeof(out), "%s", r == 0 ? b.data : r == -ESTALE ? "ESTALE" : "ERR");
	sbx_buf_release(&b);
	return out;
}

START_TEST(paths)
{
	struct node_table t;
	struct node *a, *b;
	struct sbx_buf p = SBX_BUF_INIT;

	ck_assert_int_eq(node_table_init(&t), 0);
	a = node_new_child(&t, t.root, "a dir");
	b = node_new_child(&t, a, "f\nx");
	ck_assert_str_eq(path_of(t.root, ""), "/");
	ck_assert_str_eq(path_of(t.root, "/srv"), "/srv");
	ck_assert_str_eq(path_of(a, ""), "/a dir");
	ck_assert_str_eq(path_of(b, "/srv"), "/srv/a dir/f\nx");
	ck_assert_int_eq(node_child_path(t.root, "", "x", &p), 0);
	ck_assert_str_eq(p.data, "/x");
	sbx_buf_reset(&p);
	ck_assert_int_eq(node_child_path(a, "/r", "y", &p), 0);
	ck_assert_str_eq(p.data, "/r/a dir/y");
	sbx_buf_release(&p);
	ck_assert_ptr_eq(node_child(&t, a, "f\nx"), b);
	ck_assert_ptr_null(node_child(&t, t.root, "f\nx"));
	ck_assert_ptr_eq(node_get(&t, b->id), b);
	node_table_release(&t);
}
END_TEST

START_TEST(detach_move_free)
{
	struct node_table t;
	struct node *a, *b, *c;
	uint64_t aid, bid;

	ck_assert_int_eq(node_table_init(&t), 0);
	a = node_new_child(&t, t.root, "a");
	b = node_new_child(&t, a, "b");
	c = node_new_child(&t, t.root, "c");
	a->nlookup = b->nlookup = c->nlookup = 1;
	aid = a->id;
	bid = b->id;

	/* move b under c: its path follows, a keeps living (nlookup) */
	ck_assert_int_eq(node_move(&t, b, c, "b2"), 0);
	ck_assert_str_eq(path_of(b, ""), "/c/b2");
	ck_assert_ptr_null(node_child(&t, a, "b"));
	ck_assert_ptr_eq(node_child(&t, c, "b2"), b);

	/* a detached node has no path but lives until forgotten */
	node_detach(&t, b);
	ck_assert_str_eq(path_of(b, ""), "ESTALE");
	ck_assert_ptr_eq(node_get(&t, bid), b);
	ck_assert_ptr_null(node_child(&t, c, "b2"));
	node_forget(&t, b, 1);
	ck_assert_ptr_null(node_get(&t, bid));

	/* a parent stays while a child holds it, even when forgotten */
	b = node_new_child(&t, a, "x");
	b->nlookup = 1;
	node_forget(&t, a, 1);
	ck_assert_ptr_eq(node_get(&t, aid), a);
	ck_assert_str_eq(path_of(b, ""), "/a/x");
	node_forget(&t, b, 5); /* more than it has: clamps */
	ck_assert_ptr_null(node_get(&t, aid));
	ck_assert_uint_eq(t.count, 2); /* root and c */

	/* refs (open files) keep a node too */
	node_ref(c);
	node_forget(&t, c, 1);
	ck_assert_ptr_nonnull(node_get(&t, c->id));
	node_unref(&t, c);
	ck_assert_uint_eq(t.count, 1);
	/* the root is never freed */
	node_forget(&t, t.root, 10);
	ck_assert_ptr_nonnull(node_get(&t, NODE_ROOT_ID));
	node_table_release(&t);
}
END_TEST

START_TEST(many_nodes_grow)
{
	struct node_table t;
	struct node *d;
	char name[32];
	int i;

	ck_assert_int_eq(node_table_init(&t), 0);
	d = node_new_child(&t, t.root, "d");
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_ptr_nonnull(node_new_child(&t, d, name));
	}
	ck_assert_uint_ge(t.cap, 16384);
	for (i = 0; i < 20000; i += 997) {
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_ptr_nonnull(node_child(&t, d, name));
	}
	ck_assert_ptr_null(node_child(&t, d, "n20000"));
	ck_assert_uint_eq(d->refs, 20000);
	node_table_release(&t);
}
END_TEST

START_TEST(listing_search)
{
	struct sbx_rfs_dir d = {0};
	struct dirlist *l;
	const char *names[] = {"zeta", "alpha", "-dash", "Mid", "new\nline"};
	size_t i;

	d.ents = calloc(5, sizeof(*d.ents));
	for (i = 0; i < 5; i++) {
		d.ents[i].name = strdup(names[i]);
		d.ents[i].attr.size = i;
	}
	d.n = 5;
	l = dirlist_new(&d, 1000, 7);
	ck_assert_ptr_null(d.ents);
	ck_assert_str_eq(l->d.ents[0].name, "-dash"); /* sorted bytewise */
	ck_assert_str_eq(l->d.ents[4].name, "zeta");
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(dirlist_find(l, names[i])->attr.size, i);
	ck_assert_ptr_null(dirlist_find(l, "beta"));
	dirlist_ref(l);
	dirlist_unref(l);
	ck_assert_uint_eq(l->refs, 1);
	dirlist_unref(l);
	dirlist_unref(NULL);
}
END_TEST

START_TEST(listing_changes_in_place)
{
	struct sbx_rfs_attr self = {.mode = S_IFDIR | 0755}, a = {.mode = S_IFREG | 0644};
	struct dirlist *l = dirlist_new_empty(&self, 1000, 1);
	const char *order[] = {"b", "a", "c", "a"};
	size_t i;

	ck_assert_uint_eq(l->d.n, 0);
	ck_assert_ptr_null(dirlist_find(l, "a"));
	for (i = 0; i < 4; i++) {
		a.size = i;
		ck_assert_int_eq(dirlist_set(l, order[i], &a, i == 2 ? "target" : NULL), 0);
	}
	ck_assert_uint_eq(l->d.n, 3); /* "a" replaced, not added twice */
	ck_assert_str_eq(l->d.ents[0].name, "a");
	ck_assert_str_eq(l->d.ents[1].name, "b");
	ck_assert_str_eq(l->d.ents[2].name, "c");
	ck_assert_uint_eq(dirlist_find(l, "a")->attr.size, 3);
	ck_assert_str_eq(dirlist_find(l, "c")->link, "target");
	dirlist_del(l, "b");
	dirlist_del(l, "zz");
	ck_assert_uint_eq(l->d.n, 2);
	ck_assert_ptr_null(dirlist_find(l, "b"));
	ck_assert_ptr_nonnull(dirlist_find(l, "c"));
	dirlist_del(l, "a");
	dirlist_del(l, "c");
	ck_assert_uint_eq(l->d.n, 0);
	ck_assert_ptr_null(dirlist_find(l, "c"));
	dirlist_unref(l);
}
END_TEST

/* FOPEN_KEEP_CACHE: the kernel keeps a file's pages when the attributes
 * at this open are fresh and name the version of the previous open */
START_TEST(kernel_keeps_same_version)
{
	struct node_table t;
	struct node *n;

	ck_assert_int_eq(node_table_init(&t), 0);
	n = node_new_child(&t, t.root, "f");
	ck_assert_ptr_nonnull(n);
	n->attr.mode = S_IFREG | 0644;
	n->attr.ino = 11;
	n->attr.size = 100;
	n->attr.mtime = (struct timespec){1700000000, 5};
	n->attr.ctime = n->attr.mtime;
	ck_assert(!node_kernel_keeps(n, true)); /* the first open: nothing known */
	ck_assert(node_kernel_keeps(n, true));	/* the same version */
	ck_assert(node_kernel_keeps(n, true));
	n->attr.mtime.tv_nsec = 6; /* a write: a nanosecond later */
	ck_assert(!node_kernel_keeps(n, true));
	ck_assert(node_kernel_keeps(n, true));
	n->attr.ctime.tv_sec++; /* chmod, xattr: the ctime alone */
	ck_assert(!node_kernel_keeps(n, true));
	n->attr.ino = 12; /* replaced by another file, same size and times */
	ck_assert(!node_kernel_keeps(n, true));
	n->attr.size = 50;
	ck_assert(!node_kernel_keeps(n, true));
	ck_assert(node_kernel_keeps(n, true));
	/* attributes not fresh: the pages go, and the next open, fresh
	 * again, does not trust what this one could not check */
	ck_assert(!node_kernel_keeps(n, false));
	ck_assert(!node_kernel_keeps(n, true));
	ck_assert(node_kernel_keeps(n, true));
	node_table_release(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_node");
	TCase *tc = tcase_create("node");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, paths);
	tcase_add_test(tc, detach_move_free);
	tcase_add_test(tc, many_nodes_grow);
	tcase_add_test(tc, listing_search);
	tcase_add_test(tc, listing_changes_in_place);
	tcase_add_test(tc, kernel_keeps_same_version);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
