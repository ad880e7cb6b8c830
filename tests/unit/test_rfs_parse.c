/* test_rfs_parse.c - the parsers of the rfs scripts' output
 * (src/lib/rfs/parse.c): attribute records, times, directory listings,
 * statfs lines and the incremental fetch parser, with malformed input.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/rfs/parse.h"

#define REC "f 644 1 1000 100 5 8 42 65024 1700000000.1234567890 1700000001.5 1700000002"

START_TEST(time_forms)
{
	struct timespec t;

	ck_assert_int_eq(sbx_rfs_parse_time("1700000000.1234567890", 21, &t), 0);
	ck_assert_int_eq(t.tv_sec, 1700000000);
	ck_assert_int_eq(t.tv_nsec, 123456789);
	ck_assert_int_eq(sbx_rfs_parse_time("12", 2, &t), 0);
	ck_assert_int_eq(t.tv_sec, 12);
	ck_assert_int_eq(t.tv_nsec, 0);
	ck_assert_int_eq(sbx_rfs_parse_time("-5.5", 4, &t), 0);
	ck_assert_int_eq(t.tv_sec, -6);
	ck_assert_int_eq(t.tv_nsec, 500000000);
	ck_assert_int_eq(sbx_rfs_parse_time("1.", 2, &t), -EPROTO);
	ck_assert_int_eq(sbx_rfs_parse_time("", 0, &t), -EPROTO);
	ck_assert_int_eq(sbx_rfs_parse_time("1x", 2, &t), -EPROTO);
	ck_assert_int_eq(sbx_rfs_parse_time("1.2.3", 5, &t), -EPROTO);
	ck_assert_int_eq(sbx_rfs_parse_time("99999999999999999999999", 23, &t), -EPROTO);
}
END_TEST

START_TEST(attr_record)
{
	struct sbx_rfs_attr a;

	ck_assert_int_eq(sbx_rfs_parse_attr(REC, strlen(REC), &a), 0);
	ck_assert(S_ISREG(a.mode));
	ck_assert_uint_eq(a.mode & 07777, 0644);
	ck_assert_uint_eq(a.nlink, 1);
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert_uint_eq(a.gid, 100);
	ck_assert_uint_eq(a.size, 5);
	ck_assert_uint_eq(a.blocks, 8);
	ck_assert_uint_eq(a.ino, 42);
	ck_assert_uint_eq(a.dev, 65024);
	ck_assert_int_eq(a.atime.tv_nsec, 123456789);
	ck_assert_int_eq(a.mtime.tv_sec, 1700000001);
	ck_assert_int_eq(a.mtime.tv_nsec, 500000000);
	ck_assert_int_eq(a.ctime.tv_sec, 1700000002);
}
END_TEST

START_TEST(attr_types_and_special_bits)
{
	static const struct {
		const char *rec;
		unsigned type;
	} c[] = {
	    {"d 1777 2 0 0 4096 8 1 1 1 1 1", S_IFDIR}, {"l 777 1 0 0 3 0 1 1 1 1 1", S_IFLNK},
	    {"p 600 1 0 0 0 0 1 1 1 1 1", S_IFIFO},	{"s 755 1 0 0 0 0 1 1 1 1 1", S_IFSOCK},
	    {"c 666 1 0 0 0 0 1 1 1 1 1", S_IFCHR},	{"b 660 1 0 0 0 0 1 1 1 1 1", S_IFBLK},
	    {"f 4755 1 0 0 0 0 1 1 1 1 1", S_IFREG},
	};
	struct sbx_rfs_attr a;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ck_assert_int_eq(sbx_rfs_parse_attr(c[i].rec, strlen(c[i].rec), &a), 0);
		ck_assert_uint_eq(a.mode & S_IFMT, c[i].type);
	}
	ck_assert_uint_eq(a.mode & 07777, 04755);
}
END_TEST

START_TEST(attr_malformed)
{
	static const char *const bad[] = {
	    "",
	    "x 644 1 0 0 0 0 1 1 1 1 1",
	    "f 648 1 0 0 0 0 1 1 1 1 1",	  /* not octal */
	    "f 17777 1 0 0 0 0 1 1 1 1 1",	  /* beyond 07777 */
	    "f 644 1 0 0 0 0 1 1 1 1",		  /* a field short */
	    "f 644 1 0 0 0 0 1 1 1 1 1 1",	  /* a field too many */
	    "f 644 1 0 0 -1 0 1 1 1 1 1",	  /* negative size */
	    "f 644 1 4294967296 0 0 0 1 1 1 1 1", /* uid beyond 32 bits */
	    "f  644 1 0 0 0 0 1 1 1 1 1",	  /* double space */
	    "ff 644 1 0 0 0 0 1 1 1 1 1",
	};
	struct sbx_rfs_attr a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sbx_rfs_parse_attr(bad[i], strlen(bad[i]), &a) == -EPROTO, "%s",
			      bad[i]);
}
END_TEST

