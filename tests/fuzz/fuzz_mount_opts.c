/* fuzz_mount_opts.c - sbxfs's command line (src/fs/opts.c): the -o options
 * of a mount, from a user or an fstab line, and the SANDBOX[:/dir] spec.
 *
 * The input is split at NUL bytes into arguments after argv[0] (at most 32),
 * parsed with sbxfs_opts_parse() as main() does; the first argument is also
 * given to sbxfs_parse_spec() alone. Usage errors print to stderr: run with
 * -close_fd_mask=2 to keep the log short.
 */
#include "fs/fuse_inc.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/opts.h"

#define MAX_ARGS 32

/* a timeout is turned into milliseconds in an int64_t (fs_expiry) */
static bool timeout_ok(double t)
{
	return isfinite(t) && t >= 0 && t <= SBXFS_TIMEOUT_MAX && t * 1000 < 9.2e18;
}

static void spec(const char *s)
{
	char *sb = NULL, *dir = NULL;

	if (sbxfs_parse_spec(s, &sb, &dir) == 0) {
		/* a normalised dir: "" or absolute, no "." or ".." parts, no "//" */
		if (!*sb || (*dir && dir[0] != '/') || strstr(dir, "//") || strstr(dir, "/./") ||
		    strstr(dir, "/../"))
			abort();
		free(sb);
		free(dir);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct sbxfs_opts o;
	char *copy, *p, *end;
	int n = 0;

	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	spec(copy);
	if (fuse_opt_add_arg(&args, "sbxfs") < 0)
		goto out;
	for (p = copy, end = copy + size; p <= end && n < MAX_ARGS; p += strlen(p) + 1, n++)
		if (fuse_opt_add_arg(&args, p) < 0)
			goto out;
	if (sbxfs_opts_parse(&args, &o) == 0 && !o.show_help && !o.show_version) {
		if (!o.sandbox || !o.remote_dir || !o.mountpoint || o.token_given ||
		    o.max_threads < 1 || o.max_threads > 1024 || !(o.op_timeout > 0) ||
		    !timeout_ok(o.attr_timeout) || !timeout_ok(o.entry_timeout) ||
		    !timeout_ok(o.negative_timeout) || !timeout_ok(o.dir_cache_timeout) ||
		    !timeout_ok(o.op_timeout))
			abort();
	}
	sbxfs_opts_release(&o);
out:
	fuse_opt_free_args(&args);
	free(copy);
	return 0;
}
