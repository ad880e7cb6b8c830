/* fuzz_fs_parse.c - libsbx's readers of what a filesystem command printed in
 * the sandbox (src/lib/fs/script.c parsers and src/lib/fs/errmap.c, used by
 * the SDK's filesystem calls and by the driver's rfs layer for every
 * failure): whatever runs in the sandbox controls these bytes.
 *
 * Input: one byte for the exit code (its low bits; 3 is a marker exit), the
 * rest is the output: parsed as a name list and as a flag, and mapped as
 * the stderr of a failed command. The message built must stay bounded and
 * NUL-terminated, and the errno negative.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/errmap.h"
#include "fs/script.h"
#include "util/buf.h"

static void check_err(int r, const struct sbx_err *e)
{
	if (r >= 0 || strnlen(e->msg, sizeof(e->msg)) == sizeof(e->msg))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_exec_result res;
	struct sbx_err err;
	char **names = NULL, what[SBX_FS_WHAT_MAX], *copy;
	size_t n = 0, i;
	bool flag;
	int r;

	if (size < 1)
		return 0;
	copy = malloc(size); /* exactly the bytes: no NUL after them */
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (sbx_fs_parse_names(copy, size - 1, &names, &n) == 0) {
		for (i = 0; i < n; i++)
			if (!names[i] || !*names[i] || (i && strcmp(names[i - 1], names[i]) > 0))
				abort();
		if (names[n])
			abort();
		sbx_strv_free(names);
	}
	sbx_fs_parse_flag(copy, size - 1, &flag);
	sbx_fs_errmap_text(copy, size - 1, NULL);
	memset(&err, 0, sizeof(err));
	r = sbx_fs_errmap(data[0] & 7 ? data[0] & 7 : 1, copy, size - 1, "op '/x'", &err);
	check_err(r, &err);
	memset(&res, 0, sizeof(res));
	res.status = (enum sbx_exec_status)(data[0] >> 4 & 3);
	res.exit_code = data[0] & 7;
	res.error = data[0] & 8 ? -5 : 0;
	memset(&err, 0, sizeof(err));
	r = sbx_fs_errmap_exec(&res, copy, size - 1, "op '/x'", &err);
	if (r != 0 || res.status != 0 || res.exit_code != 0 || res.error != 0)
		check_err(r, &err);
	sbx_fs_errmap_token(copy, size - 1 < 32 ? size - 1 : 32);
	/* the description of a path the user gave, control bytes included */
	{
		char *a = strndup((const char *)data + 1, size - 1);

		if (a) {
			sbx_fs_describe(what, sizeof(what), "write", a, size & 1 ? a : NULL);
			if (strnlen(what, sizeof(what)) == sizeof(what))
				abort();
			free(a);
		}
	}
	free(copy);
	return 0;
}
