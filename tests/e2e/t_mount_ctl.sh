#!/usr/bin/env bash
# t_mount_ctl.sh - the control tree /.ctl of an sbxfs mount: status, info,
# ctl verbs, exec streaming, jobs (new, ctl, stdin, stdout, stderr, output,
# status, exit, cmd, last), kill, signal, timeout, interrupting a blocked
# read, and the consistency rules between jobs and the mount.
. "$(dirname "$0")/lib.sh"

MNT=$T/mnt
tm() { timeout 60 "$@"; }
C=$MNT/.ctl
# new_job: prints the number of a new pending job
new_job() { tm cat "$C/new"; }

start_sbxd
ID=$(sbx create --name ctl1 --region eu)
rx mkdir -p /srv/work
mkdir -p "$MNT"
tm "$BUILD/sbxfs" "$ID:/srv/work" "$MNT"
check "mounted" mountpoint -q "$MNT"

# --- status, info, hidden ----------------------------------------------------------
expect_eq "status" HEALTHY "$(tm cat "$C/status")"
check "info is JSON with the sandbox id" bash -c \
	'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"sandbox_id\"]==sys.argv[2] and d[\"remote_dir\"]==\"/srv/work\"" "$1/info" "$2"' \
	_ "$C" "$ID"
check "info holds no token" bash -c '! grep -qF "$1" "$2/info"' _ "$TOKEN" "$C"
check "info has no secret field" bash -c '! grep -qiE "secret|token" "$1/info"' _ "$C"
check "/.ctl is hidden from ls -a /" bash -c '! ls -a "$1" | grep -qx .ctl' _ "$MNT"
expect_eq "/.ctl lists its files" "ctl exec info jobs logs new ports procs stats status" "$(ls "$C" | tr '\n' ' ' | sed 's/ $//')"
echo wait-ready 30 >"$C/ctl"
expect_eq "ctl: wait-ready" 0 $?
(echo no-such-verb >"$C/ctl") 2>/dev/null
check "ctl: an unknown verb fails the write" test $? -ne 0

# --- exec: streaming, exit codes ---------------------------------------------------
python3 - "$C/exec" >"$T/stream.out" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
t0 = time.time()
os.write(fd, b"for i in 1 2 3; do echo line$i; sleep 1; done; echo err >&2")
chunks = []
while True:
    b = os.read(fd, 65536)
    if not b:
        break
    chunks.append((time.time() - t0, b))
os.close(fd)
data = b"".join(b for _, b in chunks)
first = chunks[0][0] if chunks else 99
last = time.time() - t0
print("%s first=%s" % (data.decode().replace("\n", " ").strip(), "early" if first < last - 1.5 else "late"))
EOF
expect_eq "exec streams output as it comes, EOF at exit" "line1 line2 line3 err first=early" "$(cat "$T/stream.out")"
N=$(readlink "$C/jobs/last")
expect_eq "jobs/last points to the exec job" "$N" "$(ls "$C/jobs" | grep -v last | sort -n | tail -1)"
expect_eq "its status" finished "$(tm cat "$C/jobs/$N/status")"
expect_eq "its exit" 0 "$(tm cat "$C/jobs/$N/exit")"
expect_eq "its stdout" "line1 line2 line3" "$(tm cat "$C/jobs/$N/stdout" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "its stderr" "err" "$(tm cat "$C/jobs/$N/stderr")"
expect_eq "its cmd" "for i in 1 2 3; do echo line\$i; sleep 1; done; echo err >&2" "$(tm cat "$C/jobs/$N/cmd")"
run_exec() { ctl_exec "$C/exec" "$1"; }
for code in 0 1 7; do
	run_exec "exit $code" >/dev/null
	N=$(readlink "$C/jobs/last")
	expect_eq "exit code $code" "$code" "$(tm cat "$C/jobs/$N/exit")"
done
expect_eq "a failed job's status" failed "$(tm cat "$C/jobs/$N/status")"
expect_eq "the default cwd is the mounted dir" /srv/work "$(run_exec pwd)"

# --- jobs: cwd, env, stdin -------------------------------------------------------------
N=$(new_job)
expect_eq "new job is pending" pending "$(tm cat "$C/jobs/$N/status")"
printf 'cwd /etc\nenv FOO=foo bar\ntimeout 30\n' >"$C/jobs/$N/ctl"
echo 'run echo "$FOO" "$PWD"' >"$C/jobs/$N/ctl"
expect_eq "cwd and env" "foo bar /etc" "$(tm cat "$C/jobs/$N/output")"
N=$(new_job)
printf 'hello\nworld\n' >"$C/jobs/$N/stdin"
echo 'run tr a-z A-Z' >"$C/jobs/$N/ctl"
expect_eq "stdin written before run, closed: EOF" "HELLO WORLD" \
	"$(tm cat "$C/jobs/$N/stdout" | tr '\n' ' ' | sed 's/ $//')"
N=$(new_job)
echo 'run cat; echo end' >"$C/jobs/$N/ctl"
exec 7>"$C/jobs/$N/stdin"
echo one >&7
echo two >&7
exec 7>&-
expect_eq "stdin streamed to a running job, close sends EOF" "one two end" \
	"$(tm cat "$C/jobs/$N/output" | tr '\n' ' ' | sed 's/ $//')"
(echo 'run true' >"$C/jobs/$N/ctl") 2>/dev/null
check "run twice is refused" test $? -ne 0

