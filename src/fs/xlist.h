/* xlist.h - a list of extended attribute names as listxattr(2) gives it:
 * names one after the other, each ended by a NUL. Pure functions, so the
 * xattr cache of ops_xattr.c can be unit-tested alone.
 */
#ifndef SBX_FS_XLIST_H
#define SBX_FS_XLIST_H

#include <stdbool.h>
#include <stddef.h>

/* true when name is one of the list's len bytes. A last name without its
 * NUL counts too. */
bool xlist_has(const char *list, size_t len, const char *name);

/* Removes in place the names that start with prefix; returns the new
 * length. */
size_t xlist_drop_prefix(char *list, size_t len, const char *prefix);

#endif
