/* overlay.c - see overlay.h.
 *
 * Directories created in upper/ copy mode and owner from the lower layer, so
 * the merged view of e.g. /var keeps its attributes. A hidden path that is a
 * symbolic link in the image is left alone (its target is what matters, and
 * shadowing a link with a directory would change the image).
 *
 * The overlay is mounted nodev: a sandbox keeps CAP_MKNOD, and a device node
 * it creates must not open a host device.
 */
#include "host/runtime/overlay.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "host/fsutil.h"
#include "util/buf.h"
#include "util/statedir.h"
#include "util/log.h"

static const char *const HIDDEN[] = {"/tmp", "/var/tmp", "/run", "/root", "/home"};

/* True when the absolute path p lies in one of the hidden directories. */
static bool in_hidden(const char *p)
{
	size_t i;

	for (i = 0; i < sizeof(HIDDEN) / sizeof(HIDDEN[0]); i++) {
		size_t hl = strlen(HIDDEN[i]);

		if (!strncmp(p, HIDDEN[i], hl) && (p[hl] == '/' || !p[hl]))
			return true;
	}
	return false;
}

/* mkdir upper/rel with the attributes of lower/rel (or mode when absent). */
static int mkdir_like(const char *upper, const char *lower, const char *rel, mode_t mode,
		      uid_t shift)
{
	char up[PATH_MAX], low[PATH_MAX];
	struct stat st;
	bool have = false;

	if (sbxd_pathf(up, sizeof(up), "%s%s", upper, rel) < 0 ||
	    sbxd_pathf(low, sizeof(low), "%s%s", strcmp(lower, "/") ? lower : "", rel) < 0)
		return -ENAMETOOLONG;
	if (lstat(low, &st) == 0 && S_ISDIR(st.st_mode))
		have = true;
	if (mkdir(up, have ? (st.st_mode & 07777) : mode) < 0) {
		if (errno == EEXIST)
			return 0;
		return -errno;
	}
	/* mkdir applies the umask: set the exact mode and owner */
	if (have) {
		if (chown(up, st.st_uid + shift, st.st_gid + shift) < 0 ||
		    chmod(up, st.st_mode & 07777) < 0)
			return -errno;
	} else if (chown(up, shift, shift) < 0 || chmod(up, mode) < 0) {
		return -errno;
	}
	return 0;
}

/* True when lower/rel exists as a symbolic link. */
static bool is_link_in_lower(const char *lower, const char *rel)
{
	char low[PATH_MAX];
	struct stat st;

	if (sbxd_pathf(low, sizeof(low), "%s%s", strcmp(lower, "/") ? lower : "", rel) < 0)
		return false;
	return lstat(low, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Creates upper/rel (and its parents) and marks it opaque. */
static int make_opaque(const char *upper, const char *lower, const char *rel, mode_t mode,
		       uid_t shift)
{
	char part[PATH_MAX];
	size_t i, n = strlen(rel);
	int r;

	if (n >= sizeof(part))
		return -ENAMETOOLONG;
	for (i = 1; i <= n; i++) {
		if (rel[i] != '/' && rel[i] != '\0')
			continue;
		memcpy(part, rel, i);
		part[i] = '\0';
		if (is_link_in_lower(lower, part))
			return 0;
		r = mkdir_like(upper, lower, part, i == n ? mode : 0755, shift);
		if (r < 0)
			return r;
	}
	if (sbxd_pathf(part, sizeof(part), "%s%s", upper, rel) < 0)
		return -ENAMETOOLONG;
	if (setxattr(part, "trusted.overlay.opaque", "y", 1, 0) < 0)
		return -errno;
	return 0;
}

/* The state dir relative to the image root, or NULL when outside it or
 * already inside one of the hidden directories. */
static const char *state_rel(const char *lower, const char *state_dir)
{
	size_t ll = strlen(lower);
	const char *rel;

	if (!strcmp(lower, "/"))
		rel = state_dir;
	else if (strncmp(state_dir, lower, ll) || state_dir[ll] != '/')
		return NULL;
	else
		rel = state_dir + ll;
	return in_hidden(rel) ? NULL : rel;
}

int sbxd_overlay_prepare(const char *upper, const char *lower, const char *state_dir, uid_t shift)
{
	const char *srel;
	size_t i;
	int r;

	/* the merged root must be traversable by every user of the image */
	if (chown(upper, shift, shift) < 0 || chmod(upper, 0755) < 0)
		return -errno;
	for (i = 0; i < sizeof(HIDDEN) / sizeof(HIDDEN[0]); i++) {
		mode_t mode = (!strcmp(HIDDEN[i], "/tmp") || !strcmp(HIDDEN[i], "/var/tmp")) ? 01777
			      : !strcmp(HIDDEN[i], "/root")				     ? 0700
											     : 0755;
		r = make_opaque(upper, lower, HIDDEN[i], mode, shift);
		if (r < 0)
			return r;
	}
	srel = state_rel(lower, state_dir);
	if (srel && strcmp(srel, "/"))
		return make_opaque(upper, lower, srel, 0700, shift);
	return 0;
}

static bool opt_safe(const char *s)
{
	return !strpbrk(s, ",:\\");
}

int sbxd_overlay_mount(const char *root, const char *lower, const char *upper, const char *work)
{
	char opts[3 * PATH_MAX + 64];

	if (!opt_safe(lower) || !opt_safe(upper) || !opt_safe(work))
		return -EINVAL;
	if (sbxd_pathf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper,
		       work) < 0)
		return -ENAMETOOLONG;
	if (mount("overlay", root, "overlay", MS_NODEV | MS_NOSUID, opts) < 0)
		return -errno;
	return 0;
}
