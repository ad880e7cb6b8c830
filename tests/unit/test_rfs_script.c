/* test_rfs_script.c - the scripts of the remote filesystem operations
 * (src/lib/rfs/scripts.c), run for real with /bin/sh in a private temp dir,
 * their output parsed with src/lib/rfs/parse.c and their failures mapped
 * with lib/fs/errmap, so scripts, parsers and the errno mapping are tested
 * together against the local filesystem as the reference.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "lib/fs/store.h"
#include "lib/rfs/parse.h"
#include "lib/rfs/scripts.h"
#include "util/buf.h"

static char root[64];

struct run {
	int code;
	struct sbx_buf out, err;
};

static void run_release(struct run *r)
{
	sbx_buf_release(&r->out);
	sbx_buf_release(&r->err);
}

/* Drains out and err fds into bufs until both close. */
static void drain(int o, int e, struct run *r)
{
	struct pollfd p[2] = {{o, POLLIN, 0}, {e, POLLIN, 0}};
	char buf[65536];
	int open_n = 2;

	while (open_n > 0) {
		int i;

		if (poll(p, 2, 10000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_n--;
				continue;
			}
			sbx_buf_append(i ? &r->err : &r->out, buf, (size_t)n);
		}
	}
}

/* Runs script with sh -c, stdin from in_path (or /dev/null). */
static int sh_run(const char *script, const char *in_path, struct run *r)
{
	int po[2], pe[2], st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	drain(po[0], pe[0], r);
	waitpid(pid, &st, 0);
	r->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r->code;
}

/* Runs a built script and returns 0 or the mapped negative errno. */
static int op(struct sbx_buf *s, const char *in_path, struct run *r)
{
	int rc;

	sh_run(s->data, in_path, r);
	sbx_buf_release(s);
	if (r->code == 0)
		return 0;
	rc = sbx_fs_errmap(r->code, r->err.data, r->err.len, "op", NULL);
	return rc;
}

