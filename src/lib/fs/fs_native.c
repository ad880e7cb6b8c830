/* fs_native.c - the common primitives as agent requests; see fs_native.h.
 *
 * Each primitive against its script (script.c):
 *  - exists / is_file / is_dir: test -e/-f/-d follow a symlink, lstat
 *    does not: a symlink is left to the script. A path lstat cannot reach
 *    (ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG) cannot be reached by
 *    stat either: "no", as the test says.
 *  - read_file: FETCH (a regular file, not through a symlink) into a
 *    memfd, then into memory.
 *  - list_dir: READDIR; the names go through the script's own parser
 *    (sbx_fs_parse_names), so the order is the same.
 *  - mkdir, mkdir -p: MKDIR of the last name with the mode the script's
 *    mkdir gives it (0777 less the jobs' umask); -p with missing parents,
 *    an existing directory or anything else is the script's.
 *  - delete_file: UNLINK; delete_dir: RMDIR (which, like the script,
 *    refuses a symlink to a directory).
 *  - write_file: the script replaces a missing name or a regular file with
 *    one link through a temporary that gets the old file's mode and owner
 *    (a new one: 0666 less the umask), and writes anything else in place.
 *    The first two are STAT then STORE (TMPFILE, data, COMMIT with that
 *    mode and owner, atomic); the others are the script's.
 * The jobs' umask (the sandbox's default: the agent's own is 0) is asked
 * once per handle with a job running `umask`, kept in the slot.
 */
#include "fs_native.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/sandbox_priv.h"
#include "exec/agent_slot.h"
#include "sbx/rfs.h"
#include "script.h"

bool fs_native_fits(enum fs_native kind, const char *path, size_t len)
{
	if (kind == FS_NATIVE_NONE || !path || path[0] != '/' || strlen(path) >= PATH_MAX)
		return false;
	return kind != FS_NATIVE_WRITE || len <= FS_NATIVE_WRITE_MAX;
}

/* ---- the jobs' umask ---- */

struct umask_job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done; /* mu */
	bool ok;   /* mu */
	char out[16];
	size_t n;
};

static void um_stdout(void *ud, const char *data, size_t n)
{
	struct umask_job *j = ud;

	if (n > sizeof(j->out) - 1 - j->n)
		n = sizeof(j->out) - 1 - j->n;
	memcpy(j->out + j->n, data, n);
	j->n += n;
}

