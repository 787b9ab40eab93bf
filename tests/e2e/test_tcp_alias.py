# SPDX-License-Identifier: BSD-2-Clause
"""TCP connection reuse (RFC 3261 §18, RFC 5923) and check_via.

A UA over TCP with ";alias" in its Via (tcp_accept_aliases), or one whose request makes the script
call force_tcp_alias(), is reachable at its Via sent-by port over the connection it opened: a
request routed there goes on that connection although nobody listens on the port. Without an
alias the proxy would have to open a new connection, which fails. check_via: a reply whose top
Via is not ours is never relayed, and with check_via set the drop is logged as an error."""
import socket
import time

import pytest

from conftest import sip_request

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@
tcp_accept_aliases = @ACCEPT@
check_via = @CHECK_VIA@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"

route {
    if ($rm == "ACK")
        exit;
    if ($rm == "REGISTER") {
        @ALIAS_CALL@
        sl_send_reply(200, "OK");
        exit;
    }
    forward();
}
"""


def start(sb, accept="no", alias_call="", check_via="no"):
    port = sb.port()
    srv = sb.server(CFG, PORT=port, ACCEPT=accept, ALIAS_CALL=alias_call, CHECK_VIA=check_via)
    return srv, ("127.0.0.1", port)


def unused_port(sb):
    """A port on 127.0.0.1 with no TCP listener (the UA's advertised, never bound, port)."""
    return sb.port()


def register(sb, addr, ua_port, alias):
    """The UA: a raw TCP connection from an ephemeral port, its Via naming <ua_port>."""
    ua = sb.sock("tcp", addr)
    via_params = ";alias" if alias else ""
    req = sip_request("REGISTER", "sip:127.0.0.1:%d" % addr[1], ("127.0.0.1", ua_port), "TCP",
                      extra=["Contact: <sip:ua@127.0.0.1:%d;transport=tcp>" % ua_port])
    req = req.replace(b";rport\r\n", b";rport%s\r\n" % via_params.encode(), 1)
    ua.send(req)
    r = ua.recv(3)
    assert r is not None and r.status == 200, r
    return ua


def message_to_ua(sb, addr, ua_port):
    """A caller over UDP sends a MESSAGE the proxy routes to the UA's sent-by address."""
    caller = sb.sock("udp", addr)
    req = sip_request("MESSAGE", "sip:ua@127.0.0.1:%d;transport=tcp" % ua_port, caller.local,
                      "UDP", extra=["Content-Type: text/plain"], body=b"hello over the alias")
    caller.send(req)
    return caller


def answer(ua, m):
    """200 to <m> on the UA's connection, Vias echoed."""
    lines = ["SIP/2.0 200 OK"] + ["Via: %s" % v for v in m.all("via")]
    for h in ("from", "to", "call-id", "cseq"):
        lines.append("%s: %s" % (h.title(), m.hdr(h)))
    lines.append("Content-Length: 0")
    ua.send(("\r\n".join(lines) + "\r\n\r\n").encode())


@pytest.mark.parametrize("mode", ["via_alias", "force_tcp_alias"])
def test_request_reuses_ua_connection(sb, mode):
    if mode == "via_alias":
        srv, addr = start(sb, accept="yes")
    else:
        srv, addr = start(sb, alias_call="force_tcp_alias();")
    ua_port = unused_port(sb)
    ua = register(sb, addr, ua_port, alias=(mode == "via_alias"))
    caller = message_to_ua(sb, addr, ua_port)
    m = ua.recv(3)
    assert m is not None and m.method == "MESSAGE", "%r\n%s" % (m, srv.log_tail())
    assert m.body == b"hello over the alias"
    vias = m.all("via")
    assert len(vias) == 2 and "TCP 127.0.0.1:%d" % addr[1] in vias[0], vias
    # the answer goes back over the proxy to the caller
    answer(ua, m)
    r = caller.recv(3)
    assert r is not None and r.status == 200, "%r\n%s" % (r, srv.log_tail())
    # a second request still goes on the same connection
    caller2 = message_to_ua(sb, addr, ua_port)
    m2 = ua.recv(3)
    assert m2 is not None and m2.method == "MESSAGE"
    assert m2.hdr("call-id") != m.hdr("call-id")
    caller2.close()


@pytest.mark.parametrize("mode", ["alias_not_accepted", "no_alias_param"])
def test_no_alias_no_reuse(sb, mode):
    """Without tcp_accept_aliases, or without ";alias", the UA's connection is not used: the
    proxy tries a connection of its own to the unbound port, which fails."""
    srv, addr = start(sb, accept="no" if mode == "alias_not_accepted" else "yes")
    ua_port = unused_port(sb)
    ua = register(sb, addr, ua_port, alias=(mode == "alias_not_accepted"))
    message_to_ua(sb, addr, ua_port)
    assert ua.recv(1.0) is None, "delivered on the UA's connection without an alias"
    assert srv.alive()


def test_alias_gone_with_connection(sb):
    srv, addr = start(sb, accept="yes")
    ua_port = unused_port(sb)
    ua = register(sb, addr, ua_port, alias=True)
    ua.close()
    time.sleep(0.3)
    # a new connection from the same host takes the alias over
    ua2 = register(sb, addr, ua_port, alias=True)
    message_to_ua(sb, addr, ua_port)
    m = ua2.recv(3)
    assert m is not None and m.method == "MESSAGE", "%r\n%s" % (m, srv.log_tail())


def relay_reply(sb, addr, top_via_ours):
    """Send a reply to the proxy whose second Via names a UDP socket of the test; returns what
    that socket gets."""
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.bind(("127.0.0.1", 0))
    up.settimeout(1.0)
    up_port = up.getsockname()[1]
    top = "127.0.0.1:%d" % addr[1] if top_via_ours else "192.0.2.1:5070"
    reply = ("SIP/2.0 200 OK\r\n"
             "Via: SIP/2.0/UDP %s;branch=z9hG4bK-cv-1\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-cv-0\r\n"
             "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\n"
             "Call-ID: check-via-%d\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
             % (top, up_port, int(top_via_ours)))
    tx = sb.sock("udp", addr)
    tx.send(reply.encode())
    try:
        data = up.recv(65536)
    except socket.timeout:
        data = None
    up.close()
    return data


@pytest.mark.parametrize("check_via", ["yes", "no"])
def test_check_via(sb, check_via):
    srv, addr = start(sb, check_via=check_via)
    got = relay_reply(sb, addr, top_via_ours=True)
    assert got is not None and got.startswith(b"SIP/2.0 200"), srv.log_tail()
    assert b"z9hG4bK-cv-1" not in got, "our Via was not removed"
    assert relay_reply(sb, addr, top_via_ours=False) is None, "reply with a foreign Via relayed"
    time.sleep(0.2)
    logged = "192.0.2.1" in srv.log() and "is not ours" in srv.log()
    assert logged == (check_via == "yes"), srv.log_tail()
