#!/usr/bin/env bash
# t_cli_cp.sh - sbx cp both ways: a 100 MB file and a tree with awkward
# names (spaces, a newline, unicode, a leading dash), checksums equal; the
# naming rules of cp -r; errors; the progress bar on a terminal (under
# script(1)) and none when piped.
. "$(dirname "$0")/lib.sh"

start_sbxd
S=$BUILD/sbx
ID=$(sbx create --name cpbox)
check "a sandbox to copy with" test -n "$ID"
tm() { timeout 120 "$@"; }

# a 100 MB file of random bytes, in and out
head -c 100000000 /dev/urandom >"$T/big"
SUM=$(sha256sum <"$T/big")
t0=$(date +%s.%N)
tm "$S" -q cp "$T/big" cpbox:/tmp/big
expect_eq "cp of 100 MB in: exit 0" 0 $?
t1=$(date +%s.%N)
expect_eq "100 MB in: checksum" "$SUM" "$(sbx exec cpbox -n -- sh -c 'sha256sum </tmp/big')"
tm "$S" -q cp cpbox:/tmp/big "$T/big.back"
expect_eq "cp of 100 MB out: exit 0" 0 $?
t2=$(date +%s.%N)
expect_eq "100 MB out: checksum" "$SUM" "$(sha256sum <"$T/big.back")"
echo "# 100 MB in: $(echo "$t1 - $t0" | bc) s, out: $(echo "$t2 - $t1" | bc) s"
rm -f "$T/big.back"

# a tree with awkward names, in and out
TREE="$T/src tree"
mkdir -p "$TREE/sub dir/deeper" "$TREE/ünï cödé"
printf 'one\n' >"$TREE/plain"
printf 'two\n' >"$TREE/sub dir/with space"
printf 'three\n' >"$TREE/sub dir/deeper/-dash"
printf 'four\n' >"$TREE/ünï cödé/文件"
printf 'five\n' >"$TREE/new
line"
ln -s plain "$TREE/link"
head -c 300000 /dev/urandom >"$TREE/sub dir/bin"
chmod 750 "$TREE/sub dir"
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
TSUM=$(sums "$TREE")
tm "$S" -q cp "$TREE" "cpbox:/tmp/t in"
expect_eq "tree in: exit 0" 0 $?
RSUM=$(sbx exec cpbox -n -- sh -c 'cd "/tmp/t in" && find . -type f -print0 | sort -z | xargs -0 sha256sum')
expect_eq "tree in: checksums (named DST, as cp -r)" "$TSUM" "$RSUM"
expect_eq "tree in: the symlink stays a symlink" plain "$(sbx exec cpbox -n -- readlink "/tmp/t in/link")"
tm "$S" -q cp "cpbox:/tmp/t in" "$T/back"
expect_eq "tree out: exit 0" 0 $?
expect_eq "tree out: checksums" "$TSUM" "$(sums "$T/back")"
check "tree out: the symlink" test "$(readlink "$T/back/link")" = plain
mkdir "$T/into"
tm "$S" -q cp "cpbox:/tmp/t in" "$T/into"
check "out into an existing directory: DST/NAME" test -f "$T/into/t in/plain"
tm "$S" -q cp "$TREE/sub dir/deeper/-dash" cpbox:/tmp
expect_eq "a file named with a leading dash, into a directory" three \
	"$(sbx exec cpbox -n -- cat /tmp/-dash)"
(cd "$TREE/sub dir/deeper" && tm "$S" -q cp -- -dash "cpbox:-x")
expect_eq "relative names with leading dashes both sides" three \
	"$(sbx exec cpbox -n -- sh -c 'cat ./-x')"
tm "$S" -q cp "$TREE/new
line" "cpbox:/tmp/nl
name"
expect_eq "a newline in both names" five "$(sbx exec cpbox -n -- cat "/tmp/nl
name")"
tm "$S" -q cp "cpbox:/tmp/nl
name" "$T/nl
back"
expect_eq "a newline in both names, out" five "$(cat "$T/nl
back")"

# -a keeps modes and times; without it times are fresh
touch -d '2001-02-03 04:05:06' "$TREE/plain"
tm "$S" -q cp -a "$TREE" cpbox:/tmp/ta
expect_eq "-a keeps the mtime" "$(stat -c %Y "$TREE/plain")" \
	"$(sbx exec cpbox -n -- stat -c %Y /tmp/ta/plain)"
expect_eq "-a keeps the mode" 750 "$(sbx exec cpbox -n -- stat -c %a "/tmp/ta/sub dir")"
tm "$S" -q cp "$TREE/plain" cpbox:/tmp/tn
check "without -a the mtime is fresh" test "$(sbx exec cpbox -n -- stat -c %Y /tmp/tn)" -gt 1000000000

# errors
run() { "$S" -q "$@" >"$T/o" 2>"$T/e" </dev/null; RC=$?; }
run cp cpbox:/tmp/no-such "$T/x"
expect_eq "a missing remote SRC: exit 1" 1 $RC
check "a missing remote SRC: said" grep -q 'No such file' "$T/e"
check "a missing remote SRC: no local leftovers" test -z "$(ls -A "$T" | grep sbx-cp)"
run cp "$T/no-such" cpbox:/tmp/
expect_eq "a missing local SRC: exit 1" 1 $RC
run cp nosuchbox:/tmp "$T/x"
check "an unknown sandbox, named as typed" grep -q 'no sandbox named nosuchbox' "$T/e"
run cp "$T/big" "$T/x"
expect_eq "two local paths: exit 2" 2 $RC
run cp "$T/big" cpbox:/no-such-dir/sub/x
expect_eq "into a missing remote directory: exit 1" 1 $RC
run --json cp "$T/big" cpbox:/tmp/big2
expect_eq "--json: the bytes" 100000000 "$(json_get bytes <"$T/o" | awk '{print ($1 >= 100000000)*100000000}')"

# progress: a bar on a terminal, none when piped
"$S" -q cp "$T/big" cpbox:/tmp/big3 2>"$T/piped.err"
check "no progress when stderr is not a terminal" test ! -s "$T/piped.err"
script -qfec "'$S' cp '$T/big' cpbox:/tmp/big4" "$T/tty.log" >/dev/null </dev/null
check "a progress bar on a terminal: percentage" grep -qa '100%' "$T/tty.log"
check "a progress bar on a terminal: rate" grep -qa 'MB/s' "$T/tty.log"
check "a progress bar on a terminal: bytes" grep -qa '100.0 MB / 100.0 MB' "$T/tty.log"
script -qfec "'$S' cp cpbox:/tmp/big4 '$T/big5'" "$T/tty2.log" >/dev/null </dev/null
check "a progress bar going out" grep -qa '100%' "$T/tty2.log"
TERM=xterm script -qfec "'$S' cp '$T/big' cpbox:/tmp/big6" "$T/tty4.log" >/dev/null </dev/null
check "colour on a terminal" grep -qa $'\033\\[32m' "$T/tty4.log"
tr '\r' '\n' <"$T/tty4.log" | grep -a ETA | head -1 | sed 's/\x1b\[[0-9;]*[a-zA-Z]//g; s/^/# /'
NO_COLOR=1 TERM=xterm script -qfec "'$S' cp '$T/big' cpbox:/tmp/big6" "$T/tty3.log" >/dev/null </dev/null
if grep -qa $'\033\\[32m' "$T/tty3.log"; then not_ok "NO_COLOR: no colour"; else ok "NO_COLOR: no colour"; fi
check "NO_COLOR: still a bar" grep -qa '100%' "$T/tty3.log"

finish