static void um_done(void *ud, const struct sbx_exec_result *r)
{
	struct umask_job *j = ud;

	pthread_mutex_lock(&j->mu);
	j->ok = r->error == 0 && r->status == SBX_EXEC_FINISHED && r->exit_code == 0;
	j->done = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Runs `umask` as a job: its value, or -1. */
static int umask_ask(struct sbx_agent_slot *slot, struct sbx_rfs *rfs)
{
	static const struct sbx_exec_cbs cbs = {.on_stdout = um_stdout, .on_done = um_done};
	struct sbx_exec_opts o = {.command = "umask"};
	struct umask_job j = {.n = 0};
	struct sbx_rfs_proc *p = NULL;
	char *end;
	long m = -1;

	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	sbx_agent_slot_job_enter(slot);
	if (sbx_rfs_proc_start(rfs, &o, &cbs, &j, &p, NULL) == 0) {
		sbx_rfs_proc_unref(p);
		pthread_mutex_lock(&j.mu);
		while (!j.done)
			pthread_cond_wait(&j.cv, &j.mu);
		pthread_mutex_unlock(&j.mu);
		j.out[j.n] = '\0';
		if (j.ok)
			m = strtol(j.out, &end, 8);
		if (!j.ok || end == j.out || (*end && *end != '\n') || m < 0 || m > 0777)
			m = -1;
	}
	sbx_agent_slot_job_leave(slot);
	pthread_cond_destroy(&j.cv);
	pthread_mutex_destroy(&j.mu);
	return (int)m;
}

/* The jobs' umask, asked once per handle; -1 when it cannot be known. */
static int jobs_umask(struct sbx_sandbox *sb, struct sbx_rfs *rfs)
{
	struct sbx_agent_slot *slot = sbx_sandbox_agent_slot(sb);
	int m = sbx_agent_slot_umask(slot);

	if (m < 0) {
		m = umask_ask(slot, rfs);
		if (m >= 0)
			sbx_agent_slot_set_umask(slot, m);
	}
	return m;
}

/* ---- the primitives ---- */

/* An lstat failure that stat would share: the path cannot be reached. */
static bool unreachable(int rc)
{
	return rc == -ENOENT || rc == -ENOTDIR || rc == -EACCES || rc == -ELOOP ||
	       rc == -ENAMETOOLONG;
}

static bool do_test(struct sbx_rfs *rfs, enum fs_native kind, const char *path,
		    struct sbx_fs_result *res)
{
	struct sbx_rfs_attr a;
	int rc = sbx_rfs_stat(rfs, path, &a, NULL);

	if (rc < 0 && !unreachable(rc))
		return false;
	if (rc == 0 && S_ISLNK(a.mode))
		return false; /* the test follows it */
	res->flag = rc == 0 &&
		    (kind == FS_NATIVE_EXISTS || (kind == FS_NATIVE_IS_FILE && S_ISREG(a.mode)) ||
		     (kind == FS_NATIVE_IS_DIR && S_ISDIR(a.mode)));
	return true;
}

/* Reads len bytes of fd from 0 into a new NUL-terminated buffer. */
static char *slurp(int fd, size_t len)
{
	char *d = malloc(len + 1);
	size_t off = 0;
	ssize_t n;

	while (d && off < len) {
		n = pread(fd, d + off, len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(d);
			return NULL;
		}
		off += (size_t)n;
	}
	if (d)
		d[len] = '\0';
	return d;
}

static bool do_read(struct sbx_rfs *rfs, const char *path, struct sbx_fs_result *res)
{
	int fd = memfd_create("sbx-read", MFD_CLOEXEC);
	uint64_t len = 0;
	char *d = NULL;

	if (fd < 0)
		return false;
	if (sbx_rfs_fetch(rfs, path, fd, NULL, 0, NULL, &len, NULL, NULL, NULL) == 0 &&
	    len <= SBX_FS_READ_MAX)
		d = slurp(fd, (size_t)len);
	close(fd);
	if (!d)
		return false; /* a failure, or more than a read gives: the script says */
	res->data = d;
	res->len = (size_t)len;
	return true;
}

static bool do_list(struct sbx_rfs *rfs, const char *path, struct sbx_fs_result *res)
{
	struct sbx_buf out = SBX_BUF_INIT;
	struct sbx_rfs_dir d;
	size_t i;
	int rc = sbx_rfs_readdir(rfs, path, &d, NULL);

	if (rc < 0)
		return false;
	for (i = 0; rc == 0 && i < d.n; i++) {
		rc = sbx_buf_append(&out, d.ents[i].name, strlen(d.ents[i].name) + 1);
		if (rc == 0 && out.len > SBX_FS_LIST_MAX)
			rc = -EFBIG;
	}
	sbx_rfs_dir_release(&d);
	if (rc == 0)
		rc = sbx_fs_parse_names(out.data ? out.data : "", out.len, &res->names,
					&res->n_names);
	sbx_buf_release(&out);
	return rc == 0;
}

static bool do_mkdir(struct sbx_sandbox *sb, struct sbx_rfs *rfs, const char *path)
{
	int um = jobs_umask(sb, rfs);

	return um >= 0 && sbx_rfs_mkdir(rfs, NULL, path, 0777u & ~(unsigned)um, NULL, NULL) == 0;
}

/* The mode and owner the script's store gives the new content of path in
 * *o: true for the cases it stores through a temporary (a missing name, a
 * regular file with one link). */
static bool store_attrs(struct sbx_sandbox *sb, struct sbx_rfs *rfs, const char *path,
			struct sbx_rfs_store_opts *o)
{
	struct sbx_rfs_attr a;
	int rc = sbx_rfs_stat(rfs, path, &a, NULL), um;

	if (rc == 0 && S_ISREG(a.mode) && a.nlink == 1) {
		o->attrs.valid = SBX_RFS_SET_MODE | SBX_RFS_SET_UID | SBX_RFS_SET_GID;
		o->attrs.mode = a.mode & 07777;
		o->attrs.uid = a.uid;
		o->attrs.gid = a.gid;
		return true;
	}
	if (rc != -ENOENT || (um = jobs_umask(sb, rfs)) < 0)
		return false;
	o->attrs.valid = SBX_RFS_SET_MODE;
	o->attrs.mode = 0666u & ~(unsigned)um;
	return true;
}

/* Writes all of data into a new memfd: the fd, or -1. */
static int memfd_of(const struct sbx_buf *data)
{
	int fd = memfd_create("sbx-write", MFD_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	while (fd >= 0 && off < data->len) {
		n = write(fd, data->data + off, data->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return fd;
}

static bool do_write(struct sbx_sandbox *sb, struct sbx_rfs *rfs, const char *path,
		     const struct sbx_buf *data)
{
	struct sbx_rfs_store_opts o = {0};
	int fd, rc;

	if (!store_attrs(sb, rfs, path, &o))
		return false;
	fd = memfd_of(data);
	if (fd < 0)
		return false;
	rc = sbx_rfs_store(rfs, path, fd, data->len, &o, NULL, NULL, NULL);
	close(fd);
	return rc == 0;
}

bool fs_native_run(struct sbx_sandbox *sb, struct sbx_rfs *rfs, enum fs_native kind,
		   const char *path, const struct sbx_buf *data, struct sbx_fs_result *res)
{
	switch (kind) {
	case FS_NATIVE_NONE: return false;
	case FS_NATIVE_EXISTS:
	case FS_NATIVE_IS_FILE:
	case FS_NATIVE_IS_DIR: return do_test(rfs, kind, path, res);
	case FS_NATIVE_READ: return do_read(rfs, path, res);
	case FS_NATIVE_LIST: return do_list(rfs, path, res);
	case FS_NATIVE_MKDIR:
	case FS_NATIVE_MKDIR_P: return do_mkdir(sb, rfs, path);
	case FS_NATIVE_DELETE_FILE: return sbx_rfs_unlink(rfs, NULL, path, NULL) == 0;
	case FS_NATIVE_DELETE_DIR: return sbx_rfs_rmdir(rfs, NULL, path, NULL) == 0;
	case FS_NATIVE_WRITE: return do_write(sb, rfs, path, data);
	}
	return false;
}
