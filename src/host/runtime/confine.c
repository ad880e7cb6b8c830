/* confine.c - see confine.h. */
#include "host/runtime/confine.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "host/runtime/caps.h"

/* True when cap is in the kept list. */
static bool kept(cap_value_t cap)
{
	const char *const *c;
	cap_value_t v;
	char name[64];

	for (c = sbxd_caps_kept(); *c; c++) {
		int n = snprintf(name, sizeof(name), "cap_%s", *c);

		if (n > 0 && (size_t)n < sizeof(name) && cap_from_name(name, &v) == 0 && v == cap)
			return true;
	}
	return false;
}

/* Bounding set: every capability the kernel knows that is not kept. */
static int drop_bounding(void)
{
	cap_value_t cap;

	for (cap = 0; CAP_IS_SUPPORTED(cap); cap++)
		if (!kept(cap) && cap_drop_bound(cap) < 0)
			return -errno;
	return 0;
}

/* Permitted, effective and inheritable = the kept set; ambient empty. */
static int set_process_caps(void)
{
	cap_t caps = cap_init();
	cap_value_t cap;
	int r = 0;

	if (!caps)
		return -ENOMEM;
	for (cap = 0; CAP_IS_SUPPORTED(cap); cap++) {
		if (!kept(cap))
			continue;
		if (cap_set_flag(caps, CAP_PERMITTED, 1, &cap, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_EFFECTIVE, 1, &cap, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_INHERITABLE, 1, &cap, CAP_SET) < 0) {
			r = -errno;
			break;
		}
	}
	if (r == 0 && cap_set_proc(caps) < 0)
		r = -errno;
	cap_free(caps);
	if (r == 0 && cap_reset_ambient() < 0)
		r = -errno;
	return r;
}

int sbxd_confine_apply(const struct sbxd_seccomp *filter)
{
	int r = drop_bounding();

	if (r == 0)
		r = set_process_caps();
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -errno;
	if (r == 0)
		r = sbxd_seccomp_apply(filter);
	return r;
}
