/* fs_primitives.c - end-to-end test of the filesystem primitives of
 * libsbx (sbx/fs.h) against a real sbxd and a real sandbox.
 *
 * Usage: fs_primitives SBXD [SIZE_MB]
 * Starts SBXD (--state-dir in a private temp dir, --listen 127.0.0.1:0;
 * needs root), or with SBXD "-" uses the control plane of the environment
 * (KOYEB_API_HOST, KOYEB_API_TOKEN), creates one sandbox, runs every primitive on tricky names
 * (spaces, quotes, newlines, unicode, leading dashes, every byte 1..255),
 * moves a random binary file of SIZE_MB (default 30) MiB through
 * upload/download and write/read comparing SHA-256, checks the error codes
 * and the asynchronous forms, then deletes the sandbox, stops sbxd and
 * removes the temp dir, also when a check fails. With SBX_EXEC_TRANSPORT
 * set, it checks in sbxd's log that the calls went that way (see
 * check_transport()).
 * Prints "ok"/"not ok" lines and a closing "N passed, N failed" line; exits
 * non-zero on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/sandbox_priv.h"
#include "exec/agent_slot.h"
#include "sbx/rfs.h"
#include "sbx/sbx.h"

struct ctx {
	char tmp[64]; /* local temp dir */
	pid_t sbxd;
	struct sbx_client *c;
	struct sbx_sandbox *sb;
	char base[64]; /* remote work dir */
	int pass, fail;
	int execs;     /* exec sessions the test itself opened (remote_sha) */
	int sessions0; /* exec sessions in sbxd's log after the first call */
};

#define CHECK(x, ...) check(x_, (x), __VA_ARGS__)

static void check(struct ctx *x, bool cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(struct ctx *x, bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (cond)
		x->pass++;
	else
		x->fail++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Printable form of a name for the report (static buffer per call site). */
static const char *show(const char *s, char *buf, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 5 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o] = '\0';
	return buf;
}

static char *path2(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static void sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

static int sha256_file(const char *path, unsigned char out[32])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	char *buf = malloc(1 << 20);
	unsigned int n = 32;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !m || !buf) {
		if (fd >= 0)
			close(fd);
		EVP_MD_CTX_free(m);
		free(buf);
		return -1;
	}
	EVP_DigestInit_ex(m, EVP_sha256(), NULL);
	while ((r = read(fd, buf, 1 << 20)) > 0)
		EVP_DigestUpdate(m, buf, (size_t)r);
	EVP_DigestFinal_ex(m, out, &n);
	EVP_MD_CTX_free(m);
	free(buf);
	close(fd);
	return r < 0 ? -1 : 0;
}

/* ---- sbxd and the sandbox ---- */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	remove(p);
	return 0;
}

