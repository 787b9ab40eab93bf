# SPDX-License-Identifier: BSD-2-Clause
"""Registrar and location service end to end: sipp registers users read from a CSV (no
authentication), then a call to a registered user is routed by lookup() to the contact it
registered; contacts expire; with SQLite persistence the bindings survive a restart."""
import time

import pytest

from conftest import SipSocket, sip_request, socket_lines

CFG = """
log_level = 3
stderror_enabled = yes
@SOCKETS@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"
@DBMOD@
loadmodule "usrloc.so"
loadmodule "registrar.so"

modparam("usrloc", "use_domain", 1)
modparam("usrloc", "timer_interval", 1)
@USRLOC@
modparam("registrar", "min_expires", 1)

route {
    if ($rm == "REGISTER") {
        save("location");
        exit;
    }
    if (!lookup("location")) {
        sl_send_reply(404, "Not Found");
        exit;
    }
    forward();
}
"""

REGISTER_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register from csv">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:example.com SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:[field0]@example.com>;tag=[call_number]
      To: <sip:[field0]@example.com>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[field1]:[field2]>;expires=[field3]
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" />
</scenario>
"""


def start(sb, port, db_url=None, name="sb"):
    subs = dict(PORT=port, SOCKETS=socket_lines("127.0.0.1", port), DBMOD="", USRLOC="")
    if db_url:
        subs["DBMOD"] = 'loadmodule "db_sqlite.so"'
        subs["USRLOC"] = ('modparam("usrloc", "db_url", "%s")\n'
                          'modparam("usrloc", "working_mode_preset", '
                          '"single-instance-sql-write-through")' % db_url)
    return sb.server(CFG, name=name, **subs)


def register_csv(sb, port, users, expires=3600):
    """sipp registers every (user, host, port) from a CSV; returns the sipp result."""
    scen = sb.dir / "register.xml"
    scen.write_text(REGISTER_XML)
    csv = sb.dir / "users.csv"
    csv.write_text("SEQUENTIAL\n" + "".join("%s;%s;%d;%d;\n" % (u, h, p, expires)
                                            for u, h, p in users))
    return sb.sipp("reg", ["127.0.0.1:%d" % port, "-sf", scen, "-inf", csv, "-i", "127.0.0.1",
                           "-p", sb.port(), "-m", len(users), "-r", 50, "-t", "u1"], timeout=20)


def call(sb, port, user, callee_sock=None):
    """Send an INVITE for <user>@example.com; returns (reply to the caller, what the callee
    socket received)."""
    caller = sb.sock("udp", ("127.0.0.1", port))
    caller.send(sip_request("INVITE", "sip:%s@example.com" % user, caller.local))
    got = callee_sock.recv(timeout=2.0) if callee_sock else None
    reply = caller.recv(timeout=0.5 if got else 2.0)
    return reply, got


def test_register_csv_then_call_routed_by_lookup(sb):
    """20 users register through sipp; an INVITE to one of them reaches the contact it
    registered, with that contact as Request-URI; an unknown user gets 404."""
    port = sb.port()
    srv = start(sb, port)
    callee = SipSocket("udp", ("127.0.0.1", port))
    users = [("user%02d" % i, "127.0.0.1", 30000 + i) for i in range(19)]
    users.append(("callee", "127.0.0.1", callee.local[1]))
    r = register_csv(sb, port, users)
    assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()
    try:
        _, got = call(sb, port, "callee", callee)
        assert got is not None, "the INVITE did not reach the registered contact\n" + \
            srv.log_tail()
        assert got.method == "INVITE"
        assert got.start.split(" ")[1] == "sip:callee@127.0.0.1:%d" % callee.local[1]
        reply, _ = call(sb, port, "nobody")
        assert reply is not None and reply.status == 404
    finally:
        callee.close()


def test_bindings_listed_and_expire(sb):
    """The 200 OK lists the binding with its expires; after it runs out the user is gone."""
    port = sb.port()
    srv = start(sb, port)
    ua = sb.sock("udp", ("127.0.0.1", port))
    contact = "sip:exp@127.0.0.1:%d" % ua.local[1]
    ua.send(sip_request("REGISTER", "sip:exp@example.com", ua.local,
                        extra=["Contact: <%s>;expires=2" % contact]))
    ok = ua.recv()
    assert ok is not None and ok.status == 200, srv.log_tail()
    assert "<%s>;expires=2" % contact in ok.all("contact")
    assert ok.hdr("date") is not None
    _, got = call(sb, port, "exp", ua)
    assert got is not None and got.method == "INVITE"
    time.sleep(3.2)
    reply, _ = call(sb, port, "exp")
    assert reply is not None and reply.status == 404


def test_sqlite_bindings_survive_restart(sb):
    """With SQLite write-through, the bindings are loaded back after a restart and calls are
    still routed."""
    port = sb.port()
    db_url = "sqlite://%s/location.db" % sb.dir
    srv = start(sb, port, db_url=db_url)
    callee = SipSocket("udp", ("127.0.0.1", port))
    try:
        r = register_csv(sb, port, [("keep%d" % i, "127.0.0.1", 31000 + i) for i in range(5)] +
                         [("callee", "127.0.0.1", callee.local[1])])
        assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()
        time.sleep(0.5)  # write-through is queued: give the writer a moment
        srv.stop()
        srv2 = start(sb, port, db_url=db_url, name="sb2")
        assert "loaded 6 contacts" in srv2.log(), srv2.log_tail()
        _, got = call(sb, port, "callee", callee)
        assert got is not None and got.method == "INVITE", srv2.log_tail()
    finally:
        callee.close()


if __name__ == "__main__":
    pytest.main([__file__, "-v"])
