/* access.c - the access decision of a mount; see access.h. */
#include "fs/access.h"

#include <errno.h>

int fs_access_check(const struct fs_access *a, uid_t caller, enum fs_area area)
{
	if (caller == a->owner || caller == 0)
		return 0;
	if (area == FS_AREA_CTL || !a->allow_other)
		return -EACCES;
	return 0;
}
