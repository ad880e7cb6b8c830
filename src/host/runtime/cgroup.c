/* cgroup.c - see cgroup.h.
 *
 * v2 needs the controllers enabled in cgroup.subtree_control of every
 * ancestor. The "no internal processes" rule forbids that in sbxd's own
 * group while processes live there, so on EBUSY sbxd moves itself into a
 * leaf "<own>/sbxd-daemon" first. Each controller is enabled separately so
 * that one missing controller does not take the others with it.
 */
#include "host/runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/fsutil.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/statedir.h"

#define CG_MOUNT "/sys/fs/cgroup"

static const char *const V1_NAMES[SBX_CG_N] = {"memory", "cpu", "pids"};
static const char *const V2_NAMES[SBX_CG_N] = {"memory", "cpu", "pids"};

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	size_t n = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r;
}

/* The path of this process's group in a hierarchy: "0::" for v2, or the v1
 * line whose controller list holds ctrl. */
static int own_path(const char *ctrl, char *out, size_t outlen)
{
	struct sbx_buf data = SBX_BUF_INIT;
	char *line, *next;
	int r = sbx_read_small_file("/proc/self/cgroup", 65536, &data);

	if (r < 0 || !data.data) {
		sbx_buf_release(&data);
		return r < 0 ? r : -ENOENT;
	}
	r = -ENOENT;
	for (line = data.data; *line; line = next) {
		char *nl = strchr(line, '\n'), *c1, *c2;
		char list[256];

		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		c1 = strchr(line, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2 || (size_t)(c2 - c1 - 1) >= sizeof(list) - 2)
			continue;
		snprintf(list, sizeof(list), ",%.*s,", (int)(c2 - c1 - 1), c1 + 1);
		if ((!ctrl && !strcmp(list, ",,") && !strncmp(line, "0:", 2)) ||
		    (ctrl && strstr(list, ctrl))) {
			snprintf(out, outlen, "%s", strcmp(c2 + 1, "/") ? c2 + 1 : "");
			r = 0;
			break;
		}
	}
	sbx_buf_release(&data);
	return r;
}

/* rmdir every subdirectory of base (stale sandbox groups of a crashed run) */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;
	char p[PATH_MAX + 256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (sbxd_pathf(p, sizeof(p), "%s/%s", base, e->d_name) < 0)
			continue;
		if (rmdir(p) < 0 && errno != ENOENT)
			sbx_debug("cgroup: cannot remove stale %s: %s", p, strerror(errno));
	}
	closedir(d);
}

static void detect_v1(struct sbxd_cg_root *root)
{
	char own[PATH_MAX], ctrl[32];
	int i;

	for (i = 0; i < SBX_CG_N; i++) {
		snprintf(ctrl, sizeof(ctrl), ",%s,", V1_NAMES[i]);
		if (own_path(ctrl, own, sizeof(own)) < 0)
			continue;
		if (sbxd_pathf(root->base[i], sizeof(root->base[i]), CG_MOUNT "/%s%s/sbxd",
			       V1_NAMES[i], own) < 0) {
			root->base[i][0] = '\0';
			continue;
		}
		if (mkdir(root->base[i], 0755) < 0 && errno != EEXIST) {
			sbx_debug("cgroup: cannot create %s: %s", root->base[i], strerror(errno));
			root->base[i][0] = '\0';
			continue;
		}
		remove_stale(root->base[i]);
		root->version = 1;
	}
}

/* Enables each controller in dir's subtree_control; returns a bit mask of
 * those now enabled, or -EBUSY when the directory holds processes. */
static int enable_controllers(const char *dir)
{
	char p[PATH_MAX + 32], v[16];
	int i, mask = 0, r;

	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", dir);
	for (i = 0; i < SBX_CG_N; i++) {
		snprintf(v, sizeof(v), "+%s", V2_NAMES[i]);
		r = write_file(p, v);
		if (r == -EBUSY)
			return r;
		if (r == 0)
			mask |= 1 << i;
	}
	return mask;
}

static void detect_v2(struct sbxd_cg_root *root)
{
	char own[PATH_MAX], dir[PATH_MAX], leaf[PATH_MAX + 32], base[PATH_MAX + 8];
	int mask, i;

	if (own_path(NULL, own, sizeof(own)) < 0)
		return;
	if (sbxd_pathf(dir, sizeof(dir), CG_MOUNT "%s", own) < 0)
		return;
	mask = enable_controllers(dir);
	if (mask == -EBUSY) {
		/* processes in our own group: move ourselves into a leaf */
		snprintf(leaf, sizeof(leaf), "%s/sbxd-daemon", dir);
		if ((mkdir(leaf, 0755) == 0 || errno == EEXIST)) {
			snprintf(leaf + strlen(leaf), sizeof(leaf) - strlen(leaf), "/cgroup.procs");
			if (write_file(leaf, "0") == 0)
				mask = enable_controllers(dir);
		}
	}
	snprintf(base, sizeof(base), "%s/sbxd", dir);
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return;
	remove_stale(base);
	mask = enable_controllers(base);
	if (mask < 0)
		return;
	root->version = 2;
	for (i = 0; i < SBX_CG_N; i++)
		if (mask & (1 << i))
			sbxd_pathf(root->base[i], sizeof(root->base[i]), "%s", base);
	if (!mask) /* no controller, but the group still tracks processes */
		sbxd_pathf(root->base[SBX_CG_PIDS], sizeof(root->base[0]), "%s", base);
}

