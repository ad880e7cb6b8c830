/* rand.h - randomness from the kernel (getrandom), for ids and secrets. */
#ifndef SBX_UTIL_RAND_H
#define SBX_UTIL_RAND_H

#include <stddef.h>

/* Fills p with n random bytes. 0 or -errno. */
int sbx_rand_bytes(void *p, size_t n);
/* Writes 2*nbytes lowercase hex characters and a NUL into out (size
 * 2*nbytes+1). 0 or -errno. */
int sbx_rand_hex(char *out, size_t nbytes);
/* A UUID-shaped random id (36 chars + NUL) like Koyeb ids. 0 or -errno. */
int sbx_rand_uuid(char out[37]);

#endif
