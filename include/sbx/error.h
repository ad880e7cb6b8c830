/**
 * @file sbx/error.h
 * @brief Error reporting of libsbx.
 *
 * Every libsbx call that can fail returns an int: >= 0 on success, a negative
 * errno value on failure. The values a caller can switch on are the SBX_E*
 * names below; each is an ordinary errno, so strerror() works on -rc too.
 * Calls also take an optional `struct sbx_err *` (NULL is allowed) that
 * receives the same code, the HTTP status if one was involved, and a message
 * for a human. On success the sbx_err is left untouched.
 */
#ifndef SBX_ERROR_H
#define SBX_ERROR_H

#include <errno.h>

#include "sbx/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBX_ENOTFOUND	ENOENT	     /**< no such file, sandbox, instance, app */
#define SBX_EEXIST	EEXIST	     /**< already exists */
#define SBX_ENOTEMPTY	ENOTEMPTY    /**< directory not empty */
#define SBX_EPERM	EACCES	     /**< permission denied (in the sandbox, or 403) */
#define SBX_ENOTHEALTHY EHOSTDOWN    /**< sandbox not HEALTHY (stopping, stopped, error) */
#define SBX_ETIMEDOUT	ETIMEDOUT    /**< a deadline passed */
#define SBX_ECONN	ENOTCONN     /**< connection failed or dropped */
#define SBX_EPROTO	EPROTO	     /**< the peer spoke something we do not understand */
#define SBX_EAUTH	EKEYREJECTED /**< 401: the API token was refused */
#define SBX_EINVAL	EINVAL	     /**< bad argument, or a 400 from the API */
#define SBX_EISDIR	EISDIR
#define SBX_ENOTDIR	ENOTDIR
#define SBX_ENOSPC	ENOSPC
#define SBX_EIO		EIO	  /**< any other remote failure */
#define SBX_ECANCELED	ECANCELED /**< cancelled by the caller */
#define SBX_ENOTSUP	ENOTSUP	  /**< the sandbox lacks what the call needs (an executor) */

#define SBX_ERR_MSG_MAX 512

/** Details of a failure. */
struct sbx_err {
	int code;		   /**< negative errno, same as the return value */
	int http_status;	   /**< HTTP status of the failing call, or 0 */
	char msg[SBX_ERR_MSG_MAX]; /**< human-readable, NUL-terminated; never holds a secret */
};

/** Short name of an error class: "not found", "exists", "not empty",
 *  "permission", "not healthy", "timeout", "connection", "protocol",
 *  "auth", "invalid", … Never NULL. @p code is negative or positive errno. */
SBX_API const char *sbx_errclass(int code);

/** Fills @p err (if not NULL) and returns @p code (negative errno). */
SBX_API int sbx_err_set(struct sbx_err *err, int code, int http_status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Maps an HTTP status to a negative errno: 400 → -SBX_EINVAL, 401 → -SBX_EAUTH,
 *  403 → -SBX_EPERM, 404 → -SBX_ENOTFOUND, 409 → -SBX_EEXIST, 408/504 →
 *  -SBX_ETIMEDOUT, 503 → -SBX_ENOTHEALTHY, other 4xx/5xx → -SBX_EIO. */
SBX_API int sbx_err_from_http(int status);

#ifdef __cplusplus
}
#endif
#endif
