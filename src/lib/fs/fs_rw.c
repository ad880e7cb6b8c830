/* fs_rw.c - file content: write_file, read_file, write_files, upload_file,
 * download_file.
 *
 * Content never travels in argv: writes stream it as stdin frames into
 * the guarded store of store.h (`cat`, or head -c / dd per file for
 * write_files, into a temporary renamed over P only when its length and
 * SHA-256 match those computed here first), reads collect the
 * stdout of `cat -- P` as bytes. upload_file feeds a local file in chunks
 * and keeps at most SBX_FS_UPLOAD_HIGH bytes queued in the exec
 * (sbx_exec_stdin_pending); download_file appends chunks to a temporary
 * file beside the target as they arrive and renames it over the target only
 * when the command succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs_op.h"
#include "script.h"
#include "store.h"
#include "util/rand.h"

/** Upload chunk read from the local file. */
#define SBX_FS_UPLOAD_CHUNK ((size_t)64 << 10)
/** Upload pauses while more than this is queued for stdin. */
#define SBX_FS_UPLOAD_HIGH ((size_t)2 << 20)
/** Poll period of the upload pause (the exec has no drain callback). */
#define SBX_FS_UPLOAD_POLL_MS 2

/* The script of a guarded store of the content of iov (store.h). */
static int script_write_iov(struct fs_spec *s, const char *path, const struct iovec *iov, size_t n)
{
	struct sbx_fs_store_check c = {0};
	int r = sbx_fs_store_suffix(&c);

	if (!r)
		r = sbx_fs_store_digest_iov(&c, iov, n);
	return r ? r : sbx_fs_script_write(&s->script, path, &c);
}

static int write_file_start(struct sbx_sandbox *sb, const char *path, const void *data, size_t len,
			    sbx_fs_cb cb, void *ud, struct sbx_err *err)
{
	struct iovec iov = {(void *)data, len};
	struct fs_spec s;
	int r;

	fs_spec_init(&s, "write_file", path, NULL);
	r = (!data && len) ? -SBX_EINVAL : script_write_iov(&s, path, &iov, 1);
	s.native = FS_NATIVE_WRITE;
	s.native_path = path;
	s.native_len = len;
	s.iov = &iov;
	s.iovcnt = 1;
	return fs_start(sb, &s, r, cb, ud, NULL, err);
}

int sbx_fs_write_file_async(struct sbx_sandbox *sb, const char *path, const void *data, size_t len,
			    sbx_fs_cb cb, void *ud)
{
	return write_file_start(sb, path, data, len, cb, ud, NULL);
}

/* Where the stdin of a synchronous write comes from: a file, or memory
 * (the caller's buffers, borrowed: nothing is copied beyond the exec's
 * bounded queue). */
struct feed_src {
	int fd;			 /* >= 0: read from it */
	const struct iovec *iov; /* else iov[i] from off */
	size_t iovcnt, i, off;
};

/* The next chunk (at most cap bytes) in *ret: a pointer into the source or
 * into buf. Returns its length, 0 at the end, or a negative errno. */
