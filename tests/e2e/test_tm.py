# SPDX-License-Identifier: BSD-2-Clause
"""The stateful proxy (tm): sipp UAC -> switchboard (t_relay with record_route/loose_route) ->
sipp UAS, over UDP and TCP. A call answered 200 and ended by BYE; a callee that is busy (486),
re-routed by failure_route to a second callee that answers; a ringing call CANCELled by the
caller (200 to the CANCEL, CANCEL downstream, 487 upstream, ACKs hop by hop); a callee that never
answers (408 after fr_timeout)."""
import time

import pytest

from conftest import SCENARIOS, sip_request

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sipmsgops.so"

modparam("tm", "fr_timeout", 2)
modparam("tm", "fr_inv_timeout", 4)

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
    if (is_method("CANCEL")) {
        if (t_check_trans())
            t_relay();
        exit;
    }
    record_route();
    if ($rU == "busy") {
        t_on_failure("next");
        $du = "sip:127.0.0.1:@UAS1@;transport=@TRANSPORT@";
    } else if ($rU == "silent") {
        $du = "sip:127.0.0.1:@SILENT@;transport=@TRANSPORT@";
    } else {
        $du = "sip:127.0.0.1:@UAS1@;transport=@TRANSPORT@";
    }
    if (!t_relay())
        send_reply(500, "Relay failed");
}

