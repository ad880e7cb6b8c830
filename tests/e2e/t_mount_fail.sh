#!/usr/bin/env bash
# t_mount_fail.sh - sbxfs when things go wrong: bad arguments, a store that
# fails (close reports it, the data is kept locally), the sandbox deleted
# under a live mount, /.ctl/ctl delete, and sbxd stopped under a live mount.
# Operations must fail with an error (never a silent success), unmounting
# must work, and nothing may hang.
. "$(dirname "$0")/lib.sh"

M1=$T/m1
M2=$T/m2
M3=$T/m3
on_exit() {
	local rc=$?
	for m in "$M1" "$M2" "$M3"; do fusermount3 -u -z "$m" 2>/dev/null; done
	(exit $rc)
	cleanup
}
trap on_exit EXIT
tm() { timeout 60 "$@"; }
mkdir -p "$M1" "$M2" "$M3" "$T/cache"

# gone SPEC MNT: waits (bounded) until the sbxfs serving MNT has exited
gone() {
	local i
	for i in $(seq 1 300); do
		pgrep -f "sbxfs.* $1 $2\$" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

start_sbxd
A=$(sbx create --name fail-a --region eu)
B=$(sbx create --name fail-b --region eu)
C=$(sbx create --name fail-c --region eu)
rx() { local id=$1; shift; timeout 60 "$BUILD/sbx" -q exec "$id" -- "$@"; }

# --- bad arguments: nothing gets mounted ----------------------------------------------------
tm "$BUILD/sbxfs" no-such-sandbox "$M1" 2>"$T/err"
expect_eq "an unknown sandbox fails" 1 $?
check "with a message" grep -q no-such-sandbox "$T/err"
check "and nothing is mounted" bash -c '! mountpoint -q "$1"' _ "$M1"
tm "$BUILD/sbxfs" "$A:/no/such/dir" "$M1" 2>/dev/null
expect_eq "a missing remote dir fails" 1 $?
tm "$BUILD/sbxfs" -o token=abc "$A" "$M1" 2>"$T/err"
expect_eq "a token on the command line is refused" 2 $?
check "saying how to pass it" grep -q token_file "$T/err"
tm "$BUILD/sbxfs" "$A" 2>/dev/null
expect_eq "a missing mount point is a usage error" 2 $?

# --- a store that fails ---------------------------------------------------------------------------
rx "$A" mkdir -p /srv/a/gone
tm "$BUILD/sbxfs" -o cache_dir="$T/cache" "$A:/srv/a" "$M1"
check "mounted A" mountpoint -q "$M1"
python3 - "$M1/gone/x" "$BUILD/sbx" "$A" >"$T/store.out" 2>&1 <<'EOF'
import os, subprocess, sys
path, sbx, sid = sys.argv[1:4]
# the directory will disappear behind the mount's back (not through /.ctl,
# which stores dirty files first); the remover starts before the file is
# opened: a fork+exec while it is open would close (so flush) a copy of it
# (SBX_NO_MOUNT_SYNC: sbx exec would first store what the mount holds)
rm = subprocess.Popen([sbx, "-q", "exec", sid, "--", "sh", "-c", "read go; rm -rf /srv/a/gone"],
                      stdin=subprocess.PIPE, env=dict(os.environ, SBX_NO_MOUNT_SYNC="1"))
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"precious data\n")
rm.communicate(b"go\n", timeout=60)
try:
    os.fsync(fd)
    print("fsync: OK")
except OSError as e:
    print("fsync: " + os.strerror(e.errno))
try:
    os.close(fd)
    print("close: OK")
except OSError as e:
    print("close: " + os.strerror(e.errno))
EOF
check "fsync reports the failed store" grep -q "^fsync: No such file or directory" "$T/store.out"
check "close reports the failed store" grep -q "^close: No such file or directory" "$T/store.out"
for i in $(seq 1 50); do ls "$T/cache"/sbxfs-unsaved-* >/dev/null 2>&1 && break; sleep 0.1; done
check "the data is kept locally, not dropped" bash -c 'grep -q "precious data" "$1"/sbxfs-unsaved-*' _ "$T/cache"

# --- the sandbox deleted under a live mount ----------------------------------------------------------
echo hello >"$M1/f"
sbx rm "$A" >/dev/null
expect_eq "sandbox A deleted" 0 $?
echo drop-caches >"$M1/.ctl/ctl"
tm cat "$M1/f" >/dev/null 2>"$T/err"
rc=$?
check "reading fails with an error (rc $rc: $(head -c 80 "$T/err"))" test $rc -ne 0 -a $rc -ne 124
tm touch "$M1/new" 2>/dev/null
rc=$?
check "creating fails with an error" test $rc -ne 0 -a $rc -ne 124
tm ls "$M1/nothing-here" >/dev/null 2>&1
rc=$?
check "a lookup fails" test $rc -ne 0 -a $rc -ne 124
python3 - "$M1" >"$T/errno.out" <<'EOF'
import errno, os, sys
try:
    os.mkdir(sys.argv[1] + "/d")
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
check "mkdir fails with a connection error, not a file error ($(cat "$T/errno.out"))" \
	grep -qE "^(ENOTCONN|EIO|EHOSTDOWN)$" "$T/errno.out"
tm "$BUILD/sbx" umount "$M1"
expect_eq "sbx umount succeeds" 0 $?
check "sbxfs exited" gone "$A:/srv/a" "$M1"

