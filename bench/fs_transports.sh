#!/usr/bin/env bash
# fs_transports.sh [-n N] BUILD - what libsbx's filesystem primitives cost
# over each transport (websocket, executor, agent) against one private
# local sbxd: a new handle's first call (what a one-shot program pays; for
# the agent also the very first start, which uploads it), N calls in a row
# on one handle with the median of each kind, and freeing the handle.
# The figures are in docs/libsbx-transports.md. Needs root (sbxd does).
# Not part of the test command; see bench/README.md.
set -euo pipefail
N=250
if [ "${1:-}" = -n ]; then
	N=$2
	shift 2
fi
[ $# -eq 1 ] || {
	echo "usage: fs_transports.sh [-n N] BUILD" >&2
	exit 2
}
B=$(cd "$1" && pwd)
T=$(mktemp -d /tmp/sbx-bfs.XXXXXX)
unset KOYEB_API_TOKEN KOYEB_API_HOST SBX_EXEC_TRANSPORT
SD=$T/state
mkdir -p "$SD"
"$B/sbxd" --state-dir "$SD" --listen 127.0.0.1:0 >"$T/sbxd.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 500); do [ -s "$SD/sbxd.json" ] && break; sleep 0.02; done
API=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_host"])' \
	"$SD/sbxd.json")
"$B/sbx-bench-fs" "$API" "$(cat "$SD/token")" "$N"
