/* mounts.c - read /proc/self/mountinfo; see mounts.h.
 *
 * Line format (proc(5)): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] -
 * FSTYPE SOURCE SUPEROPTS. Fields are space-separated with spaces, tabs,
 * newlines and backslashes octal-escaped.
 */
#include "cli/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void mounts_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Splits one mountinfo line; returns 0 with the mount point, fs type,
 * source (unescaped) and super options ("" if none) pointing into line, or
 * -EINVAL. */
static int parse_line(char *line, char **ret_mnt, char **ret_type, char **ret_src, char **ret_opts)
{
	char *fields[64];
	size_t n = 0, i;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \n", &save); tok && n < 64; tok = strtok_r(NULL, " \n", &save))
		fields[n++] = tok;
	if (n < 7)
		return -EINVAL;
	for (i = 6; i < n; i++)
		if (!strcmp(fields[i], "-"))
			break;
	if (i + 2 >= n)
		return -EINVAL;
	mounts_unescape(fields[4]);
	mounts_unescape(fields[i + 2]);
	*ret_mnt = fields[4];
	*ret_type = fields[i + 1];
	*ret_src = fields[i + 2];
	*ret_opts = i + 3 < n ? fields[i + 3] : "";
	return 0;
}

static int is_under(const char *path, const char *mnt)
{
	size_t n = strlen(mnt);

	if (!strcmp(mnt, "/"))
		return 1;
	return !strncmp(path, mnt, n) && (path[n] == '/' || path[n] == '\0');
}

int mounts_find(const char *mountinfo, const char *path, struct sbx_buf *ret_mnt,
		struct sbx_buf *ret_src)
{
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	char *line = NULL, *mnt, *type, *src, *opts;
	size_t cap = 0, best = 0;
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (parse_line(line, &mnt, &type, &src, &opts) < 0 ||
		    strcmp(type, "fuse.sbxfs") != 0)
			continue;
		/* later lines are mounted on top: take the innermost, last one */
		if (is_under(path, mnt) && strlen(mnt) >= best) {
			best = strlen(mnt);
			sbx_buf_reset(ret_mnt);
			r = sbx_buf_puts(ret_mnt, mnt);
			if (r == 0 && ret_src) {
				sbx_buf_reset(ret_src);
				r = sbx_buf_puts(ret_src, src);
			}
			if (r < 0)
				break;
		}
	}
	free(line);
	fclose(f);
	return r;
}

int mounts_is_sbxfs(const char *mountinfo, const char *dir)
{
	struct sbx_buf b = SBX_BUF_INIT;
	int r = mounts_find(mountinfo, dir, &b, NULL);

	if (r == 0)
		r = !strcmp(b.data, dir);
	else if (r == -ENOENT)
		r = 0;
	sbx_buf_release(&b);
	return r;
}

int mounts_sync(const char *mnt)
{
	struct sbx_buf p = SBX_BUF_INIT;
	int fd, r;

	r = sbx_buf_printf(&p, "%s/.ctl/ctl", mnt);
	fd = r < 0 ? r : open(p.data, O_WRONLY | O_CLOEXEC);
	sbx_buf_release(&p);
	if (fd < 0)
		return r < 0 ? r : -errno;
	r = write(fd, "sync\n", 5) == 5 ? 0 : -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Was the FUSE mount made by this user? Its super options carry the
 * mounter's uid (user_id=, which the kernel takes from fusermount's
 * caller): another user's "sbxfs" could be any FUSE server, and one that
 * never answers must not hang our commands. */
static bool mounted_by_me(const char *opts)
{
	char want[32];
	const char *p;
	size_t n;

	n = (size_t)snprintf(want, sizeof(want), "user_id=%u", (unsigned)getuid());
	for (p = strstr(opts, want); p; p = strstr(p + 1, want))
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* Does the source "SANDBOX:/dir" name one of names? */
static bool source_names(const char *src, const char *const *names, size_t n)
{
	const char *colon = strchr(src, ':');
	size_t len = colon ? (size_t)(colon - src) : strlen(src), i;

	for (i = 0; i < n; i++)
		if (names[i] && strlen(names[i]) == len && !memcmp(src, names[i], len))
			return true;
	return false;
}

/* Says, once SLOW_SYNC_MS have passed, what a sync of the mounts that is
 * still going waits for: stores in flight on a slow or stopped link (up to
 * op_timeout), with nothing on the screen otherwise. */
#define SLOW_SYNC_MS 2000

struct slow_sync {
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool done;
	const char *of; /* the sandbox, as the command named it */
};

static void *slow_sync_note(void *ud)
{
	struct slow_sync *ss = ud;
	struct timespec ts;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SLOW_SYNC_MS / 1000;
	pthread_mutex_lock(&ss->m);
	while (!ss->done && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&ss->cv, &ss->m, &ts);
	if (!ss->done)
		fprintf(stderr,
			"sbx: waiting for files written through a mount of %s to reach the "
			"sandbox (SBX_NO_MOUNT_SYNC=1 does not wait)\n",
			ss->of);
	pthread_mutex_unlock(&ss->m);
	return NULL;
}

/* mounts_sync(mnt), and with of (the sandbox's name) a note on stderr
 * when it lasts (slow_sync_note). */
static int sync_noting(const char *mnt, const char *of)
{
	struct slow_sync ss = {.of = of};
	bool noting;
	pthread_t t;
	int r;

	if (!of)
		return mounts_sync(mnt);
	pthread_mutex_init(&ss.m, NULL);
	pthread_cond_init(&ss.cv, NULL);
	noting = pthread_create(&t, NULL, slow_sync_note, &ss) == 0;
	r = mounts_sync(mnt);
	if (noting) {
		pthread_mutex_lock(&ss.m);
		ss.done = true;
		pthread_cond_signal(&ss.cv);
		pthread_mutex_unlock(&ss.m);
		pthread_join(t, NULL);
	}
	pthread_mutex_destroy(&ss.m);
	pthread_cond_destroy(&ss.cv);
	return r;
}

int mounts_sync_sandbox(const char *mountinfo, const char *const *names, size_t n, bool note)
{
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	char *line = NULL, *mnt, *type, *src, *opts;
	size_t cap = 0;
	int r, first = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (parse_line(line, &mnt, &type, &src, &opts) < 0 ||
		    strcmp(type, "fuse.sbxfs") != 0 || !source_names(src, names, n) ||
		    !mounted_by_me(opts))
			continue;
		r = sync_noting(mnt, note ? names[0] : NULL);
		/* another user's mount, or one whose server is gone: not ours to wait for */
		if (r < 0 && r != -EACCES && r != -EPERM && r != -ENOTCONN && r != -ENOENT &&
		    !first)
			first = r;
	}
	free(line);
	fclose(f);
	return first;
}
