#!/usr/bin/env bash
# demo.sh - the main job on a fresh machine: install what is missing, build,
# start the local host sbxd, create a sandbox, show it working, delete it.
# Usage: scripts/demo.sh [--keep]   (--keep leaves the sandbox running)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" "$ROOT/build"
SBX="$ROOT/build/sbx"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step sbx create --name demo-$$
ID=$("$SBX" create --name "demo-$$")
echo "$ID"
step sbx ls
"$SBX" ls
step sbx exec "$ID" -- uname -a
"$SBX" exec "$ID" -n -- uname -a
step "echo 'hello from the host' | sbx exec $ID -- sh -c 'cat > /root/hello.txt; ls -l /root'"
echo 'hello from the host' | "$SBX" exec "$ID" -- sh -c 'cat > /root/hello.txt; ls -l /root'
step sbx exec "$ID" -- ps -e
"$SBX" exec "$ID" -n -- ps -e
step "sbx exec $ID -- sh -c 'exit 42'; echo \$?"
set +e
"$SBX" exec "$ID" -n -- sh -c 'exit 42'
echo $?
set -e
if [ "${1:-}" = --keep ]; then
	printf '\nThe sandbox %s keeps running. Try:\n' "$ID"
	echo "  $SBX exec $ID -- sh -c 'cat /root/hello.txt'"
	echo "  eval \"\$($SBX host env)\"   # point any Koyeb client at the local host"
	echo "  $SBX rm $ID && $SBX host stop"
else
	step sbx rm "$ID"
	"$SBX" rm "$ID"
	step sbx host stop
	"$SBX" host stop
fi
