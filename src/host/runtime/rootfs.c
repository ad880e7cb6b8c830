/* rootfs.c - see rootfs.h.
 *
 * After the first start everything on the sandbox's disk is the sandbox's
 * to change, links included: sbxd then reaches into it only through
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) and attaches mounts with
 * move_mount() on such an fd, so a link the sandbox planted (say /usr ->
 * /etc) can never make sbxd write or mount outside the sandbox's tree.
 */
#include "host/runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host/fsutil.h"
#include "host/runtime/disk.h"
#include "host/runtime/etcgen.h"
#include "host/runtime/overlay.h"
#include "util/statedir.h"

#define READY ".sbx-ready"

/* The directories of the default image, made at the first start. */
static const struct {
	const char *path;
	mode_t mode;
} DIRS[] = {
    {"usr", 0755},	 {"etc", 0755},	      {"root", 0700},	     {"home", 0755},
    {"tmp", 01777},	 {"var", 0755},	      {"var/tmp", 01777},    {"var/lib", 0755},
    {"var/cache", 0755}, {"var/log", 0755},   {"var/spool", 0755},   {"var/mail", 0755},
    {"var/opt", 0755},	 {"var/local", 0755}, {"var/backups", 0755}, {"srv", 0755},
    {"opt", 0755},	 {"run", 0755},	      {"run/lock", 01777},   {"mnt", 0755},
    {"media", 0755},	 {"proc", 0555},      {"sys", 0555},	     {"dev", 0755},
};

