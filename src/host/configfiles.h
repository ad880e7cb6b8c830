/* configfiles.h - a definition's config_files, written into its sandbox.
 *
 * Koyeb's definitions may carry config_files: [{path, content,
 * permissions}] (permissions an octal string such as "0644", default
 * 0644). sbxd writes them at every start of the sandbox, after its root is
 * in place and before it is HEALTHY, through xfile.h: inside the sandbox,
 * as its root, missing parent directories made (0755), so a path cannot
 * reach the host. A file that cannot be written is reported in the
 * instance's messages and does not stop the start.
 *
 * spec.c validates the list at create (at most SBXD_CONFIG_FILES_MAX
 * entries, absolute paths of at most 4096 bytes, content at most the body
 * limit).
 */
#ifndef SBX_HOST_CONFIGFILES_H
#define SBX_HOST_CONFIGFILES_H

#include <sys/types.h>

struct sbxd;
struct sbxd_svc;
struct sbxd_cfgw;

#define SBXD_CONFIG_FILES_MAX 64

typedef void (*sbxd_cfgw_fn)(void *arg);

/* Starts writing v's config files into the sandbox whose init is pid; fn
 * fires once they are all written (or failed). 0 with *ret; -ENOENT when
 * the definition has none (fn never fires); -errno. */
int sbxd_config_files_write(struct sbxd *d, struct sbxd_svc *v, pid_t pid, sbxd_cfgw_fn fn,
			    void *arg, struct sbxd_cfgw **ret);

/* Stops (fn never fires). Accepts NULL. */
void sbxd_config_files_cancel(struct sbxd_cfgw *w);

#endif
