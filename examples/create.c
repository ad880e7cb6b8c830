/* create.c - create a sandbox, wait until it is ready, print what it is,
 * and delete it again.
 *
 *   KOYEB_API_HOST=... KOYEB_API_TOKEN=... ./sbx-example-create [NAME]
 *   (or: eval "$(sbx host env)" for the local host sbxd)
 *
 * Build outside the tree: cc create.c $(pkg-config --cflags --libs libsbx)
 */
#include <stdio.h>

#include <sbx/sbx.h>

int main(int argc, char **argv)
{
	struct sbx_client *c = NULL;
	struct sbx_sandbox *sb = NULL;
	struct sbx_create_opts o = {0};
	struct sbx_err err = {0};
	enum sbx_status st;
	int rc = 1;

	o.name = argc > 1 ? argv[1] : "example-create";
	o.wait_ready = true;			/* return once it is HEALTHY */
	o.no_ports = true;			/* nothing to serve */
	if (sbx_client_new(NULL, &c, &err) < 0) /* KOYEB_API_HOST and _TOKEN */
		goto out;
	if (sbx_sandbox_create(c, &o, &sb, &err) < 0)
		goto out;
	if (sbx_sandbox_status(sb, &st, &err) < 0)
		goto out;
	printf("created %s (id %s, image %s): %s\n", sbx_sandbox_name(sb), sbx_sandbox_id(sb),
	       sbx_sandbox_image(sb), sbx_status_name(st));
	if (sbx_sandbox_delete(sb, &err) < 0 || sbx_sandbox_wait_deleted(sb, 60, &err) < 0)
		goto out;
	printf("deleted %s\n", sbx_sandbox_name(sb));
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "create: %s\n", err.msg);
	sbx_sandbox_free(sb);
	sbx_client_free(c);
	return rc;
}
