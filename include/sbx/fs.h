/**
 * @file sbx/fs.h
 * @brief Filesystem primitives of the seed SDK, built on exec with POSIX
 * shell tools (docs/executor-protocol.md §4).
 *
 * Three transports carry them (docs/libsbx-transports.md): the exec
 * WebSocket, one session per call; the sandbox's executor API, one
 * kept-alive HTTP request per call (more for big content); or, asked for,
 * the agent: a request of it (the common primitives) or a job on one exec
 * session per sandbox handle. Chosen by sbx_client_opts.transport or
 * $SBX_EXEC_TRANSPORT; by default the executor when the sandbox has one.
 * The same scripts run every way (the agent's requests answer only where
 * they give the scripts' answer, and leave the rest to them), so
 * everything below holds for all, byte-exactness included.
 *
 * Paths may hold any byte but NUL; they are quoted for sh (a path that
 * starts with '-' is passed as "./-…"); NULL or "" is -SBX_EINVAL, longer
 * than 4096 bytes -ENAMETOOLONG. Relative paths are relative to the
 * sandbox's default working directory. File content never goes through
 * argv: it is streamed as stdin (write) or stdout (read), so any size and
 * any bytes work (over the executor, as base64: see the doc). Every script
 * runs under LC_ALL=C. One call is one exec session or, over the executor,
 * usually one request; there is no status pre-flight.
 *
 * Errors are the errno a local filesystem would give: -SBX_ENOTFOUND,
 * -SBX_EEXIST, -SBX_ENOTEMPTY, -SBX_EPERM (permission denied or operation
 * not permitted), -SBX_EISDIR, -SBX_ENOTDIR, -SBX_ENOSPC, -EROFS, and more
 * rarely -EDQUOT, -ENAMETOOLONG, -ELOOP, -EXDEV, -EBUSY, -SBX_EINVAL;
 * -SBX_EIO for anything else, with the remote stderr (trimmed, bounded) in
 * the message. -SBX_ENOTFOUND only ever means "no such file": an exec that
 * fails because the sandbox's instance is gone gives -SBX_ENOTHEALTHY.
 * Transport failures pass through: -SBX_ECONN, -SBX_ETIMEDOUT,
 * -SBX_EPROTO, -SBX_EAUTH, -SBX_ECANCELED. After a connection failure
 * (-SBX_ECONN, -SBX_ETIMEDOUT) a synchronous call reads the sandbox status
 * once and returns -SBX_ENOTHEALTHY when it is not HEALTHY (or gone); the
 * asynchronous forms do not (that read would block the transport thread).
 * A synchronous call made from an exec or fs callback fails with -EDEADLK.
 *
 * The asynchronous forms (…_async) follow the threading rules of exec.h: the
 * callback runs once, on the transport's thread (the client's WebSocket
 * thread, which also carries the agent's session, or over the executor a
 * thread of the call's own), and must not block.
 */
#ifndef SBX_FS_H
#define SBX_FS_H

#include <stdbool.h>
#include <stddef.h>

#include "sbx/error.h"
#include "sbx/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One file of sbx_fs_write_files(). */
struct sbx_file_spec {
	const char *path;
	const void *data;
	size_t len;
};

/** Creates or replaces @p path with @p len bytes (an existing file keeps
 *  its mode and, for root, its owner). The content goes to a temporary
 *  beside the file that is renamed over it only when all @p len bytes
 *  arrived with the right SHA-256 (length only without `sha256sum` in the
 *  sandbox): a cut transfer fails with -EIO (or the transport's error) and
 *  leaves the old file as it was (src/lib/fs/store.h). A symlink, a special
 *  file or a file with several hard links is written in place instead (a
 *  short write still fails). The synchronous form streams @p data
 *  (borrowed for the call) with flow control; the asynchronous form copies
 *  it, so prefer the synchronous form or sbx_fs_upload_file() for big data. */
SBX_API int sbx_fs_write_file(struct sbx_sandbox *sb, const char *path, const void *data,
			      size_t len, struct sbx_err *err);
/** Reads a whole file, byte-exact; *ret_data (NUL-terminated, caller frees)
 *  and *ret_len (may be NULL). Files over 1 GiB fail with -EFBIG: use
 *  sbx_fs_download_file(). */
SBX_API int sbx_fs_read_file(struct sbx_sandbox *sb, const char *path, char **ret_data,
			     size_t *ret_len, struct sbx_err *err);
/** mkdir (-SBX_EEXIST when anything exists at @p path), or mkdir -p when
 *  recursive (an existing directory is success, anything else -SBX_EEXIST). */
SBX_API int sbx_fs_mkdir(struct sbx_sandbox *sb, const char *path, bool recursive,
			 struct sbx_err *err);
/** Names in a directory (no "." or ".."), sorted bytewise, exact for any
 *  byte (newlines too). *ret_names is a NULL-terminated array; free with
 *  sbx_strv_free(). *ret_n may be NULL. A NULL @p path means "." (the
 *  SDK's default). */
SBX_API int sbx_fs_list_dir(struct sbx_sandbox *sb, const char *path, char ***ret_names,
			    size_t *ret_n, struct sbx_err *err);
