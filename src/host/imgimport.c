/* imgimport.c - see imgimport.h.
 *
 * The child that runs tar sets up its mounts as host root (it must: only
 * host root may make an idmapped mount), then joins the user namespace and
 * execs tar: from then on it has no privilege over anything of the host's.
 */
#include "host/imgimport.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/child.h"
#include "host/fsutil.h"
#include "host/images.h"
#include "host/runtime/userns.h"
#include "util/statedir.h"

/* In the forked child: read-only world, idmapped rw target, then tar as
 * root of userns. Never returns. */
static void extract_child(const char *dir, int tarfd, int userns)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
	char *argv[] = {"tar",
			"-x",
			"-f",
			"-",
			"--numeric-owner",
			"--same-owner",
			"-p",
			"--no-xattrs",
			"--exclude=dev/*",
			"--exclude=./dev/*",
			NULL};
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	struct mount_attr idm = {.attr_set =
				     MOUNT_ATTR_IDMAP | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID,
				 .attr_clr = MOUNT_ATTR_RDONLY, /* a clone of a read-only mount */
				 .userns_fd = (uint64_t)userns};
	int t;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) < 0)
		_exit(125);
	t = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (t < 0 || mount_setattr(t, "", AT_EMPTY_PATH, &idm, sizeof(idm)) < 0 ||
	    move_mount(t, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		_exit(124);
	if (chdir(dir) < 0 || dup2(tarfd, 0) < 0 || sbxd_userns_enter(userns) < 0)
		_exit(123);
	execve("/usr/bin/tar", argv, envp);
	execve("/bin/tar", argv, envp);
	_exit(127);
}

/* Extracts tarball into dir (empty, owned by root). 0 or -errno. */
static int extract(const char *dir, const char *tarball, FILE *err)
{
	static const struct sbxd_idmap map = {SBX_IDMAP_BASE_DEFAULT, SBX_IDMAP_COUNT_DEFAULT};
	int tarfd, ns, st, r = 0;
	pid_t pid;

	tarfd = open(tarball, O_RDONLY | O_CLOEXEC);
	if (tarfd < 0) {
		r = -errno;
		fprintf(err, "sbxd: cannot open %s: %s\n", tarball, strerror(-r));
		return r;
	}
	ns = sbxd_userns_open(&map);
	if (ns < 0) {
		close(tarfd);
		fprintf(err, "sbxd: cannot make a user namespace: %s\n", strerror(-ns));
		return ns;
	}
	fflush(err);
	pid = fork();
	if (pid == 0)
		extract_child(dir, tarfd, ns);
	if (pid < 0)
		r = -errno;
	while (pid > 0 && waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			r = -errno;
			break;
		}
	if (pid > 0 && r == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		fprintf(err, "sbxd: extracting %s failed (status %d)\n", tarball,
			sbxd_child_exit_code(st));
		r = -EIO;
	}
	close(ns);
	close(tarfd);
	return r;
}

/* rm -rf --one-file-system dir (links are removed, never followed). */
static void remove_tree(const char *dir)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	char *argv[] = {"/bin/rm", "-rf", "--one-file-system", "--", (char *)dir, NULL};
	pid_t pid;

	if (access("/usr/bin/rm", X_OK) == 0)
		argv[0] = "/usr/bin/rm";
	if (sbxd_spawn_simple(argv, envp, &pid) == 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* STATE/images/NAME.XXXXXX with NAME reduced to [A-Za-z0-9._-]. */
static int make_dir(const char *state_dir, const char *name, char *out, size_t len)
{
	char safe[64];
	size_t i;

	for (i = 0; name[i] && i < sizeof(safe) - 1; i++)
		safe[i] =
		    (isalnum((unsigned char)name[i]) || strchr("._-", name[i])) ? name[i] : '_';
	safe[i] = '\0';
	if (sbxd_pathf(out, len, "%s/images", state_dir) < 0)
		return -ENAMETOOLONG;
	if (sbx_mkdir_p(out, 0700) < 0 ||
	    sbxd_pathf(out, len, "%s/images/%s.XXXXXX", state_dir, safe) < 0)
		return -ENAMETOOLONG;
	if (!mkdtemp(out))
		return -errno;
	/* traversable: sandboxes' processes reach the image through it */
	return chmod(out, 0755) < 0 ? -errno : 0;
}

int sbxd_images_import(const char *state_dir, const char *name, const char *tarball, FILE *err)
{
	char dir[PATH_MAX], reg[PATH_MAX];
	int r;

	if (!sbxd_image_name_ok(name)) {
		fprintf(err, "sbxd: bad image name '%s'\n", name);
		return -EINVAL;
	}
	if (geteuid() != 0) {
		fprintf(err, "sbxd: image import needs root (user namespaces, idmapped "
			     "mounts)\n");
		return -EPERM;
	}
	if (sbxd_pathf(reg, sizeof(reg), "%s/images.json", state_dir) < 0)
		return -ENAMETOOLONG;
	r = make_dir(state_dir, name, dir, sizeof(dir));
	if (r < 0) {
		fprintf(err, "sbxd: cannot create a directory in %s/images: %s\n", state_dir,
			strerror(-r));
		return r;
	}
	r = extract(dir, tarball, err);
	if (r == 0)
		r = sbxd_images_add(reg, name, dir, err);
	if (r < 0)
		remove_tree(dir);
	return r;
}

void sbxd_images_drop_imported(const char *state_dir, const char *rootfs)
{
	char prefix[PATH_MAX];
	size_t n;

	if (sbxd_pathf(prefix, sizeof(prefix), "%s/images/", state_dir) < 0)
		return;
	n = strlen(prefix);
	if (!strncmp(rootfs, prefix, n) && rootfs[n] && !strchr(rootfs + n, '/') &&
	    strcmp(rootfs + n, "..") && strcmp(rootfs + n, "."))
		remove_tree(rootfs);
}
