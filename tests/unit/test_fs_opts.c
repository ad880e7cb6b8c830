/* test_fs_opts.c - the command line of sbxfs (src/fs/opts.c): fuse_opt
 * parsing, the SANDBOX[:/dir] spec, fstab-only options, the refusal of a
 * token on the command line, and where credentials come from.
 */
#include "fs/fuse_inc.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/opts.h"

static int parse(struct sbxfs_opts *o, struct fuse_args *args, const char *const *argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	*args = (struct fuse_args)FUSE_ARGS_INIT(0, NULL);
	for (int i = 0; i < argc; i++)
		ck_assert_int_eq(fuse_opt_add_arg(args, argv[i]), 0);
	return sbxfs_opts_parse(args, o);
}

static bool has_arg(const struct fuse_args *a, const char *needle)
{
	for (int i = 0; i < a->argc; i++)
		if (strstr(a->argv[i], needle))
			return true;
	return false;
}

START_TEST(spec_forms)
{
	char *sb, *dir;

	ck_assert_int_eq(sbxfs_parse_spec("box", &sb, &dir), 0);
	ck_assert_str_eq(sb, "box");
	ck_assert_str_eq(dir, "");
	free(sb), free(dir);
	ck_assert_int_eq(sbxfs_parse_spec("box:/", &sb, &dir), 0);
	ck_assert_str_eq(dir, "");
	free(sb), free(dir);
	ck_assert_int_eq(sbxfs_parse_spec("box:/a//b/./c/", &sb, &dir), 0);
	ck_assert_str_eq(dir, "/a/b/c");
	free(sb), free(dir);
	ck_assert_int_eq(sbxfs_parse_spec("box:", &sb, &dir), 0);
	ck_assert_str_eq(dir, "");
	free(sb), free(dir);
	ck_assert_int_eq(sbxfs_parse_spec("box:/x:y", &sb, &dir), 0);
	ck_assert_str_eq(sb, "box");
	ck_assert_str_eq(dir, "/x:y");
	free(sb), free(dir);
	ck_assert_int_eq(sbxfs_parse_spec(":/x", &sb, &dir), -EINVAL);
	ck_assert_int_eq(sbxfs_parse_spec("box:rel", &sb, &dir), -EINVAL);
	ck_assert_int_eq(sbxfs_parse_spec("box:/a/../b", &sb, &dir), -EINVAL);
}
END_TEST

START_TEST(options_and_positionals)
{
	const char *argv[] = {"sbxfs",
			      "-o",
			      "attr_timeout=2.5,ctl_visible,ro,allow_other",
			      "-o",
			      "_netdev,noauto,user,nofail,dir_cache_timeout=0,empty_delay=0",
			      "box:/srv",
			      "/tmp",
			      "-f",
			      NULL};
	struct fuse_args args;
	struct sbxfs_opts o;

	ck_assert_int_eq(parse(&o, &args, argv), 0);
	ck_assert_str_eq(o.sandbox, "box");
	ck_assert_str_eq(o.remote_dir, "/srv");
	ck_assert_str_eq(o.mountpoint, "/tmp");
	ck_assert(o.attr_timeout == 2.5);
	ck_assert(o.dir_cache_timeout == 0);
	ck_assert(o.entry_timeout == SBXFS_DEF_ENTRY_TIMEOUT);
	ck_assert(o.empty_delay == 0);
	ck_assert_int_eq(o.ctl_visible, 1);
	ck_assert_int_eq(o.ro, 1);
	ck_assert_int_eq(o.foreground, 1);
	/* allow_other goes to libfuse; ours and the fstab ones do not */
	ck_assert(has_arg(&args, "allow_other"));
	ck_assert(!has_arg(&args, "attr_timeout"));
	ck_assert(!has_arg(&args, "_netdev"));
	ck_assert(!has_arg(&args, "noauto"));
	ck_assert(!has_arg(&args, "nofail"));
	ck_assert(!has_arg(&args, "ro"));
	ck_assert(!has_arg(&args, "box"));
	sbxfs_opts_release(&o);
	fuse_opt_free_args(&args);
}
END_TEST

/* allow_other is noted and still passed on; the mount options sbxfs adds
 * force default_permissions with it (access.h), and only with it. */
