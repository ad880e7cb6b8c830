#!/usr/bin/env bash
# t_posix.sh - POSIX the way the sandbox's kernel does it: a mount made by
# root with allow_other,default_permissions, used by two other host users
# (numeric ids, no accounts needed: setpriv). Each operation acts in the
# sandbox with its caller's ids, so owners of new files, sticky
# directories, chown and utimes rules are the sandbox kernel's own; and
# the named failures of issue 7: extended attributes (and no round trip
# per write for security.capability), RENAME_EXCHANGE, a relative path of
# 4,084 bytes under a long mount root, EFBIG, the link count of a second
# name after a rename over the first. Everything seen through the mount is
# checked again inside the sandbox with `sbx exec`.
#
# Ids: the mount shows the sandbox's own uids and gids, and a host user
# acts there under the same number (src/fs/cred.h), so host uid 4001 makes
# files of sandbox uid 4001. The agent transport only: the shell one
# cannot act as another user (skipped).
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
section() { echo "# [${SECONDS}s] $*"; }
tm() { timeout 60 "$@"; }

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! command -v setfattr >/dev/null; then
	echo "# needs root, setpriv and setfattr (package attr): skipped"
	finish
	exit
fi
U1=4001 G1=4001 U2=4002 G2=4002 GX=4100 # GX: a supplementary group of U1's
as1() { tm setpriv --reuid=$U1 --regid=$G1 --groups=$GX -- "$@"; }
as2() { tm setpriv --reuid=$U2 --regid=$G2 --clear-groups -- "$@"; }
PY=/usr/bin/python3 # not a root-only shim: the other users run it too

# fails_with DESC TEXT CMD...: CMD must fail and say TEXT (strerror)
fails_with() {
	local d=$1 want=$2
	shift 2
	if "$@" >"$T/o" 2>&1; then
		not_ok "$d: succeeded, wanted '$want'"
	elif grep -q "$want" "$T/o"; then
		ok "$d ($want)"
	else
		not_ok "$d: wanted '$want'"
		cut -c1-160 "$T/o" | sed 's/^/#   /' | head -3
	fi
}

start_sbxd
ID=$(sbx create --name posix --region eu)
# a long root: the sandbox-side path of a 4,084-byte relative one is past 4,095
ROOT=/srv/posix-a-mount-root-whose-name-is-long-on-purpose-0123456789
rx sh -c "mkdir -p $ROOT/sticky && chmod 1777 $ROOT/sticky && chmod 777 $ROOT"
mkdir -p "$MNT"
chmod 711 "$T" # the other users must reach the mount point
# the local copies on tmpfs, which takes any size: a size the sandbox's
# filesystem refuses must be refused by the sandbox, not by the host's disk
tm "$BUILD/sbxfs" "$ID:$ROOT" "$MNT" -o allow_other,default_permissions,cache_dir=/dev/shm
check "mounted with allow_other,default_permissions" mountpoint -q "$MNT"
if [ "$(sed -n 's/.*"transport": *"\([a-z]*\)".*/\1/p' "$MNT/.ctl/info")" != agent ]; then
	echo "# not the agent transport: skipped"
	finish
	exit
fi
S=$MNT/sticky
# own WHAT REL EXPECTED: owner uid:gid of REL, through the mount and inside
own() {
	expect_eq "$1: owner through the mount" "$3" "$(stat -c %u:%g "$MNT/$2" 2>&1)"
	expect_eq "$1: owner in the sandbox" "$3" "$(rx stat -c %u:%g "$ROOT/$2" 2>&1)"
}
s_exists() { rx test -e "$ROOT/$1"; }
s_gone() { ! rx test -e "$ROOT/$1"; }

# --- new files belong to their creator ---------------------------------------------------------
section "ownership of what other users create"
as1 sh -c 'echo one >"$1/f1" && mkdir "$1/d1" && mkfifo "$1/p1" && ln -s f1 "$1/l1"' _ "$S"
expect_eq "user 1 creates a file, a dir, a FIFO, a symlink" 0 $?
own "file" sticky/f1 $U1:$G1
own "directory" sticky/d1 $U1:$G1
own "FIFO" sticky/p1 $U1:$G1
own "symlink" sticky/l1 $U1:$G1
as2 sh -c 'echo two >"$1/f2"' _ "$S"
own "user 2's file" sticky/f2 $U2:$G2
echo zero >"$S/f0"
own "the owner's (root's) file, as before" sticky/f0 0:0
check "the owner still reads /.ctl" grep -q '"transport"' "$MNT/.ctl/info"
fails_with "user 1 is refused /.ctl" "Permission denied" as1 cat "$MNT/.ctl/info"

