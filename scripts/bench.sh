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
#   BENCH_VARIANTS   stateful-role extras: "reg-writeback reg-auth latency" (all by default)
#   BENCH_RATE_LATENCY  calls/s of the latency runs (INVITE -> 100 Trying)  1000; these runs
#                    alone are recorded on lo (dumpcap, scripts/bench-latency.sh) for µs figures
#   BENCH_RAMP=1     also search the highest sustainable call rate (harness --ramp) of the stateful
#                    config, Switchboard then Kamailio; BENCH_ROLES="" BENCH_RAMP=1 runs it alone
#   BENCH_RAMP_BUDGET  seconds per server search (both < 12 min together)   300
#   BENCH_RAMP_START / BENCH_RAMP_DUR / BENCH_RAMP_MAX  first probe, seconds per probe, cap
#                                                           500 / 10 / 20000
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "bench: no build dir ${1:-build}" >&2; exit 2; }
SB="$BUILD/switchboard"
BENCH_DIR=$(cd "${BENCH_DIR:-$ROOT/../shared/bench}" 2>/dev/null && pwd) || {
    echo "bench: the shared harness is missing (BENCH_DIR)" >&2
    exit 2
}
OUT=${BENCH_OUT:-$BUILD/bench-results}
ROLES=${BENCH_ROLES-stateless stateful}
VARIANTS=${BENCH_VARIANTS-reg-writeback reg-auth latency}
DUR=${BENCH_DURATION:-10}
REP=${BENCH_REPEAT:-3}
RATE_CALL=${BENCH_RATE_CALL:-500}
RATE_OPTIONS=${BENCH_RATE_OPTIONS:-2000}
RATE_REGISTER=${BENCH_RATE_REGISTER:-2000}
RATE_LATENCY=${BENCH_RATE_LATENCY:-1000}
RAMP=${BENCH_RAMP:-0}
RAMP_BUDGET=${BENCH_RAMP_BUDGET:-300}
RAMP_START=${BENCH_RAMP_START:-500}
RAMP_DUR=${BENCH_RAMP_DUR:-10}
RAMP_MAX=${BENCH_RAMP_MAX:-20000}

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
rm -f "$OUT/compare.txt" "$OUT/compare.csv" "$OUT/compare.md"

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
fill_cfg() { # bench/NAME.cfg into DIR/NAME.cfg, __RUNDIR__ being DIR
    sed -e "s/__PORT__/$PROXY_PORT/g" -e "s/__UASPORT__/$UAS_PORT/g" -e "s#__RUNDIR__#$2#g" \
        -e "s#__MPATH__#$BUILD#g" "$ROOT/bench/$1.cfg" >"$2/$1.cfg" || die "bench/$1.cfg"
}
for role in stateless stateful; do fill_cfg "$role" "$RUNDIR"; done

want_variant() { [[ " $VARIANTS " == *" $1 "* ]]; }

