/* overlay.h - the writable root filesystem of a sandbox.
 *
 * STATE/sandboxes/<id>/ holds upper/ (the sandbox's changes, kept across
 * restarts of sbxd), work/ (overlayfs scratch) and root/ (the mount point).
 * The overlay is mounted in sbxd's private mount namespace, so it vanishes
 * with sbxd and never shows in the host's mount table.
 *
 * Hidden paths: before the first mount, upper/ gets *opaque* directories for
 * /tmp, /var/tmp, /run, /root, /home and for the state directory itself when
 * it lies inside the image, so the sandbox starts with those empty and can
 * never read the token, db.json or another sandbox's files through the
 * lower layer.
 */
#ifndef SBX_HOST_OVERLAY_H
#define SBX_HOST_OVERLAY_H

/* Creates sbdir/{upper,work,root} and the opaque directories. lower is the
 * image root, state_dir the real path of sbxd's state directory. 0 or
 * -errno. */
int sbx_overlay_prepare(const char *sbdir, const char *lower, const char *state_dir);

/* Mounts the overlay on sbdir/root (nodev). 0 or -errno; -EINVAL when a path
 * holds a character overlayfs options cannot carry (',' ':' '\'). */
int sbx_overlay_mount(const char *sbdir, const char *lower);

/* Detaches the overlay from sbdir/root (MNT_DETACH); a no-op when not
 * mounted. */
void sbx_overlay_umount(const char *sbdir);

#endif
