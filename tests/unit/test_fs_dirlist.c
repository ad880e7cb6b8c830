/* test_fs_dirlist.c - cached listings and their readdir order
 * (src/fs/dirlist.c): keys are unique, above the fixed offsets and valid
 * offsets, and a listing read in pieces, with names going and coming
 * between the pieces, returns every name that stayed exactly once, be the
 * next piece served by the same listing changed in place or by a new one. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/dirlist.h"

#define N 2000

static void name_of(char *buf, size_t cap, const char *pfx, int i)
{
	snprintf(buf, cap, "%s%d", pfx, i);
}

static struct dirlist *listing(const char *pfx, int n, int skip_mod)
{
	struct sbx_rfs_attr a = {.mode = 0100644};
	struct dirlist *l = dirlist_new_empty(&a, 0, 0);
	char name[32];
	int i;

	ck_assert_ptr_nonnull(l);
	for (i = 0; i < n; i++) {
		if (skip_mod && i % skip_mod == 0)
			continue;
		name_of(name, sizeof(name), pfx, i);
		ck_assert_int_eq(dirlist_set(l, name, &a, NULL), 0);
	}
	return l;
}

START_TEST(keys_unique_and_in_range)
{
	struct dirlist *l = listing("f", N, 0);
	uint64_t key, prev = 0;
	size_t k;

	ck_assert_int_eq(dirlist_walk(l), 0);
	ck_assert_uint_eq(l->d.n, N);
	for (k = 0; k < l->d.n; k++) {
		dirlist_at(l, k, &key);
		ck_assert_uint_ge(key, DIRLIST_KEY_MIN);
		ck_assert_uint_le(key, INT32_MAX); /* a 32-bit d_off */
		ck_assert_uint_gt(key, prev); /* strictly rising: unique */
		prev = key;
	}
	ck_assert_uint_eq(dirlist_after(l, 0), 0);
	ck_assert_uint_eq(dirlist_after(l, prev), l->d.n);
	dirlist_unref(l);
}
END_TEST

/* Reads l from off in pieces of up to per entries; counts what it saw
 * in seen[] (by the number after the prefix "f"); the last key returned. */
static uint64_t read_piece(struct dirlist *l, uint64_t off, size_t per, int *seen)
{
	const struct sbx_rfs_dirent *de;
	size_t k, got = 0;
	uint64_t key = off;

	ck_assert_int_eq(dirlist_walk(l), 0);
	for (k = dirlist_after(l, off); k < l->d.n && got < per; k++, got++) {
		de = dirlist_at(l, k, &key);
		if (de->name[0] == 'f')
			seen[atoi(de->name + 1)]++;
	}
	return k < l->d.n ? key : UINT64_MAX;
}

static void check_stayed(const int *seen, int gone_mod)
{
	int i;

	for (i = 0; i < N; i++) {
		ck_assert_int_le(seen[i], 1);
		if (i % gone_mod != 0)
			ck_assert_msg(seen[i] == 1, "f%d lost", i);
	}
}

START_TEST(pieces_same_listing_changed)
{
	static int seen[N];
	struct dirlist *l = listing("f", N, 0);
	struct sbx_rfs_attr a = {.mode = 0100644};
	char name[32];
	uint64_t off;
	int i;

	memset(seen, 0, sizeof(seen));
	off = read_piece(l, 0, 300, seen);
	for (i = 0; i < N; i += 3) { /* read or not: both go */
		name_of(name, sizeof(name), "f", i);
		dirlist_del(l, name);
	}
	for (i = 0; i < 500; i++) {
		name_of(name, sizeof(name), "new", i);
		ck_assert_int_eq(dirlist_set(l, name, &a, NULL), 0);
	}
	while (off != UINT64_MAX)
		off = read_piece(l, off, 77, seen);
	check_stayed(seen, 3);
	dirlist_unref(l);
}
END_TEST

