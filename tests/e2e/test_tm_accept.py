# SPDX-License-Identifier: BSD-2-Clause
"""Transaction-layer acceptance: a parallel fork where one callee answers and the other is
cancelled; a silent callee (408) replaced by failure_route; calls that survive 10 % packet loss
through retransmissions; the ACK of a 2xx passed end to end and the ACK of a non-2xx absorbed
(the callee sees the proxy's own hop-by-hop ACK)."""
import re

from conftest import SCENARIOS, sip_request

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
modparam("tm", "fr_inv_timeout", 6)

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
    if ($rU == "fork") {
        $ru = "sip:fork@127.0.0.1:@UAS1@";
        append_branch("sip:fork@127.0.0.1:@UAS2@");
    } else if ($rU == "silent") {
        t_on_failure("next");
        $du = "sip:127.0.0.1:@SILENT@";
    } else {
        $du = "sip:127.0.0.1:@UAS1@";
    }
    if (!t_relay())
        send_reply(500, "Relay failed");
}

failure_route[next] {
    if (t_was_cancelled())
        exit;
    if (t_check_status("408")) {
        $du = "sip:127.0.0.1:@UAS2@";
        t_relay();
    }
}
"""


def start(sb):
    port, uas1, uas2, silent = sb.port(), sb.port(), sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, UAS1=uas1, UAS2=uas2, SILENT=silent,
                    listen=[("udp", "127.0.0.1", port)])
    return srv, port, uas1, uas2, silent


def stat(result, name):
    """A counter from sipp's final screen (the cumulative column)."""
    m = re.search(r"^\s*%s\s*\|\s*\d+\s*\|\s*(\d+)" % re.escape(name), result.out, re.M)
    return int(m.group(1)) if m else None


def retransmissions(result):
    """The sum of the Retrans column of sipp's final screen (message lines)."""
    n = 0
    for line in result.out.splitlines():
        # "INVITE ---------->  msgs retrans ..." (UAC) or "----------> INVITE  msgs retrans" (UAS)
        m = re.match(r"^\s*(?:\S+\s+(?:-+>|<-+)|(?:-+>|<-+)\s+\S+)\s+(\d+)\s+(\d+)", line)
        if m:
            n += int(m.group(2))
    return n


def messages(result):
    """The SIP messages of a sipp -trace_msg log, as (direction, first line, text)."""
    out = []
    for block in re.split(r"\n-{10,}[^\n]*\n", result.text("*_messages.log")):
        m = re.search(r"(?m)^(UDP|TCP) message (sent|received)[^\n]*\n+([^\n]+)", block)
        if m:
            out.append((m.group(2), m.group(3).strip(), block))
    return out


def test_parallel_fork_one_answers_other_cancelled(sb):
    srv, port, uas1, uas2, _ = start(sb)
    ringer = sb.sipp("ringer", ["-sf", SCENARIOS / "tm_uas_ring_cancel.xml", "-i", "127.0.0.1",
                                "-p", uas1, "-m", 1, "-t", "u1", "-trace_msg"], background=True)
    answerer = sb.sipp("answerer", ["-sf", SCENARIOS / "acc_uas_slow200.xml", "-i", "127.0.0.1",
                                    "-p", uas2, "-m", 1, "-t", "u1", "-trace_msg"],
                       background=True)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml", "-s", "fork",
                          "-i", "127.0.0.1", "-p", sb.port(), "-m", 1, "-t", "u1", "-trace_msg"],
                  timeout=15)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    assert stat(uac, "Successful call") == 1 and stat(uac, "Failed call") == 0, uac.out
    ra = answerer.wait()
    assert ra.rc == 0, ra.describe() + srv.log_tail()
    rr = ringer.wait()
    assert rr.rc == 0, rr.describe() + srv.log_tail()
    got = messages(rr)
    assert any(d == "received" and l.startswith("CANCEL ") for d, l, _ in got), got
    assert any(d == "sent" and l.startswith("SIP/2.0 487") for d, l, _ in got), got
    # the caller saw exactly one final answer to its INVITE: the 200 of the answering branch
    finals = [t for d, l, t in messages(uac) if d == "received" and re.match(r"SIP/2.0 [2-6]", l)
              and re.search(r"(?mi)^CSeq:\s*1 INVITE", t)]
    assert len(finals) == 1, finals
    assert "ACCslow" in finals[0] and "200 OK" in finals[0], finals[0]


def test_silent_callee_408_then_failure_route(sb):
    srv, port, _, uas2, silent = start(sb)
    quiet = sb.sock("udp", ("127.0.0.1", port), bind_port=silent)
    second = sb.sipp("second", ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1", "-p", uas2,
                                "-m", 1, "-t", "u1"], background=True)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml",
                          "-s", "silent", "-i", "127.0.0.1", "-p", sb.port(), "-m", 1, "-t", "u1"],
                  timeout=15)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    r = second.wait()
    assert r.rc == 0, r.describe() + srv.log_tail()
    # the silent callee got the INVITE and its Timer A retransmissions, then nothing more
    invites = []
    while True:
        m = quiet.recv(timeout=0.3)
        if m is None:
            break
        invites.append(m)
    assert len(invites) >= 2 and all(m.method == "INVITE" for m in invites), invites
    branches = {m.hdr("Via").split("branch=")[1].split(";")[0] for m in invites}
    assert len(branches) == 1, branches


