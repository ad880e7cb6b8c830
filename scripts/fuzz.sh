#!/usr/bin/env bash
# fuzz.sh [SECONDS] - build the libFuzzer targets of tests/fuzz with clang
# (ASan + UBSan, coverage-instrumented libraries) in build-fuzz/, then run
# each for SECONDS (default 30) on a copy of its seed corpus, FUZZ_JOBS
# (default 2) at a time. A crash, a leak, a timeout (an input slower than
# 10 s) or an out-of-memory fails the target; its input is kept in
# build-fuzz/artifacts/. Prints one line per target and "N passed, N failed".
#
# Environment: FUZZ_JOBS (parallel runs), FUZZ_TARGETS (space-separated
# names without the fuzz_ prefix; default: all), FUZZ_BUILD (build dir),
# FUZZ_KEEP=1 to keep the temporary corpora (their path is printed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-30}
JOBS=${FUZZ_JOBS:-2}
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
CC_FUZZ=${CC_FUZZ:-clang-14}
command -v "$CC_FUZZ" >/dev/null || CC_FUZZ=clang

case "$SECS" in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac
command -v "$CC_FUZZ" >/dev/null || {
	echo "fuzz.sh: $CC_FUZZ not found (scripts/setup.sh installs clang)" >&2
	exit 1
}

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSBX_FUZZ=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target fuzz >/dev/null

if [ -n "${FUZZ_TARGETS:-}" ]; then
	targets=$FUZZ_TARGETS
else
	targets=$(cd "$ROOT/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbx-fuzz.XXXXXX")
cleanup() {
	# runs still going (after an interrupt) are ours: stop them by pid
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${FUZZ_KEEP:-0}" = 1 ]; then
		echo "fuzz.sh: corpora and logs kept in $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
mkdir -p "$BUILD/artifacts"

# run_one NAME: fuzzes one target; its log is $TMP/NAME.log, its status
# $TMP/NAME.rc.
run_one() {
	local name=$1 bin="$BUILD/tests/fuzz/fuzz_$1" corpus="$TMP/corpus-$1"
	local dict="$ROOT/tests/fuzz/dict/$1.dict" args=()

	mkdir -p "$corpus"
	if [ -d "$ROOT/tests/fuzz/corpus/$name" ]; then
		cp -r "$ROOT/tests/fuzz/corpus/$name/." "$corpus/"
	fi
	[ -f "$dict" ] && args+=("-dict=$dict")
	# close_fd_mask=3: the code under test may print usage errors; libFuzzer
	# and the sanitizers keep their own copy of stderr for their reports
	set +e
	"$bin" "${args[@]}" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-malloc_limit_mb=2048 -max_len=65536 -close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$BUILD/artifacts/$name-" "$corpus" >"$TMP/$name.log" 2>&1
	echo $? >"$TMP/$name.rc"
	set -e
}

# report NAME: one line for a finished target; returns its status.
report() {
	local name=$1 rc log="$TMP/$1.log" execs cov ft corp art
	rc=$(cat "$TMP/$name.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	if [ "$rc" = 0 ]; then
		printf 'ok   %-12s %ss %10s execs  cov %-5s ft %-6s corpus %s\n' "$name" "$SECS" \
			"${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
		return 0
	fi
	art=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -n 1 | sed 's/.* to //')
	printf 'FAIL %-12s exit %s: %s\n' "$name" "$rc" \
		"$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|no such target' "$log" || echo 'see the log')"
	[ -n "$art" ] && echo "     input: $art"
	sed -n '/^==[0-9]*==ERROR\|runtime error:/,/^SUMMARY/p' "$log" | head -n 40 | sed 's/^/     /'
	return 1
}

start=$(date +%s)
running=0
for t in $targets; do
	if [ ! -x "$BUILD/tests/fuzz/fuzz_$t" ]; then
		echo "no such target: fuzz_$t" >"$TMP/$t.log"
		echo 1 >"$TMP/$t.rc"
		continue
	fi
	if [ "$running" -ge "$JOBS" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	run_one "$t" &
	running=$((running + 1))
done
wait || true

passed=0
failed=0
for t in $targets; do
	if report "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "fuzz: $((passed)) passed, $((failed)) failed ($(($(date +%s) - start)) s of fuzzing)"
[ "$failed" -eq 0 ]
