# SPDX-License-Identifier: BSD-2-Clause
"""force_send_socket() in a branch_route is the branch's own: the proxy listens on 127.0.0.1 and
127.0.0.2 (same port) and forks a call to two callees; the branch route of the first forces the
127.0.0.2 socket, the second has none and leaves from the receiving socket. Each callee (a UDP
socket of the test) checks the address the INVITE came from and the Via the proxy put on it, and
answers there; both replies reach the caller, who gets the 486 and ACKs it. A second call forces
127.0.0.2 in the request route: a branch whose route forces 127.0.0.1 uses it, a branch without
one keeps the transaction's choice."""
import socket

from conftest import SipMsg

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = udp:127.0.0.2:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"
loadmodule "sipmsgops.so"

modparam("tm", "fr_timeout", 3)

route {
    if (is_method("ACK")) {
        if (t_check_trans())
            t_relay();
        exit;
    }
    if ($rU == "tx") {
        $ru = "sip:one@127.0.0.1:@UAS1@";
        append_branch("sip:two@127.0.0.1:@UAS2@");
        force_send_socket("udp:127.0.0.2:@PORT@");
        t_on_branch("tx_choice");
    } else {
        $ru = "sip:one@127.0.0.1:@UAS1@";
        append_branch("sip:two@127.0.0.1:@UAS2@");
        t_on_branch("per_branch");
    }
    if (!t_relay())
        send_reply(500, "Relay failed");
}

branch_route[per_branch] {
    if ($rU == "one")
        force_send_socket("udp:127.0.0.2:@PORT@");
}

branch_route[tx_choice] {
    if ($rU == "two")
        force_send_socket("udp:127.0.0.1:@PORT@");
}
"""


def udp(ip="127.0.0.1", port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    s.settimeout(5)
    return s


def recv(s):
    data, src = s.recvfrom(65535)
    return SipMsg(data), src


def reply(req, code, reason, tag):
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in req.headers:
        low = n.lower()
        if low in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            lines.append("%s: %s" % (n, v))
        elif low in ("to", "t"):
            lines.append("%s: %s;tag=%s" % (n, v, tag))
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def invite(uac, user, port, call):
    me = uac.getsockname()[1]
    msg = ("INVITE sip:%s@127.0.0.1:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@127.0.0.1>;tag=a-%s\r\n"
           "To: <sip:%s@127.0.0.1>\r\n"
           "Call-ID: %s\r\n"
           "CSeq: 1 INVITE\r\n"
           "Contact: <sip:alice@127.0.0.1:%d>\r\n"
           "Content-Length: 0\r\n\r\n") % (user, port, me, call, call, user, call, me)
    uac.sendto(msg.encode(), ("127.0.0.1", port))


def final_of(uac):
    """The first final reply the caller gets (provisionals skipped)."""
    while True:
        m, _ = recv(uac)
        if m.status and m.status >= 200:
            return m


def ack(uac, port, user, call, to):
    me = uac.getsockname()[1]
    msg = ("ACK sip:%s@127.0.0.1:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@127.0.0.1>;tag=a-%s\r\n"
           "To: %s\r\n"
           "Call-ID: %s\r\n"
           "CSeq: 1 ACK\r\n"
           "Content-Length: 0\r\n\r\n") % (user, port, me, call, call, to, call)
    uac.sendto(msg.encode(), ("127.0.0.1", port))


def run_call(sb, user, want1, want2):
    port = sb.port()
    uas1, uas2, uac = udp(), udp(), udp()
    try:
        srv = sb.server(CFG, PORT=port, UAS1=uas1.getsockname()[1],
                        UAS2=uas2.getsockname()[1],
                        listen=[("udp", "127.0.0.1", port), ("udp", "127.0.0.2", port)])
        call = "bs-" + user
        invite(uac, user, port, call)
        r1, src1 = recv(uas1)
        r2, src2 = recv(uas2)
        assert r1.method == "INVITE" and r2.method == "INVITE", srv.log_tail()
        # each branch left from the socket chosen for it, and its Via says so
        assert src1 == (want1, port), (src1, srv.log_tail())
        assert src2 == (want2, port), (src2, srv.log_tail())
        assert r1.hdr("Via").startswith("SIP/2.0/UDP %s:%d;" % (want1, port)), r1.hdr("Via")
        assert r2.hdr("Via").startswith("SIP/2.0/UDP %s:%d;" % (want2, port)), r2.hdr("Via")
        # the replies go back to the socket each branch left from
        uas1.sendto(reply(r1, 486, "Busy Here", "u1"), src1)
        uas2.sendto(reply(r2, 486, "Busy Here", "u2"), src2)
        fin = final_of(uac)
        assert fin.status == 486, (fin.start, srv.log_tail())
        ack(uac, port, user, call, fin.hdr("To"))
        # the hop-by-hop ACK of each branch's 486 comes from that branch's socket
        a1, asrc1 = recv(uas1)
        a2, asrc2 = recv(uas2)
        assert a1.method == "ACK" and asrc1 == (want1, port), (a1.start, asrc1)
        assert a2.method == "ACK" and asrc2 == (want2, port), (a2.start, asrc2)
    finally:
        for s in (uas1, uas2, uac):
            s.close()


def test_branch_route_socket_per_branch(sb):
    run_call(sb, "fork", "127.0.0.2", "127.0.0.1")


def test_branch_route_socket_over_transaction_choice(sb):
    # request route chose 127.0.0.2; branch "two"'s route chose 127.0.0.1
    run_call(sb, "tx", "127.0.0.2", "127.0.0.1")
