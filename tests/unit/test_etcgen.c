/* test_etcgen.c - the default image's /etc (src/host/runtime/etcgen.c): the
 * allowlist, and a generation from a fake host /etc holding secrets. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/fsutil.h"
#include "host/runtime/etcgen.h"
#include "util/buf.h"
#include "util/statedir.h"

START_TEST(allowlist)
{
	static const char *const yes[] = {
	    "ssl/certs/ca-certificates.crt",
	    "ssl/openssl.cnf",
	    "alternatives/vi",
	    "ld.so.cache",
	    "ld.so.conf.d/x86_64-linux-gnu.conf",
	    "localtime",
	    "os-release",
	    "profile.d/x.sh",
	    "python3.11/sitecustomize.py",
	    "ca-certificates.conf",
	    "skel/.bashrc",
	};
	static const char *const no[] = {
	    "shadow",
	    "shadow-",
	    "gshadow",
	    "gshadow-",
	    "passwd",
	    "passwd-",
	    "group",
	    "ssh",
	    "ssh/ssh_host_ed25519_key",
	    "ssl/private",
	    "ssl/private/x.pem",
	    "ssl/certs/private",
	    "sudoers",
	    "sudoers.d/x",
	    "machine-id",
	    "hostname",
	    "resolv.conf",
	    "environment",
	    "",
	    "/ssl",
	    "ssl/../shadow",
	    "./ssl",
	    "ssl//certs",
	    "ssl/certs/my.key",
	    "profile.d/secret-token.sh",
	    "krb5.keytab",
	    "opt/x",
	};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(sbxd_etc_allowed(yes[i]), "%s should be allowed", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!sbxd_etc_allowed(no[i]), "%s should be denied", no[i]);
}
END_TEST

static void put(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	ck_assert_int_eq(sbxd_pathf(p, sizeof(p), "%s/%s", dir, rel), 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sbx_write_all(fd, text, strlen(text)), 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void sub(char *out, const char *dir, const char *rel)
{
	ck_assert_int_eq(sbxd_pathf(out, PATH_MAX, "%s/%s", dir, rel), 0);
}

/* A host /etc with what must never reach a sandbox next to what must. */
static void fake_host(const char *h)
{
	char p[PATH_MAX];
	static const char *const dirs[] = {"ssh",	   "ssl",	"ssl/private", "ssl/certs",
					   "alternatives", "profile.d", "sudoers.d"};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		sub(p, h, dirs[i]);
		ck_assert_int_eq(mkdir(p, 0755), 0);
	}
	sub(p, h, "ssl/private");
	chmod(p, 0700);
	put(h, "shadow", "root:$6$salt$hash:19000:0:99999:7:::\n", 0640);
	put(h, "passwd",
	    "root:$6$salt$hash:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/"
	    "alice:/bin/bash\n",
	    0644);
	put(h, "ssh/ssh_host_ed25519_key", "PRIVATE\n", 0600);
	put(h, "ssh/ssh_config", "Host *\n", 0644);
	put(h, "ssl/private/site.pem", "PRIVATE\n", 0600);
	put(h, "ssl/certs/ca.pem", "CERT\n", 0644);
	put(h, "profile.d/ok.sh", "export A=1\n", 0644);
	put(h, "profile.d/mine.sh", "export PASSWORD=x\n", 0600);
	put(h, "sudoers.d/x", "ALL ALL=(ALL) ALL\n", 0644);
	put(h, "login.defs", "UMASK 022\n", 04755);
	sub(p, h, "alternatives/vi");
	ck_assert_int_eq(symlink("/usr/bin/vim.basic", p), 0);
}

static bool exists(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	sub(p, dir, rel);
	return lstat(p, &st) == 0;
}

static void slurp(const char *dir, const char *rel, struct sbx_buf *b)
{
	char p[PATH_MAX];

	sbx_buf_reset(b);
	sub(p, dir, rel);
	ck_assert_int_eq(sbx_read_small_file(p, 1 << 20, b), 0);
}

