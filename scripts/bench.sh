#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# System benchmark of `make bench`: Switchboard, Kamailio (fm allocator) and the null UDP relay
# driven by sipp through ../shared/bench/run.sh in one run, then a table of server CPU per unit and
# the ratios against the targets of bench/README.md.
#
#   scripts/bench.sh [BUILD_DIR]          (default: build; the binary is BUILD_DIR/switchboard)
#
# Environment knobs (defaults keep the whole run under ~10 minutes):
#   BENCH_DIR        the shared harness                     ../shared/bench
#   BENCH_OUT        results                                BUILD_DIR/bench-results
#   BENCH_ROLES      "stateless stateful"; stateful runs only when bench/stateful.cfg passes -c
#   BENCH_SERVERS    labels to run (default: all), e.g. "sb-stateless nullrelay"
#   BENCH_DURATION   seconds of load per run                10
#   BENCH_REPEAT     runs per server and scenario (medians) 3
#   BENCH_RATE_CALL / BENCH_RATE_OPTIONS / BENCH_RATE_REGISTER   500 / 2000 / 2000 per second
#   BENCH_PORT       first proxy port tried                 5162 (UAS on +20, kamcmd on +30)
#   BENCH_NO_DEPS=1  do not call scripts/deps.sh bench
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "bench: no build dir ${1:-build}" >&2; exit 2; }
SB="$BUILD/switchboard"
BENCH_DIR=$(cd "${BENCH_DIR:-$ROOT/../shared/bench}" 2>/dev/null && pwd) || {
    echo "bench: the shared harness is missing (BENCH_DIR)" >&2
    exit 2
}
OUT=${BENCH_OUT:-$BUILD/bench-results}
ROLES=${BENCH_ROLES:-stateless stateful}
DUR=${BENCH_DURATION:-10}
REP=${BENCH_REPEAT:-3}
RATE_CALL=${BENCH_RATE_CALL:-500}
RATE_OPTIONS=${BENCH_RATE_OPTIONS:-2000}
RATE_REGISTER=${BENCH_RATE_REGISTER:-2000}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 2; }

[ -x "$SB" ] || die "$SB not built (make build)"
[ -x "$BENCH_DIR/run.sh" ] || die "$BENCH_DIR/run.sh missing"
if [ "${BENCH_NO_DEPS:-0}" != 1 ]; then
    "$ROOT/scripts/deps.sh" bench || die "cannot install kamailio / sipp (scripts/deps.sh bench)"
fi
command -v sipp >/dev/null || die "sipp missing"
command -v kamailio >/dev/null || die "kamailio missing"
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)

# The relay is built here, never inside the shared harness: its own Makefile, run from our dir.
mkdir -p "$OUT/nullrelay"
make -s -C "$OUT/nullrelay" -f "$BENCH_DIR/nullrelay/Makefile" VPATH="$BENCH_DIR/nullrelay" nullrelay ||
    die "cannot build the null relay"
NULLRELAY="$OUT/nullrelay/nullrelay"

# ---- ports: a proxy port with its UAS (+20) and kamcmd (+30) ports free on loopback
udp_busy() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }
tcp_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
port=${BENCH_PORT:-5162}
for ((i = 0; i < 200; i++, port++)); do
    udp_busy "$port" || udp_busy $((port + 20)) || tcp_busy $((port + 30)) || break
done
((i < 200)) || die "no free ports from ${BENCH_PORT:-5162}"
PROXY_PORT=$port UAS_PORT=$((port + 20)) CTL_PORT=$((port + 30))
PORTS=(--proxy-port "$PROXY_PORT" --uas-port "$UAS_PORT" --ctl-port "$CTL_PORT")

# ---- configs: the placeholders filled in, in a private run directory
RUNDIR=$(mktemp -d /tmp/sb-bench.XXXXXX) || die "mktemp"
trap 'rm -rf "$RUNDIR"' EXIT
for role in stateless stateful; do
    sed -e "s/__PORT__/$PROXY_PORT/g" -e "s/__UASPORT__/$UAS_PORT/g" -e "s#__RUNDIR__#$RUNDIR#g" \
        -e "s#__MPATH__#$BUILD#g" "$ROOT/bench/$role.cfg" >"$RUNDIR/$role.cfg" || die "bench/$role.cfg"
done

KAM="kamailio -DD -E -m 1024 -M 8 -x fm -X fm -A LISTEN=udp:@HOST@:@PROXY_PORT@"
KAM="$KAM -A 'CTLSOCK=\"tcp:@HOST@:@CTL_PORT@\"'"
KAMQ="kamcmd -s tcp:@HOST@:@CTL_PORT@ core.shmmem; kamcmd -s tcp:@HOST@:@CTL_PORT@ stats.get_statistics registered_users"

# label|role|server command|query|scenarios
SERVERS=(
    "sb-stateless|stateless|$SB -F -E -f $RUNDIR/stateless.cfg||options call-static"
    "kam-stateless-fm|stateless|$KAM -f @BENCH@/kamailio/stateless.cfg -A WORKERS=2 -A UAS_PORT=@UAS_PORT@|$KAMQ|options call-static"
    "nullrelay|stateless|$NULLRELAY -l @HOST@:@PROXY_PORT@ -p @HOST@:@UAS_PORT@ -T 3600||options call-static"
    "sb-stateful|stateful|$SB -F -E -f $RUNDIR/stateful.cfg||register call"
    "kam-stateful-fm|stateful|$KAM -f @BENCH@/kamailio/stateful.cfg -A WORKERS=2|$KAMQ|register call"
)