START_TEST(allow_other_forces_permissions)
{
	const char *with[] = {"sbxfs", "-o", "allow_other", "box:/srv", "/tmp", NULL};
	const char *both[] = {"sbxfs", "-o",   "allow_other,default_permissions",
			      "box",   "/tmp", NULL};
	const char *without[] = {"sbxfs", "box", "/tmp", NULL};
	struct fuse_args args;
	struct sbxfs_opts o;
	char *m;

	ck_assert_int_eq(parse(&o, &args, with), 0);
	ck_assert_int_eq(o.allow_other, 1);
	ck_assert_int_eq(o.default_permissions, 0);
	ck_assert(has_arg(&args, "allow_other"));
	ck_assert_int_eq(sbxfs_opts_mount_args(&o, &m), 0);
	ck_assert_str_eq(m, "fsname=box:/srv,subtype=sbxfs,default_permissions");
	free(m);
	sbxfs_opts_release(&o);
	fuse_opt_free_args(&args);

	ck_assert_int_eq(parse(&o, &args, both), 0);
	ck_assert_int_eq(o.default_permissions, 1);
	ck_assert(has_arg(&args, "default_permissions"));
	ck_assert_int_eq(sbxfs_opts_mount_args(&o, &m), 0);
	ck_assert_str_eq(m, "fsname=box:/,subtype=sbxfs"); /* given once already */
	free(m);
	sbxfs_opts_release(&o);
	fuse_opt_free_args(&args);

	ck_assert_int_eq(parse(&o, &args, without), 0);
	ck_assert_int_eq(o.allow_other, 0);
	ck_assert_int_eq(sbxfs_opts_mount_args(&o, &m), 0);
	ck_assert_str_eq(m, "fsname=box:/,subtype=sbxfs");
	free(m);
	sbxfs_opts_release(&o);
	fuse_opt_free_args(&args);
}
END_TEST

START_TEST(debug_implies_foreground)
{
	const char *argv[] = {"sbxfs", "-d", "box", "/tmp", NULL};
	struct fuse_args args;
	struct sbxfs_opts o;

	ck_assert_int_eq(parse(&o, &args, argv), 0);
	ck_assert_int_eq(o.debug, 1);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert(has_arg(&args, "-d")); /* libfuse prints the requests */
	sbxfs_opts_release(&o);
	fuse_opt_free_args(&args);
}
END_TEST

START_TEST(refusals)
{
	const char *tok[] = {"sbxfs", "-o", "token=secret", "box", "/tmp", NULL};
	const char *missing[] = {"sbxfs", "box", NULL};
	const char *extra[] = {"sbxfs", "box", "/tmp", "/other", NULL};
	const char *transport[] = {"sbxfs", "-o", "transport=ssh", "box", "/tmp", NULL};
	const char *neg[] = {"sbxfs", "-o", "attr_timeout=-1", "box", "/tmp", NULL};
	const char *pf[] = {"sbxfs", "-o", "prefetch=257", "box", "/tmp", NULL};
	const char *wt[] = {"sbxfs", "-o", "watch_timeout=-2", "box", "/tmp", NULL};
	const char *help[] = {"sbxfs", "-h", NULL};
	struct fuse_args args;
	struct sbxfs_opts o;

	ck_assert_int_eq(parse(&o, &args, tok), -EINVAL);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	ck_assert_int_eq(parse(&o, &args, missing), -EINVAL);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	ck_assert_int_eq(parse(&o, &args, extra), -EINVAL);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	ck_assert_int_eq(parse(&o, &args, transport), -EINVAL);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	ck_assert_int_eq(parse(&o, &args, neg), -EINVAL);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	ck_assert_int_eq(parse(&o, &args, pf), -EINVAL);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	ck_assert_int_eq(parse(&o, &args, wt), -EINVAL);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	ck_assert_int_eq(parse(&o, &args, help), 0);
	ck_assert_int_eq(o.show_help, 1);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
}
END_TEST

/* a timeout must be a number a deadline can be computed from: no NaN, no
 * infinity, nothing whose milliseconds overflow an int64_t */
