# SPDX-License-Identifier: BSD-2-Clause
"""Max-Forwards (RFC 3261 §16.3 step 3, §16.6 step 3): a request that arrives with
Max-Forwards: 0 is answered 483 and not forwarded, whether the script checks it with
mf_process_maxfwd_header() or the core finds it when forwarding; a forwarded request carries
the value decremented exactly once."""
import re
import socket

import pytest

from conftest import sip_request

CFG_CORE = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"

route {
    forward("sip:127.0.0.1:@NEXT@");
}
"""

CFG_MODULE = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"

route {
    if (!mf_process_maxfwd_header(10)) {
        sl_send_reply(483, "Too Many Hops");
        exit;
    }
    forward("sip:127.0.0.1:@NEXT@");
}
"""


class FakeNextHop:
    """A UDP socket standing for the next hop: it records what the proxy forwards."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            return None

    def close(self):
        self.sock.close()


def mf_of(raw):
    m = re.search(rb"(?im)^max-forwards[ \t]*:[ \t]*(\d+)", raw)
    return int(m.group(1)) if m else None


@pytest.fixture
def next_hop(sb):
    port = sb.port()
    hop = FakeNextHop(port)
    yield port, hop
    hop.close()


@pytest.mark.parametrize("cfg", [pytest.param(CFG_CORE, id="core"),
                                 pytest.param(CFG_MODULE, id="maxfwd_module")])
@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_max_forwards_zero_gets_483(sb, next_hop, cfg, proto):
    next_port, hop = next_hop
    port = sb.port()
    srv = sb.server(cfg, PORT=port, NEXT=next_port)
    s = sb.sock(proto, ("127.0.0.1", port))
    s.send(sip_request("OPTIONS", "sip:bob@127.0.0.1:%d" % port, s.local, proto.upper(),
                       max_forwards=0))
    r = s.recv(3)
    assert r is not None, "no answer to Max-Forwards: 0\n" + srv.log_tail()
    assert r.status == 483, r.raw[:500]
    got = hop.recv(0.3)
    assert got is None, "a request with Max-Forwards: 0 was forwarded:\n%r" % got[:300]


@pytest.mark.parametrize("cfg", [pytest.param(CFG_CORE, id="core"),
                                 pytest.param(CFG_MODULE, id="maxfwd_module")])
def test_max_forwards_decremented_once(sb, next_hop, cfg):
    next_port, hop = next_hop
    port = sb.port()
    srv = sb.server(cfg, PORT=port, NEXT=next_port)
    s = sb.sock("udp", ("127.0.0.1", port))
    s.send(sip_request("OPTIONS", "sip:bob@127.0.0.1:%d" % port, s.local, max_forwards=5))
    got = hop.recv(3)
    assert got is not None, "request not forwarded\n" + srv.log_tail()
    assert mf_of(got) == 4, got[:600]
    vias = re.findall(rb"(?im)^(?:via|v)[ \t]*:.*$", got)
    assert len(vias) == 2 and b":%d" % port in vias[0], vias
    # a request with Max-Forwards: 1 still goes, with 0
    s.send(sip_request("OPTIONS", "sip:bob@127.0.0.1:%d" % port, s.local, max_forwards=1))
    got = hop.recv(3)
    assert got is not None and mf_of(got) == 0, got


def test_max_forwards_added_by_module(sb, next_hop):
    """mf_process_maxfwd_header(10) on a request without Max-Forwards adds one (RFC 2543
    clients), so the next hop sees a value no larger than the limit."""
    next_port, hop = next_hop
    port = sb.port()
    srv = sb.server(CFG_MODULE, PORT=port, NEXT=next_port)
    s = sb.sock("udp", ("127.0.0.1", port))
    s.send(sip_request("OPTIONS", "sip:bob@127.0.0.1:%d" % port, s.local, max_forwards=None))
    got = hop.recv(3)
    assert got is not None, "request not forwarded\n" + srv.log_tail()
    mf = mf_of(got)
    assert mf is not None and 0 < mf <= 10, got[:600]
    assert len(re.findall(rb"(?im)^max-forwards", got)) == 1, got[:600]
