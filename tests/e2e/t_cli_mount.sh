#!/usr/bin/env bash
# t_cli_mount.sh - the mount helper as a new user would use it: sbx up,
# sbx mount/umount, sbx exec from inside a mount (no id, mapped working
# directory, results visible in the mount at once), mount -t sbxfs and an
# fstab line (through mount.sbxfs).
. "$(dirname "$0")/lib.sh"

M1=$T/up M2=$T/m2 M3=$T/m3 M4=$T/m4
HELPER=/sbin/mount.sbxfs
made_helper=
on_exit() {
	local rc=$? m
	for m in "$M1" "$M2" "$M3" "$M4"; do fusermount3 -u -z "$m" 2>/dev/null; done
	[ -n "$made_helper" ] && rm -f "$HELPER"
	(exit $rc)
	cleanup
}
trap on_exit EXIT
tm() { timeout 60 "$@"; }

start_sbxd

# sbx up: one command from nothing to a mounted sandbox
tm "$BUILD/sbx" up "$M1" >"$T/up.out" 2>&1
expect_eq "sbx up exits 0" 0 $?
check "sbx up mounted DIR" mountpoint -q "$M1"
check "sbx up says what to try next" grep -q "sbx exec" "$T/up.out"
UPID=$(sed -n 's/^sandbox .* (\([0-9a-f-]*\)) is mounted at .*/\1/p' "$T/up.out")
check "sbx up names the sandbox" test -n "$UPID"
check "the mount shows the sandbox root" test -d "$M1/etc"
expect_eq ".ctl/status says HEALTHY" HEALTHY "$(tm cat "$M1/.ctl/status")"

# sbx mount of a sub-directory, then sbx exec from inside it
ID=$(sbx create --name cm)
sbx exec "$ID" -n -- mkdir -p "/srv/app/sub dir"
mkdir -p "$M2"
tm "$BUILD/sbx" mount "$ID:/srv/app" "$M2"
expect_eq "sbx mount exits 0" 0 $?
check "sbx mount mounted DIR" mountpoint -q "$M2"
cd "$M2/sub dir" || exit 1
expect_eq "sbx exec inside a mount needs no id and runs in the matching dir" \
	"/srv/app/sub dir" "$(tm "$BUILD/sbx" -q exec -n -- pwd)"
expect_eq "a lone word is the command" "/srv/app/sub dir" "$(tm "$BUILD/sbx" -q exec pwd </dev/null)"
echo "made by the host" >"$M2/sub dir/in.txt"
expect_eq "the command sees a file written through the mount" "made by the host" \
	"$(tm "$BUILD/sbx" -q exec -n -- cat in.txt)"
ls "$M2/sub dir" >/dev/null # fill the caches
tm "$BUILD/sbx" -q exec -n -- sh -c 'echo made in the sandbox > out.txt'
expect_eq "a file the command made is visible in the mount right after" \
	"made in the sandbox" "$(cat "$M2/sub dir/out.txt" 2>&1)"
cat "$M2/sub dir/in.txt" >/dev/null # cache its attributes and data
tm "$BUILD/sbx" -q exec -n -- sh -c 'echo changed by a command, and longer > in.txt'
expect_eq "a file the command changed shows the change in the mount right after" \
	"changed by a command, and longer" "$(cat "$M2/sub dir/in.txt" 2>&1)"
tm "$BUILD/sbx" -q exec -n -w / -- pwd >"$T/pwd"
expect_eq "-w still wins inside a mount" "/" "$(cat "$T/pwd")"
cd "$T" || exit 1
tm "$BUILD/sbx" -q exec -n -- true 2>"$T/err"
check "outside a mount, no id is an error" test $? -ne 0
check "and says why" grep -q "not in an sbxfs mount" "$T/err"
tm "$BUILD/sbx" umount "$M2"
expect_eq "sbx umount exits 0" 0 $?
check "sbx umount unmounted" bash -c '! mountpoint -q "$1"' _ "$M2"
tm "$BUILD/sbx" umount "$T" 2>/dev/null
check "sbx umount refuses a directory that is not an sbxfs mount" test $? -ne 0

# mount -t sbxfs and fstab, through mount.sbxfs
if [ ! -e "$HELPER" ]; then
	ln -s "$BUILD/sbx" "$HELPER" && made_helper=1
fi
mkdir -p "$M3" "$M4"
tm mount -t sbxfs "$ID:/srv/app" "$M3"
expect_eq "mount -t sbxfs exits 0" 0 $?
check "mount -t sbxfs mounted" test -d "$M3/sub dir"
tm umount "$M3"
check "umount of it works" bash -c '! mountpoint -q "$1"' _ "$M3"
printf '%s %s sbxfs _netdev,noauto,nofail,attr_timeout=2 0 0\n' "$ID:/srv/app" "$M4" >"$T/fstab"
tm mount -T "$T/fstab" "$M4"
expect_eq "an fstab line mounts (mount -T FSTAB DIR)" 0 $?
check "and shows the files" test -f "$M4/sub dir/in.txt"
tm "$BUILD/sbx" umount "$M4"
check "sbx umount of the fstab mount" bash -c '! mountpoint -q "$1"' _ "$M4"

tm "$BUILD/sbx" umount "$M1"
check "sbx umount of the sbx up mount" bash -c '! mountpoint -q "$1"' _ "$M1"
sbx rm "$ID" "$UPID"
expect_eq "both sandboxes deleted" 0 $?
finish
