/* test_agent.c - sbx-agent (src/agent) driven as the client drives it: the
 * built binary runs as a child over two pipes, requests are made with
 * proto.h's writer and the replies read with its reader. Every op is
 * checked against the kernel in a private temp directory, errno cases
 * included, and the session-level rules: HELLO first, pipelining, a
 * malformed payload answered -EPROTO, an unknown op -ENOSYS, an oversized
 * length ending the agent, no temporary left by a killed session, the
 * request's credentials (the suite runs as root). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "agent/proto.h"

#ifndef SBX_AGENT_BIN
#error "SBX_AGENT_BIN: the built sbx-agent (tests/CMakeLists.txt defines it)"
#endif

struct sess {
	pid_t pid;
	int to, from;
};

struct frame {
	uint32_t id;
	uint16_t type, flags;
	uint8_t *p;
	uint32_t n;
	struct sbxa_r r; /* past the status for replies */
	int status;
};

static char top[64]; /* the suite's directory (made in the runner, removed at the end) */
static char dir[96]; /* this test's, inside top */

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* unchecked: in the runner, so that a failed test's files go too */
static void suite_setup(void)
{
	snprintf(top, sizeof(top), "/tmp/sbxa-test.XXXXXX");
	if (!mkdtemp(top) || chmod(top, 0755) < 0)
		abort();
}

static void suite_teardown(void)
{
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t.XXXXXX", top);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0777);
}

/* no_tmpfile: the agent acts as if O_TMPFILE were refused; ignored: it
 * starts with SIGCHLD and SIGTERM ignored (dispositions survive exec) */
static void sess_start_opts(struct sess *s, bool no_tmpfile, bool ignored)
{
	int in[2], out[2];

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (no_tmpfile)
			setenv("SBX_AGENT_NO_OTMPFILE", "1", 1);
		if (ignored) {
			signal(SIGCHLD, SIG_IGN);
			signal(SIGTERM, SIG_IGN);
		}
		execl(SBX_AGENT_BIN, "sbx-agent", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->to = in[1];
	s->from = out[0];
	signal(SIGPIPE, SIG_IGN);
}

static void sess_start_env(struct sess *s, bool no_tmpfile)
{
	sess_start_opts(s, no_tmpfile, false);
}

static void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t k;

	while (n) {
		k = write(fd, b, n);
		ck_assert_int_gt(k, 0);
		b += k;
		n -= (size_t)k;
	}
}

static bool read_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	ssize_t k;

	while (n) {
		k = read(fd, b, n);
		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

/* A request header and the credential block (uid SBXA_ID_SELF: the agent's own). */
static size_t req(struct sbxa_w *w, uint32_t id, uint16_t op, uint32_t uid)
{
	size_t at = sbxa_frame_begin(w, id, op, 0);
	uint32_t g = uid;

	if (op != SBXA_OP_HELLO)
		sbxa_put_cred(w, uid, uid, uid == SBXA_ID_SELF ? 0 : 1, &g);
	return at;
}

static void send_w(struct sess *s, struct sbxa_w *w, size_t at)
{
	ck_assert_int_eq(sbxa_frame_end(w, at), 0);
	write_all(s->to, w->p, w->len);
	sbxa_w_release(w);
}

static void frame_free(struct frame *f)
{
	free(f->p);
	f->p = NULL;
}

static struct frame recv_f(struct sess *s)
{
	uint8_t h[SBXA_HDR_LEN];
	struct frame f = {0};
	uint32_t plen;

	ck_assert(read_all(s->from, h, sizeof(h)));
	ck_assert_int_eq(sbxa_hdr_decode(h, &plen, &f.id, &f.type, &f.flags), 0);
	f.n = plen;
	f.p = malloc(plen + 1);
	ck_assert(read_all(s->from, f.p, plen));
	sbxa_r_init(&f.r, f.p, plen);
	if (f.type & SBXA_REPLY)
		f.status = sbxa_get_i32(&f.r);
	return f;
}

static void hello(struct sess *s)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 1, SBXA_OP_HELLO, 0);
	struct frame f;

	sbxa_put_u32(&w, SBXA_MAGIC);
	sbxa_put_u32(&w, SBXA_VERSION);
	send_w(s, &w, at);
	f = recv_f(s);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
}

static void sess_start(struct sess *s)
{
	sess_start_env(s, false);
	hello(s);
}

/* Ends the session by closing stdin; the agent's exit status. */
static int sess_end(struct sess *s)
{
	int st;

	close(s->to);
	close(s->from);
	ck_assert_int_eq(waitpid(s->pid, &st, 0), s->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A request with one path argument and more fields from the caller. */
static struct frame call_path(struct sess *s, uint16_t op, const char *path, uint32_t uid)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 7, op, uid);

	sbxa_put_cstr(&w, path);
	send_w(s, &w, at);
	return recv_f(s);
}

static int status_path(struct sess *s, uint16_t op, const char *path)
{
	struct frame f = call_path(s, op, path, SBXA_ID_SELF);
	int r = f.status;

	ck_assert_uint_eq(f.type, SBXA_REPLY | op);
	ck_assert_uint_eq(f.id, 7);
	frame_free(&f);
	return r;
}

static struct sbxa_attr lstat_of(struct sess *s, const char *path)
{
	struct frame f = call_path(s, SBXA_OP_LSTAT, path, SBXA_ID_SELF);
	struct sbxa_attr a;

	ck_assert_int_eq(f.status, 0);
	sbxa_get_attr(&f.r, &a);
	ck_assert_int_eq(f.r.err, 0);
	frame_free(&f);
	return a;
}

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	write_all(fd, text, strlen(text));
	close(fd);
}

static char *get_file(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

/* two-path ops: RENAME (with flags) and LINK */
static int call_2(struct sess *s, uint16_t op, const char *a, const char *b, uint32_t flags)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 9, op, SBXA_ID_SELF);
	struct frame f;
	int r;

	sbxa_put_cstr(&w, a);
	sbxa_put_cstr(&w, b);
	if (op == SBXA_OP_RENAME)
		sbxa_put_u32(&w, flags);
	send_w(s, &w, at);
	f = recv_f(s);
	r = f.status;
	frame_free(&f);
	return r;
}

static int mknod_as(struct sess *s, const char *path, uint32_t mode, uint64_t rdev, uint32_t flags,
		    uint32_t uid)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 11, SBXA_OP_MKNOD, uid);
	struct frame f;
	int r;

	sbxa_put_cstr(&w, path);
	sbxa_put_u32(&w, mode);
	sbxa_put_u64(&w, rdev);
	sbxa_put_u32(&w, flags);
	send_w(s, &w, at);
	f = recv_f(s);
	r = f.status;
	frame_free(&f);
	return r;
}

