#!/usr/bin/env bash
# test.sh - set up, build and run every test of sbx:
#   1. scripts/setup.sh (installs what is missing)
#   2. release build + unit tests (ctest)
#   3. ASan+UBSan build + unit tests
#   4. fuzzing: every libFuzzer target of tests/fuzz for FUZZ_SECONDS (20)
#      under ASan+UBSan (scripts/fuzz.sh, two at a time: under 4 minutes)
#   5. end-to-end tests (real sbxd, real sandboxes) against the release build,
#      then the mount suites once more over the shell transport
#   6. the driver's cache suites once more against the ASan+UBSan build
# Usage: scripts/test.sh [--unit-only|--e2e-only]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-all}

"$ROOT/scripts/setup.sh"

failed=0
if [ "$MODE" != --e2e-only ]; then
	echo "== build (release)"
	"$ROOT/scripts/build.sh" "$ROOT/build"
	echo "== unit tests"
	(cd "$ROOT/build" && ctest --output-on-failure -L unit) || failed=1
	echo "== build (ASan + UBSan)"
	"$ROOT/scripts/build.sh" "$ROOT/build-asan" -DSBX_SANITIZE=ON
	echo "== unit tests under ASan + UBSan"
	(cd "$ROOT/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -L unit) || failed=1
	echo "== fuzzing (libFuzzer, ASan + UBSan)"
	"$ROOT/scripts/fuzz.sh" "${FUZZ_SECONDS:-20}" || failed=1
fi
if [ "$MODE" != --unit-only ]; then
	[ -x "$ROOT/build/sbx" ] || "$ROOT/scripts/build.sh" "$ROOT/build"
	echo "== end-to-end tests"
	"$ROOT/tests/e2e/run.sh" "$ROOT/build" || failed=1
	# the mounts above use the agent; the portable transport gets the
	# everyday-tools suite too
	echo "== end-to-end mount tests over the shell transport"
	SBX_E2E_TRANSPORT=shell "$ROOT/tests/e2e/run.sh" "$ROOT/build" \
		"$ROOT/tests/e2e/t_mount.sh" "$ROOT/tests/e2e/t_mount_ctl.sh" \
		"$ROOT/tests/e2e/t_ranged.sh" || failed=1
fi
if [ "$MODE" = all ]; then
	# the suites that drive the driver's caches from many threads at once
	# (stores, writes through, change reports, answers on libsbx's
	# completion thread, requests queued for a file's lock), once more
	# with every binary under ASan+UBSan: a release build can survive a
	# use after free that these report
	echo "== end-to-end cache suites under ASan + UBSan"
	san=$(mktemp -d "${TMPDIR:-/tmp}/sbx-san.XXXXXX")
	ASAN_OPTIONS=log_path=$san/asan UBSAN_OPTIONS=print_stacktrace=1:log_path=$san/ubsan \
		"$ROOT/tests/e2e/run.sh" "$ROOT/build-asan" "$ROOT/tests/e2e/t_ranged.sh" \
		"$ROOT/tests/e2e/t_async.sh" "$ROOT/tests/e2e/t_defer.sh" "$ROOT/tests/e2e/t_warm.sh" \
		"$ROOT/tests/e2e/t_posix.sh" "$ROOT/tests/e2e/t_fsync.sh" \
		"$ROOT/tests/e2e/t_queued.sh" || failed=1
	if [ -n "$(ls -A "$san")" ]; then
		echo "sanitizer reports:"
		cat "$san"/*
		failed=1
	fi
	rm -rf "$san"
fi
if [ $failed -ne 0 ]; then
	echo "test.sh: FAILED"
	exit 1
fi
echo "test.sh: all tests passed"