static char *P(const char *rel)
{
	static char bufs[8][4200];
	static int k;
	char *b = bufs[k++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", root, rel);
	return b;
}

static void put(const char *rel, const char *data)
{
	FILE *f = fopen(P(rel), "w");

	ck_assert_ptr_nonnull(f);
	fputs(data, f);
	fclose(f);
}

static int attr_out(struct run *r, struct sbx_rfs_attr *a)
{
	const char *p = r->out.data, *f;
	size_t n = r->out.len, len;

	if (!sbx_rfs_next_field(&p, &n, &f, &len) || n)
		return -EPROTO;
	return sbx_rfs_parse_attr(f, len, a);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/test_rfs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	/* the stores' journal goes here, not to the host's /var/tmp */
	setenv("SBX_STORE_JOURNAL", P("journal"), 1);
}

static void teardown(void)
{
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(stat_kinds)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_rfs_attr a;
	struct stat st;
	struct run r;

	put("f", "hello");
	ck_assert_int_eq(symlink("nowhere", P("l")), 0);
	ck_assert_int_eq(sbx_rfs_script_stat(&s, P("f")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_int_eq(lstat(P("f"), &st), 0);
	ck_assert_uint_eq(a.size, 5);
	ck_assert_uint_eq(a.mode, st.st_mode);
	ck_assert_uint_eq(a.ino, st.st_ino);
	ck_assert_int_eq(a.mtime.tv_sec, st.st_mtim.tv_sec);
	ck_assert_int_eq(a.mtime.tv_nsec, st.st_mtim.tv_nsec);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_stat(&s, P("l")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert(S_ISLNK(a.mode));
	ck_assert_uint_eq(a.size, 7);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_stat(&s, P("nope")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOENT);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_stat(&s, P("f/x")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOTDIR);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_stat(&s, "relative"), -EINVAL);
	sbx_buf_release(&s);
}
END_TEST

static const char *const tricky[] = {
    "with space", "new\nline", "quote'\"", "-dash", "--", "ünïcødé", "*", "$(x)", "a\\b",
};
#define N_TRICKY (sizeof(tricky) / sizeof(tricky[0]))

START_TEST(readdir_tricky)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_rfs_dir d;
	struct run r;
	size_t i, j, found = 0;

	for (i = 0; i < N_TRICKY; i++)
		put(tricky[i], tricky[i]);
	ck_assert_int_eq(mkdir(P("sub"), 0700), 0);
	ck_assert_int_eq(symlink("t\nx", P("lnk")), 0);
	ck_assert_int_eq(sbx_rfs_script_readdir(&s, root), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(sbx_rfs_parse_dir(r.out.data, r.out.len, &d), 0);
	ck_assert_uint_eq(d.n, N_TRICKY + 2);
	for (j = 0; j < d.n; j++) {
		for (i = 0; i < N_TRICKY; i++) {
			if (!strcmp(d.ents[j].name, tricky[i])) {
				ck_assert_uint_eq(d.ents[j].attr.size, strlen(tricky[i]));
				found++;
			}
		}
		if (!strcmp(d.ents[j].name, "lnk"))
			ck_assert_str_eq(d.ents[j].link, "t\nx");
		if (!strcmp(d.ents[j].name, "sub"))
			ck_assert_uint_eq(d.ents[j].attr.mode, S_IFDIR | 0700);
	}
	ck_assert_uint_eq(found, N_TRICKY);
	sbx_rfs_dir_release(&d);
	run_release(&r);

	ck_assert_int_eq(sbx_rfs_script_readdir(&s, P("sub")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(sbx_rfs_parse_dir(r.out.data, r.out.len, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_readdir(&s, P("--")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(sbx_rfs_parse_dir(r.out.data, r.out.len, &d), -ENOTDIR);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_readdir(&s, P("missing")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOENT);
	run_release(&r);
}
END_TEST

START_TEST(mkdir_create_unlink_rmdir)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_rfs_attr a;
	struct run r;

	ck_assert_int_eq(sbx_rfs_script_mkdir(&s, P("-d ir"), 0750), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0750);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_mkdir(&s, P("-d ir"), 0750), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -EEXIST);
	run_release(&r);

	ck_assert_int_eq(sbx_rfs_script_create(&s, P("-d ir/f"), S_IFREG | 0640, true), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0640);
	ck_assert_uint_eq(a.size, 0);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_create(&s, P("-d ir/f"), S_IFREG | 0600, true), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -EEXIST);
	run_release(&r);
	put("-d ir/f", "keep");
	ck_assert_int_eq(sbx_rfs_script_create(&s, P("-d ir/f"), S_IFREG | 0600, false), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_uint_eq(a.size, 4);
	ck_assert_uint_eq(a.mode, S_IFREG | 0640);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_create(&s, P("nodir/f"), S_IFREG | 0600, true), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOENT);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_create(&s, P("fifo"), S_IFIFO | 0600, true), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert(S_ISFIFO(a.mode));
	run_release(&r);

	ck_assert_int_eq(sbx_rfs_script_rmdir(&s, P("-d ir")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOTEMPTY);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_rmdir(&s, P("-d ir/f")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOTDIR);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_unlink(&s, P("-d ir")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -EISDIR);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_unlink(&s, P("-d ir/f")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_unlink(&s, P("-d ir/f")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOENT);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_rmdir(&s, P("-d ir")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	run_release(&r);
}
END_TEST

START_TEST(rename_semantics)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct stat st;
	struct run r;

	put("a", "A");
	put("b", "B");
	ck_assert_int_eq(mkdir(P("d"), 0755), 0);
	ck_assert_int_eq(mkdir(P("e"), 0755), 0);
	put("e/x", "x");
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("a"), P("b"), SBX_RFS_NOREPLACE), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -EEXIST);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("a"), P("b"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	run_release(&r);
	ck_assert_int_eq(stat(P("a"), &st), -1);
	ck_assert_int_eq(stat(P("b"), &st), 0);
	ck_assert_int_eq(st.st_size, 1);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("b"), P("d"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -EISDIR);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("d"), P("b"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOTDIR);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("d"), P("e"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOTEMPTY);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("e"), P("e/x/y"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r) < 0, 1);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("missing"), P("z"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOENT);
	run_release(&r);
	/* a directory replaces an empty directory */
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("e"), P("d"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	run_release(&r);
	ck_assert_int_eq(stat(P("d/x"), &st), 0);
	/* two names of one file: nothing happens, success */
	ck_assert_int_eq(link(P("b"), P("b2")), 0);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("b"), P("b2"), 0), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	run_release(&r);
	ck_assert_int_eq(stat(P("b"), &st), 0);
	ck_assert_int_eq(sbx_rfs_script_rename(&s, P("b"), P("c"), 2), -EINVAL);
	sbx_buf_release(&s);
}
END_TEST

START_TEST(link_symlink_readlink)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_rfs_attr a;
	struct run r;
	const char *p, *f;
	size_t n, len;

	put("f", "data");
	ck_assert_int_eq(mkdir(P("d"), 0755), 0);
	ck_assert_int_eq(sbx_rfs_script_link(&s, P("f"), P("g")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_uint_eq(a.nlink, 2);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_link(&s, P("f"), P("d")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -EEXIST);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_link(&s, P("d"), P("d2")), 0);
	ck_assert_int_lt(op(&s, NULL, &r), 0); /* the kernel refuses this before FUSE */
	run_release(&r);

	ck_assert_int_eq(sbx_rfs_script_symlink(&s, "-t\nrg 'x'", P("l")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert(S_ISLNK(a.mode));
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_symlink(&s, "x", P("l")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -EEXIST);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_readlink(&s, P("l")), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	p = r.out.data;
	n = r.out.len;
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_int_eq(f[0], 'l');
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_uint_eq(len, strlen("-t\nrg 'x'"));
	ck_assert_mem_eq(f, "-t\nrg 'x'", len);
	run_release(&r);
}
END_TEST

START_TEST(setattr_all)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_rfs_setattr sa = {0};
	struct sbx_rfs_attr a;
	struct run r;

	put("f", "0123456789");
	sa.valid = SBX_RFS_SET_SIZE | SBX_RFS_SET_MODE | SBX_RFS_SET_ATIME | SBX_RFS_SET_MTIME;
	sa.size = 3;
	sa.mode = 0604;
	sa.atime.tv_sec = 1000000000;
	sa.atime.tv_nsec = 1;
	sa.mtime.tv_sec = 1600000000;
	sa.mtime.tv_nsec = 123456789;
	ck_assert_int_eq(sbx_rfs_script_setattr(&s, P("f"), &sa), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_uint_eq(a.size, 3);
	ck_assert_uint_eq(a.mode, S_IFREG | 0604);
	ck_assert_int_eq(a.atime.tv_sec, 1000000000);
	ck_assert_int_eq(a.atime.tv_nsec, 1);
	ck_assert_int_eq(a.mtime.tv_sec, 1600000000);
	ck_assert_int_eq(a.mtime.tv_nsec, 123456789);
	run_release(&r);
	sa.valid = SBX_RFS_SET_SIZE;
	sa.size = 100;
	ck_assert_int_eq(sbx_rfs_script_setattr(&s, P("f"), &sa), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_uint_eq(a.size, 100);
	run_release(&r);
	sa.valid = SBX_RFS_SET_MTIME_NOW;
	ck_assert_int_eq(sbx_rfs_script_setattr(&s, P("f"), &sa), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(attr_out(&r, &a), 0);
	ck_assert_int_gt(a.mtime.tv_sec, 1600000000);
	run_release(&r);
	if (geteuid() == 0) {
		sa.valid = SBX_RFS_SET_UID | SBX_RFS_SET_GID;
		sa.uid = 12345;
		sa.gid = 54321;
		ck_assert_int_eq(sbx_rfs_script_setattr(&s, P("f"), &sa), 0);
		ck_assert_int_eq(op(&s, NULL, &r), 0);
		ck_assert_int_eq(attr_out(&r, &a), 0);
		ck_assert_uint_eq(a.uid, 12345);
		ck_assert_uint_eq(a.gid, 54321);
		run_release(&r);
	}
	sa.valid = SBX_RFS_SET_MODE;
	ck_assert_int_eq(sbx_rfs_script_setattr(&s, P("missing"), &sa), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOENT);
	run_release(&r);
}
END_TEST

START_TEST(statfs_real)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct statvfs st;
	struct run r;

	ck_assert_int_eq(sbx_rfs_script_statfs(&s, root), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(sbx_rfs_parse_statfs(r.out.data, r.out.len, &st), 0);
	ck_assert_uint_gt(st.f_blocks, 0);
	run_release(&r);
}
END_TEST

static int to_fd(void *ud, const char *d, size_t n)
{
	int fd = *(int *)ud;

	return write(fd, d, n) == (ssize_t)n ? 0 : -EIO;
}

/* Runs the fetch script for rel; content into a temp file; returns rc. */
static int do_fetch(const char *rel, const char *validator, bool *unchanged, char *v,
		    struct sbx_buf *content)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_rfs_fetchp p;
	struct run r;
	int rc, fds[1];
	char tmp[] = "/tmp/test_rfs_fetch.XXXXXX";

	fds[0] = mkstemp(tmp);
	unlink(tmp);
	ck_assert_int_eq(sbx_rfs_script_fetch(&s, P(rel), validator), 0);
	rc = op(&s, NULL, &r);
	if (rc == 0) {
		sbx_rfs_fetchp_init(&p);
		ck_assert_int_eq(sbx_rfs_fetchp_feed(&p, r.out.data, r.out.len, to_fd, fds), 0);
		ck_assert_int_eq(sbx_rfs_fetchp_finish(&p, NULL, v, unchanged), 0);
		lseek(fds[0], 0, SEEK_SET);
		for (;;) {
			char b[4096];
			ssize_t n = read(fds[0], b, sizeof(b));

			if (n <= 0)
				break;
			sbx_buf_append(content, b, (size_t)n);
		}
	}
	close(fds[0]);
	run_release(&r);
	return rc;
}

START_TEST(fetch_and_validator)
{
	struct sbx_buf c = SBX_BUF_INIT;
	char v[SBX_RFS_VALIDATOR_MAX], v2[SBX_RFS_VALIDATOR_MAX];
	bool unchanged = true;
	FILE *f = fopen(P("bin"), "w");
	int i;

	for (i = 0; i < 70000; i++)
		fputc(i % 251, f);
	fclose(f);
	ck_assert_int_eq(do_fetch("bin", NULL, &unchanged, v, &c), 0);
	ck_assert(!unchanged);
	ck_assert_uint_eq(c.len, 70000);
	ck_assert_int_eq((unsigned char)c.data[69999], 69999 % 251);
	sbx_buf_reset(&c);
	ck_assert_int_eq(do_fetch("bin", v, &unchanged, v2, &c), 0);
	ck_assert(unchanged);
	ck_assert_uint_eq(c.len, 0);
	ck_assert_str_eq(v, v2);
	put("bin", "new");
	ck_assert_int_eq(do_fetch("bin", v, &unchanged, v2, &c), 0);
	ck_assert(!unchanged);
	ck_assert_uint_eq(c.len, 3);
	ck_assert_int_eq(mkdir(P("d"), 0755), 0);
	ck_assert_int_eq(do_fetch("d", NULL, &unchanged, v2, &c), -EISDIR);
	ck_assert_int_eq(do_fetch("nope", NULL, &unchanged, v2, &c), -ENOENT);
	sbx_buf_release(&c);
}
END_TEST

/* The store check of data, with the suffix "abc123". */
static struct sbx_fs_store_check chk_of(const void *data, size_t len)
{
	struct sbx_fs_store_check c = {0};
	struct iovec v = {(void *)data, len};

	ck_assert_int_eq(sbx_fs_store_digest_iov(&c, &v, 1), 0);
	memcpy(c.suffix, "abc123", 7);
	return c;
}

/* Entries of a directory but . and .. (0 when it does not exist). */
static int entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

START_TEST(store_atomic_and_in_place)
{
	struct sbx_fs_store_check chk;
	struct sbx_buf s = SBX_BUF_INIT;
	struct sbx_rfs_store_opts o = {0};
	struct sbx_rfs_attr a;
	struct stat st0, st;
	struct run r;
	const char *p, *f;
	size_t n, len;
	char buf[16];
	int fd;

	put("src", "new\0content");
	fd = open(P("src"), O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "new\0content", 11), 11);
	close(fd);
	put("dst", "old");
	ck_assert_int_eq(chmod(P("dst"), 0640), 0);
	ck_assert_int_eq(lstat(P("dst"), &st0), 0);
	o.attrs.valid = SBX_RFS_SET_MODE | SBX_RFS_SET_MTIME;
	o.attrs.mode = 0640;
	o.attrs.mtime.tv_sec = 1500000000;
	chk = chk_of("new\0content", 11);
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, &chk), 0);
	ck_assert_int_eq(op(&s, P("src"), &r), 0);
	p = r.out.data;
	n = r.out.len;
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_int_eq(sbx_rfs_parse_attr(f, len, &a), 0);
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(f, "sha256", 6); /* sha256sum is here */
	ck_assert_uint_eq(n, 0);
	run_release(&r);
	ck_assert_uint_eq(a.size, 11);
	ck_assert_uint_eq(a.mode, S_IFREG | 0640);
	ck_assert_int_eq(a.mtime.tv_sec, 1500000000);
	ck_assert_int_eq(lstat(P("dst"), &st), 0);
	ck_assert_uint_ne(st.st_ino, st0.st_ino); /* replaced: atomic */
	ck_assert_int_eq(access(P(".sbx~abc123"), F_OK), -1);
	ck_assert_int_eq(entries(P("journal")), 0);
	fd = open(P("dst"), O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 11);
	close(fd);
	ck_assert_mem_eq(buf, "new\0content", 11);

	/* in place keeps the inode, so hard links stay one file */
	ck_assert_int_eq(link(P("dst"), P("dst2")), 0);
	o.in_place = true;
	put("src", "zz");
	chk = chk_of("zz", 2);
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, &chk), 0);
	ck_assert_int_eq(op(&s, P("src"), &r), 0);
	run_release(&r);
	ck_assert_int_eq(lstat(P("dst2"), &st0), 0);
	ck_assert_uint_eq(st0.st_ino, st.st_ino);
	ck_assert_int_eq(st0.st_size, 2);

	/* a failure leaves nothing behind and the old file intact */
	o.in_place = false;
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("nodir/x"), &o, &chk), 0);
	ck_assert_int_eq(op(&s, P("src"), &r), -ENOENT);
	run_release(&r);
	ck_assert_int_eq(mkdir(P("isdir"), 0755), 0);
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("isdir"), &o, &chk), 0);
	ck_assert_int_eq(op(&s, P("src"), &r), -EISDIR);
	run_release(&r);
	ck_assert_int_eq(access(P(".sbx~abc123"), F_OK), -1);
	ck_assert_int_eq(entries(P("journal")), 0);
}
END_TEST

