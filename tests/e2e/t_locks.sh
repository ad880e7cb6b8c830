#!/usr/bin/env bash
# t_locks.sh - file locks taken through the mount (issue 7: "document it,
# or take it there too"). sbxfs leaves locking to the local kernel, as
# sshfs does: flock(2), POSIX and OFD fcntl(2) locks taken through the
# mount order the processes of this machine that lock the same file
# through the same mount, and the sandbox never sees them. Both halves are
# checked, as docs/sbxfs.md ("Limits and known gaps") states them.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
# holds CMD...: runs CMD in the background until $T/release exists; waits
# until it took its lock (it touches $T/held)
hold() {
	rm -f "$T/held" "$T/release"
	"$@" &
	HOLDER=$!
	for _ in $(seq 1 500); do
		[ -e "$T/held" ] && return 0
		sleep 0.01
	done
	return 1
}
release() {
	touch "$T/release"
	wait "$HOLDER"
}
# pylock KIND FILE: a python holder of a lock of KIND (posix or ofd)
pylock() {
	python3 - "$1" "$2" "$T" <<'EOF'
import fcntl, os, sys, time
kind, path, t = sys.argv[1:]
fd = os.open(path, os.O_RDWR)
if kind == "posix":
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
else:
    import struct
    F_OFD_SETLK = 37
    fcntl.fcntl(fd, F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
open(t + "/held", "w").close()
while not os.path.exists(t + "/release"):
    time.sleep(0.01)
EOF
}
# trylock FILE: exit 0 when a POSIX write lock on FILE could be taken now
trylock() {
	python3 -c 'import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(1)' "$1"
}
notlock() { ! trylock "$1"; }

start_sbxd
ID=$(sbx create --name locks)
check "sandbox created" test -n "$ID"
rx mkdir -p /srv/l
rx sh -c 'echo data >/srv/l/f'
mkdir -p "$MNT"
tm "$BUILD/sbxfs" "$ID:/srv/l" "$MNT"
check "mounted" mountpoint -q "$MNT"

check "flock held through the mount" hold flock "$MNT/f" sh -c \
	"touch '$T/held'; while ! test -e '$T/release'; do sleep 0.01; done"
check "  ... a second flock -n through the mount fails" sh -c "! flock -n '$MNT/f' true"
check "  ... a flock -n on the same file inside the sandbox succeeds" rx flock -n /srv/l/f true
release
check "  ... released, a flock -n through the mount succeeds" flock -n "$MNT/f" true

for kind in posix ofd; do
	check "a $kind lock held through the mount" hold pylock $kind "$MNT/f"
	check "  ... a second one through the mount fails" notlock "$MNT/f"
	check "  ... the sandbox can take one on the same file" rx python3 -c 'import fcntl, os
fcntl.lockf(os.open("/srv/l/f", os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)'
	release
	check "  ... released, one through the mount succeeds" trylock "$MNT/f"
done
expect_eq "the file is unchanged" data "$(cat "$MNT/f")"
fusermount3 -u "$MNT"
finish
