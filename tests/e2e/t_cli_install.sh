#!/usr/bin/env bash
# t_cli_install.sh - libsbx and the tools as an outside user gets them:
# `cmake --install` into a temporary prefix; programs found through their
# RPATH; a C example built from outside the tree with pkg-config and one
# with find_package(sbx), both run against a real sbxd; only sbx_ symbols
# exported; every public header alone under C99 -pedantic and C++; the man
# pages render; completions and the systemd unit in place. Then the
# examples built with the project, run against the same sbxd.
. "$(dirname "$0")/lib.sh"

P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1
expect_eq "cmake --install into a temporary prefix" 0 $?
LIBDIR=$(dirname "$(find "$P" -name libsbx.so.0 | head -1)")
check "libsbx.so.0 installed ($LIBDIR)" test -e "$LIBDIR/libsbx.so.0"
check "libsbx.pc installed" test -f "$LIBDIR/pkgconfig/libsbx.pc"
check "the CMake package installed" test -f "$LIBDIR/cmake/sbx/sbxConfig.cmake"
check "mount.sbxfs is sbx" test "$(readlink -f "$P/sbin/mount.sbxfs")" = "$(readlink -f "$P/bin/sbx")"

# programs run from the prefix without the linker being told about it
expect_eq "sbx from the prefix finds its libsbx" "$("$BUILD/sbx" --version)" \
	"$(env -u LD_LIBRARY_PATH "$P/bin/sbx" --version)"
check "its RUNPATH is relative to itself" sh -c "readelf -d '$P/bin/sbx' | grep -q 'RUNPATH.*\\\$ORIGIN/\\.\\./'"
check "it loads the installed libsbx" sh -c "ldd '$P/bin/sbx' | grep -q '$P/bin/../.*libsbx.so.0'"

# only the API leaves libsbx
nm -D --defined-only "$LIBDIR/libsbx.so.0" | awk '{print $3}' | sort >"$T/syms"
expect_eq "nm -D: every exported symbol is sbx_" "" "$(grep -v '^sbx_' "$T/syms")"
grep -ho 'sbx_[a-z0-9_]*(' "$P"/include/sbx/*.h | tr -d '(' | sort -u >"$T/decl"
expect_eq "nm -D: every exported symbol is declared in a header" "" "$(comm -23 "$T/syms" "$T/decl")"
echo "# libsbx exports $(wc -l <"$T/syms") symbols"

# each header alone: C99 -pedantic, and C++
for h in "$P"/include/sbx/*.h; do
	printf '#include <sbx/%s>\nint sbx_test_unit;\n' "$(basename "$h")" >"$T/h.c"
	check "$(basename "$h") alone: C99 -pedantic" \
		gcc -std=c99 -pedantic -Wall -Wextra -Werror -I"$P/include" -c "$T/h.c" -o /dev/null
	check "$(basename "$h") alone: C++" \
		g++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$P/include" -c "$T/h.c" -o /dev/null
done

# the man pages
for m in man1/sbx.1 man1/sbxfs.1 man8/mount.sbxfs.8 man8/sbxd.8; do
	f=$P/share/man/$m
	check "man -l $m renders" sh -c "MANWIDTH=80 man -l '$f' 2>/dev/null | grep -q '^NAME'"
	expect_eq "groff -ww: $m has no warnings" "" "$(groff -man -ww -z "$f" 2>&1)"
done
check "sbx(1) covers every command" sh -c "for c in create ls status rm exec shell cp up mount umount host completion; do MANWIDTH=200 man -l '$P/share/man/man1/sbx.1' 2>/dev/null | grep -q \"^ *\$c\" || exit 1; done"

# completions where each shell looks, the same as sbx completion prints
expect_eq "bash completion installed" "$("$BUILD/sbx" completion bash)" \
	"$(cat "$P/share/bash-completion/completions/sbx")"
expect_eq "zsh completion installed" "$("$BUILD/sbx" completion zsh)" \
	"$(cat "$P/share/zsh/site-functions/_sbx")"
expect_eq "fish completion installed" "$("$BUILD/sbx" completion fish)" \
	"$(cat "$P/share/fish/vendor_completions.d/sbx.fish")"
U=$P/lib/systemd/system/sbxd.service
check "sbxd.service installed" test -f "$U"
check "sbxd.service runs the installed sbxd" grep -q "^ExecStart=$P/bin/sbxd " "$U"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify sbxd.service" env MANPATH="$P/share/man:" systemd-analyze verify "$U"
fi

# build examples from outside the tree, as a user would
start_sbxd
export KOYEB_API_HOST=$API KOYEB_API_TOKEN=$TOKEN
ID=$(sbx create --name exbox)
mkdir "$T/out"
cp "$SRC"/examples/*.c "$T/out/"
# shellcheck disable=SC2046 # pkg-config output is meant to split
(cd "$T/out" && PKG_CONFIG_PATH=$LIBDIR/pkgconfig cc -Wall -Werror -o create create.c \
	$(PKG_CONFIG_PATH=$LIBDIR/pkgconfig pkg-config --cflags --libs libsbx) -Wl,-rpath,"$LIBDIR")
expect_eq "an example builds with pkg-config --cflags --libs libsbx" 0 $?
OUT=$(timeout 120 "$T/out/create" exfromout 2>&1)
expect_eq "and runs against sbxd" 0 $?
check "it created and deleted a sandbox" grep -q '^deleted exfromout' <<<"$OUT"

mkdir "$T/cm"
cat >"$T/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(sbxuser C)
find_package(sbx 0.1 REQUIRED)
add_executable(files files.c)
target_link_libraries(files PRIVATE sbx::sbx)
CM
cp "$SRC/examples/files.c" "$T/cm/"
cmake -S "$T/cm" -B "$T/cm/build" -DCMAKE_PREFIX_PATH="$P" >"$T/cm.log" 2>&1 &&
	cmake --build "$T/cm/build" >>"$T/cm.log" 2>&1
expect_eq "an example builds with find_package(sbx)" 0 $?
OUT=$(timeout 120 env -u LD_LIBRARY_PATH "$T/cm/build/files" exbox 2>&1)
expect_eq "and runs (its RPATH from the package)" 0 $?
check "files: read back what it wrote" grep -q 'read back 18 bytes: hello from libsbx' <<<"$OUT"

# the examples built with the project
E=$BUILD/examples
OUT=$(timeout 120 "$E/sbx-example-create" excreate 2>&1)
expect_eq "example create" 0 $?
OUT=$(timeout 120 "$E/sbx-example-exec-stream" exbox 'echo one; sleep 1; echo two; exit 3' 2>"$T/es.err")
expect_eq "example exec-stream: the command's exit code" 3 $?
expect_eq "example exec-stream: the output" $'one\ntwo' "$OUT"
# streaming: the first line shows before the command ends
exec 9< <(timeout 60 "$E/sbx-example-exec-stream" exbox 'echo first; sleep 30' 2>/dev/null)
SP=$!
read -r -t 20 L <&9
expect_eq "example exec-stream: output arrives while it runs" first "$L"
kill "$SP" 2>/dev/null
exec 9<&-
OUT=$(timeout 120 "$E/sbx-example-files" exbox 2>&1)
expect_eq "example files" 0 $?
check "example files: listed what it wrote" grep -q '^listed: hello.txt' <<<"$OUT"
OUT=$(timeout 120 "$E/sbx-example-async" exbox 2>&1)
expect_eq "example async" 0 $?
check "example async: every exit code" grep -q 'command 3 (sleep 1; exit 3): exit code 3' <<<"$OUT"

finish