failure_route[next] {
    if (t_was_cancelled())
        exit;
    if (t_check_status("486")) {
        $du = "sip:127.0.0.1:@UAS2@;transport=@TRANSPORT@";
        t_relay();
    }
}
"""


def start(sb, transport):
    port, uas1, uas2, silent = sb.port(), sb.port(), sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, UAS1=uas1, UAS2=uas2, SILENT=silent, TRANSPORT=transport)
    return srv, port, uas1, uas2


def topt(transport):
    return ["-t", "t1"] if transport == "tcp" else ["-t", "u1"]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_call_through_stateful_proxy(sb, transport):
    srv, port, uas1, _ = start(sb, transport)
    uas = sb.sipp("uas", ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1", "-p", uas1,
                          "-m", 1] + topt(transport), background=True)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml", "-s", "bob",
                          "-i", "127.0.0.1", "-p", sb.port(), "-m", 1] + topt(transport),
                  timeout=15)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    r = uas.wait()
    assert r.rc == 0, r.describe() + srv.log_tail()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_busy_rerouted_by_failure_route(sb, transport):
    srv, port, uas1, uas2 = start(sb, transport)
    busy = sb.sipp("busy", ["-sf", SCENARIOS / "tm_uas_busy.xml", "-i", "127.0.0.1", "-p", uas1,
                            "-m", 1] + topt(transport), background=True)
    second = sb.sipp("second", ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1", "-p", uas2,
                                "-m", 1] + topt(transport), background=True)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml", "-s", "busy",
                          "-i", "127.0.0.1", "-p", sb.port(), "-m", 1] + topt(transport),
                  timeout=15)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    rb = busy.wait()
    assert rb.rc == 0, rb.describe() + srv.log_tail()
    rs = second.wait()
    assert rs.rc == 0, rs.describe() + srv.log_tail()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_cancel_of_ringing_call(sb, transport):
    srv, port, uas1, _ = start(sb, transport)
    uas = sb.sipp("uas", ["-sf", SCENARIOS / "tm_uas_ring_cancel.xml", "-i", "127.0.0.1",
                          "-p", uas1, "-m", 1] + topt(transport), background=True)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "tm_uac_cancel.xml",
                          "-s", "bob", "-i", "127.0.0.1", "-p", sb.port(), "-m", 1]
                  + topt(transport), timeout=15)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    r = uas.wait()
    assert r.rc == 0, r.describe() + srv.log_tail()


def test_no_answer_times_out_408(sb):
    srv, port, _, _ = start(sb, "udp")
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "tm_uac_408.xml",
                          "-s", "silent", "-i", "127.0.0.1", "-p", sb.port(), "-m", 1, "-t", "u1"],
                  timeout=15)
    assert uac.rc == 0, uac.describe() + srv.log_tail()


def _reply(req, code, reason, tag, cseq=None):
    """A UAS reply to the request <req> (SipMsg): its Vias, From, To (+tag), Call-ID, CSeq."""
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in req.headers:
        low = n.lower()
        if low in ("via", "v", "from", "f", "call-id", "i"):
            lines.append("%s: %s" % (n, v))
        elif low in ("to", "t"):
            lines.append("%s: %s%s" % (n, v, "" if ";tag=" in v else ";tag=" + tag))
        elif low == "cseq":
            lines.append("CSeq: %s" % (cseq or v))
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _recv_request(sock, method, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = sock.recv(timeout=max(0.0, end - time.monotonic()))
        if m is None:
            return None
        if m.method == method:
            return m
    return None


def test_cancel_from_another_socket_reaches_its_transaction(sb):
    """The CANCEL comes from another source port than its INVITE, so the kernel may give it to
    another worker than the one holding the transaction: it must still find it (200, CANCEL
    downstream, 487 upstream). Several calls, so that both workers get to own one."""
    srv, port, uas1, _ = start(sb, "udp")
    server = ("127.0.0.1", port)
    uas = sb.sock("udp", server, bind_port=uas1)
    for i in range(8):
        a = sb.sock("udp", server)
        b = sb.sock("udp", server)
        inv = sip_request("INVITE", "sip:bob@127.0.0.1:%d" % port, a.local)
        a.send(inv)
        got = _recv_request(uas, "INVITE")
        assert got is not None, "call %d: no INVITE downstream\n%s" % (i, srv.log_tail())
        uas.send(_reply(got, 180, "Ringing", "r%d" % i))
        ring = a.recv(timeout=3, skip_provisional=False)
        while ring is not None and ring.status == 100:
            ring = a.recv(timeout=3, skip_provisional=False)
        assert ring is not None and ring.status == 180, "call %d: %r" % (i, ring)
        cancel = inv.replace(b"INVITE sip:", b"CANCEL sip:", 1).replace(b"CSeq: 1 INVITE",
                                                                        b"CSeq: 1 CANCEL")
        b.send(cancel)
        ok = b.recv(timeout=3)
        assert ok is not None and ok.status == 200 and "CANCEL" in ok.hdr("CSeq"), \
            "call %d: no 200 for the CANCEL: %r\n%s" % (i, ok, srv.log_tail())
        c = _recv_request(uas, "CANCEL")
        assert c is not None, "call %d: no CANCEL downstream" % i
        assert c.hdr("Via").split(";branch=")[1].split(";")[0] == \
            got.hdr("Via").split(";branch=")[1].split(";")[0]
        uas.send(_reply(c, 200, "OK", "r%d" % i))
        uas.send(_reply(got, 487, "Request Terminated", "r%d" % i))
        fin = a.recv(timeout=3)
        assert fin is not None and fin.status == 487, "call %d: %r" % (i, fin)
        assert _recv_request(uas, "ACK") is not None, "call %d: the 487 was not ACKed" % i
        a.close()
        b.close()


def test_many_calls_both_workers(sb):
    """200 calls at 100 per second: replies land on either worker and are moved to the owner of
    their transaction; every call completes and the server stays clean (sanitizers)."""
    srv, port, uas1, _ = start(sb, "udp")
    uas = sb.sipp("uas", ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1", "-p", uas1,
                          "-m", 200, "-t", "un", "-max_socket", 400],
                  background=True, timeout=30)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml", "-s", "bob",
                          "-i", "127.0.0.1", "-p", sb.port(), "-m", 200, "-r", 100, "-l", 50,
                          "-t", "un", "-max_socket", 400], timeout=30)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    r = uas.wait()
    assert r.rc == 0, r.describe() + srv.log_tail()
    # the ping is relayed to the UAS, gone by now: the answer is the 408 of fr_timeout (2 s)
    assert sb.options_ok(("127.0.0.1", port), timeout=5.0)


def test_invite_retransmission_from_another_socket_absorbed(sb):
    """A retransmitted INVITE that the kernel gives to another worker than the owner of its
    transaction (another source port here) must not start a second transaction: it is moved to
    the owner, which answers it with the last provisional, and nothing more goes downstream."""
    srv, port, uas1, _ = start(sb, "udp")
    server = ("127.0.0.1", port)
    uas = sb.sock("udp", server, bind_port=uas1)
    for i in range(8):
        a = sb.sock("udp", server)
        b = sb.sock("udp", server)
        inv = sip_request("INVITE", "sip:bob@127.0.0.1:%d" % port, a.local)
        a.send(inv)
        got = _recv_request(uas, "INVITE")
        assert got is not None, "call %d: no INVITE downstream\n%s" % (i, srv.log_tail())
        uas.send(_reply(got, 180, "Ringing", "r%d" % i))
        ring = a.recv(timeout=3, skip_provisional=False)
        while ring is not None and ring.status == 100:
            ring = a.recv(timeout=3, skip_provisional=False)
        assert ring is not None and ring.status == 180, "call %d: %r" % (i, ring)
        b.send(inv)
        again = a.recv(timeout=3, skip_provisional=False)
        assert again is not None and again.status == 180, \
            "call %d: the retransmission got %r\n%s" % (i, again, srv.log_tail())
        dup = _recv_request(uas, "INVITE", timeout=0.5)
        assert dup is None, "call %d: the retransmission went downstream again" % i
        uas.send(_reply(got, 486, "Busy Here", "r%d" % i))
        fin = a.recv(timeout=3)
        assert fin is not None and fin.status == 486, "call %d: %r" % (i, fin)
        assert _recv_request(uas, "ACK") is not None, "call %d: the 486 was not ACKed" % i
        a.close()
        b.close()
