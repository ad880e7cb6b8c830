#!/usr/bin/env bash
# t_spawner.sh - the per-sandbox exec spawner under attack, from inside a
# real sandbox and from the strongest place a sandbox's root could reach
# (its user namespace with every capability in it, seeing the host's
# /proc): it must stay invisible, unreadable and untraceable, and sbxd must
# recover when it is killed or stopped (only host root or the kernel can do
# that), without ever running an exec twice, unconfined or outside the
# cgroups. The spawner dies with sbxd, so nothing outlives the test.
. "$(dirname "$0")/lib.sh"
start_sbxd

# spawner_pid ID : the pid of the last spawner sbxd started for ID
spawner_pid() {
	sed -n "s/.*sandbox $1: exec spawner started (pid \([0-9]*\)).*/\1/p" "$T/sbxd.log" | tail -1
}
# wait_log REGEX : waits (bounded) until sbxd logged a line matching REGEX (ERE)
wait_log() {
	local i
	for i in $(seq 1 400); do
		grep -qE -- "$1" "$T/sbxd.log" && return 0
		sleep 0.025
	done
	echo "# sbxd never logged: $1"
	return 1
}
status_of() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }

A=$(sbx create --name spawn)
expect_eq "first exec runs" hi "$(sbx exec "$A" -- echo hi)"
SP=$(spawner_pid "$A")
check "the first exec started a spawner ($SP)" test -n "$SP"
check "the spawner is a child of sbxd" test "$(awk '{print $4}' "/proc/$SP/stat")" = "$SBXD_PID"
expect_eq "it is named for the host's ps" sbxd-spawner "$(cat "/proc/$SP/comm")"
check "the spawner is not dumpable (root-owned /proc files)" test "$(stat -c %u "/proc/$SP/mem")" = 0
expect_eq "a second exec reuses the spawner" "$SP" \
	"$(sbx exec "$A" -- true && spawner_pid "$A")"

# --- what an exec'd command is: the same confinement as the one-fork path --
# (pgrep -x: the CLI on the host has the same words in its command line)
"$BUILD/sbx" -q exec "$A" --timeout 60 -- sleep 3001 &
EXEC=$!
for i in $(seq 1 200); do
	CMD=$(pgrep -fx "sleep 3001" | head -1)
	[ -n "$CMD" ] && break
	sleep 0.025
done
check "the command runs ($CMD)" test -n "$CMD"
check "its parent is the spawner" test "$(awk '{print $4}' "/proc/$CMD/stat")" = "$SP"
expect_eq "it is in the sandbox's cgroups" "$(cat "/proc/$SP/cgroup")" "$(cat "/proc/$CMD/cgroup")"
check "it is in the sandbox's PID namespace" \
	test "$(readlink "/proc/$CMD/ns/pid")" = "$(readlink "/proc/$SP/ns/pid_for_children")"
check "the spawner itself is not" test "$(readlink "/proc/$SP/ns/pid")" = "$(readlink /proc/self/ns/pid)"
expect_eq "no_new_privs" 1 "$(status_of "$CMD" NoNewPrivs)"
expect_eq "seccomp filter" 2 "$(status_of "$CMD" Seccomp)"
expect_eq "effective capabilities: the kept set" 00000000a80405fb "$(status_of "$CMD" CapEff)"
expect_eq "bounding set: the kept set" 00000000a80405fb "$(status_of "$CMD" CapBnd)"
check "the spawner's capabilities are a superset" python3 -c '
import sys
s, c = (int(v, 16) for v in sys.argv[1:])
sys.exit(0 if s & c == c and s != c else 1)' "$(status_of "$SP" CapEff)" "$(status_of "$CMD" CapEff)"
expect_eq "the command holds only stdin, stdout and stderr" "0 1 2" \
	"$(ls "/proc/$CMD/fd" | sort -n | tr '\n' ' ' | sed 's/ $//')"

# --- from inside: the spawner cannot be seen or named ----------------------
check "no process inside is sbxd's (the spawner is outside the PID namespace)" bash -c \
	'! "$BUILD/sbx" -q exec "$1" -- sh -c "cat /proc/[0-9]*/comm" | grep -qx sbxd' _ "$A"
sbx exec "$A" -- sh -c "kill -9 $SP" 2>/dev/null
check "kill -9 of the spawner's host pid from inside fails" test $? -ne 0
sbx exec "$A" -- sh -c "cat /proc/$SP/environ /proc/$SP/mem; ls /proc/$SP/fd" >/dev/null 2>&1
check "its /proc files do not exist inside" test $? -ne 0
check "the spawner is still there" kill -0 "$SP"

# --- the sandbox's root with every capability of its user namespace, the
# same uid as the spawner and the host's /proc: still nothing -------------
cat >"$T/attack.py" <<'PY'
import ctypes, os, sys
pid = int(sys.argv[1])
def fails(what, f):
    try:
        f()
    except OSError:
        return
    print(what, "succeeded"); sys.exit(1)