want_role() { [[ " $ROLES " == *" $1 "* ]]; }
if want_role stateful && ! "$SB" -c -f "$RUNDIR/stateful.cfg" >"$RUNDIR/stateful.check" 2>&1; then
    log "bench/stateful.cfg does not pass 'switchboard -c' yet; the stateful role is skipped:"
    grep -c error "$RUNDIR/stateful.check" | sed "s/$/ errors, first:/" >&2; grep -m5 error "$RUNDIR/stateful.check" >&2
    ROLES=${ROLES//stateful/}
fi
want_role stateless && ! "$SB" -c -f "$RUNDIR/stateless.cfg" >"$RUNDIR/stateless.check" 2>&1 && {
    cat "$RUNDIR/stateless.check" >&2
    die "bench/stateless.cfg does not pass 'switchboard -c'"
}

rate_of() {
    case "$1" in
    register) echo "$RATE_REGISTER" ;;
    call | call-static) echo "$RATE_CALL" ;;
    options) echo "$RATE_OPTIONS" ;;
    esac
}

log "ports $PROXY_PORT/$UAS_PORT/$CTL_PORT, $REP x ${DUR}s per scenario, roles: ${ROLES:-none}, results in $OUT"
# Scenario-major order: the servers compared in a scenario run close together in time.
for scen in options call-static register call; do
    for entry in "${SERVERS[@]}"; do
        IFS='|' read -r label role cmd query scens <<<"$entry"
        want_role "$role" || continue
        [[ " $scens " == *" $scen "* ]] || continue
        if [ -n "${BENCH_SERVERS:-}" ] && [[ " $BENCH_SERVERS " != *" $label "* ]]; then continue; fi
        dir="$OUT/$label"
        mkdir -p "$dir"
        # each scenario of a label starts from clean figures; other scenarios' lines are kept
        # only when they come from this same invocation
        if [ ! -e "$RUNDIR/started-$label" ]; then
            rm -f "$dir/runs.csv" "$dir/summary.csv" "$dir/summary.md" "$dir/meta.txt"
            : >"$RUNDIR/started-$label"
        fi
        log "$label $scen"
        "$BENCH_DIR/run.sh" -s "$cmd" -n "$label" ${query:+-q "$query"} "${PORTS[@]}" -o "$dir" \
            -r "$(rate_of "$scen")" -d "$DUR" -k "$REP" "$scen" >"$dir/run-$scen.log" 2>&1 ||
            log "$label $scen: run.sh failed, see $dir/run-$scen.log"
    done
done

# ---- the table: server CPU us per unit, ratios, failures
# summary.csv columns: 1 label, 2 scenario, 10 failed, 14 achieved_rate, 16 server_us_per_call,
# 25 pss_sum_kb, 32 rt1_p99_ms
fig() { # label scenario column
    [ -s "$OUT/$1/summary.csv" ] || { echo NA; return; }
    awk -F, -v s="$2" -v c="$3" 'NR > 1 && $2 == s { v = $c } END { print (v == "" ? "NA" : v) }' \
        "$OUT/$1/summary.csv"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.2f", a / b }'; }
verdict() { # ratio target
    awk -v r="$1" -v t="$2" 'BEGIN { if (r == "NA") print "-"; else print (r + 0 <= t + 0 ? "met" : "not met") }'
}

CMP="$OUT/compare.csv"
echo "scenario,role,switchboard_us,nullrelay_us,kamailio_us,sb_over_null,sb_over_kam,sb_failed,null_failed,kam_failed,sb_pss_kb,kam_pss_kb,sb_rt1_p99_ms,kam_rt1_p99_ms" >"$CMP"
status=0
{
    echo "Server CPU µs per unit (medians of $REP x ${DUR}s; $(date -u +%Y-%m-%d) on $(nproc) CPUs, $(uname -r))"
    printf '%-12s %9s %9s %9s %9s %9s %7s %7s %7s  %s\n' scenario switchbd nullrelay kamailio \
        sb/null sb/kam "fail:sb" null kam targets
    for scen in options call-static register call; do
        case "$scen" in
        options | call-static) role=stateless sbl=sb-stateless kl=kam-stateless-fm nl=nullrelay ;;
        *) role=stateful sbl=sb-stateful kl=kam-stateful-fm nl="" ;;
        esac
        want_role "$role" || continue
        s=$(fig "$sbl" "$scen" 16) k=$(fig "$kl" "$scen" 16) n=NA
        [ -n "$nl" ] && n=$(fig "$nl" "$scen" 16)
        rn=$(ratio "$s" "$n") rk=$(ratio "$s" "$k")
        fs=$(fig "$sbl" "$scen" 10) fk=$(fig "$kl" "$scen" 10) fn=NA
        [ -n "$nl" ] && fn=$(fig "$nl" "$scen" 10)
        if [ "$role" = stateless ]; then
            tg="sb/null<=1.5 $(verdict "$rn" 1.5), <=1.3 $(verdict "$rn" 1.3); sb<kam $(verdict "$rk" 0.9999)"
        else
            tg="sb/kam<=0.5 $(verdict "$rk" 0.5)"
        fi
        [ "$s" = NA ] && status=1
        printf '%-12s %9s %9s %9s %9s %9s %7s %7s %7s  %s\n' "$scen" "$s" "$n" "$k" "$rn" "$rk" "$fs" "$fn" "$fk" "$tg"
        echo "$scen,$role,$s,$n,$k,$rn,$rk,$fs,$fn,$fk,$(fig "$sbl" "$scen" 25),$(fig "$kl" "$scen" 25),$(fig "$sbl" "$scen" 32),$(fig "$kl" "$scen" 32)" >>"$CMP"
    done
} >"$OUT/compare.txt"
cat "$OUT/compare.txt"
log "per-server tables: $OUT/<label>/summary.md; this table: $OUT/compare.txt and compare.csv"
exit $status
