#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install every Debian package that building, testing and running Switchboard need. Idempotent:
# does nothing when all are present; otherwise one apt-get update, then one apt-get install.
#   scripts/deps.sh          build, test and run dependencies
#   scripts/deps.sh bench    the peers and load generator of `make bench` (kamailio, sipp)
set -eu

case "${1:-}" in
"")
    PKGS="build-essential cmake pkg-config git clang libclang-rt-14-dev clang-format
libcmocka-dev python3-pytest flex bison libpcre2-dev libssl-dev libc-ares-dev
sip-tester dnsmasq-base tshark iproute2 util-linux
libsqlite3-dev sqlite3 libpq-dev postgresql
libjansson-dev libmicrohttpd-dev prometheus baresip-core valgrind"
    ;;
bench)
    # kamailio: the reference peer; sip-tester: sipp; gawk/procps/iproute2: used by run.sh
    PKGS="kamailio sip-tester gcc make gawk procps iproute2"
    ;;
*)
    echo "usage: $0 [bench]" >&2
    exit 2
    ;;
esac

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
