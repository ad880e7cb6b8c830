#!/usr/bin/env bash
# t_exec_executor.sh - exec over the sandbox's executor API
# (SBX_EXEC_TRANSPORT=executor): streams, exit codes, signals, cwd and env,
# order, what the executor cannot do (stdin) refused, and sbxd's log showing
# the executor served the commands (no silent fallback to the WebSocket).
. "$(dirname "$0")/lib.sh"
SBX_DEBUG=1 start_sbxd # its debug lines name each executor request

A=$(sbx create --name xexec)
export SBX_EXEC_TRANSPORT=executor
runs() { grep -c "executor POST /sandbox-executor/[^ ]*/run_streaming" "$T/sbxd.log"; }
before=$(runs)

sbx exec "$A" -n -- sh -c 'echo out1; echo err1 >&2; echo out2' >"$T/o" 2>"$T/e"
expect_eq "stdout kept apart" "out1
out2" "$(cat "$T/o")"
expect_eq "stderr kept apart" "err1" "$(cat "$T/e")"
expect_eq "output arrives in order" "$(seq 1 2000)" "$(sbx exec "$A" -n -- seq 1 2000)"
for code in 0 1 42; do
	sbx exec "$A" -n -- sh -c "exit $code"
	expect_eq "exit code $code" "$code" $?
done
sbx exec "$A" -n -- sh -c 'kill -9 $$' 2>"$T/e"
expect_eq "death by SIGKILL -> 137, as over the WebSocket" 137 $?
expect_eq "and no message from the shell around it" "" "$(cat "$T/e")"
sbx exec "$A" -n -w /etc -e 'X=a b' -e Y=2 -- sh -c 'echo "$PWD $X $Y"' >"$T/o"
expect_eq "-w and -e" "/etc a b 2" "$(cat "$T/o")"
sbx exec "$A" -n -- printf 'no newline' >"$T/o"
expect_eq "a last line without newline gains one (the executor sends lines)" \
	"no newline|" "$(tr '\n' '|' <"$T/o")"
sbx exec "$A" -n -- sh -c 'test "$1" = "$(printf "\377")"' _ "$(printf '\377')"
expect_eq "an argument that is not UTF-8 reaches the command exactly" 0 $?
sbx exec "$A" -n -T 1 -- sleep 30
check "a deadline ends the command" test $? -ne 0
n=$(($(runs) - before))
check "the executor ran the commands ($n streams)" test "$n" -ge 10

echo hi | sbx exec "$A" -- cat >"$T/o" 2>"$T/e"
check "exec with stdin is refused over the executor" test $? -ne 0
check "and says why" grep -q "no stdin" "$T/e"

unset SBX_EXEC_TRANSPORT
expect_eq "the default (auto) runs exec over the WebSocket" hi "$(echo hi | sbx exec "$A" -- cat)"
sbx rm "$A"
finish