static ssize_t src_next(struct feed_src *src, char *buf, size_t cap, const char **ret)
{
	size_t left;
	ssize_t n;

	if (src->fd < 0) {
		while (src->i < src->iovcnt && src->off == src->iov[src->i].iov_len) {
			src->i++;
			src->off = 0;
		}
		if (src->i == src->iovcnt)
			return 0;
		left = src->iov[src->i].iov_len - src->off;
		n = (ssize_t)(left < cap ? left : cap);
		*ret = (const char *)src->iov[src->i].iov_base + src->off;
		src->off += (size_t)n;
		return n;
	}
	do
		n = read(src->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	*ret = buf;
	return n < 0 ? -errno : n;
}

/* Feeds the source into the exec's stdin until its end (then closes
 * stdin), the end of the run, or a local error (returned; the caller
 * cancels). Never more than SBX_FS_UPLOAD_HIGH bytes wait in the queue. */
static int feed(struct fs_wait *w, struct sbx_exec *e, struct feed_src *src)
{
	char *buf = src->fd >= 0 ? malloc(SBX_FS_UPLOAD_CHUNK) : NULL;
	const char *chunk;
	ssize_t n;
	int r = (src->fd >= 0 && !buf) ? -ENOMEM : 0;

	while (!r && !fs_wait_timed(w, 0)) {
		n = src_next(src, buf, SBX_FS_UPLOAD_CHUNK, &chunk);
		if (n <= 0) {
			r = (int)n;
			if (n == 0)
				sbx_exec_close_stdin(e);
			break;
		}
		while (sbx_exec_stdin_pending(e) > SBX_FS_UPLOAD_HIGH &&
		       !fs_wait_timed(w, SBX_FS_UPLOAD_POLL_MS))
			;
		r = sbx_exec_write_stdin(e, chunk, (size_t)n);
		if (r == -EPIPE)
			r = 0; /* the command is gone; its result says why */
		if (r < 0 || fs_wait_timed(w, 0))
			break;
	}
	free(buf);
	return r;
}

static ssize_t src_pull(void *ud, char *buf, size_t cap, const char **ret)
{
	return src_next(ud, buf, cap, ret);
}

/* Runs the script of s (builder result build_rc) fed from src, and waits:
 * the synchronous write_file, write_files and upload_file. A transport that
 * hands out no exec pulls src itself (fs_op.h) while we wait. */
static int send_stream(struct sbx_sandbox *sb, struct fs_spec *s, int build_rc,
		       struct feed_src *src, struct sbx_err *err)
{
	struct sbx_exec *e = NULL;
	struct fs_wait w;
	int rc, lrc = 0;

	fs_wait_init(&w);
	s->stdin_open = true;
	s->src = (struct fs_src){src_pull, src};
	rc = fs_start(sb, s, build_rc, fs_wait_cb, &w, &e, err);
	if (rc == 0 && e) {
		lrc = feed(&w, e, src);
		if (lrc < 0)
			sbx_exec_cancel(e);
		sbx_exec_unref(e);
	}
	rc = fs_wait_finish(&w, sb, rc, err);
	if (lrc < 0)
		rc = sbx_err_set(err, lrc, 0, "%s: sending the %s: %s", s->what,
				 src->fd >= 0 ? "local file" : "data", strerror(-lrc));
	fs_wait_release(&w);
	return rc;
}

int sbx_fs_write_file(struct sbx_sandbox *sb, const char *path, const void *data, size_t len,
		      struct sbx_err *err)
{
	struct iovec iov = {(void *)data, len};
	struct feed_src src = {-1, &iov, 1, 0, 0};
	struct fs_spec s;
	int r;

	fs_spec_init(&s, "write_file", path, NULL);
	r = (!data && len) ? -SBX_EINVAL : script_write_iov(&s, path, &iov, 1);
	s.native = FS_NATIVE_WRITE;
	s.native_path = path;
	s.native_len = len;
	return send_stream(sb, &s, r, &src, err);
}

static int read_file_start(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud,
			   struct sbx_err *err)
{
	struct fs_spec s;

	fs_spec_init(&s, "read_file", path, NULL);
	s.fast = FS_FAST_READ;
	s.fast_path = path;
	s.parse = FS_PARSE_DATA;
	s.out_max = SBX_FS_READ_MAX;
	s.native = FS_NATIVE_READ;
	s.native_path = path;
	return fs_start(sb, &s, sbx_fs_script_read(&s.script, path), cb, ud, NULL, err);
}

int sbx_fs_read_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud)
{
	return read_file_start(sb, path, cb, ud, NULL);
}

int sbx_fs_read_file(struct sbx_sandbox *sb, const char *path, char **ret_data, size_t *ret_len,
		     struct sbx_err *err)
{
	struct fs_wait w;
	int rc;

	fs_wait_init(&w);
	rc = read_file_start(sb, path, fs_wait_cb, &w, err);
	rc = fs_wait_finish(&w, sb, rc, err);
	if (rc == 0) {
		*ret_data = w.res.data;
		if (ret_len)
			*ret_len = w.res.len;
		w.res.data = NULL;
	}
	fs_wait_release(&w);
	return rc;
}

/* The stdin of write_files: the heads (in one buffer) interleaved with the
 * caller's contents (borrowed). */
struct files_in {
	struct sbx_buf heads;
	struct iovec *iov; /* head and content of each file */
	size_t iovcnt;
};

static void files_in_release(struct files_in *in)
{
	sbx_buf_release(&in->heads);
	free(in->iov);
}