/* Top-level names that merged-/usr systems make links (to usr/...). */
static const char *const USR_LINKS[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

static void say(char *why, size_t len, const char *msg)
{
	if (why && len)
		snprintf(why, len, "%s", msg);
}

/* openat2 beneath dirfd, following no link: fd or -errno. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static int mkdir_owned(int dirfd, const char *path, mode_t mode, uid_t uid)
{
	if (mkdirat(dirfd, path, mode) < 0 && errno != EEXIST)
		return -errno;
	if (fchownat(dirfd, path, uid, uid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dirfd, path, mode, 0) < 0)
		return -errno;
	return 0;
}

/* The host's merged-/usr links, copied as links; a real directory of the
 * host (a system without merged /usr) becomes a mount point instead. */
static int usr_links(int rootfd, uid_t uid)
{
	char target[PATH_MAX], host[64];
	struct stat st;
	size_t i;
	int r;

	for (i = 0; i < sizeof(USR_LINKS) / sizeof(USR_LINKS[0]); i++) {
		ssize_t n;

		snprintf(host, sizeof(host), "/%s", USR_LINKS[i]);
		if (lstat(host, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			r = mkdir_owned(rootfd, USR_LINKS[i], 0755, uid);
			if (r < 0)
				return r;
			continue;
		}
		n = readlink(host, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (symlinkat(target, rootfd, USR_LINKS[i]) < 0 && errno != EEXIST)
			return -errno;
		if (fchownat(rootfd, USR_LINKS[i], uid, uid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	return 0;
}

/* The default image's tree in the fresh directory rootfd. */
static int build_default(int rootfd, const struct sbxd_rootfs *rf)
{
	struct sbxd_etc_params ep = {"/etc", rf->hostname, rf->resolv, rf->idmap->base,
				     rf->idmap->base};
	size_t i;
	int r = 0, etc;

	for (i = 0; i < sizeof(DIRS) / sizeof(DIRS[0]) && r == 0; i++)
		r = mkdir_owned(rootfd, DIRS[i].path, DIRS[i].mode, rf->idmap->base);
	if (r == 0)
		r = usr_links(rootfd, rf->idmap->base);
	if (r == 0 &&
	    (fchown(rootfd, rf->idmap->base, rf->idmap->base) < 0 || fchmod(rootfd, 0755) < 0))
		r = -errno;
	if (r < 0)
		return r;
	etc = openat(rootfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		return -errno;
	r = sbxd_etc_generate(etc, &ep);
	close(etc);
	return r;
}

/* Writes rel/etc/resolv.conf under dirfd, making etc when missing. The
 * sandbox may have removed or replaced its /etc: then it does without. */
static void put_resolv(int dirfd, const struct sbxd_rootfs *rf)
{
	int etc;

	if (!rf->resolv)
		return;
	if (mkdirat(dirfd, "etc", 0755) == 0 &&
	    fchownat(dirfd, "etc", rf->idmap->base, rf->idmap->base, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	etc = open_beneath(dirfd, "etc", O_RDONLY | O_DIRECTORY);
	if (etc < 0)
		return;
	sbxd_etc_put(etc, "resolv.conf", rf->resolv, rf->idmap->base, rf->idmap->base);
	close(etc);
}

/* Clones the tree at src (read-only, nosuid, nodev, recursively) onto the
 * directory path beneath dirfd. 0 or -errno. */
static int attach_ro(const char *src, int dirfd, const char *path, bool ro)
{
	struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	int from, to, r = 0;

	if (ro)
		a.attr_set |= MOUNT_ATTR_RDONLY;
	from = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (from < 0)
		return -errno;
	to = open_beneath(dirfd, path, O_PATH | O_DIRECTORY);
	if (to < 0) {
		close(from);
		return to;
	}
	if (mount_setattr(from, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0 ||
	    move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		r = -errno;
	close(from);
	close(to);
	return r;
}

/* The host's /usr (and any non-merged /bin, /lib...) read-only over the
 * root at rootdir, and the sandbox's own /usr/local over that. */
static int bind_host(const char *rootdir, const char *disk, uid_t uid)
{
	char local[PATH_MAX];
	struct stat st;
	size_t i;
	int rootfd, usr = -1, r;

	rootfd = open(rootdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	mkdirat(rootfd, "usr", 0755);
	r = attach_ro("/usr", rootfd, "usr", true);
	for (i = 0; r == 0 && i < sizeof(USR_LINKS) / sizeof(USR_LINKS[0]); i++) {
		char host[64];

		snprintf(host, sizeof(host), "/%s", USR_LINKS[i]);
		if (lstat(host, &st) == 0 && S_ISDIR(st.st_mode))
			r = attach_ro(host, rootfd, USR_LINKS[i], true);
	}
	if (r == 0 && stat("/usr/local", &st) == 0 && S_ISDIR(st.st_mode) &&
	    sbxd_pathf(local, sizeof(local), "%s/usr-local", disk) == 0) {
		if (mkdir(local, 0755) == 0 && chown(local, uid, uid) < 0)
			r = -errno;
		usr = open_beneath(rootfd, "usr", O_PATH | O_DIRECTORY);
		if (r == 0)
			r = usr < 0 ? usr : attach_ro(local, usr, "local", false);
	}
	if (usr >= 0)
		close(usr);
	close(rootfd);
	return r;
}

/* Path helper: sbdir/name into out (PATH_MAX). */
static int sub(char *out, const char *sbdir, const char *name)
{
	return sbxd_pathf(out, PATH_MAX, "%s/%s", sbdir, name);
}

static int mount_default(const struct sbxd_rootfs *rf, const char *disk, int diskfd, char *why,
			 size_t whylen)
{
	char src[PATH_MAX], root[PATH_MAX];
	int rootfd, r = 0;

	if (faccessat(diskfd, READY, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		if (mkdirat(diskfd, "root", 0755) < 0 && errno != EEXIST)
			return -errno;
		rootfd = openat(diskfd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = rootfd < 0 ? -errno : build_default(rootfd, rf);
		if (rootfd >= 0)
			close(rootfd);
		if (r == 0)
			r = sbxd_etc_put(diskfd, READY, "", 0, 0);
		if (r < 0) {
			say(why, whylen, "cannot build the default image");
			return r;
		}
	}
	rootfd = openat(diskfd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	put_resolv(rootfd, rf);
	close(rootfd);
	if (sub(src, disk, "root") < 0 || sub(root, rf->sbdir, "root") < 0)
		return -ENAMETOOLONG;
	if (mount(src, root, NULL, MS_BIND, NULL) < 0) {
		say(why, whylen, "cannot bind the sandbox's root");
		return -errno;
	}
	r = bind_host(root, disk, rf->idmap->base);
	if (r < 0)
		say(why, whylen, "cannot bind the host's /usr read-only");
	return r;
}

/* The lower layer: rf->image itself, or its idmapped clone on sbdir/lower
 * (written to lower). */
static int image_lower(const struct sbxd_rootfs *rf, char *lower, bool *mapped)
{
	int ns = rf->userns_fd, r;

	*mapped = false;
	if (ns < 0 && sbxd_idmap_valid(rf->idmap))
		ns = sbxd_userns_open(rf->idmap);
	if (ns < 0) /* no user namespaces: the image as it is */
		return sbxd_pathf(lower, PATH_MAX, "%s", rf->image);
	r = sub(lower, rf->sbdir, "lower");
	if (r == 0 && mkdir(lower, 0700) < 0 && errno != EEXIST)
		r = -errno;
	if (r == 0)
		r = sbxd_rootfs_idmap_mount(rf->image, lower, ns);
	if (ns != rf->userns_fd)
		close(ns);
	*mapped = r == 0;
	return r;
}

static int mount_image(const struct sbxd_rootfs *rf, const char *disk, int diskfd, char *why,
		       size_t whylen)
{
	char lower[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], root[PATH_MAX];
	bool mapped;
	int r;

	if (sub(upper, disk, "upper") < 0 || sub(work, disk, "work") < 0 ||
	    sub(root, rf->sbdir, "root") < 0)
		return -ENAMETOOLONG;
	r = image_lower(rf, lower, &mapped);
	if (r < 0) {
		say(why, whylen, "cannot make an idmapped mount of the image");
		return r;
	}
	if (faccessat(diskfd, READY, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		uid_t shift = mapped ? rf->idmap->base : 0;

		if ((mkdir(upper, 0755) < 0 && errno != EEXIST) ||
		    (mkdir(work, 0700) < 0 && errno != EEXIST))
			r = -errno;
		if (r == 0)
			r = sbxd_overlay_prepare(upper, rf->image, rf->state, shift);
		if (r == 0)
			r = sbxd_etc_put(diskfd, READY, "", 0, 0);
	}
	if (r == 0) {
		int up = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (up >= 0) {
			put_resolv(up, rf);
			close(up);
		}
		r = sbxd_overlay_mount(root, lower, upper, work);
	}
	if (r < 0)
		say(why, whylen, "cannot mount the overlay on the image");
	if (mapped)
		umount2(lower, MNT_DETACH); /* the overlay holds its own reference */
	return r;
}

int sbxd_rootfs_mount(const struct sbxd_rootfs *rf, char *why, size_t whylen)
{
	char img[PATH_MAX], disk[PATH_MAX], root[PATH_MAX];
	int diskfd, r;

	if (sub(img, rf->sbdir, "disk.img") < 0 || sub(disk, rf->sbdir, "disk") < 0 ||
	    sub(root, rf->sbdir, "root") < 0)
		return -ENAMETOOLONG;
	sbxd_rootfs_umount(rf->sbdir); /* what an earlier attempt left */
	r = sbx_mkdir_p(rf->sbdir, 0700);
	if (r < 0)
		return r;
	if ((mkdir(disk, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(root, 0755) < 0 && errno != EEXIST))
		return -errno;
	r = sbxd_disk_ensure(img, rf->disk_size, rf->idmap->base, rf->idmap->base, why, whylen);
	if (r == 0)
		r = sbxd_disk_mount(img, disk, why, whylen);
	if (r < 0)
		return r;
	diskfd = open(disk, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (diskfd < 0) {
		r = -errno;
	} else {
		if (!strcmp(rf->image, "/"))
			r = mount_default(rf, disk, diskfd, why, whylen);
		else
			r = mount_image(rf, disk, diskfd, why, whylen);
		close(diskfd);
	}
	if (r < 0)
		sbxd_rootfs_umount(rf->sbdir);
	return r;
}

void sbxd_rootfs_umount(const char *sbdir)
{
	static const char *const order[] = {"root", "lower", "disk"};
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < 3; i++)
		if (sub(p, sbdir, order[i]) == 0)
			while (umount2(p, MNT_DETACH) == 0)
				; /* stacked mounts, if any */
}

int sbxd_rootfs_host_resolv(struct sbx_buf *out)
{
	int r = sbx_read_small_file("/etc/resolv.conf", 65536, out);

	if (r == -ENOMEM)
		return r;
	if (r < 0)
		sbx_buf_reset(out);
	return sbx_buf_puts(out, ""); /* a terminated string, even empty */
}

int sbxd_rootfs_idmap_mount(const char *src, const char *target, int userns_fd)
{
	struct mount_attr a = {
	    .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV,
	    .userns_fd = (uint64_t)userns_fd,
	};
	int from, r = 0;

	/* idmapping applies to one mount: not recursive (an image is one tree) */
	from = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (from < 0)
		return -errno;
	if (mount_setattr(from, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0 ||
	    move_mount(from, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	close(from);
	return r;
}
