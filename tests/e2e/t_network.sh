#!/usr/bin/env bash
# t_network.sh - a sandbox's network: private by default (outbound works,
# the host's loopback does not), shared with the host only with
# `sbxd --network host`.
#
# The "outside world" is a test host of our own: a network namespace with a
# veth pair to this machine, 198.18.0.2/30 (a range for tests), serving TCP.
# It and the veth are removed on exit, whatever happens.
. "$(dirname "$0")/lib.sh"

NS=sbxt$$
VH=sbxh$$
HOST_PIDS=()
net_cleanup() {
	[ ${#HOST_PIDS[@]} -eq 0 ] || kill "${HOST_PIDS[@]}" 2>/dev/null
	ip link del "$VH" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
trap 'net_cleanup; cleanup' EXIT

ip netns add "$NS" &&
	ip link add "$VH" type veth peer name sbxn$$ &&
	ip link set sbxn$$ netns "$NS" &&
	ip addr add 198.18.0.1/30 dev "$VH" && ip link set "$VH" up &&
	ip netns exec "$NS" ip addr add 198.18.0.2/30 dev sbxn$$ &&
	ip netns exec "$NS" ip link set sbxn$$ up &&
	ip netns exec "$NS" ip link set lo up
check "a test host in its own network namespace" test $? -eq 0

# serve TCP: one line to every connection (bounded: the test ends it). The
# exec makes the background job's pid the server's own, so the trap ends it.
serve() {
	exec python3 -c '
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[2].encode() + b"\n"); c.close()' "$@"
}
ip netns exec "$NS" bash -c "$(declare -f serve); serve 198.18.0.2 outside" >"$T/oport" &
HOST_PIDS+=($!)
serve 127.0.0.1 loopback >"$T/lport" &
HOST_PIDS+=($!)
for i in $(seq 1 200); do [ -s "$T/oport" ] && [ -s "$T/lport" ] && break; sleep 0.05; done
OPORT=$(cat "$T/oport")
LPORT=$(cat "$T/lport")

cat >"$T/get.py" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(5)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print(s.recv(64).decode().strip())
except OSError as e:
    print("refused", e.errno)
EOF
get() { sbx exec "$1" -n -- python3 -c "$(cat "$T/get.py")" "$2" "$3"; }

start_sbxd
P=$(sbx create --name private)
check "a sandbox with the default network" test -n "$P"
expect_eq "it reaches a host outside" outside "$(get "$P" 198.18.0.2 "$OPORT")"
r=$(get "$P" 10.0.2.2 "$LPORT")
check "not the host's loopback through the gateway ($r)" test "${r%% *}" == refused
r=$(get "$P" 127.0.0.1 "$LPORT")
check "nor through its own 127.0.0.1 ($r)" test "${r%% *}" == refused
check "it has its own interfaces" bash -c \
	'"$1" -q exec "$2" -n -- cat /proc/net/dev | grep -q tap0 && ! "$1" -q exec "$2" -n -- cat /proc/net/dev | grep -q "$3"' \
	_ "$BUILD/sbx" "$P" "$VH"
expect_eq "its resolver is slirp4netns's" "nameserver 10.0.2.3" \
	"$(sbx exec "$P" -n -- grep -m1 nameserver /etc/resolv.conf)"
# a server inside is not reachable from the host (nothing is forwarded)
sbx exec "$P" -n -- sh -c 'python3 -m http.server 18931 >/dev/null 2>&1 & sleep 0.5'
code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' http://127.0.0.1:18931/)
expect_eq "a port opened inside is not on the host" 000 "$code"
sbx rm "$P"
stop_sbxd

# --network host: the explicit opt-in
"$BUILD/sbxd" --state-dir "$SBX_STATE_DIR" --listen 127.0.0.1:0 --network host \
	>>"$T/sbxd.log" 2>&1 &
SBXD_PID=$!
for i in $(seq 1 500); do [ -s "$SBX_STATE_DIR/sbxd.json" ] && break; sleep 0.01; done
H=$(sbx create --name hostnet)
check "a sandbox with --network host" test -n "$H"
expect_eq "it reaches the host's loopback" loopback "$(get "$H" 127.0.0.1 "$LPORT")"
expect_eq "and resolves names as the host does" "$(grep -m1 nameserver /etc/resolv.conf)" \
	"$(sbx exec "$H" -n -- grep -m1 nameserver /etc/resolv.conf)"
check "it sees the host's interfaces" bash -c \
	'"$1" -q exec "$2" -n -- cat /proc/net/dev | grep -q "$3"' _ "$BUILD/sbx" "$H" "$VH"
sbx rm "$H"
"$BUILD/sbxd" --network bogus >/dev/null 2>&1
expect_eq "sbxd refuses an unknown --network" 2 $?
finish
