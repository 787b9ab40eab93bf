#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run every test of a build directory: cmocka unit tests (TAP), then each fuzz target's replay over
# its corpus, the instruction-count check (tests/perf), then the end-to-end suite (tests/e2e).
# Prints failures as they happen and ends with "N passed, M failed[, K skipped]".
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

# Instruction counts per operation (tests/perf, callgrind) against tests/perf/baseline.txt, on the
# build without sanitizers named by SB_PERF_BUILD (`make test` passes `build`).
if [ -z "${SB_PERF_BUILD:-}" ]; then
    echo "skip perf (SB_PERF_BUILD names no plain build; make test sets it)"
    skip=$((skip + 1))
else
    "$ROOT/tests/perf/run.sh" "$SB_PERF_BUILD" >"$log" 2>&1
    case $? in
    0) pass=$((pass + 1)) ;;
    77) skip=$((skip + 1)) ;;
    *) fail=$((fail + 1)) ;;
    esac
    cat "$log"
fi

# End-to-end suite (tests/e2e, pytest): the server binary of this build against sipp and raw
# sockets, in a private network namespace when allowed so that only our loopback traffic exists.
# Counts come from pytest's JUnit XML: a case with a failure or an error counts as failed.
e2e_run() {
    junit=$(mktemp)
    bin="$(cd "$BUILD" && pwd)/switchboard"
    cmd="env COLUMNS=200 PYTHONDONTWRITEBYTECODE=1 /usr/bin/pytest-3 -q -rA -p no:cacheprovider"
    cmd="$cmd --junitxml=$junit $ROOT/tests/e2e"
    if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
        SB_BINARY=$bin timeout 900 unshare -n sh -c "ip link set lo up && $cmd" >"$log" 2>&1
    else
        echo "note: e2e runs without a private network namespace (unshare -n not permitted);" \
            "it uses loopback only"
        SB_BINARY=$bin timeout 900 sh -c "$cmd" >"$log" 2>&1
    fi
    rc=$?
    counts=$(/usr/bin/python3 - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET
p = f = s = 0
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0 1")
    sys.exit()
for case in root.iter("testcase"):
    kinds = {child.tag for child in case}
    if kinds & {"failure", "error"}:
        f += 1
    elif "skipped" in kinds:
        s += 1
    else:
        p += 1
for suite in root.iter("testsuite"):
    if suite.get("errors") and not list(suite.iter("testcase")):
        f += int(suite.get("errors"))
print(p, f, s, 0)
PY
)
    rm -f "$junit"
    set -- $counts
    pass=$((pass + $1))
    fail=$((fail + $2))
    skip=$((skip + $3))
    if [ "$4" -ne 0 ] || { [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; }; then
        fail=$((fail + 1)) # pytest itself failed (collection error, timeout)
        echo "FAIL e2e (pytest exit $rc)"
        tail -n 40 "$log"
    elif [ "$2" -ne 0 ]; then
        echo "FAIL e2e ($1 passed, $2 failed, $3 skipped; files of failed cases in" \
            "$BUILD/e2e-artifacts)"
        grep -E '^(FAILED|ERROR) ' "$log" | head -60
    else
        echo "ok   e2e ($1 passed, $3 skipped)"
    fi
}

if [ "${SB_E2E:-1}" = 0 ]; then
    echo "skip e2e (SB_E2E=0)"
elif [ ! -x "$BUILD/switchboard" ] || [ ! -x /usr/bin/pytest-3 ]; then
    echo "skip e2e (no $BUILD/switchboard or /usr/bin/pytest-3)"
    skip=$((skip + 1))
else
    e2e_run
fi

if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
