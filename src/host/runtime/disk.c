/* disk.c - see disk.h.
 *
 * Loop devices: LOOP_CTL_GET_FREE names (or creates) a free device; another
 * process may take it before our LOOP_CONFIGURE, which then fails with
 * EBUSY, so a few attempts are made. In a container /dev may be a tmpfs
 * holding only loop0-7: a device the kernel made beyond those gets its node
 * here.
 */
#include "host/runtime/disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/child.h"
#include "host/fsutil.h"
#include "util/buf.h"
#include "util/statedir.h"

#define LOOP_ATTEMPTS  8
#define LOOP_MAJOR     7
#define UNBIND_POLLS   100
#define UNBIND_POLL_US 20000

static void say(char *why, size_t len, const char *msg)
{
	if (why && len)
		snprintf(why, len, "%s", msg);
}

static int find_mkfs(char *out, size_t len)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (sbxd_pathf(out, len, "%s/mkfs.ext4", dirs[i]) == 0 && access(out, X_OK) == 0)
			return 0;
	return -ENOENT;
}

/* Runs mkfs.ext4 on path and waits for it. 0 or -EIO. */
static int run_mkfs(const char *mkfs, const char *path, uid_t uid, gid_t gid)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	char ext[128];
	char *argv[] = {(char *)mkfs, "-q", "-F", "-m", "0", "-E", ext, "--", (char *)path, NULL};
	pid_t pid;
	int st, r;

	/* lazy init: the image stays sparse, mkfs writes a few MiB */
	snprintf(ext, sizeof(ext),
		 "root_owner=%u:%u,nodiscard,lazy_itable_init=1,lazy_journal_init=1", (unsigned)uid,
		 (unsigned)gid);
	r = sbxd_spawn_simple(argv, envp, &pid);
	if (r < 0)
		return r;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 0 : -EIO;
}

int sbxd_disk_ensure(const char *img, uint64_t size, uid_t uid, gid_t gid, char *why, size_t whylen)
{
	char tmp[PATH_MAX], mkfs[PATH_MAX];
	struct stat st;
	int fd, r;

	if (stat(img, &st) == 0)
		return 0;
	if (size < SBX_DISK_MIN)
		size = SBX_DISK_MIN;
	if (find_mkfs(mkfs, sizeof(mkfs)) < 0) {
		say(why, whylen, "mkfs.ext4 not found (install e2fsprogs)");
		return -ENOENT;
	}
	if (sbxd_pathf(tmp, sizeof(tmp), "%s.tmp", img) < 0)
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	close(fd);
	if (r == 0) {
		r = run_mkfs(mkfs, tmp, uid, gid);
		if (r < 0)
			say(why, whylen, "mkfs.ext4 failed");
	}
	if (r == 0 && rename(tmp, img) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* True when /sys/block/NAME/loop/backing_file names the file real. */
static bool bound_to(const char *name, const char *real)
{
	char p[PATH_MAX];
	struct sbx_buf b = SBX_BUF_INIT;
	bool yes = false;

	if (sbxd_pathf(p, sizeof(p), "/sys/block/%s/loop/backing_file", name) == 0 &&
	    sbx_read_small_file(p, PATH_MAX + 16, &b) == 0 && b.len) {
		while (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		yes = !strcmp(b.data, real);
	}
	sbx_buf_release(&b);
	return yes;
}

/* -EBUSY when a loop device is still bound to the file real. */
static int check_unbound(const char *real)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int r = 0;

	if (!d)
		return 0; /* no sysfs: nothing to learn */
	while (r == 0 && (e = readdir(d)))
		if (!strncmp(e->d_name, "loop", 4) && bound_to(e->d_name, real))
			r = -EBUSY;
	closedir(d);
	return r;
}

/* Opens /dev/loopN, making its node when /dev lacks it. fd or -errno. */
static int open_loop(int n, char *dev, size_t devlen)
{
	int fd;

	if (sbxd_pathf(dev, devlen, "/dev/loop%d", n) < 0)
		return -ENAMETOOLONG;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mknod(dev, S_IFBLK | 0660, makedev(LOOP_MAJOR, (unsigned)n)) < 0 &&
		    errno != EEXIST)
			return -errno;
		fd = open(dev, O_RDWR | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/* Binds imgfd to a free loop device (autoclear). Its fd, or -errno. */
static int attach(int imgfd, char *dev, size_t devlen)
{
	struct loop_config cfg;
	int ctl, fd = -ENODEV, i, n;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	for (i = 0; i < LOOP_ATTEMPTS; i++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			fd = -errno;
			break;
		}
		fd = open_loop(n, dev, devlen);
		if (fd < 0)
			break;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)imgfd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(fd);
		fd = -errno;
		if (fd != -EBUSY)
			break; /* taken by someone else between the two calls: retry */
	}
	close(ctl);
	return fd;
}

int sbxd_disk_mount(const char *img, const char *dir, char *why, size_t whylen)
{
	char real[PATH_MAX], dev[64];
	int imgfd = -1, lfd = -1, r, i;

	if (!realpath(img, real))
		return -errno;
	/* the mounts of a sandbox that just died (or of an sbxd killed a
	 * moment ago) go when its last process is reaped, a few ms later:
	 * the kernel sends no event we could wait for, so poll, bounded */
	for (i = 0; (r = check_unbound(real)) == -EBUSY && i < UNBIND_POLLS; i++)
		usleep(UNBIND_POLL_US);
	if (r < 0) {
		say(why, whylen, "a loop device is still bound to the disk image");
		return r;
	}
	imgfd = open(real, O_RDWR | O_CLOEXEC);
	if (imgfd < 0)
		return -errno;
	lfd = attach(imgfd, dev, sizeof(dev));
	if (lfd < 0) {
		r = lfd;
		say(why, whylen, "no free loop device");
		goto out;
	}
	sbxd_disk_umount(dir); /* a stale mount of an earlier attempt */
	if (mount(dev, dir, "ext4", MS_NODEV | MS_NOSUID, "errors=remount-ro,noinit_itable") < 0) {
		r = -errno;
		say(why, whylen, "cannot mount the disk image (ext4)");
	}
out:
	if (lfd >= 0)
		close(lfd); /* autoclear: the mount holds the device now */
	close(imgfd);
	return r;
}

void sbxd_disk_umount(const char *dir)
{
	while (umount2(dir, MNT_DETACH) == 0)
		;
}
