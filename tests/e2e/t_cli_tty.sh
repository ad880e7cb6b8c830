#!/usr/bin/env bash
# t_cli_tty.sh - sbx exec -it and sbx shell driven through a pseudo-terminal
# (tty_drive.py): a terminal device in the sandbox, the local size and its
# changes, Ctrl-C, the exit code; and that without -t nothing changes.
. "$(dirname "$0")/lib.sh"

start_sbxd
ID=$(sbx create --name ttybox)
check "a sandbox" test -n "$ID"

while read -r line; do
	case $line in
	ok\ *) ok "${line#ok }" ;;
	*) not_ok "${line#not ok }" ;;
	esac
done < <(timeout 120 python3 "$SRC/tests/e2e/tty_drive.py" "$BUILD/sbx" ttybox 2>&1)

# sbx shell: the same terminal, its own command
OUT=$(timeout 60 script -qec "'$BUILD/sbx' -q shell ttybox" /dev/null <<<'tty; exit' 2>&1)
check "sbx shell: tty names a device" grep -q '/dev/pts/' <<<"$OUT"

# lib.sh starts sbxd with `&`, which makes it ignore SIGINT and SIGQUIT;
# a command must not inherit that (Ctrl-C above relies on it)
expect_eq "a command starts with no signal ignored" "SigIgn:	0000000000000000" \
	"$(sbx exec ttybox -n -- grep SigIgn /proc/self/status)"

# without -t: pipes, stdout and stderr apart, no terminal
expect_eq "no -t: not a tty" "not a tty" "$(sbx exec ttybox -n -- tty)"
expect_eq "no -t: stderr apart" "e" "$(sbx exec ttybox -n -- sh -c 'echo o; echo e >&2' 2>&1 >/dev/null)"
OUT=$(echo 'echo $((6*7))' | timeout 60 "$BUILD/sbx" -q exec -t ttybox -- sh -c 'read l; eval "$l"')
check "-t with piped stdin: the command runs on a terminal" grep -q $'^42\r$' <<<"$OUT"

finish
