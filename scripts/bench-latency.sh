#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs a command (the harness's latency runs) while dumpcap records, on lo, the INVITEs and
# 100 Trying to and from the proxy port, then computes per call INVITE in -> 100 out and
# INVITE in -> INVITE out in microseconds (scripts/bench-latency.py).
#
#   scripts/bench-latency.sh -p PROXY_PORT -o DIR [-l LABEL] [-t MAX_SECONDS] -- COMMAND...
#
# Writes DIR/latency.csv (one row per sipp run, then the medians), DIR/latency.txt (the table and
# the slowest calls) and DIR/dumpcap.log. The capture is deleted after the analysis unless
# BENCH_LATENCY_KEEP=1 (then DIR/latency.pcap). BENCH_LATENCY_ALL=1 records every packet of the
# proxy port instead of INVITEs and 100s only: more capture work, but latency.txt then tells, for
# the 100s over 1 ms, whether the proxy was busy with other messages or silent meanwhile.
# The exit status is the command's; 3 when the capture failed.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port="" dir="" label="" maxs=3600
while getopts p:o:l:t: o; do
    case "$o" in
    p) port=$OPTARG ;;
    o) dir=$OPTARG ;;
    l) label=$OPTARG ;;
    t) maxs=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
[ -n "$port" ] && [ -n "$dir" ] && [ $# -gt 0 ] || {
    echo "usage: $0 -p PROXY_PORT -o DIR [-l LABEL] [-t MAX_SECONDS] -- COMMAND..." >&2
    exit 2
}
if ! command -v dumpcap >/dev/null; then
    echo "bench-latency: dumpcap missing (apt-get install tshark)" >&2
    exit 3
fi
mkdir -p "$dir" || exit 2
pcap="$dir/latency.pcap"
rm -f "$pcap" "$dir/latency.csv" "$dir/latency.txt"

# The BPF program keeps UDP to or from the port whose payload starts with "INVI" or with
# "SIP/2.0 100 ": 4 packets per call instead of 14, so the capture costs the box little.
filter="udp port $port"
explain=(--explain 1000)
if [ "${BENCH_LATENCY_ALL:-0}" != 1 ]; then
    invite="udp[8:4] = 0x494e5649"
    trying="udp[8:4] = 0x5349502f and udp[16:4] = 0x31303020"
    filter="$filter and ($invite or ($trying))"
    explain=()
fi

# pcap (not pcapng): microsecond kernel timestamps; a 64 MiB ring so that nothing is dropped
# while dumpcap waits for the CPU; bounded in time and size.
dumpcap -i lo -f "$filter" -P -s 2048 -B 64 -w "$pcap" -a "duration:$maxs" -a filesize:2000000 \
    >"$dir/dumpcap.log" 2>&1 </dev/null &
cap=$!
trap 'kill -TERM "$cap" 2>/dev/null' EXIT
ready=0
for ((i = 0; i < 100; i++)); do
    grep -q "^Capturing on" "$dir/dumpcap.log" 2>/dev/null && { ready=1; break; }
    kill -0 "$cap" 2>/dev/null || break
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    echo "bench-latency: dumpcap did not start, see $dir/dumpcap.log" >&2
    kill -KILL "$cap" 2>/dev/null
    wait "$cap" 2>/dev/null
    "$@"
    exit 3
fi

"$@"
rc=$?

kill -TERM "$cap" 2>/dev/null
for ((i = 0; i < 50; i++)); do
    kill -0 "$cap" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$cap" 2>/dev/null && kill -KILL "$cap" 2>/dev/null
wait "$cap" 2>/dev/null

dropped=$(sed -n 's#^Packets received/dropped on .*: [0-9]*/\([0-9]*\) .*#\1#p' "$dir/dumpcap.log")
/usr/bin/python3 "$ROOT/scripts/bench-latency.py" "$pcap" --proxy-port "$port" \
    --label "${label:-proxy}" --csv "$dir/latency.csv" --slow 5 \
    "${explain[@]}" >"$dir/latency.txt" 2>&1
st=$?
echo "capture: $(stat -c %s "$pcap" 2>/dev/null) bytes, dropped: ${dropped:-unknown}" \
    >>"$dir/latency.txt"
if [ "$st" != 0 ]; then
    echo "bench-latency: no latency figures, see $dir/latency.txt" >&2
    [ "$rc" = 0 ] && rc=3
fi
[ "${BENCH_LATENCY_KEEP:-0}" = 1 ] || rm -f "$pcap"
exit "$rc"