START_TEST(generate)
{
	char tmpl[] = "/tmp/test_etcgen.XXXXXX", host[PATH_MAX], out[PATH_MAX], p[PATH_MAX],
	     cmd[PATH_MAX + 16];
	uid_t uid = geteuid() == 0 ? 4242 : geteuid();
	struct sbxd_etc_params ep = {host, "box-1", "nameserver 10.0.2.3\n", uid, uid};
	struct sbx_buf b = SBX_BUF_INIT;
	struct stat st;
	ssize_t n;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	sub(host, tmpl, "host");
	sub(out, tmpl, "out");
	ck_assert_int_eq(mkdir(host, 0755), 0);
	ck_assert_int_eq(mkdir(out, 0755), 0);
	fake_host(host);
	fd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sbxd_etc_generate(fd, &ep), 0);
	close(fd);

	ck_assert(!exists(out, "shadow") && !exists(out, "ssh") && !exists(out, "sudoers.d"));
	ck_assert(!exists(out, "ssl/private") && !exists(out, "profile.d/mine.sh"));
	ck_assert(exists(out, "ssl/certs/ca.pem") && exists(out, "profile.d/ok.sh"));
	slurp(out, "passwd", &b);
	ck_assert_ptr_nonnull(strstr(b.data, "root:x:0:0:"));
	ck_assert_ptr_nonnull(strstr(b.data, "nobody:x:65534:"));
	ck_assert_ptr_null(strstr(b.data, "$6$"));
	ck_assert_ptr_null(strstr(b.data, "alice"));
	slurp(out, "resolv.conf", &b);
	ck_assert_str_eq(b.data, "nameserver 10.0.2.3\n");
	slurp(out, "hostname", &b);
	ck_assert_str_eq(b.data, "box-1\n");
	slurp(out, "hosts", &b);
	ck_assert_ptr_nonnull(strstr(b.data, "127.0.1.1\tbox-1\n"));
	sub(p, out, "alternatives/vi");
	n = readlink(p, cmd, sizeof(cmd) - 1);
	ck_assert_int_gt(n, 0);
	cmd[n] = '\0';
	ck_assert_str_eq(cmd, "/usr/bin/vim.basic");
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert_int_eq(st.st_uid, uid);
	sub(p, out, "login.defs");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_uid, uid);
	ck_assert_int_eq(st.st_mode & 07777, 0755); /* set-id bits dropped */
	sub(p, out, "ssl/certs");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_uid, uid);

	sbx_buf_release(&b);
	ck_assert_int_eq(sbxd_pathf(cmd, sizeof(cmd), "rm -rf %s", tmpl), 0);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* sbxd_etc_put replaces a link the sandbox planted instead of writing
 * through it. */
START_TEST(put_never_follows)
{
	char tmpl[] = "/tmp/test_etcgen.XXXXXX", p[PATH_MAX], victim[PATH_MAX];
	struct sbx_buf b = SBX_BUF_INIT;
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	put(tmpl, "victim", "host data\n", 0644);
	sub(victim, tmpl, "victim");
	sub(p, tmpl, "resolv.conf");
	ck_assert_int_eq(symlink(victim, p), 0);
	fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(
	    sbxd_etc_put(fd, "resolv.conf", "nameserver 1.1.1.1\n", geteuid(), getegid()), 0);
	close(fd);
	slurp(tmpl, "victim", &b);
	ck_assert_str_eq(b.data, "host data\n");
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	slurp(tmpl, "resolv.conf", &b);
	ck_assert_str_eq(b.data, "nameserver 1.1.1.1\n");
	sbx_buf_release(&b);
	unlink(p);
	unlink(victim);
	ck_assert_int_eq(rmdir(tmpl), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("etcgen");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, allowlist);
	tcase_add_test(tc, generate);
	tcase_add_test(tc, put_never_follows);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