# --- sticky directory: only the owner of a name removes or renames it ---------------------------
section "sticky directory"
fails_with "user 2 cannot unlink user 1's file" "Operation not permitted" as2 rm -f "$S/f1"
check "  ... it is still in the sandbox" s_exists sticky/f1
fails_with "user 2 cannot rename user 1's file" "Operation not permitted" as2 mv "$S/f1" "$S/f1x"
check "  ... it kept its name in the sandbox" s_exists sticky/f1
fails_with "user 2 cannot rmdir user 1's dir" "Operation not permitted" as2 rmdir "$S/d1"
fails_with "user 1 cannot unlink user 2's file" "Operation not permitted" as1 rm -f "$S/f2"
check "user 1 renames its own file" as1 mv "$S/f1" "$S/f1r"
check "  ... renamed in the sandbox" s_exists sticky/f1r
check "user 2 unlinks its own file" as2 rm "$S/f2"
check "  ... gone in the sandbox" s_gone sticky/f2

# --- chown and chgrp ---------------------------------------------------------------------------
section "chown, chgrp"
fails_with "user 1 cannot give its file away" "Operation not permitted" as1 chown $U2 "$S/f1r"
fails_with "user 1 cannot chgrp to a group it is not in" "Operation not permitted" \
	as1 chgrp 4200 "$S/f1r"
own "  ... unchanged" sticky/f1r $U1:$G1
check "root chowns user 1's dir to user 2" chown $U2:$G2 "$S/d1"
own "  ... chowned" sticky/d1 $U2:$G2
fails_with "user 1 cannot chmod user 2's dir" "Operation not permitted" as1 chmod 777 "$S/d1"

# --- utimes: explicit times need ownership, "now" only write access ----------------------------
section "utimes"
as1 sh -c 'echo t >"$1/t1" && chmod 666 "$1/t1"' _ "$S"
fails_with "user 2 cannot set explicit times on user 1's file" "Operation not permitted" \
	as2 touch -d 2001-02-03 "$S/t1"
check "user 2 may set them to now (it may write the file)" as2 touch "$S/t1"
check "user 1 sets explicit times on its file" as1 touch -d 2001-02-03T00:00:00Z "$S/t1"
expect_eq "  ... in the sandbox" 981158400 "$(rx stat -c %Y "$ROOT/sticky/t1")"

# --- writes by another user: in place, the owner stays -----------------------------------------
section "writes by another user"
check "user 2 appends to user 1's 0666 file" as2 sh -c 'echo more >>"$1/t1"' _ "$S"
expect_eq "  ... the sandbox has both lines" "$(printf 't\nmore')" "$(rx cat "$ROOT/sticky/t1")"
own "  ... the owner is still user 1" sticky/t1 $U1:$G1
fails_with "user 2 cannot write user 1's 0644 file" "Permission denied" \
	as2 sh -c 'echo x >>"$1/f1r"' _ "$S"

# --- extended attributes -----------------------------------------------------------------------
section "extended attributes"
check "setfattr -n user.x through the mount" as1 setfattr -n user.x -v hello "$S/f1r"
expect_eq "  ... getfattr through the mount" hello "$(as1 getfattr --only-values -n user.x "$S/f1r" 2>/dev/null)"
expect_eq "  ... getfattr in the sandbox" hello "$(rx getfattr --only-values -n user.x "$ROOT/sticky/f1r" 2>/dev/null)"
check "  ... listed" bash -c 'getfattr --absolute-names -d "$1" | grep -qx "user.x=\"hello\""' _ "$S/f1r"
fails_with "user 2 cannot set one on user 1's 0644 file" "Permission denied" \
	as2 setfattr -n user.y -v no "$S/f1r"
fails_with "a missing one is ENODATA" "No such attribute" getfattr -n user.missing "$S/f1r"
echo rewritten >"$S/f0" && setfattr -n user.keep -v k "$S/f0" && echo more >>"$S/f0"
expect_eq "a file's xattrs survive a write through the mount (a store)" k \
	"$(rx getfattr --only-values -n user.keep "$ROOT/sticky/f0" 2>/dev/null)"
check "setfattr -x removes it" as1 setfattr -x user.x "$S/f1r"
check "  ... gone in the sandbox" bash -c '! "$@" 2>/dev/null' _ \
	rx getfattr -n user.x "$ROOT/sticky/f1r"