START_TEST(hello_first)
{
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	size_t at, n;
	char p[256];

	sess_start_env(&s, false);
	f = call_path(&s, SBXA_OP_LSTAT, "/", SBXA_ID_SELF);
	ck_assert_int_eq(f.status, -EPROTO); /* nothing before HELLO */
	frame_free(&f);
	at = req(&w, 2, SBXA_OP_HELLO, 0);
	sbxa_put_u32(&w, SBXA_MAGIC);
	sbxa_put_u32(&w, 99);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EPROTONOSUPPORT);
	frame_free(&f);
	at = req(&w, 3, SBXA_OP_HELLO, 0);
	sbxa_put_u32(&w, SBXA_MAGIC);
	sbxa_put_u32(&w, SBXA_VERSION);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_uint_eq(f.id, 3);
	ck_assert_uint_eq(f.type, SBXA_REPLY | SBXA_OP_HELLO);
	ck_assert_int_eq(f.status, 0);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), SBXA_MAGIC);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), SBXA_VERSION);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), SBXA_FRAME_MAX);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), (uint32_t)s.pid);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 0); /* uid: the suite runs as root */
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 0);
	ck_assert(sbxa_get_path(&f.r, p, 255, false));
	ck_assert_uint_eq(sbxa_r_left(&f.r), 0);
	n = strlen(p);
	ck_assert_uint_gt(n, 0);
	frame_free(&f);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(lstat_and_errors)
{
	struct sess s;
	struct sbxa_attr a;
	char p[128];
	struct stat st;

	sess_start(&s);
	path_of(p, sizeof(p), "f");
	put_file(p, "hello");
	a = lstat_of(&s, p);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISREG(a.mode));
	ck_assert_uint_eq(a.size, 5);
	ck_assert_uint_eq(a.ino, st.st_ino);
	ck_assert_int_eq(a.mtime.sec, st.st_mtim.tv_sec);
	ck_assert_uint_eq(a.mtime.nsec, (uint32_t)st.st_mtim.tv_nsec);
	path_of(p, sizeof(p), "nope");
	ck_assert_int_eq(status_path(&s, SBXA_OP_LSTAT, p), -ENOENT);
	ck_assert_int_eq(status_path(&s, SBXA_OP_LSTAT, "relative/path"), -EINVAL);
	path_of(p, sizeof(p), "f/x");
	ck_assert_int_eq(status_path(&s, SBXA_OP_LSTAT, p), -ENOTDIR);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(dirs_and_names)
{
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	char d[128], f1[128], p[128];
	size_t at;

	sess_start(&s);
	path_of(d, sizeof(d), "d");
	at = req(&w, 5, SBXA_OP_MKDIR, SBXA_ID_SELF);
	sbxa_put_cstr(&w, d);
	sbxa_put_u32(&w, 0751);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	{
		/* the new directory's attributes, then its parent's after it */
		struct sbxa_attr na, pa;
		struct stat pst;

		sbxa_get_attr(&f.r, &na);
		sbxa_get_attr(&f.r, &pa);
		ck_assert_int_eq(f.r.err, 0);
		ck_assert_uint_eq(na.mode, S_IFDIR | 0751);
		ck_assert_int_eq(lstat(dir, &pst), 0);
		ck_assert_uint_eq(pa.mode, pst.st_mode);
		ck_assert_uint_eq(pa.ino, pst.st_ino);
		ck_assert_uint_eq(pa.nlink, pst.st_nlink);
		ck_assert_int_eq(pa.mtime.sec, pst.st_mtim.tv_sec);
		ck_assert_int_eq(pa.mtime.nsec, pst.st_mtim.tv_nsec);
	}
	frame_free(&f);
	ck_assert_uint_eq(lstat_of(&s, d).mode, S_IFDIR | 0751); /* umask 0: exact */
	at = req(&w, 5, SBXA_OP_MKDIR, SBXA_ID_SELF);
	sbxa_put_cstr(&w, d);
	sbxa_put_u32(&w, 0755);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EEXIST);
	frame_free(&f);
	path_of(f1, sizeof(f1), "d/f1");
	put_file(f1, "x");
	ck_assert_int_eq(status_path(&s, SBXA_OP_RMDIR, d), -ENOTEMPTY);
	ck_assert_int_eq(status_path(&s, SBXA_OP_RMDIR, f1), -ENOTDIR);
	ck_assert_int_eq(status_path(&s, SBXA_OP_UNLINK, d), -EISDIR);
	ck_assert_int_eq(status_path(&s, SBXA_OP_UNLINK, f1), 0);
	ck_assert_int_eq(status_path(&s, SBXA_OP_UNLINK, f1), -ENOENT);
	ck_assert_int_eq(status_path(&s, SBXA_OP_RMDIR, d), 0);
	/* symlink, readlink, link */
	path_of(p, sizeof(p), "ln");
	at = req(&w, 5, SBXA_OP_SYMLINK, SBXA_ID_SELF);
	sbxa_put_cstr(&w, "some/target");
	sbxa_put_cstr(&w, p);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	ck_assert(S_ISLNK(lstat_of(&s, p).mode));
	f = call_path(&s, SBXA_OP_READLINK, p, SBXA_ID_SELF);
	ck_assert_int_eq(f.status, 0);
	{
		char t[64];

		ck_assert(sbxa_get_path(&f.r, t, 63, false));
		ck_assert_str_eq(t, "some/target");
	}
	frame_free(&f);
	path_of(f1, sizeof(f1), "ln2");
	ck_assert_int_eq(call_2(&s, SBXA_OP_LINK, p, f1, 0), 0); /* links the symlink itself */
	ck_assert(S_ISLNK(lstat_of(&s, f1).mode));
	ck_assert_uint_eq(lstat_of(&s, p).nlink, 2);
	ck_assert_int_eq(call_2(&s, SBXA_OP_LINK, p, f1, 0), -EEXIST);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(mknod_kinds)
{
	struct sess s;
	char p[128];
	int r;

	sess_start(&s);
	path_of(p, sizeof(p), "reg");
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0640, 0, SBXA_MKNOD_EXCL, SBXA_ID_SELF), 0);
	ck_assert_uint_eq(lstat_of(&s, p).mode, S_IFREG | 0640);
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0640, 0, SBXA_MKNOD_EXCL, SBXA_ID_SELF),
			 -EEXIST);
	put_file(p, "kept");
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0600, 0, 0, SBXA_ID_SELF), 0);
	ck_assert_str_eq(get_file(p), "kept");
	path_of(p, sizeof(p), "fifo");
	ck_assert_int_eq(mknod_as(&s, p, S_IFIFO | 0600, 0, 0, SBXA_ID_SELF), 0);
	ck_assert(S_ISFIFO(lstat_of(&s, p).mode));
	path_of(p, sizeof(p), "sock");
	ck_assert_int_eq(mknod_as(&s, p, S_IFSOCK | 0600, 0, 0, SBXA_ID_SELF), 0);
	ck_assert(S_ISSOCK(lstat_of(&s, p).mode));
	/* a device: whatever this kernel says to mknod(2) itself */
	path_of(p, sizeof(p), "null2");
	r = mknod(p, S_IFCHR | 0600, makedev(1, 3)) < 0 ? -errno : 0;
	unlink(p);
	ck_assert_int_eq(mknod_as(&s, p, S_IFCHR | 0600, makedev(1, 3), 0, SBXA_ID_SELF), r);
	if (!r)
		ck_assert_uint_eq(lstat_of(&s, p).rdev, makedev(1, 3));
	path_of(p, sizeof(p), "bad");
	ck_assert_int_eq(mknod_as(&s, p, S_IFDIR | 0600, 0, 0, SBXA_ID_SELF), -EINVAL);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(rename_flags)
{
	struct sess s;
	char a[128], b[128], c[128];

	sess_start(&s);
	path_of(a, sizeof(a), "a");
	path_of(b, sizeof(b), "b");
	path_of(c, sizeof(c), "c");
	put_file(a, "A");
	put_file(b, "B");
	ck_assert_int_eq(call_2(&s, SBXA_OP_RENAME, a, b, RENAME_NOREPLACE), -EEXIST);
	ck_assert_int_eq(call_2(&s, SBXA_OP_RENAME, a, b, RENAME_EXCHANGE), 0);
	ck_assert_str_eq(get_file(a), "B");
	ck_assert_str_eq(get_file(b), "A");
	ck_assert_int_eq(call_2(&s, SBXA_OP_RENAME, a, c, RENAME_EXCHANGE), -ENOENT);
	ck_assert_int_eq(call_2(&s, SBXA_OP_RENAME, a, c, RENAME_NOREPLACE), 0);
	ck_assert_int_eq(call_2(&s, SBXA_OP_RENAME, c, b, 0), 0);
	ck_assert_str_eq(get_file(b), "B");
	ck_assert_int_eq(access(c, F_OK), -1);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

static int setattr_as(struct sess *s, const char *path, const struct sbxa_setattr *sa,
		      struct sbxa_attr *out, uint32_t uid)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 12, SBXA_OP_SETATTR, uid);
	struct frame f;
	int r;

	sbxa_put_cstr(&w, path);
	sbxa_put_setattr(&w, sa);
	send_w(s, &w, at);
	f = recv_f(s);
	r = f.status;
	if (!r && out)
		sbxa_get_attr(&f.r, out);
	frame_free(&f);
	return r;
}

static int setattr(struct sess *s, const char *path, const struct sbxa_setattr *sa,
		   struct sbxa_attr *out)
{
	return setattr_as(s, path, sa, out, SBXA_ID_SELF);
}

