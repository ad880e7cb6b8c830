/* files.c - the filesystem calls: make a directory, write files, list it,
 * read one back, rename, and clean up.
 *
 *   ./sbx-example-files SANDBOX
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sbx/sbx.h>

int main(int argc, char **argv)
{
	static const char text[] = "hello from libsbx\n";
	struct sbx_client *c = NULL;
	struct sbx_sandbox *sb = NULL;
	struct sbx_err err = {0};
	char **names = NULL, *data = NULL;
	size_t n = 0, len = 0, i;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SANDBOX\n", argv[0]);
		return 2;
	}
	if (sbx_client_new(NULL, &c, &err) < 0 || sbx_sandbox_open(c, argv[1], &sb, &err) < 0)
		goto out;
	if (sbx_fs_mkdir(sb, "/tmp/example/sub", true, &err) < 0 ||
	    sbx_fs_write_file(sb, "/tmp/example/hello.txt", text, strlen(text), &err) < 0 ||
	    sbx_fs_write_file(sb, "/tmp/example/sub/empty", "", 0, &err) < 0)
		goto out;
	if (sbx_fs_list_dir(sb, "/tmp/example", &names, &n, &err) < 0)
		goto out;
	for (i = 0; i < n; i++)
		printf("listed: %s\n", names[i]);
	if (sbx_fs_rename_file(sb, "/tmp/example/hello.txt", "/tmp/example/hi.txt", &err) < 0 ||
	    sbx_fs_read_file(sb, "/tmp/example/hi.txt", &data, &len, &err) < 0)
		goto out;
	printf("read back %zu bytes: %s", len, data);
	if (len != strlen(text) || memcmp(data, text, len) != 0) {
		snprintf(err.msg, sizeof(err.msg), "the content differs");
		goto out;
	}
	if (sbx_fs_rm(sb, "/tmp/example", true, &err) < 0)
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "files: %s\n", err.msg);
	sbx_strv_free(names);
	free(data);
	sbx_sandbox_free(sb);
	sbx_client_free(c);
	return rc;
}