/* The content of a file under root (at most 255 bytes) as a string. */
static const char *content(const char *rel)
{
	static char buf[256];
	FILE *f = fopen(P(rel), "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* A stream cut short, too long or altered never replaces the file, and
 * the failed store leaves neither its temporary nor its journal entry. */
START_TEST(store_cut_stream)
{
	static const char *const bad[] = {"01234", "0123456789X", "0123456780", ""};
	struct sbx_fs_store_check chk = chk_of("0123456789", 10);
	struct sbx_rfs_store_opts o = {0};
	struct sbx_buf s = SBX_BUF_INIT;
	struct run r;
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		put("dst", "old");
		put("src", bad[k]);
		ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, &chk), 0);
		ck_assert_int_eq(op(&s, P("src"), &r), -EIO);
		run_release(&r);
		ck_assert_str_eq(content("dst"), "old");
		ck_assert_int_eq(access(P(".sbx~abc123"), F_OK), -1);
		ck_assert_int_eq(entries(P("journal")), 0);
	}
	/* in place cannot keep the old bytes, but still reports the cut */
	o.in_place = true;
	put("src", "01");
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, &chk), 0);
	ck_assert_int_eq(op(&s, P("src"), &r), -EIO);
	run_release(&r);
	/* the tools' own errors still come through (tee on a full device) */
	ck_assert_int_eq(sbx_rfs_script_store(&s, "/dev/full", &o, &chk), 0);
	ck_assert_int_eq(op(&s, P("src"), &r), -ENOSPC);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, NULL), -EINVAL);
	chk.sha256[0] = 'X';
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, &chk), -EINVAL);
	sbx_buf_release(&s);
}
END_TEST

