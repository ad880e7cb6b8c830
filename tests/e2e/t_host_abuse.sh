#!/usr/bin/env bash
# t_host_abuse.sh - sbxd against hostile clients on the loopback (issue 6):
# hundreds of slow connections that never finish their heads while clients
# holding the token keep being served, pipelined requests and a ping flood
# whose replies are never read (sbxd's RSS measured before and after), the
# head deadline, exec output that keeps flowing while the client pings, and
# the 400s for NUL, control bytes and bad UTF-8 in names and header values.
. "$(dirname "$0")/lib.sh"

ABUSE="python3 $SRC/tests/e2e/abuse.py"
RSS_BOUND_KB=$((32 * 1024))
SLOW_PID=
on_exit() {
	local rc=$?
	exec 7>&- 2>/dev/null
	[ -n "$SLOW_PID" ] && kill "$SLOW_PID" 2>/dev/null
	(exit $rc)
	cleanup
}
trap on_exit EXIT
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SBXD_PID/status"; }
# code METHOD PATH [BODY] [CURL ARGS...]: the HTTP status only
code() {
	local m=$1 p=$2 body=${3-}
	shift 3 2>/dev/null || shift $#
	curl -s -o "$T/code.out" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' ${body:+--data-binary "$body"} "$@" "$API$p"
}

# under a sanitizer build, ASan keeps up to 256 MB of freed memory in
# quarantine, which would read as growth: keep a small one
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
start_sbxd
ID=$(sbx create --name abuse --region eu)
check "sandbox created" test -n "$ID"
IID=$(api GET /v1/instances | cut -d' ' -f2- | json_get instances.0.id)
echo "# sbxd VmRSS at start: $(rss) kB"

# --- slow connections never finishing their heads ------------------------------
mkfifo "$T/slow.in"
$ABUSE slow --host "$API" --count 700 <"$T/slow.in" >"$T/slow.out" 2>&1 &
SLOW_PID=$!
exec 7>"$T/slow.in"
for i in $(seq 1 600); do
	grep -q '^ready' "$T/slow.out" && break
	kill -0 $SLOW_PID 2>/dev/null || break
	sleep 0.05
done
expect_eq "700 slow connections are open" "ready 700" "$(head -1 "$T/slow.out")"
okc=0
for i in $(seq 1 30); do [ "$(code GET /v1/apps)" = 200 ] && okc=$((okc + 1)); done
expect_eq "30 authenticated API calls succeed among them" 30 "$okc"
check "sbx ls works among them" bash -c "'$BUILD/sbx' -q ls >/dev/null"
check "sbx exec works among them" bash -c "[ \"\$(timeout 60 '$BUILD/sbx' -q exec '$ID' -- echo hi)\" = hi ]"
echo "# sbxd VmRSS with 700 slow connections: $(rss) kB"
exec 7>&-
wait $SLOW_PID
SLOW_PID=
evicted=$(sed -n 's/^closed-by-server //p' "$T/slow.out")
echo "# sbxd closed $evicted of the 700 slow connections to keep slots free"
check "sbxd evicted unauthenticated connections beyond its cap (>= 500)" test "${evicted:-0}" -ge 500

# --- the head deadline ----------------------------------------------------------
t=$($ABUSE silent --host "$API" --limit 30)
echo "# a silent connection was closed after $t s"
check "a connection that sends nothing is closed by the head deadline" \
	python3 -c "import sys; sys.exit(not ('$t' != 'never' and float('$t') < 20))"
t=$($ABUSE trickle --host "$API" --limit 30)
echo "# a connection trickling its head was closed after $t s"
check "trickling bytes do not extend the head deadline" \
	python3 -c "import sys; sys.exit(not ('$t' != 'never' and float('$t') < 20))"