START_TEST(pieces_new_listing)
{
	static int seen[N];
	struct dirlist *l = listing("f", N, 0), *l2 = listing("f", N, 3), *l3 = listing("f", N, 6);
	uint64_t off;

	memset(seen, 0, sizeof(seen));
	off = read_piece(l, 0, 300, seen);
	off = read_piece(l2, off, 300, seen); /* a listing fetched anew */
	while (off != UINT64_MAX)
		off = read_piece(l3, off, 50, seen); /* and another */
	check_stayed(seen, 3);
	dirlist_unref(l);
	dirlist_unref(l2);
	dirlist_unref(l3);
}
END_TEST

START_TEST(order_follows_changes)
{
	struct sbx_rfs_attr a = {.mode = 0100644};
	struct dirlist *l = listing("f", 10, 0);
	const struct sbx_rfs_dirent *de;
	uint64_t key;
	size_t k;
	int found = 0;

	ck_assert_int_eq(dirlist_walk(l), 0);
	ck_assert_int_eq(dirlist_set(l, "late", &a, NULL), 0);
	ck_assert_int_eq(dirlist_walk(l), 0);
	for (k = 0; k < l->d.n; k++) {
		de = dirlist_at(l, k, &key);
		found += !strcmp(de->name, "late");
	}
	ck_assert_int_eq(found, 1);
	ck_assert_ptr_nonnull(dirlist_find(l, "late")); /* name order kept */
	dirlist_del(l, "late");
	ck_assert_int_eq(dirlist_walk(l), 0);
	ck_assert_uint_eq(l->d.n, 10);
	ck_assert_ptr_null(dirlist_find(l, "late"));
	dirlist_unref(l);
}
END_TEST

/* Two names whose keys share their hash part (23 bits): ranks 0 and 1,
 * in name order, and each listing made of them gives them the same keys. */
START_TEST(same_hash_ranked)
{
	static unsigned char seen[1u << 20]; /* a bit per 23-bit hash */
	struct sbx_rfs_attr a = {.mode = 0100644};
	struct dirlist *l = dirlist_new_empty(&a, 0, 0), *l2;
	char x[32], y[32];
	uint64_t k0, k1, h;
	int i;

	memset(seen, 0, sizeof(seen));
	for (i = 0;; i++) {
		name_of(x, sizeof(x), "c", i);
		h = dirlist_name_hash(x) >> 41;
		if (seen[h >> 3] & (1u << (h & 7)))
			break;
		seen[h >> 3] |= 1u << (h & 7);
	}
	for (i = 0;; i++) { /* the earlier name of that hash */
		name_of(y, sizeof(y), "c", i);
		if (dirlist_name_hash(y) >> 41 == h)
			break;
	}
	ck_assert_str_ne(x, y);
	ck_assert_int_eq(dirlist_set(l, x, &a, NULL), 0);
	ck_assert_int_eq(dirlist_set(l, y, &a, NULL), 0);
	ck_assert_int_eq(dirlist_set(l, "other", &a, NULL), 0);
	ck_assert_int_eq(dirlist_walk(l), 0);
	l2 = listing("f", 0, 0);
	ck_assert_int_eq(dirlist_set(l2, "other", &a, NULL), 0);
	ck_assert_int_eq(dirlist_set(l2, y, &a, NULL), 0);
	ck_assert_int_eq(dirlist_set(l2, x, &a, NULL), 0);
	ck_assert_int_eq(dirlist_walk(l2), 0);
	for (i = 0; i < 3; i++) {
		const struct sbx_rfs_dirent *de = dirlist_at(l, (size_t)i, &k0);

		if (!strcmp(de->name, "other"))
			continue;
		ck_assert_uint_eq(k0 >> 8, h ? h : 1);
		ck_assert_uint_eq(k0 & 0xff, strcmp(de->name, strcmp(x, y) < 0 ? x : y) ? 1 : 0);
		ck_assert_str_eq(dirlist_at(l2, (size_t)i, &k1)->name, de->name);
		ck_assert_uint_eq(k1, k0);
	}
	dirlist_unref(l);
	dirlist_unref(l2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_dirlist");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, keys_unique_and_in_range);
	tcase_add_test(tc, pieces_same_listing_changed);
	tcase_add_test(tc, pieces_new_listing);
	tcase_add_test(tc, order_follows_changes);
	tcase_add_test(tc, same_hash_ranked);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
