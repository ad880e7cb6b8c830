/* images.c - image registry; see images.h.
 *
 * Writers (the offline subcommands) replace the file atomically, so a
 * running sbxd reading it on a create never sees half a file. Two writers at
 * once could lose one update; the subcommands are interactive and rare.
 */
#include "host/images.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "host/fsutil.h"
#include "util/statedir.h"
#include "util/timeutil.h"

#define MAX_REGISTRY (4u << 20)
#define MAX_NAME     255

bool sbxd_image_is_default_name(const char *n)
{
	return !strcmp(n, "koyeb/sandbox") || !strncmp(n, "koyeb/sandbox:", 14) ||
	       !strncmp(n, "docker.io/koyeb/sandbox", 23) ||
	       !strcmp(n, "docker.io/library/ubuntu:latest") || !strcmp(n, "ubuntu") ||
	       !strcmp(n, "ubuntu:latest");
}

int sbxd_images_load(const char *path, json_object **ret)
{
	struct sbx_buf data = SBX_BUF_INIT;
	json_object *o = NULL;
	int r;

	r = sbx_read_small_file(path, MAX_REGISTRY, &data);
	if (r == -ENOENT) {
		o = json_object_new_object();
		r = o ? 0 : -ENOMEM;
	} else if (r == 0) {
		r = sbx_json_parse(data.data, data.len, &o);
		if (r == 0 && !json_object_is_type(o, json_type_object)) {
			sbx_json_put(o);
			r = -EBADMSG;
		}
	}
	sbx_buf_release(&data);
	if (r == 0)
		*ret = o;
	return r;
}

int sbxd_image_resolve(json_object *reg, const char *name, char *out, size_t outlen)
{
	json_object *imgs = reg ? sbx_json_get(reg, "images") : NULL, *e = NULL;
	const char *root = NULL;

	if (imgs && json_object_is_type(imgs, json_type_object) &&
	    json_object_object_get_ex(imgs, name, &e))
		root = sbx_json_str(e, "rootfs");
	if (!root && sbxd_image_is_default_name(name))
		root = SBX_IMAGE_DEFAULT_ROOT;
	if (!root)
		return -ENOENT;
	if (strlen(root) >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, root, strlen(root) + 1);
	return 0;
}

static int save(const char *path, json_object *reg)
{
	struct sbx_buf b = SBX_BUF_INIT;
	int r = sbx_json_dump(&b, reg);

	if (r == 0)
		r = sbx_buf_putc(&b, '\n');
	if (r == 0)
		r = sbxd_write_atomic(path, b.data, b.len, 0600);
	sbx_buf_release(&b);
	return r;
}

/* The "images" object of reg, created when missing. Borrowed. */
static json_object *images_of(json_object *reg)
{
	json_object *imgs = sbx_json_get(reg, "images");

	if (imgs && json_object_is_type(imgs, json_type_object))
		return imgs;
	if (sbx_json_add(reg, "images", json_object_new_object()) < 0)
		return NULL;
	return sbx_json_get(reg, "images");
}

bool sbxd_image_name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (!len || len > MAX_NAME)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)n[i] <= ' ' || n[i] == 0x7f)
			return false;
	return true;
}

int sbxd_images_add(const char *path, const char *name, const char *dir, FILE *err)
{
	char real[PATH_MAX], when[32];
	json_object *reg = NULL, *imgs, *e = NULL;
	struct stat st;
	int r;

	if (!sbxd_image_name_ok(name)) {
		fprintf(err, "sbxd: bad image name '%s' (1-%d printable characters)\n", name,
			MAX_NAME);
		return -EINVAL;
	}
	if (!realpath(dir, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(err, "sbxd: %s is not a directory\n", dir);
		return -ENOTDIR;
	}
	if (!strcmp(real, "/")) {
		/* the host's own root would show the sandbox every host file */
		fprintf(err, "sbxd: the host's root / cannot be an image\n");
		return -EINVAL;
	}
	r = sbxd_images_load(path, &reg);
	if (r < 0) {
		fprintf(err, "sbxd: cannot read %s: %s\n", path, strerror(-r));
		return r;
	}
	sbx_rfc3339(time(NULL), when, sizeof(when));
	imgs = images_of(reg);
	e = json_object_new_object();
	r = (!imgs || !e) ? -ENOMEM : 0;
	if (r == 0)
		r = sbx_json_add_str(e, "rootfs", real);
	if (r == 0)
		r = sbx_json_add_str(e, "added_at", when);
	if (r == 0) {
		r = sbx_json_add(imgs, name, e);
		e = NULL;
	}
	if (r == 0)
		r = save(path, reg);
	if (r < 0)
		fprintf(err, "sbxd: cannot write %s: %s\n", path, strerror(-r));
	sbx_json_put(e);
	sbx_json_put(reg);
	return r;
}

int sbxd_images_rm(const char *path, const char *name, FILE *err)
{
	json_object *reg = NULL, *imgs;
	int r;

	r = sbxd_images_load(path, &reg);
	if (r < 0) {
		fprintf(err, "sbxd: cannot read %s: %s\n", path, strerror(-r));
		return r;
	}
	imgs = sbx_json_get(reg, "images");
	if (!imgs || !json_object_is_type(imgs, json_type_object) ||
	    !json_object_object_get_ex(imgs, name, NULL)) {
		fprintf(err, "sbxd: no image called '%s'\n", name);
		r = -ENOENT;
		goto out;
	}
	json_object_object_del(imgs, name);
	r = save(path, reg);
	if (r < 0)
		fprintf(err, "sbxd: cannot write %s: %s\n", path, strerror(-r));
out:
	sbx_json_put(reg);
	return r;
}

int sbxd_images_ls(const char *path, FILE *out, FILE *err)
{
	json_object *reg = NULL, *imgs;
	int r;

	r = sbxd_images_load(path, &reg);
	if (r < 0) {
		fprintf(err, "sbxd: cannot read %s: %s\n", path, strerror(-r));
		return r;
	}
	fprintf(out, "%-40s %s\n", "NAME", "ROOTFS");
	imgs = sbx_json_get(reg, "images");
	if (imgs && json_object_is_type(imgs, json_type_object)) {
		json_object_object_foreach(imgs, key, val)
		    fprintf(out, "%-40s %s\n", key,
			    sbx_json_str(val, "rootfs") ? sbx_json_str(val, "rootfs") : "?");
	}
	fprintf(out, "%-40s %s\n", "(koyeb/sandbox, ubuntu, ... by default)",
		"generated: the host's /usr read-only, nothing else of the host");
	sbx_json_put(reg);
	return 0;
}
