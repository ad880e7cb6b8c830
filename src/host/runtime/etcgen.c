/* etcgen.c - see etcgen.h.
 *
 * The copy walks the host's /etc with *at() calls on directory fds opened
 * O_NOFOLLOW, so a link in the host's /etc is copied as a link and never
 * followed to somewhere else. The accounts are a fixed list (Debian's
 * base-passwd system accounts): the host's own users and their homes are
 * host data too.
 */
#include "host/runtime/etcgen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/statedir.h"

/* First components copied from the host's /etc (fnmatch patterns). */
static const char *const ALLOW[] = {
    "alternatives",
    "bash.bashrc",
    "bash_completion",
    "bash_completion.d",
    "ca-certificates",
    "ca-certificates.conf",
    "debian_version",
    "ethertypes",
    "gai.conf",
    "host.conf",
    "inputrc",
    "issue",
    "issue.net",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "login.defs",
    "lsb-release",
    "magic",
    "magic.mime",
    "mime.types",
    "nanorc",
    "networks",
    "os-release",
    "perl",
    "profile",
    "profile.d",
    "protocols",
    "python3",
    "python3.*",
    "rpc",
    "services",
    "shells",
    "skel",
    "ssl",
    "timezone",
    "vim",
    "xattr.conf",
};

/* Components never copied, wherever they appear (fnmatch patterns). */
static const char *const DENY[] = {
    "shadow*", "gshadow*", "*shadow-", "passwd-",     "group-",
    "ssh",     "ssh_*",	   "sudoers*", "private",     "machine-id",
    "*.key",   "*secret*", "*token*",  "krb5.keytab", "*.keytab",
};

static bool matches(const char *const *pats, size_t n, const char *name, size_t len)
{
	char comp[NAME_MAX + 1];
	size_t i;

	if (len > NAME_MAX)
		return false;
	memcpy(comp, name, len);
	comp[len] = '\0';
	for (i = 0; i < n; i++)
		if (fnmatch(pats[i], comp, 0) == 0)
			return true;
	return false;
}

bool sbxd_etc_allowed(const char *rel)
{
	const char *p = rel;
	bool first = true;

	if (!*rel || *rel == '/')
		return false;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && !strncmp(p, "..", 2)))
			return false;
		if (first && !matches(ALLOW, sizeof(ALLOW) / sizeof(ALLOW[0]), p, len))
			return false;
		if (matches(DENY, sizeof(DENY) / sizeof(DENY[0]), p, len))
			return false;
		first = false;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

static const char PASSWD[] = "root:x:0:0:root:/root:/bin/bash\n"
			     "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
			     "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
			     "sys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
			     "sync:x:4:65534:sync:/bin:/bin/sync\n"
			     "games:x:5:60:games:/usr/games:/usr/sbin/nologin\n"
			     "man:x:6:12:man:/var/cache/man:/usr/sbin/nologin\n"
			     "lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\n"
			     "mail:x:8:8:mail:/var/mail:/usr/sbin/nologin\n"
			     "news:x:9:9:news:/var/spool/news:/usr/sbin/nologin\n"
			     "uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin\n"
			     "proxy:x:13:13:proxy:/bin:/usr/sbin/nologin\n"
			     "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
			     "backup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n"
			     "list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin\n"
			     "irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin\n"
			     "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

static const char GROUP[] = "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\n"
			    "disk:x:6:\nlp:x:7:\nmail:x:8:\nnews:x:9:\nuucp:x:10:\nman:x:12:\n"
			    "proxy:x:13:\nkmem:x:15:\ndialout:x:20:\nfax:x:21:\nvoice:x:22:\n"
			    "cdrom:x:24:\nfloppy:x:25:\ntape:x:26:\nsudo:x:27:\naudio:x:29:\n"
			    "dip:x:30:\nwww-data:x:33:\nbackup:x:34:\noperator:x:37:\n"
			    "list:x:38:\nirc:x:39:\nsrc:x:40:\nutmp:x:43:\nvideo:x:44:\n"
			    "sasl:x:45:\nplugdev:x:46:\nstaff:x:50:\ngames:x:60:\nusers:x:100:\n"
			    "nogroup:x:65534:\n";

static const char NSSWITCH[] = "passwd:         files\n"
			       "group:          files\n"
			       "shadow:         files\n"
			       "hosts:          files dns\n"
			       "networks:       files\n"
			       "protocols:      files\n"
			       "services:       files\n"
			       "ethers:         files\n"
			       "rpc:            files\n"
			       "netgroup:       files\n";

int sbxd_etc_put(int dirfd, const char *name, const char *content, uid_t uid, gid_t gid)
{
	char tmp[NAME_MAX + 1];
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), ".%s.sbx-tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = sbx_write_all(fd, content, strlen(content));
	if (r == 0 && (fchown(fd, uid, gid) < 0 || fchmod(fd, 0644) < 0))
		r = -errno;
	close(fd);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

