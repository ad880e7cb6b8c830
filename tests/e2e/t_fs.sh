#!/usr/bin/env bash
# t_fs.sh - every libsbx filesystem primitive against a real sbxd and real
# sandboxes (tests/e2e/fs_primitives.c starts its own sbxd and cleans up).
set -uo pipefail
exec "$BUILD/tests/e2e/fs_primitives" "$BUILD/sbxd" 30
