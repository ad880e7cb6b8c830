/* sandbox_priv.h - what other modules of libsbx need from a sandbox handle. */
#ifndef SBX_API_SANDBOX_PRIV_H
#define SBX_API_SANDBOX_PRIV_H

#include "sbx/sandbox.h"

/* Copies the current instance id into *ret (caller frees), resolving it
 * first (sbx_sandbox_refresh) when none is known. -SBX_ENOTFOUND when the
 * sandbox has no instance. Thread-safe. */
int sbx_sandbox_instance_copy(struct sbx_sandbox *sb, char **ret, struct sbx_err *err);

#endif
