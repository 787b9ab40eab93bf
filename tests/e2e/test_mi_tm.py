# SPDX-License-Identifier: BSD-2-Clause
"""tm over the management interface (mi_http): t_uac_dlg sends a request of the server's own and
answers with its final reply (local_route adds a header to it; From/To come from the headers
parameter); an INVITE answered 200 is ACKed; a silent target ends in 408 after fr_timeout;
t_hash counts the transactions of each worker; t_uac_cancel of an unknown call is an error.
t_uac_dlg is asynchronous: while one waits for a callee that answers after 3 s, other commands
over HTTP and the FIFO answer at once, and the pending one gets its final reply (over HTTP or
the FIFO) with its own JSON-RPC id; a server stopped meanwhile answers it with an error.
t_uac_cancel (over the FIFO or HTTP) of a pending INVITE towards a callee that only rings: the
callee gets the CANCEL and the pending t_uac_dlg answers with the callee's 487."""
import json
import os
import socket
import threading
import time

from conftest import SCENARIOS, SipMsg
from test_mi import Mi, fifo_call

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


# ---- asynchronous t_uac_dlg -----------------------------------------------------------------

CFG_ASYNC = CFG.replace('loadmodule "mi_http.so"\n', 'loadmodule "mi_http.so"\n'
                        'loadmodule "mi_fifo.so"\n'
                        'modparam("mi_fifo", "fifo_name", "@FIFO@")\n'
                        'modparam("mi_fifo", "reply_dir", "@DIR@")\n')