START_TEST(setattr_all)
{
	struct sess s;
	struct sbxa_setattr sa = {0};
	struct sbxa_attr a;
	char p[128], l[128];
	struct stat st;

	sess_start(&s);
	path_of(p, sizeof(p), "big");
	put_file(p, "");
	sa.valid = SBXA_SET_SIZE;
	sa.size = 1ull << 30;
	ck_assert_int_eq(setattr(&s, p, &sa, &a), 0);
	ck_assert_uint_eq(a.size, 1ull << 30);
	ck_assert_uint_lt(a.blocks, 64); /* sparse: nothing written */
	sa.size = 999999999999999ull;	 /* the kernel's own answer (EFBIG on ext4) */
	{
		int want = truncate(p, (off_t)sa.size) < 0 ? -errno : 0;

		ck_assert_int_eq(setattr(&s, p, &sa, NULL), want);
	}
	sa = (struct sbxa_setattr){.valid = SBXA_SET_MODE | SBXA_SET_UID | SBXA_SET_GID |
					    SBXA_SET_MTIME | SBXA_SET_ATIME,
				   .mode = 0604,
				   .uid = 123,
				   .gid = 456,
				   .atime = {.sec = 1000, .nsec = 5},
				   .mtime = {.sec = 2000, .nsec = 7}};
	ck_assert_int_eq(setattr(&s, p, &sa, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0604);
	ck_assert_uint_eq(a.uid, 123);
	ck_assert_uint_eq(a.gid, 456);
	ck_assert_int_eq(a.mtime.sec, 2000);
	ck_assert_uint_eq(a.mtime.nsec, 7);
	ck_assert_int_eq(a.atime.sec, 1000);
	/* a symlink: mode skipped, times on the link itself, target untouched */
	path_of(l, sizeof(l), "lnk");
	ck_assert_int_eq(symlink(p, l), 0);
	sa = (struct sbxa_setattr){
	    .valid = SBXA_SET_MODE | SBXA_SET_MTIME, .mode = 0600, .mtime = {.sec = 3000}};
	ck_assert_int_eq(setattr(&s, l, &sa, &a), 0);
	ck_assert(S_ISLNK(a.mode));
	ck_assert_int_eq(a.mtime.sec, 3000);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0604);
	ck_assert_int_eq(st.st_mtim.tv_sec, 2000);
	sa = (struct sbxa_setattr){.valid = SBXA_SET_SIZE, .size = 0};
	ck_assert_int_eq(setattr(&s, l, &sa, NULL), -EINVAL);
	sa = (struct sbxa_setattr){.valid = SBXA_SET_MTIME_NOW};
	ck_assert_int_eq(setattr(&s, p, &sa, &a), 0);
	ck_assert_int_gt(a.mtime.sec, 3000);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

/* An access ACL with a named user and a mask, in the kernel's xattr form. */
static void put_extended_acl(char v[44])
{
	static const uint16_t e[5][2] = {{0x01, 6}, {0x02, 4}, {0x04, 4}, {0x10, 4}, {0x20, 0}};
	int i;

	memset(v, 0, 44);
	v[0] = 2;
	for (i = 0; i < 5; i++) {
		char *p = v + 4 + 8 * i;
		uint32_t id = e[i][0] == 0x02 ? 4242 : 0xffffffffu;

		p[0] = (char)e[i][0];
		p[2] = (char)e[i][1];
		memcpy(p + 4, &id, 4); /* little-endian machines only */
	}
}

/* ACL_PLAIN drops an extended access ACL before the mode, as setting an
 * ACL of the owner, group and other entries alone does; MODE alone keeps
 * it (the group bits are then its mask). */
START_TEST(setattr_acl_plain)
{
	struct sbxa_setattr sa = {.valid = SBXA_SET_MODE, .mode = 0640};
	struct sess s;
	struct stat st;
	char p[128], v[44];

	sess_start(&s);
	path_of(p, sizeof(p), "acl");
	put_file(p, "");
	put_extended_acl(v);
	if (setxattr(p, "system.posix_acl_access", v, sizeof(v), 0) < 0) {
		ck_assert_int_eq(errno, EOPNOTSUPP); /* a filesystem without ACLs */
		ck_assert_int_eq(sess_end(&s), 0);
		return;
	}
	ck_assert_int_eq(setattr(&s, p, &sa, NULL), 0);
	ck_assert_int_eq(getxattr(p, "system.posix_acl_access", NULL, 0), 44);
	sa.valid |= SBXA_SET_ACL_PLAIN;
	ck_assert_int_eq(setattr(&s, p, &sa, NULL), 0);
	ck_assert_int_eq(getxattr(p, "system.posix_acl_access", NULL, 0), -1);
	ck_assert_int_eq(errno, ENODATA);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	/* none to drop: done all the same */
	ck_assert_int_eq(setattr(&s, p, &sa, NULL), 0);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(statfs_block)
{
	struct sess s;
	struct frame f;
	struct sbxa_statfs v;

	sess_start(&s);
	f = call_path(&s, SBXA_OP_STATFS, dir, SBXA_ID_SELF);
	ck_assert_int_eq(f.status, 0);
	sbxa_get_statfs(&f.r, &v);
	ck_assert_int_eq(f.r.err, 0);
	ck_assert_uint_eq(sbxa_r_left(&f.r), 0);
	ck_assert_uint_gt(v.bsize, 0);
	ck_assert_uint_gt(v.blocks, 0);
	ck_assert_uint_eq(v.namemax, 255);
	frame_free(&f);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(readdir_chunks)
{
	struct sess s;
	struct frame f;
	struct sbxa_attr a;
	char d[128], p[512], name[256], target[256];
	unsigned i, seen = 0, frames = 0, links = 0;
	bool more = true;

	sess_start(&s);
	path_of(d, sizeof(d), "many");
	ck_assert_int_eq(mkdir(d, 0755), 0);
	/* ~4000 entries of ~240-byte names: more than one SBXA_IO_MAX frame */
	for (i = 0; i < 4000; i++) {
		snprintf(p, sizeof(p), "%s/%0240u", d, i);
		if (i % 1000)
			put_file(p, "");
		else
			ck_assert_int_eq(symlink("tgt", p), 0);
	}
	f = call_path(&s, SBXA_OP_READDIR, d, SBXA_ID_SELF);
	ck_assert_int_eq(f.status, 0);
	sbxa_get_attr(&f.r, &a); /* the directory's own, first frame only */
	ck_assert(S_ISDIR(a.mode));
	for (;;) {
		ck_assert_uint_eq(f.type, SBXA_REPLY | SBXA_OP_READDIR);
		ck_assert_int_eq(f.status, 0);
		ck_assert_uint_le(f.n, SBXA_IO_MAX + 4);
		frames++;
		while (sbxa_r_left(&f.r)) {
			ck_assert(sbxa_get_path(&f.r, name, 255, false));
			sbxa_get_attr(&f.r, &a);
			ck_assert(sbxa_get_path(&f.r, target, 255, true));
			ck_assert_int_eq(f.r.err, 0);
			ck_assert_str_ne(name, ".");
			ck_assert_str_ne(name, "..");
			if (S_ISLNK(a.mode)) {
				ck_assert_str_eq(target, "tgt");
				links++;
			} else {
				ck_assert_str_eq(target, "");
			}
			seen++;
		}
		more = f.flags & SBXA_F_MORE;
		frame_free(&f);
		if (!more)
			break;
		f = recv_f(&s);
	}
	ck_assert_uint_eq(seen, 4000);
	ck_assert_uint_eq(links, 4);
	ck_assert_uint_ge(frames, 2);
	path_of(p, sizeof(p), "nodir");
	ck_assert_int_eq(status_path(&s, SBXA_OP_READDIR, p), -ENOENT);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

/* SBXA_DIR_TREE: the subtree breadth first as records, each directory
 * watched before it is read, small files with their data, and a bound on
 * entries that cuts a directory short (no SBXA_REC_END for it). */
static unsigned tree_walk(struct sess *s, uint32_t id, const char *d, uint32_t max, char dirs[][64],
			  bool *ended, unsigned *entries, unsigned *datas)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, id, SBXA_OP_READDIR, SBXA_ID_SELF);
	unsigned nd = 0;
	struct frame f;
	bool more = true;

	sbxa_put_cstr(&w, d);
	sbxa_put_u32(&w, SBXA_DIR_TREE | SBXA_DIR_WATCH | SBXA_DIR_DATA);
	sbxa_put_u32(&w, 1024);
	sbxa_put_u32(&w, 1 << 20);
	sbxa_put_u32(&w, max);
	send_w(s, &w, at);
	*entries = *datas = 0;
	while (more) {
		f = recv_f(s);
		ck_assert_int_eq(f.status, 0);
		while (sbxa_r_left(&f.r)) {
			uint32_t kind = sbxa_get_u32(&f.r);
			char name[256], rel[256], target[256];
			struct sbxa_attr a;

			if (kind == SBXA_REC_DIR) {
				ck_assert(sbxa_get_path(&f.r, rel, 255, true));
				sbxa_get_attr(&f.r, &a);
				ck_assert(S_ISDIR(a.mode));
				ck_assert_uint_gt(sbxa_get_u32(&f.r), 0); /* watched */
				snprintf(dirs[nd], sizeof(dirs[nd]), "%.63s", rel);
				ended[nd++] = false;
			} else if (kind == SBXA_REC_ENTRY) {
				ck_assert(sbxa_get_path(&f.r, name, 255, false));
				sbxa_get_attr(&f.r, &a);
				ck_assert(sbxa_get_path(&f.r, target, 255, true));
				if (sbxa_get_u32(&f.r)) {
					size_t n;

					sbxa_get_str(&f.r, 1024, &n);
					ck_assert_uint_eq(n, a.size);
					(*datas)++;
				}
				(*entries)++;
			} else {
				ck_assert_uint_eq(kind, SBXA_REC_END);
				ended[nd - 1] = true;
			}
			ck_assert_int_eq(f.r.err, 0);
		}
		more = f.flags & SBXA_F_MORE;
		frame_free(&f);
	}
	return nd;
}

START_TEST(readdir_tree)
{
	char d[128], p[256], dirs[16][64];
	unsigned n, entries, datas;
	bool ended[16];
	struct sess s;

	sess_start(&s);
	path_of(d, sizeof(d), "t");
	ck_assert_int_eq(mkdir(d, 0755), 0);
	snprintf(p, sizeof(p), "%s/a", d);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/b", d);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/z", d);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/f", d);
	put_file(p, "top");
	snprintf(p, sizeof(p), "%s/a/b/g", d);
	put_file(p, "deep");
	n = tree_walk(&s, 70, d, 1000, dirs, ended, &entries, &datas);
	ck_assert_uint_eq(n, 4); /* t, then a and z (either order), then a/b */
	ck_assert_str_eq(dirs[0], "");
	ck_assert_str_eq(dirs[3], "a/b");
	ck_assert(ended[0] && ended[1] && ended[2] && ended[3]);
	ck_assert_uint_eq(entries, 5); /* a, z, f, b, g */
	ck_assert_uint_eq(datas, 2);
	/* 2 entries at most: the top is cut short, nothing after it */
	n = tree_walk(&s, 71, d, 2, dirs, ended, &entries, &datas);
	ck_assert_uint_eq(n, 1);
	ck_assert(!ended[0]);
	ck_assert_uint_eq(entries, 2);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

static int open_h(struct sess *s, uint32_t id, uint32_t h, const char *path, uint32_t flags,
		  uint32_t mode, bool wait)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, id, SBXA_OP_OPEN, SBXA_ID_SELF);
	struct frame f;
	int r;

	sbxa_put_u32(&w, h);
	sbxa_put_cstr(&w, path);
	sbxa_put_u32(&w, flags);
	sbxa_put_u32(&w, mode);
	send_w(s, &w, at);
	if (!wait)
		return 0;
	f = recv_f(s);
	r = f.status;
	frame_free(&f);
	return r;
}

