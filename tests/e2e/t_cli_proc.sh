#!/usr/bin/env bash
# t_cli_proc.sh - background processes and the published port from the
# command line, against a real sbxd and its executor: sbx exec -d, ps
# (text and --json), logs (kept lines, -f to the end, -t, --json), kill,
# port (a server in the sandbox reached with curl from the host, --unbind),
# and the errors: unknown process, unknown sandbox, bad arguments.
. "$(dirname "$0")/lib.sh"

S=$BUILD/sbx
# run_cmd ARGS... : runs sbx -q, keeps stdout, stderr and status in $T/o $T/e $RC
run_cmd() {
	timeout 60 "$S" -q "$@" >"$T/o" 2>"$T/e" </dev/null
	RC=$?
}
# status_of BOX ID : the status ps --json gives the process
status_of() {
	timeout 60 "$S" -q --json ps "$1" | python3 -c 'import json,sys
print(next((p["status"] for p in json.load(sys.stdin) if p["id"] == sys.argv[1]), "absent"))' "$2"
}
is_uuid() { [[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; }

start_sbxd
sbx create --name procbox >/dev/null

# --- exec -d, logs, ps -------------------------------------------------------------
run_cmd exec -d procbox -- sh -c 'echo out1; echo "err 1" >&2; printf "out 2\n\nlast"'
P=$(cat "$T/o")
check "exec -d: exit 0" test $RC -eq 0
check "exec -d prints the process id ($P)" is_uuid "$P"
run_cmd logs -f procbox "$P"
expect_eq "logs -f of it: exit 0" 0 $RC
expect_eq "logs: its stdout lines on stdout, exactly" $'out1\nout 2\n\nlast' "$(cat "$T/o")"
expect_eq "logs: its stderr lines on stderr" "err 1" "$(cat "$T/e")"
run_cmd logs procbox "$P"
expect_eq "logs without -f: the same kept lines" $'out1\nout 2\n\nlast' "$(cat "$T/o")"
run_cmd ps procbox
expect_eq "ps: exit 0" 0 $RC
expect_eq "ps: a header" "ID PID STATUS COMMAND" "$(head -1 "$T/o" | tr -s ' ')"
check "ps: the process, completed" grep -qE "^$P +[0-9]+ +completed +sh -c " "$T/o"
expect_eq "ps --json: its status" completed "$(status_of procbox "$P")"
run_cmd --json ps procbox
check "ps --json: an array of {id,pid,status,command}" python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
p = [x for x in v if x["id"] == sys.argv[2]][0]
assert isinstance(p["pid"], int) and p["pid"] > 0 and p["command"].startswith("sh -c ")' "$T/o" "$P"

run_cmd exec -d procbox -w /tmp -e K='a b' -- sh -c 'echo "$K" "$PWD"; exit 3'
P=$(cat "$T/o")
run_cmd logs -f procbox "$P"
expect_eq "exec -d with -w and -e" "a b /tmp" "$(cat "$T/o")"
expect_eq "a non-zero exit: failed" failed "$(status_of procbox "$P")"
run_cmd --json exec -d procbox -- true
check "exec -d --json: the process" python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))
assert len(p["id"]) == 36 and p["status"] in ("running", "completed") and p["command"] == "true"' "$T/o"

# --- logs -f follows a running process to its end ------------------------------------
P=$(sbx exec -d procbox -- sh -c 'echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second >&2; echo third')
timeout 60 "$S" -q logs -f -t procbox "$P" >"$T/f.out" 2>"$T/f.err" &
F=$!
for _ in $(seq 1 600); do grep -q first "$T/f.out" && break; sleep 0.05; done
check "logs -f shows a line while the process runs" grep -q first "$T/f.out"
check "logs -f is still following" kill -0 $F
sbx exec procbox -- touch /tmp/go
wait $F
expect_eq "logs -f exits 0 when the process ends" 0 $?
check "logs -f got the live lines (and -t times)" grep -qE '^20[0-9-]+T[0-9:.]+.* third$' "$T/f.out"
check "logs -f: stderr's live line on stderr" grep -qE ' second$' "$T/f.err"
run_cmd --json logs procbox "$P"
check "logs --json: one object a line" python3 -c 'import json,sys
v = [json.loads(l) for l in open(sys.argv[1])]
assert [(x["stream"], x["data"]) for x in v] == [("stdout","first"),("stdout","third"),("stderr","second")], v
assert all(x["timestamp"].startswith("20") for x in v)' "$T/o"

