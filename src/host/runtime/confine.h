/* confine.h - the last steps before a sandbox's program runs.
 *
 * Called in a forked exec child that already joined the sandbox's
 * namespaces as its root (sbxd_userns_enter): nothing here runs a program,
 * and nothing of the sandbox's runs before it. In order: the capability
 * bounding set is cut to the kept set (caps.h), the permitted, effective and
 * inheritable sets to the same, the ambient set emptied; no_new_privs; the
 * seccomp filter. After that, execve of whatever the sandbox holds can
 * gain nothing: a planted setuid binary or file capability is inert, and
 * the bounding set caps what root inside gets back on execve.
 */
#ifndef SBX_HOST_CONFINE_H
#define SBX_HOST_CONFINE_H

#include "host/runtime/seccomp.h"

/* 0 or -errno (the child must then not run the command). */
int sbxd_confine_apply(const struct sbxd_seccomp *filter);

#endif
