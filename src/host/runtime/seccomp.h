/* seccomp.h - the system call filter every sandbox process runs under.
 *
 * Built once when sbxd starts (libseccomp compiles it to a classic BPF
 * program) and then only copied: into a memfd for bwrap's --seccomp (the
 * sandbox's init) and into the kernel by sbxd_seccomp_apply() in each exec
 * child, after no_new_privs and just before the final execve.
 *
 * The policy follows what the default profiles of Docker and Podman deny to
 * a container without CAP_SYS_ADMIN: everything that changes the kernel
 * (modules, kexec, reboot, swap, clocks, sysctl), mounts and new
 * namespaces (mount, the new mount API, unshare and clone with namespace
 * flags, setns, pivot_root), keyrings, bpf, perf_event_open,
 * userfaultfd, io_uring, open_by_handle_at (the classic container escape),
 * iopl/ioperm. They fail
 * with EPERM, so programs that probe for them carry on; clone3 fails with
 * ENOSYS, so libc falls back to clone, whose flags the filter can see.
 * System calls of other ABIs (i386, x32) kill the process: their numbers
 * would bypass the table.
 */
#ifndef SBX_HOST_SECCOMP_H
#define SBX_HOST_SECCOMP_H

#include <stddef.h>

struct sbxd_seccomp {
	void *prog; /* struct sock_filter[len] */
	size_t len; /* instructions */
};

/* Compiles the filter. 0 or -errno; on failure *f is left empty. */
int sbxd_seccomp_build(struct sbxd_seccomp *f);
void sbxd_seccomp_release(struct sbxd_seccomp *f);

/* A sealed memfd holding the program, for bwrap --seccomp. fd or -errno. */
int sbxd_seccomp_memfd(const struct sbxd_seccomp *f);

/* Installs the filter on the calling thread (no_new_privs must be set
 * first). 0 or -errno. Async-signal-safe: for a forked child. */
int sbxd_seccomp_apply(const struct sbxd_seccomp *f);

#endif
