/* test_fs_script.c - the shell scripts of the filesystem primitives
 * (src/lib/fs/script.c), built for tricky paths and run for real.
 *
 * Each script is run with `sh -c` in a private temp dir, with stdin fed and
 * stdout, stderr and the exit code captured, under every shell found here:
 * dash (/bin/sh on Debian), bash in POSIX mode, and busybox sh with only
 * busybox's applets on PATH (its head -c reads past its count, its rm and
 * redirections print their own texts). A failure is checked through
 * sbx_fs_errmap(), so the script's markers and the mapping are tested
 * together. When run as root, a few scripts also run as nobody to get real
 * "Permission denied" errors.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fs/errmap.h"
#include "lib/fs/script.h"
#include "lib/fs/store.h"
#include "util/buf.h"

/* Shells to run the scripts under; filled in main(). */
struct shell {
	const char *name;
	const char *exe;  /* exec'ed with argv[0] "sh" */
	const char *path; /* PATH for the script, NULL: inherit */
};

static struct shell shells[3];
static int n_shells;
static char root[64];	 /* temp dir of the whole run */
static char bb_bin[128]; /* busybox applets */

struct run {
	int code;
	struct sbx_buf out;
	struct sbx_buf err;
};

static void run_release(struct run *r)
{
	sbx_buf_release(&r->out);
	sbx_buf_release(&r->err);
}

static void child(const struct shell *sh, const char *cwd, const char *script, uid_t uid, int in,
		  int out, int err)
{
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (chdir(cwd) < 0)
		_exit(125);
	if (uid && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
		_exit(125);
	if (sh->path)
		setenv("PATH", sh->path, 1);
	setenv("LANG", "de_DE.UTF-8", 1); /* the script must override it */
	execl(sh->exe, "sh", "-c", script, (char *)NULL);
	_exit(127);
}

/* Moves data between the child's pipes until both outputs are closed. */
static void pump(int in, int out, int err, const char *data, size_t len, struct run *r)
{
	struct pollfd p[3] = {{in, POLLOUT, 0}, {out, POLLIN, 0}, {err, POLLIN, 0}};
	size_t off = 0;
	char buf[65536];

	if (len == 0) {
		close(in);
		p[0].fd = -1;
	}
	while (p[1].fd >= 0 || p[2].fd >= 0) {
		ck_assert_int_ge(poll(p, 3, 30000), 1);
		if (p[0].fd >= 0 && p[0].revents) {
			ssize_t w = write(in, data + off, len - off > 65536 ? 65536 : len - off);

			off += w > 0 ? (size_t)w : 0;
			if (w < 0 || off == len) {
				close(in);
				p[0].fd = -1;
			}
		}
		for (int i = 1; i < 3; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
			} else {
				sbx_buf_append(i == 1 ? &r->out : &r->err, buf, (size_t)n);
			}
		}
	}
	if (p[0].fd >= 0)
		close(in);
}

