# SPDX-License-Identifier: BSD-2-Clause
"""TCP framing against a running server (RFC 3261 §18.3, RFC 5626 §3.5.1): a message split into
several writes, two messages in one write, an oversized message (the connection is closed, the
server lives on) and the CRLF keep-alive ping."""
import time

import pytest

from conftest import sip_request

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"

route {
    if ($rm == "ACK")
        exit;
    sl_send_reply(200, "OK");
}
"""


@pytest.fixture
def server(sb):
    port = sb.port()
    srv = sb.server(CFG, PORT=port)
    return srv, ("127.0.0.1", port)


def options(local, port, cseq=1, call_id=None, body=b""):
    return sip_request("OPTIONS", "sip:bob@127.0.0.1:%d" % port, local, "TCP", cseq=cseq,
                       call_id=call_id, body=body,
                       extra=["Content-Type: text/plain"] if body else [])


def test_message_split_across_writes(sb, server):
    srv, addr = server
    s = sb.sock("tcp", addr)
    msg = options(s.local, addr[1], body=b"split body\r\n")
    # cut inside the start line, inside a header name, inside the empty line, inside the body
    cuts = [5, msg.index(b"Call-ID") + 3, msg.index(b"\r\n\r\n") + 2, len(msg) - 4]
    prev = 0
    for c in cuts:
        s.send(msg[prev:c])
        prev = c
        assert s.recv(0.15) is None, "answered before the message was complete"
    s.send(msg[prev:])
    r = s.recv(3)
    assert r is not None and r.status == 200, "%r\n%s" % (r, srv.log_tail())
    assert s.recv(0.3) is None, "more than one answer"


def test_two_messages_in_one_write(sb, server):
    srv, addr = server
    s = sb.sock("tcp", addr)
    a = options(s.local, addr[1], cseq=11, call_id="pipeline-a")
    b = options(s.local, addr[1], cseq=12, call_id="pipeline-b", body=b"second\r\n")
    s.send(a + b)
    r1, r2 = s.recv(3), s.recv(3)
    assert r1 is not None and r2 is not None, "%r %r\n%s" % (r1, r2, srv.log_tail())
    assert (r1.status, r2.status) == (200, 200)
    assert [r1.hdr("call-id"), r2.hdr("call-id")] == ["pipeline-a", "pipeline-b"]
    assert r1.hdr("cseq").split()[0] == "11" and r2.hdr("cseq").split()[0] == "12"


@pytest.mark.parametrize("shape", ["huge_header", "huge_body"])
def test_oversized_message_closes_connection(sb, server, shape):
    """More than any sane message (4 MiB): the server must drop the connection, not buffer
    without bound; other connections keep working."""
    srv, addr = server
    s = sb.sock("tcp", addr)
    head = options(s.local, addr[1])
    if shape == "huge_header":
        head = head[:-2] + b"X-Filler: "  # a header line that never ends
        filler = b"a" * 65536
    else:
        head = head.replace(b"Content-Length: 0", b"Content-Length: 4194304")
        filler = b"b" * 65536
    sent, broke = 0, False
    end = time.monotonic() + 15
    try:
        s.send(head)
        s.sock.settimeout(5)
        while sent < 4 * 1024 * 1024 and time.monotonic() < end:
            s.sock.sendall(filler)
            sent += len(filler)
    except OSError:
        broke = True  # reset or broken pipe: the server closed
    closed = broke or s.wait_closed(5)
    assert closed, "connection still open after %d bytes\n%s" % (sent, srv.log_tail())
    assert srv.alive()
    r = sb.options_ok(addr, "tcp")
    assert r is not None and r.status == 200, srv.log_tail()


def test_crlf_keepalive(sb, server):
    srv, addr = server
    s = sb.sock("tcp", addr)
    s.send(b"\r\n\r\n")
    pong = s.recv_raw(2)
    assert pong == b"\r\n", "ping answered with %r\n%s" % (pong, srv.log_tail())
    # the connection is still usable
    s.send(options(s.local, addr[1]))
    r = s.recv(3)
    assert r is not None and r.status == 200
