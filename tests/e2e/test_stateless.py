# SPDX-License-Identifier: BSD-2-Clause
"""Stateless forwarding: sipp UAC -> switchboard -> sipp UAS and back by Via, for OPTIONS,
MESSAGE and a whole INVITE dialog (INVITE/100/180/200/ACK/BYE/200), over UDP and TCP, on IPv4
and IPv6 loopback."""
import re

import pytest

from conftest import HAVE_IPV6, SCENARIOS, socket_lines, uri_host

CFG = """
log_level = 3
stderror_enabled = yes
@SOCKETS@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"

route {
    forward("sip:@UASHOST@:@UASPORT@;transport=@TRANSPORT@");
}
"""

FAMILIES = [pytest.param("127.0.0.1", id="ipv4"),
            pytest.param("::1", id="ipv6", marks=pytest.mark.skipif(not HAVE_IPV6,
                                                                    reason="no IPv6 loopback"))]


def start_proxy(sb, host, transport):
    port, uas = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, SOCKETS=socket_lines(host, port), UASHOST=uri_host(host),
                    UASPORT=uas, TRANSPORT=transport,
                    listen=[("udp", host, port), ("tcp", host, port)])
    return srv, port, uas


def tflag(transport):
    return ["-t", "t1"] if transport == "tcp" else ["-t", "u1"]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("host", FAMILIES)
@pytest.mark.parametrize("method", ["options", "message"])
def test_request_forwarded_and_answered(sb, method, host, transport):
    """Three requests go through the proxy to the UAS, whose 200s come back through it; the UAS
    sees the proxy's Via on top of the UAC's."""
    srv, port, uas_port = start_proxy(sb, host, transport)
    uac_port = sb.port()
    uas = sb.sipp("uas", ["-sf", SCENARIOS / "uas_req.xml", "-i", host, "-p", uas_port,
                          "-m", 3, "-trace_msg", "-trace_logs"] + tflag(transport),
                  background=True)
    uac = sb.sipp("uac", ["%s:%d" % (uri_host(host), port), "-sf",
                          SCENARIOS / ("uac_%s.xml" % method), "-i", host, "-p", uac_port,
                          "-m", 3, "-r", 10, "-trace_msg"] + tflag(transport), timeout=15)
    assert uac.rc == 0, uac.describe() + "\n--- server ---\n" + srv.log_tail()
    r = uas.wait()
    if transport == "udp":
        assert r.rc == 0, r.describe()
    msgs = r.text("*_messages.log")
    # the proxy's Via (its listening address) sits above the UAC's in what the UAS received
    vias = re.findall(r"(?im)^(?:via|v)\s*:.*$", msgs)
    proxy_via = [v for v in vias if ":%d" % port in v]
    assert len(proxy_via) >= 3, "UAS did not see the proxy's Via:\n" + msgs[-3000:]
    assert len(re.findall(r"GOT body=e2e %s" % method.upper(), r.text("*_logs.log"))) == 3


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("host", FAMILIES)
def test_invite_dialog_forwarded(sb, host, transport):
    """sipp's built-in uac/uas: three calls INVITE/100/180/200/ACK/BYE/200 through the proxy."""
    srv, port, uas_port = start_proxy(sb, host, transport)
    uac_port = sb.port()
    sb.sipp("uas", ["-sn", "uas", "-i", host, "-p", uas_port] + tflag(transport),
            background=True)
    uac = sb.sipp("uac", ["-sn", "uac", "%s:%d" % (uri_host(host), port), "-i", host,
                          "-p", uac_port, "-m", 3, "-r", 10, "-d", 200, "-trace_stat", "-fd", 1]
                  + tflag(transport), timeout=20)
    assert uac.rc == 0, uac.describe() + "\n--- server ---\n" + srv.log_tail()
    assert srv.alive()
