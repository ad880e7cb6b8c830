/* etcgen.h - the minimal /etc of the default image.
 *
 * The default image shows the host's programs, never the host's data. Its
 * /etc is written fresh for each sandbox: accounts, groups, hosts, hostname,
 * the resolver and nsswitch are generated (no password hash, no host user);
 * a short allowlist of harmless host files (CA certificates, the links of
 * /etc/alternatives, the dynamic loader's cache, time zone, shell start-up
 * files, ...) is copied. Whatever the allowlist says, a path with a denied
 * component (shadow files, ssh, sudoers, ssl/private, machine-id, keys) is
 * never copied, nor a file or directory the host does not let every user
 * read: a file host root keeps to itself is not for a sandbox.
 *
 * Everything written is owned by the given uid/gid (the sandbox's root),
 * set-id bits stripped. The copy follows no symbolic link (links are copied
 * as links) and is bounded in depth, entry count and bytes.
 */
#ifndef SBX_HOST_ETCGEN_H
#define SBX_HOST_ETCGEN_H

#include <stdbool.h>
#include <sys/types.h>

struct sbxd_etc_params {
	const char *host_etc; /* copy allowlisted entries from here ("/etc") */
	const char *hostname; /* /etc/hostname and the 127.0.1.1 line */
	const char *resolv;   /* the whole content of /etc/resolv.conf */
	uid_t uid;	      /* owner of every file written */
	gid_t gid;
};

/* Bounds of the copy from the host. */
#define SBX_ETC_MAX_DEPTH   8
#define SBX_ETC_MAX_ENTRIES 20000
#define SBX_ETC_MAX_BYTES   (64u << 20)

/* True when rel (a path relative to /etc, no leading slash, e.g.
 * "ssl/certs/ca-certificates.crt") may be copied from the host: its first
 * component is allowlisted and no component is denied. Pure. */
bool sbxd_etc_allowed(const char *rel);

/* Fills the existing, empty directory dir (the image's /etc) from p. 0 or
 * -errno; an entry of the host that cannot be read is skipped, a failure
 * to write is an error. */
int sbxd_etc_generate(int dirfd, const struct sbxd_etc_params *p);

/* Replaces the regular file name in dirfd with content, owned by uid/gid,
 * mode 0644, through a temporary and a rename, following no symbolic link
 * (dirfd may be a directory the sandbox controls). 0 or -errno. */
int sbxd_etc_put(int dirfd, const char *name, const char *content, uid_t uid, gid_t gid);

#endif
