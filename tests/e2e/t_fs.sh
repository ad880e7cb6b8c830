#!/usr/bin/env bash
# t_fs.sh - every libsbx filesystem primitive against a real sbxd and real
# sandboxes (tests/e2e/fs_primitives.c starts its own sbxd and cleans up),
# four times: over the exec WebSocket, over the sandbox's executor API
# (SBX_EXEC_TRANSPORT), with the automatic choice (which must find sbxd's
# executor; its big-file test is smaller), and as jobs of the agent on one
# exec session. Each round checks in sbxd's log that its transport, and
# only it, served the calls (executor requests; for the agent, the exec
# sessions opened after its start), so a silent fallback fails.
set -uo pipefail
out=$(mktemp /tmp/sbx-t_fs.XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT
pass=0
fail=0
for t in websocket executor auto agent; do
	echo "# transport: $t"
	mb=30
	[ $t = auto ] && mb=2
	SBX_EXEC_TRANSPORT=$t "$BUILD/tests/e2e/fs_primitives" "$BUILD/sbxd" $mb >"$out" 2>&1
	rc=$?
	sed "s/^\(not ok\|ok\) - /\1 - [$t] /" "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
	if [ -z "$line" ] || { [ $rc -ne 0 ] && [ "${line#* passed, }" = "0 failed" ]; }; then
		echo "not ok - [$t] fs_primitives ended without a result (exit $rc)"
		fail=$((fail + 1))
	fi
	set -- $line
	pass=$((pass + ${1:-0}))
	fail=$((fail + ${3:-0}))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
