/* shell.c - the table of the shell transport (see transport.h). */
#include "rfs/shell.h"
#include "rfs/transport.h"

const struct rfs_transport rfs_shell_transport = {
    .name = "shell",
    .stat = rfs_shell_stat,
    .readdir = rfs_shell_readdir,
    .readlink = rfs_shell_readlink,
    .mkdir = rfs_shell_mkdir,
    .create = rfs_shell_create,
    .unlink = rfs_shell_unlink,
    .rmdir = rfs_shell_rmdir,
    .rename = rfs_shell_rename,
    .link = rfs_shell_link,
    .symlink = rfs_shell_symlink,
    .setattr = rfs_shell_setattr,
    .statfs = rfs_shell_statfs,
    .fetch = rfs_shell_fetch,
    .read_range = rfs_shell_read_range,
    .store = rfs_shell_store,
    .read_start = rfs_shell_read_start,
    .read_finish = rfs_shell_read_finish,
    .signal_env = rfs_shell_signal_env,
    .sweep = rfs_shell_sweep,
};
