/* hash.h - the 64-bit hash of the driver's tables and keys: FNV-1a over
 * the bytes, then a 64-bit finalizer (murmur3's) so that every output bit
 * depends on every input bit (node.c takes the low bits for its buckets,
 * dirlist.c the high ones for readdir keys). */
#ifndef SBX_FS_HASH_H
#define SBX_FS_HASH_H

#include <stdint.h>

static inline uint64_t fs_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* The hash of the string s, seeded (0: none). */
static inline uint64_t fs_str_hash(uint64_t seed, const char *s)
{
	uint64_t h = 1469598103934665603ULL ^ seed;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return fs_mix64(h);
}

#endif
