#!/usr/bin/env bash
# bench/run.sh - kept for old habits: the benchmark is scripts/bench.sh
# (sbxfs with each transport against sshfs at several added round trips).
# See bench/README.md.
exec "$(dirname "${BASH_SOURCE[0]}")/../scripts/bench.sh" "$@"