def test_packet_loss_recovered_by_retransmissions(sb):
    srv, port, uas1, _, _ = start(sb)
    calls = 20
    uas = sb.sipp("uas", ["-sf", SCENARIOS / "acc_uas_lossy.xml", "-i", "127.0.0.1", "-p", uas1,
                          "-m", calls, "-t", "u1"], background=True, timeout=40)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "acc_uac_lossy.xml",
                          "-s", "bob", "-i", "127.0.0.1", "-p", sb.port(), "-m", calls, "-r", 10, "-l", calls,
                          "-t", "u1", "-lost", 10, "-recv_timeout", 20000], timeout=40)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    assert stat(uac, "Successful call") == calls, uac.out
    r = uas.wait(extra=15)
    assert r.rc == 0, r.describe() + srv.log_tail()
    assert stat(r, "Successful call") == calls, r.out
    # loss really happened and was repaired by retransmissions
    lost = retransmissions(uac) + retransmissions(r)
    print("packet loss: %d retransmissions by the two sipps" % lost)
    assert lost > 0, uac.out + r.out
    # the OPTIONS is relayed to the callee, whose sipp has ended: its answer is the 408 of
    # fr_timeout (2 s), so wait longer than that
    assert sb.options_ok(("127.0.0.1", port), timeout=5.0)


# ---- ACK handling with raw sockets ---------------------------------------------------------


def reply(req, code, reason, tag, extra=()):
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in req.headers:
        low = n.lower()
        if low in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
            lines.append("%s: %s" % (n, v))
        elif low in ("to", "t"):
            lines.append("%s: %s%s" % (n, v, "" if ";tag=" in v else ";tag=" + tag))
    lines += list(extra)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def recv_method(sock, method, timeout=3.0):
    while True:
        m = sock.recv(timeout=timeout)
        if m is None or m.method == method:
            return m


def branch_of(via):
    return via.split("branch=")[1].split(";")[0]


def test_ack_for_2xx_end_to_end(sb):
    srv, port, uas1, _, _ = start(sb)
    server = ("127.0.0.1", port)
    uas = sb.sock("udp", server, bind_port=uas1)
    a = sb.sock("udp", server)
    a.send(sip_request("INVITE", "sip:bob@127.0.0.1:%d" % port, a.local, call_id="ack2xx@t"))
    inv = recv_method(uas, "INVITE")
    assert inv is not None, srv.log_tail()
    uas.send(reply(inv, 200, "OK", "u2xx", ["Contact: <sip:bob@127.0.0.1:%d>" % uas1]))
    ok = a.recv(timeout=3)
    assert ok is not None and ok.status == 200, ok
    rr = ok.all("record-route")
    assert rr, ok.raw
    ack = sip_request("ACK", "sip:bob@127.0.0.1:%d" % uas1, a.local, call_id="ack2xx@t",
                      to_tag="u2xx", extra=["Route: %s" % r for r in rr])
    a.send(ack)
    got = recv_method(uas, "ACK")
    assert got is not None, "the ACK of the 2xx did not reach the callee\n" + srv.log_tail()
    vias = got.all("via")
    # forwarded, not generated: the caller's Via (and its new branch) is below the proxy's
    assert len(vias) == 2, vias
    assert branch_of(vias[1]) == branch_of(ack.decode().split("\r\n")[1])
    assert branch_of(vias[1]) != branch_of(inv.all("via")[1])


def test_ack_for_non2xx_absorbed_and_hop_by_hop(sb):
    srv, port, uas1, _, _ = start(sb)
    server = ("127.0.0.1", port)
    uas = sb.sock("udp", server, bind_port=uas1)
    a = sb.sock("udp", server)
    invite = sip_request("INVITE", "sip:bob@127.0.0.1:%d" % port, a.local, call_id="ack486@t")
    a.send(invite)
    inv = recv_method(uas, "INVITE")
    assert inv is not None, srv.log_tail()
    uas.send(reply(inv, 486, "Busy Here", "u486"))
    busy = a.recv(timeout=3)
    assert busy is not None and busy.status == 486, busy
    # the caller ACKs the 486 within its INVITE transaction (same branch, RFC 3261 17.1.1.3)
    ack = invite.replace(b"INVITE sip:", b"ACK sip:", 1).replace(b"CSeq: 1 INVITE", b"CSeq: 1 ACK")
    ack = ack.replace(b"To: <sip:bob@127.0.0.1:%d>" % port,
                      b"To: <sip:bob@127.0.0.1:%d>;tag=u486" % port)
    a.send(ack)
    acks = []
    while True:
        m = uas.recv(timeout=1.5)
        if m is None:
            break
        if m.method == "ACK":
            acks.append(m)
    assert len(acks) == 1, "expected only the proxy's own ACK: %r" % acks
    hop = acks[0]
    # the proxy's ACK: one Via (its own) with the branch of the INVITE it sent, same CSeq number
    assert len(hop.all("via")) == 1, hop.raw
    assert branch_of(hop.hdr("via")) == branch_of(inv.all("via")[0])
    assert hop.hdr("cseq").split() == ["1", "ACK"]
    assert "tag=u486" in hop.hdr("to")
    # and the caller is not asked again: the 486 is not retransmitted after its ACK
    assert a.recv(timeout=1.0) is None
