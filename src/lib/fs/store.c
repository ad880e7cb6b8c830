/* store.c - the guarded store shared by both shell stacks; see store.h for
 * the protocol, the journal and the sweep.
 *
 * The shell text keeps to POSIX sh plus what every Linux userland has
 * (GNU coreutils and busybox alike): `test -O`, `readlink`, /proc.
 * `sha256sum` is optional. Every name it defines starts with "sbxs_", so it
 * can follow either stack's preamble.
 */
#include "store.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/rand.h"

#define DIGEST_CHUNK ((size_t)256 << 10)

/* sbxs_start PID: sbxs_s = start time of PID (field 22 of its stat, i.e.
 * the 20th after the command name, which may hold spaces and parens);
 * status 1 when PID is gone, or dead and not yet reaped (state Z or X: a
 * killed store lingers so until its parent waits for it). */
#define SH_START                                                                                   \
	"sbxs_start() {\n"                                                                         \
	"\tread -r sbxs_s 2>/dev/null </proc/$1/stat || return 1\n"                                \
	"\tset -- ${sbxs_s##*\\) }\n"                                                              \
	"\t[ $# -ge 20 ] || return 1\n"                                                            \
	"\tcase $1 in Z | X) return 1 ;; esac\n"                                                   \
	"\tshift 19\n"                                                                             \
	"\tsbxs_s=$1\n"                                                                            \
	"\tcase $1 in '' | *[!0-9]*) return 1 ;; esac\n"                                           \
	"}\n"

/* sbxs_jopen [nocreate]: sbxs_j = the journal, empty when unusable (not a
 * directory of ours: someone else's, or a symlink). SBX_STORE_JOURNAL (in
 * the sandbox's environment) moves it: the unit tests use that. */
#define SH_JOPEN                                                                                   \
	"sbxs_jopen() {\n"                                                                         \
	"\tsbxs_j=${SBX_STORE_JOURNAL:-/var/tmp/.sbx-stores-$(id -u 2>/dev/null)}\n"               \
	"\t[ -d \"$sbxs_j\" ] || [ \"${1-}\" = nocreate ] || mkdir -m 700 -- \"$sbxs_j\" "         \
	"2>/dev/null\n"                                                                            \
	"\tif [ -d \"$sbxs_j\" ] && [ ! -L \"$sbxs_j\" ] && [ -O \"$sbxs_j\" ]; then :; "          \
	"else sbxs_j=; fi\n"                                                                       \
	"}\n"

