# SPDX-License-Identifier: BSD-2-Clause
"""Two switchboard instances in a chain with record_route()/loose_route(): sipp UAC -> A -> B ->
sipp UAS. The 200 carries both Record-Route entries; ACK and BYE, sent by the UAC to A with the
route set as Route, travel A -> B -> UAS (RFC 3261 §16.12), which the UAS sees as three Vias and
no Route left."""
import re

import pytest

from conftest import SCENARIOS

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "sipmsgops.so"

route {
    if (has_totag()) {
        if (loose_route()) {
            forward();
            exit;
        }
        sl_send_reply(404, "Not here");
        exit;
    }
    record_route();
    forward("sip:127.0.0.1:@NEXT@;transport=@TRANSPORT@");
}
"""


def messages(text):
    """Split a sipp -trace_msg log into the SIP messages it holds."""
    out = []
    for block in re.split(r"\n-{5,}[^\n]*\n", text):
        m = re.search(r"(?m)^(?:[A-Z]+ \S+ SIP/2\.0|SIP/2\.0 \d{3}.*)$", block)
        if m:
            out.append(block[m.start():])
    return out


def headers(msg, name):
    return re.findall(r"(?im)^%s\s*:\s*(.*)$" % name, msg)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_record_route_chain(sb, transport):
    pa, pb, uas_port, uac_port = sb.port(), sb.port(), sb.port(), sb.port()
    a = sb.server(CFG, name="A", PORT=pa, NEXT=pb, TRANSPORT=transport)
    b = sb.server(CFG, name="B", PORT=pb, NEXT=uas_port, TRANSPORT=transport)
    t = ["-t", "t1"] if transport == "tcp" else ["-t", "u1"]
    uas = sb.sipp("uas", ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1", "-p", uas_port,
                          "-m", 1, "-trace_msg"] + t, background=True)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % pa, "-sf", SCENARIOS / "uac_rr.xml",
                          "-i", "127.0.0.1", "-p", uac_port, "-m", 1, "-trace_msg"] + t,
                  timeout=15)
    detail = "\n--- A ---\n%s\n--- B ---\n%s" % (a.log_tail(), b.log_tail())
    assert uac.rc == 0, uac.describe() + detail
    r = uas.wait()
    received = [m for m in messages(r.text("*_messages.log"))
                if re.match(r"(INVITE|ACK|BYE) ", m)]
    by_method = {m.split(" ", 1)[0]: m for m in received}
    assert set(by_method) >= {"INVITE", "ACK", "BYE"}, r.describe() + detail

    inv = by_method["INVITE"]
    rr = ",".join(headers(inv, "Record-Route"))
    assert ":%d" % pa in rr and ":%d" % pb in rr, "Record-Route in INVITE: %r" % rr
    assert rr.count(";lr") >= 2, rr

    for method in ("ACK", "BYE"):
        msg = by_method[method]
        vias = headers(msg, "Via") + headers(msg, "v")
        via_text = "\n".join(vias)
        # one Via per hop: the UAC, A and B (a Via header may hold several values)
        assert sum(v.count("SIP/2.0/") for v in vias) == 3, "%s Vias:\n%s" % (method, via_text)
        assert ":%d" % pa in via_text and ":%d" % pb in via_text, via_text
        assert not headers(msg, "Route"), "%s still has Route: %r" % (method, headers(msg, "Route"))
        assert msg.split(" ", 2)[1].find(":%d" % uas_port) > 0, msg.split("\n", 1)[0]
