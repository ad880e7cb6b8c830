#!/usr/bin/env bash
# exec_latency.sh BUILD [N] - median, min and max wall time of N (50)
# `sbx exec SANDBOX -- true` against a private local sbxd, in milliseconds.
# Needs root (sbxd does). Not part of the test command.
set -euo pipefail
BUILD=$(cd "${1:?usage: exec_latency.sh BUILD [N]}" && pwd)
N=${2:-50}
T=$(mktemp -d /tmp/sbx-lat.XXXXXX)
export SBX_STATE_DIR=$T/state
unset KOYEB_API_TOKEN KOYEB_API_HOST
mkdir -p "$SBX_STATE_DIR"
"$BUILD/sbxd" --state-dir "$SBX_STATE_DIR" --listen 127.0.0.1:0 >"$T/sbxd.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 500); do [ -s "$SBX_STATE_DIR/sbxd.json" ] && break; sleep 0.02; done
S=$("$BUILD/sbx" -q create)
"$BUILD/sbx" -q exec "$S" -- true # warm-up (and, with a lazy spawner, its start)
for _ in $(seq 1 "$N"); do
	a=$(date +%s%N)
	"$BUILD/sbx" -q exec "$S" -- true
	b=$(date +%s%N)
	echo $(((b - a) / 1000))
done | sort -n | awk '{v[NR]=$1} END {printf "n=%d median=%.1f ms min=%.1f ms max=%.1f ms\n", NR, v[int((NR+1)/2)]/1000, v[1]/1000, v[NR]/1000}'
