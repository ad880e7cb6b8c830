#!/usr/bin/env bash
# exec_latency.sh [-n N] BUILD [BUILD...] - wall time of `sbx exec NAME -- true`
# against one private local sbxd, for one or more builds side by side.
#
# The builds take turns call by call (A, B, A, B, ...), so that the load of a
# shared machine falls on all of them alike. Each build's sbx runs with its
# own state dir (its own id cache) but the same sbxd (the first build's) and
# the same sandbox. Rows per build, medians over N calls:
#   start     `sbx --version`: process start and dynamic linking only
#   exec      `sbx exec NAME -- true`, as a user runs it (id cache on)
#   nocache   the same with SBX_NO_ID_CACHE=1 (every call resolves the name)
#   byid      `sbx exec SERVICE_ID -- true`, cache off
# and once, not per build:
#   server    sbxd's share: one exec of `true` over the exec WebSocket from an
#             already running Python client (tests/e2e/ws_client.py), timed
#             from the TCP connect to the exit frame
# Needs root (sbxd does). Not part of the test command; see bench/README.md.
set -euo pipefail
N=50
if [ "${1:-}" = -n ]; then
	N=$2
	shift 2
fi
[ $# -ge 1 ] || {
	echo "usage: exec_latency.sh [-n N] BUILD [BUILD...]" >&2
	exit 2
}
BUILDS=()
for b in "$@"; do BUILDS+=("$(cd "$b" && pwd)"); done
T=$(mktemp -d /tmp/sbx-lat.XXXXXX)
unset KOYEB_API_TOKEN KOYEB_API_HOST SBX_NO_ID_CACHE
SD=$T/state
mkdir -p "$SD"
"${BUILDS[0]}/sbxd" --state-dir "$SD" --listen 127.0.0.1:0 >"$T/sbxd.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 500); do [ -s "$SD/sbxd.json" ] && break; sleep 0.02; done
# every build gets a state dir of its own that points at the same sbxd
for i in "${!BUILDS[@]}"; do
	mkdir -p "$T/s$i" && chmod 700 "$T/s$i"
	cp "$SD/token" "$SD/sbxd.json" "$T/s$i/"
done
ID=$(SBX_STATE_DIR=$SD "${BUILDS[0]}/sbx" -q create --name lat)
INST=$(SBX_STATE_DIR=$SD "${BUILDS[0]}/sbx" -q status --json lat |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["instance_id"])')
API=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_host"])' "$SD/sbxd.json")
WSC=$(cd "$(dirname "$0")/../tests/e2e" && pwd)
server() { # one exec timed inside Python, in microseconds
	python3 -c 'import sys, time, types
sys.path.insert(0, sys.argv[1])
import ws_client
a = types.SimpleNamespace(host=sys.argv[2], id=sys.argv[3], cli_style=False, timeout=30,
                          stdin_file=None, argv=["true"])
tok = open(sys.argv[4]).read().strip()
t = time.perf_counter()
ws_client.run(a, tok)
print(int((time.perf_counter() - t) * 1e6))' "$WSC" "$API" "$INST" "$SD/token"
}
run() { # run I KIND: one timed call of build I, prints microseconds
	local b=${BUILDS[$1]} a z
	export SBX_STATE_DIR=$T/s$1
	case $2 in
	start) a=$EPOCHREALTIME; "$b/sbx" --version >/dev/null; z=$EPOCHREALTIME ;;
	exec) a=$EPOCHREALTIME; "$b/sbx" -q exec lat -- true; z=$EPOCHREALTIME ;;
	nocache) a=$EPOCHREALTIME; SBX_NO_ID_CACHE=1 "$b/sbx" -q exec lat -- true; z=$EPOCHREALTIME ;;
	byid) a=$EPOCHREALTIME; SBX_NO_ID_CACHE=1 "$b/sbx" -q exec "$ID" -- true; z=$EPOCHREALTIME ;;
	esac
	echo $((${z/./} - ${a/./}))
}
for i in "${!BUILDS[@]}"; do run "$i" exec >/dev/null; done # warm-up (and the cache)
KINDS="start exec nocache byid"
for _ in $(seq 1 "$N"); do
	for k in $KINDS; do
		for i in "${!BUILDS[@]}"; do echo "$i $k $(run "$i" $k)"; done
	done
	echo "s server $(server)"
done >"$T/times"
echo "exec_latency: n=$N per row, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
row() { # row I KIND
	awk -v i="$1" -v k="$2" '$1 == i && $2 == k {print $3}' "$T/times" | sort -n |
		awk -v k="$2" '{v[NR] = $1} END {printf "  %-8s median %6.1f ms  min %6.1f  p90 %6.1f  max %6.1f\n",
			k, v[int((NR + 1) / 2)] / 1000, v[1] / 1000, v[int(NR * 0.9)] / 1000, v[NR] / 1000}'
}
for i in "${!BUILDS[@]}"; do
	echo "build $i: ${BUILDS[$i]}"
	for k in $KINDS; do row "$i" "$k"; done
done
echo "sbxd (build 0), whichever client:"
row s server
