/* fuzz_rfs_parse.c - the driver's parsers of what the rfs scripts print in
 * the sandbox (src/lib/rfs/parse.c): whatever runs in the sandbox controls
 * these bytes.
 *
 * One input feeds every parser: an attribute record, a time, a readdir
 * listing, a statfs line, and the fetch script's stream (in pieces whose size
 * the first byte picks, as exec output arrives in chunks).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rfs/parse.h"

struct sink {
	uint64_t got;
};

static int sink(void *ud, const char *d, size_t n)
{
	struct sink *s = ud;

	if (n && !d)
		abort();
	s->got += n;
	return 0;
}

static void fetch(const char *d, size_t n, size_t piece)
{
	struct sbx_rfs_fetchp p;
	struct sbx_rfs_attr a;
	struct sink s = {0};
	char validator[SBX_RFS_VALIDATOR_MAX];
	bool unchanged;
	size_t off = 0;

	sbx_rfs_fetchp_init(&p);
	while (off < n) {
		size_t k = n - off < piece ? n - off : piece;

		if (sbx_rfs_fetchp_feed(&p, d + off, k, sink, &s) < 0)
			return;
		off += k;
	}
	if (s.got != p.content_len || s.got > n)
		abort();
	if (sbx_rfs_fetchp_finish(&p, &a, validator, &unchanged) == 0 &&
	    strnlen(validator, sizeof(validator)) == sizeof(validator))
		abort();
}

static void listing(const char *d, size_t n)
{
	struct sbx_rfs_dir dir;
	size_t i;

	memset(&dir, 0, sizeof(dir));
	if (sbx_rfs_parse_dir(d, n, &dir) == 0) {
		for (i = 0; i < dir.n; i++)
			if (!dir.ents[i].name)
				abort();
		sbx_rfs_dir_release(&dir);
	} else if (dir.n || dir.ents) {
		abort(); /* on failure it is empty */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[4] = {1, 3, 64, 1 << 20};
	const char *d = (const char *)data, *f;
	struct sbx_rfs_attr a;
	struct timespec ts;
	struct statvfs sv;
	size_t n = size, fl;
	char *copy;

	if (size < 1)
		return 0;
	/* exact-length parsers get their own copy: they must not read past n */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	sbx_rfs_parse_attr(copy + 1, size - 1, &a);
	sbx_rfs_parse_time(copy + 1, size - 1, &ts);
	sbx_rfs_parse_statfs(copy + 1, size - 1, &sv);
	if (sbx_rfs_parse_time(copy + 1, size - 1, &ts) == 0 &&
	    (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L))
		abort();
	listing(copy + 1, size - 1);
	fetch(copy + 1, size - 1, pieces[data[0] & 3]);
	/* and field by field, as meta.c splits a stat reply */
	d = copy + 1;
	n = size - 1;
	while (sbx_rfs_next_field(&d, &n, &f, &fl))
		sbx_rfs_parse_attr(f, fl, &a);
	free(copy);
	return 0;
}