/** Removes a file or a symlink; -SBX_EISDIR for a directory. */
SBX_API int sbx_fs_delete_file(struct sbx_sandbox *sb, const char *path, struct sbx_err *err);
/** Removes an empty directory (-SBX_ENOTEMPTY, -SBX_ENOTDIR). */
SBX_API int sbx_fs_delete_dir(struct sbx_sandbox *sb, const char *path, struct sbx_err *err);
/** rename(2) semantics: @p to is the new name even when it exists. A
 *  directory replaces an empty directory (-SBX_ENOTEMPTY otherwise); a
 *  non-directory onto a directory is -SBX_EISDIR, a directory onto a
 *  non-directory -SBX_ENOTDIR; an existing symlink is replaced, not
 *  followed. Replacing a directory or a symlink to one takes two steps
 *  (not atomic). */
SBX_API int sbx_fs_rename_file(struct sbx_sandbox *sb, const char *from, const char *to,
			       struct sbx_err *err);
/** mv semantics (`mv -f -- FROM TO`): when @p to is a directory (or a
 *  symlink to one), @p from moves into it. */
SBX_API int sbx_fs_move_file(struct sbx_sandbox *sb, const char *from, const char *to,
			     struct sbx_err *err);
/** Writes several files in one exec session, in order (a path given twice:
 *  the last wins), byte-exact, each like sbx_fs_write_file() (a file whose
 *  content is cut keeps its old content). Not atomic as a whole: it stops
 *  at the first failure,
 *  the files before it are written, and the message says which file ("at
 *  file N", counted from 1, or the tool's own text with the path). Fast
 *  with GNU head -c; elsewhere it reads with dd bs=1 (slow for big files). */
SBX_API int sbx_fs_write_files(struct sbx_sandbox *sb, const struct sbx_file_spec *files, size_t n,
			       struct sbx_err *err);
/** *ret is true when the path exists (is a regular file, a directory), as
 *  test -e/-f/-d say: symlinks are followed, a dangling one does not exist.
 *  A transport failure is an error, not false. */
SBX_API int sbx_fs_exists(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err);
SBX_API int sbx_fs_is_file(struct sbx_sandbox *sb, const char *path, bool *ret,
			   struct sbx_err *err);
SBX_API int sbx_fs_is_dir(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err);
/** Streams a local regular file into the sandbox (not held in memory
 *  whole: at most a few MiB are queued; anything but a regular file is
 *  -EINVAL, since its length cannot be promised). Like write_file: a failed
 *  upload leaves the remote file as it was. */
SBX_API int sbx_fs_upload_file(struct sbx_sandbox *sb, const char *local_path,
			       const char *remote_path, struct sbx_err *err);
/** Streams a sandbox file to a local file; the local file is replaced only
 *  when the whole content arrived (a temporary file ".NAME.sbx-XXXX" in the
 *  same directory, fsynced, then renamed over the target; removed on
 *  failure). A local write error (-ENOSPC, …) cancels the transfer. */
SBX_API int sbx_fs_download_file(struct sbx_sandbox *sb, const char *remote_path,
				 const char *local_path, struct sbx_err *err);
/** rm (like sbx_fs_delete_file), or rm -rf when recursive (a missing path
 *  is then success, like the SDK). */
SBX_API int sbx_fs_rm(struct sbx_sandbox *sb, const char *path, bool recursive,
		      struct sbx_err *err);

/** Frees a NULL-terminated array of strings and its strings. Accepts NULL. */
SBX_API void sbx_strv_free(char **v);

/** Result handed to an asynchronous callback. Borrowed for the call; a
 *  callback that wants data or names sets the pointer to NULL to take it. */
struct sbx_fs_result {
	int rc;		    /**< 0 or negative errno */
	struct sbx_err err; /**< when rc < 0 */
	char *data;	    /**< read_file: content (NUL-terminated) */
	size_t len;
	char **names; /**< list_dir: NULL-terminated */
	size_t n_names;
	bool flag; /**< exists / is_file / is_dir */
};
typedef void (*sbx_fs_cb)(void *ud, struct sbx_fs_result *res);

/* Asynchronous forms: return 0 when started (cb follows exactly once, on the
 * transport thread), or a negative errno when nothing was started (cb is not
 * called). Arguments are copied before return. cb may be NULL. The result's
 * err.msg is set when rc < 0. There are no asynchronous upload/download.
 * Free the sandbox handle only after the callbacks of the calls started on
 * it have run: over the executor the call uses the handle's executor
 * client until then. */
SBX_API int sbx_fs_write_file_async(struct sbx_sandbox *sb, const char *path, const void *data,
				    size_t len, sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_read_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb,
				   void *ud);
SBX_API int sbx_fs_mkdir_async(struct sbx_sandbox *sb, const char *path, bool recursive,
			       sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_list_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_delete_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb,
				     void *ud);
SBX_API int sbx_fs_delete_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb,
				    void *ud);
SBX_API int sbx_fs_rename_file_async(struct sbx_sandbox *sb, const char *from, const char *to,
				     sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_move_file_async(struct sbx_sandbox *sb, const char *from, const char *to,
				   sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_write_files_async(struct sbx_sandbox *sb, const struct sbx_file_spec *files,
				     size_t n, sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_exists_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_is_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_is_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
SBX_API int sbx_fs_rm_async(struct sbx_sandbox *sb, const char *path, bool recursive, sbx_fs_cb cb,
			    void *ud);

#ifdef __cplusplus
}
#endif
#endif
