#!/usr/bin/env bash
# run.sh BUILD_DIR [TEST...] - runs the end-to-end tests (t_*.sh) one by one
# and prints a closing "N passed, N failed" line over all of them.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BUILD=$(cd "${1:?usage: run.sh BUILD_DIR [TEST...]}" && pwd)
shift
# SBX_E2E_TRANSPORT=shell|agent: run the tests with every sbxfs they start
# using that transport (a private BUILD of symlinks whose sbxfs adds the
# option after the test's own arguments, so command lines keep their shape)
if [ -n "${SBX_E2E_TRANSPORT:-}" ]; then
	wrap=$(mktemp -d /tmp/sbx-e2e-build.XXXXXX)
	trap 'rm -rf "$wrap"' EXIT
	for f in "$BUILD"/*; do ln -s "$f" "$wrap/"; done
	rm "$wrap/sbxfs"
	printf '#!/bin/bash\nexec -a "$0" %q "$@" -o transport=%s\n' "$BUILD/sbxfs" \
		"$SBX_E2E_TRANSPORT" >"$wrap/sbxfs"
	chmod 755 "$wrap/sbxfs"
	echo "# every sbxfs uses -o transport=$SBX_E2E_TRANSPORT"
	export BUILD=$wrap
fi
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=("$HERE"/t_*.sh)
pass=0
fail=0
for t in "${tests[@]}"; do
	echo "== $(basename "$t")"
	t0=$SECONDS
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
	echo "# $(basename "$t") took $((SECONDS - t0)) s"
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