static const char helpers[] =
    "sbxs_e=\n"
    "sbxs_t=\n"
    "sbxs_die() { printf '@sbx:EIO %s\\n' \"$1\" >&2; exit 3; }\n" SH_START SH_JOPEN
    /* register first, create second: a store killed in between leaves an
     * entry whose temporary does not exist, never the reverse */
    "sbxs_begin() {\n"
    "\tsbxs_t=$1\n"
    "\tsbxs_e=\n"
    "\tcase $1 in /*) sbxs_a=$1 ;; *) sbxs_a=$PWD/$1 ;; esac\n"
    "\tsbxs_jopen\n"
    "\tif [ -n \"$sbxs_j\" ] && sbxs_start $$; then\n"
    "\t\tsbxs_e=$sbxs_j/${1##*~}.$$.$sbxs_s\n"
    "\t\tln -s -- \"$sbxs_a\" \"$sbxs_e\" 2>/dev/null || sbxs_e=\n"
    "\tfi\n"
    "\tif (set -C; : >\"$1\") 2>/dev/null; then return 0; fi\n"
    "\tsbxs_end\n"
    "\treturn 1\n"
    "}\n"
    "sbxs_end() { [ -z \"$sbxs_e\" ] || rm -f -- \"$sbxs_e\"; sbxs_e=; }\n"
    "sbxs_drop() { rm -f -- \"$sbxs_t\"; sbxs_end; }\n"
    /* the digest is taken on the way in (tee), so hashing overlaps the
     * transfer instead of following it: the status of tee comes first on
     * fd 3, the digest after it (sha256sum sees EOF only once the group
     * that echoes the status has ended) */
    "sbxs_recv() {\n"
    "\tsbxs_h=\n"
    "\tsbxs_f=$1\n"
    "\tshift\n"
    "\tif ! command -v sha256sum >/dev/null 2>&1; then\n"
    "\t\tif [ $# -eq 0 ]; then cat >\"$sbxs_f\"; else \"$@\" >\"$sbxs_f\"; fi\n"
    "\t\treturn\n"
    "\tfi\n"
    "\tif [ $# -eq 0 ]; then\n"
    "\t\tsbxs_o=$({ { tee -- \"$sbxs_f\"; echo \"$?\" >&3; } | sha256sum; } 3>&1)\n"
    "\telse\n"
    "\t\tsbxs_o=$({ { \"$@\" | tee -- \"$sbxs_f\"; echo \"$?\" >&3; } | sha256sum; } 3>&1)\n"
    "\tfi\n"
    "\tcase $sbxs_o in 0) return 0 ;; 0?*) ;; *) return 1 ;; esac\n"
    "\tsbxs_h=${sbxs_o#0?}\n"
    "\tsbxs_h=${sbxs_h%% *}\n"
    "}\n"
    "sbxs_check() {\n"
    "\tsbxs_v=\n"
    "\tsbxs_n=$(wc -c <\"$1\") || { sbxs_why='cannot read the stored file back'; return 1; }\n"
    "\tsbxs_n=$((sbxs_n + 0))\n"
    "\tif [ \"$sbxs_n\" != \"$2\" ]; then\n"
    "\t\tsbxs_why=\"incomplete: $sbxs_n of $2 bytes arrived\"\n"
    "\t\treturn 1\n"
    "\tfi\n"
    "\tsbxs_v=length\n"
    "\tif [ -z \"$sbxs_h\" ]; then\n"
    "\t\tcommand -v sha256sum >/dev/null 2>&1 || return 0\n"
    "\t\tsbxs_h=$(sha256sum <\"$1\") || { sbxs_why='sha256sum failed'; return 1; }\n"
    "\tfi\n"
    "\tif [ \"${sbxs_h%% *}\" != \"$3\" ]; then sbxs_why='checksum mismatch'; return 1; fi\n"
    "\tsbxs_v=sha256\n"
    "}\n"
    "sbxs_commit() {\n"
    "\tsbxs_check \"$1\" \"$3\" \"$4\" || { sbxs_drop; sbxs_die \"$sbxs_why\"; }\n"
    "\tmv -f -- \"$1\" \"$2\" </dev/null || { sbxs_drop; exit 1; }\n"
    "\tsbxs_end\n"
    "}\n";

/* Entries are SUFFIX.PID.START; a live PID with the same START is a store
 * in flight. Only an absolute path whose last part is .sbx~HEX is removed. */
static const char sweep[] =
    "LC_ALL=C; export LC_ALL\n" SH_START SH_JOPEN "sbxs_jopen nocreate\n"
    "sbxs_c=0\n"
    "[ -n \"$sbxs_j\" ] || { echo 0; exit 0; }\n"
    "for sbxs_x in \"$sbxs_j\"/*; do\n"
    "\t[ -L \"$sbxs_x\" ] || continue\n"
    "\tsbxs_p=${sbxs_x##*/}\n"
    "\tsbxs_p=${sbxs_p#*.}\n"
    "\tsbxs_q=${sbxs_p#*.}\n"
    "\tsbxs_p=${sbxs_p%%.*}\n"
    "\tcase $sbxs_p:$sbxs_q in *[!0-9:]* | :* | *:) continue ;; esac\n"
    "\tif sbxs_start \"$sbxs_p\" && [ \"$sbxs_s\" = \"$sbxs_q\" ]; then continue; fi\n"
    "\tsbxs_t=$(readlink -- \"$sbxs_x\"; echo x)\n"
    "\tsbxs_t=${sbxs_t%?x}\n"
    "\tcase $sbxs_t in /*) ;; *) sbxs_t= ;; esac\n"
    "\tcase ${sbxs_t##*/} in \"" SBX_FS_STORE_TMP "\"*[!0-9a-f]*) ;;\n"
    "\t\"" SBX_FS_STORE_TMP "\"?*) rm -f -- \"$sbxs_t\" ;;\n"
    "\tesac\n"
    "\trm -f -- \"$sbxs_x\" && sbxs_c=$((sbxs_c + 1))\n"
    "done\n"
    "echo \"$sbxs_c\"\n";

