# SPDX-License-Identifier: BSD-2-Clause
"""Events end to end: an OPTIONS request makes the script raise E_MY_EVENT with two attributes;
its event_route logs the $param values, and a UDP receiver and a TCP listener subscribed over
the management interface (event_datagram / event_stream) get the JSON-RPC notification. The
MI raise_event, events_list, subscribers_list and unsubscribing (expire 0) work too."""
import json
import socket
import time

from conftest import sip_request
from test_mi import Mi

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"
loadmodule "event_datagram.so"
loadmodule "event_stream.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)

route {
    $avp(name) = "method";
    $avp(value) = $rm;
    $avp(name) = "code";
    $avp(value) = 42;
    raise_event("E_MY_EVENT", $avp(name), $avp(value));
    sl_send_reply(200, "OK");
}

event_route[E_MY_EVENT] {
    xlog("L_NOTICE", "EVROUTE method=$param(method) code=$param(code)\\n");
}
"""


def start(sb):
    port, http = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, HTTP=http,
                    listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", http)])
    return srv, port, Mi(http)


def wait_log(srv, text, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in srv.log():
            return True
        time.sleep(0.05)
    return False


def options(sb, port):
    s = sb.sock("udp", ("127.0.0.1", port))
    s.send(sip_request("OPTIONS", "sip:ev@127.0.0.1:%d" % port, s.local))
    m = s.recv(3.0)
    assert m is not None and m.status == 200


def test_event_route_and_subscribers(sb):
    srv, port, mi = start(sb)
    names = [e["name"] for e in mi.result("events_list")["Events"]]
    assert "E_CORE_THRESHOLD" in names and "E_MY_EVENT" in names

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(5)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(5)
    usock = "udp:127.0.0.1:%d" % udp.getsockname()[1]
    tsock = "tcp:127.0.0.1:%d" % lst.getsockname()[1]
    try:
        assert mi.result("event_subscribe", ["E_MY_EVENT", usock]) == "OK"
        assert mi.result("evi:event_subscribe",
                         {"event": "E_MY_EVENT", "socket": tsock, "expire": 120}) == "OK"
        subs = mi.result("subscribers_list", ["E_MY_EVENT"])["Events"][0]["subscribers"]
        by_sock = {s["socket"]: s["expire"] for s in subs}
        assert set(by_sock) == {usock, tsock}
        assert 3590 <= by_sock[usock] <= 3600 and 110 <= by_sock[tsock] <= 120

        options(sb, port)
        assert wait_log(srv, "EVROUTE method=OPTIONS code=42"), srv.log_tail()
        want = {"jsonrpc": "2.0", "method": "E_MY_EVENT",
                "params": {"method": "OPTIONS", "code": 42}}
        assert json.loads(udp.recv(65535)) == want
        conn, _ = lst.accept()
        conn.settimeout(5)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = conn.recv(65535)
            assert chunk, "stream closed"
            buf += chunk
        assert json.loads(buf) == want

        # raised over MI: the event_route runs on a worker, subscribers get it too
        assert mi.result("raise_event", {"event": "E_MY_EVENT",
                                         "params": {"method": "MI", "code": 7}}) == "OK"
        assert wait_log(srv, "EVROUTE method=MI code=7"), srv.log_tail()
        got = json.loads(udp.recv(65535))
        assert got["params"] == {"method": "MI", "code": 7}
        buf = b""
        while not buf.endswith(b"\n"):
            buf += conn.recv(65535)
        assert json.loads(buf)["params"] == {"method": "MI", "code": 7}

        # expire 0 unsubscribes: the UDP receiver hears nothing more
        assert mi.result("event_subscribe", ["E_MY_EVENT", usock, 0]) == "OK"
        assert [s["socket"] for s in
                mi.result("subscribers_list")["Events"][0]["subscribers"]] == [tsock]
        options(sb, port)
        buf = b""
        while not buf.endswith(b"\n"):
            buf += conn.recv(65535)
        assert json.loads(buf)["params"]["method"] == "OPTIONS"
        udp.settimeout(0.5)
        try:
            extra = udp.recv(65535)
        except socket.timeout:
            extra = None
        assert extra is None
        conn.close()
    finally:
        udp.close()
        lst.close()


def test_subscribe_errors(sb):
    srv, port, mi = start(sb)
    assert mi.call("event_subscribe", ["E_NO_SUCH", "udp:127.0.0.1:9"])["error"]["code"] == -32000
    assert mi.call("event_subscribe", ["E_MY_EVENT", "udp:nohost"])["error"]["code"] == -32000
    assert mi.call("event_subscribe", ["E_MY_EVENT", "sctp:127.0.0.1:9"])["error"]["code"] == \
        -32000
    assert mi.call("raise_event", ["E_NO_SUCH"])["error"]["code"] == -32000
    assert mi.call("raise_event", {"event": "E_MY_EVENT", "params": [1]})["error"]["code"] == \
        -32602


THRESHOLD_CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
exec_msg_threshold = @US@

loadmodule "proto_udp.so"
loadmodule "sl.so"

route {
    # a deliberately slow route: a bounded busy loop
    $var(i) = 0;
    while ($var(i) < @LOOPS@) { $var(i) = $var(i) + 1; }
    sl_send_reply(200, "OK");
}

event_route[E_CORE_THRESHOLD] {
    xlog("L_NOTICE", "SLOW source=$param(source) us=$param(time) what=$param(extra)\\n");
}
"""


def test_core_threshold_event(sb):
    """exec_msg_threshold: a message whose handling takes longer raises E_CORE_THRESHOLD (and a
    warning); below the threshold nothing is raised."""
    port = sb.port()
    srv = sb.server(THRESHOLD_CFG, PORT=port, US=1, LOOPS=3000,
                    listen=[("udp", "127.0.0.1", port)])
    options(sb, port)
    assert wait_log(srv, "SLOW source=msg processing us="), srv.log_tail()
    assert "what=request from 127.0.0.1:" in srv.log()
    assert "exec_msg_threshold 1)" in srv.log()
    srv.stop()

    port = sb.port()
    srv = sb.server(THRESHOLD_CFG, PORT=port, US=10000000, LOOPS=1,
                    listen=[("udp", "127.0.0.1", port)])
    options(sb, port)
    time.sleep(0.3)
    assert "SLOW source=" not in srv.log()
