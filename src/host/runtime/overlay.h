/* overlay.h - a registered image under a sandbox's writable layer.
 *
 * The image (a root filesystem directory) is the read-only lower layer; the
 * upper and work directories live on the sandbox's disk (rootfs.h). The
 * overlay is mounted in sbxd's private mount namespace, nodev and nosuid,
 * so it vanishes with sbxd and never shows in the host's mount table.
 *
 * Hidden paths: at the first start, upper gets *opaque* directories for
 * /tmp, /var/tmp, /run, /root, /home and for the state directory itself when
 * it lies inside the image, so the sandbox starts with those empty and can
 * never read the token, db.json or another sandbox's files through the
 * lower layer.
 */
#ifndef SBX_HOST_OVERLAY_H
#define SBX_HOST_OVERLAY_H

#include <sys/types.h>

/* Fills the empty, existing upper with the opaque directories. lower is the
 * image root, state_dir the real path of sbxd's state directory. Directories
 * made in upper get the owner of their lower twin plus shift (the sandbox's
 * idmap base when the lower layer is idmapped, else 0). Call once, on a
 * fresh upper (it follows the links a sandbox could plant). 0 or -errno. */
int sbxd_overlay_prepare(const char *upper, const char *lower, const char *state_dir, uid_t shift);

/* Mounts the overlay on root (nodev, nosuid). 0 or -errno; -EINVAL when a
 * path holds a character overlayfs options cannot carry (',' ':' '\'). */
int sbxd_overlay_mount(const char *root, const char *lower, const char *upper, const char *work);

#endif