/* Builds a listing from (name, rec, link) triples into b. */
static size_t listing(char *b, const char *const *f, size_t n)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		memcpy(b + len, f[i], strlen(f[i]) + 1);
		len += strlen(f[i]) + 1;
	}
	return len;
}

START_TEST(dir_listing)
{
	const char *const f[] = {
	    "",
	    "d 755 3 0 0 4096 8 1 1 1 1 1",
	    "",
	    "a b\nc",
	    REC,
	    "",
	    "-x",
	    "l 777 1 0 0 6 0 9 1 1 1 1",
	    "tgt\nx",
	    "sub",
	    "d 700 2 0 0 4096 8 3 1 1 1 1",
	    "",
	};
	struct sbx_rfs_dir d;
	char b[512];
	size_t n = listing(b, f, sizeof(f) / sizeof(f[0]));

	ck_assert_int_eq(sbx_rfs_parse_dir(b, n, &d), 0);
	ck_assert(S_ISDIR(d.self.mode));
	ck_assert_uint_eq(d.n, 3);
	ck_assert_str_eq(d.ents[0].name, "a b\nc");
	ck_assert_ptr_null(d.ents[0].link);
	ck_assert_uint_eq(d.ents[0].attr.size, 5);
	ck_assert_str_eq(d.ents[1].name, "-x");
	ck_assert_str_eq(d.ents[1].link, "tgt\nx");
	ck_assert(S_ISDIR(d.ents[2].attr.mode));
	sbx_rfs_dir_release(&d);
	ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(dir_errors)
{
	const char *const file_self[] = {"", REC, ""};
	const char *const no_self[] = {"x", REC, ""};
	const char *const slash[] = {"", "d 755 3 0 0 4096 8 1 1 1 1 1", "", "a/b", REC, ""};
	const char *const dot[] = {"", "d 755 3 0 0 4096 8 1 1 1 1 1", "", "..", REC, ""};
	struct sbx_rfs_dir d = {0};
	char b[512];
	size_t n;

	n = listing(b, file_self, 3);
	ck_assert_int_eq(sbx_rfs_parse_dir(b, n, &d), -ENOTDIR);
	n = listing(b, no_self, 3);
	ck_assert_int_eq(sbx_rfs_parse_dir(b, n, &d), -EPROTO);
	n = listing(b, slash, 6);
	ck_assert_int_eq(sbx_rfs_parse_dir(b, n, &d), -EPROTO);
	n = listing(b, dot, 6);
	ck_assert_int_eq(sbx_rfs_parse_dir(b, n, &d), -EPROTO);
	/* truncated: the last record lacks its link field */
	n = listing(b, slash, 5);
	ck_assert_int_eq(sbx_rfs_parse_dir(b, n, &d), -EPROTO);
	ck_assert_int_eq(sbx_rfs_parse_dir("", 0, &d), -EPROTO);
	ck_assert_ptr_null(d.ents);
}
END_TEST

START_TEST(statfs_line)
{
	struct statvfs st;
	const char *l = "4096 100 50 40 1000 900 255\n";

	ck_assert_int_eq(sbx_rfs_parse_statfs(l, strlen(l), &st), 0);
	ck_assert_uint_eq(st.f_bsize, 4096);
	ck_assert_uint_eq(st.f_blocks, 100);
	ck_assert_uint_eq(st.f_bfree, 50);
	ck_assert_uint_eq(st.f_bavail, 40);
	ck_assert_uint_eq(st.f_files, 1000);
	ck_assert_uint_eq(st.f_ffree, 900);
	ck_assert_uint_eq(st.f_namemax, 255);
	ck_assert_int_eq(sbx_rfs_parse_statfs("4096 1 2", 8, &st), -EPROTO);
	ck_assert_int_eq(sbx_rfs_parse_statfs("0 1 2 3 4 5 6", 13, &st), -EPROTO);
}
END_TEST

struct sink {
	char data[64];
	size_t len;
};

static int to_sink(void *ud, const char *d, size_t n)
{
	struct sink *s = ud;

	if (s->len + n > sizeof(s->data))
		return -ENOSPC;
	memcpy(s->data + s->len, d, n);
	s->len += n;
	return 0;
}

static const char fetch_out[] = REC "\0"
				    "42:5:1.5"
				    "\0"
				    "C"
				    "he\0lo";

START_TEST(fetch_byte_by_byte)
{
	struct sbx_rfs_fetchp p;
	struct sbx_rfs_attr a;
	struct sink s = {.len = 0};
	char v[SBX_RFS_VALIDATOR_MAX];
	bool unchanged = true;
	size_t i;

	sbx_rfs_fetchp_init(&p);
	for (i = 0; i < sizeof(fetch_out) - 1; i++)
		ck_assert_int_eq(sbx_rfs_fetchp_feed(&p, fetch_out + i, 1, to_sink, &s), 0);
	ck_assert_int_eq(sbx_rfs_fetchp_finish(&p, &a, v, &unchanged), 0);
	ck_assert(!unchanged);
	ck_assert_str_eq(v, "42:5:1.5");
	ck_assert_uint_eq(a.size, 5);
	ck_assert_uint_eq(s.len, 5);
	ck_assert_mem_eq(s.data, "he\0lo", 5);
}
END_TEST

START_TEST(fetch_unchanged_and_errors)
{
	const char un[] = REC "\0"
			      "v"
			      "\0"
			      "U";
	const char junk_after_u[] = REC "\0"
					"v"
					"\0"
					"Ux";
	const char bad_mark[] = REC "\0"
				    "v"
				    "\0"
				    "Z";
	struct sbx_rfs_fetchp p;
	struct sink s = {.len = 0};
	bool unchanged = false;

	sbx_rfs_fetchp_init(&p);
	ck_assert_int_eq(sbx_rfs_fetchp_feed(&p, un, sizeof(un) - 1, to_sink, &s), 0);
	ck_assert_int_eq(sbx_rfs_fetchp_finish(&p, NULL, NULL, &unchanged), 0);
	ck_assert(unchanged);
	ck_assert_uint_eq(s.len, 0);

	sbx_rfs_fetchp_init(&p);
	ck_assert_int_eq(
	    sbx_rfs_fetchp_feed(&p, junk_after_u, sizeof(junk_after_u) - 1, to_sink, &s), -EPROTO);
	sbx_rfs_fetchp_init(&p);
	ck_assert_int_eq(sbx_rfs_fetchp_feed(&p, bad_mark, sizeof(bad_mark) - 1, to_sink, &s),
			 -EPROTO);
	/* incomplete header */
	sbx_rfs_fetchp_init(&p);
	ck_assert_int_eq(sbx_rfs_fetchp_feed(&p, REC, 10, to_sink, &s), 0);
	ck_assert_int_eq(sbx_rfs_fetchp_finish(&p, NULL, NULL, NULL), -EPROTO);
	/* the sink's error comes back */
	sbx_rfs_fetchp_init(&p);
	s.len = 60;
	ck_assert_int_eq(sbx_rfs_fetchp_feed(&p, fetch_out, sizeof(fetch_out) - 1, to_sink, &s),
			 -ENOSPC);
}
END_TEST

START_TEST(fields)
{
	const char d[] = "a\0\0bc\0d";
	const char *p = d, *f;
	size_t n = sizeof(d) - 1, len;

	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_uint_eq(len, 1);
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_uint_eq(len, 2);
	ck_assert(!sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_uint_eq(n, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rfs_parse");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, time_forms);
	tcase_add_test(tc, attr_record);
	tcase_add_test(tc, attr_types_and_special_bits);
	tcase_add_test(tc, attr_malformed);
	tcase_add_test(tc, dir_listing);
	tcase_add_test(tc, dir_errors);
	tcase_add_test(tc, statfs_line);
	tcase_add_test(tc, fetch_byte_by_byte);
	tcase_add_test(tc, fetch_unchanged_and_errors);
	tcase_add_test(tc, fields);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
