#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run every libFuzzer target of a build directory for SECONDS each, over a temporary copy of its
# corpus (the committed corpus never grows by itself). Crash inputs land in fuzz/artifacts/.
# Usage: fuzz/run.sh BUILD_DIR SECONDS. Exits non-zero when a target crashed or would not run.
set -u
BUILD=${1:-build-fuzz}
SECS=${2:-30}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ART="$ROOT/fuzz/artifacts"
mkdir -p "$ART"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# halt on the first UBSan report too, so that undefined behaviour counts as a crash
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

ran=0
bad=0
for bin in "$BUILD"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    case "$bin" in *_replay) continue ;; esac
    name=$(basename "$bin")
    corpus="$ROOT/fuzz/corpus/${name#fuzz_}"
    dir="$work/$name"
    mkdir -p "$dir"
    [ -d "$corpus" ] && cp -R "$corpus/." "$dir/"
    set -- -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$ART/$name-"
    [ -f "$ROOT/fuzz/$name.dict" ] && set -- "$@" -dict="$ROOT/fuzz/$name.dict"
    log="$work/$name.log"
    "$bin" "$@" "$dir" >"$log" 2>&1
    rc=$?
    ran=$((ran + 1))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "ok   $name (${execs:-?} runs, ${cov:-cov: ?}, $(find "$dir" -type f | wc -l) inputs)"
    else
        bad=$((bad + 1))
        echo "FAIL $name (exit $rc)"
        grep -E 'ERROR|SUMMARY|check failed|runtime error|Test unit written|^ *#[0-9]+ ' "$log" |
            head -n 40
    fi
done

if [ "$ran" -eq 0 ]; then
    echo "fuzz: no fuzz_* targets in $BUILD"
    exit 1
fi
echo "fuzz: $ran targets, $bad failed"
[ "$bad" -eq 0 ]
