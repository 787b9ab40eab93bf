# SPDX-License-Identifier: BSD-2-Clause
"""tm over the management interface (mi_http): t_uac_dlg sends a request of the server's own and
answers with its final reply (local_route adds a header to it; From/To come from the headers
parameter); an INVITE answered 200 is ACKed; a silent target ends in 408 after fr_timeout;
t_hash counts the transactions of each worker; t_uac_cancel of an unknown call is an error."""
import socket
import threading
import time

from conftest import SipMsg
from test_mi import Mi

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"
loadmodule "sipmsgops.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)
modparam("tm", "fr_timeout", 1)

route {
    sl_send_reply(404, "Not here");
}

local_route {
    append_hf("X-Local-Route: seen\\r\\n");
    if (is_method("MESSAGE") && $rU == "blocked")
        drop;
}
"""


def start(sb):
    port, http = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, HTTP=http,
                    listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", http)])
    return srv, Mi(http)


def uas_sock(sb):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", sb.port()))
    s.settimeout(5)
    return s


def recv(s, timeout=5):
    s.settimeout(timeout)
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        return None, None
    return SipMsg(data), src


def reply(req, code, reason, extra=()):
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in req.headers:
        low = n.lower()
        if low in ("via", "v", "from", "f", "call-id", "i", "cseq"):
            lines.append("%s: %s" % (n, v))
        elif low in ("to", "t"):
            lines.append("%s: %s;tag=uas1" % (n, v))
    lines += list(extra)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def in_thread(fn, *args):
    out = {}

    def run():
        try:
            out["r"] = fn(*args)
        except Exception as e:  # reported by the caller's assertion
            out["e"] = e

    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_t_uac_dlg_options(sb):
    srv, mi = start(sb)
    uas = uas_sock(sb)
    try:
        ruri = "sip:ping@127.0.0.1:%d" % uas.getsockname()[1]
        hdrs = ("From: <sip:mi@127.0.0.1>;tag=mi1\r\nTo: <sip:ping@127.0.0.1>\r\n"
                "X-Custom: 42\r\n")
        t, out = in_thread(mi.call, "t_uac_dlg", ["OPTIONS", ruri, ".", ".", hdrs])
        req, src = recv(uas)
        assert req is not None and req.method == "OPTIONS", (t.join(3), out, srv.log_tail())
        assert req.start == "OPTIONS %s SIP/2.0" % ruri
        assert req.hdr("X-Custom") == "42"
        assert req.hdr("X-Local-Route") == "seen"
        assert req.hdr("From") == "<sip:mi@127.0.0.1>;tag=mi1"
        assert req.hdr("To") == "<sip:ping@127.0.0.1>"
        uas.sendto(reply(req, 200, "Pong"), src)
        t.join(10)
        assert "r" in out, out
        res = out["r"]["result"]
        assert res["Status"] == "200 Pong", res
        assert res["Message"].startswith("SIP/2.0 200 Pong\r\n")
    finally:
        uas.close()


def test_t_uac_dlg_invite_acked(sb):
    srv, mi = start(sb)
    uas = uas_sock(sb)
    try:
        uport = uas.getsockname()[1]
        ruri = "sip:bob@127.0.0.1:%d" % uport
        t, out = in_thread(mi.call, "t_uac_dlg", {"method": "INVITE", "ruri": ruri})
        req, src = recv(uas)
        assert req is not None and req.method == "INVITE", srv.log_tail()
        uas.sendto(reply(req, 180, "Ringing"), src)
        uas.sendto(reply(req, 200, "OK", ["Contact: <sip:bob@127.0.0.1:%d>" % uport]), src)
        ack, _ = recv(uas)
        assert ack is not None and ack.method == "ACK", srv.log_tail()
        assert ack.start == "ACK sip:bob@127.0.0.1:%d SIP/2.0" % uport
        assert ack.hdr("CSeq").endswith(" ACK")
        assert ack.hdr("To").endswith(";tag=uas1")
        t.join(10)
        assert out["r"]["result"]["Status"] == "200 OK", out
    finally:
        uas.close()


def test_t_uac_dlg_timeout_and_drop(sb):
    srv, mi = start(sb)
    uas = uas_sock(sb)
    try:
        ruri = "sip:silent@127.0.0.1:%d" % uas.getsockname()[1]
        t0 = time.monotonic()
        r = mi.call("t_uac_dlg", ["MESSAGE", ruri])
        assert r["result"]["Status"].startswith("408 "), r
        assert 0.8 < time.monotonic() - t0 < 6
        # local_route dropped it: nothing sent, an error
        r = mi.call("t_uac_dlg", ["MESSAGE", "sip:blocked@127.0.0.1:%d" % uas.getsockname()[1]])
        assert "error" in r, r
    finally:
        uas.close()


def test_t_hash_and_cancel_errors(sb):
    srv, mi = start(sb)
    res = mi.result("t_hash")
    assert len(res["workers"]) >= 1
    assert res["total"] == sum(w["entries"] for w in res["workers"])
    r = mi.call("t_uac_cancel", ["no-such-call", 1])
    assert "error" in r, r
    r = mi.call("t_uac_dlg", ["OPTIONS"])
    assert "error" in r, r
