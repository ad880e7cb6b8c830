#!/usr/bin/env bash
# t_proc.sh - libsbx's background processes and port binding (sbx/proc.h)
# over the executor sbxd serves, against a real sbxd and a real sandbox
# (tests/e2e/proc_api.c; the sandbox is deleted by the program, sbxd by
# lib.sh's cleanup).
. "$(dirname "$0")/lib.sh"
start_sbxd

KOYEB_API_HOST=$API KOYEB_API_TOKEN=$TOKEN "$BUILD/tests/e2e/proc_api" >"$T/proc.out" 2>&1
rc=$?
cat "$T/proc.out"
PASS=$((PASS + $(grep -c '^ok - ' "$T/proc.out")))
FAIL=$((FAIL + $(grep -c '^not ok - ' "$T/proc.out")))
check "proc_api ran to its end (exit $rc)" grep -q '^[0-9]* passed, [0-9]* failed$' "$T/proc.out"
finish
