#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run every test of a build directory: cmocka unit tests (TAP), then each fuzz target's replay over
# its corpus. Prints failures as they happen and ends with "N passed, M failed[, K skipped]".
set -u
BUILD=${1:-build-test}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
pass=0
fail=0
skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "$BUILD"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" >"$log" 2>&1
    rc=$?
    ok=$(grep -c '^ok ' "$log")
    nok=$(grep -c '^not ok ' "$log")
    sk=$(grep -c '^ok .*# SKIP' "$log")
    nsk=$(grep -c '^not ok .*# SKIP' "$log")
    ok=$((ok - sk))
    nok=$((nok - nsk))
    sk=$((sk + nsk))
    pass=$((pass + ok))
    skip=$((skip + sk))
    fail=$((fail + nok))
    if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
        fail=$((fail + 1)) # crashed or sanitizer report outside a test
    fi
    if [ "$rc" -ne 0 ] || [ "$nok" -ne 0 ]; then
        echo "FAIL $name (exit $rc)"
        grep -v '^ok ' "$log" | head -60
    else
        echo "ok   $name ($ok)"
    fi
done

for r in "$BUILD"/fuzz_*_replay; do
    [ -x "$r" ] || continue
    name=$(basename "$r" _replay)
    dir="$ROOT/fuzz/corpus/${name#fuzz_}"
    if [ ! -d "$dir" ]; then
        echo "skip $name (no corpus)"
        skip=$((skip + 1))
        continue
    fi
    if timeout 600 "$r" "$dir" >"$log" 2>&1; then
        echo "ok   $name replay ($(tail -n 1 "$log"))"
        pass=$((pass + 1))
    else
        echo "FAIL $name replay"
        tail -n 40 "$log"
        fail=$((fail + 1))
    fi
done

if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