static int handle_op(struct sess *s, uint16_t op, uint32_t h, uint32_t arg)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 30, op, SBXA_ID_SELF);
	struct frame f;
	int r;

	sbxa_put_u32(&w, h);
	if (op == SBXA_OP_FSYNC)
		sbxa_put_u32(&w, arg);
	send_w(s, &w, at);
	f = recv_f(s);
	r = f.status;
	frame_free(&f);
	return r;
}

static void pwrite_h(struct sess *s, uint32_t id, uint32_t h, uint64_t off, const char *data)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, id, SBXA_OP_PWRITE, SBXA_ID_SELF);

	sbxa_put_u32(&w, h);
	sbxa_put_u64(&w, off);
	sbxa_put_bytes(&w, data, strlen(data));
	send_w(s, &w, at);
}

static void pread_h(struct sess *s, uint32_t id, uint32_t h, uint64_t off, uint32_t len)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, id, SBXA_OP_PREAD, SBXA_ID_SELF);

	sbxa_put_u32(&w, h);
	sbxa_put_u64(&w, off);
	sbxa_put_u32(&w, len);
	send_w(s, &w, at);
}

START_TEST(handles_io)
{
	struct sess s;
	struct frame f;
	char p[128];

	sess_start(&s);
	path_of(p, sizeof(p), "io");
	/* pipelined: open, write, read back, before any reply is read */
	open_h(&s, 40, 3, p, SBXA_O_RDWR | SBXA_O_CREAT | SBXA_O_EXCL, 0600, false);
	pwrite_h(&s, 41, 3, 0, "hello world");
	pread_h(&s, 42, 3, 6, 100);
	f = recv_f(&s);
	ck_assert_uint_eq(f.id, 40);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	f = recv_f(&s);
	ck_assert_uint_eq(f.id, 41);
	ck_assert_int_eq(f.status, 0);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 11);
	frame_free(&f);
	f = recv_f(&s);
	ck_assert_uint_eq(f.id, 42);
	ck_assert_int_eq(f.status, 0);
	ck_assert_uint_eq(sbxa_r_left(&f.r), 5);
	ck_assert_int_eq(memcmp(sbxa_get_bytes(&f.r, 5), "world", 5), 0);
	frame_free(&f);
	ck_assert_int_eq(handle_op(&s, SBXA_OP_FSYNC, 3, 0), 0);
	ck_assert_int_eq(handle_op(&s, SBXA_OP_FSYNC, 3, 1), 0);
	ck_assert_int_eq(open_h(&s, 43, 3, p, SBXA_O_RDONLY, 0, true), -EBUSY);
	ck_assert_int_eq(handle_op(&s, SBXA_OP_CLOSE, 3, 0), 0);
	ck_assert_int_eq(handle_op(&s, SBXA_OP_CLOSE, 3, 0), -EBADF);
	ck_assert_str_eq(get_file(p), "hello world");
	/* a failed open: the pipelined read on its handle is -EBADF */
	ck_assert_int_eq(open_h(&s, 44, 5, p, SBXA_O_RDWR | SBXA_O_CREAT | SBXA_O_EXCL, 0600, true),
			 -EEXIST);
	pread_h(&s, 45, 5, 0, 10);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EBADF);
	frame_free(&f);
	ck_assert_int_eq(open_h(&s, 46, SBXA_HANDLES_MAX, p, SBXA_O_RDONLY, 0, true), -EINVAL);
	ck_assert_int_eq(open_h(&s, 47, 1, dir, SBXA_O_WRONLY, 0, true), -EISDIR);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

static int tmpfile_h(struct sess *s, uint32_t h, const char *path)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 50, SBXA_OP_TMPFILE, SBXA_ID_SELF);
	struct frame f;
	int r;

	sbxa_put_u32(&w, h);
	sbxa_put_cstr(&w, path);
	sbxa_put_u32(&w, 0600);
	send_w(s, &w, at);
	f = recv_f(s);
	r = f.status;
	frame_free(&f);
	return r;
}

static int commit_h(struct sess *s, uint32_t h, const char *path, uint64_t len,
		    const struct sbxa_setattr *sa, struct sbxa_attr *out)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 51, SBXA_OP_COMMIT, SBXA_ID_SELF);
	struct frame f;
	int r;

	sbxa_put_u32(&w, h);
	sbxa_put_cstr(&w, path);
	sbxa_put_u64(&w, len);
	sbxa_put_setattr(&w, sa);
	send_w(s, &w, at);
	f = recv_f(s);
	r = f.status;
	if (!r && out)
		sbxa_get_attr(&f.r, out);
	frame_free(&f);
	return r;
}

/* entries of the test directory whose name starts with ".sbx~" */
static unsigned temps_left(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, ".sbx~", 5);
	closedir(d);
	return n;
}

static void commit_cycle(bool named)
{
	struct sess s;
	struct frame f;
	struct sbxa_setattr sa = {.valid = SBXA_SET_MODE | SBXA_SET_UID | SBXA_SET_MTIME,
				  .mode = 0640,
				  .uid = 77,
				  .mtime = {.sec = 12345}};
	struct sbxa_attr a;
	char p[128];

	sess_start_env(&s, named);
	hello(&s);
	path_of(p, sizeof(p), "target");
	put_file(p, "old");
	ck_assert_int_eq(tmpfile_h(&s, 9, p), 0);
	ck_assert_uint_eq(temps_left(), named ? 1 : 0);
	pwrite_h(&s, 52, 9, 0, "new bytes");
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	/* a wrong length: -EIO, the target intact, the temporary gone */
	ck_assert_int_eq(commit_h(&s, 9, p, 4, &sa, NULL), -EIO);
	ck_assert_str_eq(get_file(p), "old");
	ck_assert_uint_eq(temps_left(), 0);
	ck_assert_int_eq(handle_op(&s, SBXA_OP_CLOSE, 9, 0), -EBADF); /* closed either way */
	/* the right length: replaced, with the setattr block applied */
	ck_assert_int_eq(tmpfile_h(&s, 9, p), 0);
	pwrite_h(&s, 53, 9, 0, "new bytes");
	f = recv_f(&s);
	frame_free(&f);
	ck_assert_int_eq(commit_h(&s, 9, p, 9, &sa, &a), 0);
	ck_assert_str_eq(get_file(p), "new bytes");
	ck_assert_uint_eq(a.mode, S_IFREG | 0640);
	ck_assert_uint_eq(a.uid, 77);
	ck_assert_int_eq(a.mtime.sec, 12345);
	ck_assert_uint_eq(a.nlink, 1);
	ck_assert_uint_eq(temps_left(), 0);
	/* an uncommitted temporary dropped by CLOSE */
	ck_assert_int_eq(tmpfile_h(&s, 9, p), 0);
	ck_assert_int_eq(handle_op(&s, SBXA_OP_CLOSE, 9, 0), 0);
	ck_assert_uint_eq(temps_left(), 0);
	ck_assert_int_eq(commit_h(&s, 2, p, 0, &sa, NULL), -EBADF);
	ck_assert_int_eq(sess_end(&s), 0);
}

START_TEST(commit_otmpfile)
{
	commit_cycle(false);
}
END_TEST

START_TEST(commit_named)
{
	commit_cycle(true);
}
END_TEST

/* SIGTERM (and stdin's end) remove the named temporaries of a session */
START_TEST(killed_session_leaves_no_temp)
{
	struct sess s;
	char p[128];
	int st;

	path_of(p, sizeof(p), "t");
	sess_start_env(&s, true);
	hello(&s);
	ck_assert_int_eq(tmpfile_h(&s, 1, p), 0);
	ck_assert_int_eq(tmpfile_h(&s, 2, p), 0);
	ck_assert_uint_eq(temps_left(), 2);
	kill(s.pid, SIGTERM);
	ck_assert_int_eq(waitpid(s.pid, &st, 0), s.pid);
	ck_assert(WIFEXITED(st));
	ck_assert_uint_eq(temps_left(), 0);
	close(s.to);
	close(s.from);
	sess_start_env(&s, true);
	hello(&s);
	ck_assert_int_eq(tmpfile_h(&s, 1, p), 0);
	ck_assert_uint_eq(temps_left(), 1);
	ck_assert_int_eq(sess_end(&s), 0);
	ck_assert_uint_eq(temps_left(), 0);
}
END_TEST