/* Without sha256sum in the sandbox the length alone is checked, and the
 * store says so. */
START_TEST(store_length_only)
{
	static const char *const tools[] = {"find", "cat",   "mv",    "rm",    "ln",   "id",
					    "wc",   "mkdir", "chmod", "chown", "touch"};
	struct sbx_fs_store_check chk = chk_of("abc", 3);
	struct sbx_rfs_store_opts o = {0};
	struct sbx_buf s = SBX_BUF_INIT, cmd = SBX_BUF_INIT;
	const char *p, *f, *old = getenv("PATH");
	char *saved = strdup(old ? old : "/usr/bin:/bin");
	size_t n, len, k;
	struct run r;

	ck_assert_int_eq(mkdir(P("bin"), 0755), 0);
	for (k = 0; k < sizeof(tools) / sizeof(tools[0]); k++) {
		sbx_buf_printf(&cmd, "ln -s \"$(command -v %s)\" %s/%s", tools[k], P("bin"),
			       tools[k]);
		ck_assert_int_eq(system(cmd.data), 0);
		cmd.len = 0;
	}
	put("src", "abc");
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, &chk), 0);
	setenv("PATH", P("bin"), 1);
	ck_assert_int_eq(op(&s, P("src"), &r), 0);
	setenv("PATH", saved, 1);
	p = r.out.data;
	n = r.out.len;
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len) && sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert(sbx_rfs_next_field(&p, &n, &f, &len));
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(f, "length", 6);
	run_release(&r);
	ck_assert_str_eq(content("dst"), "abc");
	free(saved);
	sbx_buf_release(&cmd);
}
END_TEST

