#!/usr/bin/env bash
# bench/fetch-tree.sh - puts the benchmark's source tree in its cache, once.
#
# The tree is the upstream source of OCaml 4.13.1 (3,700 files, 350
# directories, 25 MB), as Debian 12 ships it in the binary package
# `ocaml-source` (/usr/src/ocaml-source-4.13.1.tar, which holds the
# .orig.tar.gz). The package is taken from the Debian mirror with
# `apt-get download` (nothing installed, no deb-src entry needed), or from
# /usr/src if the package is installed already. The tree is unpacked into
# the cache dir, which scripts/bench.sh then reads offline:
#
#   $SBX_BENCH_CACHE (default /var/cache/sbx-bench)/ocaml-4.13.1/   the tree
#   $SBX_BENCH_CACHE/SOURCE                                        what it is
#
# Run it again: it does nothing when the tree is there. --force fetches anew.

set -euo pipefail
CACHE=${SBX_BENCH_CACHE:-/var/cache/sbx-bench}
PKG=ocaml-source
INNER=ocaml-4.13.1/ocaml_4.13.1.orig.tar.gz
TREE=ocaml-4.13.1

[ "${1:-}" = --force ] && rm -rf "${CACHE:?}/$TREE" "$CACHE/SOURCE"
if [ -d "$CACHE/$TREE" ] && [ -s "$CACHE/SOURCE" ]; then
	echo "fetch-tree: $CACHE/$TREE is there ($(head -1 "$CACHE/SOURCE"))"
	exit 0
fi
W=$(mktemp -d /tmp/sbx-fetch-tree.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$CACHE"

outer=$(ls /usr/src/ocaml-source-4.13.1.tar 2>/dev/null || true)
if [ -n "$outer" ]; then
	ver=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null || echo installed)
else
	# apt's sandbox user must be able to write where the .deb lands
	chmod 755 "$W"
	(cd "$W" && apt-get download "$PKG") ||
		{ echo "fetch-tree: apt-get download $PKG failed (apt-get update first?)" >&2; exit 1; }
	deb=$(ls "$W"/${PKG}_*.deb)
	ver=$(dpkg-deb -f "$deb" Version)
	dpkg-deb -x "$deb" "$W/pkg"
	outer=$(ls "$W"/pkg/usr/src/ocaml-source-*.tar)
fi
tar -C "$W" -xf "$outer" "$INNER"
rm -rf "${CACHE:?}/$TREE.new"
mkdir -p "$CACHE/$TREE.new"
tar -C "$CACHE/$TREE.new" --strip-components=1 -xzf "$W/$INNER"
rm -rf "${CACHE:?}/$TREE"
mv "$CACHE/$TREE.new" "$CACHE/$TREE"
{
	echo "$PKG $ver: $INNER ($(sha256sum "$W/$INNER" | cut -d' ' -f1))"
	echo "files $(find "$CACHE/$TREE" -type f | wc -l), dirs $(find "$CACHE/$TREE" -type d | wc -l)"
} >"$CACHE/SOURCE"
echo "fetch-tree: $(head -1 "$CACHE/SOURCE") -> $CACHE/$TREE"
