#!/usr/bin/env bash
# t_cli_help.sh - the command-line conventions of issue 9: every subcommand
# answers -h/--help on stdout with exit 0 and a bad argument on stderr with
# exit 2; `sbx help CMD` says the same as `sbx CMD --help`; version; --json
# errors; an unknown sandbox named as the user wrote it; `sbx host start`
# with its own state takes a free port when the default one is busy.
. "$(dirname "$0")/lib.sh"

HOLDER= H2=
on_exit() {
	local rc=$?
	[ -n "$H2" ] && SBX_STATE_DIR=$H2 "$BUILD/sbx" -q host stop >/dev/null 2>&1
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	(exit $rc)
	cleanup
}
trap on_exit EXIT
S=$BUILD/sbx

# run_cmd ARGS... : runs sbx, keeps stdout, stderr and status in $T/o $T/e $RC
run_cmd() {
	"$S" "$@" >"$T/o" 2>"$T/e" </dev/null
	RC=$?
}

# every subcommand, the host ones and the aliases
CMDS=(create ls list status rm delete exec ps logs kill port shell cp up mount umount host "host start"
	"host stop" "host status" "host env" "host image" help version completion)
for c in "${CMDS[@]}"; do
	for h in --help -h; do
		# shellcheck disable=SC2086 # the host pairs are two words
		run_cmd $c $h
		if [ $RC -eq 0 ] && [ -s "$T/o" ] && [ ! -s "$T/e" ] && grep -q '^usage: ' "$T/o"; then
			ok "sbx $c $h: usage on stdout, exit 0"
		else
			not_ok "sbx $c $h: rc=$RC stderr=$(head -c 200 "$T/e")"
		fi
	done
	# shellcheck disable=SC2086
	run_cmd $c --no-such-option
	if [ $RC -eq 2 ] && [ ! -s "$T/o" ] && grep -q '^usage: ' "$T/e"; then
		ok "sbx $c --no-such-option: usage on stderr, exit 2"
	else
		not_ok "sbx $c --no-such-option: rc=$RC stdout=$(head -c 200 "$T/o")"
	fi
done
# missing operands are usage errors too, and never reach a sandbox
for c in status rm exec ps logs kill port "logs box" "kill box" "port box" "port --unbind" \
	shell cp mount umount up "cp onlyone" "completion tcsh"; do
	# shellcheck disable=SC2086
	run_cmd $c
	if [ $RC -eq 2 ] && [ ! -s "$T/o" ] && [ -s "$T/e" ]; then
		ok "sbx $c (missing operand): stderr, exit 2"
	else
		not_ok "sbx $c (missing operand): rc=$RC"
	fi
done
check "no sbxd was started by any of it" test ! -e "$SBX_STATE_DIR/sbxd.json"

for c in create exec cp host ps logs kill port; do
	expect_eq "sbx help $c is sbx $c --help" "$("$S" $c --help)" "$("$S" help $c)"
done
expect_eq "sbx help (alone) is sbx --help" "$("$S" --help)" "$("$S" help)"
run_cmd help no-such-command
expect_eq "sbx help of an unknown command: exit 2" 2 $RC
run_cmd nosuchcommand
expect_eq "an unknown command: exit 2" 2 $RC
run_cmd --no-such-global
expect_eq "an unknown global option: exit 2" 2 $RC
run_cmd
expect_eq "no command: exit 2" 2 $RC

V="sbx $(sed -n 's/^project(sbx VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")"
for v in version -V --version; do
	expect_eq "sbx $v" "$V" "$("$S" $v)"
done
expect_eq "sbx --json version" "{\"version\":\"${V#sbx }\"}" "$("$S" --json version)"
check "mount.sbxfs --help" bash -c "(exec -a mount.sbxfs '$S' --help) | grep -q '^usage: mount.sbxfs'"

for sh in bash zsh fish; do
	run_cmd completion $sh
	check "sbx completion $sh prints its script" test $RC -eq 0 -a -s "$T/o"
done
"$S" completion bash >"$T/c.bash"
check "the bash completion loads" bash -c ". '$T/c.bash' && complete -p sbx"
COMP=$(bash -c ". '$T/c.bash'; COMP_WORDS=(sbx cr); COMP_CWORD=1; _sbx; echo \${COMPREPLY[*]}")
expect_eq "bash completes a command" create "$COMP"

# a sandbox that is not there, in the user's words, as text and as JSON
start_sbxd
run_cmd -q status no-such-box
expect_eq "unknown sandbox: exit 1" 1 $RC
expect_eq "unknown sandbox, named as typed" "sbx: no-such-box: no sandbox named no-such-box" \
	"$(cat "$T/e")"
run_cmd -q --json status no-such-box
expect_eq "--json error: exit 1" 1 $RC
expect_eq "--json error: its message" "no sandbox named no-such-box" \
	"$(json_get error.message <"$T/o")"
check "--json error: its class" test -n "$(json_get error.class <"$T/o")"
check "--json error: nothing on stderr" test ! -s "$T/e"
run_cmd -q rm no-such-box
check "rm of an unknown sandbox names it as typed" grep -qx 'sbx: no-such-box: no sandbox named no-such-box' "$T/e"
ID=$("$S" -q create --name helpbox)
run_cmd --json status helpbox
expect_eq "--json status: HEALTHY" HEALTHY "$(json_get status <"$T/o")"
run_cmd --json ls
expect_eq "--json ls: the one sandbox" "$ID" "$(json_get 0.id <"$T/o")"
run_cmd --json rm helpbox
expect_eq "--json rm: the deleted id" "$ID" "$(json_get 0.id <"$T/o")"

# a second host with its own state while the default port is held
if python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",7723))' 2>/dev/null; then
	python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",7723)); s.listen(); print("r",flush=True); time.sleep(600)' >"$T/holder" &
	HOLDER=$!
	for _ in $(seq 1 200); do [ -s "$T/holder" ] && break; sleep 0.01; done
fi
H2=$T/state2
SBX_STATE_DIR=$H2 "$S" host start >"$T/o" 2>"$T/e"
RC=$?
expect_eq "host start with the default port taken: exit 0" 0 $RC
check "host start says it took another port" grep -q 'port 7723 is taken' "$T/o"
PORT2=$(sed -n 's/.* at http:\/\/127.0.0.1:\([0-9]*\) .*/\1/p' "$T/o")
check "host start says where ($PORT2)" test -n "$PORT2" -a "$PORT2" != 7723
expect_eq "host status agrees" "http://127.0.0.1:$PORT2" \
	"$(SBX_STATE_DIR=$H2 "$S" --json host status | json_get api_host)"
check "the second host answers" curl -sf -o /dev/null "http://127.0.0.1:$PORT2/v1/apps" \
	-H "Authorization: Bearer $(cat "$H2/token")"

finish