/* Runs script under shell si in cwd with stdin data; as uid when not 0. */
static int run_as(int si, const char *cwd, const char *script, const void *data, size_t len,
		  uid_t uid, struct run *r)
{
	int in[2], out[2], err[2], st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	ck_assert(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
		  pipe2(err, O_CLOEXEC) == 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child(&shells[si], cwd, script, uid, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	pump(in[1], out[0], err[0], data, len, r);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r->code;
}

static int run(int si, const char *cwd, const char *script, const void *data, size_t len,
	       struct run *r)
{
	return run_as(si, cwd, script, data, len, 0, r);
}

/* The store check of data, with a fixed suffix (tests want fixed scripts). */
static struct sbx_fs_store_check chk_of(const void *data, size_t len)
{
	struct sbx_fs_store_check c = {0};
	struct iovec v = {(void *)data, len};

	ck_assert_int_eq(sbx_fs_store_digest_iov(&c, &v, 1), 0);
	memcpy(c.suffix, "0123456789abcdef", SBX_FS_STORE_SUFFIX);
	return c;
}

/* sbx_fs_script_write promising data[0..len). */
static int write_s(struct sbx_buf *b, const char *path, const void *data, size_t len)
{
	struct sbx_fs_store_check c = chk_of(data, len);

	return sbx_fs_script_write(b, path, &c);
}

/* The write of an empty content (a builder of one path). */
static int write0(struct sbx_buf *b, const char *path)
{
	return write_s(b, path, "", 0);
}

/* The errno the run maps to (0 for exit 0). */
static int mapped(const struct run *r)
{
	struct sbx_err e;

	if (r->code == 0)
		return 0;
	return sbx_fs_errmap(r->code, r->err.data, r->err.len, "test", &e);
}

#define EXPECT_RC(r, want)                                                                         \
	do {                                                                                       \
		int got_ = mapped(r);                                                              \
		ck_assert_msg(got_ == (want), "%s: %s:%d: want %d got %d (exit %d) stderr: %s",    \
			      shells[_i].name, __FILE__, __LINE__, (want), got_, (r)->code,        \
			      (r)->err.data ? (r)->err.data : "");                                 \
	} while (0)

/* Runs the script that expression B builds into s (released after) in dir W
 * with stdin IN, LEN, and checks the mapped result; the run stays in r. */
#define RUN_CHECK(B, W, IN, LEN, WANT)                                                             \
	do {                                                                                       \
		struct sbx_buf s;                                                                  \
                                                                                                   \
		sbx_buf_init(&s);                                                                  \
		ck_assert_int_eq((B), 0);                                                          \
		run(_i, (W), s.data, (IN), (LEN), &r);                                             \
		sbx_buf_release(&s);                                                               \
		EXPECT_RC(&r, (WANT));                                                             \
	} while (0)

/* Builds a script with builder expression B into a fresh buffer. */
#define SCRIPT(buf, B)                                                                             \
	do {                                                                                       \
		sbx_buf_init(&(buf));                                                              \
		ck_assert_int_eq((B), 0);                                                          \
	} while (0)

static char *mkwork(void)
{
	char *d = malloc(128);

	snprintf(d, 128, "%s/w-XXXXXX", root);
	ck_assert_ptr_nonnull(mkdtemp(d));
	chmod(d, 0755);
	return d;
}

static char *join(const char *dir, const char *name)
{
	struct sbx_buf b = SBX_BUF_INIT;

	sbx_buf_printf(&b, "%s/%s", dir, name);
	return sbx_buf_detach(&b, NULL);
}

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	free(p);
}

static void put_dir(const char *dir, const char *name)
{
	char *p = join(dir, name);

	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
}

/* 0 missing, 'f' file, 'd' dir, 'l' symlink */
static int kind(const char *dir, const char *name)
{
	char *p = join(dir, name);
	struct stat st;
	int k = 0;

	if (lstat(p, &st) == 0)
		k = S_ISLNK(st.st_mode) ? 'l' : S_ISDIR(st.st_mode) ? 'd' : 'f';
	free(p);
	return k;
}

static void expect_content(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = join(dir, name);
	struct sbx_buf b = SBX_BUF_INIT;
	char buf[65536];
	ssize_t n;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s", p);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sbx_buf_append(&b, buf, (size_t)n);
	close(fd);
	ck_assert_uint_eq(b.len, len);
	ck_assert(len == 0 || memcmp(b.data, data, len) == 0);
	sbx_buf_release(&b);
	free(p);
}

/* Names that break naive quoting, option parsing or line-based parsing. */
static const char *const tricky[] = {
    "plain",	 "with space",	"it's",	     "dq\"uote",
    "new\nline", "-rf",		"--",	     "-",
    "-n",	 "-e",		"!",	     "ünïcødé ✓",
    "*",	 "?",		"[a]",	     "$(echo pwned)",
    "`id`",	 "back\\slash", "tab\there", " lead",
    "trail ",	 "~user",	".hidden",   "..dots",
    "a;b&&c|d",	 "%s%n",	"\n",	     "\xff\xfe\x80",
    "'",	 "''",
};
#define N_TRICKY (sizeof(tricky) / sizeof(tricky[0]))

/* The name made of every byte 1..255 but '/'. */
static void all_bytes_name(char out[256])
{
	int i, o = 0;

	for (i = 1; i < 256; i++)
		if (i != '/')
			out[o++] = (char)i;
	out[o] = '\0';
}

static void content_of(const char *name, struct sbx_buf *b)
{
	int i;

	sbx_buf_init(b);
	sbx_buf_puts(b, name);
	for (i = 0; i < 256; i++)
		sbx_buf_putc(b, (char)i);
	sbx_buf_puts(b, "\n\n  ");
}

/* write, read, the three tests and delete of one name in dir w. */
static void file_cycle(int _i, const char *w, const char *name)
{
	struct sbx_buf c;
	struct run r;

	content_of(name, &c);
	RUN_CHECK(write_s(&s, name, c.data, c.len), w, c.data, c.len, 0);
	expect_content(w, name, c.data, c.len);
	run_release(&r);

	RUN_CHECK(sbx_fs_script_read(&s, name), w, NULL, 0, 0);
	ck_assert_uint_eq(r.out.len, c.len);
	ck_assert(memcmp(r.out.data, c.data, c.len) == 0);
	run_release(&r);

	for (int t = SBX_FS_TEST_EXISTS; t <= SBX_FS_TEST_DIR; t++) {
		bool flag;

		RUN_CHECK(sbx_fs_script_test(&s, name, (enum sbx_fs_test)t), w, NULL, 0, 0);
		ck_assert_int_eq(sbx_fs_parse_flag(r.out.data, r.out.len, &flag), 0);
		ck_assert(flag == (t != SBX_FS_TEST_DIR));
		run_release(&r);
	}

	RUN_CHECK(sbx_fs_script_delete_file(&s, name), w, NULL, 0, 0);
	ck_assert_int_eq(kind(w, name), 0);
	run_release(&r);
	sbx_buf_release(&c);
}

START_TEST(files_tricky_names)
{
	char *w = mkwork(), all[256];

	for (size_t k = 0; k < N_TRICKY; k++)
		file_cycle(_i, w, tricky[k]);
	all_bytes_name(all);
	file_cycle(_i, w, all);
	free(w);
}
END_TEST

/* Absolute paths and paths through a subdirectory with every byte. */
START_TEST(files_in_subdirs)
{
	char *w = mkwork(), all[256], *abs;
	struct sbx_buf path = SBX_BUF_INIT;
	struct run r;

	all_bytes_name(all);
	put_dir(w, all);
	sbx_buf_printf(&path, "%s/-x\n'y", all);
	file_cycle(_i, w, path.data);
	abs = join(w, path.data);
	file_cycle(_i, "/", abs);

	RUN_CHECK(write_s(&s, abs, "z", 1), "/", "z", 1, 0);
	expect_content(w, path.data, "z", 1);
	run_release(&r);
	free(abs);
	sbx_buf_release(&path);
	free(w);
}
END_TEST

START_TEST(write_errors)
{
	char *w = mkwork();
	struct run r;
	static const struct {
		const char *path;
		int want;
	} cases[] = {
	    {"dir", -SBX_EISDIR},
	    {"dir/", -SBX_EISDIR},
	    {"missing/x", -SBX_ENOTFOUND},
	    {"missing/deeper/x", -SBX_ENOTFOUND},
	    {"file/x", -SBX_ENOTDIR},
	    {"file/deeper/x", -SBX_ENOTDIR},
	    {"dir/missing/x", -SBX_ENOTFOUND},
	};

	put_dir(w, "dir");
	put_file(w, "file", "f", 1);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		RUN_CHECK(write_s(&s, cases[k].path, "data", 4), w, "data", 4, cases[k].want);
		run_release(&r);
	}
	expect_content(w, "file", "f", 1);
	free(w);
}
END_TEST