/* The script of write_files and its stdin. */
static int write_files_prep(struct fs_spec *s, const struct sbx_file_spec *files, size_t n,
			    struct files_in *in)
{
	struct sbx_fs_store_check c = {0};
	size_t i, start, *ends = NULL;
	int r;

	memset(in, 0, sizeof(*in));
	sbx_buf_init(&in->heads);
	fs_spec_init(s, "write_files", n && files ? files[0].path : NULL, NULL);
	if (n && !files)
		return -SBX_EINVAL;
	if (n > SIZE_MAX / 4)
		return -ENOMEM;
	in->iov = calloc(2 * n + 1, sizeof(*in->iov));
	ends = calloc(n + 1, sizeof(*ends));
	r = (in->iov && ends) ? sbx_fs_store_suffix(&c) : -ENOMEM;
	if (!r)
		r = sbx_fs_script_write_files(&s->script, c.suffix);
	for (i = 0; !r && i < n; i++) {
		struct iovec one = {(void *)files[i].data, files[i].len};

		r = (!files[i].data && files[i].len) ? -SBX_EINVAL
						     : sbx_fs_store_digest_iov(&c, &one, 1);
		if (!r)
			r = sbx_fs_write_files_head(&in->heads, &files[i], c.sha256);
		ends[i] = in->heads.len;
	}
	for (i = 0, start = 0; !r && i < n; start = ends[i++]) {
		in->iov[2 * i] = (struct iovec){in->heads.data + start, ends[i] - start};
		in->iov[2 * i + 1] = (struct iovec){(void *)files[i].data, files[i].len};
	}
	in->iovcnt = r ? 0 : 2 * n;
	free(ends);
	return r;
}

int sbx_fs_write_files_async(struct sbx_sandbox *sb, const struct sbx_file_spec *files, size_t n,
			     sbx_fs_cb cb, void *ud)
{
	struct files_in in;
	struct fs_spec s;
	int r = write_files_prep(&s, files, n, &in);

	s.iov = in.iov;
	s.iovcnt = in.iovcnt;
	s.stdin_open = false;
	r = fs_start(sb, &s, r, cb, ud, NULL, NULL);
	files_in_release(&in);
	return r;
}

int sbx_fs_write_files(struct sbx_sandbox *sb, const struct sbx_file_spec *files, size_t n,
		       struct sbx_err *err)
{
	struct files_in in;
	struct fs_spec s;
	int r = write_files_prep(&s, files, n, &in);
	struct feed_src src = {-1, in.iov, in.iovcnt, 0, 0};

	r = send_stream(sb, &s, r, &src, err);
	files_in_release(&in);
	return r;
}

/* Opens the local file of an upload and takes its length and digest
 * into *c: only a regular file can be promised (a directory is EISDIR,
 * anything else EINVAL). */
