# SPDX-License-Identifier: BSD-2-Clause
"""TCP limits against hostile peers on a running server: the per-address connection cap (another
address still gets in), the first-message deadline (pings alone do not keep a connection), and
the connection listing of the list_tcp_conns / tcp:list management command over mi_http."""
import json
import time
import urllib.request

import pytest

from conftest import sip_request

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@
tcp_max_connections_per_ip = 3
tcp_first_msg_timeout = 2

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)

route {
    if ($rm == "ACK")
        exit;
    sl_send_reply(200, "OK");
}
"""


@pytest.fixture
def server(sb):
    port, http = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, HTTP=http,
                    listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", port),
                            ("tcp", "127.0.0.1", http)])
    return srv, ("127.0.0.1", port), http


def mi(http, method, params=None):
    body = {"jsonrpc": "2.0", "method": method, "id": 1}
    if params is not None:
        body["params"] = params
    req = urllib.request.Request("http://127.0.0.1:%d/mi" % http, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        reply = json.loads(r.read())
    assert "error" not in reply, reply
    return reply["result"]


def options(s, port, cseq=1):
    """An OPTIONS on TCP socket <s>; True when it is answered 200."""
    s.send(sip_request("OPTIONS", "sip:bob@127.0.0.1:%d" % port, s.local, "TCP", cseq=cseq))
    r = s.recv(3)
    return r is not None and r.status == 200


def conns(http, **params):
    return mi(http, "list_tcp_conns", params or None)["Connections"]


def test_list_tcp_conns(sb, server):
    srv, addr, http = server
    s = sb.sock("tcp", addr)
    assert options(s, addr[1]), srv.log_tail()
    mine = [c for c in conns(http) if c["Source"] == "127.0.0.1:%d" % s.local[1]]
    assert len(mine) == 1, conns(http)
    c = mine[0]
    assert c["Type"] == "tcp"
    assert c["State"] == "open"
    assert c["Destination"] == "127.0.0.1:%d" % addr[1]
    assert c["Direction"] == "in"
    assert isinstance(c["ID"], int) and c["ID"] > 0
    assert c["Worker"] == c["ID"] >> 24
    assert c["Age"] <= 2 and c["Idle"] <= 2
    assert 100 <= c["Timeout"] <= 120  # tcp_connection_lifetime
    assert c["Queued"] == 0
    assert time.strptime(c["Lifetime"], "%Y-%m-%d %H:%M:%S")
    # the namespaced name and the protocol filter
    assert [x["ID"] for x in mi(http, "tcp:list", {"proto": "tcp"})["Connections"]] == [c["ID"]]
    assert conns(http, proto="udp") == []
    s.close()
    end = time.monotonic() + 3
    while conns(http) and time.monotonic() < end:
        time.sleep(0.05)
    assert conns(http) == []


def test_per_ip_cap(sb, server):
    srv, addr, http = server
    socks = [sb.sock("tcp", addr) for _ in range(3)]
    for i, s in enumerate(socks):
        assert options(s, addr[1], cseq=i + 1), srv.log_tail()
    extra = sb.sock("tcp", addr)
    assert extra.wait_closed(3), "the 4th connection from 127.0.0.1 was kept"
    other = sb.sock("tcp", addr, local_host="127.0.0.2")
    assert options(other, addr[1]), "127.0.0.2 refused: %s" % srv.log_tail()
    sources = sorted(c["Source"].split(":")[0] for c in conns(http))
    assert sources == ["127.0.0.1"] * 3 + ["127.0.0.2"]
    # the capped ones still work, and a freed slot can be taken again
    assert options(socks[0], addr[1], cseq=9)
    socks[1].close()
    time.sleep(0.3)
    again = sb.sock("tcp", addr)
    assert options(again, addr[1]), srv.log_tail()
    assert srv.alive()


def test_first_message_deadline(sb, server):
    srv, addr, http = server
    good = sb.sock("tcp", addr)
    assert options(good, addr[1])
    pinger = sb.sock("tcp", addr)
    t0 = time.monotonic()
    closed = False
    while not closed and time.monotonic() - t0 < 5:
        pinger.send(b"\r\n\r\n")
        closed = pinger.wait_closed(0.3)
    took = time.monotonic() - t0
    assert closed, "a connection that only pings was kept"
    assert 1.5 <= took <= 4, took
    # the one that carried a message is still served
    assert options(good, addr[1], cseq=2)
    assert len(conns(http)) == 1