static void read_req(struct sess *s, uint32_t id, const char *path, uint64_t off, uint64_t len,
		     uint32_t flags, const struct sbxa_validator *v)
{
	struct sbxa_w w = {0};
	struct sbxa_validator none = {0};
	size_t at = req(&w, id, SBXA_OP_READ, SBXA_ID_SELF);

	sbxa_put_cstr(&w, path);
	sbxa_put_u64(&w, off);
	sbxa_put_u64(&w, len);
	sbxa_put_u32(&w, flags);
	sbxa_put_validator(&w, v ? v : &none);
	send_w(s, &w, at);
}

START_TEST(read_streamed)
{
	struct sess s;
	struct frame f;
	struct sbxa_attr a;
	struct sbxa_validator v;
	size_t total = 0, i, n, want = 3 * SBXA_IO_MAX + 1000;
	uint8_t *data = malloc(want);
	unsigned frames = 0;
	char p[128];
	bool more;
	int fd;

	sess_start(&s);
	path_of(p, sizeof(p), "data");
	for (i = 0; i < want; i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	write_all(fd, data, want);
	close(fd);
	read_req(&s, 60, p, 10, UINT64_MAX, 0, NULL);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	sbxa_get_attr(&f.r, &a);
	ck_assert_uint_eq(a.size, want);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 0);
	for (;;) {
		ck_assert_uint_eq(f.id, 60);
		ck_assert_int_eq(f.status, 0);
		n = sbxa_r_left(&f.r);
		ck_assert_uint_le(n, SBXA_IO_MAX);
		ck_assert_int_eq(memcmp(sbxa_get_bytes(&f.r, n), data + 10 + total, n), 0);
		total += n;
		frames++;
		more = f.flags & SBXA_F_MORE;
		frame_free(&f);
		if (!more)
			break;
		f = recv_f(&s);
	}
	ck_assert_uint_eq(total, want - 10);
	ck_assert_uint_ge(frames, 4);
	/* a range, then the validator: unchanged, no bytes */
	read_req(&s, 61, p, 100, 50, 0, NULL);
	f = recv_f(&s);
	sbxa_get_attr(&f.r, &a);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 0);
	ck_assert_uint_eq(sbxa_r_left(&f.r), 50);
	ck_assert_int_eq(memcmp(sbxa_get_bytes(&f.r, 50), data + 100, 50), 0);
	ck_assert_uint_eq(f.flags, 0);
	frame_free(&f);
	v = (struct sbxa_validator){
	    .ino = a.ino, .size = a.size, .mtime = a.mtime, .ctime = a.ctime};
	read_req(&s, 62, p, 0, UINT64_MAX, SBXA_READ_IF_CHANGED, &v);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	sbxa_get_attr(&f.r, &a);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 1);
	ck_assert_uint_eq(sbxa_r_left(&f.r), 0);
	ck_assert_uint_eq(f.flags, 0);
	frame_free(&f);
	v.size++;
	read_req(&s, 63, p, 0, 4, SBXA_READ_IF_CHANGED, &v);
	f = recv_f(&s);
	sbxa_get_attr(&f.r, &a);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 0);
	ck_assert_uint_eq(sbxa_r_left(&f.r), 4);
	frame_free(&f);
	read_req(&s, 64, dir, 0, 4, 0, NULL);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EISDIR);
	frame_free(&f);
	path_of(p, sizeof(p), "fifo");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	read_req(&s, 65, p, 0, 4, 0, NULL);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EINVAL);
	frame_free(&f);
	free(data);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

static struct frame xattr_req(struct sess *s, uint16_t op, const char *path, const char *name,
			      const char *value, uint32_t num)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 70, op, SBXA_ID_SELF);

	sbxa_put_cstr(&w, path);
	if (name)
		sbxa_put_cstr(&w, name);
	if (value)
		sbxa_put_cstr(&w, value);
	if (op != SBXA_OP_REMOVEXATTR)
		sbxa_put_u32(&w, num);
	send_w(s, &w, at);
	return recv_f(s);
}

START_TEST(xattrs)
{
	struct sess s;
	struct frame f;
	char p[128];

	sess_start(&s);
	path_of(p, sizeof(p), "x");
	put_file(p, "");
	f = xattr_req(&s, SBXA_OP_SETXATTR, p, "user.k", "value!", 0);
	if (f.status == -EOPNOTSUPP) { /* a filesystem without user xattrs */
		frame_free(&f);
		ck_assert_int_eq(sess_end(&s), 0);
		return;
	}
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	f = xattr_req(&s, SBXA_OP_SETXATTR, p, "user.k", "v", XATTR_CREATE);
	ck_assert_int_eq(f.status, -EEXIST);
	frame_free(&f);
	f = xattr_req(&s, SBXA_OP_GETXATTR, p, "user.k", NULL, 0);
	ck_assert_int_eq(f.status, 0);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 6);
	ck_assert_uint_eq(sbxa_r_left(&f.r), 0);
	frame_free(&f);
	f = xattr_req(&s, SBXA_OP_GETXATTR, p, "user.k", NULL, 100);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 6);
	ck_assert_int_eq(memcmp(sbxa_get_bytes(&f.r, 6), "value!", 6), 0);
	frame_free(&f);
	f = xattr_req(&s, SBXA_OP_GETXATTR, p, "user.k", NULL, 2);
	ck_assert_int_eq(f.status, -ERANGE);
	frame_free(&f);
	f = xattr_req(&s, SBXA_OP_LISTXATTR, p, NULL, NULL, 100);
	ck_assert_int_eq(f.status, 0);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 7);
	ck_assert_int_eq(memcmp(sbxa_get_bytes(&f.r, 7), "user.k", 7), 0);
	frame_free(&f);
	f = xattr_req(&s, SBXA_OP_REMOVEXATTR, p, "user.k", NULL, 0);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	f = xattr_req(&s, SBXA_OP_GETXATTR, p, "user.k", NULL, 0);
	ck_assert_int_eq(f.status, -ENODATA);
	frame_free(&f);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(pipelined_ids)
{
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	uint32_t i;
	size_t at;

	sess_start(&s);
	/* 200 requests in one write, before any reply is read */
	for (i = 0; i < 200; i++) {
		at = req(&w, 1000 + i, SBXA_OP_LSTAT, SBXA_ID_SELF);
		sbxa_put_cstr(&w, i % 2 ? dir : "/nonexistent-sbxa");
		ck_assert_int_eq(sbxa_frame_end(&w, at), 0);
	}
	write_all(s.to, w.p, w.len);
	sbxa_w_release(&w);
	for (i = 0; i < 200; i++) {
		f = recv_f(&s);
		ck_assert_uint_eq(f.id, 1000 + i);
		ck_assert_int_eq(f.status, i % 2 ? 0 : -ENOENT);
		frame_free(&f);
	}
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

static void job_req(struct sess *s, uint32_t id, const char *const *argv, uint32_t flags,
		    uint32_t uid)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, id, SBXA_OP_JOB_START, uid);
	uint32_t n = 0;

	while (argv[n])
		n++;
	sbxa_put_u32(&w, n);
	for (n = 0; argv[n]; n++)
		sbxa_put_cstr(&w, argv[n]);
	sbxa_put_u32(&w, 1);
	sbxa_put_cstr(&w, "PATH=/usr/bin:/bin");
	sbxa_put_cstr(&w, dir);
	sbxa_put_u32(&w, flags);
	send_w(s, &w, at);
}

/* Reads a job's frames to its EV_EXIT; stdout/stderr collected (text).
 * Replies to other ids (JOB_STDIN, JOB_SIGNAL) are counted in *others. */
static void job_wait(struct sess *s, uint32_t id, char *out, char *err, uint32_t *how,
		     int32_t *code, unsigned *others)
{
	struct frame f;
	size_t no = 0, ne = 0, n;

	for (;;) {
		f = recv_f(s);
		if (f.id != id) {
			ck_assert_int_eq(f.status, 0);
			(*others)++;
			frame_free(&f);
			continue;
		}
		if (f.type == SBXA_EV_EXIT) {
			ck_assert_uint_eq(f.flags, 0);
			ck_assert_int_eq(sbxa_get_i32(&f.r), 0);
			*how = sbxa_get_u32(&f.r);
			*code = sbxa_get_i32(&f.r);
			frame_free(&f);
			break;
		}
		ck_assert(f.flags & SBXA_F_MORE);
		ck_assert(f.type == SBXA_EV_STDOUT || f.type == SBXA_EV_STDERR);
		n = f.n;
		memcpy(f.type == SBXA_EV_STDOUT ? out + no : err + ne, f.p, n);
		if (f.type == SBXA_EV_STDOUT)
			no += n;
		else
			ne += n;
		frame_free(&f);
	}
	out[no] = err[ne] = '\0';
}

static uint32_t job_started(struct sess *s, uint32_t id)
{
	struct frame f = recv_f(s);
	uint32_t pid;

	ck_assert_uint_eq(f.id, id);
	ck_assert_uint_eq(f.type, SBXA_REPLY | SBXA_OP_JOB_START);
	ck_assert_int_eq(f.status, 0);
	ck_assert(f.flags & SBXA_F_MORE);
	pid = sbxa_get_u32(&f.r);
	frame_free(&f);
	return pid;
}

