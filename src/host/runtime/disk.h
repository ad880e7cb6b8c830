/* disk.h - a sandbox's disk: a sparse ext4 image file on a loop device.
 *
 * Writes inside a sandbox land on its own filesystem of a fixed size, so
 * they fail with ENOSPC at the instance type's limit and the host's disk
 * loses at most that much. The image is sparse: it costs what was written.
 *
 * Created at the first start (mkfs.ext4 with the sandbox's root as owner of
 * its root directory, on a temporary file renamed into place, so a crash
 * never leaves a half-made disk), kept across restarts, removed with the
 * sandbox's state directory on delete.
 *
 * Mounted through a loop device set up with LOOP_CONFIGURE and
 * LO_FLAGS_AUTOCLEAR: the device frees itself when the last mount of it
 * goes. sbxd's mounts live in its private mount namespace, so a crash of
 * sbxd unmounts everything and frees the devices too, once the last process
 * of the old sandboxes is gone. A device still bound to the image is waited
 * for (up to 2 s, blocking), then refused (-EBUSY) rather than mounting the
 * filesystem twice.
 */
#ifndef SBX_HOST_DISK_H
#define SBX_HOST_DISK_H

#include <stdint.h>
#include <sys/types.h>

#define SBX_DISK_MIN (64ull << 20)

/* Creates img (size bytes, at least SBX_DISK_MIN) with an ext4 filesystem
 * whose root directory is owned by uid:gid, unless img exists. 0 or -errno;
 * why (may be NULL) gets a reason. */
int sbxd_disk_ensure(const char *img, uint64_t size, uid_t uid, gid_t gid, char *why,
		     size_t whylen);

/* Mounts img on dir (nodev, nosuid). 0 or -errno; -EBUSY when a loop device
 * is still bound to img; -ENOSPC-like errors from the loop driver when no
 * loop device is left. */
int sbxd_disk_mount(const char *img, const char *dir, char *why, size_t whylen);

/* Detaches dir (MNT_DETACH): the loop device goes when the last user of the
 * filesystem does. A no-op when nothing is mounted there. */
void sbxd_disk_umount(const char *dir);

#endif
