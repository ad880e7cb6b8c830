/* test_fs_handle.c - the lists of handles the kernel holds (src/fs/fs.c):
 * what teardown takes from a list is exactly what was linked and not
 * unlinked, whichever order the releases came in, each once.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "fs/fs.h"

#define N 5

struct fx {
	struct sbx_fs fs;
	struct fs_handle h[N];
	struct fs_handle *list;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->fs.lock, NULL);
}

/* Takes every handle left; returns a bit per index taken, and fails on
 * one taken twice or not of the fixture. */
static unsigned take_all(struct fx *f)
{
	struct fs_handle *h;
	unsigned seen = 0, i;

	while ((h = fs_handle_take(&f->fs, &f->list))) {
		ck_assert(h >= f->h && h < f->h + N);
		i = (unsigned)(h - f->h);
		ck_assert_msg(!(seen & (1u << i)), "handle %u taken twice", i);
		seen |= 1u << i;
		ck_assert_ptr_null(h->prev);
		ck_assert_ptr_null(h->next);
	}
	ck_assert_ptr_null(f->list);
	return seen;
}

START_TEST(empty_list_gives_nothing)
{
	struct fx f;

	fx_init(&f);
	ck_assert_ptr_null(fs_handle_take(&f.fs, &f.list));
	pthread_mutex_destroy(&f.fs.lock);
}
END_TEST

START_TEST(teardown_takes_what_was_not_released)
{
	struct fx f;
	unsigned i;

	fx_init(&f);
	for (i = 0; i < N; i++)
		fs_handle_link(&f.fs, &f.list, &f.h[i]);
	/* releases of the head, the tail and a middle one */
	fs_handle_unlink(&f.fs, &f.list, &f.h[N - 1]); /* the head: linked last */
	fs_handle_unlink(&f.fs, &f.list, &f.h[0]);     /* the tail */
	fs_handle_unlink(&f.fs, &f.list, &f.h[2]);
	ck_assert_uint_eq(take_all(&f), (1u << 1) | (1u << 3));
	pthread_mutex_destroy(&f.fs.lock);
}
END_TEST

START_TEST(all_released_leaves_nothing)
{
	struct fx f;
	unsigned i;

	fx_init(&f);
	for (i = 0; i < N; i++)
		fs_handle_link(&f.fs, &f.list, &f.h[i]);
	for (i = 0; i < N; i++)
		fs_handle_unlink(&f.fs, &f.list, &f.h[(i * 3) % N]);
	ck_assert_ptr_null(f.list);
	ck_assert_uint_eq(take_all(&f), 0);
	/* a handle linked again after its release is listed once */
	fs_handle_link(&f.fs, &f.list, &f.h[4]);
	ck_assert_uint_eq(take_all(&f), 1u << 4);
	pthread_mutex_destroy(&f.fs.lock);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fs_handle");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, empty_list_gives_nothing);
	tcase_add_test(tc, teardown_takes_what_was_not_released);
	tcase_add_test(tc, all_released_leaves_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