# --- following a job: cat and tail -f ------------------------------------------------------
N=$(new_job)
echo 'run for i in 1 2 3; do echo t$i; sleep 0.5; done' >"$C/jobs/$N/ctl"
start=$SECONDS
expect_eq "cat follows a job to its end" "t1 t2 t3" \
	"$(tm cat "$C/jobs/$N/output" | tr '\n' ' ' | sed 's/ $//')"
check "cat waited for the end" test $((SECONDS - start)) -ge 1
N=$(new_job)
echo 'run for i in 1 2 3 4; do echo f$i; sleep 0.5; done' >"$C/jobs/$N/ctl"
timeout 6 tail -n +1 -f "$C/jobs/$N/output" >"$T/tail.out" 2>&1
expect_eq "tail -f shows the lines" "f1 f2 f3 f4" "$(tr '\n' ' ' <"$T/tail.out" | sed 's/ $//')"

# --- interrupt, kill, signal, timeout --------------------------------------------------------
N=$(new_job)
echo 'run sleep 60' >"$C/jobs/$N/ctl"
start=$SECONDS
timeout -s INT 2 cat "$C/jobs/$N/output"
expect_eq "Ctrl-C interrupts a blocked read" 124 $?
check "promptly" test $((SECONDS - start)) -le 5
expect_eq "and the job still runs" running "$(tm cat "$C/jobs/$N/status")"
echo kill >"$C/jobs/$N/ctl"
expect_eq "kill: exit 137" 137 "$(tm cat "$C/jobs/$N/exit")"
expect_eq "kill: status killed" killed "$(tm cat "$C/jobs/$N/status")"
check "kill: nothing left running" bash -c '! "$1" -q exec "$2" -- ps -e -o args= | grep -q "sleep 60"' _ "$BUILD/sbx" "$ID"
N=$(new_job)
echo "run trap 'echo got TERM; exit 5' TERM; sleep 60 & wait" >"$C/jobs/$N/ctl"
sleep 1
echo 'signal TERM' >"$C/jobs/$N/ctl"
expect_eq "signal TERM reaches the job" 5 "$(tm cat "$C/jobs/$N/exit")"
check "the job's trap ran" grep -q "got TERM" "$C/jobs/$N/output"
N=$(new_job)
printf 'timeout 1\nrun sleep 60\n' >"$C/jobs/$N/ctl"
start=$SECONDS
expect_eq "timeout: exit 124" 124 "$(tm cat "$C/jobs/$N/exit")"
expect_eq "timeout: status" timeout "$(tm cat "$C/jobs/$N/status")"
check "timeout: promptly" test $((SECONDS - start)) -le 10

# --- consistency between jobs and the mount ---------------------------------------------------
ls "$MNT" >/dev/null
stat "$MNT/made-by-job" >/dev/null 2>&1
run_exec 'echo made > made-by-job; mkdir -p d1/d2; echo deep > d1/d2/f' >/dev/null
expect_eq "a file created by a job is visible when it ends" made "$(cat "$MNT/made-by-job" 2>&1)"
expect_eq "and in new directories" deep "$(cat "$MNT/d1/d2/f" 2>&1)"
echo before >"$MNT/edited"
cat "$MNT/edited" >/dev/null
run_exec 'echo after > edited' >/dev/null
expect_eq "a file changed by a job is seen changed" after "$(cat "$MNT/edited")"
run_exec 'rm made-by-job' >/dev/null
check "a file removed by a job is gone" test ! -e "$MNT/made-by-job"
exec 8>"$MNT/unclosed"
echo "written, not closed" >&8
expect_eq "a job sees writes made before it (file still open)" "written, not closed" \
	"$(run_exec 'cat unclosed')"
exec 8>&-

# --- a reader of .ctl/exec killed while it waits --------------------------------------------------
# Its handle is released while its read is parked on the job: the job's
# later output must not be written to the freed handle, and the job goes
# on to its end. (The kernel usually sends the read's interrupt before
# the release, so this rarely reaches the race itself; see io.c.)
cat >"$T/killed.py" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b"sleep 1; echo late")
print("started", flush=True)
os.read(fd, 4096)
EOF
python3 "$T/killed.py" "$C/exec" >"$T/killed.out" &
kpid=$!
for i in $(seq 1 100); do grep -q started "$T/killed.out" 2>/dev/null && break; sleep 0.05; done
kill -9 $kpid
wait $kpid 2>/dev/null
for i in $(seq 1 100); do [ "$(cat "$C/jobs/last/status" 2>/dev/null)" = running ] || break; sleep 0.05; done
expect_eq "the killed reader's job ran to its end" late "$(tm cat "$C/jobs/last/output")"
check "and the mount still answers" bash -c 'tm() { timeout 60 "$@"; }; tm cat "$1" >/dev/null' _ "$C/info"

# --- stats ------------------------------------------------------------------------------------
check "stats count round trips" bash -c \
	'grep -qE "^rfs.total requests=[1-9][0-9]* round_trips=[1-9]" "$1/stats"' _ "$C"
check "stats count cache hits" grep -qE "^cache.attr hits=[0-9]+ misses=[0-9]+" "$C/stats"
check "stats count FUSE requests" grep -qE "^fuse.lookup [1-9]" "$C/stats"

tm fusermount3 -u "$MNT"
expect_eq "unmount" 0 $?
sbx rm "$ID" >/dev/null
finish
