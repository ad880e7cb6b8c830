#!/usr/bin/env bash
# t_exec.sh - sbx create/ls/status/exec/rm against a real sbxd: isolation,
# streams, exit codes, stdin, big outputs, timeouts, Ctrl-C, delete.
. "$(dirname "$0")/lib.sh"
start_sbxd

A=$(sbx create --name alpha)
check "create prints an id" test -n "$A"
B=$(sbx create --name beta)
expect_eq "status is HEALTHY" HEALTHY "$(sbx status "$A")"
expect_eq "status by name" HEALTHY "$(sbx status alpha)"
check "ls lists both" bash -c 'sbx() { "$BUILD/sbx" -q "$@"; }; out=$(sbx ls); grep -q alpha <<<"$out" && grep -q beta <<<"$out"'
sbx create --name alpha >/dev/null 2>&1
check "a second sandbox with the same name is refused" test $? -ne 0
U1=$(sbx create) U2=$(sbx create)
names=$("$BUILD/sbx" ls --json | python3 -c 'import json,sys; print(" ".join(sorted(x["name"] for x in json.load(sys.stdin) if x["id"] in sys.argv[1:])))' "$U1" "$U2")
check "unnamed sandboxes get distinct names ($names)" bash -c 'set -- $1; [ "$1" != "$2" ] && [[ $1 == sandbox-* ]]' _ "$names"
sbx rm "$U1" "$U2"
check "ls --json parses" bash -c '"$BUILD/sbx" ls --json | python3 -c "import json,sys; assert len(json.load(sys.stdin)) == 2"'

# isolation
mark=/tmp/sbx-iso-$$-$RANDOM
expect_eq "a file written in a sandbox reads back" "hello" \
	"$(sbx exec "$A" -- sh -c "echo hello > $mark && cat $mark")"
sbx exec "$B" -n -- test -e "$mark"
expect_eq "the other sandbox does not see it" 1 $?
check "the host does not see it" test ! -e "$mark"
check "the sandbox cannot read the host's state dir" \
	bash -c '! "$BUILD/sbx" -q exec "$1" -n -- cat "$2/token" >/dev/null 2>&1' _ "$A" "$SBX_STATE_DIR"
n=$(sbx exec "$A" -n -- ps -e -o pid= | wc -l)
check "ps inside shows only the sandbox's processes ($n)" test "$n" -lt 8
check "ps inside does not show sbxd" bash -c '! "$BUILD/sbx" -q exec "$1" -n -- ps -e -o comm= | grep -q sbxd' _ "$A"
expect_eq "hostname is the sandbox's own" 0 \
	"$(sbx exec "$A" -n -- hostname | grep -c "^$(hostname)$")"

# streams and exit codes
sbx exec "$A" -n -- sh -c 'echo out1; echo err1 >&2; echo out2' >"$T/o" 2>"$T/e"
expect_eq "stdout kept apart" "out1
out2" "$(cat "$T/o")"
expect_eq "stderr kept apart" "err1" "$(cat "$T/e")"
expect_eq "output arrives in order" "$(seq 1 2000)" "$(sbx exec "$A" -n -- seq 1 2000)"
for code in 0 1 42; do
	sbx exec "$A" -n -- sh -c "exit $code"
	expect_eq "exit code $code" "$code" $?
done
sbx exec "$A" -n -- sh -c 'kill -9 $$'
expect_eq "death by SIGKILL -> 137" 137 $?
sbx exec "$A" -n -- sh -c 'kill -TERM $$'
expect_eq "death by SIGTERM -> 143" 143 $?
sbx exec "$A" -n -w /etc -e 'X=a b' -e Y=2 -- sh -c 'echo "$PWD $X $Y"' >"$T/o"
expect_eq "-w and -e" "/etc a b 2" "$(cat "$T/o")"

# stdin and big outputs
head -c 10000000 /dev/urandom >"$T/in"
sbx exec "$A" -- cat <"$T/in" >"$T/back"
check "10 MB of stdin round-trips" cmp -s "$T/in" "$T/back"
expect_eq "stdin reaches the command whole" "$(sha256sum <"$T/in" | cut -d' ' -f1)" \
	"$(sbx exec "$A" -- sha256sum <"$T/in" | cut -d' ' -f1)"
sbx exec "$A" -n -- sh -c 'head -c 20000000 /dev/urandom > /tmp/big; cat /tmp/big' >"$T/big"
expect_eq "20 MB of output arrives intact" \
	"$(sbx exec "$A" -n -- sha256sum /tmp/big | cut -d' ' -f1)" \
	"$(sha256sum <"$T/big" | cut -d' ' -f1)"

# timeout and interrupt kill the whole tree
start=$(date +%s)
sbx exec "$A" -n --timeout 1 -- sh -c 'sleep 100 & sleep 100'
expect_eq "timeout exits 124" 124 $?
check "timeout returns promptly" test $(($(date +%s) - start)) -lt 10
check "timeout killed every process it started" \
	bash -c '! "$BUILD/sbx" -q exec "$1" -n -- ps -e -o args= | grep -q "sleep 100"' _ "$A"
"$BUILD/sbx" -q exec "$A" -n -- sh -c 'sleep 200 & sleep 200' &
pid=$!
for i in $(seq 1 200); do
	sbx exec "$A" -n -- ps -e -o args= | grep -q "sleep 200" && break
	sleep 0.05
done
kill -INT $pid
wait $pid
expect_eq "Ctrl-C exits 130" 130 $?
check "Ctrl-C killed the remote tree" \
	bash -c '! "$BUILD/sbx" -q exec "$1" -n -- ps -e -o args= | grep -q "sleep 200"' _ "$A"

# many at once: 50 execs over 5 sandboxes
ids=("$A" "$B")
for n in 3 4 5; do ids+=("$(sbx create --name "s$n")"); done
pids=()
for i in $(seq 0 49); do
	sbx exec "${ids[$((i % 5))]}" -n -- sh -c "echo job-$i" >"$T/c$i" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}" # not a bare wait: sbxd is a child of this shell too
good=0
for i in $(seq 0 49); do [ "$(cat "$T/c$i")" = "job-$i" ] && good=$((good + 1)); done
expect_eq "50 concurrent execs across 5 sandboxes succeed" 50 "$good"

# delete
rmok=0
for id in "${ids[@]}"; do sbx rm "$id" && rmok=$((rmok + 1)); done
expect_eq "rm deletes all five" 5 "$rmok"
for id in "${ids[@]}"; do
	for i in $(seq 1 400); do [ -e "$SBX_STATE_DIR/sandboxes/$id" ] || break; sleep 0.05; done
done
check "no sandbox state is left" bash -c '[ -z "$(ls -A "$1/sandboxes" 2>/dev/null)" ]' _ "$SBX_STATE_DIR"
for id in "${ids[@]}"; do check "no process of $id is left" no_procs "$id"; done
finish