# --- kill ---------------------------------------------------------------------------
P=$(sbx exec -d procbox -- sleep 600)
expect_eq "a sleeping process is running" running "$(status_of procbox "$P")"
run_cmd kill procbox "$P"
expect_eq "kill: exit 0" 0 $RC
expect_eq "kill prints the id" "$P" "$(cat "$T/o")"
run_cmd logs -f procbox "$P"
expect_eq "logs -f of a killed process ends, exit 0" 0 $RC
expect_eq "its status turns killed" killed "$(status_of procbox "$P")"
run_cmd kill procbox "$P"
expect_eq "kill of an ended process: exit 1" 1 $RC
check "kill of an ended process says so" grep -q "is not running" "$T/e"

# --- errors ---------------------------------------------------------------------------
NOID=00000000-0000-0000-0000-000000000000
run_cmd logs procbox $NOID
expect_eq "logs of an unknown process: exit 1" 1 $RC
expect_eq "logs of an unknown process: a clear message" \
	"sbx: $NOID: no process $NOID in sandbox procbox" "$(cat "$T/e")"
run_cmd kill procbox $NOID
expect_eq "kill of an unknown process: exit 1" 1 $RC
check "kill of an unknown process: a clear message" grep -q "no process $NOID" "$T/e"
run_cmd --json logs procbox $NOID
expect_eq "--json logs error: its message" "no process $NOID in sandbox procbox" \
	"$(json_get error.message <"$T/o")"
expect_eq "--json logs error: its class" "not found" "$(json_get error.class <"$T/o")"
for c in "ps nobox" "logs nobox $NOID" "kill nobox $NOID" "port nobox 80" "exec -d nobox -- true"; do
	# shellcheck disable=SC2086
	run_cmd $c
	if [ $RC -eq 1 ] && grep -q "no sandbox named nobox" "$T/e"; then
		ok "sbx $c: unknown sandbox, exit 1"
	else
		not_ok "sbx $c: rc=$RC stderr=$(head -c 200 "$T/e")"
	fi
done
for c in "logs procbox bad/id" "logs procbox" "kill procbox" "port procbox 0" \
	"port procbox 65536" "port procbox x" "port --unbind procbox 80" "exec -d -t procbox -- sh" \
	"exec -d -T 5 procbox -- true" "ps -f procbox"; do
	# shellcheck disable=SC2086
	run_cmd $c
	if [ $RC -eq 2 ] && grep -q '^usage: ' "$T/e"; then
		ok "sbx $c: usage error, exit 2"
	else
		not_ok "sbx $c: rc=$RC stderr=$(head -c 200 "$T/e")"
	fi
done

# --- port ---------------------------------------------------------------------------
sbx exec procbox -- sh -c 'mkdir -p /srv/www && echo "hello from the sandbox" >/srv/www/hi.txt'
SRV=$(sbx exec -d procbox -- python3 -m http.server 8000 --bind 127.0.0.1 -d /srv/www)
# wait (bounded) for the server to listen, inside the sandbox
sbx exec procbox -- python3 -c 'import socket, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", 8000)).close()
        break
    except OSError:
        time.sleep(0.05)'
run_cmd port procbox 8000
URL=$(cat "$T/o")
expect_eq "port: exit 0" 0 $RC
check "port prints a tcp URL ($URL)" bash -c '[[ $1 =~ ^tcp://[^:/]+:[0-9]+$ ]]' _ "$URL"
HP=${URL#tcp://}
expect_eq "curl from the host reaches the server in the sandbox" "hello from the sandbox" \
	"$(curl -s --max-time 20 "http://$HP/hi.txt")"
run_cmd --json port procbox 8000
expect_eq "port again, --json: the same URL" "$URL" "$(json_get url <"$T/o")"
expect_eq "port --json: the port" 8000 "$(json_get port <"$T/o")"
run_cmd port procbox 8001
expect_eq "port of another port while one is bound: exit 1" 1 $RC
check "... and it says how to unbind" grep -q -- "--unbind procbox" "$T/e"
run_cmd port --unbind procbox
expect_eq "port --unbind: exit 0" 0 $RC
check "after --unbind the server is not reached" \
	bash -c '! curl -s --max-time 10 -o /dev/null "http://$1/hi.txt"' _ "$HP"
run_cmd port procbox --unbind
expect_eq "port SANDBOX --unbind (again: nothing bound is fine)" 0 $RC
run_cmd port procbox 8000
expect_eq "bound again after --unbind" "$URL" "$(cat "$T/o")"
sbx kill procbox "$SRV" >/dev/null

finish
