#!/usr/bin/env bash
# t_proc.sh - libsbx's background processes and port binding (sbx/proc.h)
# over the executor sbxd serves, against a real sbxd and a real sandbox
# (tests/e2e/proc_api.c; the sandbox is deleted by the program, sbxd by
# lib.sh's cleanup). A delay proxy (bench/delayproxy.c, 400 ms each way)
# in front of sbxd stands in for a distant executor in one check.
. "$(dirname "$0")/lib.sh"
start_sbxd

PROXY_PID=
stop_proxy() {
	[ -n "$PROXY_PID" ] && kill -TERM "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
	cleanup
}
trap stop_proxy EXIT
hostport=${API#http://}
"$BUILD/sbx-delayproxy" -t "$hostport" -d 400 >"$T/proxy.port" 2>"$T/proxy.log" &
PROXY_PID=$!
for _ in $(seq 1 500); do
	[ -s "$T/proxy.port" ] && break
	kill -0 "$PROXY_PID" 2>/dev/null || break
	sleep 0.01
done
check "the delay proxy listens" test -s "$T/proxy.port"

PROC_API_SLOW=127.0.0.1:$(head -1 "$T/proxy.port") KOYEB_API_HOST=$API KOYEB_API_TOKEN=$TOKEN \
	"$BUILD/tests/e2e/proc_api" >"$T/proc.out" 2>&1
rc=$?
cat "$T/proc.out"
PASS=$((PASS + $(grep -c '^ok - ' "$T/proc.out")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$T/proc.out")))
check "proc_api ran to its end (exit $rc)" grep -q '^[0-9]* passed, [0-9]* failed$' "$T/proc.out"
finish
