/* script.h - the argv an exec sends: script assembly from sbx_exec_opts. */
#ifndef SBX_EXEC_SCRIPT_H
#define SBX_EXEC_SCRIPT_H

#include <stddef.h>

#include "sbx/exec.h"

/* Longest command (all argv strings together) we send. */
#define SBX_EXEC_CMD_MAX (1u << 20)

/* Builds the argv sent in the first frame from opts (the script assembly of
 * script.c's top comment). Returns 0 and a NULL-terminated array of *ret_n
 * strings (free with sbx_exec_argv_free), or -SBX_EINVAL (neither or both of
 * argv and command, empty argv, an env entry that is not NAME=VALUE with a
 * shell variable name) with a message in err, -E2BIG, -ENOMEM. */
int sbx_exec_build_argv(const struct sbx_exec_opts *o, char ***ret, size_t *ret_n,
			struct sbx_err *err);
void sbx_exec_argv_free(char **v);

#endif
