#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Soak test of `make soak`: the stateful bench config (bench/stateful.cfg) under a mixed sipp load
# -- calls through the proxy to a registered UAS, REGISTERs of 10,000 users (refreshed over and
# over) and OPTIONS keep-alives -- for BENCH_SOAK_MINUTES after a warm-up. The server's RSS is
# sampled every BENCH_SOAK_INTERVAL seconds after the warm-up; the drift of the maximum and of the
# last sample over the first one must stay within BENCH_SOAK_LIMIT percent, else it fails.
#
#   scripts/bench-soak.sh [BUILD_DIR]         (default: build; the binary is BUILD_DIR/switchboard)
#
#   BENCH_SOAK_MINUTES   measured minutes after the warm-up                         10
#   BENCH_SOAK_WARMUP    warm-up seconds (every user registered, pools filled)       60
#   BENCH_SOAK_INTERVAL  seconds between RSS samples                                 10
#   BENCH_SOAK_LIMIT     allowed drift in percent                                    2
#   BENCH_SOAK_RATE_CALL / _REGISTER / _OPTIONS   offered load per second      200 / 500 / 500
#   BENCH_PORT           first proxy port tried (UAS on +20)                         5162
#   BENCH_OUT            results: BUILD_DIR/bench-results/soak (rss.csv, sipp logs, server log)
#   BENCH_DIR            the shared harness, for its sipp scenarios                  ../shared/bench
#
# Every sipp is bounded by a call count (-m) and timeout(1); only the PIDs started here are
# signalled. Traffic stays on 127.0.0.1.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "soak: no build dir ${1:-build}" >&2; exit 2; }
SB="$BUILD/switchboard"
SCEN=$(cd "${BENCH_DIR:-$ROOT/../shared/bench}/scenarios" 2>/dev/null && pwd) || {
    echo "soak: the shared harness's scenarios are missing (BENCH_DIR)" >&2
    exit 2
}
MINUTES=${BENCH_SOAK_MINUTES:-10}
WARMUP=${BENCH_SOAK_WARMUP:-60}
INTERVAL=${BENCH_SOAK_INTERVAL:-10}
LIMIT=${BENCH_SOAK_LIMIT:-2}
R_CALL=${BENCH_SOAK_RATE_CALL:-200}
R_REG=${BENCH_SOAK_RATE_REGISTER:-500}
R_OPT=${BENCH_SOAK_RATE_OPTIONS:-500}
OUT=${BENCH_OUT:-$BUILD/bench-results}/soak

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 2; }

[ -x "$SB" ] || die "$SB not built (make build)"
command -v sipp >/dev/null || die "sipp missing (scripts/deps.sh bench)"
rm -rf "$OUT"
mkdir -p "$OUT" || die "cannot create $OUT"

udp_busy() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }
port=${BENCH_PORT:-5162}
for ((i = 0; i < 200; i++, port++)); do
    udp_busy "$port" || udp_busy $((port + 20)) || break
done
((i < 200)) || die "no free ports from ${BENCH_PORT:-5162}"
PORT=$port UAS_PORT=$((port + 20))

RUNDIR=$(mktemp -d /tmp/sb-soak.XXXXXX) || die "mktemp"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$RUNDIR"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

sed -e "s/__PORT__/$PORT/g" -e "s/__UASPORT__/$UAS_PORT/g" -e "s#__RUNDIR__#$RUNDIR#g" \
    -e "s#__MPATH__#$BUILD#g" "$ROOT/bench/stateful.cfg" >"$RUNDIR/stateful.cfg" || die "config"
if ! "$SB" -c -f "$RUNDIR/stateful.cfg" >"$OUT/check.log" 2>&1; then
    cat "$OUT/check.log" >&2
    die "bench/stateful.cfg does not pass -c"
fi

TOTAL=$((WARMUP + MINUTES * 60))
"$SB" -F -E -f "$RUNDIR/stateful.cfg" >"$OUT/server.log" 2>&1 </dev/null &
SPID=$!
PIDS+=("$SPID")
for ((i = 0; i < 100; i++)); do udp_busy "$PORT" && break; sleep 0.1; done
udp_busy "$PORT" || die "the server did not bind $PORT (see $OUT/server.log)"