static int put_link(int dirfd, const char *name, const char *target, uid_t uid, gid_t gid)
{
	if (symlinkat(target, dirfd, name) < 0 && errno != EEXIST)
		return -errno;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int generated(int dirfd, const struct sbxd_etc_params *p)
{
	char hosts[512], hostname[128];
	int r;

	if (snprintf(hostname, sizeof(hostname), "%s\n", p->hostname) >= (int)sizeof(hostname) ||
	    snprintf(hosts, sizeof(hosts),
		     "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost "
		     "ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
		     p->hostname) >= (int)sizeof(hosts))
		return -ENAMETOOLONG;
	r = sbxd_etc_put(dirfd, "passwd", PASSWD, p->uid, p->gid);
	if (r == 0)
		r = sbxd_etc_put(dirfd, "group", GROUP, p->uid, p->gid);
	if (r == 0)
		r = sbxd_etc_put(dirfd, "nsswitch.conf", NSSWITCH, p->uid, p->gid);
	if (r == 0)
		r = sbxd_etc_put(dirfd, "hostname", hostname, p->uid, p->gid);
	if (r == 0)
		r = sbxd_etc_put(dirfd, "hosts", hosts, p->uid, p->gid);
	if (r == 0)
		r = sbxd_etc_put(dirfd, "resolv.conf", p->resolv ? p->resolv : "", p->uid, p->gid);
	if (r == 0)
		r = put_link(dirfd, "mtab", "../proc/self/mounts", p->uid, p->gid);
	return r;
}

/* The walk's budget and owner. */
struct walk {
	uid_t uid;
	gid_t gid;
	size_t entries;
	size_t bytes;
};

static int copy_tree(int src, int dst, char *rel, size_t rlen, int depth, struct walk *w);

static int copy_file(int src, int dst, const char *name, const struct stat *st, struct walk *w)
{
	char buf[65536];
	int in, out, r = 0;
	ssize_t n;

	if ((size_t)st->st_size > SBX_ETC_MAX_BYTES - w->bytes)
		return 0; /* over budget: skipped */
	in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return 0; /* unreadable on the host: skipped */
	out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = errno == EEXIST ? 0 : -errno;
		goto out;
	}
	while (r == 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		w->bytes += (size_t)n;
		if (w->bytes > SBX_ETC_MAX_BYTES)
			r = -EFBIG;
		else
			r = sbx_write_all(out, buf, (size_t)n);
	}
	if (r == 0 && (fchown(out, w->uid, w->gid) < 0 || fchmod(out, st->st_mode & 0777) < 0))
		r = -errno;
	close(out);
out:
	close(in);
	return r;
}

static int copy_link(int src, int dst, const char *name, struct walk *w)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);

	if (n <= 0)
		return 0;
	target[n] = '\0';
	return put_link(dst, name, target, w->uid, w->gid);
}

static int copy_dir(int src, int dst, const char *name, char *rel, size_t rlen, int depth,
		    const struct stat *st, struct walk *w)
{
	int s, d, r;

	if (depth >= SBX_ETC_MAX_DEPTH)
		return 0;
	s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0)
		return 0;
	if (mkdirat(dst, name, 0700) < 0 && errno != EEXIST) {
		close(s);
		return -errno;
	}
	d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0) {
		close(s);
		return -errno;
	}
	r = copy_tree(s, d, rel, rlen, depth + 1, w);
	if (r == 0 && (fchown(d, w->uid, w->gid) < 0 || fchmod(d, st->st_mode & 0777) < 0))
		r = -errno;
	close(s);
	close(d);
	return r;
}

/* One entry of the walk: rel holds its path relative to /etc. */
static int copy_entry(int src, int dst, const char *name, char *rel, size_t rlen, int depth,
		      struct walk *w)
{
	struct stat st;

	if (!sbxd_etc_allowed(rel) || fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (++w->entries > SBX_ETC_MAX_ENTRIES)
		return -E2BIG;
	if (S_ISLNK(st.st_mode))
		return copy_link(src, dst, name, w);
	/* what host root keeps from other users stays on the host */
	if (S_ISREG(st.st_mode) && (st.st_mode & S_IROTH))
		return copy_file(src, dst, name, &st, w);
	if (S_ISDIR(st.st_mode) && (st.st_mode & (S_IROTH | S_IXOTH)) == (S_IROTH | S_IXOTH))
		return copy_dir(src, dst, name, rel, rlen, depth, &st, w);
	return 0;
}

/* Copies the allowed entries of directory src into dst. rel (PATH_MAX
 * bytes) holds the path of src relative to /etc, rlen its length. */
static int copy_tree(int src, int dst, char *rel, size_t rlen, int depth, struct walk *w)
{
	int fd = dup(src), r = 0;
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (r == 0 && (e = readdir(dir))) {
		int n;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n = snprintf(rel + rlen, PATH_MAX - rlen, "%s%s", rlen ? "/" : "", e->d_name);
		if (n < 0 || (size_t)n >= PATH_MAX - rlen)
			continue;
		r = copy_entry(src, dst, e->d_name, rel, rlen + (size_t)n, depth, w);
		rel[rlen] = '\0';
	}
	closedir(dir);
	return r;
}

int sbxd_etc_generate(int dirfd, const struct sbxd_etc_params *p)
{
	struct walk w = {p->uid, p->gid, 0, 0};
	char rel[PATH_MAX] = "";
	int src, r;

	src = open(p->host_etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src >= 0) {
		r = copy_tree(src, dirfd, rel, 0, 0, &w);
		close(src);
		if (r < 0)
			return r;
	}
	r = generated(dirfd, p);
	if (r == 0 && (fchown(dirfd, p->uid, p->gid) < 0 || fchmod(dirfd, 0755) < 0))
		r = -errno;
	return r;
}
