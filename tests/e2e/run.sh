#!/usr/bin/env bash
# run.sh BUILD_DIR [TEST...] - runs the end-to-end tests (t_*.sh) one by one
# and prints a closing "N passed, N failed" line over all of them.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BUILD=$(cd "${1:?usage: run.sh BUILD_DIR [TEST...]}" && pwd)
shift
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=("$HERE"/t_*.sh)
pass=0
fail=0
for t in "${tests[@]}"; do
	echo "== $(basename "$t")"
	out=$(mktemp)
	# 600 s each, unless the script states a budget per round of SBX_STRESS
	per=$(sed -n 's/^# e2e-timeout-per-round: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
	limit=600
	[ -n "$per" ] && limit=$((per * ${SBX_STRESS:-1}))
	timeout "$limit" bash "$t" 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
	if [ -z "$line" ]; then
		echo "not ok - $(basename "$t") ended without a result line"
		fail=$((fail + 1))
	else
		pass=$((pass + $(echo "$line" | cut -d' ' -f1)))
		fail=$((fail + $(echo "$line" | cut -d' ' -f3)))
	fi
	rm -f "$out"
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
