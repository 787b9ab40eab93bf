# SPDX-License-Identifier: BSD-2-Clause
"""Branch AVPs ($bavp): a parallel fork to two sipp callees where branch_route gives each branch
its own value and onreply_route logs the value of the branch each reply belongs to. The ringing
callee (branch 0, "one") is cancelled once the other (branch 1, "two") answers; the server log
must pair every reply with its own branch's value."""
import re

from conftest import SCENARIOS

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sipmsgops.so"

modparam("tm", "fr_timeout", 2)
modparam("tm", "fr_inv_timeout", 6)

route {
    if (has_totag()) {
        if (loose_route()) {
            t_relay();
            exit;
        }
        if (is_method("ACK")) {
            if (t_check_trans())
                t_relay();
            exit;
        }
        send_reply(404, "Not here");
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans())
            t_relay();
        exit;
    }
    record_route();
    $ru = "sip:one@127.0.0.1:@UAS1@";
    append_branch("sip:two@127.0.0.1:@UAS2@");
    t_on_branch("per_branch");
    t_on_reply("show");
    if (!t_relay())
        send_reply(500, "Relay failed");
}

branch_route[per_branch] {
    $bavp(callee) = $rU;
    $bavp(callee) = "callee-" + $rU;
    $bavp(idx) = $T_branch_idx;
}

onreply_route[show] {
    xlog("L_ERR", "BAVP reply=$rs branch=$T_branch_idx callee=$bavp(callee) first=$(bavp(callee)[1]) idx=$bavp(idx)\\n");
}
"""


def test_bavp_follows_its_branch(sb):
    port, uas1, uas2 = sb.port(), sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, UAS1=uas1, UAS2=uas2, listen=[("udp", "127.0.0.1", port)])
    ringer = sb.sipp("ringer", ["-sf", SCENARIOS / "tm_uas_ring_cancel.xml", "-i", "127.0.0.1",
                                "-p", uas1, "-m", 1, "-t", "u1"], background=True)
    answerer = sb.sipp("answerer", ["-sf", SCENARIOS / "acc_uas_slow200.xml", "-i", "127.0.0.1",
                                    "-p", uas2, "-m", 1, "-t", "u1"], background=True)
    uac = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "uac_rr.xml", "-s", "fork",
                          "-i", "127.0.0.1", "-p", sb.port(), "-m", 1, "-t", "u1"], timeout=15)
    assert uac.rc == 0, uac.describe() + srv.log_tail()
    ra = answerer.wait()
    assert ra.rc == 0, ra.describe() + srv.log_tail()
    rr = ringer.wait()
    assert rr.rc == 0, rr.describe() + srv.log_tail()

    seen = re.findall(r"BAVP reply=(\d+) branch=(\d+) callee=(\S+) first=(\S+) idx=(\S+)",
                      srv.log())
    assert seen, srv.log_tail()
    by_branch = {}
    for code, br, callee, first, idx in seen:
        by_branch.setdefault(br, set()).add((callee, first, idx))
        by_branch.setdefault(br + "codes", set()).add(code)
    # each reply read the values its own branch_route set, never the other branch's
    assert by_branch.get("0") == {("callee-one", "one", "0")}, seen
    assert by_branch.get("1") == {("callee-two", "two", "1")}, seen
    assert {"180", "487"} <= by_branch["0codes"], seen
    assert {"180", "200"} <= by_branch["1codes"], seen
