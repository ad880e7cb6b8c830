/* test_fs_rmap.c - the valid ranges of a partly loaded file
 * (src/fs/rmap.c): merging of overlapping and touching ranges, gaps,
 * truncation, and the bound on the number of ranges.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "fs/rmap.h"

/* The map's invariant: sorted, disjoint, not touching, bytes summed. */
static void check_invariant(const struct rmap *m)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < m->n; i++) {
		ck_assert_uint_lt(m->r[i].start, m->r[i].end);
		if (i + 1 < m->n)
			ck_assert_uint_lt(m->r[i].end, m->r[i + 1].start);
		sum += m->r[i].end - m->r[i].start;
	}
	ck_assert_uint_eq(sum, m->bytes);
	ck_assert_uint_le(m->n, RMAP_MAX);
}

START_TEST(merge)
{
	struct rmap m = RMAP_INIT;

	ck_assert_int_eq(rmap_add(&m, 100, 200), 0);
	ck_assert_int_eq(rmap_add(&m, 300, 400), 0);
	ck_assert_int_eq(rmap_add(&m, 0, 10), 0);
	ck_assert_uint_eq(m.n, 3);
	/* touching merges */
	ck_assert_int_eq(rmap_add(&m, 200, 250), 0);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(m.r[1].end, 250);
	/* one range over several */
	ck_assert_int_eq(rmap_add(&m, 5, 350), 0);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_uint_eq(m.r[0].start, 0);
	ck_assert_uint_eq(m.r[0].end, 400);
	ck_assert_uint_eq(m.bytes, 400);
	/* empty ranges add nothing */
	ck_assert_int_eq(rmap_add(&m, 700, 700), 0);
	ck_assert_uint_eq(m.n, 1);
	check_invariant(&m);
	rmap_release(&m);
}
END_TEST

START_TEST(gaps)
{
	struct rmap m = RMAP_INIT;
	uint64_t s, e;

	ck_assert(rmap_first_gap(&m, 0, 10, &s, &e));
	ck_assert_uint_eq(s, 0);
	ck_assert_uint_eq(e, 10);
	rmap_add(&m, 10, 20);
	rmap_add(&m, 30, 40);
	ck_assert(rmap_covers(&m, 10, 20));
	ck_assert(rmap_covers(&m, 12, 18));
	ck_assert(rmap_covers(&m, 5, 5));
	ck_assert(!rmap_covers(&m, 10, 21));
	ck_assert(!rmap_covers(&m, 9, 20));
	/* a gap that starts inside a valid range's end */
	ck_assert(rmap_first_gap(&m, 15, 35, &s, &e));
	ck_assert_uint_eq(s, 20);
	ck_assert_uint_eq(e, 30);
	/* the gap reaches the asked end */
	ck_assert(rmap_first_gap(&m, 35, 100, &s, &e));
	ck_assert_uint_eq(s, 40);
	ck_assert_uint_eq(e, 100);
	/* starting at a range's end exactly */
	ck_assert(rmap_first_gap(&m, 20, 25, &s, &e));
	ck_assert_uint_eq(s, 20);
	ck_assert_uint_eq(e, 25);
	ck_assert(rmap_first_gap(&m, 0, 15, &s, &e));
	ck_assert_uint_eq(s, 0);
	ck_assert_uint_eq(e, 10);
	ck_assert(!rmap_first_gap(&m, 30, 40, &s, &e));
	rmap_release(&m);
}
END_TEST

START_TEST(cut)
{
	struct rmap m = RMAP_INIT;

	rmap_add(&m, 0, 10);
	rmap_add(&m, 20, 30);
	rmap_add(&m, 40, 50);
	rmap_cut(&m, 25);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(m.r[1].end, 25);
	ck_assert_uint_eq(m.bytes, 15);
	rmap_cut(&m, 20);
	ck_assert_uint_eq(m.n, 1);
	rmap_cut(&m, 100);
	ck_assert_uint_eq(m.n, 1);
	rmap_cut(&m, 0);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_uint_eq(m.bytes, 0);
	check_invariant(&m);
	rmap_release(&m);
}
END_TEST

START_TEST(trim_below)
{
	struct rmap m = RMAP_INIT;

	rmap_add(&m, 0, 10);
	rmap_add(&m, 20, 30);
	rmap_add(&m, 40, 50);
	rmap_trim_below(&m, 10); /* a range ending at off goes */
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(m.r[0].start, 20);
	ck_assert_uint_eq(m.bytes, 20);
	rmap_trim_below(&m, 25); /* one that holds off is cut there */
	ck_assert_uint_eq(m.n, 2);
	ck_assert_uint_eq(m.r[0].start, 25);
	ck_assert_uint_eq(m.bytes, 15);
	ck_assert(rmap_covers(&m, 25, 30));
	ck_assert(!rmap_covers(&m, 24, 30));
	rmap_trim_below(&m, 0);
	ck_assert_uint_eq(m.bytes, 15);
	rmap_trim_below(&m, 100);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_uint_eq(m.bytes, 0);
	check_invariant(&m);
	rmap_release(&m);
}
END_TEST

/* Past RMAP_MAX ranges the smallest is forgotten: the map stays bounded
 * and what it still holds is true. */
START_TEST(bounded)
{
	struct rmap m = RMAP_INIT;
	uint64_t i;

	for (i = 0; i < RMAP_MAX + 100; i++)
		ck_assert_int_eq(rmap_add(&m, i * 100, i * 100 + 10 + (i % 7)), 0);
	ck_assert_uint_le(m.n, RMAP_MAX);
	check_invariant(&m);
	/* the last one added is there */
	i = RMAP_MAX + 99;
	ck_assert(rmap_covers(&m, i * 100, i * 100 + 10 + (i % 7)));
	rmap_clear(&m);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_uint_eq(m.bytes, 0);
	rmap_release(&m);
}
END_TEST

/* Random adds and cuts against a bitmap of the same bytes. */
START_TEST(random_ops)
{
	enum { SPAN = 4096 };
	static unsigned char bits[SPAN];
	struct rmap m = RMAP_INIT;
	unsigned seed = 7;
	int k, b;

	for (k = 0; k < 20000; k++) {
		uint64_t s = (uint64_t)(rand_r(&seed) % SPAN), l = (uint64_t)(rand_r(&seed) % 64);
		uint64_t e = s + l > SPAN ? SPAN : s + l;

		if (rand_r(&seed) % 50 == 0) {
			rmap_cut(&m, s);
			for (b = (int)s; b < SPAN; b++)
				bits[b] = 0;
		} else {
			ck_assert_int_eq(rmap_add(&m, s, e), 0);
			for (b = (int)s; b < (int)e; b++)
				bits[b] = 1;
		}
		if (k % 500 == 0) {
			check_invariant(&m);
			for (b = 0; b < SPAN; b++)
				ck_assert_int_eq(rmap_covers(&m, (uint64_t)b, (uint64_t)b + 1),
						 bits[b]);
		}
	}
	rmap_release(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_rmap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, merge);
	tcase_add_test(tc, gaps);
	tcase_add_test(tc, cut);
	tcase_add_test(tc, trim_below);
	tcase_add_test(tc, bounded);
	tcase_add_test(tc, random_ops);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