int sbx_fs_store_suffix(struct sbx_fs_store_check *c)
{
	return sbx_rand_hex(c->suffix, (SBX_FS_STORE_SUFFIX - 1) / 2);
}

static void to_hex(const unsigned char *md, unsigned n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Feeds the first len bytes of fd, or the iov, to ctx. */
static int digest_feed(EVP_MD_CTX *ctx, int fd, uint64_t len, const struct iovec *iov, size_t n)
{
	char *buf;
	uint64_t off = 0;
	size_t i;
	int r = 0;

	if (fd < 0) {
		for (i = 0; i < n; i++)
			if (iov[i].iov_len &&
			    !EVP_DigestUpdate(ctx, iov[i].iov_base, iov[i].iov_len))
				return -ENOMEM;
		return 0;
	}
	buf = malloc(DIGEST_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (!r && off < len) {
		size_t want = len - off < DIGEST_CHUNK ? (size_t)(len - off) : DIGEST_CHUNK;
		ssize_t got = pread(fd, buf, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			r = got < 0 ? -errno : -EIO;
		else if (!EVP_DigestUpdate(ctx, buf, (size_t)got))
			r = -ENOMEM;
		off += got > 0 ? (uint64_t)got : 0;
	}
	free(buf);
	return r;
}

static int digest(struct sbx_fs_store_check *c, int fd, uint64_t len, const struct iovec *iov,
		  size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return -ENOMEM;
	r = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? 0 : -ENOMEM;
	if (!r)
		r = digest_feed(ctx, fd, len, iov, n);
	if (!r && (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32))
		r = -EIO;
	EVP_MD_CTX_free(ctx);
	if (!r)
		to_hex(md, mdlen, c->sha256);
	return r;
}

int sbx_fs_store_digest_fd(struct sbx_fs_store_check *c, int fd, uint64_t len)
{
	int r = digest(c, fd, len, NULL, 0);

	if (!r)
		c->len = len;
	return r;
}

int sbx_fs_store_digest_iov(struct sbx_fs_store_check *c, const struct iovec *iov, size_t n)
{
	uint64_t len = 0;
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	r = digest(c, -1, 0, iov, n);
	if (!r)
		c->len = len;
	return r;
}

int sbx_fs_store_tmp_path(struct sbx_buf *b, const char *path, const char *suffix)
{
	const char *slash;
	size_t dlen;
	int r;

	if (!path || !*path || !suffix || !*suffix || strchr(suffix, '/'))
		return -EINVAL;
	slash = strrchr(path, '/');
	if (!slash)
		return sbx_buf_printf(b, "./" SBX_FS_STORE_TMP "%s", suffix);
	dlen = (size_t)(slash - path);
	while (dlen > 0 && path[dlen - 1] == '/')
		dlen--;
	r = sbx_buf_append(b, path, dlen);
	return r ?: sbx_buf_printf(b, "/" SBX_FS_STORE_TMP "%s", suffix);
}

int sbx_fs_store_helpers(struct sbx_buf *b)
{
	return sbx_buf_puts(b, helpers);
}

int sbx_fs_store_check_args(struct sbx_buf *b, const struct sbx_fs_store_check *c)
{
	size_t i;

	for (i = 0; i < SBX_FS_SHA256_HEX - 1; i++)
		if (!((c->sha256[i] >= '0' && c->sha256[i] <= '9') ||
		      (c->sha256[i] >= 'a' && c->sha256[i] <= 'f')))
			return -EINVAL;
	if (c->sha256[i] != '\0')
		return -EINVAL;
	return sbx_buf_printf(b, " %llu %s", (unsigned long long)c->len, c->sha256);
}

int sbx_fs_store_sweep_script(struct sbx_buf *b)
{
	return sbx_buf_puts(b, sweep);
}

int sbx_fs_store_sweep_parse(const char *data, size_t len, unsigned *ret)
{
	unsigned long v = 0;
	size_t i;

	if (len < 2 || len > 11 || data[len - 1] != '\n')
		return -EPROTO;
	for (i = 0; i + 1 < len; i++) {
		if (data[i] < '0' || data[i] > '9')
			return -EPROTO;
		v = v * 10 + (unsigned long)(data[i] - '0');
	}
	if (v > 0xffffffffUL)
		return -EPROTO;
	*ret = (unsigned)v;
	return 0;
}
