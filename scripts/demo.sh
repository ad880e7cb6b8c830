#!/usr/bin/env bash
# demo.sh - the main job on a fresh machine: install what is missing, build,
# start the local host sbxd, create a sandbox and mount it (sbx up), then use
# ordinary tools on its files and run commands in it.
# Usage: scripts/demo.sh [DIR] [--keep]
#   DIR     where to mount (default: ./sandbox)
#   --keep  leave the sandbox mounted and running at the end
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MNT=./sandbox
KEEP=
for a in "$@"; do
	case $a in
	--keep) KEEP=1 ;;
	*) MNT=$a ;;
	esac
done
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" "$ROOT/build" >/dev/null
SBX="$ROOT/build/sbx"
mkdir -p "$MNT"
MNT=$(cd "$MNT" && pwd)

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step sbx up "$MNT"
"$SBX" up "$MNT"
ID=$(sed -n 's/^\(.*\):\/$/\1/p' <<<"$(awk -v m="$MNT" '$2 == m && $3 == "fuse.sbxfs" {print $1}' /proc/mounts)")

step "ls $MNT"
ls "$MNT"
step "mkdir -p $MNT/root/demo && cat > $MNT/root/demo/main.c"
mkdir -p "$MNT/root/demo"
printf '#include <stdio.h>\nint main(void) { puts("hello from the sandbox"); return 0; }\n' \
	>"$MNT/root/demo/main.c"
cat "$MNT/root/demo/main.c"
step "cd $MNT/root/demo && sbx exec -- sh -c 'cc -o hello main.c && ./hello && uname -n'"
(cd "$MNT/root/demo" && "$SBX" exec -n -- sh -c 'cc -o hello main.c && ./hello && uname -n')
step "ls -l $MNT/root/demo     # the binary the sandbox built, seen through the mount"
ls -l "$MNT/root/demo"
step "git init + commit inside the mount"
(cd "$MNT/root/demo" && git init -q && git add main.c &&
	git -c user.name=demo -c user.email=demo@example.com commit -qm 'first' && git log --oneline)
step "grep -rn hello $MNT/root/demo --include=*.c"
grep -rn hello "$MNT/root/demo" --include='*.c'
step "echo 'ps -e' > $MNT/.ctl/exec; cat $MNT/.ctl/jobs/last/output     # the control files"
echo 'ps -e' >"$MNT/.ctl/exec"
cat "$MNT/.ctl/jobs/last/output"
step "cat $MNT/.ctl/status"
cat "$MNT/.ctl/status"

if [ -n "$KEEP" ]; then
	printf '\nThe sandbox %s stays mounted at %s. Try:\n' "$ID" "$MNT"
	echo "  cd $MNT/root && $SBX exec -- ls -la"
	echo "  $SBX umount $MNT && $SBX rm $ID && $SBX host stop"
else
	step sbx umount "$MNT" "&&" sbx rm "$ID"
	"$SBX" umount "$MNT"
	"$SBX" rm "$ID"
	rmdir "$MNT" 2>/dev/null || true
	step sbx host stop
	"$SBX" host stop
fi
