/* seccomp.c - see seccomp.h. */
#include "host/runtime/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Fail with EPERM whatever the arguments. */
static const char *const DENIED[] = {
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "fanotify_init",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mount",
    "mount_setattr",
    "move_mount",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "setns",
    "settimeofday",
    "swapoff",
    "swapon",
    "syslog",
    "_sysctl",
    "umount",
    "umount2",
    "uselib",
    "userfaultfd",
    "ustat",
    "vhangup",
    "vm86",
    "vm86old",
    "stime",
    "sysfs",
    "lsm_set_self_attr",
};

/* Namespace flags of clone and unshare. */
static const scmp_datum_t NS_FLAGS[] = {
    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,	 CLONE_NEWUSER,
    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, 0x80 /* CLONE_NEWTIME */,
};

/* A name this libseccomp does not know (an old or foreign syscall) is
 * skipped: there is nothing to deny. */
static int deny(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
}

/* The filter allows by default, so "any namespace flag set" is one rule
 * per flag: (arg0 & flag) == flag. On x86-64 and arm64 clone's flags are
 * its first argument, as unshare's are. */
static int deny_ns_flags(scmp_filter_ctx ctx, int nr)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < sizeof(NS_FLAGS) / sizeof(NS_FLAGS[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS[i], NS_FLAGS[i]));
	return r;
}

static int add_rules(scmp_filter_ctx ctx)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < sizeof(DENIED) / sizeof(DENIED[0]); i++)
		r = deny(ctx, DENIED[i]);
	if (r == 0)
		r = deny_ns_flags(ctx, SCMP_SYS(unshare));
	if (r == 0)
		r = deny_ns_flags(ctx, SCMP_SYS(clone));
	/* clone3 passes its flags in memory the filter cannot read */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return r;
}

/* Exports ctx's program into a buffer through a memfd. */
static int export_prog(scmp_filter_ctx ctx, struct sbxd_seccomp *f)
{
	int fd = memfd_create("sbxd-seccomp", MFD_CLOEXEC), r = 0;
	void *prog = NULL;
	off_t size = 0;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r == 0 && (size = lseek(fd, 0, SEEK_END)) < 0)
		r = -errno;
	if (r == 0 && (size <= 0 || size % sizeof(struct sock_filter) != 0))
		r = -EINVAL;
	if (r == 0 && !(prog = malloc((size_t)size)))
		r = -ENOMEM;
	if (r == 0 && pread(fd, prog, (size_t)size, 0) != size)
		r = -EIO;
	close(fd);
	if (r < 0) {
		free(prog);
		return r;
	}
	f->prog = prog;
	f->len = (size_t)size / sizeof(struct sock_filter);
	return 0;
}

int sbxd_seccomp_build(struct sbxd_seccomp *f)
{
	scmp_filter_ctx ctx;
	int r;

	memset(f, 0, sizeof(*f));
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* other ABIs than the native one: kill (the default "bad arch" action) */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0)
		r = add_rules(ctx);
	if (r == 0)
		r = export_prog(ctx, f);
	seccomp_release(ctx);
	return r;
}

void sbxd_seccomp_release(struct sbxd_seccomp *f)
{
	free(f->prog);
	f->prog = NULL;
	f->len = 0;
}

int sbxd_seccomp_memfd(const struct sbxd_seccomp *f)
{
	size_t size = f->len * sizeof(struct sock_filter);
	int fd = memfd_create("sbxd-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (write(fd, f->prog, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int r = errno ? -errno : -EIO;

		close(fd);
		return r;
	}
	return fd;
}

int sbxd_seccomp_apply(const struct sbxd_seccomp *f)
{
	struct sock_fprog prog = {.len = (unsigned short)f->len, .filter = f->prog};

	if (!f->prog || f->len == 0 || f->len > BPF_MAXINSNS)
		return -EINVAL;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}
