/**
 * @file sbx/fs.h
 * @brief Filesystem primitives of the seed SDK, built on exec with POSIX
 * shell tools (koyeb-protocol.md §4).
 *
 * Paths may hold any byte but NUL; they are quoted for sh. File content never
 * goes through argv: it is streamed as stdin (write) or stdout (read), so any
 * size and any bytes work. Errors: -SBX_ENOTFOUND, -SBX_EEXIST,
 * -SBX_ENOTEMPTY, -SBX_EPERM, -SBX_EISDIR, -SBX_ENOTDIR, -SBX_ENOSPC,
 * -SBX_ENOTHEALTHY (the sandbox is not HEALTHY), -SBX_ETIMEDOUT, -SBX_ECONN,
 * -SBX_EPROTO, -SBX_EIO (anything else, with the remote stderr in the
 * message).
 *
 * The asynchronous forms (…_async) follow the threading rules of exec.h: the
 * callback runs once, on the transport thread, and must not block.
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

int sbx_fs_write_file(struct sbx_sandbox *sb, const char *path, const void *data,
		      size_t len, struct sbx_err *err);
/** Reads a whole file; *ret_data (NUL-terminated, caller frees) and *ret_len. */
int sbx_fs_read_file(struct sbx_sandbox *sb, const char *path, char **ret_data,
		     size_t *ret_len, struct sbx_err *err);
int sbx_fs_mkdir(struct sbx_sandbox *sb, const char *path, bool recursive,
		 struct sbx_err *err);
/** Names in a directory (no "." or ".."), sorted bytewise. *ret_names is a
 *  NULL-terminated array; free with sbx_strv_free(). */
int sbx_fs_list_dir(struct sbx_sandbox *sb, const char *path, char ***ret_names,
		    size_t *ret_n, struct sbx_err *err);
int sbx_fs_delete_file(struct sbx_sandbox *sb, const char *path, struct sbx_err *err);
/** Removes an empty directory. */
int sbx_fs_delete_dir(struct sbx_sandbox *sb, const char *path, struct sbx_err *err);
int sbx_fs_rename_file(struct sbx_sandbox *sb, const char *from, const char *to,
		       struct sbx_err *err);
int sbx_fs_move_file(struct sbx_sandbox *sb, const char *from, const char *to,
		     struct sbx_err *err);
/** Writes several files in one exec session. */
int sbx_fs_write_files(struct sbx_sandbox *sb, const struct sbx_file_spec *files,
		       size_t n, struct sbx_err *err);
/** *ret is true when the path exists (is a regular file, a directory). A
 *  transport failure is an error, not false. */
int sbx_fs_exists(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err);
int sbx_fs_is_file(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err);
int sbx_fs_is_dir(struct sbx_sandbox *sb, const char *path, bool *ret, struct sbx_err *err);
/** Streams a local file into the sandbox (not held in memory whole). */
int sbx_fs_upload_file(struct sbx_sandbox *sb, const char *local_path,
		       const char *remote_path, struct sbx_err *err);
/** Streams a sandbox file to a local file; the local file is replaced only
 *  when the whole content arrived (temporary file + rename). */
int sbx_fs_download_file(struct sbx_sandbox *sb, const char *remote_path,
			 const char *local_path, struct sbx_err *err);
/** rm, or rm -rf when recursive. */
int sbx_fs_rm(struct sbx_sandbox *sb, const char *path, bool recursive, struct sbx_err *err);

void sbx_strv_free(char **v);

/** Result handed to an asynchronous callback. Borrowed for the call; a
 *  callback that wants data or names sets the pointer to NULL to take it. */
struct sbx_fs_result {
	int rc;              /**< 0 or negative errno */
	struct sbx_err err;  /**< when rc < 0 */
	char *data;          /**< read_file: content (NUL-terminated) */
	size_t len;
	char **names;        /**< list_dir: NULL-terminated */
	size_t n_names;
	bool flag;           /**< exists / is_file / is_dir */
};
typedef void (*sbx_fs_cb)(void *ud, struct sbx_fs_result *res);

/* Asynchronous forms: return 0 when started (cb follows exactly once), or a
 * negative errno when nothing was started (cb is not called). Arguments are
 * copied before return. */
int sbx_fs_write_file_async(struct sbx_sandbox *sb, const char *path, const void *data,
			    size_t len, sbx_fs_cb cb, void *ud);
int sbx_fs_read_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
int sbx_fs_mkdir_async(struct sbx_sandbox *sb, const char *path, bool recursive,
		       sbx_fs_cb cb, void *ud);
int sbx_fs_list_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
int sbx_fs_delete_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb,
			     void *ud);
int sbx_fs_delete_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb,
			    void *ud);
int sbx_fs_rename_file_async(struct sbx_sandbox *sb, const char *from, const char *to,
			     sbx_fs_cb cb, void *ud);
int sbx_fs_move_file_async(struct sbx_sandbox *sb, const char *from, const char *to,
			   sbx_fs_cb cb, void *ud);
int sbx_fs_write_files_async(struct sbx_sandbox *sb, const struct sbx_file_spec *files,
			     size_t n, sbx_fs_cb cb, void *ud);
int sbx_fs_exists_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
int sbx_fs_is_file_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
int sbx_fs_is_dir_async(struct sbx_sandbox *sb, const char *path, sbx_fs_cb cb, void *ud);
int sbx_fs_rm_async(struct sbx_sandbox *sb, const char *path, bool recursive, sbx_fs_cb cb,
		    void *ud);

#ifdef __cplusplus
}
#endif
#endif