/* Runs the sweep; returns what it removed. */
static unsigned sweep_now(void)
{
	struct sbx_buf s = SBX_BUF_INIT;
	unsigned n = 99;
	struct run r;

	ck_assert_int_eq(sbx_fs_store_sweep_script(&s), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_int_eq(sbx_fs_store_sweep_parse(r.out.data, r.out.len, &n), 0);
	run_release(&r);
	return n;
}

/* Waits (bounded) until the file at rel holds want bytes. */
static bool wait_size(const char *rel, off_t want)
{
	struct stat st;
	int i;

	for (i = 0; i < 1000; i++) {
		if (stat(P(rel), &st) == 0 && st.st_size == want)
			return true;
		usleep(10000);
	}
	return false;
}

/* Waits (bounded) until pid is a zombie. */
static bool wait_zombie(pid_t pid)
{
	char path[64], buf[256], *rp;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		rp = strrchr(buf, ')');
		if (rp && rp[1] == ' ' && rp[2] == 'Z')
			return true;
		usleep(10000);
	}
	return false;
}

/* A store killed mid-stream leaves its temporary, registered; the sweep
 * spares it while the store runs and removes it once the store is gone. */
START_TEST(store_killed_then_swept)
{
	struct sbx_fs_store_check chk = chk_of("0123456789", 10);
	struct sbx_rfs_store_opts o = {0};
	struct sbx_buf s = SBX_BUF_INIT;
	int wfd, st;
	pid_t pid;

	put("dst", "old");
	ck_assert_int_eq(sbx_rfs_script_store(&s, P("dst"), &o, &chk), 0);
	ck_assert_int_eq(mkfifo(P("fifo"), 0600), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open(P("fifo"), O_RDONLY), nul = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		dup2(in, 0);
		dup2(nul, 1);
		execl("/bin/sh", "sh", "-c", s.data, (char *)NULL);
		_exit(127);
	}
	sbx_buf_release(&s);
	wfd = open(P("fifo"), O_WRONLY);
	ck_assert_int_ge(wfd, 0);
	ck_assert_int_eq(write(wfd, "01234", 5), 5);
	ck_assert(wait_size(".sbx~abc123", 5));
	ck_assert_int_eq(entries(P("journal")), 1);
	ck_assert_uint_eq(sweep_now(), 0); /* in flight: spared */
	ck_assert_int_eq(access(P(".sbx~abc123"), F_OK), 0);
	ck_assert_int_eq(kill(-pid, SIGKILL), 0);
	/* dead but not reaped yet (a zombie) is dead: swept */
	ck_assert(wait_zombie(pid));
	ck_assert_int_eq(access(P(".sbx~abc123"), F_OK), 0); /* left behind */
	ck_assert_uint_eq(sweep_now(), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	close(wfd);
	ck_assert_int_eq(access(P(".sbx~abc123"), F_OK), -1);
	ck_assert_int_eq(entries(P("journal")), 0);
	ck_assert_str_eq(content("dst"), "old");
	ck_assert_uint_eq(sweep_now(), 0);
}
END_TEST

/* The sweep removes only temporaries: a bad entry never costs a file. */
START_TEST(sweep_bad_entries)
{
	unsigned n;

	ck_assert_int_eq(mkdir(P("journal"), 0700), 0);
	put("precious", "x");
	/* a dead store whose entry names something else */
	ck_assert_int_eq(symlink(P("precious"), P("journal/ab.999999999.5")), 0);
	/* not an entry at all: kept */
	ck_assert_int_eq(symlink(P("precious"), P("journal/garbage")), 0);
	ck_assert_int_eq(symlink(P(".sbx~12"), P("journal/12.x.5")), 0);
	ck_assert_uint_eq(sweep_now(), 1);
	ck_assert_str_eq(content("precious"), "x");
	ck_assert_int_eq(entries(P("journal")), 2);
	/* a journal that is a symlink is not ours: not read */
	ck_assert_int_eq(symlink(P("journal"), P("j2")), 0);
	setenv("SBX_STORE_JOURNAL", P("j2"), 1);
	ck_assert_int_eq(symlink(P(".sbx~ff"), P("journal/ff.999999999.5")), 0);
	put(".sbx~ff", "t");
	ck_assert_uint_eq(sweep_now(), 0);
	ck_assert_int_eq(access(P(".sbx~ff"), F_OK), 0);
	ck_assert_int_eq(sbx_fs_store_sweep_parse("12\n", 3, &n), 0);
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(sbx_fs_store_sweep_parse("12", 2, &n), -EPROTO);
	ck_assert_int_eq(sbx_fs_store_sweep_parse("x\n", 2, &n), -EPROTO);
	ck_assert_int_eq(sbx_fs_store_sweep_parse("99999999999\n", 12, &n), -EPROTO);
}
END_TEST

/* Every counted operation has a name for .ctl/stats (the sweep too). */
START_TEST(op_names)
{
	int i;

	for (i = 0; i < SBX_RFS_OP__N; i++) {
		const char *n = sbx_rfs_op_name((enum sbx_rfs_op)i);

		ck_assert_msg(n && *n && strcmp(n, "?"), "operation %d has no name", i);
	}
	ck_assert_str_eq(sbx_rfs_op_name(SBX_RFS_OP_SWEEP), "sweep");
}
END_TEST

START_TEST(read_range)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct run r;

	put("f", "0123456789");
	ck_assert_int_eq(sbx_rfs_script_read_range(&s, P("f"), 3, 4), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_uint_eq(r.out.len, 4);
	ck_assert_mem_eq(r.out.data, "3456", 4);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_read_range(&s, P("f"), 8, 100), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_uint_eq(r.out.len, 2);
	run_release(&r);
	ck_assert_int_eq(sbx_rfs_script_read_range(&s, P("nope"), 0, 1), 0);
	ck_assert_int_eq(op(&s, NULL, &r), -ENOENT);
	run_release(&r);
}
END_TEST

START_TEST(signal_by_env)
{
	struct sbx_buf s = SBX_BUF_INIT;
	struct run r;
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *env[] = {"SBXFS_JOB=test-marker-42", NULL};

		execle("/bin/sleep", "sleep", "30", (char *)NULL, env);
		_exit(127);
	}
	usleep(100000);
	ck_assert_int_eq(sbx_rfs_script_signal_env(&s, "SBXFS_JOB=test-marker-42", "TERM"), 0);
	ck_assert_int_eq(op(&s, NULL, &r), 0);
	ck_assert_str_eq(r.out.data, "1\n");
	run_release(&r);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	ck_assert_int_eq(sbx_rfs_script_signal_env(&s, "X=1", "TERM;rm"), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rfs_script");
	TCase *tc = tcase_create("script");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stat_kinds);
	tcase_add_test(tc, readdir_tricky);
	tcase_add_test(tc, mkdir_create_unlink_rmdir);
	tcase_add_test(tc, rename_semantics);
	tcase_add_test(tc, link_symlink_readlink);
	tcase_add_test(tc, setattr_all);
	tcase_add_test(tc, statfs_real);
	tcase_add_test(tc, fetch_and_validator);
	tcase_add_test(tc, store_atomic_and_in_place);
	tcase_add_test(tc, store_cut_stream);
	tcase_add_test(tc, store_length_only);
	tcase_add_test(tc, store_killed_then_swept);
	tcase_add_test(tc, sweep_bad_entries);
	tcase_add_test(tc, op_names);
	tcase_add_test(tc, read_range);
	tcase_add_test(tc, signal_by_env);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