static int start_sbxd(struct ctx *x, const char *sbxd)
{
	char state[128], log[128], json[160];
	struct stat st;
	int i, fd;

	snprintf(state, sizeof(state), "%s/state", x->tmp);
	snprintf(log, sizeof(log), "%s/sbxd.log", x->tmp);
	snprintf(json, sizeof(json), "%s/sbxd.json", state);
	mkdir(state, 0700);
	x->sbxd = fork();
	if (x->sbxd < 0)
		return -errno;
	if (x->sbxd == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* debug lines name each executor request: see check_transport() */
		setenv("SBX_DEBUG", "1", 1);
		execl(sbxd, sbxd, "--state-dir", state, "--listen", "127.0.0.1:0", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		if (stat(json, &st) == 0 && st.st_size > 0)
			return 0;
		if (waitpid(x->sbxd, NULL, WNOHANG) == x->sbxd) {
			x->sbxd = 0;
			return -ECHILD;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int read_token(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

static int open_sandbox(struct ctx *x)
{
	struct sbx_client_opts co = {0};
	struct sbx_create_opts so = {0};
	struct json_object *j, *host;
	char path[160], token[512];
	struct sbx_err err = {0};
	int r;

	if (!x->sbxd) {
		r = sbx_client_new(&co, &x->c, &err); /* from the environment */
		j = NULL;
		goto create;
	}
	snprintf(path, sizeof(path), "%s/state/sbxd.json", x->tmp);
	j = json_object_from_file(path);
	if (!j || !json_object_object_get_ex(j, "api_host", &host)) {
		fprintf(stderr, "# cannot read api_host from %s\n", path);
		json_object_put(j);
		return -EPROTO;
	}
	snprintf(path, sizeof(path), "%s/state/token", x->tmp);
	r = read_token(path, token, sizeof(token));
	if (r == 0) {
		co.api_host = json_object_get_string(host);
		co.token = token;
		r = sbx_client_new(&co, &x->c, &err);
	}
create:
	json_object_put(j);
	if (r < 0) {
		fprintf(stderr, "# client: %s\n", err.msg);
		return r;
	}
	so.name = "fs-e2e";
	so.wait_ready = true;
	so.timeout_s = 120;
	r = sbx_sandbox_create(x->c, &so, &x->sb, &err);
	if (r < 0)
		fprintf(stderr, "# create: %d %s\n", r, err.msg);
	return r;
}

static void teardown(struct ctx *x)
{
	if (x->sb) {
		sbx_sandbox_delete(x->sb, NULL);
		sbx_sandbox_free(x->sb);
	}
	sbx_client_free(x->c);
	if (x->sbxd > 0) {
		kill(x->sbxd, SIGTERM);
		waitpid(x->sbxd, NULL, 0);
	}
	if (x->fail && getenv("SBX_KEEP_LOG")) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "cat %s/sbxd.log >&2", x->tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "# no sbxd log\n");
	}
	nftw(x->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- tests ---- */

static const char *const names[] = {
    "with space", "it's",	 "dq\"uote",  "new\nline", "\n",      "-rf",
    "--",	  "-",		 "-n",	      "ünïcødé ✓", "日本語",  "$(echo pwned)",
    "`id`",	  "back\\slash", "tab\there", "*",	   ".hidden", "..dots",
    "a;b&&c|d",	  "'",		 "\xff\xfe",  " lead",	   "trail ",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static void content_for(const char *name, char *buf, size_t *len)
{
	size_t n = strlen(name), i;

	memcpy(buf, name, n);
	for (i = 0; i < 256; i++)
		buf[n + i] = (char)i;
	*len = n + 256;
}

static bool has_name(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

static void one_name(struct ctx *x_, const char *dir, const char *name)
{
	char buf[600], shown[256], *p = path2(dir, name), *q, *data = NULL;
	size_t len, got = 0, n = 0;
	struct sbx_err err = {0};
	bool f1 = false, f2 = true, f3 = true;
	char **v = NULL;
	int r;

	show(name, shown, sizeof(shown));
	content_for(name, buf, &len);
	r = sbx_fs_write_file(x_->sb, p, buf, len, &err);
	CHECK(r == 0, "write_file '%s' (%d %s)", shown, r, r ? err.msg : "");
	r = sbx_fs_read_file(x_->sb, p, &data, &got, &err);
	CHECK(r == 0 && got == len && memcmp(data, buf, len) == 0, "read_file '%s' is exact",
	      shown);
	free(data);
	r = sbx_fs_exists(x_->sb, p, &f1, NULL) | sbx_fs_is_file(x_->sb, p, &f2, NULL);
	r |= sbx_fs_is_dir(x_->sb, p, &f3, NULL);
	CHECK(r == 0 && f1 && f2 && !f3, "exists/is_file/is_dir '%s'", shown);
	r = sbx_fs_list_dir(x_->sb, dir, &v, &n, &err);
	CHECK(r == 0 && has_name(v, n, name), "list_dir shows '%s'", shown);
	sbx_strv_free(v);
	q = path2(dir, "renamed");
	r = sbx_fs_rename_file(x_->sb, p, q, &err);
	CHECK(r == 0, "rename_file '%s' (%s)", shown, r ? err.msg : "");
	r = sbx_fs_move_file(x_->sb, q, p, &err);
	CHECK(r == 0, "move_file back to '%s' (%s)", shown, r ? err.msg : "");
	free(q);
	r = sbx_fs_delete_file(x_->sb, p, &err);
	f1 = true;
	CHECK(r == 0 && sbx_fs_exists(x_->sb, p, &f1, NULL) == 0 && !f1, "delete_file '%s'", shown);
	r = sbx_fs_mkdir(x_->sb, p, false, &err);
	CHECK(r == 0 && sbx_fs_is_dir(x_->sb, p, &f3, NULL) == 0 && f3, "mkdir '%s'", shown);
	r = sbx_fs_delete_dir(x_->sb, p, &err);
	CHECK(r == 0, "delete_dir '%s' (%s)", shown, r ? err.msg : "");
	free(p);
}

static void test_names(struct ctx *x_)
{
	char all[256], *dir = path2(x_->base, "names"), *deep;
	struct sbx_err err = {0};
	int i, o = 0, r;

	r = sbx_fs_mkdir(x_->sb, dir, false, &err);
	CHECK(r == 0, "mkdir %s (%s)", dir, r ? err.msg : "");
	for (size_t k = 0; k < N_NAMES; k++)
		one_name(x_, dir, names[k]);
	for (i = 1; i < 256; i++)
		if (i != '/')
			all[o++] = (char)i;
	all[o] = '\0';
	one_name(x_, dir, all);
	deep = path2(dir, "-a/b c/\nd/'e'/ü");
	r = sbx_fs_mkdir(x_->sb, deep, true, &err);
	CHECK(r == 0, "mkdir -p of a tricky deep path (%s)", r ? err.msg : "");
	r = sbx_fs_rm(x_->sb, dir, true, &err);
	CHECK(r == 0, "rm -rf of the whole tree (%s)", r ? err.msg : "");
	free(deep);
	free(dir);
}

static void test_list_exact(struct ctx *x_)
{
	char *dir = path2(x_->base, "list");
	struct sbx_file_spec f[N_NAMES];
	struct sbx_err err = {0};
	char **v = NULL, *p[N_NAMES];
	size_t n = 0, k;
	bool sorted = true, all = true;
	int r;

	sbx_fs_mkdir(x_->sb, dir, false, NULL);
	for (k = 0; k < N_NAMES; k++) {
		p[k] = path2(dir, names[k]);
		f[k] = (struct sbx_file_spec){p[k], names[k], strlen(names[k])};
	}
	r = sbx_fs_write_files(x_->sb, f, N_NAMES, &err);
	CHECK(r == 0, "write_files of %zu tricky names (%s)", N_NAMES, r ? err.msg : "");
	for (k = 0; k < N_NAMES; k++) {
		char *d = NULL;
		size_t len = 0;

		r = sbx_fs_read_file(x_->sb, p[k], &d, &len, NULL);
		all &= r == 0 && len == strlen(names[k]) && memcmp(d, names[k], len) == 0;
		free(d);
		free(p[k]);
	}
	CHECK(all, "write_files: every file reads back exactly");
	r = sbx_fs_list_dir(x_->sb, dir, &v, &n, &err);
	for (k = 0; r == 0 && k + 1 < n; k++)
		sorted &= strcmp(v[k], v[k + 1]) < 0;
	for (k = 0; r == 0 && k < N_NAMES; k++)
		all &= has_name(v, n, names[k]);
	CHECK(r == 0 && n == N_NAMES && sorted && all,
	      "list_dir: %zu names, exact and sorted bytewise", n);
	sbx_strv_free(v);
	sbx_fs_rm(x_->sb, dir, true, NULL);
	free(dir);
}

static void expect_err(struct ctx *x_, int got, int want, const char *what,
		       const struct sbx_err *err)
{
	CHECK(got == want, "%s: %s (got %d, want %d: %s)", what, sbx_errclass(want), got, want,
	      err->msg);
}

static void test_errors(struct ctx *x_)
{
	char *d = path2(x_->base, "err"), *f = path2(d, "file"), *sub = path2(d, "sub");
	char *sub_f = path2(sub, "x"), *missing = path2(d, "missing"), *under = path2(f, "x");
	char *miss_under = path2(missing, "x"), *data = NULL;
	struct sbx_err e = {0};
	char **v = NULL;
	bool flag;

	sbx_fs_mkdir(x_->sb, sub, true, NULL);
	sbx_fs_write_file(x_->sb, f, "x", 1, NULL);
	sbx_fs_write_file(x_->sb, sub_f, "x", 1, NULL);
	expect_err(x_, sbx_fs_read_file(x_->sb, missing, &data, NULL, &e), -SBX_ENOTFOUND,
		   "read_file of a missing file", &e);
	expect_err(x_, sbx_fs_read_file(x_->sb, d, &data, NULL, &e), -SBX_EISDIR,
		   "read_file of a directory", &e);
	expect_err(x_, sbx_fs_mkdir(x_->sb, sub, false, &e), -SBX_EEXIST,
		   "mkdir of an existing dir", &e);
	expect_err(x_, sbx_fs_mkdir(x_->sb, miss_under, false, &e), -SBX_ENOTFOUND,
		   "mkdir under a missing dir", &e);
	expect_err(x_, sbx_fs_delete_dir(x_->sb, sub, &e), -SBX_ENOTEMPTY,
		   "delete_dir of a non-empty dir", &e);
	expect_err(x_, sbx_fs_delete_dir(x_->sb, f, &e), -SBX_ENOTDIR, "delete_dir of a file", &e);
	expect_err(x_, sbx_fs_delete_file(x_->sb, sub, &e), -SBX_EISDIR,
		   "delete_file of a directory", &e);
	expect_err(x_, sbx_fs_delete_file(x_->sb, missing, &e), -SBX_ENOTFOUND,
		   "delete_file of a missing file", &e);
	expect_err(x_, sbx_fs_rm(x_->sb, sub, false, &e), -SBX_EISDIR, "rm of a directory", &e);
	expect_err(x_, sbx_fs_list_dir(x_->sb, f, &v, NULL, &e), -SBX_ENOTDIR, "list_dir of a file",
		   &e);
	expect_err(x_, sbx_fs_list_dir(x_->sb, missing, &v, NULL, &e), -SBX_ENOTFOUND,
		   "list_dir of a missing dir", &e);
	expect_err(x_, sbx_fs_write_file(x_->sb, under, "y", 1, &e), -SBX_ENOTDIR,
		   "write_file under a file", &e);
	expect_err(x_, sbx_fs_write_file(x_->sb, miss_under, "y", 1, &e), -SBX_ENOTFOUND,
		   "write_file into a missing dir", &e);
	expect_err(x_, sbx_fs_write_file(x_->sb, sub, "y", 1, &e), -SBX_EISDIR,
		   "write_file onto a directory", &e);
	expect_err(x_, sbx_fs_rename_file(x_->sb, sub, f, &e), -SBX_ENOTDIR,
		   "rename_file of a dir onto a file", &e);
	expect_err(x_, sbx_fs_rename_file(x_->sb, f, sub, &e), -SBX_EISDIR,
		   "rename_file of a file onto a dir", &e);
	expect_err(x_, sbx_fs_move_file(x_->sb, missing, f, &e), -SBX_ENOTFOUND,
		   "move_file of a missing file", &e);
	expect_err(x_, sbx_fs_write_file(x_->sb, "", "y", 1, &e), -SBX_EINVAL, "write_file of ''",
		   &e);
	CHECK(sbx_fs_exists(x_->sb, missing, &flag, NULL) == 0 && !flag,
	      "exists of a missing file is false, not an error");
	sbx_fs_move_file(x_->sb, f, sub, NULL);
	CHECK(sbx_fs_is_file(x_->sb, under, &flag, NULL) == 0 && !flag &&
		  sbx_fs_is_file(x_->sb, sub_f, &flag, NULL) == 0 && flag,
	      "move_file into an existing directory (mv semantics)");
	sbx_fs_rm(x_->sb, d, true, NULL);
	free(d), free(f), free(sub), free(sub_f), free(missing), free(under), free(miss_under);
}

/* A random local file of mb MiB; its SHA-256 in sum. */
static char *make_big(struct ctx *x_, size_t mb, unsigned char sum[32], char **ret_data)
{
	size_t len = mb << 20, off = 0;
	char *data = malloc(len), *p = path2(x_->tmp, "big.bin");
	int fd;

	while (off < len) {
		ssize_t r = getrandom(data + off, len - off, 0);
		if (r > 0)
			off += (size_t)r;
	}
	sha256(data, len, sum);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		fprintf(stderr, "# writing %s failed\n", p);
	if (fd >= 0)
		close(fd);
	*ret_data = data;
	return p;
}

/* The sandbox's own sha256sum of a remote file, as 32 bytes. */
static int remote_sha(struct ctx *x_, const char *path, unsigned char out[32])
{
	const char *argv[] = {"sha256sum", path};
	struct sbx_exec_opts o = {.argv = argv, .argc = 2};
	struct sbx_exec_result r;
	int rc = sbx_exec_run(x_->sb, &o, NULL, NULL, &r, NULL);

	x_->execs++; /* exec takes the WebSocket, whatever the primitives take */

	/* GNU sha256sum starts the line with '\\' when the name has a newline */
	const char *hex =
	    r.stdout_data && r.stdout_data[0] == '\\' ? r.stdout_data + 1 : r.stdout_data;

	if (rc == 0 && r.exit_code == 0 && r.stdout_len >= 65) {
		for (int i = 0; i < 32; i++) {
			unsigned int b;

			sscanf(hex + 2 * i, "%2x", &b);
			out[i] = (unsigned char)b;
		}
	} else {
		rc = -EIO;
	}
	sbx_exec_result_release(&r);
	return rc;
}

static int count_entries(const char *dir);

/* A download onto a full local filesystem: the sink fails, the exec is
 * cancelled, the temporary is removed and the target is left alone. */
static void test_download_enospc(struct ctx *x_, const char *remote)
{
	char *dir = path2(x_->tmp, "small"), *target = path2(dir, "t");
	struct sbx_err e = {0};
	struct stat st;
	int r, fd;

	mkdir(dir, 0755);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") < 0) {
		printf("ok - download onto a full filesystem # SKIP cannot mount tmpfs\n");
		free(dir), free(target);
		return;
	}
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	r = sbx_fs_download_file(x_->sb, remote, target, &e);
	CHECK(r == -SBX_ENOSPC && stat(target, &st) == 0 && st.st_size == 0 &&
		  count_entries(dir) == 1,
	      "download onto a full filesystem: ENOSPC, target kept, temporary removed (%s)",
	      e.msg);
	umount2(dir, MNT_DETACH);
	free(dir), free(target);
}

static void test_big(struct ctx *x_, size_t mb)
{
	unsigned char want[32], got[32];
	char *data = NULL, *local = make_big(x_, mb, want, &data), *back = path2(x_->tmp, "back");
	char *remote = path2(x_->base, "big -file\n.bin"), *rd = NULL;
	struct sbx_err e = {0};
	size_t len = 0;
	double t;
	int r;

	t = now();
	r = sbx_fs_upload_file(x_->sb, local, remote, &e);
	t = now() - t;
	CHECK(r == 0, "upload_file %zu MiB (%.2f s, %.1f MiB/s) %s", mb, t, (double)mb / t, e.msg);
	CHECK(remote_sha(x_, remote, got) == 0 && !memcmp(got, want, 32),
	      "upload: the sandbox's sha256sum matches");
	t = now();
	r = sbx_fs_download_file(x_->sb, remote, back, &e);
	t = now() - t;
	CHECK(r == 0 && sha256_file(back, got) == 0 && !memcmp(got, want, 32),
	      "download_file %zu MiB, sha256 equal (%.2f s, %.1f MiB/s)", mb, t, (double)mb / t);
	t = now();
	r = sbx_fs_write_file(x_->sb, remote, data, mb << 20, &e);
	t = now() - t;
	CHECK(r == 0 && remote_sha(x_, remote, got) == 0 && !memcmp(got, want, 32),
	      "write_file %zu MiB, sha256 equal (%.2f s)", mb, t);
	t = now();
	r = sbx_fs_read_file(x_->sb, remote, &rd, &len, &e);
	t = now() - t;
	if (r == 0)
		sha256(rd, len, got);
	CHECK(r == 0 && len == mb << 20 && !memcmp(got, want, 32),
	      "read_file %zu MiB, sha256 equal (%.2f s)", mb, t);
	free(rd);
	t = now();
	r = sbx_fs_upload_file(x_->sb, local, "/no/such/dir/big", &e);
	CHECK(r == -SBX_ENOTFOUND, "upload_file into a missing remote dir: ENOENT at once (%.2f s)",
	      now() - t);
	test_download_enospc(x_, remote);
	sbx_fs_rm(x_->sb, remote, false, NULL);
	free(data), free(local), free(back), free(remote);
}

static int count_entries(const char *dir)
{
	char cmd[160];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	p = popen(cmd, "r");
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void test_download_failure(struct ctx *x_)
{
	char *dir = path2(x_->tmp, "dl"), *target = path2(dir, "target"), *missing;
	struct sbx_err e = {0};
	char buf[16] = "";
	int fd, r;

	mkdir(dir, 0755);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, "keep", 4) != 4)
			fprintf(stderr, "# short write\n");
		close(fd);
	}
	missing = path2(x_->base, "no such file");
	r = sbx_fs_download_file(x_->sb, missing, target, &e);
	fd = open(target, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = '\0';
		close(fd);
	}
	CHECK(r == -SBX_ENOTFOUND && strcmp(buf, "keep") == 0 && count_entries(dir) == 1,
	      "download_file of a missing file: ENOENT, target kept, no temporary left (%s)",
	      e.msg);
	r = sbx_fs_upload_file(x_->sb, missing, "/tmp/x", &e);
	CHECK(r == -ENOENT, "upload_file of a missing local file: ENOENT (%s)", e.msg);
	free(dir), free(target), free(missing);
}

/* ---- asynchronous forms ---- */

struct async_state {
	atomic_int calls, good;
	pthread_t main;
	atomic_int on_main;
};

struct async_one {
	struct async_state *st;
	int kind; /* 0 flag true, 1 flag false, 2 data "abc", 3 names == 2, 4 rc 0, 5 ENOENT */
};

/* Names of a listing but the temporaries of stores running meanwhile
 * (".sbx~*", beside the file they replace: see src/lib/fs/store.h). */
static size_t real_names(const struct sbx_fs_result *res)
{
	size_t i, n = 0;

	for (i = 0; i < res->n_names; i++)
		n += strncmp(res->names[i], ".sbx~", 5) != 0;
	return n;
}

static void async_cb(void *ud, struct sbx_fs_result *res)
{
	struct async_one *o = ud;
	bool ok = false;

	switch (o->kind) {
	case 0: ok = res->rc == 0 && res->flag; break;
	case 1: ok = res->rc == 0 && !res->flag; break;
	case 2: ok = res->rc == 0 && res->len == 3 && !memcmp(res->data, "abc", 3); break;
	case 3: ok = res->rc == 0 && real_names(res) == 2; break;
	case 4: ok = res->rc == 0; break;
	case 5: ok = res->rc == -SBX_ENOTFOUND; break;
	}
	if (o->kind == 2 && res->data) {
		free(res->data); /* take it */
		res->data = NULL;
	}
	if (pthread_equal(pthread_self(), o->st->main))
		atomic_fetch_add(&o->st->on_main, 1);
	atomic_fetch_add(&o->st->good, ok);
	atomic_fetch_add(&o->st->calls, 1);
}

/* A synchronous call from a callback must fail, not deadlock. */
struct nested {
	struct sbx_sandbox *sb;
	atomic_int rc, done;
};

static void nested_cb(void *ud, struct sbx_fs_result *res)
{
	struct nested *n = ud;
	bool flag;

	(void)res;
	atomic_store(&n->rc, sbx_fs_exists(n->sb, "/", &flag, NULL));
	atomic_store(&n->done, 1);
}

static void test_nested(struct ctx *x_)
{
	struct nested n = {.sb = x_->sb};
	int i;

	if (sbx_fs_exists_async(x_->sb, "/", nested_cb, &n) == 0)
		for (i = 0; i < 1000 && !atomic_load(&n.done); i++)
			usleep(10000);
	CHECK(atomic_load(&n.done) && atomic_load(&n.rc) == -EDEADLK,
	      "a synchronous call from a callback fails with EDEADLK (%d)", atomic_load(&n.rc));
}

static void test_async(struct ctx *x_)
{
	enum { N = 40 };
	struct async_state st = {.main = pthread_self()};
	struct async_one ones[N];
	char *d = path2(x_->base, "async"), *f = path2(d, "f"), *g = path2(d, "g");
	char *miss = path2(d, "missing");
	struct sbx_file_spec fs[2] = {{f, "abc", 3}, {g, "", 0}};
	int started = 0, r = 0, i;
	double t;

	sbx_fs_mkdir(x_->sb, d, false, NULL);
	sbx_fs_write_files(x_->sb, fs, 2, NULL);
	t = now();
	for (i = 0; i < N; i++) {
		ones[i] = (struct async_one){&st, i % 6};
		switch (i % 6) {
		case 0: r = sbx_fs_exists_async(x_->sb, f, async_cb, &ones[i]); break;
		case 1: r = sbx_fs_is_dir_async(x_->sb, f, async_cb, &ones[i]); break;
		case 2: r = sbx_fs_read_file_async(x_->sb, f, async_cb, &ones[i]); break;
		case 3: r = sbx_fs_list_dir_async(x_->sb, d, async_cb, &ones[i]); break;
		case 4: r = sbx_fs_write_file_async(x_->sb, g, "", 0, async_cb, &ones[i]); break;
		case 5: r = sbx_fs_read_file_async(x_->sb, miss, async_cb, &ones[i]); break;
		}
		started += r == 0;
	}
	for (i = 0; i < 3000 && atomic_load(&st.calls) < started; i++)
		usleep(10000);
	usleep(200000); /* a second call would show up now */
	t = now() - t;
	CHECK(started == N && atomic_load(&st.calls) == N && atomic_load(&st.good) == N &&
		  atomic_load(&st.on_main) == 0,
	      "%d concurrent async calls: each callback once, on the transport thread, right "
	      "results (%d calls, %d good, %.2f s)",
	      N, atomic_load(&st.calls), atomic_load(&st.good), t);
	CHECK(sbx_fs_mkdir_async(x_->sb, "", false, async_cb, &ones[0]) == -SBX_EINVAL,
	      "an async call that cannot start fails at once, without a callback");
	sbx_fs_rm(x_->sb, d, true, NULL);
	free(d), free(f), free(g), free(miss);
}

/* Lines of sbxd's debug log that hold @p needle (-1: no log). */
static int log_count(struct ctx *x, const char *needle)
{
	char path[160], line[1024];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sbxd.log", x->tmp);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* Requests sbxd's executor served. */
static int executor_requests(struct ctx *x)
{
	return log_count(x, "executor POST /sandbox-executor/");
}

/* Exec WebSocket sessions sbxd accepted: each upgrade is logged as
 * "GET /v1/streams/instances/exec?id=... -> 101" (src/host/api.c). */
static int exec_sessions(struct ctx *x)
{
	return log_count(x, "GET /v1/streams/instances/exec?");
}

/* Called after the round's first primitive: with the agent transport,
 * that call started the agent (its exec session, and the upload's). */
static void note_first_call(struct ctx *x_, double secs)
{
	const char *t = getenv("SBX_EXEC_TRANSPORT");

	x_->sessions0 = exec_sessions(x_);
	if (!x_->sbxd || !t || strcmp(t, "agent"))
		return;
	CHECK(!*sbx_sandbox_transport_note(x_->sb),
	      "the agent runs in the sandbox (first call %.0f ms, %d exec sessions to start it)%s",
	      secs * 1000, x_->sessions0, sbx_sandbox_transport_note(x_->sb));
}

/* The round's transport (SBX_EXEC_TRANSPORT) served the calls: with
 * "executor" or "auto" (sbxd serves an executor, so auto must find it), the
 * executor served hundreds of requests (a fallback to the WebSocket would
 * leave it idle); with "websocket", none; with "agent", none either, and
 * every primitive since the first went over the agent's ONE exec session:
 * the only sessions sbxd opened since are the test's own execs (a primitive
 * that fell back, or a second agent session, would add one). */
static void check_transport(struct ctx *x_)
{
	const char *t = getenv("SBX_EXEC_TRANSPORT");
	int n = executor_requests(x_), more = exec_sessions(x_) - x_->sessions0;

	if (!x_->sbxd || !t)
		return;
	if (!strcmp(t, "executor") || !strcmp(t, "auto"))
		CHECK(n >= 200, "the executor served the primitives (%d requests)", n);
	else if (!strcmp(t, "websocket"))
		CHECK(n == 0, "the executor served nothing over the websocket (%d requests)", n);
	else if (!strcmp(t, "agent"))
		CHECK(n == 0 && more == x_->execs && !*sbx_sandbox_transport_note(x_->sb),
		      "the primitives went over the agent's one exec session (%d sessions since "
		      "it started, %d of them the test's execs; %d executor requests)",
		      more, x_->execs, n);
}

/* The stdout of `sh -c cmd` in the sandbox (caller frees), or NULL. */
static char *remote_sh(struct ctx *x_, const char *cmd)
{
	struct sbx_exec_opts o = {.command = cmd};
	struct sbx_exec_result r;
	char *out = NULL;
	int rc = sbx_exec_run(x_->sb, &o, NULL, NULL, &r, NULL);

	x_->execs++; /* exec takes the WebSocket, whatever the primitives take */
	if (rc == 0 && r.exit_code == 0)
		out = strdup(r.stdout_data ? r.stdout_data : "");
	if (out && *out && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	sbx_exec_result_release(&r);
	return out;
}

/* What the scripts do and a request of the agent would not do by itself
 * (fs_native.c leaves those cases to the script, or matches them): tests
 * and reads follow symlinks, a write goes through a symlink into its
 * target and keeps an old file's mode, a new file or directory gets the
 * mode of the sandbox's umask, delete_file removes a symlink to a
 * directory. In every round, so the transports agree. */
static void test_symlinks_modes(struct ctx *x_)
{
	char *d = path2(x_->base, "lnk"), *l = path2(d, "l"), *dl = path2(d, "dl");
	char *ld = path2(d, "ld"), *nf = path2(d, "new"), *old = path2(d, "old");
	char *nd = path2(d, "newd"), cmd[512], *out, *data = NULL, **v = NULL;
	bool e1 = false, f1 = false, d1 = true, e2 = true, d3 = false, f3 = true;
	size_t len = 0, n = 0;
	int r;

	snprintf(
	    cmd, sizeof(cmd),
	    "mkdir '%s' && cd '%s' && : >ref && mkdir refd && printf abc >t && ln -s t l && "
	    "ln -s missing dl && mkdir dd && : >dd/a && ln -s dd ld && : >old && chmod 640 old",
	    d, d);
	out = remote_sh(x_, cmd);
	CHECK(out != NULL, "symlinks and modes: set up %s", d);
	free(out);
	r = sbx_fs_exists(x_->sb, l, &e1, NULL) | sbx_fs_is_file(x_->sb, l, &f1, NULL) |
	    sbx_fs_is_dir(x_->sb, l, &d1, NULL) | sbx_fs_exists(x_->sb, dl, &e2, NULL) |
	    sbx_fs_is_dir(x_->sb, ld, &d3, NULL) | sbx_fs_is_file(x_->sb, ld, &f3, NULL);
	CHECK(r == 0 && e1 && f1 && !d1 && !e2 && d3 && !f3,
	      "tests follow symlinks (%d: %d %d %d, dangling %d, to a dir %d %d)", r, e1, f1, d1,
	      e2, d3, f3);
	r = sbx_fs_read_file(x_->sb, l, &data, &len, NULL);
	CHECK(r == 0 && len == 3 && !memcmp(data, "abc", 3), "read_file through a symlink (%d)", r);
	free(data);
	/* a file whose size says 0: read to its end, as cat does */
	out = remote_sh(x_, "cat /proc/version");
	r = sbx_fs_read_file(x_->sb, "/proc/version", &data, &len, NULL);
	CHECK(r == 0 && out && len == strlen(out) + 1 && !memcmp(data, out, len - 1),
	      "read_file of /proc/version (%d, %zu bytes)", r, len);
	free(data);
	free(out);
	r = sbx_fs_list_dir(x_->sb, ld, &v, &n, NULL);
	CHECK(r == 0 && n == 1 && !strcmp(v[0], "a"), "list_dir through a symlink (%d, %zu)", r, n);
	sbx_strv_free(v);
	r = sbx_fs_write_file(x_->sb, nf, "n", 1, NULL) |
	    sbx_fs_write_file(x_->sb, old, "o", 1, NULL) |
	    sbx_fs_write_file(x_->sb, l, "xyz", 3, NULL) | sbx_fs_mkdir(x_->sb, nd, false, NULL) |
	    sbx_fs_delete_file(x_->sb, ld, NULL);
	CHECK(r == 0,
	      "write_file (new, old, through a symlink), mkdir, delete_file of a symlink "
	      "to a directory (%d)",
	      r);
	snprintf(
	    cmd, sizeof(cmd),
	    "cd '%s' && stat -c %%a ref new refd newd old | tr '\\n' ' ' && [ -L l ] && cat t && "
	    "[ ! -e ld ] && [ ! -L ld ] && [ -d dd ] && echo .",
	    d);
	out = remote_sh(x_, cmd);
	{
		char a[8] = "", b[8] = "", c[8] = "", e[8] = "", f[8] = "", t[8] = "";

		if (out)
			sscanf(out, "%7s %7s %7s %7s %7s %7s", a, b, c, e, f, t);
		CHECK(out && *a && !strcmp(a, b) && *c && !strcmp(c, e) && !strcmp(f, "640") &&
			  !strcmp(t, "xyz."),
		      "a new file and directory get the umask's modes, an old file keeps its "
		      "mode, a symlink stays one and its target is written (%s)",
		      out ? out : "exec failed");
	}
	free(out);
	sbx_fs_rm(x_->sb, d, true, NULL);
	free(d), free(l), free(dl), free(ld), free(nf), free(old), free(nd);
}

/* With the agent transport the common primitives are requests of the
 * agent (src/lib/fs/fs_native.c), not jobs: its context counts them. A
 * round where they all fell back to jobs has none. */
static void check_native(struct ctx *x_)
{
	static const enum sbx_rfs_op ops[] = {
	    SBX_RFS_OP_STAT,  SBX_RFS_OP_FETCH,	 SBX_RFS_OP_READDIR, SBX_RFS_OP_STORE,
	    SBX_RFS_OP_MKDIR, SBX_RFS_OP_UNLINK, SBX_RFS_OP_RMDIR};
	const char *t = getenv("SBX_EXEC_TRANSPORT");
	struct sbx_agent_slot *slot = sbx_sandbox_agent_slot(x_->sb);
	struct sbx_rfs_opstats st[SBX_RFS_OP__N];
	char got[256] = "";
	size_t i, k = 0;
	bool all = true;

	if (!t || strcmp(t, "agent"))
		return;
	memset(st, 0, sizeof(st));
	pthread_mutex_lock(&slot->mu);
	if (slot->state == SBX_AGENT_UP)
		sbx_rfs_stats(slot->rfs, st);
	pthread_mutex_unlock(&slot->mu);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		/* the agent's upload, the first time in a sandbox, is a store too */
		all = all && st[ops[i]].requests > (ops[i] == SBX_RFS_OP_STORE ? 1u : 0u);
		k += (size_t)snprintf(got + k, sizeof(got) - k, " %s %llu", sbx_rfs_op_name(ops[i]),
				      (unsigned long long)st[ops[i]].requests);
	}
	CHECK(all, "the common primitives were requests of the agent, not jobs:%s", got);
}

/* A first call on a fresh handle made from a callback (the client's
 * WebSocket thread, which carries the agent's session): the agent cannot
 * be started there, the call's own thread does it (or falls back). */
struct chain {
	struct sbx_sandbox *fresh;
	const char *path, *want;
	atomic_int start_rc, rc, good, calls, done;
};

static void chain_inner(void *ud, struct sbx_fs_result *res)
{
	struct chain *c = ud;

	atomic_store(&c->rc, res->rc);
	atomic_store(&c->good, res->rc == 0 && res->len == strlen(c->want) &&
				   !memcmp(res->data, c->want, res->len));
	atomic_fetch_add(&c->calls, 1);
	atomic_store(&c->done, 1);
}

static void chain_outer(void *ud, struct sbx_fs_result *res)
{
	struct chain *c = ud;
	int r = sbx_fs_read_file_async(c->fresh, c->path, chain_inner, c);

	(void)res;
	atomic_store(&c->start_rc, r);
	if (r)
		atomic_store(&c->done, 1);
}

/* Runs the chain: an async call on @p sb whose callback makes the first
 * call of the fresh handle @p fresh (read_file of @p path, which holds
 * @p want). 0 when that call came back right, once. */
static int from_callback(struct sbx_sandbox *sb, struct sbx_sandbox *fresh, const char *path,
			 const char *want)
{
	struct chain c = {.fresh = fresh, .path = path, .want = want, .rc = 1};
	int i;

	if (sbx_fs_exists_async(sb, "/", chain_outer, &c) < 0)
		return -1;
	for (i = 0; i < 6000 && !atomic_load(&c.done); i++)
		usleep(10000);
	usleep(100000); /* a second callback would show up now */
	if (!atomic_load(&c.done) || atomic_load(&c.start_rc))
		return -2;
	return atomic_load(&c.good) && atomic_load(&c.calls) == 1 ? 0 : atomic_load(&c.rc);
}

static void test_agent_from_callback(struct ctx *x_)
{
	const char *t = getenv("SBX_EXEC_TRANSPORT");
	struct sbx_sandbox *fresh = NULL;
	char p[64];
	int r;

	if (!t || strcmp(t, "agent"))
		return;
	snprintf(p, sizeof(p), "/tmp/fs-e2e-chained-%d", (int)getpid());
	r = sbx_fs_write_file(x_->sb, p, "chained", 7, NULL)
		?: sbx_sandbox_open(x_->c, sbx_sandbox_id(x_->sb), &fresh, NULL);
	if (r == 0)
		r = from_callback(x_->sb, fresh, p, "chained");
	CHECK(r == 0 && fresh && !*sbx_sandbox_transport_note(fresh),
	      "a fresh handle's first call from a callback starts the agent on its own thread "
	      "(%d %s)",
	      r, fresh ? sbx_sandbox_transport_note(fresh) : "");
	sbx_sandbox_free(fresh);
	sbx_fs_delete_file(x_->sb, p, NULL);
}

/* Where the agent cannot run (a sandbox whose sha256sum lies cannot verify
 * it: tests/e2e/t_agent.sh does the same to sbxfs), the agent transport
 * falls back to the WebSocket, as sbxfs falls back to its shell transport,
 * and the handle says why. Reads only: the store checks its data with the
 * same sha256sum. */
static void test_agent_fallback(struct ctx *x_)
{
	static const char plant[] =
	    "mkdir -p /usr/local/bin && printf '#!/bin/sh\\necho 0000  -\\n' "
	    ">/usr/local/bin/sha256sum && chmod 755 /usr/local/bin/sha256sum && printf ok >/tmp/f";
	struct sbx_create_opts so = {.name = "fs-e2e-noagent", .wait_ready = true};
	struct sbx_exec_opts o = {.command = plant};
	struct sbx_exec_result res = {0};
	struct sbx_sandbox *sb = NULL;
	const char *t = getenv("SBX_EXEC_TRANSPORT");
	struct sbx_err e = {0};
	char *data = NULL;
	size_t len = 0;
	bool flag = false;
	int r, before;

	if (!x_->sbxd || !t || strcmp(t, "agent"))
		return;
	so.timeout_s = 120;
	r = sbx_sandbox_create(x_->c, &so, &sb, &e);
	if (r == 0)
		r = sbx_exec_run(sb, &o, NULL, NULL, &res, &e) ?: res.exit_code;
	sbx_exec_result_release(&res);
	CHECK(r == 0, "a second sandbox, whose sha256sum lies (%d %s)", r, e.msg);
	if (r == 0) {
		before = exec_sessions(x_);
		r = sbx_fs_read_file(sb, "/tmp/f", &data, &len, &e)
			?: sbx_fs_exists(sb, "/tmp/f", &flag, &e);
		CHECK(r == 0 && len == 2 && !memcmp(data, "ok", 2) && flag,
		      "there the primitives fall back to the websocket (%d %s)", r, e.msg);
		CHECK(strstr(sbx_sandbox_transport_note(sb), "agent unavailable") &&
			  exec_sessions(x_) - before >= 2,
		      "and the handle says why: %s", sbx_sandbox_transport_note(sb));
		free(data);
		sbx_sandbox_free(sb);
		sb = NULL;
		r = sbx_sandbox_open(x_->c, "fs-e2e-noagent", &sb, &e);
		if (r == 0)
			r = from_callback(x_->sb, sb, "/tmp/f", "ok");
		CHECK(r == 0 && strstr(sbx_sandbox_transport_note(sb), "agent unavailable"),
		      "a first call from a callback falls back on its own thread (%d %s)", r,
		      sbx_sandbox_transport_note(sb));
	}
	if (sb)
		sbx_sandbox_delete(sb, NULL);
	sbx_sandbox_free(sb);
}

static void test_gone(struct ctx *x_)
{
	struct sbx_err e = {0};
	bool flag = true;
	int r;

	r = sbx_sandbox_delete(x_->sb, &e);
	CHECK(r == 0, "delete the sandbox (%s)", e.msg);
	r = sbx_fs_exists(x_->sb, "/", &flag, &e);
	CHECK(r < 0 && r != -SBX_ENOTFOUND, "exists on a deleted sandbox is an error: %s (%d: %s)",
	      sbx_errclass(r), r, e.msg);
	r = sbx_fs_read_file(x_->sb, "/etc/hostname", &(char *){NULL}, NULL, &e);
	CHECK(r == -SBX_ENOTHEALTHY, "read_file on a deleted sandbox: not healthy (%d: %s)", r,
	      e.msg);
}

int main(int argc, char **argv)
{
	struct ctx x = {.sbxd = 0};
	struct ctx *x_ = &x;
	size_t mb = argc > 2 ? strtoul(argv[2], NULL, 10) : 30;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SBXD [SIZE_MB]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(x.tmp, sizeof(x.tmp), "/tmp/sbx-fs-e2e.XXXXXX");
	if (!mkdtemp(x.tmp))
		return 1;
	r = strcmp(argv[1], "-") ? start_sbxd(&x, argv[1]) : 0;
	if (x.sbxd)
		CHECK(r == 0, "sbxd starts (%d)", r);
	if (r == 0) {
		r = open_sandbox(&x);
		CHECK(r == 0, "sandbox created and HEALTHY (%d)", r);
	}
	if (r == 0) {
		double t0 = now();

		snprintf(x.base, sizeof(x.base), "/tmp/fs-e2e-%d", (int)getpid());
		r = sbx_fs_mkdir(x.sb, x.base, true, NULL);
		CHECK(r == 0, "mkdir -p %s", x.base);
		note_first_call(&x, now() - t0);
		test_names(&x);
		test_list_exact(&x);
		test_errors(&x);
		test_big(&x, mb ? mb : 30);
		test_download_failure(&x);
		test_async(&x);
		test_nested(&x);
		test_symlinks_modes(&x);
		r = sbx_fs_rm(x.sb, x.base, true, NULL);
		CHECK(r == 0, "rm -rf %s", x.base);
		check_transport(&x);
		check_native(&x);
		test_agent_from_callback(&x);
		test_agent_fallback(&x);
		test_gone(&x);
	}
	teardown(&x);
	printf("%d passed, %d failed\n", x.pass, x.fail);
	return x.fail ? 1 : 0;
}