# --- replies never read: pipelining and a ping flood ----------------------------
out=$($ABUSE pipeline --host "$API" --token "$TOKEN" --pid "$SBXD_PID" --mb 21)
echo "# pipelined GETs, replies never read: $out"
grew=$(sed -n 's/.*grew \(-\?[0-9]*\) kB/\1/p' <<<"$out")
check "pipelining without reading grows sbxd by < 32 MiB" test "${grew:-99999999}" -lt $RSS_BOUND_KB
out=$($ABUSE pingflood --host "$API" --token "$TOKEN" --iid "$IID" --pid "$SBXD_PID" --mb 64)
echo "# ping flood, pongs never read: $out"
grew=$(sed -n 's/.*grew \(-\?[0-9]*\) kB/\1/p' <<<"$out")
check "a ping flood without reading grows sbxd by < 32 MiB" test "${grew:-99999999}" -lt $RSS_BOUND_KB
expect_eq "sbxd still answers after the floods" 200 "$(code GET /v1/apps)"

# --- exec output keeps flowing while the client pings (the 2 GiB hang) -----------
out=$($ABUSE pingread --host "$API" --token "$TOKEN" --iid "$IID" --bytes $((300 << 20)) --stall 10)
rc=$?
echo "# $out"
expect_eq "300 MiB of exec output read slowly while pinging never stalls" 0 "$rc"

# --- NUL, control bytes and bad UTF-8 ---------------------------------------------
expect_eq "app name with invalid UTF-8: 400" 400 "$(code POST /v1/apps "$(printf '{"name":"a\xffb"}')")"
check "the 400 says why" grep -q 'not valid UTF-8' "$T/code.out"
expect_eq "app name with an escaped NUL: 400" 400 "$(code POST /v1/apps '{"name":"a\u0000b"}')"
expect_eq "app name with a control character: 400" 400 "$(code POST /v1/apps '{"name":"a\u001b[31m"}')"
check "the 400 names the field" grep -q '"field":"name"' "$T/code.out"
APP=$(api POST /v1/apps '{"name":"abuse-app"}' | cut -d' ' -f2- | json_get app.id)
svc() { printf '{"app_id":"%s","definition":{"name":"%s","type":"SANDBOX","docker":{"image":"koyeb/sandbox"},"env":[{"key":"%s","value":"v"}]}}' "$APP" "$1" "$2"; }
expect_eq "service name with a newline: 400" 400 "$(code POST '/v1/services?dry_run=true' "$(svc 'a\nb' K)")"
check "the 400 names definition.name" grep -q 'definition.name' "$T/code.out"
expect_eq "env key with a control character: 400" 400 "$(code POST '/v1/services?dry_run=true' "$(svc ok 'K\u0007')")"
expect_eq "a well-formed service passes (dry run)" 200 "$(code POST '/v1/services?dry_run=true' "$(svc ok K)")"
# raw requests: curl cannot send a NUL in a header
raw() { python3 -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])))
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
print(s.recv(65536).decode("utf-8","replace"))' "${API##*:}" "$1"; }
r=$(raw 'GET /v1/apps HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nAuthorization: Bearer '"$TOKEN"'\r\n\r\n')
check "a NUL inside a header value: 400" grep -q '^HTTP/1.1 400' <<<"$r"
check "... saying why" grep -q 'NUL byte' <<<"$r"
r=$(raw 'GET /v1/apps HTTP/1.1\r\nHost: x\r\nX-A: \xff\xfe\r\n\r\n')
check "invalid UTF-8 in a header value: 400" grep -q '^HTTP/1.1 400.*' <<<"$r"
check "... saying why" grep -q 'header value is not valid UTF-8' <<<"$r"
r=$(raw 'GET /v1/apps HTTP/1.1\r\nHost: x\r\nX-A: a\x1bb\r\n\r\n')
check "a control byte in a header value: 400" grep -q '^HTTP/1.1 400' <<<"$r"
expect_eq "db.json is valid UTF-8 JSON" ok \
	"$(python3 -c 'import json,sys; json.load(open(sys.argv[1],encoding="utf-8")); print("ok")' "$SBX_STATE_DIR/db.json" 2>&1)"
echo "# sbxd VmRSS at the end: $(rss) kB"
finish
