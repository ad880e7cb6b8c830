/* caps.h - the capabilities a sandbox's processes keep.
 *
 * Docker's default set, minus CAP_NET_RAW: with --network host a sandbox
 * shares the host's network namespace, where a raw or packet socket would
 * see every host interface, loopback included (and with it the API token
 * of every local client). Everything else, CAP_SYS_ADMIN first, is dropped
 * from the bounding set, for the sandbox's main process (bwrap) and for
 * every exec (confine.c). These are capabilities inside the sandbox's user
 * namespace: they act only on what that namespace owns.
 */
#ifndef SBX_HOST_CAPS_H
#define SBX_HOST_CAPS_H

#include <stddef.h>

/* Lower-case names without the "cap_" prefix, NULL-terminated. */
const char *const *sbxd_caps_kept(void);

#endif
