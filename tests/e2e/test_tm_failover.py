# SPDX-License-Identifier: BSD-2-Clause
"""DNS failover inside a transaction (RFC 3263 §4.3): the proxy relays to a name whose SRV records
point at two UASes on loopback (dnsmasq answers them). The first target answers 503, or never
answers: the request goes to the second target on a new branch and the call completes. The
target that failed is then blacklisted: the next call goes straight to the second one. With
t_relay("no-dns-failover") the caller gets the failure."""
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import SCENARIOS, SipMsg

DNSMASQ = "/usr/sbin/dnsmasq"

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sipmsgops.so"

modparam("tm", "fr_timeout", 2)

route {
    if (has_totag()) {
        if (loose_route()) {
            t_relay();
            exit;
        }
        if (is_method("ACK")) {
            if (t_check_trans())
                t_relay();
            exit;
        }
        send_reply(404, "Not here");
        exit;
    }
    record_route();
    $ru = "sip:" + $rU + "@fo.test";
    if ($rU == "nofo") {
        if (!t_relay("no-dns-failover"))
            send_reply(500, "Relay failed");
        exit;
    }
    if (!t_relay())
        send_reply(500, "Relay failed");
}
"""


@pytest.fixture
def dns(sb, monkeypatch):
    """dnsmasq with _sip._udp.fo.test -> first.fo.test:P1 (priority 10), second.fo.test:P2 (20),
    and the server's resolver pointed at it. Yields (P1, P2)."""
    if not os.access(DNSMASQ, os.X_OK):
        pytest.skip("no dnsmasq")
    dport, p1, p2 = sb.port(), sb.port(), sb.port()
    proc = subprocess.Popen(
        [DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts", "--port=%d" % dport,
         "--listen-address=127.0.0.1", "--bind-interfaces", "--local=/fo.test/",
         "--pid-file=", "--local-ttl=60",
         "--srv-host=_sip._udp.fo.test,first.fo.test,%d,10,0" % p1,
         "--srv-host=_sip._udp.fo.test,second.fo.test,%d,20,0" % p2,
         "--host-record=first.fo.test,127.0.0.1",
         "--host-record=second.fo.test,127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.3)
        if proc.poll() is not None:
            pytest.skip("dnsmasq did not start")
        conf = sb.dir / "resolv.conf"
        conf.write_text("nameserver 127.0.0.1:%d\n" % dport)
        hosts = sb.dir / "hosts"
        hosts.write_text("127.0.0.1 localhost\n")
        monkeypatch.setenv("SB_DNS_RESOLV_CONF", str(conf))
        monkeypatch.setenv("SB_DNS_HOSTS", str(hosts))
        yield p1, p2
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def udp_at(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    return s


def recv_req(s, method, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            return None, None
        m = SipMsg(data)
        if m.method == method:
            return m, src
    return None, None


def reply(req, code, reason):
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in req.headers:
        low = n.lower()
        if low in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
            lines.append("%s: %s" % (n, v))
        elif low in ("to", "t"):
            lines.append("%s: %s;tag=dead" % (n, v))
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def call(sb, port, user="bob"):
    return sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml", "-s", user,
                           "-i", "127.0.0.1", "-p", sb.port(), "-m", 1, "-t", "u1"],
                   background=True, timeout=20)


def uas(sb, port, calls=1):
    return sb.sipp("uas", ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1", "-p", port,
                           "-m", calls, "-t", "u1"], background=True, timeout=25)


def test_503_fails_over_and_blacklists(sb, dns):
    p1, p2 = dns
    port = sb.port()
    srv = sb.server(CFG, PORT=port, listen=[("udp", "127.0.0.1", port)])
    first = udp_at(p1)
    second = uas(sb, p2, calls=2)
    try:
        uac = call(sb, port)
        inv, src = recv_req(first, "INVITE", 5)
        assert inv is not None, "no INVITE at the first target\n" + srv.log_tail()
        first.sendto(reply(inv, 503, "Service Unavailable"), src)
        ack, _ = recv_req(first, "ACK", 3)
        assert ack is not None, "the 503 was not ACKed\n" + srv.log_tail()
        r = uac.wait()
        assert r.rc == 0, r.describe() + srv.log_tail()
        # the first target is blacklisted now: the second call does not try it
        uac2 = call(sb, port)
        r2 = uac2.wait()
        assert r2.rc == 0, r2.describe() + srv.log_tail()
        again, _ = recv_req(first, "INVITE", 0.5)
        assert again is None, "a blacklisted target got the request"
        rs = second.wait()
        assert rs.rc == 0, rs.describe() + srv.log_tail()
    finally:
        first.close()


def test_timeout_fails_over(sb, dns):
    p1, p2 = dns
    port = sb.port()
    srv = sb.server(CFG, PORT=port, listen=[("udp", "127.0.0.1", port)])
    first = udp_at(p1)  # receives and never answers
    second = uas(sb, p2)
    try:
        uac = call(sb, port)
        inv, _ = recv_req(first, "INVITE", 5)
        assert inv is not None, "no INVITE at the first target\n" + srv.log_tail()
        r = uac.wait()
        assert r.rc == 0, r.describe() + srv.log_tail()
        rs = second.wait()
        assert rs.rc == 0, rs.describe() + srv.log_tail()
    finally:
        first.close()


def test_no_dns_failover_flag(sb, dns):
    p1, p2 = dns
    port = sb.port()
    srv = sb.server(CFG, PORT=port, listen=[("udp", "127.0.0.1", port)])
    first = udp_at(p1)
    second = udp_at(p2)
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.1", 0))
    try:
        cport = caller.getsockname()[1]
        req = ("INVITE sip:nofo@127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-nofo-1;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=nf\r\n"
               "To: <sip:nofo@127.0.0.1>\r\nCall-ID: nofo-1@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
               "Contact: <sip:a@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n"
               % (port, cport, cport)).encode()
        caller.sendto(req, ("127.0.0.1", port))
        inv, src = recv_req(first, "INVITE", 5)
        assert inv is not None, srv.log_tail()
        first.sendto(reply(inv, 503, "Service Unavailable"), src)
        final = None
        end = time.monotonic() + 5
        while time.monotonic() < end:
            caller.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, _ = caller.recvfrom(65535)
            except socket.timeout:
                break
            m = SipMsg(data)
            if m.status and m.status >= 200:
                final = m
                break
        # RFC 3261 §16.7: a 503 goes upstream as 500
        assert final is not None and final.status == 500, repr(final) + srv.log_tail()
        nothing, _ = recv_req(second, "INVITE", 0.5)
        assert nothing is None, "no-dns-failover still failed over"
    finally:
        for s in (first, second, caller):
            s.close()
