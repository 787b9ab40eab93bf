#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ThreadSanitizer pass over the threaded paths (make tsan): the unit tests that run threads, then
# a short end-to-end subset with two workers, against a -DSB_TSAN=ON build. Reports do not stop
# a run (halt_on_error=0): every log is kept in <build>/tsan-reports (unit tests) and
# <build>/e2e-artifacts (servers that reported), and the distinct races are listed at the end.
set -u
BUILD=${1:-build-tsan}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPORTS="$BUILD/tsan-reports"
UNITS=${SB_TSAN_UNITS:-"test_loop test_stats test_runtime test_tp test_udp_batch test_dns \
test_usrloc test_db_sqlite test_mi test_mi_async test_evi test_tx test_auth test_registrar test_fwd \
test_sl"}
# test_mi_tm.py: asynchronous MI (HTTP suspend/resume, FIFO reply queue, t_uac_cancel), ~25 s
E2E=${SB_TSAN_E2E:-"test_tm.py test_mi.py test_mi_tm.py test_registrar.py test_stateless.py"}

# Third-party code only in the suppressions file (tests/tsan.supp says why for each entry).
supp=""
[ -f "$ROOT/tests/tsan.supp" ] && supp=" suppressions=$ROOT/tests/tsan.supp"
export TSAN_OPTIONS=${TSAN_OPTIONS:-"halt_on_error=0 second_deadlock_stack=1$supp"}

rm -rf "$REPORTS" "$BUILD/e2e-artifacts"
mkdir -p "$REPORTS"
fail=0
for name in $UNITS; do
    t="$BUILD/$name"
    [ -x "$t" ] || { echo "skip $name (not built)"; continue; }
    log="$REPORTS/$name.log"
    CMOCKA_MESSAGE_OUTPUT=TAP timeout 600 "$t" >"$log" 2>&1
    rc=$?
    nok=$(grep -c '^not ok ' "$log")
    races=$(grep -c '^WARNING: ThreadSanitizer' "$log")
    if [ "$rc" -ne 0 ] || [ "$nok" -ne 0 ] || [ "$races" -ne 0 ]; then
        echo "FAIL $name (exit $rc, $nok failed, $races reports)"
        fail=$((fail + 1))
    else
        echo "ok   $name"
    fi
done

if [ "${SB_E2E:-1}" = 0 ] || [ ! -x /usr/bin/pytest-3 ] || [ ! -x "$BUILD/switchboard" ]; then
    echo "skip e2e"
else
    files=""
    for f in $E2E; do files="$files $ROOT/tests/e2e/$f"; done
    bin="$(cd "$BUILD" && pwd)/switchboard"
    cmd="env COLUMNS=200 PYTHONDONTWRITEBYTECODE=1 /usr/bin/pytest-3 -q -rf -p no:cacheprovider"
    cmd="$cmd $files"
    log="$REPORTS/e2e.log"
    # the harness fails a case whose server log holds a ThreadSanitizer report
    if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
        SB_BINARY=$bin SB_E2E_WORKERS=2 timeout 1800 unshare -n sh -c "ip link set lo up && $cmd" \
            >"$log" 2>&1
    else
        SB_BINARY=$bin SB_E2E_WORKERS=2 timeout 1800 sh -c "$cmd" >"$log" 2>&1
    fi
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL e2e (pytest exit $rc; $log, $BUILD/e2e-artifacts)"
        grep -E '^(FAILED|ERROR) ' "$log" | head -40
        fail=$((fail + 1))
    else
        echo "ok   e2e ($(tail -n 1 "$log"))"
    fi
fi

# One line per distinct race (by the SUMMARY line: first frame's file:line and function).
sums=$( { cat "$REPORTS"/*.log; find "$BUILD/e2e-artifacts" -name '*.log' -exec cat {} + \
    2>/dev/null; } | grep '^SUMMARY: ThreadSanitizer' | sort | uniq -c | sort -rn)
if [ -n "$sums" ]; then
    echo "ThreadSanitizer reports (count, summary):"
    echo "$sums"
else
    echo "no ThreadSanitizer reports"
fi
[ "$fail" -eq 0 ] && [ -z "$sums" ]
