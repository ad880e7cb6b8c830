#!/usr/bin/env bash
# bench/ab.sh - two sbxfs binaries side by side in one run: a cold read of
# one large file (cat after a fresh mount and dropping the page cache),
# through the delay proxy, the two taking turns (ABBA order), so that the
# machine's drift between runs does not decide the comparison. Prints
# every read (seconds, ranged requests) and the medians. Needs root;
# installs nothing.
#
#   bench/ab.sh --a BIN --b BIN [--build DIR] [--delay MS] [--reps N] [--mb N]
#
# --delay: the added round trip in ms (the proxy adds half of it each way).
# Both binaries use the sbxd, sbx and sbx-delayproxy of --build. To keep a
# binary of another commit: build it, then copy build/sbxfs aside.

set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$SRC/build
A='' B='' DELAY=0 REPS=7 MB=256
usage() {
	sed -n '9p' "$0" | sed 's/^# *//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--a) A=${2:-}; shift 2 || usage ;;
	--b) B=${2:-}; shift 2 || usage ;;
	--build) BUILD=${2:-}; shift 2 || usage ;;
	--delay) DELAY=${2:-}; shift 2 || usage ;;
	--reps) REPS=${2:-}; shift 2 || usage ;;
	--mb) MB=${2:-}; shift 2 || usage ;;
	*) usage ;;
	esac
done
[[ -x $A && -x $B && $DELAY =~ ^[0-9]{1,4}$ && $REPS =~ ^[1-9][0-9]?$ && $MB =~ ^[1-9][0-9]{0,4}$ ]] ||
	usage
[ "$(id -u)" -eq 0 ] || { echo "ab: needs root (sbxd does)" >&2; exit 1; }
BUILD=$(cd "$BUILD" && pwd) || exit 1

T=$(mktemp -d /tmp/sbx-ab.XXXXXX)
MNT=$T/mnt
export SBX_STATE_DIR=$T/state
unset KOYEB_API_TOKEN KOYEB_API_HOST
SBXD_PID='' PX_PID='' ID=''
die() { echo "ab: $*" >&2; exit 1; }
stop_pid() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	mountpoint -q "$MNT" 2>/dev/null && { fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"; }
	[ -n "$ID" ] && timeout 30 "$BUILD/sbx" -q rm "$ID" >/dev/null 2>&1
	stop_pid "$PX_PID"
	stop_pid "$SBXD_PID"
	rm -rf "$T" 2>/dev/null
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$SBX_STATE_DIR" "$MNT"
"$BUILD/sbxd" --state-dir "$SBX_STATE_DIR" --listen 127.0.0.1:0 >>"$T/sbxd.log" 2>&1 &
SBXD_PID=$!
for _ in $(seq 1 500); do
	[ -s "$SBX_STATE_DIR/sbxd.json" ] && break
	kill -0 "$SBXD_PID" 2>/dev/null || break
	sleep 0.02
done
API=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_host"])' \
	"$SBX_STATE_DIR/sbxd.json") || die "sbxd did not start (see $T/sbxd.log)"
ID=$(timeout 120 "$BUILD/sbx" -q create --name ab --instance-type 2xlarge) || die "sbx create failed"
timeout 120 "$BUILD/sbx" -q exec "$ID" -- sh -c "mkdir -p /srv/ab && head -c $((MB << 20)) /dev/urandom >/srv/ab/big" ||
	die "making the file in the sandbox failed"
"$BUILD/sbx-delayproxy" -t "${API#http://}" -d $((DELAY / 2)) >"$T/px.port" 2>"$T/px.log" &
PX_PID=$!
for _ in $(seq 1 500); do [ -s "$T/px.port" ] && break; sleep 0.01; done
PORT=$(head -1 "$T/px.port")
[ -n "$PORT" ] || die "the delay proxy did not start"

# read NAME BIN: one cold read through BIN; prints NAME, seconds, requests
read_once() {
	local t0 t1 rq
	"$2" -o "transport=agent,token_file=$SBX_STATE_DIR/token,api_host=http://127.0.0.1:$PORT" \
		"$ID:/srv/ab" "$MNT" || die "$1 did not mount"
	ls -l "$MNT" >/dev/null
	sync
	echo 3 >/proc/sys/vm/drop_caches # the local page cache: a cold read
	t0=$EPOCHREALTIME
	cat "$MNT/big" >/dev/null || die "$1: the read failed"
	t1=$EPOCHREALTIME
	rq=$(sed -n 's/^rfs\.read_range requests=\([0-9]*\).*/\1/p' "$MNT/.ctl/stats")
	fusermount3 -u "$MNT" || die "$1 did not unmount"
	awk -v n="$1" -v a="$t0" -v b="$t1" -v q="$rq" 'BEGIN{printf "%s %.3f %s\n", n, b-a, q}'
}
echo "# $MB MiB, cold, ${DELAY} ms added round trip, $REPS reads each"
for r in $(seq 1 "$REPS"); do
	if [ $((r % 2)) = 1 ]; then
		read_once a "$A" && read_once b "$B"
	else
		read_once b "$B" && read_once a "$A"
	fi
done | tee "$T/reads"
for n in a b; do
	ts=$(awk -v n="$n" '$1 == n { print $2 }' "$T/reads" | sort -n)
	k=$(echo "$ts" | wc -l)
	med=$(echo "$ts" | awk -v k="$k" 'NR == int((k + 1) / 2) { a = $1 } NR == int(k / 2) + 1 { b = $1 }
		END { printf "%.3f", k % 2 ? a : (a + b) / 2 }')
	echo "$n: median $med s of $k; requests: $(awk -v n="$n" '$1 == n { printf "%s ", $3 }' "$T/reads")"
done