START_TEST(jobs_output_exit)
{
	static const char *const argv[] = {"sh", "-c", "echo out; pwd; echo err >&2; exit 3", NULL};
	static const char *const nope[] = {"no-such-program-sbxa", NULL};
	struct sess s;
	struct frame f;
	char out[4096], err[4096], want[256];
	uint32_t how;
	int32_t code;
	unsigned others = 0;

	sess_start(&s);
	job_req(&s, 80, argv, 0, SBXA_ID_SELF);
	ck_assert_uint_gt(job_started(&s, 80), 0);
	job_wait(&s, 80, out, err, &how, &code, &others);
	snprintf(want, sizeof(want), "out\n%s\n", dir);
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(err, "err\n");
	ck_assert_uint_eq(how, SBXA_EXIT_CODE);
	ck_assert_int_eq(code, 3);
	job_req(&s, 81, nope, 0, SBXA_ID_SELF);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -ENOENT);
	ck_assert_uint_eq(f.flags, 0);
	frame_free(&f);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

static void job_stdin(struct sess *s, uint32_t id, uint32_t job, const char *data)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, id, SBXA_OP_JOB_STDIN, SBXA_ID_SELF);

	sbxa_put_u32(&w, job);
	sbxa_put_bytes(&w, data, strlen(data));
	send_w(s, &w, at);
}

START_TEST(jobs_stdin_and_signal)
{
	static const char *const cat[] = {"cat", NULL};
	static const char *const sleeper[] = {"sh", "-c", "echo ready; exec sleep 100", NULL};
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	char out[4096], err[4096];
	uint32_t how;
	int32_t code;
	unsigned others = 0;
	size_t at;

	sess_start(&s);
	job_req(&s, 90, cat, SBXA_JOB_STDIN, SBXA_ID_SELF);
	job_started(&s, 90);
	job_stdin(&s, 91, 90, "round ");
	job_stdin(&s, 92, 90, "trip\n");
	job_stdin(&s, 93, 90, ""); /* closes cat's stdin */
	job_wait(&s, 90, out, err, &how, &code, &others);
	ck_assert_str_eq(out, "round trip\n");
	ck_assert_uint_eq(others, 3);
	ck_assert_uint_eq(how, SBXA_EXIT_CODE);
	ck_assert_int_eq(code, 0);
	job_stdin(&s, 94, 90, "late");
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -ESRCH);
	frame_free(&f);
	/* a signal to the job's process group */
	job_req(&s, 95, sleeper, 0, SBXA_ID_SELF);
	job_started(&s, 95);
	f = recv_f(&s); /* "ready": the shell is running */
	ck_assert_uint_eq(f.type, SBXA_EV_STDOUT);
	frame_free(&f);
	at = req(&w, 96, SBXA_OP_JOB_SIGNAL, SBXA_ID_SELF);
	sbxa_put_u32(&w, 95);
	sbxa_put_u32(&w, SIGTERM);
	send_w(&s, &w, at);
	others = 0;
	job_wait(&s, 95, out, err, &how, &code, &others);
	ck_assert_uint_eq(others, 1);
	ck_assert_uint_eq(how, SBXA_EXIT_SIGNAL);
	ck_assert_int_eq(code, SIGTERM);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(watch_events)
{
	struct sbxa_attr ea;
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	char d[128], p[128], name[256];
	uint32_t wd, mask;
	unsigned data, self;
	size_t at;

	sess_start(&s);
	path_of(d, sizeof(d), "w");
	ck_assert_int_eq(mkdir(d, 0755), 0);
	f = call_path(&s, SBXA_OP_WATCH, d, SBXA_ID_SELF);
	ck_assert_int_eq(f.status, 0);
	wd = sbxa_get_u32(&f.r);
	ck_assert_uint_gt(wd, 0);
	frame_free(&f);
	path_of(p, sizeof(p), "w/new");
	put_file(p, "x");
	f = recv_f(&s); /* the create comes first, then the close after write */
	ck_assert_uint_eq(f.id, 0);
	ck_assert_uint_eq(f.type, SBXA_EV_CHANGE);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), wd);
	mask = sbxa_get_u32(&f.r);
	ck_assert(mask & SBXA_CH_CREATE);
	ck_assert(mask & SBXA_CH_DIR_NEXT); /* the directory's own report follows */
	ck_assert(sbxa_get_path(&f.r, name, 255, false));
	ck_assert_str_eq(name, "new");
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 1); /* the name's attributes come along */
	sbxa_get_attr(&f.r, &ea);
	ck_assert(S_ISREG(ea.mode));
	ck_assert_int_eq(f.r.err, 0);
	frame_free(&f);
	/* the write's DATA, and the directory's own attributes after the
	 * name came (after the read of events that had the create: before
	 * or after the DATA) */
	for (data = self = 0; !data || !self;) {
		f = recv_f(&s);
		ck_assert_uint_eq(f.type, SBXA_EV_CHANGE);
		ck_assert_uint_eq(sbxa_get_u32(&f.r), wd);
		mask = sbxa_get_u32(&f.r);
		ck_assert(sbxa_get_path(&f.r, name, 255, true));
		if (name[0]) {
			data += (mask & SBXA_CH_DATA) != 0;
		} else {
			ck_assert_uint_eq(mask, SBXA_CH_ATTRIB);
			ck_assert_uint_eq(sbxa_get_u32(&f.r), 1);
			sbxa_get_attr(&f.r, &ea);
			ck_assert(S_ISDIR(ea.mode));
			ck_assert_uint_eq(ea.nlink, 2);
			self++;
		}
		ck_assert_int_eq(f.r.err, 0);
		frame_free(&f);
	}
	ck_assert_uint_eq(self, 1);
	/* a chmod of the directory itself: its report carries its attributes
	 * (a report without them means gone or unknown to a client, which
	 * then forgot the directory's listing and watch) */
	ck_assert_int_eq(chmod(d, 0750), 0);
	for (;;) { /* the write's second DATA (its close) may come first */
		f = recv_f(&s);
		ck_assert_uint_eq(f.type, SBXA_EV_CHANGE);
		ck_assert_uint_eq(sbxa_get_u32(&f.r), wd);
		mask = sbxa_get_u32(&f.r);
		ck_assert(sbxa_get_path(&f.r, name, 255, true));
		if (name[0]) {
			ck_assert_str_eq(name, "new");
			ck_assert_uint_eq(mask, SBXA_CH_DATA);
			frame_free(&f);
			continue;
		}
		break;
	}
	ck_assert_uint_eq(mask, SBXA_CH_ATTRIB);
	ck_assert_uint_eq(sbxa_get_u32(&f.r), 1);
	sbxa_get_attr(&f.r, &ea);
	ck_assert_uint_eq(ea.mode, S_IFDIR | 0750);
	ck_assert_int_eq(f.r.err, 0);
	frame_free(&f);
	at = req(&w, 101, SBXA_OP_UNWATCH, SBXA_ID_SELF);
	sbxa_put_u32(&w, wd);
	send_w(&s, &w, at);
	f = recv_f(&s);
	/* the kernel's IN_IGNORED for the removed watch may come first */
	while (f.type == SBXA_EV_CHANGE) {
		frame_free(&f);
		f = recv_f(&s);
	}
	ck_assert_uint_eq(f.id, 101);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	path_of(p, sizeof(p), "f");
	put_file(p, "");
	f = call_path(&s, SBXA_OP_WATCH, p, SBXA_ID_SELF);
	while (f.type == SBXA_EV_CHANGE) { /* IN_IGNORED (GONE) of the removed watch */
		ck_assert_uint_eq(sbxa_get_u32(&f.r), wd);
		ck_assert(sbxa_get_u32(&f.r) & SBXA_CH_GONE);
		frame_free(&f);
		f = recv_f(&s);
	}
	ck_assert_int_eq(f.status, -ENOTDIR);
	frame_free(&f);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

/* Sends RENAME from -> to (flags 0) as id 9; the EV_CHANGE frames that come
 * before its reply are counted (by the names they report, into the
 * DELETE and CREATE counts), the reply is returned. */
static struct frame rename_counting(struct sess *s, const char *from, const char *to,
				    const char *del_name, const char *new_name, unsigned *dels,
				    unsigned *news)
{
	struct sbxa_w w = {0};
	size_t at = req(&w, 9, SBXA_OP_RENAME, SBXA_ID_SELF);
	char name[256];
	struct frame f;
	uint32_t mask;

	sbxa_put_cstr(&w, from);
	sbxa_put_cstr(&w, to);
	sbxa_put_u32(&w, 0);
	send_w(s, &w, at);
	for (f = recv_f(s); f.type == SBXA_EV_CHANGE; f = recv_f(s)) {
		sbxa_get_u32(&f.r);
		mask = sbxa_get_u32(&f.r);
		ck_assert(sbxa_get_path(&f.r, name, 255, true));
		*dels += (mask & SBXA_CH_DELETE) && !strcmp(name, del_name);
		*news += (mask & SBXA_CH_CREATE) && !strcmp(name, new_name);
		frame_free(&f);
	}
	ck_assert_uint_eq(f.id, 9);
	ck_assert_uint_eq(f.type, SBXA_REPLY | SBXA_OP_RENAME);
	return f;
}

