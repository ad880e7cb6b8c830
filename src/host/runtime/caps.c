/* caps.c - see caps.h. */
#include "host/runtime/caps.h"

const char *const *sbxd_caps_kept(void)
{
	static const char *const caps[] = {
	    "chown",   "dac_override", "fowner",	   "fsetid",	 "kill",  "setgid",
	    "setuid",  "setpcap",      "net_bind_service", "sys_chroot", "mknod", "audit_write",
	    "setfcap", NULL,
	};

	return caps;
}