def start_async(sb):
    port, http = sb.port(), sb.port()
    fifo = str(sb.dir / "sb_fifo")
    srv = sb.server(CFG_ASYNC, PORT=port, HTTP=http, FIFO=fifo, DIR=str(sb.dir),
                    listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", http)])
    return srv, http, fifo


def slow_callee(sb):
    """sipp UAS: 180 at once, 200 three seconds later, then the ACK."""
    uport = sb.port()
    uas = sb.sipp("slow", ["-sf", SCENARIOS / "mi_uas_slow.xml", "-i", "127.0.0.1", "-p", uport,
                           "-m", 1], timeout=20, background=True)
    time.sleep(0.3)  # sipp binds its port
    return uas, "sip:bob@127.0.0.1:%d" % uport


def timed(fn, *args):
    t0 = time.monotonic()
    r = fn(*args)
    return r, time.monotonic() - t0


def others_answer_at_once(srv, mi, fifo, d, pending):
    """uptime and ps over HTTP and over the FIFO, each within 1 s, while <pending> runs."""
    r, dt = timed(mi.call, "uptime")
    assert "Up time" in r["result"] and dt < 1.0, (dt, r)
    r, dt = timed(mi.call, "ps")
    assert r["result"]["Processes"] and dt < 1.0, (dt, r)
    r, dt = timed(fifo_call, fifo, d, {"jsonrpc": "2.0", "method": "uptime", "id": "u1"}, "r_up")
    assert r["id"] == "u1" and "Up time" in r["result"] and dt < 1.0, (dt, r)
    r, dt = timed(fifo_call, fifo, d, {"jsonrpc": "2.0", "method": "core:ps", "id": 5}, "r_ps")
    assert r["id"] == 5 and r["result"]["Processes"] and dt < 1.0, (dt, r)
    assert pending.is_alive(), "t_uac_dlg answered before the callee did: " + srv.log_tail()


def test_t_uac_dlg_async_over_http(sb):
    srv, http, fifo = start_async(sb)
    mi = Mi(http)
    uas, ruri = slow_callee(sb)
    dlg = Mi(http)  # a client of its own, the way two operators would
    dlg.seq = 41  # its request id: 42
    t0 = time.monotonic()
    t, out = in_thread(dlg.call, "t_uac_dlg", {"method": "INVITE", "ruri": ruri})
    time.sleep(0.5)  # the INVITE is out and ringing
    others_answer_at_once(srv, mi, fifo, str(sb.dir), t)
    t.join(15)
    took = time.monotonic() - t0
    assert "r" in out, (out, srv.log_tail())
    r = out["r"]
    assert r["id"] == 42, r
    assert r["result"]["Status"] == "200 OK", r
    assert r["result"]["Message"].startswith("SIP/2.0 200 OK\r\n"), r
    assert 2.5 < took < 8, took
    res = uas.wait()
    assert res.rc == 0, res.describe()


def test_t_uac_dlg_async_over_fifo(sb):
    srv, http, fifo = start_async(sb)
    mi = Mi(http)
    uas, ruri = slow_callee(sb)
    d = str(sb.dir)
    req = {"jsonrpc": "2.0", "method": "t_uac_dlg", "params": ["INVITE", ruri], "id": "dlg-7"}
    t0 = time.monotonic()
    t, out = in_thread(fifo_call, fifo, d, req, "r_dlg", 15.0)
    time.sleep(0.5)
    others_answer_at_once(srv, mi, fifo, d, t)
    t.join(20)
    took = time.monotonic() - t0
    assert "r" in out, (out, srv.log_tail())
    r = out["r"]
    assert r["id"] == "dlg-7" and r["result"]["Status"] == "200 OK", r
    assert 2.5 < took < 8, took
    res = uas.wait()
    assert res.rc == 0, res.describe()


def test_t_uac_dlg_pending_at_shutdown(sb):
    srv, http, fifo = start_async(sb)
    mi = Mi(http)
    uas = uas_sock(sb)
    try:
        ruri = "sip:quiet@127.0.0.1:%d" % uas.getsockname()[1]
        t, out = in_thread(mi.raw, json.dumps({"jsonrpc": "2.0", "method": "t_uac_dlg",
                                               "params": ["INVITE", ruri], "id": 3}).encode())
        req, src = recv(uas)
        assert req is not None and req.method == "INVITE", srv.log_tail()
        uas.sendto(reply(req, 180, "Ringing"), src)
        time.sleep(0.3)
        srv.stop()
        t.join(10)
        assert "r" in out, out
        status, body = out["r"]
        # answered, not left hanging: the JSON-RPC error of the shutdown (or the server's 503)
        if status == 200:
            assert body["id"] == 3 and body["error"]["message"] == "shutting down", body
        else:
            assert status == 503, out
    finally:
        uas.close()


# ---- t_uac_cancel of a pending t_uac_dlg ------------------------------------------------------

def ringing_callee(sb):
    """sipp UAS: 180 at once, never answers; CANCEL -> 200, then 487 to the INVITE, ACK."""
    uport = sb.port()
    uas = sb.sipp("ringing", ["-sf", SCENARIOS / "mi_uas_cancel.xml", "-i", "127.0.0.1", "-p",
                              uport, "-m", 1], timeout=20, background=True)
    time.sleep(0.3)  # sipp binds its port
    return uas, "sip:carol@127.0.0.1:%d" % uport


def cancel_pending_dlg(sb, via):
    srv, http, fifo = start_async(sb)
    d = str(sb.dir)
    uas, ruri = ringing_callee(sb)
    callid = "mi-cancel-%s-%d" % (via, os.getpid())
    # Call-ID and CSeq of our choosing, so that t_uac_cancel can name the transaction
    hdrs = "Call-ID: %s\r\nCSeq: 17 INVITE\r\n" % callid
    dlg = Mi(http)
    dlg.seq = 9  # its request id: 10
    t0 = time.monotonic()
    t, out = in_thread(dlg.call, "t_uac_dlg", ["INVITE", ruri, ".", ".", hdrs])
    time.sleep(0.8)  # the INVITE is out and the callee rings
    assert t.is_alive(), ("t_uac_dlg answered before the CANCEL", out, srv.log_tail())
    if via == "fifo":
        r = fifo_call(fifo, d, {"jsonrpc": "2.0", "method": "t_uac_cancel",
                                "params": {"callid": callid, "cseq": "17"}, "id": "c1"}, "r_cc")
        assert r["id"] == "c1", r
    else:
        r = Mi(http).call("t_uac_cancel", [callid, 17])
    assert r.get("result") == "OK", (r, srv.log_tail())
    t.join(10)
    took = time.monotonic() - t0
    assert "r" in out, (out, srv.log_tail())
    r = out["r"]
    assert r["id"] == 10, r
    assert r["result"]["Status"] == "487 Request Terminated", r
    msg = r["result"]["Message"]
    assert msg.startswith("SIP/2.0 487 Request Terminated\r\n"), r
    assert "Call-ID: %s\r\n" % callid in msg and "CSeq: 17 INVITE\r\n" in msg, msg
    assert took < 5, took
    # the callee saw the CANCEL, answered 487 and got its ACK (the scenario ran to its end)
    res = uas.wait()
    assert res.rc == 0, res.describe()
    # nothing of the call is left pending: a second cancel finds no transaction
    r = Mi(http).call("t_uac_cancel", [callid, 17])
    assert "error" in r, r


def test_t_uac_cancel_pending_dlg_over_fifo(sb):
    cancel_pending_dlg(sb, "fifo")


def test_t_uac_cancel_pending_dlg_over_http(sb):
    cancel_pending_dlg(sb, "http")