/* A request's own change events come before its reply, and a RENAME's
 * reply carries the moved entry's attributes: a client that orders by
 * stream position then never takes the old name's report for news of a
 * file made after the reply. */
START_TEST(rename_events_before_reply)
{
	struct sbxa_attr a;
	struct stat st;
	struct sess s;
	struct frame f;
	char d[128], p[128], q[128];
	unsigned dels = 0, news = 0;

	sess_start(&s);
	path_of(d, sizeof(d), "ev");
	ck_assert_int_eq(mkdir(d, 0755), 0);
	f = call_path(&s, SBXA_OP_WATCH, d, SBXA_ID_SELF);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	path_of(p, sizeof(p), "ev/a");
	path_of(q, sizeof(q), "ev/b");
	put_file(p, "x");
	/* a failing rename takes the events of the file's making first */
	f = rename_counting(&s, q, p, "", "", &dels, &news);
	ck_assert_int_eq(f.status, -ENOENT);
	frame_free(&f);
	f = rename_counting(&s, p, q, "a", "b", &dels, &news);
	ck_assert_int_eq(f.status, 0);
	ck_assert_uint_eq(dels, 1);
	ck_assert_uint_eq(news, 1);
	sbxa_get_attr(&f.r, &a);
	ck_assert_int_eq(f.r.err, 0);
	ck_assert_int_eq(lstat(q, &st), 0);
	ck_assert(S_ISREG(a.mode));
	ck_assert_uint_eq(a.ino, st.st_ino);
	ck_assert_int_eq(a.ctime.sec, st.st_ctim.tv_sec);
	ck_assert_int_eq(a.ctime.nsec, st.st_ctim.tv_nsec);
	frame_free(&f);
	/* nothing of the rename comes after its reply */
	f = call_path(&s, SBXA_OP_LSTAT, q, SBXA_ID_SELF);
	ck_assert_uint_eq(f.type, SBXA_REPLY | SBXA_OP_LSTAT);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(credentials)
{
	static const char *const idu[] = {"id", "-u", NULL};
	struct sess s;
	struct frame f;
	char p[128], ro[128], out[4096], err[4096];
	uint32_t how;
	int32_t code;
	unsigned others = 0;

	sess_start(&s);
	path_of(p, sizeof(p), "nobody");
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0644, 0, SBXA_MKNOD_EXCL, 65534), 0);
	ck_assert_uint_eq(lstat_of(&s, p).uid, 65534);
	ck_assert_uint_eq(lstat_of(&s, p).gid, 65534);
	/* the kernel's permission checks apply to that uid */
	path_of(ro, sizeof(ro), "rootonly");
	ck_assert_int_eq(mkdir(ro, 0755), 0);
	path_of(p, sizeof(p), "rootonly/x");
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0644, 0, 0, 65534), -EACCES);
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0644, 0, 0, SBXA_ID_SELF), 0);
	ck_assert_uint_eq(lstat_of(&s, p).uid, 0);
	f = call_path(&s, SBXA_OP_UNLINK, p, 65534);
	ck_assert_int_eq(f.status, -EACCES);
	frame_free(&f);
	/* SETATTR as 65534: its own file yes (through /proc/self/fd), root's no */
	{
		struct sbxa_setattr sa = {
		    .valid = SBXA_SET_MODE | SBXA_SET_SIZE, .mode = 0600, .size = 10};
		struct sbxa_attr a;

		path_of(p, sizeof(p), "nobody");
		ck_assert_int_eq(setattr_as(&s, p, &sa, &a, 65534), 0);
		ck_assert_uint_eq(a.mode, S_IFREG | 0600);
		ck_assert_uint_eq(a.size, 10);
		path_of(p, sizeof(p), "rootonly/x");
		sa.valid = SBXA_SET_MODE;
		ck_assert_int_eq(setattr_as(&s, p, &sa, NULL, 65534), -EPERM);
		sa.valid = SBXA_SET_SIZE;
		ck_assert_int_eq(setattr_as(&s, p, &sa, NULL, 65534), -EACCES);
	}
	/* a job with that cred runs with those real ids */
	job_req(&s, 110, idu, 0, 65534);
	job_started(&s, 110);
	job_wait(&s, 110, out, err, &how, &code, &others);
	ck_assert_str_eq(out, "65534\n");
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(malformed_and_unknown)
{
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	size_t at;

	sess_start(&s);
	/* LSTAT whose path length runs past the payload */
	at = req(&w, 120, SBXA_OP_LSTAT, SBXA_ID_SELF);
	sbxa_put_u32(&w, 4000);
	sbxa_put_bytes(&w, "/tmp", 4);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_uint_eq(f.id, 120);
	ck_assert_int_eq(f.status, -EPROTO);
	frame_free(&f);
	/* trailing bytes, a NUL inside a path, too many groups */
	at = req(&w, 121, SBXA_OP_LSTAT, SBXA_ID_SELF);
	sbxa_put_cstr(&w, "/tmp");
	sbxa_put_u32(&w, 0);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EPROTO);
	frame_free(&f);
	at = req(&w, 122, SBXA_OP_LSTAT, SBXA_ID_SELF);
	sbxa_put_str(&w, "/tm\0p", 5);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EPROTO);
	frame_free(&f);
	at = sbxa_frame_begin(&w, 123, SBXA_OP_LSTAT, 0);
	sbxa_put_u32(&w, 0);
	sbxa_put_u32(&w, 0);
	sbxa_put_u32(&w, SBXA_GROUPS_MAX + 1);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EPROTO);
	frame_free(&f);
	/* an unknown op */
	at = sbxa_frame_begin(&w, 124, 99, 0);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_uint_eq(f.id, 124);
	ck_assert_uint_eq(f.type, SBXA_REPLY | 99);
	ck_assert_int_eq(f.status, -ENOSYS);
	frame_free(&f);
	/* still serving */
	ck_assert_int_eq(status_path(&s, SBXA_OP_LSTAT, dir), 0);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

START_TEST(oversized_length_ends)
{
	struct sess s;
	uint8_t h[SBXA_HDR_LEN] = {0};
	uint32_t len = SBXA_FRAME_MAX + 1;
	uint8_t b;
	int st;

	sess_start(&s);
	memcpy(h, &len, 4); /* little-endian host */
	h[4] = 5;
	h[8] = SBXA_OP_LSTAT;
	write_all(s.to, h, sizeof(h));
	ck_assert_int_eq(read(s.from, &b, 1), 0); /* nothing more: the agent is gone */
	ck_assert_int_eq(waitpid(s.pid, &st, 0), s.pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 2);
	close(s.to);
	close(s.from);
}
END_TEST

/* FTRUNCATE gives a temporary its length without writing zeros, and a
 * failed PWRITE poisons the handle: COMMIT then refuses whatever the size */
