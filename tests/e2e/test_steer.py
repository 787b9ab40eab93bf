# SPDX-License-Identifier: BSD-2-Clause
"""UDP reply steering (udp_reply_steering): a stateful proxy with two workers, sipp UAC and UAS
on fixed ports. With steering off, a UAS port whose replies the kernel hashes to the other worker
than the caller's INVITE is found (core:replies_moved grows); with steering on and the same
ports, 50 calls succeed and no reply is moved. Datagrams the program must leave to the kernel's
hash (short ones, a reply whose first branch is someone else's, requests carrying a branch that
looks like ours) all still arrive (net:rcv_msgs)."""
import os
import socket
import time

import pytest

from conftest import SCENARIOS
from test_mi import Mi

CFG = """
log_level = 3
stderror_enabled = yes
udp_workers = 2
udp_reply_steering = @STEER@
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sipmsgops.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)

route {
    if (is_method("OPTIONS") && $rU == NULL) {
        sl_send_reply(200, "OK");
        exit;
    }
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
    $du = "sip:127.0.0.1:@UAS@";
    if (!t_relay())
        send_reply(500, "Relay failed");
}
"""

CALLS = 50


def workers():
    n = os.environ.get("SB_E2E_WORKERS")
    return int(n) if n else 2


def server(sb, port, uas, steer):
    http = sb.port()
    srv = sb.server(CFG, name="sb-%s-%d" % (steer, uas), PORT=port, UAS=uas, HTTP=http,
                    STEER=steer, listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", http)])
    return srv, Mi(http)


def stat(mi, name):
    return mi.result("get_statistics", [[name]])[name]


def calls(sb, srv, port, uac, uas, n, tag):
    bg = sb.sipp("uas-%s" % tag, ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1", "-p", uas,
                                  "-m", n], timeout=30, background=True)
    r = sb.sipp("uac-%s" % tag, ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml",
                                 "-s", "bob", "-i", "127.0.0.1", "-p", uac, "-m", n, "-r", 25],
                timeout=30)
    assert r.rc == 0, r.describe() + srv.log_tail()
    rb = bg.wait()
    assert rb.rc == 0, rb.describe() + srv.log_tail()


def test_replies_steered_to_their_worker(sb):
    if workers() < 2:
        pytest.skip("steering needs two workers or more")
    port, uac = sb.port(), sb.port()
    # without steering: a UAS port the kernel hashes to another worker than the UAC (the hash of
    # a fixed 4-tuple is fixed until reboot; each candidate is a fresh coin toss)
    chosen = None
    for i in range(12):
        uas = sb.port()
        srv, mi = server(sb, port, uas, "no")
        assert "reply steering" not in srv.log()
        calls(sb, srv, port, uac, uas, 1, "probe%d" % i)
        moved = stat(mi, "core:replies_moved")
        srv.stop()
        if moved > 0:
            chosen = uas
            break
    assert chosen is not None, "no UAS port in 12 hashed away from the UAC: hash not random?"

    srv, mi = server(sb, port, chosen, "no")
    calls(sb, srv, port, uac, chosen, CALLS, "off")
    assert stat(mi, "core:replies_moved") >= CALLS
    srv.stop()

    srv, mi = server(sb, port, chosen, "yes")
    assert "replies steered to their transaction's worker" in srv.log(), srv.log_tail()
    calls(sb, srv, port, uac, chosen, CALLS, "on")
    assert stat(mi, "core:replies_moved") == 0
    assert stat(mi, "core:rcv_replies") >= 3 * CALLS


def send_from_fresh(port, data, n):
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(data, ("127.0.0.1", port))
        s.close()


def test_fallback_datagrams_all_arrive(sb):
    if workers() < 2:
        pytest.skip("steering needs two workers or more")
    port = sb.port()
    srv, mi = server(sb, port, sb.port(), "yes")
    assert "replies steered to their transaction's worker" in srv.log(), srv.log_tail()
    before = stat(mi, "net:rcv_msgs")
    ours = "z9hG4bKsb01" + "0" * 13 + "x"  # our prefix and worker 1, not a live transaction
    cases = [
        b"SIP/2.0 200 OK\r\n\r\n",  # shorter than the scan window
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK77\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1;branch=" + ours.encode() + b"\r\n"
        b"Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",  # first branch not ours
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=" + ours.encode() + b"\r\n"
        b"Call-ID: y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",  # ours, no transaction
        b"INFO sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=" + ours.encode() +
        b"\r\nCall-ID: z\r\nCSeq: 1 INFO\r\nContent-Length: 0\r\n\r\n",  # a request
    ]
    for c in cases:
        send_from_fresh(port, c, 20)
    want = before + 20 * len(cases)
    end = time.monotonic() + 5
    got = stat(mi, "net:rcv_msgs")
    while got < want and time.monotonic() < end:
        time.sleep(0.05)
        got = stat(mi, "net:rcv_msgs")
    assert got == want
    # OPTIONS from many source ports: every one answered
    for i in range(20):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.bind(("127.0.0.1", 0))
        lp = s.getsockname()[1]
        s.sendto(("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;"
                  "branch=z9hG4bKsb01o%d\r\nFrom: <sip:t@127.0.0.1>;tag=%d\r\n"
                  "To: <sip:127.0.0.1>\r\nCall-ID: opt%d\r\nCSeq: 1 OPTIONS\r\n"
                  "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (port, lp, i, i, i)).encode(),
                 ("127.0.0.1", port))
        data, _ = s.recvfrom(65535)
        assert data.startswith(b"SIP/2.0 200"), data
        s.close()
