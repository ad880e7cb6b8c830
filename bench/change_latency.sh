#!/usr/bin/env bash
# change_latency.sh [-n N] [-d MS] BUILD - how soon a change made inside the
# sandbox shows through a mount, with MS ms of added round trip (the delay
# proxy, bench/delayproxy.c, adds half of it each way) between the mount
# and one private local sbxd.
#
# Each change is made by a process already running in the sandbox (an
# `sbx exec -i` that waits for a line, talking to sbxd directly, not
# through the proxy), which prints the sandbox's clock right after it;
# the mount (sbxfs -o transport=agent, its directory listed and its file
# read before) is polled every 2 ms until it shows the change, and the
# time from the change to then is kept. The sandbox is local, so both
# clocks are this machine's. Rows, medians over N changes each:
#   create    a new file's name:        `test -e MNT/d/inK`
#   chmod     a file's mode:            `stat -c %a MNT/d/f`
#   unlink    a name removed:           `test ! -e MNT/d/inK`
#   write     a read file's new content: `cat MNT/d/f` (after its report,
#             the read fetches the content: one round trip more)
# Needs root (sbxd does). Not part of the test command; see bench/README.md.
set -euo pipefail
N=7
DELAY=50
while [ $# -gt 1 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-d) DELAY=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || {
	echo "usage: change_latency.sh [-n N] [-d MS] BUILD" >&2
	exit 2
}
B=$(cd "$1" && pwd)
T=$(mktemp -d /tmp/sbx-chg.XXXXXX)
unset KOYEB_API_TOKEN KOYEB_API_HOST
export SBX_STATE_DIR=$T/state
MNT=$T/mnt
mkdir -p "$SBX_STATE_DIR" "$MNT"
PX=
"$B/sbxd" --state-dir "$SBX_STATE_DIR" --listen 127.0.0.1:0 >"$T/sbxd.log" 2>&1 &
PID=$!
cleanup() {
	fusermount3 -u -z "$MNT" 2>/dev/null || true
	[ -z "$PX" ] || kill -TERM "$PX" 2>/dev/null || true
	kill -TERM "$PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
for _ in $(seq 1 500); do [ -s "$SBX_STATE_DIR/sbxd.json" ] && break; sleep 0.02; done
API=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_host"])' \
	"$SBX_STATE_DIR/sbxd.json")
ID=$("$B/sbx" -q create --name chg)
"$B/sbx" -q exec "$ID" -- sh -c 'mkdir -p /srv/c/d && echo a >/srv/c/d/f'
"$B/sbx-delayproxy" -t "${API#http://}" -d $((DELAY / 2)) >"$T/px.port" 2>"$T/px.log" &
PX=$!
for _ in $(seq 1 500); do [ -s "$T/px.port" ] && break; sleep 0.01; done
"$B/sbxfs" -o "transport=agent,api_host=http://127.0.0.1:$(head -1 "$T/px.port"),token_file=$SBX_STATE_DIR/token" \
	"$ID:/srv/c" "$MNT"
ls "$MNT/d" >/dev/null # listed: watched
cat "$MNT/d/f" >/dev/null

# seen T0 COND: ms from T0 (ns, the sandbox's clock) until COND holds
seen() {
	local _
	for _ in $(seq 1 5000); do
		if eval "$2"; then
			echo $((($(date +%s%N) - $1) / 1000000))
			return 0
		fi
		sleep 0.002
	done
	echo never
}
# one KIND CMD COND: makes CMD in the sandbox, prints "KIND ms"
one() {
	local ep t0
	rm -f "$T/in" "$T/out" && mkfifo "$T/in" "$T/out"
	timeout 60 "$B/sbx" -q exec -i "$ID" -- sh -c "read x; $2; date +%s%N" <"$T/in" >"$T/out" &
	ep=$!
	exec 7>"$T/in" 8<"$T/out"
	sleep 0.3 # the job is running, waiting for its line
	echo go >&7
	read -r t0 <&8
	echo "$1 $(seen "$t0" "$3")"
	exec 7>&- 8<&-
	wait "$ep"
}
for k in $(seq 1 "$N"); do
	one create "printf x >/srv/c/d/in$k" "[ -e \"$MNT/d/in$k\" ]"
	one write "echo b$k >/srv/c/d/f" "[ \"\$(cat \"$MNT/d/f\")\" = b$k ]"
	one chmod "chmod 6$((k % 8))0 /srv/c/d/f" "[ \"\$(stat -c %a \"$MNT/d/f\")\" = 6$((k % 8))0 ]"
	one unlink "rm /srv/c/d/in$k" "[ ! -e \"$MNT/d/in$k\" ]"
done >"$T/times"
echo "change_latency: $DELAY ms added round trip, n=$N per row, $(nproc) CPUs," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
for kind in create chmod unlink write; do
	awk -v k="$kind" '$1 == k {print $2}' "$T/times" | sort -n | awk -v k="$kind" '
		{ v[NR] = $1 }
		END { printf "%-7s median %s ms (min %s, max %s)\n", k, v[int((NR + 1) / 2)], v[1], v[NR] }'
done
