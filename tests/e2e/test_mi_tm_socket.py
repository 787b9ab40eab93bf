# SPDX-License-Identifier: BSD-2-Clause
"""t_uac_dlg's socket parameter over mi_http: the server listens on 127.0.0.1 and 127.0.0.2 (same
port); a request sent with socket "udp:127.0.0.2:PORT" reaches the callee (a UDP socket of the
test) from that address with a Via naming it, one with "udp:127.0.0.1:PORT" from the other, and
the callee's reply, sent back to where the request came from, completes the call. A socket the
server does not listen on is an invalid-params error and nothing is sent."""
import socket
import threading

from conftest import SipMsg
from test_mi import Mi

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = udp:127.0.0.2:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)
modparam("tm", "fr_timeout", 2)

route {
    sl_send_reply(404, "Not here");
}
"""


def start(sb):
    port, http = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, HTTP=http,
                    listen=[("udp", "127.0.0.1", port), ("udp", "127.0.0.2", port),
                            ("tcp", "127.0.0.1", http)])
    return srv, Mi(http), port


def uas_sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def recv(s, timeout=5):
    s.settimeout(timeout)
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        return None, None
    return SipMsg(data), src


def reply(req, code, reason):
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in req.headers:
        low = n.lower()
        if low in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            lines.append("%s: %s" % (n, v))
        elif low in ("to", "t"):
            lines.append("%s: %s;tag=uas1" % (n, v))
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def uac_dlg(mi, ruri, sock):
    out = {}

    def run():
        out["r"] = mi.call("t_uac_dlg", {"method": "OPTIONS", "ruri": ruri, "next_hop": ".",
                                         "socket": sock, "headers": "."})

    t = threading.Thread(target=run)
    t.start()
    return t, out


def send_from(sb, ip):
    srv, mi, port = start(sb)
    uas = uas_sock()
    try:
        ruri = "sip:ping@127.0.0.1:%d" % uas.getsockname()[1]
        t, out = uac_dlg(mi, ruri, "udp:%s:%d" % (ip, port))
        req, src = recv(uas)
        assert req is not None and req.method == "OPTIONS", (t.join(3), out, srv.log_tail())
        assert src == (ip, port), (src, srv.log_tail())
        assert req.hdr("Via").startswith("SIP/2.0/UDP %s:%d;" % (ip, port)), req.hdr("Via")
        uas.sendto(reply(req, 200, "Pong"), src)
        t.join(10)
        assert "r" in out, (out, srv.log_tail())
        assert out["r"]["result"]["Status"] == "200 Pong", out
    finally:
        uas.close()


def test_t_uac_dlg_socket_second_address(sb):
    send_from(sb, "127.0.0.2")


def test_t_uac_dlg_socket_first_address(sb):
    send_from(sb, "127.0.0.1")


def test_t_uac_dlg_unknown_socket(sb):
    srv, mi, port = start(sb)
    uas = uas_sock()
    try:
        ruri = "sip:ping@127.0.0.1:%d" % uas.getsockname()[1]
        for bad in ("udp:127.0.0.9:%d" % port, "udp:127.0.0.2:%d" % (port + 1),
                    "tcp:127.0.0.1:%d" % port, "nonsense"):
            t, out = uac_dlg(mi, ruri, bad)
            t.join(5)
            assert "r" in out, out
            err = out["r"].get("error")
            assert err and err["code"] == -32602, (bad, out["r"])
            assert "socket" in err["message"], err
        req, _ = recv(uas, timeout=0.5)
        assert req is None, req.start
        # the server still sends with a good one afterwards
        t, out = uac_dlg(mi, ruri, "udp:127.0.0.2:%d" % port)
        req, src = recv(uas)
        assert req is not None and src == ("127.0.0.2", port), srv.log_tail()
        uas.sendto(reply(req, 200, "OK"), src)
        t.join(10)
        assert out["r"]["result"]["Status"] == "200 OK", out
    finally:
        uas.close()