START_TEST(commit_sparse_and_poisoned)
{
	struct sbxa_setattr sa = {0};
	struct sbxa_w w = {0};
	struct sbxa_attr a;
	struct frame f;
	struct sess s;
	struct stat st;
	char p[128];
	size_t at;

	sess_start(&s);
	path_of(p, sizeof(p), "sparse");
	put_file(p, "old");
	ck_assert_int_eq(tmpfile_h(&s, 3, p), 0);
	at = req(&w, 60, SBXA_OP_FTRUNCATE, SBXA_ID_SELF);
	sbxa_put_u32(&w, 3);
	sbxa_put_u64(&w, 1ull << 30);
	send_w(&s, &w, at);
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	pwrite_h(&s, 61, 3, 0, "x");
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	ck_assert_int_eq(commit_h(&s, 3, p, 1ull << 30, &sa, &a), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 1ll << 30);
	ck_assert_int_lt(st.st_blocks, 1024); /* holes, not a GiB of zeros */

	/* a PWRITE that failed, then good ones of the right length */
	put_file(p, "old");
	ck_assert_int_eq(tmpfile_h(&s, 4, p), 0);
	pwrite_h(&s, 62, 4, 1ull << 63, "zz");
	f = recv_f(&s);
	ck_assert_int_eq(f.status, -EINVAL);
	frame_free(&f);
	pwrite_h(&s, 63, 4, 0, "abc");
	f = recv_f(&s);
	ck_assert_int_eq(f.status, 0);
	frame_free(&f);
	ck_assert_int_eq(commit_h(&s, 4, p, 3, &sa, NULL), -EINVAL);
	ck_assert_str_eq(get_file(p), "old");
	ck_assert_uint_eq(temps_left(), 0);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

/* 20 MB from a job and a 64 MiB READ at once, read back while the agent
 * holds its output queue to its bound: every byte arrives, in order. */
START_TEST(big_streams)
{
	static const char *const gen[] = {"head", "-c", "20000000", "/dev/zero", NULL};
	struct sess s;
	struct frame f;
	struct sbxa_attr a;
	char p[128];
	uint64_t job_bytes = 0, read_bytes = 0;
	bool job_done = false, read_done = false, started = false, read_first = false;
	char tail[3] = {0};
	int fd;

	sess_start(&s);
	path_of(p, sizeof(p), "sparse");
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_eq(ftruncate(fd, 64 << 20), 0);
	ck_assert_int_eq(pwrite(fd, "end", 3, (64 << 20) - 3), 3);
	close(fd);
	job_req(&s, 130, gen, 0, SBXA_ID_SELF);
	read_req(&s, 131, p, 0, UINT64_MAX, 0, NULL);
	while (!job_done || !read_done) {
		f = recv_f(&s);
		if (f.id == 130 && f.type == (SBXA_REPLY | SBXA_OP_JOB_START)) {
			ck_assert_int_eq(f.status, 0);
			started = true;
		} else if (f.id == 130 && f.type == SBXA_EV_STDOUT) {
			ck_assert(started);
			job_bytes += f.n;
		} else if (f.id == 130) {
			ck_assert_uint_eq(f.type, SBXA_EV_EXIT);
			job_done = true;
		} else {
			ck_assert_uint_eq(f.id, 131);
			ck_assert_int_eq(f.status, 0);
			if (!read_first) {
				sbxa_get_attr(&f.r, &a);
				ck_assert_uint_eq(sbxa_get_u32(&f.r), 0);
				read_first = true;
			}
			if (sbxa_r_left(&f.r) >= 3)
				memcpy(tail, f.p + f.n - 3, 3);
			read_done = !(f.flags & SBXA_F_MORE);
			read_bytes += sbxa_r_left(&f.r);
		}
		frame_free(&f);
	}
	ck_assert_uint_eq(job_bytes, 20000000);
	ck_assert_uint_eq(read_bytes, 64 << 20);
	ck_assert_int_eq(memcmp(tail, "end", 3), 0);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

/* stdin's end: what was asked before it is still answered, then exit 0 */
START_TEST(eof_drains)
{
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	uint32_t i;
	size_t at;
	uint8_t b;
	int st;

	sess_start(&s);
	for (i = 0; i < 50; i++) {
		at = req(&w, 200 + i, SBXA_OP_LSTAT, SBXA_ID_SELF);
		sbxa_put_cstr(&w, dir);
		ck_assert_int_eq(sbxa_frame_end(&w, at), 0);
	}
	write_all(s.to, w.p, w.len);
	sbxa_w_release(&w);
	close(s.to);
	for (i = 0; i < 50; i++) {
		f = recv_f(&s);
		ck_assert_uint_eq(f.id, 200 + i);
		ck_assert_int_eq(f.status, 0);
		frame_free(&f);
	}
	ck_assert_int_eq(read(s.from, &b, 1), 0);
	close(s.from);
	ck_assert_int_eq(waitpid(s.pid, &st, 0), s.pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

/* a job that never reads its stdin: JOB_STDIN queues up to the bound and
 * is refused past it; what is queued is answered -EPIPE when the job ends */
START_TEST(jobs_stdin_bound)
{
	static const char *const sleeper[] = {"sleep", "100", NULL};
	struct sess s;
	struct sbxa_w w = {0};
	struct frame f;
	char *chunk = malloc(1000001);
	unsigned i, epipe = 0;
	bool exited = false;
	size_t at;

	memset(chunk, 'x', 1000000);
	chunk[1000000] = '\0';
	sess_start(&s);
	job_req(&s, 140, sleeper, SBXA_JOB_STDIN, SBXA_ID_SELF);
	job_started(&s, 140);
	for (i = 0; i < 4; i++)
		job_stdin(&s, 141 + i, 140, chunk); /* 4 MB queued: no answer yet */
	job_stdin(&s, 145, 140, chunk);
	f = recv_f(&s);
	ck_assert_uint_eq(f.id, 145);
	ck_assert_int_eq(f.status, -ENOBUFS);
	frame_free(&f);
	at = req(&w, 146, SBXA_OP_JOB_SIGNAL, SBXA_ID_SELF);
	sbxa_put_u32(&w, 140);
	sbxa_put_u32(&w, SIGKILL);
	send_w(&s, &w, at);
	while (!exited) {
		f = recv_f(&s);
		if (f.id == 140) {
			ck_assert_uint_eq(f.type, SBXA_EV_EXIT);
			ck_assert_uint_eq(sbxa_get_i32(&f.r), 0);
			ck_assert_uint_eq(sbxa_get_u32(&f.r), SBXA_EXIT_SIGNAL);
			ck_assert_int_eq(sbxa_get_i32(&f.r), SIGKILL);
			exited = true;
		} else if (f.id >= 141 && f.id <= 144) {
			ck_assert_int_eq(f.status, -EPIPE);
			epipe++;
		} else {
			ck_assert_uint_eq(f.id, 146);
			ck_assert_int_eq(f.status, 0);
		}
		frame_free(&f);
	}
	ck_assert_uint_eq(epipe, 4);
	free(chunk);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

/* started with SIGCHLD and SIGTERM ignored (as some exec paths leave
 * them), the agent still sees its jobs end and still ends on SIGTERM */
START_TEST(inherited_ignored_signals)
{
	static const char *const argv[] = {"sh", "-c", "exit 7", NULL};
	struct sess s;
	char out[64], err[64];
	uint32_t how;
	int32_t code;
	unsigned others = 0;
	int st;

	sess_start_opts(&s, false, true);
	hello(&s);
	job_req(&s, 150, argv, 0, SBXA_ID_SELF);
	job_started(&s, 150);
	job_wait(&s, 150, out, err, &how, &code, &others);
	ck_assert_uint_eq(how, SBXA_EXIT_CODE);
	ck_assert_int_eq(code, 7);
	kill(s.pid, SIGTERM);
	ck_assert_int_eq(waitpid(s.pid, &st, 0), s.pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(s.to);
	close(s.from);
}
END_TEST

static void write_proc(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	write_all(fd, text, strlen(text));
	close(fd);
}

/* The agent in a user namespace whose setgroups file says "deny", as in
 * sbxd's sandboxes: per-request credentials still work (the agent holds
 * no supplementary group, so keeping its own grants nothing). */
START_TEST(credentials_setgroups_denied)
{
	static const char *const idu[] = {"id", "-u", NULL};
	int in[2], out[2], ready[2], go[2];
	char p[128], c = 0, o[64], e[64];
	struct sess s;
	uint32_t how;
	int32_t code;
	unsigned others = 0;

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	s.pid = fork();
	ck_assert_int_ge(s.pid, 0);
	if (s.pid == 0) {
		if (setgroups(0, NULL) < 0 || unshare(CLONE_NEWUSER) < 0)
			_exit(126);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(126);
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(SBX_AGENT_BIN, "sbx-agent", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	write_proc(s.pid, "uid_map", "0 0 65536\n");
	write_proc(s.pid, "setgroups", "deny");
	write_proc(s.pid, "gid_map", "0 0 65536\n");
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	close(in[0]);
	close(out[1]);
	s.to = in[1];
	s.from = out[0];
	signal(SIGPIPE, SIG_IGN);
	hello(&s);
	path_of(p, sizeof(p), "denied");
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0644, 0, SBXA_MKNOD_EXCL, 65534), 0);
	ck_assert_uint_eq(lstat_of(&s, p).uid, 65534);
	job_req(&s, 160, idu, 0, 65534);
	job_started(&s, 160);
	job_wait(&s, 160, o, e, &how, &code, &others);
	ck_assert_str_eq(o, "65534\n");
	path_of(p, sizeof(p), "self");
	ck_assert_int_eq(mknod_as(&s, p, S_IFREG | 0644, 0, 0, SBXA_ID_SELF), 0);
	ck_assert_uint_eq(lstat_of(&s, p).uid, 0);
	ck_assert_int_eq(sess_end(&s), 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("agent");
	TCase *tc = tcase_create("agent");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hello_first);
	tcase_add_test(tc, lstat_and_errors);
	tcase_add_test(tc, dirs_and_names);
	tcase_add_test(tc, mknod_kinds);
	tcase_add_test(tc, rename_flags);
	tcase_add_test(tc, setattr_all);
	tcase_add_test(tc, setattr_acl_plain);
	tcase_add_test(tc, statfs_block);
	tcase_add_test(tc, readdir_chunks);
	tcase_add_test(tc, readdir_tree);
	tcase_add_test(tc, handles_io);
	tcase_add_test(tc, commit_otmpfile);
	tcase_add_test(tc, commit_named);
	tcase_add_test(tc, commit_sparse_and_poisoned);
	tcase_add_test(tc, killed_session_leaves_no_temp);
	tcase_add_test(tc, read_streamed);
	tcase_add_test(tc, xattrs);
	tcase_add_test(tc, pipelined_ids);
	tcase_add_test(tc, jobs_output_exit);
	tcase_add_test(tc, jobs_stdin_and_signal);
	tcase_add_test(tc, watch_events);
	tcase_add_test(tc, rename_events_before_reply);
	tcase_add_test(tc, credentials);
	tcase_add_test(tc, malformed_and_unknown);
	tcase_add_test(tc, oversized_length_ends);
	tcase_add_test(tc, big_streams);
	tcase_add_test(tc, eof_drains);
	tcase_add_test(tc, jobs_stdin_bound);
	tcase_add_test(tc, inherited_ignored_signals);
	tcase_add_test(tc, credentials_setgroups_denied);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