START_TEST(timeouts_are_finite)
{
	static const char *const bad[] = {
	    "attr_timeout=nan",	    "entry_timeout=-nan",
	    "negative_timeout=inf", "dir_cache_timeout=1e300",
	    "op_timeout=nan",	    "op_timeout=inf",
	    "op_timeout=0",	    "attr_timeout=31536001",
	    "empty_delay=nan",	    "empty_delay=-1",
	    "empty_delay=61",
	};
	const char *argv[] = {"sbxfs", "-o", NULL, "box", "/tmp", NULL};
	struct fuse_args args;
	struct sbxfs_opts o;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[2] = bad[i];
		ck_assert_msg(parse(&o, &args, argv) == -EINVAL, "%s", bad[i]);
		sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	}
	argv[2] = "attr_timeout=31536000,op_timeout=0.5,negative_timeout=0";
	ck_assert_int_eq(parse(&o, &args, argv), 0);
	ck_assert(o.empty_delay == SBXFS_DEF_EMPTY_DELAY);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
	argv[2] = "empty_delay=60";
	ck_assert_int_eq(parse(&o, &args, argv), 0);
	sbxfs_opts_release(&o), fuse_opt_free_args(&args);
}
END_TEST

static char dir[64];

static void write_file(const char *name, const char *data)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(data, f);
	fclose(f);
}

START_TEST(credentials)
{
	struct sbxfs_opts o = {0};
	struct sbxfs_creds c;
	char msg[256], tf[128];

	snprintf(dir, sizeof(dir), "/tmp/test_fs_opts.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));

	/* the environment */
	ck_assert_int_eq(sbxfs_creds_resolve(&o, "envtok", "http://h:1", dir, &c, msg, sizeof(msg)),
			 0);
	ck_assert_str_eq(c.token.data, "envtok");
	ck_assert_str_eq(c.api_host.data, "http://h:1");
	ck_assert_int_eq(c.src, SBXFS_CRED_ENV);
	sbxfs_creds_release(&c);

	/* the local host: token and sbxd.json */
	ck_assert_int_lt(sbxfs_creds_resolve(&o, NULL, NULL, dir, &c, msg, sizeof(msg)), 0);
	write_file("token", "  localtok\n");
	ck_assert_int_lt(sbxfs_creds_resolve(&o, NULL, NULL, dir, &c, msg, sizeof(msg)), 0);
	ck_assert(strstr(msg, "not running") != NULL);
	write_file("sbxd.json", "{\"pid\":1,\"api_host\":\"http://127.0.0.1:7070\"}");
	ck_assert_int_eq(sbxfs_creds_resolve(&o, "", "http://ignored", dir, &c, msg, sizeof(msg)),
			 0);
	ck_assert_str_eq(c.token.data, "localtok");
	ck_assert_str_eq(c.api_host.data, "http://127.0.0.1:7070");
	ck_assert_int_eq(c.src, SBXFS_CRED_LOCAL);
	sbxfs_creds_release(&c);

	/* token_file wins over the environment; api_host= over everything */
	snprintf(tf, sizeof(tf), "%s/tf", dir);
	write_file("tf", "filetok\r\nsecond line\n");
	o.token_file = tf;
	o.api_host = "https://api.example";
	ck_assert_int_eq(sbxfs_creds_resolve(&o, "envtok", "http://h:1", dir, &c, msg, sizeof(msg)),
			 0);
	ck_assert_str_eq(c.token.data, "filetok");
	ck_assert_str_eq(c.api_host.data, "https://api.example");
	sbxfs_creds_release(&c);
	write_file("tf", "\n \n");
	ck_assert_int_eq(sbxfs_creds_resolve(&o, NULL, NULL, dir, &c, msg, sizeof(msg)), -EINVAL);
	o.token_file = "/nonexistent/file";
	ck_assert_int_lt(sbxfs_creds_resolve(&o, NULL, NULL, dir, &c, msg, sizeof(msg)), 0);
	o.token_file = NULL;
	o.api_host = NULL;
	ck_assert_int_eq(sbxfs_creds_resolve(&o, NULL, NULL, NULL, &c, msg, sizeof(msg)), -ENOENT);
	/* no secret in the messages */
	ck_assert(strstr(msg, "tok") == NULL || strstr(msg, "token") != NULL);

	snprintf(tf, sizeof(tf), "rm -rf %s", dir);
	ck_assert_int_eq(system(tf), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fs_opts");
	TCase *tc = tcase_create("opts");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, spec_forms);
	tcase_add_test(tc, options_and_positionals);
	tcase_add_test(tc, allow_other_forces_permissions);
	tcase_add_test(tc, debug_implies_foreground);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, timeouts_are_finite);
	tcase_add_test(tc, credentials);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
