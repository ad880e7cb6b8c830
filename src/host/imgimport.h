/* imgimport.h - `sbxd image import NAME FILE.tar`: a root filesystem from a
 * tarball (as `docker export` or `podman export` write them).
 *
 * The tarball is untrusted: it is extracted by GNU tar running as root of a
 * user namespace that maps 0..65535 to the default sandbox range, in a
 * private mount namespace where every mount is read-only except the target
 * directory, which is an idmapped mount of STATE/images/NAME.XXXXXX. So tar
 * holds no privilege over the host, can write nowhere else even through a
 * planted link, and the ownership it restores lands on disk as plain
 * 0..65535 (what `image add` expects of a directory: host root's files),
 * shifted to each sandbox's range when the image is used. Device nodes and
 * /dev entries are not extracted. The image is registered under NAME once
 * extraction succeeded; on failure the directory is removed.
 */
#ifndef SBX_HOST_IMGIMPORT_H
#define SBX_HOST_IMGIMPORT_H

#include <stdio.h>

/* Imports tarball into state_dir/images/ and registers it as name in
 * state_dir/images.json. Needs root. 0 or -errno, with a message on err. */
int sbxd_images_import(const char *state_dir, const char *name, const char *tarball, FILE *err);

/* Removes rootfs when it is an imported image's directory (directly in
 * state_dir/images/); anything else is left alone. Sandboxes still using
 * the image lose their lower layer: delete them first. */
void sbxd_images_drop_imported(const char *state_dir, const char *rootfs);

#endif