rx setfattr -n user.z -v from-inside "$ROOT/sticky/f1r"
# the agent's change event makes the mount forget its list: wait for it
v=
for _ in $(seq 1 100); do
	v=$(getfattr --only-values -n user.z "$S/f1r" 2>/dev/null) && break
	sleep 0.05
done
expect_eq "one set inside the sandbox shows through the mount" from-inside "$v"
# the kernel asks for security.capability before every write
xrt() { sed -n 's/^rfs.xattr requests=[0-9]* round_trips=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats"; }
echo w >"$S/w" && getfattr -n security.capability "$S/w" >/dev/null 2>&1
X0=$(xrt)
for i in $(seq 1 20); do echo "$i" >>"$S/w"; done
X1=$(xrt)
check "20 appends cost at most 2 xattr round trips (${X0:-?} -> ${X1:-?})" \
	test -n "$X0" -a -n "$X1" -a "$((X1 - X0))" -le 2
expect_eq "  ... and all arrived" 21 "$(rx cat "$ROOT/sticky/w" | wc -l)"
# SELinux labels are not carried: ls -l then asks one file for its label,
# not every file (each ask is a FUSE request, even answered from a cache)
fails_with "security.selinux is not supported" "Operation not supported" \
	getfattr -n security.selinux "$S/w"
fails_with "  ... nor set" "Operation not supported" setfattr -n security.selinux -v x "$S/w"
rx sh -c "mkdir $ROOT/sticky/many && cd $ROOT/sticky/many && touch \$(seq 1 40)"
tm ls -l "$S/many" >/dev/null
gx() { sed -n 's/^fuse.getxattr \([0-9]*\)/\1/p' "$MNT/.ctl/stats"; }
G0=$(gx)
tm ls -l "$S/many" >/dev/null
G1=$(gx)
check "ls -l of 40 files asks about one xattr a file (${G0:-?} -> ${G1:-?})" \
	test -n "$G0" -a -n "$G1" -a "$((G1 - G0))" -le 45

# --- RENAME_EXCHANGE ---------------------------------------------------------------------------
section "RENAME_EXCHANGE"
# xchg A B: renameat2(A, B, RENAME_EXCHANGE), prints the errno's text on failure
cat >"$T/xchg.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2) != 0:
    sys.exit(os.strerror(ctypes.get_errno()))
EOF
chmod 644 "$T/xchg.py" # read by the other users too
xchg() { $PY "$T/xchg.py" "$@"; }
as1 sh -c 'echo A >"$1/xa" && mkdir "$1/xd" && echo inside >"$1/xd/in"' _ "$S"
check "user 1 exchanges a file and a directory" as1 $PY "$T/xchg.py" "$S/xa" "$S/xd"
expect_eq "  ... xd is the file through the mount" A "$(cat "$S/xd" 2>&1)"
expect_eq "  ... xa is the dir through the mount" inside "$(cat "$S/xa/in" 2>&1)"
expect_eq "  ... and in the sandbox" "A inside" \
	"$(rx sh -c "cat $ROOT/sticky/xd; cat $ROOT/sticky/xa/in" | tr '\n' ' ' | sed 's/ $//')"
fails_with "exchange with a missing name" "No such file" xchg "$S/xa" "$S/nothing"
fails_with "user 2 cannot exchange user 1's names in a sticky dir" "Operation not permitted" \
	as2 $PY "$T/xchg.py" "$S/xa" "$S/xd"

# --- a relative path of 4,084 bytes ------------------------------------------------------------
section "long relative path"
N250=$(printf 'd%.0s' $(seq 1 250))
REL=
for i in $(seq 1 16); do REL="$REL$N250/"; done
LAST=$(printf 'f%.0s' $(seq 1 $((4084 - ${#REL}))))
REL="$REL$LAST"
expect_eq "the relative path is 4,084 bytes" 4084 "${#REL}"
(cd "$MNT" && for i in $(seq 1 16); do mkdir "$N250" && cd "$N250" || exit 1; done)
expect_eq "16 nested directories of 250 bytes" 0 $?
(cd "$MNT" && echo deep >"$REL") 2>"$T/o"
expect_eq "a file at the 4,084-byte relative path (sandbox path: $((${#ROOT} + 1 + 4084)) bytes)" \
	0 $?
cut -c1-40,4000- "$T/o" | sed 's/^/#   /' | head -2
expect_eq "  ... read back through the mount" deep "$(cd "$MNT" && cat "$REL" 2>&1 | cut -c1-40,4080-)"
expect_eq "  ... and in the sandbox" deep \
	"$(rx sh -c "cd $ROOT && for i in \$(seq 1 16); do cd $N250; done && cat $LAST" 2>&1 | cut -c1-80)"
check "  ... renamed at that depth" sh -c 'cd "$1" && mv "$2" "$2.r" 2>&1 | cut -c1-30,4090- && test -e "$2.r"' _ \
	"$MNT" "$REL"
# at depth 15 with a name of 200 bytes the path is 4,088 bytes: past a
# step (4,000), its last part a bare name
D15=${REL%/*/*}
N200=$(printf 'g%.0s' $(seq 1 200))
(cd "$MNT" && cd "$D15" && echo near >"$N200" && echo again >>"$N200")
expect_eq "a file written twice at a sandbox path of $((${#ROOT} + 1 + ${#D15} + 1 + 200)) bytes" \
	"near again" "$(rx sh -c "cd $ROOT && for i in \$(seq 1 15); do cd $N250; done && cat $N200" | tr '\n' ' ' | sed 's/ $//')"
check "  ... removed at that depth" sh -c 'cd "$1" && rm "$2.r" 2>/dev/null && ! test -e "$2.r"' _ "$MNT" "$REL"

# --- EFBIG -------------------------------------------------------------------------------------
section "EFBIG"
echo small >"$S/big"
rx sh -c "echo small >/tmp/ref"
want=$(rx truncate -s 999999999999999 /tmp/ref 2>&1 | sed 's/.*: //')
expect_eq "the sandbox's own answer" "File too large" "$want"
fails_with "truncate -s 999999999999999 through the mount: the call fails" \
	"failed to truncate.*$want" truncate -s 999999999999999 "$S/big"
expect_eq "  ... the file is unchanged" small "$(rx cat "$ROOT/sticky/big")"
check "truncate -s 1G through the mount" tm truncate -s 1G "$S/big"
expect_eq "  ... 1 GiB in the sandbox" 1073741824 "$(rx stat -c %s "$ROOT/sticky/big")"
check "  ... sparse there (under 1 MiB allocated)" \
	test "$(rx stat -c %b "$ROOT/sticky/big")" -lt 2048

# --- the link count of another name after a rename over the first ------------------------------
section "link counts"
echo a >"$S/la" && ln "$S/la" "$S/lb"
expect_eq "two names: nlink 2 through the mount" 2 "$(stat -c %h "$S/lb")"
echo c >"$S/lc" && mv "$S/lc" "$S/la"
expect_eq "after mv over the first name the other says nlink 1 at once" 1 "$(stat -c %h "$S/lb")"
expect_eq "  ... as in the sandbox" 1 "$(rx stat -c %h "$ROOT/sticky/lb")"
expect_eq "  ... and kept its content" a "$(cat "$S/lb")"
# the same after ls -l cached the listings (readdirplus gives the kernel
# their attributes): an unlink, a link and a rename over a name, each in
# the name's own directory and across directories
mkdir "$S/ld1" "$S/ld2"
echo d >"$S/ld1/f" && ln "$S/ld1/f" "$S/ld1/g" && ln "$S/ld1/f" "$S/ld2/h"
ls -l "$S/ld1" "$S/ld2" >/dev/null
nl() { ls -l "$1" | awk -v n="$2" '$NF == n { print $2 }'; }
expect_eq "three names: ls -l says 3" "3 3" "$(nl "$S/ld1" f) $(nl "$S/ld2" h)"
rm "$S/ld1/g"
expect_eq "after rm of one, ls -l of both directories says 2" "2 2" "$(nl "$S/ld1" f) $(nl "$S/ld2" h)"
expect_eq "  ... and so does stat" "2 2" "$(stat -c %h "$S/ld1/f" "$S/ld2/h" | tr '\n' ' ' | sed 's/ $//')"
ln "$S/ld2/h" "$S/ld2/i"
expect_eq "after another ln, ls -l of the other directory says 3" 3 "$(nl "$S/ld1" f)"
echo e >"$S/ld1/x" && mv "$S/ld1/x" "$S/ld2/i"
expect_eq "after mv over a name, ls -l of the other directory says 2" 2 "$(nl "$S/ld1" f)"
expect_eq "  ... as in the sandbox" 2 "$(rx stat -c %h "$ROOT/sticky/ld1/f")"

finish