static int open_local(const char *local_path, const char *what, struct sbx_fs_store_check *c,
		      struct sbx_err *err)
{
	struct stat st;
	int r, e = 0, fd = open(local_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sbx_err_set(err, -errno, 0, "%s: opening the local file: %s", what,
				   strerror(errno));
	if (fstat(fd, &st) < 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL; /* a pipe or a device: no length to promise */
	else if ((r = sbx_fs_store_suffix(c)) < 0 ||
		 (r = sbx_fs_store_digest_fd(c, fd, (uint64_t)st.st_size)) < 0)
		e = -r;
	if (e) {
		close(fd);
		return sbx_err_set(err, -e, 0, "%s: local file: %s", what, strerror(e));
	}
	return fd;
}

int sbx_fs_upload_file(struct sbx_sandbox *sb, const char *local_path, const char *remote_path,
		       struct sbx_err *err)
{
	struct feed_src src = {-1, NULL, 0, 0, 0};
	struct sbx_fs_store_check c = {0};
	struct fs_spec s;
	int rc;

	fs_spec_init(&s, "upload_file", local_path, remote_path);
	if (!local_path) {
		fs_spec_release(&s);
		return sbx_err_set(err, -SBX_EINVAL, 0, "%s: no local path", s.what);
	}
	src.fd = open_local(local_path, s.what, &c, err);
	if (src.fd < 0) {
		fs_spec_release(&s);
		return src.fd;
	}
	rc = send_stream(sb, &s, sbx_fs_script_write(&s.script, remote_path, &c), &src, err);
	close(src.fd);
	return rc;
}

/* Download sink: appends to the temporary file (transport thread). */
struct dl_sink {
	int fd;
	int error; /* the errno of a failed write, for the message */
};

static int dl_write(void *ud, const char *data, size_t n)
{
	struct dl_sink *d = ud;

	while (n) {
		ssize_t w = write(d->fd, data, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			d->error = errno;
			return -errno;
		}
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Creates "DIR/.BASE.sbx-RANDOM" beside local_path (mode from the umask,
 * or the target's mode when it is a regular file). Returns the fd and the
 * name in *ret_tmp (caller frees), or a negative errno. */
static int make_temp(const char *local_path, char **ret_tmp)
{
	const char *slash = strrchr(local_path, '/');
	const char *base = slash ? slash + 1 : local_path;
	int dlen = slash ? (int)(slash - local_path + 1) : 0;
	size_t cap = strlen(local_path) + 64;
	char *tmp = malloc(cap), hex[17];
	struct stat st;
	int i, fd = -EEXIST;

	if (!tmp)
		return -ENOMEM;
	for (i = 0; i < 16 && fd == -EEXIST; i++) {
		if (sbx_rand_hex(hex, 8) < 0) {
			fd = -EIO;
			break;
		}
		snprintf(tmp, cap, "%.*s.%.200s.sbx-%s", dlen, local_path, base, hex);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0) {
		free(tmp);
		return fd;
	}
	if (stat(local_path, &st) == 0 && S_ISREG(st.st_mode))
		(void)fchmod(fd, st.st_mode & 07777);
	*ret_tmp = tmp;
	return fd;
}

/* Flushes and closes the temporary file, then renames it over the target. */
static int commit_temp(int fd, const char *tmp, const char *local_path)
{
	int r = 0;

	if (fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, local_path) < 0)
		r = -errno;
	return r;
}

static int download_run(struct sbx_sandbox *sb, struct fs_spec *s, struct dl_sink *sink,
			const char *remote_path, struct sbx_err *err)
{
	struct fs_wait w;
	int rc;

	fs_wait_init(&w);
	s->sink = dl_write;
	s->sink_ud = sink;
	s->fast = FS_FAST_READ;
	s->fast_path = remote_path;
	rc =
	    fs_start(sb, s, sbx_fs_script_read(&s->script, remote_path), fs_wait_cb, &w, NULL, err);
	rc = fs_wait_finish(&w, sb, rc, err);
	fs_wait_release(&w);
	return rc;
}

int sbx_fs_download_file(struct sbx_sandbox *sb, const char *remote_path, const char *local_path,
			 struct sbx_err *err)
{
	struct dl_sink sink = {-1, 0};
	char what[SBX_FS_WHAT_MAX], *tmp = NULL;
	struct fs_spec s;
	struct stat st;
	int rc;

	fs_spec_init(&s, "download_file", remote_path, local_path);
	memcpy(what, s.what, sizeof(what));
	if (!local_path || !*local_path || local_path[strlen(local_path) - 1] == '/') {
		rc = sbx_err_set(err, -SBX_EINVAL, 0, "%s: bad local path", what);
		goto out;
	}
	if (stat(local_path, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = sbx_err_set(err, -SBX_EISDIR, 0, "%s: local path is a directory", what);
		goto out;
	}
	sink.fd = make_temp(local_path, &tmp);
	if (sink.fd < 0) {
		rc = sbx_err_set(err, sink.fd, 0, "%s: creating a temporary file: %s", what,
				 strerror(-sink.fd));
		goto out;
	}
	rc = download_run(sb, &s, &sink, remote_path, err);
	if (rc < 0 && sink.error)
		rc = sbx_err_set(err, -sink.error, 0, "%s: writing the local file: %s", what,
				 strerror(sink.error));
	if (rc == 0) {
		rc = commit_temp(sink.fd, tmp, local_path);
		sink.fd = -1;
		if (rc < 0)
			sbx_err_set(err, rc, 0, "%s: storing the local file: %s", what,
				    strerror(-rc));
	}
out:
	if (sink.fd >= 0)
		close(sink.fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	fs_spec_release(&s);
	return rc;
}