# --- /.ctl/ctl delete ----------------------------------------------------------------------------------
tm "$BUILD/sbxfs" "$B" "$M2"
check "mounted B" mountpoint -q "$M2"
echo delete >"$M2/.ctl/ctl"
expect_eq "ctl delete" 0 $?
expect_eq "status says DELETED" DELETED "$(tm cat "$M2/.ctl/status")"
check "info says deleted" grep -q '"deleted":true' "$M2/.ctl/info"
wait_status_gone() {
	local i
	for i in $(seq 1 100); do sbx status "$1" >/dev/null 2>&1 || return 0; sleep 0.1; done
	return 1
}
check "the sandbox is gone from the host" wait_status_gone "$B"
tm touch "$M2/x" 2>/dev/null
check "then operations fail" test $? -ne 0
tm fusermount3 -u "$M2"
expect_eq "and unmount works" 0 $?
check "sbxfs exited" gone "$B:/" "$M2"

# --- read-only: changes refused, /.ctl still usable ----------------------------------------------------
tm "$BUILD/sbxfs" "$C" "$M3"
echo original >"$M3/ro.txt"
tm fusermount3 -u "$M3"
check "sbxfs exited" gone "$C:/" "$M3"
tm "$BUILD/sbxfs" -o ro "$C" "$M3"
expect_eq "ro: reading works" original "$(tm cat "$M3/ro.txt")"
(echo x >"$M3/ro.txt") 2>"$T/err"
check "ro: writing is refused with EROFS" grep -q "Read-only file system" "$T/err"
tm mkdir "$M3/d" 2>/dev/null
check "ro: mkdir is refused" test $? -ne 0
echo 'echo via-ctl' >"$M3/.ctl/exec"
expect_eq "ro: /.ctl still runs commands" via-ctl "$(tm cat "$M3/.ctl/jobs/last/output")"
tm fusermount3 -u "$M3"
check "sbxfs exited" gone "$C:/" "$M3"

# --- sbxd stopped under a live mount -------------------------------------------------------------------
tm "$BUILD/sbxfs" "$C" "$M3"
check "mounted C" mountpoint -q "$M3"
echo kept >"$M3/kept"
python3 - "$M3/.ctl/exec" >"$T/job.out" 2>&1 <<'EOF' &
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b"sleep 300")
try:
    while os.read(fd, 4096):
        pass
    print("EOF")
except OSError as e:
    print(os.strerror(e.errno))
EOF
reader=$!
for i in $(seq 1 100); do
	[ "$(cat "$M3/.ctl/jobs/last/status" 2>/dev/null)" = running ] && break
	sleep 0.05
done
check "the job runs before sbxd stops" test "$(cat "$M3/.ctl/jobs/last/status")" = running
exec {kfd}<"$M3/kept" {wfd}>"$M3/written-across"
stop_sbxd
echo drop-caches >"$M3/.ctl/ctl"
start=$SECONDS
tm cat "$M3/kept" >/dev/null 2>&1
rc=$?
check "reading fails once sbxd is gone" test $rc -ne 0 -a $rc -ne 124
tm sh -c 'echo x > "$1/newfile"' _ "$M3" 2>/dev/null
rc=$?
check "writing fails once sbxd is gone" test $rc -ne 0 -a $rc -ne 124
check "failures are prompt" test $((SECONDS - start)) -le 30
for i in $(seq 1 100); do kill -0 $reader 2>/dev/null || break; sleep 0.1; done
check "a blocked read of a job ends when the connection goes" bash -c '! kill -0 $1 2>/dev/null' _ "$reader"
kill $reader 2>/dev/null
wait $reader 2>/dev/null
# while the host is down, requests fail at once and the session is tried
# again with a growing delay, not by every request
connects() { sed -n 's/^rfs.connect requests=\([0-9]*\).*/\1/p' "$M3/.ctl/stats"; }
n0=$(connects)
for i in $(seq 1 30); do stat "$M3/gone-$i" >/dev/null 2>&1; done
n1=$(connects)
echo "# 30 operations while the host is down: $((n1 - n0)) session attempts"
check "they try a new session a few times, not 30 ($((n1 - n0)))" test $((n1 - n0)) -le 5
# the host comes back at the same address: the mount works again, files
# open before still read, and what was written through them is stored
start_sbxd "${API#http://}"
check "sbxd restarted at the same address" test -n "$SBXD_PID"
wait_status "$C" HEALTHY
ok_back=
for i in $(seq 1 100); do
	[ "$(cat "$M3/kept" 2>/dev/null)" = kept ] && ok_back=1 && break
	sleep 0.1 # the backoff (at most 5 s) passes: no event to wait for
done
check "after the host restarts the mount reads again" test -n "$ok_back"
check "a file open across the restart still reads" test "$(cat <&"$kfd")" = kept
echo across >&"$wfd"
exec {kfd}<&- {wfd}>&-
expect_eq "one open for writing across the restart stores on close" across \
	"$(rx "$C" cat /written-across 2>/dev/null)"
echo back >"$M3/after-restart"
expect_eq "and writes reach the sandbox" back "$(rx "$C" cat /after-restart 2>/dev/null)"
expect_eq "the session was started again" 1 $(($(connects) > n1))
tm "$BUILD/sbx" umount "$M3"
expect_eq "sbx umount succeeds" 0 $?
check "sbxfs exited" gone "$C:/" "$M3"
finish
