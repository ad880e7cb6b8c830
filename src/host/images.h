/* images.h - the image registry of sbxd: image name -> root filesystem dir.
 *
 * STATE/images.json is {"images": {"NAME": {"rootfs": "/abs/dir",
 * "added_at": "RFC 3339"}}}. It is read on every service creation, so
 * `sbxd image add` works while sbxd runs. Without a registration, the names
 * the Koyeb SDK uses by default (koyeb/sandbox[:tag], docker.io/koyeb/sandbox*,
 * ubuntu, ubuntu:latest, docker.io/library/ubuntu:latest) mean the default
 * image, written "/" (SBX_IMAGE_DEFAULT_ROOT): a generated tree over the
 * host's read-only /usr that holds no other host file (runtime/rootfs.h).
 * The host's "/" itself cannot be registered.
 */
#ifndef SBX_HOST_IMAGES_H
#define SBX_HOST_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/json.h"

#define SBX_IMAGE_DEFAULT_ROOT "/"

/* True for a name 1-255 printable, non-space characters long. */
bool sbxd_image_name_ok(const char *name);

/* True for the SDK default names listed above. */
bool sbxd_image_is_default_name(const char *name);

/* Loads the registry file; an absent file gives an empty registry.
 * 0 with a new reference in *ret, -EBADMSG for a corrupt file, -errno. */
int sbxd_images_load(const char *path, json_object **ret);

/* Resolves name through reg (borrowed; may be NULL) then the defaults.
 * 0 with the rootfs in out, -ENOENT for an unknown image, -ENAMETOOLONG. */
int sbxd_image_resolve(json_object *reg, const char *name, char *out, size_t outlen);

/* The offline subcommands. Each returns 0 or -errno and prints a message to
 * err on failure; ls prints the table to out. */
int sbxd_images_add(const char *path, const char *name, const char *dir, FILE *err);
int sbxd_images_rm(const char *path, const char *name, FILE *err);
int sbxd_images_ls(const char *path, FILE *out, FILE *err);

#endif
