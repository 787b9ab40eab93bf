# SPDX-License-Identifier: BSD-2-Clause
"""tcp_no_new_conn_bflag: a branch with the flag goes over TCP only on a connection already open.
The callee listens on TCP and the proxy has no connection to it. With the flag set, t_relay()
fails the branch like an unreachable destination (the caller gets the automatic 477) and
forward() returns an error (the script answers 503); the callee sees no connection attempt.
Without the flag both open a connection and the request reaches the callee."""
import select
import socket

import pytest

from conftest import sip_request, SipMsg, frame_stream

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@
tcp_no_new_conn_bflag = "NO_NEW_TCP"

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"

route {
    if ($rm == "ACK")
        exit;
    if ($hdr(X-No-New) == "yes")
        setbflag("NO_NEW_TCP");
    if ($rU == "stateless") {
        if (!forward("sip:127.0.0.1:@CALLEE@;transport=tcp"))
            sl_send_reply(503, "No Connection");
        exit;
    }
    $du = "sip:127.0.0.1:@CALLEE@;transport=tcp";
    t_relay();
}
"""


def callee_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    return s


def accepted(listener, timeout):
    """The connection the proxy opened to the callee within <timeout>, or None."""
    r, _, _ = select.select([listener], [], [], timeout)
    if not r:
        return None
    c, _ = listener.accept()
    c.settimeout(3)
    return c


def read_msg(conn, timeout=3.0):
    buf = b""
    conn.settimeout(timeout)
    while True:
        unit, rest = frame_stream(buf)
        if unit is not None and unit != b"\r\n":
            return SipMsg(unit)
        buf = rest if unit == b"\r\n" else buf
        data = conn.recv(65536)
        if not data:
            return None
        buf += data


def answer(conn, m, code=200, reason="OK"):
    lines = ["SIP/2.0 %d %s" % (code, reason)] + ["Via: %s" % v for v in m.all("via")]
    for h in ("from", "to", "call-id", "cseq"):
        v = m.hdr(h)
        if h == "to" and code > 100:
            v += ";tag=callee"
        lines.append("%s: %s" % (h.title(), v))
    lines.append("Content-Length: 0")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())


@pytest.mark.parametrize("user", ["stateful", "stateless"])
def test_flag_forbids_new_connection(sb, user):
    port, callee = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, CALLEE=callee)
    listener = callee_socket(callee)
    try:
        caller = sb.sock("udp", ("127.0.0.1", port))
        caller.send(sip_request("MESSAGE", "sip:%s@127.0.0.1:%d" % (user, port), caller.local,
                                "UDP", extra=["X-No-New: yes", "Content-Type: text/plain"],
                                body=b"hi"))
        r = caller.recv(3)
        want = 477 if user == "stateful" else 503
        assert r is not None and r.status == want, (r, srv.log_tail())
        # the proxy never tried to connect to the callee
        assert accepted(listener, 1.0) is None, srv.log_tail()
    finally:
        listener.close()


@pytest.mark.parametrize("user", ["stateful", "stateless"])
def test_without_flag_connection_opened(sb, user):
    port, callee = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, CALLEE=callee)
    listener = callee_socket(callee)
    try:
        caller = sb.sock("udp", ("127.0.0.1", port))
        caller.send(sip_request("MESSAGE", "sip:%s@127.0.0.1:%d" % (user, port), caller.local,
                                "UDP", extra=["Content-Type: text/plain"], body=b"hi"))
        conn = accepted(listener, 3.0)
        assert conn is not None, srv.log_tail()
        try:
            m = read_msg(conn)
            assert m is not None and m.method == "MESSAGE", (m, srv.log_tail())
            answer(conn, m)
            r = caller.recv(3)
            assert r is not None and r.status == 200, (r, srv.log_tail())
        finally:
            conn.close()
    finally:
        listener.close()
