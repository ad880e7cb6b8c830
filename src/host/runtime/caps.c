/* caps.c - see caps.h. */
#include "host/runtime/caps.h"

#include <stdio.h>

const char *const *sbx_caps_kept(void)
{
	static const char *const caps[] = {
	    "chown",   "dac_override", "fowner",	   "fsetid",	 "kill",  "setgid",
	    "setuid",  "setpcap",      "net_bind_service", "sys_chroot", "mknod", "audit_write",
	    "setfcap", NULL,
	};

	return caps;
}

size_t sbx_caps_setpriv_arg(char *out, size_t size)
{
	const char *const *c;
	size_t n = 0;

	n += (size_t)snprintf(out, size, "-all");
	for (c = sbx_caps_kept(); *c && n < size; c++)
		n += (size_t)snprintf(out + n, size - n, ",+%s", *c);
	return n < size ? n : size - 1;
}