START_TEST(read_errors)
{
	char *w = mkwork();
	struct run r;
	static const struct {
		const char *path;
		int want;
	} cases[] = {
	    {"missing", -SBX_ENOTFOUND},  {"dir", -SBX_EISDIR},	 {"file/x", -SBX_ENOTDIR},
	    {"dangling", -SBX_ENOTFOUND}, {"-", -SBX_ENOTFOUND}, {"--help", -SBX_ENOTFOUND},
	};

	put_dir(w, "dir");
	put_file(w, "file", "f", 1);
	{
		char *l = join(w, "dangling");
		ck_assert_int_eq(symlink("nowhere", l), 0);
		free(l);
	}
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		RUN_CHECK(sbx_fs_script_read(&s, cases[k].path), w, NULL, 0, cases[k].want);
		ck_assert_uint_eq(r.out.len, 0);
		run_release(&r);
	}
	free(w);
}
END_TEST

static void list_expect(int _i, const char *w, const char *dir, const char *const *want, size_t n)
{
	struct run r;
	char **names = NULL;
	size_t got = 99;

	RUN_CHECK(sbx_fs_script_list(&s, dir), w, NULL, 0, 0);
	ck_assert_int_eq(sbx_fs_parse_names(r.out.data ? r.out.data : "", r.out.len, &names, &got),
			 0);
	ck_assert_uint_eq(got, n);
	for (size_t k = 0; k < n; k++)
		ck_assert_msg(strcmp(names[k], want[k]) == 0, "name %zu", k);
	ck_assert_ptr_null(names[n]);
	sbx_strv_free(names);
	run_release(&r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(list_dir_exact)
{
	char *w = mkwork(), all[256];
	const char *want[N_TRICKY + 4];
	size_t n = 0;
	struct run r;

	put_dir(w, "d");
	put_dir(w, "empty");
	put_dir(w, "-dash dir");
	put_file(w, "f", "", 0);
	list_expect(_i, w, "empty", NULL, 0);
	list_expect(_i, w, "-dash dir", NULL, 0);
	{
		char *dd = join(w, "d");

		for (size_t k = 0; k < N_TRICKY; k++) {
			put_file(dd, tricky[k], "x", 1);
			want[n++] = tricky[k];
		}
		all_bytes_name(all);
		put_dir(dd, all);
		want[n++] = all;
		put_file(dd, "..?*", "", 0); /* the literal third pattern */
		want[n++] = "..?*";
		{
			char *l = join(dd, "dangling");
			ck_assert_int_eq(symlink("nowhere", l), 0);
			free(l);
		}
		want[n++] = "dangling";
		free(dd);
	}
	qsort(want, n, sizeof(want[0]), cmp_str);
	list_expect(_i, w, "d", want, n);
	{
		char *abs = join(w, "d");
		list_expect(_i, "/", abs, want, n);
		free(abs);
	}

	static const struct {
		const char *path;
		int want;
	} errs[] = {{"missing", -SBX_ENOTFOUND},
		    {"f", -SBX_ENOTDIR},
		    {"f/x", -SBX_ENOTDIR},
		    {"missing/x", -SBX_ENOTFOUND}};
	for (size_t k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
		RUN_CHECK(sbx_fs_script_list(&s, errs[k].path), w, NULL, 0, errs[k].want);
		run_release(&r);
	}
	free(w);
}
END_TEST

/* Runs one script over the single path p (as uid when not 0) and checks
 * the mapped result. */
static void one_as(int _i, const char *w, int (*build)(struct sbx_buf *, const char *),
		   const char *p, int want, uid_t uid)
{
	struct sbx_buf s;
	struct run r;

	SCRIPT(s, build(&s, p));
	run_as(_i, w, s.data, NULL, 0, uid, &r);
	EXPECT_RC(&r, want);
	run_release(&r);
	sbx_buf_release(&s);
}

static void one(int _i, const char *w, int (*build)(struct sbx_buf *, const char *), const char *p,
		int want)
{
	one_as(_i, w, build, p, want, 0);
}

static int mkdir1(struct sbx_buf *b, const char *p)
{
	return sbx_fs_script_mkdir(b, p, false);
}

static int mkdirp(struct sbx_buf *b, const char *p)
{
	return sbx_fs_script_mkdir(b, p, true);
}

static int rmr(struct sbx_buf *b, const char *p)
{
	return sbx_fs_script_rm(b, p, true);
}

static int rm1(struct sbx_buf *b, const char *p)
{
	return sbx_fs_script_rm(b, p, false);
}

START_TEST(mkdir_and_delete)
{
	char *w = mkwork();

	for (size_t k = 0; k < N_TRICKY; k++) {
		one(_i, w, mkdir1, tricky[k], 0);
		ck_assert_int_eq(kind(w, tricky[k]), 'd');
		one(_i, w, mkdir1, tricky[k], -SBX_EEXIST);
		one(_i, w, mkdirp, tricky[k], 0);
		one(_i, w, sbx_fs_script_delete_file, tricky[k], -SBX_EISDIR);
		one(_i, w, rm1, tricky[k], -SBX_EISDIR);
		one(_i, w, sbx_fs_script_delete_dir, tricky[k], 0);
		ck_assert_int_eq(kind(w, tricky[k]), 0);
		one(_i, w, sbx_fs_script_delete_dir, tricky[k], -SBX_ENOTFOUND);
	}
	one(_i, w, mkdirp, "-p/a b/\nc/'d", 0);
	ck_assert_int_eq(kind(w, "-p/a b/\nc/'d"), 'd');
	one(_i, w, mkdir1, "-p/x/y", -SBX_ENOTFOUND);
	one(_i, w, sbx_fs_script_delete_dir, "-p", -SBX_ENOTEMPTY);
	one(_i, w, rm1, "-p", -SBX_EISDIR);
	one(_i, w, rmr, "-p", 0);
	ck_assert_int_eq(kind(w, "-p"), 0);
	one(_i, w, rmr, "-p", 0); /* rm -rf of nothing */

	put_file(w, "file", "x", 1);
	one(_i, w, mkdir1, "file", -SBX_EEXIST);
	one(_i, w, mkdirp, "file", -SBX_EEXIST);
	one(_i, w, mkdir1, "file/x", -SBX_ENOTDIR);
	one(_i, w, mkdirp, "file/x/y", -SBX_ENOTDIR);
	one(_i, w, sbx_fs_script_delete_dir, "file", -SBX_ENOTDIR);
	one(_i, w, sbx_fs_script_delete_dir, "file/x", -SBX_ENOTDIR);
	one(_i, w, sbx_fs_script_delete_file, "file/x", -SBX_ENOTDIR);
	one(_i, w, sbx_fs_script_delete_file, "nothing", -SBX_ENOTFOUND);
	one(_i, w, rm1, "nothing", -SBX_ENOTFOUND);
	one(_i, w, rm1, "file", 0);
	ck_assert_int_eq(kind(w, "file"), 0);

	/* a symlink to a directory is a file for delete_file, not for delete_dir */
	put_dir(w, "target");
	{
		char *l = join(w, "link");
		ck_assert_int_eq(symlink("target", l), 0);
		free(l);
	}
	one(_i, w, sbx_fs_script_delete_dir, "link", -SBX_ENOTDIR);
	one(_i, w, sbx_fs_script_delete_file, "link", 0);
	ck_assert_int_eq(kind(w, "link"), 0);
	ck_assert_int_eq(kind(w, "target"), 'd');
	free(w);
}
END_TEST

static void mv(int _i, const char *w, bool rename_sem, const char *a, const char *b, int want)
{
	struct run r;

	RUN_CHECK(rename_sem ? sbx_fs_script_rename(&s, a, b) : sbx_fs_script_move(&s, a, b), w,
		  NULL, 0, want);
	run_release(&r);
}

START_TEST(rename_and_move)
{
	char *w = mkwork(), *p;

	for (size_t k = 0; k + 1 < N_TRICKY; k++) {
		put_file(w, tricky[k], tricky[k], strlen(tricky[k]));
		mv(_i, w, k % 2, tricky[k], tricky[k + 1], 0);
		ck_assert_int_eq(kind(w, tricky[k]), 0);
		expect_content(w, tricky[k + 1], tricky[k], strlen(tricky[k]));
		one(_i, w, rm1, tricky[k + 1], 0);
	}
	put_file(w, "f", "F", 1);
	put_file(w, "g", "G", 1);
	put_dir(w, "d");
	put_dir(w, "e");
	put_dir(w, "full");
	put_file(w, "full/x", "", 0);
	mv(_i, w, true, "missing", "x", -SBX_ENOTFOUND);
	mv(_i, w, false, "missing", "x", -SBX_ENOTFOUND);
	mv(_i, w, true, "f", "nodir/x", -SBX_ENOTFOUND);
	mv(_i, w, true, "f", "d", -SBX_EISDIR);	      /* rename(2): file onto dir */
	mv(_i, w, true, "d", "f", -SBX_ENOTDIR);      /* dir onto file */
	mv(_i, w, true, "d", "full", -SBX_ENOTEMPTY); /* dir onto non-empty dir */
	mv(_i, w, true, "f", "f", 0);		      /* same file: nothing */
	expect_content(w, "f", "F", 1);
	mv(_i, w, true, "f", "g", 0); /* replaces */
	expect_content(w, "g", "F", 1);
	ck_assert_int_eq(kind(w, "f"), 0);
	mv(_i, w, true, "d", "e", 0); /* dir replaces an empty dir */
	ck_assert_int_eq(kind(w, "d"), 0);
	ck_assert_int_eq(kind(w, "e"), 'd');
	mv(_i, w, false, "g", "e", 0); /* move: into the directory */
	expect_content(w, "e/g", "F", 1);
	p = join(w, "tolink");
	ck_assert_int_eq(symlink("e", p), 0);
	free(p);
	put_file(w, "h", "H", 1);
	mv(_i, w, true, "h", "tolink", 0); /* the symlink is replaced, not followed */
	ck_assert_int_eq(kind(w, "tolink"), 'f');
	ck_assert_int_eq(kind(w, "e/h"), 0);
	mv(_i, w, true, "-", "-x", -SBX_ENOTFOUND);
	free(w);
}
END_TEST

/* Real EACCES: the scripts run as nobody in a directory owned by root. */
START_TEST(permission_denied)
{
	static const struct {
		int (*build)(struct sbx_buf *, const char *);
		const char *path;
	} cases[] = {
	    {write0, "new"},
	    {mkdir1, "newdir"},
	    {sbx_fs_script_delete_file, "f"},
	    {sbx_fs_script_list, "private"},
	    {sbx_fs_script_read, "private/secret"},
	    {sbx_fs_script_read, "private/x/y"},
	};
	char *w = mkwork(), *p = join(w, "private");

	if (geteuid() == 0) {
		put_file(w, "f", "x", 1);
		put_dir(w, "private");
		put_file(w, "private/secret", "s", 1);
		chmod(p, 0700);
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			one_as(_i, w, cases[k].build, cases[k].path, -SBX_EPERM, 65534);
	}
	free(p);
	free(w);
}
END_TEST

/* The stdin of write_files for files[0..n). */
static void files_stdin(const struct sbx_file_spec *f, size_t n, struct sbx_buf *in)
{
	sbx_buf_init(in);
	for (size_t k = 0; k < n; k++) {
		struct sbx_fs_store_check c = chk_of(f[k].data, f[k].len);

		ck_assert_int_eq(sbx_fs_write_files_head(in, &f[k], c.sha256), 0);
		sbx_buf_append(in, f[k].data, f[k].len);
	}
}

static void run_files(int _i, const char *w, const struct sbx_file_spec *f, size_t n, struct run *r)
{
	struct sbx_buf s, in;

	files_stdin(f, n, &in);
	SCRIPT(s, sbx_fs_script_write_files(&s, "0123abcd"));
	run(_i, w, s.data, in.data, in.len, r);
	sbx_buf_release(&s);
	sbx_buf_release(&in);
}

/* write_files: framing over one stdin, with sizes around the pipe buffer,
 * names with newlines (trailing ones too) and paths with dashes. */
START_TEST(write_files_framing)
{
	char *w = mkwork(), all[256], names[300][8];
	struct sbx_file_spec f[300];
	struct sbx_buf big = SBX_BUF_INIT;
	struct run r;
	size_t n = 0, k;

	all_bytes_name(all);
	put_dir(w, "-d");
	for (k = 0; k < 70000; k++)
		sbx_buf_putc(&big, (char)(k * 7 + k / 251));
	f[n++] = (struct sbx_file_spec){"empty", "", 0};
	f[n++] = (struct sbx_file_spec){all, all, 254};
	f[n++] = (struct sbx_file_spec){"-n", "\0\0\n", 3};
	f[n++] = (struct sbx_file_spec){"new\nline\n\n", big.data, big.len};
	f[n++] = (struct sbx_file_spec){"-d/-x\n", "4 2 1\n", 6};
	f[n++] = (struct sbx_file_spec){"it's", "x", 1};
	f[n++] = (struct sbx_file_spec){"zero", NULL, 0};
	f[n++] = (struct sbx_file_spec){"empty", "again", 5}; /* the last one wins */
	run_files(_i, w, f, n, &r);
	EXPECT_RC(&r, 0);
	for (k = 1; k < n; k++)
		expect_content(w, f[k].path, f[k].data, f[k].len);
	run_release(&r);

	/* many files: the script does not grow with them */
	for (k = 0; k < 300; k++) {
		snprintf(names[k], sizeof(names[k]), "m%zu", k);
		f[k] = (struct sbx_file_spec){names[k], names[k], strlen(names[k])};
	}
	run_files(_i, w, f, 300, &r);
	EXPECT_RC(&r, 0);
	expect_content(w, "m299", "m299", 4);
	run_release(&r);

	sbx_buf_release(&big);
	free(w);
}
END_TEST

/* write_files stops at the first failure and names the file; a stream cut
 * short, or garbage, is an error, never a silent success. */
START_TEST(write_files_failures)
{
	char *w = mkwork();
	struct sbx_file_spec f[3];
	struct run r;

	/* a failure stops the run: the files before it are written */
	f[0] = (struct sbx_file_spec){"first", "1", 1};
	f[1] = (struct sbx_file_spec){"nodir/second", "2", 1};
	f[2] = (struct sbx_file_spec){"third", "3", 1};
	run_files(_i, w, f, 3, &r);
	EXPECT_RC(&r, -SBX_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(r.err.data, "at file 2"));
	expect_content(w, "first", "1", 1);
	ck_assert_int_eq(kind(w, "third"), 0);
	run_release(&r);

	run_files(_i, w, NULL, 0, &r);
	EXPECT_RC(&r, 0);
	run_release(&r);

	RUN_CHECK(sbx_fs_script_write_files(&s, "0123abcd"), w, "3 1 5\nabc.hel", 13, -SBX_EIO);
	run_release(&r);
	RUN_CHECK(sbx_fs_script_write_files(&s, "0123abcd"), w, "x y z\n", 6, -SBX_EIO);
	run_release(&r);
	free(w);
}
END_TEST

/* Entries of dir whose name starts with prefix (NULL: any but . and ..). */
static int count_names(const char *dir, const char *prefix)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (prefix ? !strncmp(e->d_name, prefix, strlen(prefix))
			   : strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char journal[128];

/* No temporary in w and no journal entry: nothing of a store is left. */
static void expect_clean(const char *w)
{
	ck_assert_int_eq(count_names(w, SBX_FS_STORE_TMP), 0);
	ck_assert_int_eq(count_names(journal, NULL), 0);
}

/* A stream cut short (or too long, or altered) never replaces the file and
 * leaves nothing behind; the whole stream does, keeping mode and inode
 * rules: a regular file is replaced, a hard-linked one and a symlink's
 * target are written in place. */
START_TEST(write_cut_stream)
{
	static const char nu[] = "new content, all of it";
	const size_t n = sizeof(nu) - 1;
	char *w = mkwork(), *p = join(w, "f"), *q = join(w, "g");
	struct stat st0, st;
	struct run r;

	put_file(w, "f", "old", 3);
	ck_assert_int_eq(chmod(p, 0751), 0);
	ck_assert_int_eq(stat(p, &st0), 0);
	RUN_CHECK(write_s(&s, "f", nu, n), w, nu, 7, -SBX_EIO); /* cut */
	ck_assert_ptr_nonnull(strstr(r.err.data, "incomplete: 7 of 22 bytes"));
	run_release(&r);
	RUN_CHECK(write_s(&s, "f", nu, n), w, "new content, all of it!", n + 1, -SBX_EIO);
	run_release(&r);
	RUN_CHECK(write_s(&s, "f", nu, n), w, "NEW content, all of it", n, -SBX_EIO);
	run_release(&r);
	RUN_CHECK(write_s(&s, "f", nu, n), w, NULL, 0, -SBX_EIO); /* nothing arrived */
	run_release(&r);
	expect_content(w, "f", "old", 3);
	expect_clean(w);

	RUN_CHECK(write_s(&s, "f", nu, n), w, nu, n, 0);
	run_release(&r);
	expect_content(w, "f", nu, n);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_ne(st.st_ino, st0.st_ino); /* replaced whole */
	ck_assert_uint_eq(st.st_mode & 07777, 0751);
	expect_clean(w);

	/* hard links stay one file: in place, still checked */
	ck_assert_int_eq(link(p, q), 0);
	RUN_CHECK(write_s(&s, "f", "xyz", 3), w, "xyz", 3, 0);
	run_release(&r);
	expect_content(w, "g", "xyz", 3);
	RUN_CHECK(write_s(&s, "f", "uvw", 3), w, "u", 1, -SBX_EIO);
	run_release(&r);
	expect_clean(w);
	/* the tools' own errors still come through (tee on a full device;
	 * busybox's tee says "I/O error" whatever the errno) */
	RUN_CHECK(write_s(&s, "/dev/full", "abc", 3), w, "abc", 3,
		  strcmp(shells[_i].name, "busybox") ? -SBX_ENOSPC : -SBX_EIO);
	run_release(&r);
	free(p);
	free(q);
	free(w);
}
END_TEST

/* write_files: the file whose content is cut keeps its old content. */
START_TEST(write_files_cut_stream)
{
	char *w = mkwork();
	struct sbx_file_spec f[2] = {{"a", "AAAA", 4}, {"b", "BBBBBBBB", 8}};
	struct sbx_buf s, in;
	struct run r;

	put_file(w, "b", "old", 3);
	files_stdin(f, 2, &in);
	SCRIPT(s, sbx_fs_script_write_files(&s, "0123abcd"));
	run(_i, w, s.data, in.data, in.len - 3, &r);
	EXPECT_RC(&r, -SBX_EIO);
	expect_content(w, "a", "AAAA", 4);
	expect_content(w, "b", "old", 3);
	expect_clean(w);
	run_release(&r);
	sbx_buf_release(&s);
	sbx_buf_release(&in);
	free(w);
}
END_TEST

/* The text of the scripts: quoting, option safety, locale, bounds. */
START_TEST(script_text)
{
	struct sbx_buf s;
	char *long_path;
	struct sbx_file_spec f[1];
	const char *sum = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
	const char *bad = "2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B";

	SCRIPT(s, sbx_fs_script_read(&s, "-x"));
	ck_assert_ptr_nonnull(strstr(s.data, "\np=./-x\n"));
	ck_assert_ptr_nonnull(strstr(s.data, "LC_ALL=C; export LC_ALL"));
	ck_assert_ptr_nonnull(strstr(s.data, "cat -- \"$p\""));
	sbx_buf_release(&s);

	/* the content is promised by length and digest, never in argv */
	SCRIPT(s, write_s(&s, "it's", "secret", 6));
	ck_assert_ptr_nonnull(strstr(s.data, "\np='it'\"'\"'s'\n"));
	ck_assert_ptr_nonnull(strstr(s.data, "\nd=.\n"));
	ck_assert_ptr_nonnull(strstr(s.data, "\nt='./.sbx~0123456789abcdef'\n"));
	ck_assert_ptr_nonnull(
	    strstr(s.data, "\nsbx_put \"$p\" \"$t\" 6 "
			   "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
			   "\n"));
	ck_assert_ptr_null(strstr(s.data, "secret"));
	sbx_buf_release(&s);
	sbx_buf_init(&s);
	ck_assert_int_eq(sbx_fs_script_write(&s, "x", NULL), -SBX_EINVAL);
	sbx_buf_release(&s);

	SCRIPT(s, sbx_fs_script_move(&s, "-a", "/b c"));
	ck_assert_ptr_nonnull(strstr(s.data, "\na=./-a\nb='/b c'\n"));
	ck_assert_ptr_nonnull(strstr(s.data, "mv -f -- \"$a\" \"$b\""));
	sbx_buf_release(&s);

	/* bounds */
	sbx_buf_init(&s);
	ck_assert_int_eq(sbx_fs_script_read(&s, ""), -SBX_EINVAL);
	ck_assert_int_eq(sbx_fs_script_read(&s, NULL), -SBX_EINVAL);
	ck_assert_int_eq(sbx_fs_script_rename(&s, "a", ""), -SBX_EINVAL);
	sbx_buf_release(&s);
	long_path = malloc(SBX_FS_PATH_MAX + 2);
	memset(long_path, '\'', SBX_FS_PATH_MAX + 1);
	long_path[SBX_FS_PATH_MAX + 1] = '\0';
	sbx_buf_init(&s);
	ck_assert_int_eq(sbx_fs_script_read(&s, long_path), -ENAMETOOLONG);
	sbx_buf_release(&s);
	long_path[SBX_FS_PATH_MAX] = '\0'; /* the worst case still fits */
	SCRIPT(s, sbx_fs_script_rename(&s, long_path, long_path));
	ck_assert_uint_le(s.len, SBX_FS_SCRIPT_MAX);
	sbx_buf_release(&s);
	f[0] = (struct sbx_file_spec){"-a\nb", "xy", 2};
	SCRIPT(s, sbx_fs_write_files_head(&s, &f[0], sum));
	ck_assert_uint_eq(s.len, 13 + 65);
	ck_assert(memcmp(s.data, "6 1 2 ", 6) == 0);
	ck_assert(memcmp(s.data + 6, sum, 64) == 0);
	ck_assert(memcmp(s.data + 70, "\n./-a\nb.", 8) == 0);
	sbx_buf_release(&s);
	sbx_buf_init(&s);
	f[0] = (struct sbx_file_spec){"", "", 0};
	ck_assert_int_eq(sbx_fs_write_files_head(&s, &f[0], sum), -SBX_EINVAL);
	f[0] = (struct sbx_file_spec){"x", NULL, 1};
	ck_assert_int_eq(sbx_fs_write_files_head(&s, &f[0], sum), -SBX_EINVAL);
	f[0] = (struct sbx_file_spec){"x", "", 0};
	ck_assert_int_eq(sbx_fs_write_files_head(&s, &f[0], NULL), -SBX_EINVAL);
	ck_assert_int_eq(sbx_fs_write_files_head(&s, &f[0], "abc"), -SBX_EINVAL);
	ck_assert_int_eq(sbx_fs_write_files_head(&s, &f[0], bad), -SBX_EINVAL);
	ck_assert_int_eq(sbx_fs_script_write_files(&s, "0g"), -SBX_EINVAL);
	ck_assert_int_eq(sbx_fs_script_write_files(&s, ""), -SBX_EINVAL);
	f[0] = (struct sbx_file_spec){long_path, "", 0};
	ck_assert_int_eq(sbx_fs_write_files_head(&s, &f[0], sum), 0);
	sbx_buf_release(&s);
	free(long_path);
}
END_TEST

START_TEST(parent_paths)
{
	static const char *const cases[][2] = {
	    {"a/b", "a"}, {"a", "."},	 {"/a", "/"},	{"a/b//", "a"},	  {"/", "/"},
	    {"//a", "/"}, {"a//b", "a"}, {"./-x", "."}, {"a/b/c", "a/b"}, {"-", "."},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *p = sbx_fs_parent(cases[k][0]);

		ck_assert_str_eq(p, cases[k][1]);
		free(p);
	}
}
END_TEST

START_TEST(parse_outputs)
{
	char **v = NULL;
	size_t n = 9;
	bool flag;

	ck_assert_int_eq(sbx_fs_parse_names("", 0, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v[0]);
	sbx_strv_free(v);
	ck_assert_int_eq(sbx_fs_parse_names("b\0\xff\0a\nb\0B\0\x01\0", 12, &v, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(v[0], "\x01");
	ck_assert_str_eq(v[1], "B");
	ck_assert_str_eq(v[2], "a\nb");
	ck_assert_str_eq(v[3], "b");
	ck_assert_str_eq(v[4], "\xff");
	sbx_strv_free(v);
	ck_assert_int_eq(sbx_fs_parse_names("a\0b", 3, &v, &n), -SBX_EPROTO);
	ck_assert_int_eq(sbx_fs_parse_names("a\0\0", 3, &v, &n), -SBX_EPROTO);
	ck_assert_int_eq(sbx_fs_parse_names("\0", 1, &v, &n), -SBX_EPROTO);
	ck_assert_int_eq(sbx_fs_parse_flag("y\n", 2, &flag), 0);
	ck_assert(flag);
	ck_assert_int_eq(sbx_fs_parse_flag("n\n", 2, &flag), 0);
	ck_assert(!flag);
	ck_assert_int_eq(sbx_fs_parse_flag("", 0, &flag), -SBX_EPROTO);
	ck_assert_int_eq(sbx_fs_parse_flag("yes\n", 4, &flag), -SBX_EPROTO);
	sbx_strv_free(NULL);
}
END_TEST

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	remove(p);
	return 0;
}

/* Outside any test: no ck_assert here. */
static int setup_root(void)
{
	snprintf(root, sizeof(root), "/tmp/test_fs_script-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return -1;
	}
	chmod(root, 0755);
	/* the stores' journal goes here, not to the host's /var/tmp */
	snprintf(journal, sizeof(journal), "%s/journal", root);
	setenv("SBX_STORE_JOURNAL", journal, 1);
	return 0;
}

static void teardown_root(void)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void find_shells(void)
{
	shells[n_shells++] = (struct shell){"sh", "/bin/sh", NULL};
	if (access("/bin/bash", X_OK) == 0)
		shells[n_shells++] = (struct shell){"bash --posix", "/bin/bash", NULL};
	if (access("/bin/busybox", X_OK) == 0) { /* merged /usr: also /usr/bin */
		char cmd[512];

		snprintf(bb_bin, sizeof(bb_bin), "%s/busybox-bin", root);
		snprintf(cmd, sizeof(cmd), "mkdir -p %s && /bin/busybox --install -s %s", bb_bin,
			 bb_bin);
		if (system(cmd) == 0)
			shells[n_shells++] = (struct shell){"busybox", "/bin/busybox", bb_bin};
	}
}

int main(void)
{
	Suite *su = suite_create("fs_script");
	TCase *pure = tcase_create("pure"), *real = tcase_create("real");
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	if (setup_root() < 0)
		return EXIT_FAILURE;
	find_shells();
	for (int i = 0; i < n_shells; i++)
		printf("# shell: %s\n", shells[i].name);
	tcase_add_test(pure, script_text);
	tcase_add_test(pure, parent_paths);
	tcase_add_test(pure, parse_outputs);
	tcase_set_timeout(real, 120);
	tcase_add_loop_test(real, files_tricky_names, 0, n_shells);
	tcase_add_loop_test(real, files_in_subdirs, 0, n_shells);
	tcase_add_loop_test(real, write_errors, 0, n_shells);
	tcase_add_loop_test(real, read_errors, 0, n_shells);
	tcase_add_loop_test(real, list_dir_exact, 0, n_shells);
	tcase_add_loop_test(real, mkdir_and_delete, 0, n_shells);
	tcase_add_loop_test(real, rename_and_move, 0, n_shells);
	tcase_add_loop_test(real, write_files_framing, 0, n_shells);
	tcase_add_loop_test(real, write_files_failures, 0, n_shells);
	tcase_add_loop_test(real, write_cut_stream, 0, n_shells);
	tcase_add_loop_test(real, write_files_cut_stream, 0, n_shells);
	tcase_add_loop_test(real, permission_denied, 0, n_shells);
	suite_add_tcase(su, pure);
	suite_add_tcase(su, real);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	teardown_root();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
