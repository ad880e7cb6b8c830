# lib.sh - shared helpers of the end-to-end tests (sourced, not run).
#
# Each test script gets a private temp dir ($T), its own sbxd on a free
# loopback port with its state in $T/state, and `sbx` pointed at it through
# SBX_STATE_DIR. Everything it started is stopped on exit, also on failure.
# Results: ok/not ok lines, and a closing "N passed, N failed" line.

set -uo pipefail
BUILD=${BUILD:?BUILD must point at the build dir}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d /tmp/sbx-e2e.XXXXXX)
export SBX_STATE_DIR=$T/state
unset KOYEB_API_TOKEN KOYEB_API_HOST
PASS=0
FAIL=0
SBXD_PID=

sbx() { "$BUILD/sbx" -q "$@"; }
# tm CMD...: CMD with a bound (a hung mount fails the check, not the run);
# rx CMD...: CMD run in sandbox $ID. A test that needs other bounds
# defines its own after sourcing this file.
tm() { timeout 120 "$@"; }
rx() { timeout 60 "$BUILD/sbx" -q exec "$ID" -- "$@"; }

cleanup() {
	local rc=$?
	thaw 2>/dev/null
	# a test's mount ($MNT), if it set one: detached, never left behind
	[ -n "${MNT:-}" ] && fusermount3 -u -z "$MNT" 2>/dev/null
	stop_delayproxy
	if [ -n "$SBXD_PID" ] && kill -0 "$SBXD_PID" 2>/dev/null; then
		kill -TERM "$SBXD_PID" 2>/dev/null
		wait "$SBXD_PID" 2>/dev/null
	fi
	[ -n "${SBX_KEEP_LOG:-}" ] && cp "$T/sbxd.log" "$SBX_KEEP_LOG" 2>/dev/null
	rm -rf "$T" 2>/dev/null
	return $rc
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# check DESC CMD... : passes when CMD exits 0
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf '#   expected: %q\n#   actual:   %q\n' "$2" "$3"
	fi
}

# Starts sbxd on a free port (or at ADDR, e.g. the one it had before a
# restart); sets SBXD_PID, API (base URL) and TOKEN.
start_sbxd() {
	mkdir -p "$SBX_STATE_DIR"
	rm -f "$SBX_STATE_DIR/sbxd.json"
	"$BUILD/sbxd" --state-dir "$SBX_STATE_DIR" --listen "${1:-127.0.0.1:0}" \
		>>"$T/sbxd.log" 2>&1 &
	SBXD_PID=$!
	local i
	for i in $(seq 1 500); do
		[ -s "$SBX_STATE_DIR/sbxd.json" ] && break
		kill -0 "$SBXD_PID" 2>/dev/null || break
		sleep 0.01
	done
	if [ ! -s "$SBX_STATE_DIR/sbxd.json" ]; then
		echo "# sbxd did not start:"; sed 's/^/#   /' "$T/sbxd.log"
		exit 1
	fi
	API=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_host"])' \
		"$SBX_STATE_DIR/sbxd.json")
	TOKEN=$(cat "$SBX_STATE_DIR/token")
}

# A delay proxy (bench/delayproxy.c, no delay) in front of sbxd: a mount
# made with api_host=http://127.0.0.1:$PX_PORT reaches the sandbox through
# it, and freeze / thaw stop and resume it (SIGSTOP: every byte to and
# from the sandbox waits meanwhile). Thawed and stopped at exit
# (cleanup), after $MNT is detached.
PX=
PX_PORT=
FROZEN=
start_delayproxy() {
	"$BUILD/sbx-delayproxy" -t "${API#http://}" >"$T/px.port" 2>"$T/px.log" &
	PX=$!
	local i
	for i in $(seq 1 500); do
		[ -s "$T/px.port" ] && break
		sleep 0.01
	done
	PX_PORT=$(head -1 "$T/px.port")
	[ -n "$PX_PORT" ]
}
# ctl_exec EXEC CMD: runs CMD through a mount's .ctl/exec file EXEC (one
# write, then its output to EOF) and prints that output.
ctl_exec() {
	python3 -c 'import os,sys
fd=os.open(sys.argv[1],os.O_RDWR); os.write(fd,sys.argv[2].encode())
out=b""
while True:
    b=os.read(fd,65536)
    if not b: break
    out+=b
sys.stdout.write(out.decode())' "$1" "$2"
}
freeze() { kill -STOP "$PX" && FROZEN=1; }
thaw() {
	[ -n "$FROZEN" ] && kill -CONT "$PX"
	FROZEN=
}
# Requests in flight on a mount $MNT whose link (the delay proxy) is
# stopped: t_async.sh, t_queued.sh.
# async FIELD: in_flight or most, from /.ctl/stats ("" when it did not answer)
async() { timeout 10 sed -n "s/^async .*$1=\([0-9]*\).*/\1/p" "$MNT/.ctl/stats"; }
# at_least FIELD N: waits (bounded) until async FIELD is N or more;
# prints what it was last ("" when /.ctl/stats did not answer: every
# worker thread is held)
at_least() {
	local n= i
	for i in $(seq 1 500); do
		n=$(async "$1")
		[ -z "$n" ] || [ "$n" -ge "$2" ] && break
		sleep 0.02
	done
	echo "$n"
}
# in_flight N: at_least N requests in flight
in_flight() { at_least in_flight "$1"; }
# burst WHAT CMD: stops the link, starts CMD (a shell string; $i from 1 to
# N, the caller's) N times in the background (pids) and checks that all
# are in flight
burst() {
	local i
	freeze
	pids=()
	for i in $(seq 1 $N); do
		eval "$2" &
		pids+=($!)
	done
	expect_eq "$N $1 in flight at once on 2 worker threads" $N "$(in_flight $N)"
}
# reap: waits for every background command in pids; bad = how many failed
reap() {
	local p
	bad=0
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
}
stop_delayproxy() {
	[ -n "$PX" ] || return 0
	thaw 2>/dev/null
	kill "$PX" 2>/dev/null
	wait "$PX" 2>/dev/null
	PX=
}

stop_sbxd() {
	kill -TERM "$SBXD_PID" 2>/dev/null
	wait "$SBXD_PID" 2>/dev/null
	SBXD_PID=
}

# api METHOD PATH [BODY] : prints "STATUS BODY" using the right token
api() {
	local m=$1 p=$2 body=${3-}
	if [ -n "$body" ]; then
		curl -s -o "$T/api.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/json' --data-binary "$body" "$API$p"
	else
		curl -s -o "$T/api.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" "$API$p"
	fi
	echo -n " "
	cat "$T/api.out"
}

# json_get FIELD.PATH : reads JSON on stdin and prints the value
json_get() {
	python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v=v[int(k)] if isinstance(v,list) else v[k]
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1"
}

# no_procs ID : true when no process mentions the sandbox's state dir
# (bwrap's command line holds it); the [s] keeps pgrep's own line out.
no_procs() { ! pgrep -f "[s]andboxes/$1" >/dev/null; }

# wait_status ID STATUS : polls `sbx status` (bounded) until STATUS
wait_status() {
	local i st=
	for i in $(seq 1 400); do
		st=$(sbx status "$1" 2>/dev/null)
		[ "$st" = "$2" ] && return 0
		sleep 0.05
	done
	echo "# status of $1 is '$st', wanted $2"
	return 1
}

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
