/* error.c - the one table that maps remote and HTTP failures to errno. */
#include "sbx/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sbx_errclass(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case 0: return "ok";
	case SBX_ENOTFOUND: return "not found";
	case SBX_EEXIST: return "exists";
	case SBX_ENOTEMPTY: return "not empty";
	case SBX_EPERM:
	case EPERM: return "permission";
	case SBX_ENOTHEALTHY: return "not healthy";
	case SBX_ETIMEDOUT: return "timeout";
	case SBX_ECONN:
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE: return "connection";
	case SBX_EPROTO:
	case EBADMSG: return "protocol";
	case SBX_EAUTH: return "auth";
	case SBX_EINVAL: return "invalid";
	case SBX_EISDIR: return "is a directory";
	case SBX_ENOTDIR: return "not a directory";
	case SBX_ENOSPC: return "no space";
	case SBX_ECANCELED: return "canceled";
	case SBX_ENOTSUP: return "not supported";
	case ENOMEM: return "out of memory";
	default: return "io";
	}
}

int sbx_err_set(struct sbx_err *err, int code, int http_status, const char *fmt, ...)
{
	va_list ap;

	if (code > 0)
		code = -code;
	if (!err)
		return code;
	err->code = code;
	err->http_status = http_status;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int sbx_err_from_http(int status)
{
	switch (status) {
	case 400:
	case 422: return -SBX_EINVAL;
	case 401: return -SBX_EAUTH;
	case 403: return -SBX_EPERM;
	case 404: return -SBX_ENOTFOUND;
	case 409: return -SBX_EEXIST;
	case 408:
	case 504: return -SBX_ETIMEDOUT;
	case 503: return -SBX_ENOTHEALTHY;
	default: return -SBX_EIO;
	}
}
