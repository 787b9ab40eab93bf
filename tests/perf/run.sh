#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Instruction-count check of `make test`: builds tests/perf/perf_driver.c against the core library
# of a build without sanitizers, runs it under valgrind --tool=callgrind and compares the
# instructions per operation of each phase (parse, script, relay) with tests/perf/baseline.txt.
# Instruction counts repeat on a busy machine, unlike wall time; a phase fails above
# SB_PERF_TOLERANCE (1.5) times its baseline, which only a gross regression reaches.
#
#   tests/perf/run.sh BUILD_DIR     (BUILD_DIR/libsbcore.a; `make build` makes one)
#
# Exit 0: every phase within the tolerance; 1: a phase over it, or the driver failed its own
# checks; 77: skipped (valgrind missing, or a sanitizer build), with the reason on stdout.
# SB_PERF_UPDATE=1 rewrites the baseline with the figures of this run (see tests/perf/README.md).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
BASE=${SB_PERF_BASELINE:-$ROOT/tests/perf/baseline.txt}
TOL=${SB_PERF_TOLERANCE:-1.5}

if ! command -v valgrind >/dev/null 2>&1 || [ ! -r /usr/include/valgrind/callgrind.h ]; then
    echo "skip perf: valgrind is not installed (scripts/deps.sh installs it)"
    exit 77
fi
if [ ! -f "$BUILD/libsbcore.a" ]; then
    echo "skip perf: no $BUILD/libsbcore.a (build the core library without sanitizers first)"
    exit 77
fi
if grep -Eq '^SB_(SANITIZE|TSAN|FUZZ):BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "skip perf: $BUILD is a sanitizer build; instruction counts need a plain one"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
libs=$(pkg-config --libs libpcre2-8 libcrypto libcares jansson libmicrohttpd sqlite3 libpq) || {
    echo "FAIL perf: pkg-config cannot name the libraries of the core"
    exit 1
}
# shellcheck disable=SC2086
if ! cc -std=gnu17 -O2 -g -D_GNU_SOURCE -DSB_VERSION='"perf"' -I"$ROOT/include" -I"$ROOT/src/core" \
    -Wall -Wextra -Werror -o "$tmp/perf_driver" "$ROOT/tests/perf/perf_driver.c" \
    "$BUILD/libsbcore.a" $libs -lpthread -lm >"$tmp/cc.log" 2>&1; then
    echo "FAIL perf: the driver does not build"
    head -30 "$tmp/cc.log"
    exit 1
fi

if ! timeout 120 valgrind --tool=callgrind --collect-atstart=no --dump-instr=no \
    --callgrind-out-file="$tmp/cg.%p" "$tmp/perf_driver" >"$tmp/ops.txt" 2>"$tmp/vg.log"; then
    echo "FAIL perf: the driver failed under callgrind"
    grep -v '^==' "$tmp/vg.log" | head -20
    tail -5 "$tmp/vg.log"
    exit 1
fi

# one dump per phase: "desc: Trigger: Client Request: NAME" and its "totals:"/"summary:" line
for f in "$tmp"/cg.*; do
    awk '/^desc: Trigger: Client Request: / { name = $NF }
        /^(totals|summary): / { n = $2 }
        END { if (name != "") print name, n }' "$f"
done | sort >"$tmp/counts.txt"

# instructions per operation: counts / operations the driver reports
awk 'NR == FNR { ops[$1] = $2; next } ($1 in ops) && ops[$1] > 0 { printf "%s %.0f\n", $1, $2 / ops[$1] }' \
    "$tmp/ops.txt" "$tmp/counts.txt" >"$tmp/per_op.txt"
if [ "$(wc -l <"$tmp/per_op.txt")" -ne "$(wc -l <"$tmp/ops.txt")" ] || [ ! -s "$tmp/per_op.txt" ]; then
    echo "FAIL perf: callgrind's dumps do not match the driver's phases"
    cat "$tmp/ops.txt" "$tmp/counts.txt"
    exit 1
fi

if [ "${SB_PERF_UPDATE:-0}" = 1 ]; then
    {
        echo "# Instructions per operation of tests/perf/perf_driver.c under callgrind (tests/perf/run.sh)."
        echo "# $(date -u +%Y-%m-%d), $(cc --version | head -1), valgrind $(valgrind --version | sed 's/valgrind-//')."
        echo "# Regenerate: SB_PERF_UPDATE=1 tests/perf/run.sh build (see tests/perf/README.md)."
        cat "$tmp/per_op.txt"
    } >"$BASE"
    echo "perf: baseline written to $BASE"
    cat "$tmp/per_op.txt"
    exit 0
fi

[ -r "$BASE" ] || { echo "FAIL perf: no baseline $BASE (SB_PERF_UPDATE=1 makes one)"; exit 1; }
awk -v tol="$TOL" 'NR == FNR { if ($0 !~ /^#/ && NF == 2) base[$1] = $2; next }
    {
        b = base[$1];
        if (b == "") { printf "  %-7s %10d instr/op   (no baseline)\n", $1, $2; next }
        r = $2 / b;
        st = r > tol ? "OVER" : (r < 1 / tol ? "under: update the baseline?" : "ok");
        printf "  %-7s %10d instr/op   baseline %10d   x%.2f  %s\n", $1, $2, b, r, st;
        if (r > tol) bad++;
    }
    END { exit bad ? 1 : 0 }' "$BASE" "$tmp/per_op.txt" >"$tmp/report.txt"
rc=$?
if [ "$rc" -eq 0 ]; then
    echo "ok   perf (instructions per operation, callgrind; fail above x$TOL)"
else
    echo "FAIL perf (instructions per operation above x$TOL of tests/perf/baseline.txt)"
fi
cat "$tmp/report.txt"
exit "$rc"