SIPP_COMMON=(-i 127.0.0.1 -nostdin -buff_size 2097152 -recv_timeout 10000 -max_recv_loops 10000
    -max_sched_loops 10000)
# the UAS answers the calls; it outlives the load by the hold time and a margin
(cd "$OUT" && exec timeout -k 5 $((TOTAL + 60)) sipp -sf "$SCEN/uas_call.xml" -p "$UAS_PORT" -s uas \
    "${SIPP_COMMON[@]}" >uas.out 2>&1 </dev/null) &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do udp_busy "$UAS_PORT" && break; sleep 0.1; done
(cd "$OUT" && timeout -k 2 20 sipp "127.0.0.1:$PORT" -sf "$SCEN/register_uas.xml" -i 127.0.0.1 -s uas \
    -key uas_host 127.0.0.1 -key uas_port "$UAS_PORT" -m 1 -nostdin -recv_timeout 5000 \
    >reg_uas.out 2>&1 </dev/null) || die "registering the UAS failed (see $OUT/reg_uas.out)"

{
    echo SEQUENTIAL
    awk 'BEGIN { for (i = 1; i <= 10000; i++) printf "user%05d;\n", i }'
} >"$RUNDIR/users.csv"

load() { # name rate scenario-file extra-args...
    local name=$1 rate=$2 xml=$3
    shift 3
    (cd "$OUT" && exec timeout -k 5 $((TOTAL + 40)) sipp "127.0.0.1:$PORT" -sf "$xml" -s uas \
        -r "$rate" -m $((rate * TOTAL)) "${SIPP_COMMON[@]}" -trace_stat -stf "$name.stat.csv" \
        -fd 10 -trace_err -error_file "$name.errors.log" "$@" >"$name.out" 2>&1 </dev/null) &
    PIDS+=($!)
}
log "server pid $SPID on 127.0.0.1:$PORT; results in $OUT"
log "load: $R_CALL calls/s (1 s hold), $R_REG REGISTER/s, $R_OPT OPTIONS/s for ${TOTAL}s (warm-up ${WARMUP}s)"
load calls "$R_CALL" "$SCEN/uac_call.xml" -d 1000 -pause_msg_ign
load register "$R_REG" "$SCEN/uac_register.xml" -inf "$RUNDIR/users.csv"
load options "$R_OPT" "$ROOT/bench/scenarios/uac_options_keepalive.xml"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
sleep "$WARMUP"
echo "t_s,rss_kb" >"$OUT/rss.csv"
start=$SECONDS
while ((SECONDS - start <= MINUTES * 60)); do
    r=$(rss_kb "$SPID")
    [ -n "$r" ] || die "the server exited during the soak (see $OUT/server.log)"
    echo "$((SECONDS - start)),$r" >>"$OUT/rss.csv"
    ((SECONDS - start + INTERVAL > MINUTES * 60)) && break
    sleep "$INTERVAL"
done

# sipp's cumulative counters at the last 10 s statistics line: created, successful, failed
counts() {
    awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        { n = $c["TotalCallCreated"]; s = $c["SuccessfulCall(C)"]; f = $c["FailedCall(C)"] }
        END { printf "%d created, %d ok, %d failed", n, s, f }' "$OUT/$1.stat.csv" 2>/dev/null
}
for n in calls register options; do log "$n: $(counts "$n")"; done

awk -F, -v lim="$LIMIT" -v warm="$WARMUP" 'NR == 2 { base = $2 } NR > 1 { if ($2 > max) max = $2; last = $2; n++ }
    END {
        if (n < 2) { print "soak: too few samples"; exit 2 }
        dmax = 100 * (max - base) / base; dlast = 100 * (last - base) / base;
        ok = (dmax <= lim && dlast <= lim);
        printf "soak: RSS after %d s warm-up %d kB; max %d kB (%+.2f %%), last %d kB (%+.2f %%) over %d samples: %s (limit %s %%)\n",
            warm, base, max, dmax, last, dlast, n, ok ? "met" : "not met", lim;
        exit ok ? 0 : 1
    }' "$OUT/rss.csv" | tee "$OUT/result.txt"
rc=${PIPESTATUS[0]}
log "samples: $OUT/rss.csv"
exit "$rc"