void sbxd_cg_detect(struct sbxd_cg_root *root)
{
	struct stat st;

	memset(root, 0, sizeof(*root));
	if (stat(CG_MOUNT "/cgroup.controllers", &st) == 0)
		detect_v2(root);
	else
		detect_v1(root);
}

/* Limit values of controller i for t, written to the files of dir. */
static int apply_limit(int version, int i, const char *dir, const struct sbxd_itype *t, int ncpu)
{
	char p[PATH_MAX + 32], v[64];
	long long quota = (long long)t->cpu_milli * 100;
	int r;

	if (quota > (long long)ncpu * 100000)
		quota = (long long)ncpu * 100000;
	switch (i) {
	case SBX_CG_MEM:
		snprintf(p, sizeof(p), "%s/%s", dir,
			 version == 2 ? "memory.max" : "memory.limit_in_bytes");
		snprintf(v, sizeof(v), "%llu", (unsigned long long)t->memory);
		return write_file(p, v);
	case SBX_CG_CPU:
		if (version == 2) {
			snprintf(p, sizeof(p), "%s/cpu.max", dir);
			snprintf(v, sizeof(v), "%lld 100000", quota);
			return write_file(p, v);
		}
		snprintf(p, sizeof(p), "%s/cpu.cfs_period_us", dir);
		r = write_file(p, "100000");
		snprintf(p, sizeof(p), "%s/cpu.cfs_quota_us", dir);
		snprintf(v, sizeof(v), "%lld", quota);
		return r < 0 ? r : write_file(p, v);
	default:
		snprintf(p, sizeof(p), "%s/pids.max", dir);
		snprintf(v, sizeof(v), "%d", t->pids);
		return write_file(p, v);
	}
}

static bool already_made(const struct sbxd_cg *cg, const char *dir)
{
	size_t j;

	for (j = 0; j < cg->n; j++)
		if (!strcmp(cg->dirs[j], dir))
			return true;
	return false;
}

void sbxd_cg_create(const struct sbxd_cg_root *root, const char *id, const struct sbxd_itype *t,
		    int ncpu, struct sbxd_cg *cg, void (*note)(void *, const char *), void *arg)
{
	static const char *const what[SBX_CG_N] = {"memory limit", "CPU limit", "process limit"};
	char dir[PATH_MAX], msg[256];
	int i, r;

	memset(cg, 0, sizeof(*cg));
	for (i = 0; i < SBX_CG_N; i++) {
		r = -ENOENT;
		if (root->base[i][0] &&
		    (size_t)snprintf(dir, sizeof(dir), "%s/%s", root->base[i], id) < sizeof(dir)) {
			r = 0;
			if (!already_made(cg, dir)) {
				if (mkdir(dir, 0755) < 0 && errno != EEXIST)
					r = -errno;
				if (r == 0 && cg->n < SBX_CG_N) {
					snprintf(cg->dirs[cg->n], PATH_MAX, "%s", dir);
					snprintf(cg->procs[cg->n], sizeof(cg->procs[0]),
						 "%s/cgroup.procs", dir);
					cg->n++;
				}
			}
			if (r == 0)
				r = apply_limit(root->version, i, dir, t, ncpu);
		}
		if (r < 0) {
			snprintf(msg, sizeof(msg), "%s not applied: cgroup %s controller %s",
				 what[i], V1_NAMES[i], r == -ENOENT ? "unavailable" : strerror(-r));
			note(arg, msg);
		}
	}
}

int sbxd_cg_join(const struct sbxd_cg *cg, int pid)
{
	char v[24];
	size_t j, n = 0;
	unsigned u = (unsigned)pid;
	char tmp[24];

	/* itoa by hand: async-signal-safe */
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && n < sizeof(tmp));
	for (j = 0; j < n; j++)
		v[j] = tmp[n - 1 - j];
	v[n] = '\0';
	for (j = 0; j < cg->n; j++) {
		int fd = open(cg->procs[j], O_WRONLY | O_CLOEXEC), r = 0;

		if (fd < 0)
			return -errno;
		if (write(fd, v, n) != (ssize_t)n)
			r = errno ? -errno : -EIO;
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

int sbxd_cg_kill_all(const struct sbxd_cg *cg)
{
	size_t j;
	int count = 0;

	for (j = 0; j < cg->n; j++) {
		struct sbx_buf data = SBX_BUF_INIT;
		char *p, *end;

		if (sbx_read_small_file(cg->procs[j], 1 << 20, &data) < 0 || !data.data)
			continue;
		for (p = data.data; *p; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0)
				count++;
			while (*end == '\n')
				end++;
		}
		sbx_buf_release(&data);
	}
	return count;
}

int sbxd_cg_remove(struct sbxd_cg *cg)
{
	size_t j, keep = 0;
	int r = 0;

	for (j = 0; j < cg->n; j++) {
		if (rmdir(cg->dirs[j]) == 0 || errno == ENOENT)
			continue;
		r = -errno == -EBUSY ? -EBUSY : -errno;
		if (keep != j) {
			memcpy(cg->dirs[keep], cg->dirs[j], sizeof(cg->dirs[0]));
			memcpy(cg->procs[keep], cg->procs[j], sizeof(cg->procs[0]));
		}
		keep++;
	}
	cg->n = keep;
	return r;
}
