#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Append one section to bench/results.md for a `make bench` run: date, commit, machine, the
# settings, the micro-benchmarks' output and the system benchmark's table (figures, ratios and
# targets met / not met), so that the file keeps the history of every run.
#
#   scripts/bench-record.sh [-m MICRO_LOG] [-t COMPARE_MD] [-n NOTE] [RESULTS_MD]
#
# MICRO_LOG: what the bench_* programs printed; COMPARE_MD: the table scripts/bench.sh wrote
# (BUILD/bench-results/compare.md); NOTE: a line of free text (why the run was short, ...).
# RESULTS_MD defaults to bench/results.md. BENCH_RECORD=0 in the environment turns it off.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
micro="" table="" note=""
while getopts 'm:t:n:' o; do
    case "$o" in
    m) micro=$OPTARG ;;
    t) table=$OPTARG ;;
    n) note=$OPTARG ;;
    *) echo "usage: $0 [-m MICRO_LOG] [-t COMPARE_MD] [-n NOTE] [RESULTS_MD]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
out=${1:-$ROOT/bench/results.md}
[ "${BENCH_RECORD:-1}" = 0 ] && exit 0

commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# a dirty tree is not the commit: say so
if [ "$commit" != unknown ] && [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes)"
fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
[ -n "$cpu" ] || cpu=$(uname -m)

[ -s "$out" ] || {
    echo "# Benchmark results"
    echo
    echo "One section per \`make bench\` run, newest last, appended by scripts/bench-record.sh."
    echo "Absolute figures move with the machine and its load: compare ratios taken in one run."
} >"$out"
{
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
    echo
    echo "Machine: $cpu, $(nproc) cores, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo),"
    echo "kernel $(uname -r)$( [ -r /etc/debian_version ] && echo ", Debian $(cat /etc/debian_version)")."
    settings=""
    for v in BENCH_DURATION BENCH_REPEAT BENCH_ROLES BENCH_SERVERS BENCH_VARIANTS BENCH_RAMP \
        BENCH_RAMP_BUDGET BENCH_RAMP_DUR BENCH_RAMP_START BENCH_RATE_CALL BENCH_RATE_OPTIONS \
        BENCH_RATE_REGISTER BENCH_RATE_LATENCY; do
        [ -n "${!v+x}" ] && settings="$settings${settings:+, }$v=${!v}"
    done
    echo "Settings: ${settings:-the defaults (3 x 10 s per server and scenario, no ramp)}."
    [ -n "$note" ] && echo "$note"
    if [ -n "$micro" ] && [ -s "$micro" ]; then
        echo
        echo "Micro-benchmarks:"
        echo
        echo '```'
        cat "$micro"
        echo '```'
    fi
    if [ -n "$table" ] && [ -s "$table" ]; then
        echo
        echo "System benchmark (server CPU µs per unit, medians; latency in µs; ramp in calls/s):"
        echo
        cat "$table"
    elif [ -n "$table" ]; then
        echo
        echo "System benchmark: no table (it did not run or did not finish)."
    fi
} >>"$out"
echo "bench: results appended to ${out#"$ROOT"/}" >&2
