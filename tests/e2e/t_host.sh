#!/usr/bin/env bash
# t_host.sh - the embedded default and `sbx host`: sbx starts sbxd on demand
# (saying so once), host status/env/stop, and what a restart of sbxd does to
# sandboxes (they come back with their files; their processes do not).
. "$(dirname "$0")/lib.sh"

"$BUILD/sbx" host status >/dev/null
expect_eq "host status says not running (exit 3)" 3 $?
ID=$("$BUILD/sbx" create --name keep 2>"$T/note")
check "create with no host running starts one" test -n "$ID"
check "and says so" grep -q "started the local host sbxd" "$T/note"
"$BUILD/sbx" status "$ID" >/dev/null 2>"$T/note2"
check "but only once" test ! -s "$T/note2"
SBXD_PID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' \
	"$SBX_STATE_DIR/sbxd.json")
check "host status says running" bash -c '"$BUILD/sbx" host status | grep -q "^running at http://127.0.0.1:"'

eval "$("$BUILD/sbx" host env)"
check "host env exports KOYEB_API_HOST and KOYEB_API_TOKEN" test -n "$KOYEB_API_HOST" -a -n "$KOYEB_API_TOKEN"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KOYEB_API_TOKEN" \
	"$KOYEB_API_HOST/v1/apps")
expect_eq "a Koyeb client pointed by host env gets through" 200 "$code"
# with KOYEB_API_TOKEN set, sbx talks to that API (here: the same sbxd) directly
expect_eq "sbx honours KOYEB_API_TOKEN/KOYEB_API_HOST" HEALTHY \
	"$(SBX_STATE_DIR=/nonexistent "$BUILD/sbx" -q status "$ID")"
unset KOYEB_API_HOST KOYEB_API_TOKEN

sbx exec "$ID" -n -- sh -c 'echo persisted > /root/keep.txt; sleep 300 & true'
"$BUILD/sbx" host stop >/dev/null
check "host stop stops sbxd" bash -c '! kill -0 "$1" 2>/dev/null' _ "$SBXD_PID"
check "and the sandbox's processes with it" no_procs "$ID"
"$BUILD/sbx" host start >/dev/null
SBXD_PID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' \
	"$SBX_STATE_DIR/sbxd.json")
check "the sandbox comes back after a restart" wait_status "$ID" HEALTHY
expect_eq "with its files" persisted "$(sbx exec "$ID" -n -- cat /root/keep.txt)"
check "without its old processes" \
	bash -c '! "$BUILD/sbx" -q exec "$1" -n -- ps -e -o args= | grep -q "sleep 300"' _ "$ID"
sbx rm "$ID"
check "rm after restart works" test $? -eq 0
"$BUILD/sbx" host stop >/dev/null
SBXD_PID=
finish
