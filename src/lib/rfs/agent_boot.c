/* agent_boot.c - how sbx-agent gets into a sandbox and starts there.
 *
 * The agent is built into libsbx (agent_blob.S). A sandbox keeps one copy
 * per agent version, named by its SHA-256, in the first of /var/tmp, /tmp
 * and /dev/shm that takes it; every client that carries the same agent
 * finds and reuses it. The boot command runs a copy only after checking
 * its SHA-256 (a sandbox may have changed the file: then it is uploaded
 * again) and that it executes there (a noexec mount is skipped); it exits
 * 97 when no usable copy exists and 98 when the sandbox is another
 * machine than the one the agent was built for. Uploads go through the
 * shell transport's store, which renames the file into place only when
 * its length and SHA-256 match.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rfs/agent.h"
#include "rfs/shell.h"
#include "util/buf.h"
#include "util/shquote.h"

extern const uint8_t sbx_agent_blob_start[];
extern const uint8_t sbx_agent_blob_end[];

static const char *const agent_dirs[] = {"/var/tmp", "/tmp", "/dev/shm"};

void rfs_agent_blob(const uint8_t **ret, size_t *ret_len)
{
	*ret = sbx_agent_blob_start;
	*ret_len = (size_t)(sbx_agent_blob_end - sbx_agent_blob_start);
}

int rfs_agent_blob_sha256(char *hex65)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	const uint8_t *p;
	size_t n;

	rfs_agent_blob(&p, &n);
	if (n == 0 || !EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -ENOEXEC;
	for (i = 0; i < mdlen; i++)
		snprintf(hex65 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The name of the agent's copy in dir (caller frees). */
static char *agent_path(const char *dir, const char *hex)
{
	struct sbx_buf b = SBX_BUF_INIT;

	if (sbx_buf_printf(&b, "%s/.sbx-agent-%.16s", dir, hex) < 0)
		return NULL;
	return sbx_buf_detach(&b, NULL);
}

char *rfs_agent_boot_command(const char *hex, const char *machine)
{
	struct sbx_buf b = SBX_BUF_INIT;
	int r;

	/* hex and the dirs are [0-9a-f/a-z]: no quoting needed for them */
	r = sbx_buf_printf(
	    &b,
	    "for d in /var/tmp /tmp /dev/shm; do f=\"$d/.sbx-agent-%.16s\"; "
	    "if [ -f \"$f\" ] && [ \"$(sha256sum < \"$f\" 2>/dev/null)\" = '%s  -' ] "
	    "&& \"$f\" --version >/dev/null 2>&1; then exec \"$f\"; fi; done; "
	    "[ \"$(uname -m)\" = ",
	    hex, hex);
	if (r == 0)
		r = sbx_shquote(&b, machine);
	if (r == 0)
		r = sbx_buf_puts(&b, " ] || exit 98; exit 97");
	if (r < 0) {
		sbx_buf_release(&b);
		return NULL;
	}
	return sbx_buf_detach(&b, NULL);
}

/* A memfd holding the agent, for the store to stream. */
static int blob_fd(size_t *ret_len)
{
	const uint8_t *p;
	size_t n, off = 0;
	ssize_t w;
	int fd;

	rfs_agent_blob(&p, &n);
	fd = memfd_create("sbx-agent", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < n) {
		w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return w < 0 ? -errno : -EIO;
		}
		off += (size_t)w;
	}
	*ret_len = n;
	return fd;
}

int rfs_agent_upload(struct sbx_rfs *r, const char *hex, unsigned dir, struct sbx_err *err)
{
	struct sbx_rfs_store_opts so = {.attrs = {.valid = SBX_RFS_SET_MODE, .mode = 0755}};
	size_t len = 0;
	char *path;
	int fd, rc;

	if (dir >= sizeof(agent_dirs) / sizeof(agent_dirs[0]))
		return -EINVAL;
	fd = blob_fd(&len);
	if (fd < 0)
		return sbx_err_set(err, fd, 0, "cannot hold the agent: %s", strerror(-fd));
	path = agent_path(agent_dirs[dir], hex);
	rc = path ? rfs_shell_store(r, path, fd, len, &so, NULL, NULL, err)
		  : sbx_err_set(err, -ENOMEM, 0, "out of memory");
	free(path);
	close(fd);
	return rc;
}
