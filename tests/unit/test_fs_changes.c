/* test_fs_changes.c - change reports applied to the caches (src/fs/changes.c):
 * a name's CREATE or DELETE leaves its directory's attributes stale (its
 * mtime and link count moved) unless the report says the directory's own
 * report follows (DIR_NEXT), and that report makes them fresh again with
 * the sandbox's figures. A mount with kernel permission checks asks for
 * the directory's attributes before every create in it: stale, each one
 * is a round trip.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/changes.h"
#include "fs/fs.h"
#include "fs/node.h"
#include "fs/opts.h"

struct fx {
	struct sbx_fs fs;
	struct sbxfs_opts o;
	struct node *d; /* /d, watched, with fresh attributes */
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->o.attr_timeout = 60;
	f->o.entry_timeout = 60;
	f->o.dir_cache_timeout = 5;
	f->o.watch_timeout = 300;
	f->fs.opts = &f->o;
	f->fs.root = "";
	f->fs.watching = true;
	pthread_mutex_init(&f->fs.lock, NULL);
	ck_assert_int_eq(node_table_init(&f->fs.nodes), 0);
	f->d = node_new_child(&f->fs.nodes, f->fs.nodes.root, "d");
	ck_assert_ptr_nonnull(f->d);
	f->d->attr.mode = S_IFDIR | 0755;
	f->d->attr.nlink = 2;
	f->d->attr.mtime.tv_sec = 1000;
	f->d->attr.seq = 1;
	f->d->watched = true;
	f->d->attr_expire = fs_expiry(300);
}

static void fx_end(struct fx *f)
{
	node_table_release(&f->fs.nodes);
	pthread_mutex_destroy(&f->fs.lock);
}

/* Applies the report of name in /d (name "": /d itself). */
static void report(struct fx *f, const char *name, unsigned mask, mode_t mode, uint64_t seq,
		   time_t mtime)
{
	struct fs_change ch = {.dir = "/d", .name = (char *)name, .mask = mask, .seq = seq};

	ch.has_attr = mode != 0;
	ch.attr.mode = mode;
	ch.attr.nlink = S_ISDIR(mode) ? 2 : 1;
	ch.attr.ino = 100 + seq;
	ch.attr.mtime.tv_sec = mtime;
	ch.attr.seq = seq;
	fs_apply_change(&f->fs, &ch);
}

START_TEST(name_reports_make_the_directory_stale)
{
	struct fx f;

	fx_init(&f);
	report(&f, "a", SBX_RFS_CH_CREATE, S_IFREG | 0644, 2, 2000);
	ck_assert_int_eq(f.d->attr_expire, 0);
	f.d->attr_expire = fs_expiry(300);
	report(&f, "a", SBX_RFS_CH_DELETE, 0, 3, 0);
	ck_assert_int_eq(f.d->attr_expire, 0);
	f.d->attr_expire = fs_expiry(300);
	/* a write to a name moves nothing of the directory's */
	report(&f, "b", SBX_RFS_CH_DATA, S_IFREG | 0644, 4, 2000);
	ck_assert_int_gt(f.d->attr_expire, 0);
	fx_end(&f);
}
END_TEST

START_TEST(dir_next_leaves_it_to_the_directory_report)
{
	struct fx f;
	int64_t before;

	fx_init(&f);
	before = f.d->attr_expire;
	report(&f, "a", SBX_RFS_CH_CREATE | SBX_RFS_CH_DIR_NEXT, S_IFREG | 0644, 2, 2000);
	ck_assert_int_eq(f.d->attr_expire, before);
	report(&f, "a", SBX_RFS_CH_DELETE | SBX_RFS_CH_DIR_NEXT, 0, 3, 0);
	ck_assert_int_eq(f.d->attr_expire, before);
	/* the directory's own report: its new mtime, fresh */
	report(&f, "", SBX_RFS_CH_ATTRIB, S_IFDIR | 0755, 4, 3000);
	ck_assert_int_eq(f.d->attr.mtime.tv_sec, 3000);
	ck_assert_int_gt(f.d->attr_expire, 0);
	ck_assert_uint_eq(f.d->attr.seq, 4);
	/* an older one does not undo it */
	report(&f, "", SBX_RFS_CH_ATTRIB, S_IFDIR | 0755, 3, 2500);
	ck_assert_int_eq(f.d->attr.mtime.tv_sec, 3000);
	fx_end(&f);
}
END_TEST

START_TEST(directory_gone_is_not_fresh)
{
	struct fx f;

	fx_init(&f);
	report(&f, "", SBX_RFS_CH_GONE, 0, 2, 0);
	ck_assert_int_eq(f.d->attr_expire, 0);
	ck_assert(!f.d->watched);
	fx_end(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_changes");
	TCase *tc = tcase_create("apply");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, name_reports_make_the_directory_stale);
	tcase_add_test(tc, dir_next_leaves_it_to_the_directory_report);
	tcase_add_test(tc, directory_gone_is_not_fresh);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
