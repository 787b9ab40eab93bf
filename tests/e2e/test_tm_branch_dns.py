# SPDX-License-Identifier: BSD-2-Clause
"""branch_route edits of a branch whose next hop needs a DNS answer (dnsmasq on loopback): the
request of that branch is sent after the resolution, and it must carry what its branch_route did
(a header added, one removed, a new Request-URI), while the other branch, sent at once to a
literal address, carries only its own edits."""
import os
import signal
import subprocess
import time

import pytest

from conftest import sip_request
from test_tm_failover import recv_req, reply, udp_at

DNSMASQ = "/usr/sbin/dnsmasq"

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"
loadmodule "sipmsgops.so"

route {
    if ($rm == "ACK")
        exit;
    $ru = "sip:bob@slow.fo.test:@P1@";
    append_branch("sip:other@127.0.0.1:@P2@");
    t_on_branch("edit");
    if (!t_relay())
        send_reply(500, "Relay failed");
}

branch_route[edit] {
    if ($rU == "bob") {
        append_hf("X-Edited: dns\\r\\n");
        remove_hf("Subject");
        $ru = "sip:edited@slow.fo.test:@P1@";
    } else {
        append_hf("X-Edited: literal\\r\\n");
    }
}
"""


@pytest.fixture
def dns(sb, monkeypatch):
    if not os.access(DNSMASQ, os.X_OK):
        pytest.skip("no dnsmasq")
    dport = sb.port()
    proc = subprocess.Popen(
        [DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts", "--port=%d" % dport,
         "--listen-address=127.0.0.1", "--bind-interfaces", "--local=/fo.test/",
         "--pid-file=", "--local-ttl=60", "--host-record=slow.fo.test,127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.3)
        if proc.poll() is not None:
            pytest.skip("dnsmasq did not start")
        conf = sb.dir / "resolv.conf"
        conf.write_text("nameserver 127.0.0.1:%d\n" % dport)
        hosts = sb.dir / "hosts"
        hosts.write_text("127.0.0.1 localhost\n")
        monkeypatch.setenv("SB_DNS_RESOLV_CONF", str(conf))
        monkeypatch.setenv("SB_DNS_HOSTS", str(hosts))
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_branch_route_edits_sent_after_dns(sb, dns):
    port, p1, p2 = sb.port(), sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, P1=p1, P2=p2, listen=[("udp", "127.0.0.1", port)])
    u1, u2 = udp_at(p1), udp_at(p2)
    try:
        caller = sb.sock("udp", ("127.0.0.1", port))
        caller.send(sip_request("MESSAGE", "sip:bob@127.0.0.1:%d" % port, caller.local, "UDP",
                                extra=["Subject: keep-or-drop", "Content-Type: text/plain"],
                                body=b"hi"))
        m2, src2 = recv_req(u2, "MESSAGE", 3)
        assert m2 is not None, srv.log_tail()
        assert m2.hdr("x-edited") == "literal", m2.headers
        assert m2.hdr("subject") == "keep-or-drop"
        m1, src1 = recv_req(u1, "MESSAGE", 3)
        assert m1 is not None, srv.log_tail()
        assert m1.start.startswith("MESSAGE sip:edited@slow.fo.test:%d " % p1), m1.start
        assert m1.all("x-edited") == ["dns"], m1.headers
        assert m1.hdr("subject") is None, m1.headers
        u1.sendto(reply(m1, 404, "Nope"), src1)
        u2.sendto(reply(m2, 200, "OK"), src2)
        r = caller.recv(3)
        assert r is not None and r.status == 200, (r, srv.log_tail())
    finally:
        u1.close()
        u2.close()
