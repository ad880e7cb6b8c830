/* rootfs.h - the root filesystem a sandbox sees, on its own disk.
 *
 * Layout of STATE/sandboxes/<id>/ (sbxd's private mount namespace):
 *
 *   disk.img   the sandbox's disk (runtime/disk.h), mounted on disk/
 *   disk/      .sbx-ready (first-start work done), and either
 *     root/    the default image's whole tree, or
 *     upper/ work/   the overlay layers over a registered image
 *   lower/     mount point of a registered image's idmapped clone (empty
 *              once the overlay holds it)
 *   root/      what bwrap binds as "/": a bind of disk/root, or the overlay
 *
 * The default image (rootfs "/", SBX_IMAGE_DEFAULT_ROOT) holds no host data:
 * at the first start disk/root gets the usual directories (/root 0700,
 * /tmp and /var/tmp 1777, /home, /var/{lib,cache,log,...}, /srv, /opt,
 * /run, /mnt), the host's merged-/usr links (bin, sbin, lib, lib64, ...)
 * and a generated /etc (etcgen.h), all owned by the sandbox's root (the
 * idmap's base). At every start the host's /usr is bound read-only (nosuid,
 * nodev) over root/usr, with a writable /usr/local from the sandbox's disk
 * over it, and /etc/resolv.conf is rewritten. Everything but /usr is the
 * sandbox's disk: it survives restarts of sbxd and goes with the sandbox.
 *
 * A registered image (a directory of host files owned by host root) is the
 * overlay's lower layer through an idmapped mount (mount_setattr
 * MOUNT_ATTR_IDMAP with a user namespace of the sandbox's idmap): the
 * sandbox's root owns its files as if they were its own, while the image
 * on the host is never written.
 */
#ifndef SBX_HOST_ROOTFS_H
#define SBX_HOST_ROOTFS_H

#include <stddef.h>
#include <stdint.h>

#include "host/runtime/userns.h"
#include "util/buf.h"

struct sbxd_rootfs {
	const char *sbdir; /* STATE/sandboxes/<id>, exists */
	const char *image; /* image root, or "/" for the default image */
	const char *state; /* sbxd's state dir (hidden if inside the image) */
	const char *hostname;
	const char *resolv; /* content of the sandbox's /etc/resolv.conf */
	uint64_t disk_size; /* bytes: the sandbox's disk */
	const struct sbxd_idmap *idmap;
	int userns_fd; /* the sandbox's user namespace, or -1 (one is made from
			* idmap when a registered image needs it) */
};

/* Mounts the sandbox's disk and builds and mounts its root on sbdir/root.
 * 0, or -errno with a short reason in why (may be NULL). On failure nothing
 * stays mounted. */
int sbxd_rootfs_mount(const struct sbxd_rootfs *rf, char *why, size_t whylen);

/* Detaches sbdir/root (with everything on it) and the disk. Idempotent. */
void sbxd_rootfs_umount(const char *sbdir);

/* The host's resolver configuration (/etc/resolv.conf, followed), at most
 * 64 KiB, appended to out; an empty string when there is none. 0 or
 * -ENOMEM. For sandboxes that share the host's network. */
int sbxd_rootfs_host_resolv(struct sbx_buf *out);

/* Makes an idmapped, read-only clone of the mount tree at src (a
 * directory) and attaches it on target: files owned by host id N appear
 * owned by the id that userns_fd maps N to. 0 or -errno. */
int sbxd_rootfs_idmap_mount(const char *src, const char *target, int userns_fd);

#endif