fails("read mem", lambda: open(f"/proc/{pid}/mem", "rb").read(1))
fails("read environ", lambda: open(f"/proc/{pid}/environ", "rb").read())
fails("list fd", lambda: os.listdir(f"/proc/{pid}/fd"))
fails("readlink exe", lambda: os.readlink(f"/proc/{pid}/exe"))
fails("read maps", lambda: open(f"/proc/{pid}/maps").read())
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
for req, name in ((16, "PTRACE_ATTACH"), (0x4206, "PTRACE_SEIZE")):
    if libc.ptrace(req, pid, None, None) == 0:
        print(name, "succeeded"); sys.exit(1)
print("denied", os.getuid())
PY
# (the script comes on stdin: $T is closed to the sandbox's uids)
out=$(nsenter -t "$SP" -U -- python3 - "$SP" <"$T/attack.py" 2>&1)
expect_eq "ptrace, mem, environ, fd, exe, maps of the spawner are denied" "denied 0" "$out"
check "the spawner is still there after the attacks" kill -0 "$SP"
kill "$EXEC" 2>/dev/null
wait "$EXEC" 2>/dev/null

# --- killed: the running exec dies with it, the next exec gets a new one ---
"$BUILD/sbx" -q exec "$A" --timeout 60 -- sleep 3002 & # -t: never hangs the test
EXEC=$!
for i in $(seq 1 200); do
	pgrep -fx "sleep 3002" >/dev/null && break
	sleep 0.025
done
kill -9 "$SP"
wait "$EXEC"
expect_eq "an exec running when its spawner is killed ends as SIGKILLed" 137 $?
check "sbxd logged the loss" wait_log "exec spawner \\(pid $SP\\) (ended|closed its socket)"
check "no command of the dead spawner is left" bash -c '! pgrep -fx "sleep 3002" >/dev/null'

# a command that cleared its parent-death signal is killed by sbxd instead
"$BUILD/sbx" -q exec "$A" --timeout 60 -- python3 -c \
	'import ctypes, time; ctypes.CDLL(None).prctl(1, 0, 0, 0, 0); print("ready", flush=True); time.sleep(3003)' >"$T/o" &
EXEC=$!
for i in $(seq 1 400); do
	[ -s "$T/o" ] && break
	sleep 0.025
done
SPK=$(spawner_pid "$A") # started by this exec
[ -z "$SPK" ] || kill -9 "$SPK"
wait "$EXEC"
expect_eq "a command without PR_SET_PDEATHSIG still ends with its spawner" 137 $?
check "and is gone from the sandbox" bash -c '! pgrep -f "^python3 -c .*3003" >/dev/null'
expect_eq "the next exec runs" again "$(sbx exec "$A" -- echo again)"
SP2=$(spawner_pid "$A")
check "through a new spawner ($SPK -> $SP2)" test -n "$SP2" -a "$SP2" != "$SPK"

# --- stopped: sbxd's loop goes on, the exec meets its deadline ---------------
kill -STOP "$SP2"
start=$(date +%s%N)
"$BUILD/sbx" -q exec "$A" --timeout 20 -- sh -c 'echo once >>/tmp/spawn-count; cat /tmp/spawn-count' >"$T/o" &
EXEC=$!
sleep 0.2 # the request is now queued on the stopped spawner's socket
expect_eq "sbxd answers while the spawner is stopped" HEALTHY "$(timeout 5 "$BUILD/sbx" -q status "$A")"
wait "$EXEC"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "the exec completes" 0 $rc
expect_eq "and ran exactly once" once "$(cat "$T/o")"
check "within the spawner deadline plus a margin ($ms ms)" test "$ms" -lt 8000
check "sbxd logged the stuck spawner" wait_log "exec spawner \\(pid $SP2\\) did not answer a request in time"
check "sbxd logged the fallback" wait_log "exec not run by the spawner"
check "the stopped spawner was killed and reaped" bash -c "! kill -0 $SP2 2>/dev/null"
expect_eq "and the exec after that uses a new spawner" ok "$(sbx exec "$A" -- echo ok)"
SP3=$(spawner_pid "$A")
check "a third spawner ($SP3)" test -n "$SP3" -a "$SP3" != "$SP2"

# --- requests beyond the packet bound take the one-fork path ---------------
big=$(head -c 70000 /dev/zero | tr '\0' x)
expect_eq "an exec whose argv exceeds the spawner's bound still runs" 70000 \
	"$(sbx exec "$A" -- sh -c 'printf %s "$1" | wc -c' _ "$big" | tr -d ' ')"
check "and the spawner is still the same" test "$(spawner_pid "$A")" = "$SP3" -a -d "/proc/$SP3"

# --- delete: the spawner goes with the sandbox -----------------------------
sbx rm "$A"
check "the spawner is gone with the sandbox" bash -c "! kill -0 $SP3 2>/dev/null"
check "no process of $A is left" no_procs "$A"
finish