# Registrar variants: each run starts from a copy of a template database (schema by sbctl; for
# digest auth the harness's 10,000 users user00001.. with the password "benchpw", HA1 over the
# realm 127.0.0.1, the To domain of the harness's REGISTERs), so every rep inserts fresh bindings.
SBCTL="$BUILD/sbctl"
variant_server() { # NAME CFG: DIR/server.sh copies the template in place, then becomes the server
    mkdir -p "$RUNDIR/$1"
    fill_cfg "$2" "$RUNDIR/$1"
    if ! "$SB" -c -f "$RUNDIR/$1/$2.cfg" >"$RUNDIR/$1.check" 2>&1; then
        log "bench/$2.cfg does not pass 'switchboard -c'; $1 is skipped:"
        grep -m5 -i error "$RUNDIR/$1.check" >&2
        VARIANTS=${VARIANTS//$1/}
        return 1
    fi
    cat >"$RUNDIR/$1/server.sh" <<EOS
#!/bin/sh
cp -f "$RUNDIR/$1.db" "$RUNDIR/$1/bench.db" || exit 1
exec "$SB" -F -E -f "$RUNDIR/$1/$2.cfg"
EOS
    chmod +x "$RUNDIR/$1/server.sh"
    rm -f "$RUNDIR/$1.db"
    "$SBCTL" -d "sqlite://$RUNDIR/$1.db" db init >"$RUNDIR/$1.init.log" 2>&1 ||
        { cat "$RUNDIR/$1.init.log" >&2; die "sbctl db init for $1"; }
}
if [ -n "${VARIANTS// /}" ] && [[ " $ROLES " == *" stateful "* ]]; then
    if want_variant reg-writeback || want_variant reg-auth; then
        [ -x "$SBCTL" ] || die "$SBCTL not built (the registrar variants need it for the schema)"
    fi
    want_variant reg-writeback && variant_server reg-writeback register-writeback
    if want_variant reg-auth && variant_server reg-auth register-auth; then
        /usr/bin/python3 - "$RUNDIR/reg-auth.db" 127.0.0.1 <<'PY' || die "provisioning the users"
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
realm, pw = sys.argv[2], "benchpw"
rows = []
for i in range(1, 10001):
    u = "user%05d" % i
    a1 = ("%s:%s:%s" % (u, realm, pw)).encode()
    rows.append((u, realm, pw, hashlib.md5(a1).hexdigest(), hashlib.sha256(a1).hexdigest()))
db.executemany("INSERT INTO subscriber (username, domain, password, ha1, ha1_sha256)"
               " VALUES (?, ?, ?, ?, ?)", rows)
db.commit()
PY
    fi
fi

# The harness with some of its sipp scenarios replaced by ours (bench/scenarios): a folder of
# links to the shared one, so that the shared folder is never written. harness NAME [DST=SRC...]
harness() {
    local d="$RUNDIR/harness-$1" f
    shift
    mkdir -p "$d/scenarios"
    ln -sf "$BENCH_DIR/run.sh" "$d/run.sh"
    ln -sfn "$BENCH_DIR/kamailio" "$d/kamailio"
    for f in "$BENCH_DIR"/scenarios/*; do ln -sf "$f" "$d/scenarios/"; done
    for f in "$@"; do ln -sf "$ROOT/bench/scenarios/${f#*=}" "$d/scenarios/${f%%=*}"; done
    echo "$d"
}
H_AUTH=$(harness auth uac_register.xml=uac_register_auth.xml)
H_LAT=$(harness latency uac_call.xml=uac_call_trying.xml)

KAM="kamailio -DD -E -m 1024 -M 8 -x fm -X fm -A LISTEN=udp:@HOST@:@PROXY_PORT@"
KAM="$KAM -A 'CTLSOCK=\"tcp:@HOST@:@CTL_PORT@\"'"
KAMQ="kamcmd -s tcp:@HOST@:@CTL_PORT@ core.shmmem; kamcmd -s tcp:@HOST@:@CTL_PORT@ stats.get_statistics registered_users"

# label|role|server command|query|scenarios[|harness dir|rate]
SERVERS=(
    "sb-stateless|stateless|$SB -F -E -f $RUNDIR/stateless.cfg||options call-static"
    "kam-stateless-fm|stateless|$KAM -f @BENCH@/kamailio/stateless.cfg -A WORKERS=2 -A UAS_PORT=@UAS_PORT@|$KAMQ|options call-static"
    "nullrelay|stateless|$NULLRELAY -l @HOST@:@PROXY_PORT@ -p @HOST@:@UAS_PORT@ -T 3600||options call-static"
    "sb-stateful|stateful|$SB -F -E -f $RUNDIR/stateful.cfg||register call"
    "kam-stateful-fm|stateful|$KAM -f @BENCH@/kamailio/stateful.cfg -A WORKERS=2|$KAMQ|register call"
)
want_variant reg-writeback && SERVERS+=("sb-reg-writeback|stateful|$RUNDIR/reg-writeback/server.sh||register")
want_variant reg-auth && SERVERS+=("sb-reg-auth|stateful|$RUNDIR/reg-auth/server.sh||register|$H_AUTH")
if want_variant latency; then
    SERVERS+=("sb-latency|stateful|$SB -F -E -f $RUNDIR/stateful.cfg||call|$H_LAT|$RATE_LATENCY")
    SERVERS+=("kam-latency|stateful|$KAM -f @BENCH@/kamailio/stateful.cfg -A WORKERS=2||call|$H_LAT|$RATE_LATENCY")
fi

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
        IFS='|' read -r label role cmd query scens hdir hrate <<<"$entry"
        want_role "$role" || continue
        [[ " $scens " == *" $scen "* ]] || continue
        if [ -n "${BENCH_SERVERS:-}" ] && [[ " $BENCH_SERVERS " != *" $label "* ]]; then continue; fi
        dir="$OUT/$label"
        mkdir -p "$dir"
        # each scenario of a label starts from clean figures; other scenarios' lines are kept
        # only when they come from this same invocation
        if [ ! -e "$RUNDIR/started-$label" ]; then
            rm -f "$dir/runs.csv" "$dir/summary.csv" "$dir/summary.md" "$dir/meta.txt" \
                "$dir/latency.csv" "$dir/latency.txt"
            : >"$RUNDIR/started-$label"
        fi
        # digest auth: the harness's users with the keyword that answers the challenge
        [ "$label" = sb-reg-auth ] && awk 'BEGIN { print "SEQUENTIAL"; for (i = 1; i <= 10000; i++)
            printf "user%05d;[authentication username=user%05d password=benchpw];\n", i, i }' >"$dir/users.csv"
        # the latency runs alone are captured on lo: per-call µs from kernel timestamps
        wrap=()
        [[ "$label" == *-latency ]] && wrap=("$ROOT/scripts/bench-latency.sh" -p "$PROXY_PORT"
            -o "$dir" -l "$label" -t $((REP * (2 * DUR + 60) + 60)) --)
        log "$label $scen"
        "${wrap[@]}" "${hdir:-$BENCH_DIR}/run.sh" -s "$cmd" -n "$label" ${query:+-q "$query"} "${PORTS[@]}" \
            -o "$dir" -r "${hrate:-$(rate_of "$scen")}" -d "$DUR" -k "$REP" "$scen" >"$dir/run-$scen.log" 2>&1 ||
            log "$label $scen: run.sh failed, see $dir/run-$scen.log"
    done
done

# ---- the highest sustainable call rate through the stateful config (harness --ramp), bounded
# in time per server
if [ "$RAMP" != 0 ] && [ -x "$SB" ] && "$SB" -c -f "$RUNDIR/stateful.cfg" >/dev/null 2>&1; then
    for entry in "sb-stateful|$SB -F -E -f $RUNDIR/stateful.cfg" \
        "kam-stateful-fm|$KAM -f @BENCH@/kamailio/stateful.cfg -A WORKERS=2"; do
        IFS='|' read -r label cmd <<<"$entry"
        dir="$OUT/ramp/$label"
        rm -rf "$dir"
        mkdir -p "$dir"
        log "$label ramp of call (budget ${RAMP_BUDGET}s, probes of ${RAMP_DUR}s from $RAMP_START/s)"
        "$BENCH_DIR/run.sh" -s "$cmd" -n "$label" "${PORTS[@]}" -o "$dir" --ramp \
            --ramp-start "$RAMP_START" --ramp-dur "$RAMP_DUR" --ramp-budget "$RAMP_BUDGET" \
            --ramp-max "$RAMP_MAX" call >"$dir/run-ramp.log" 2>&1 ||
            log "$label ramp: run.sh failed, see $dir/run-ramp.log"
    done
elif [ "$RAMP" != 0 ]; then
    log "ramp skipped: bench/stateful.cfg does not pass 'switchboard -c'"
fi

# ---- the table: server CPU us per unit, ratios, failures
# summary.csv columns: 1 label, 2 scenario, 10 failed, 14 achieved_rate, 16 server_us_per_call,
# 25 pss_sum_kb, 30-33 rt1 p50/p90/p99/max ms
fig() { # label scenario column; NA for a label this invocation did not run (no stale figures)
    [ -e "$RUNDIR/started-$1" ] && [ -s "$OUT/$1/summary.csv" ] || { echo NA; return; }
    awk -F, -v s="$2" -v c="$3" 'NR > 1 && $2 == s { v = $c } END { print (v == "" ? "NA" : v) }' \
        "$OUT/$1/summary.csv"
}
ramp_fig() { # label: the highest passing rate of the search
    local f="$OUT/ramp/$1/ramp_result.csv"
    [ -s "$f" ] || { echo NA; return; }
    awk -F, 'NR > 1 { v = $3 } END { print (v == "" ? "NA" : v) }' "$f"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.2f", a / b }'; }
label_wanted() { [ -z "${BENCH_SERVERS:-}" ] || [[ " $BENCH_SERVERS " == *" $1 "* ]]; }
verdict() { # ratio target: met when ratio <= target
    awk -v r="$1" -v t="$2" 'BEGIN { if (r == "NA") print "-"; else print (r + 0 <= t + 0 ? "met" : "not met") }'
}
verdict_ge() { # ratio target: met when ratio >= target
    awk -v r="$1" -v t="$2" 'BEGIN { if (r == "NA") print "-"; else print (r + 0 >= t + 0 ? "met" : "not met") }'
}
verdict_lt() { # value limit: met when value < limit
    awk -v r="$1" -v t="$2" 'BEGIN { if (r == "NA") print "-"; else print (r + 0 < t + 0 ? "met" : "not met") }'
}

CMP="$OUT/compare.csv"
MD="$OUT/compare.md"
echo "scenario,role,switchboard_us,nullrelay_us,kamailio_us,sb_over_null,sb_over_kam,sb_failed,null_failed,kam_failed,sb_pss_kb,kam_pss_kb,sb_rt1_p99_ms,kam_rt1_p99_ms" >"$CMP"
status=0
row() { # scenario sb null kam sb/null sb/kam fail-sb fail-null fail-kam targets
    printf '%-28s %9s %9s %9s %9s %9s %7s %7s %7s  %s\n' "$@" >>"$OUT/compare.txt"
    printf '| %s | %s | %s | %s | %s | %s | %s / %s / %s | %s |\n' "$@" >>"$MD"
}
{
    echo "Server CPU µs per unit (medians of $REP x ${DUR}s; $(date -u +%Y-%m-%d) on $(nproc) CPUs, $(uname -r))"
    printf '%-28s %9s %9s %9s %9s %9s %7s %7s %7s  %s\n' scenario switchbd nullrelay kamailio \
        sb/null sb/kam "fail:sb" null kam targets
} >"$OUT/compare.txt"
{
    echo "| scenario | Switchboard | null relay | Kamailio | sb/null | sb/kam | failed sb / null / kam | targets |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$MD"
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
    row "$scen" "$s" "$n" "$k" "$rn" "$rk" "$fs" "$fn" "$fk" "$tg"
    echo "$scen,$role,$s,$n,$k,$rn,$rk,$fs,$fn,$fk,$(fig "$sbl" "$scen" 25),$(fig "$kl" "$scen" 25),$(fig "$sbl" "$scen" 32),$(fig "$kl" "$scen" 32)" >>"$CMP"
    # the registrar variants, next to the in-memory registrar (Kamailio's is in memory)
    if [ "$scen" = register ]; then
        for v in reg-writeback:"register, SQLite write-back" reg-auth:"register, digest auth"; do
            want_variant "${v%%:*}" || continue
            s=$(fig "sb-${v%%:*}" register 16) fs=$(fig "sb-${v%%:*}" register 10)
            rk=$(ratio "$s" "$k")
            [ "$s" = NA ] && label_wanted "sb-${v%%:*}" && status=1
            row "${v#*:}" "$s" NA "$k" NA "$rk" "$fs" NA "$fk" "reported (Kamailio: in memory, no auth)"
            l="sb-${v%%:*}"
            echo "${v%%:*},$role,$s,NA,$k,NA,$rk,$fs,NA,$fk,$(fig "$l" register 25),NA,$(fig "$l" register 32),NA" >>"$CMP"
        done
    fi
done
lat_fig() { # label column: the median row of the capture's latency.csv (scripts/bench-latency.py)
    [ -e "$RUNDIR/started-$1" ] && [ -s "$OUT/$1/latency.csv" ] || { echo NA; return; }
    awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
        $2 == "median" && k { v = $k } END { print (v == "" ? "NA" : v) }' "$OUT/$1/latency.csv"
}
if want_role stateful && want_variant latency; then
    # INVITE in -> 100 Trying out at the proxy, µs, from the capture (medians over the runs of
    # the per-run percentiles); sipp's own figure (whole ms) stays in compare.csv's rt1 columns
    s=$(lat_fig sb-latency trying_p99_us) k=$(lat_fig kam-latency trying_p99_us)
    fs=$(fig sb-latency call 10) fk=$(fig kam-latency call 10)
    [ "$s" = NA ] && label_wanted sb-latency && status=1
    spm="$(lat_fig sb-latency trying_p50_us)/$(lat_fig sb-latency trying_max_us)"
    kpm="$(lat_fig kam-latency trying_p50_us)/$(lat_fig kam-latency trying_max_us)"
    row "INVITE->100 p99 us @${RATE_LATENCY}/s" "$s" NA "$k" NA "$(ratio "$s" "$k")" "$fs" NA "$fk" \
        "sb p99<1000 us $(verdict_lt "$s" 1000) (capture on lo; p50/max sb $spm, kam $kpm)"
    echo "latency_100_p99_us,stateful,$s,NA,$k,NA,NA,$fs,NA,$fk,NA,NA,$(fig sb-latency call 32),$(fig kam-latency call 32)" >>"$CMP"
    s=$(lat_fig sb-latency relay_p99_us) k=$(lat_fig kam-latency relay_p99_us)
    spm="$(lat_fig sb-latency relay_p50_us)/$(lat_fig sb-latency relay_max_us)"
    kpm="$(lat_fig kam-latency relay_p50_us)/$(lat_fig kam-latency relay_max_us)"
    row "INVITE relay p99 us" "$s" NA "$k" NA "$(ratio "$s" "$k")" "$fs" NA "$fk" \
        "reported (INVITE in -> out to the UAS; p50/max sb $spm, kam $kpm)"
    echo "latency_relay_p99_us,stateful,$s,NA,$k,NA,NA,$fs,NA,$fk,NA,NA,NA,NA" >>"$CMP"
fi
if [ "$RAMP" != 0 ]; then
    s=$(ramp_fig sb-stateful) k=$(ramp_fig kam-stateful-fm)
    rk=$(ratio "$s" "$k")
    [ "$s" = NA ] && status=1
    row "max call rate /s" "$s" NA "$k" NA "$rk" - - - \
        "sb>=kam $(verdict_ge "$rk" 1) (ramp, ${RAMP_DUR}s probes, budget ${RAMP_BUDGET}s each)"
    echo "ramp_max_call_rate,stateful,$s,NA,$k,NA,$rk,NA,NA,NA,NA,NA,NA,NA" >>"$CMP"
fi
cat "$OUT/compare.txt"
log "per-server tables: $OUT/<label>/summary.md (latency: latency.txt); this table: $OUT/compare.txt, compare.md and compare.csv"
exit $status
