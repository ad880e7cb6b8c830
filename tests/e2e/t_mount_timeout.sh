#!/usr/bin/env bash
# t_mount_timeout.sh - what docs/sbxfs.md promises when the host stops
# answering: a remote operation fails with EIO at its deadline (op_timeout,
# 60 s by default), not earlier with another error; once the host answers
# again the mount works; a dropped connection (sbxd stopped) is ENOTCONN at
# once. Never a silent success. Takes a little over a minute (the deadline).
. "$(dirname "$0")/lib.sh"

M=$T/m
on_exit() {
	local rc=$?
	[ -n "$SBXD_PID" ] && kill -CONT "$SBXD_PID" 2>/dev/null
	fusermount3 -u -z "$M" 2>/dev/null
	(exit $rc)
	cleanup
}
trap on_exit EXIT
tm() { timeout 120 "$@"; }
mkdir -p "$M"

start_sbxd
A=$(sbx create --name timeout-a --region eu)
tm "$BUILD/sbxfs" "$A" "$M"
check "mounted (default op_timeout)" mountpoint -q "$M"
echo kept >"$M/kept"
mkdir "$M/sub"
echo drop-caches >"$M/.ctl/ctl"

# ops PATH PATH2: two operations at once, stat of PATH and create of PATH2,
# each printing "NAME ERRNO SECONDS". PATH2 is in another directory than
# PATH: the kernel runs a create in a directory alone (it holds the
# directory's lock), so it would wait for the other operation to end.
ops() {
	tm python3 - "$@" <<'EOF'
import errno, os, sys, threading, time

out = threading.Lock()

def run(name, fn):
    t0 = time.monotonic()
    try:
        fn()
        res = "OK"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    with out:  # both may end at once: one whole line each
        print("%s %s %.1f" % (name, res, time.monotonic() - t0), flush=True)

def create(p):
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)

ts = [threading.Thread(target=run, args=("stat", lambda: os.stat(sys.argv[1]))),
      threading.Thread(target=run, args=("create", lambda: create(sys.argv[2])))]
for t in ts:
    t.start()
for t in ts:
    t.join()
EOF
}

# --- a host that does not answer: EIO at the deadline ----------------------------------------------
kill -STOP "$SBXD_PID"
ops "$M/missing" "$M/sub/new1" >"$T/stopped.out"
kill -CONT "$SBXD_PID"
sed 's/^/# stopped: /' "$T/stopped.out"
for op in stat create; do
	read -r _ err secs < <(grep "^$op " "$T/stopped.out")
	expect_eq "$op fails with EIO when the host does not answer" EIO "$err"
	check "$op waits for the 60 s deadline ($secs s)" \
		python3 -c 'import sys; sys.exit(not 59 <= float(sys.argv[1]) <= 75)' "${secs:-0}"
done
expect_eq "the mount works again once the host answers" kept "$(tm cat "$M/kept")"
check "and the failed create left no file" bash -c '! "$1" -q exec "$2" -- test -e /sub/new1' \
	_ "$BUILD/sbx" "$A"

# --- a dropped connection: ENOTCONN, at once ---------------------------------------------------------
echo drop-caches >"$M/.ctl/ctl"
stop_sbxd
ops "$M/missing" "$M/sub/new2" >"$T/gone.out"
sed 's/^/# gone: /' "$T/gone.out"
for op in stat create; do
	read -r _ err secs < <(grep "^$op " "$T/gone.out")
	expect_eq "$op fails with ENOTCONN when the host is gone" ENOTCONN "$err"
	check "$op fails promptly ($secs s)" \
		python3 -c 'import sys; sys.exit(not float(sys.argv[1]) < 10)' "${secs:-99}"
done
tm fusermount3 -u "$M"
expect_eq "unmount works" 0 $?
finish
