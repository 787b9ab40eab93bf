# SPDX-License-Identifier: BSD-2-Clause
"""The shipped residential config (etc/switchboard.cfg) end to end: only its port, database URL
and a few timers are changed here, so these tests break when the config does.

- 10,000 users created in the SQLite file register through sipp with digest auth, each binding is
  then found by sending requests to sample users (their contacts point at a socket of the test);
- two registered users call each other (sipp callee registered as bob, sipp caller with proxy
  auth), before and after a restart that must keep every registration (SQLite write-back);
- short registrations expire, from memory and from the table;
- the same registration and call against a PostgreSQL server started here, and an outage of that
  server while users register: they are still accepted and reach the table once it is back;
- digest details of this config (test_auth.py covers the auth module on its own): SHA-256 on the
  second challenge, a wrong password, a replayed nonce-count, a nonce from before a restart
  (stale=true), credentials of another user;
- baresip as a second, real user agent: it registers and calls a registered sipp user.
"""
import hashlib
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BINARY, REPO, SCENARIOS, SipMsg, free_port, need, stop_pid
from test_auth import challenges, digest

CFG_PATH = REPO / "etc" / "switchboard.cfg"
SBCTL = BINARY.parent / "sbctl"
DOMAIN = "127.0.0.1"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
BARESIP_PEERS = REPO.parent / "shared" / "peers" / "baresip"


# ---- the config --------------------------------------------------------------------------------


def set_param(text, mod, name, value):
    """Change modparam(<mod>, <name>, ...) of the shipped config; it must be there."""
    pat = re.compile(r'^(modparam\("%s",\s*"%s",\s*)[^)]*\)' % (re.escape(mod), re.escape(name)),
                     re.M)
    assert pat.search(text), "etc/switchboard.cfg has no modparam(%s, %s)" % (mod, name)
    return pat.sub(lambda m: m.group(1) + value + ")", text)


def resi_cfg(port, db_url, auth_url=None, driver="db_sqlite", params=(), algorithms=None):
    """etc/switchboard.cfg on <port>, usrloc on <db_url>, auth_db on <auth_url> (default the
    same), with both drivers loaded when needed and <params> ((mod, name, value) text) set;
    <algorithms> replaces the challenges' "MD5" as the config's comment tells operators to."""
    text = CFG_PATH.read_text()
    if algorithms:
        n = len(re.findall(r'_challenge\("", "auth", "MD5"\)', text))
        assert n == 2, "etc/switchboard.cfg: expected two MD5 challenges, found %d" % n
        text = text.replace('_challenge("", "auth", "MD5")',
                            '_challenge("", "auth", "%s")' % algorithms)
    assert "127.0.0.1:5060" in text
    text = text.replace("127.0.0.1:5060", "127.0.0.1:%d" % port)
    text = set_param(text, "usrloc", "db_url", '"%s"' % db_url)
    text = set_param(text, "auth_db", "db_url", '"%s"' % (auth_url or db_url))
    if driver != "db_sqlite":
        assert 'loadmodule "db_sqlite.so"' in text
        text = text.replace('loadmodule "db_sqlite.so"',
                            'loadmodule "db_sqlite.so"\nloadmodule "%s.so"' % driver)
    text = set_param(text, "usrloc", "timer_interval", "1")
    for mod, name, value in params:
        text = set_param(text, mod, name, value)
    return text


def sbctl(*args):
    if not SBCTL.exists():
        pytest.skip("no sbctl next to %s" % BINARY)
    r = subprocess.run([str(SBCTL)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, "sbctl %s: rc %d\n%s%s" % (args, r.returncode, r.stdout, r.stderr)
    return r.stdout


def ha1(alg, user, pw, realm=DOMAIN):
    h = hashlib.md5 if alg == "MD5" else hashlib.sha256
    return h(("%s:%s:%s" % (user, realm, pw)).encode()).hexdigest()


def bulk_users(db, users):
    """Insert subscribers straight into the SQLite table sbctl created (one transaction), with
    the HA1 columns the config reads (calculate_ha1 = 0)."""
    con = sqlite3.connect(str(db))
    con.executemany(
        "INSERT INTO subscriber (username, domain, password, ha1, ha1_sha256) "
        "VALUES (?, ?, ?, ?, ?)",
        [(u, DOMAIN, p, ha1("MD5", u, p), ha1("SHA-256", u, p)) for u, p in users])
    con.commit()
    con.close()


def sqlite_rows(db, sql, args=()):
    con = sqlite3.connect(str(db), timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_for(fn, timeout, step=0.2):
    """Poll <fn> until it returns a true value or <timeout> s pass; returns the last value."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


def sqlite_world(sb, users=(("alice", "alice-pw"), ("bob", "bob-pw"))):
    """A SQLite file with the schema made by `sbctl db init` and <users> added by `sbctl user
    add`; returns (path, url)."""
    db = sb.dir / "switchboard.db"
    url = "sqlite://" + str(db)
    sbctl("-d", url, "db", "init")
    for u, p in users:
        sbctl("-d", url, "user", "add", "%s@%s" % (u, DOMAIN), p)
    return db, url


# ---- SIP over raw sockets ----------------------------------------------------------------------

_n = [0]


def request(method, ruri, local, frm, to, call_id=None, cseq=1, extra=(), body=b"",
            branch=None, to_tag=None, from_tag=None, max_forwards=70):
    _n[0] += 1
    call_id = call_id or "resi-%d-%d" % (os.getpid(), _n[0])
    branch = branch or "z9hG4bK-resi-%d-%d" % (os.getpid(), _n[0])
    lines = ["%s %s SIP/2.0" % (method, ruri),
             "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (local[0], local[1], branch),
             "Max-Forwards: %d" % max_forwards,
             "From: <%s>;tag=%s" % (frm, from_tag or "rt%d" % _n[0]),
             "To: <%s>%s" % (to, ";tag=" + to_tag if to_tag else ""),
             "Call-ID: %s" % call_id,
             "CSeq: %d %s" % (cseq, method)]
    if not any(e.lower().startswith("contact:") for e in extra):
        lines.append("Contact: <sip:%s:%d>" % local)
    lines += list(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def reply_to(msg, code, reason="OK", to_tag="probe"):
    """A UAS answer to <msg>: Vias, From, To (+ a tag), Call-ID and CSeq copied."""
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in msg.headers:
        ln = n.lower()
        if ln in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
            lines.append("%s: %s" % (n, v))
        elif ln in ("to", "t"):
            lines.append("%s: %s%s" % (n, v, "" if ";tag=" in v else ";tag=" + to_tag))
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Probe:
    """A UDP socket the test registers as a contact: it answers every request but ACK with 200
    and hands the requests it was asked for to the test."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.addr = self.sock.getsockname()
        self.hostport = "%s:%d" % self.addr

    def wait(self, ruri_user, timeout=3.0):
        """The first request other than ACK for sip:<ruri_user>@... within <timeout> (others are
        answered and skipped); None when none came."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                return None
            m = SipMsg(data)
            if m.method is None:
                continue
            if m.method != "ACK":
                self.sock.sendto(reply_to(m, 200), peer)
            if m.method != "ACK" and m.start.split(" ")[1].startswith("sip:%s@" % ruri_user):
                return m
        return None

    def close(self):
        self.sock.close()


class Ua:
    """A raw UDP user agent talking to the proxy."""

    def __init__(self, server):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.local = self.sock.getsockname()

    def send(self, data):
        self.sock.sendto(data, self.server)

    def recv(self, timeout=3.0, final=True):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            m = SipMsg(data)
            if final and m.status is not None and m.status < 200:
                continue
            return m
        return None

    def ask(self, data, timeout=3.0):
        self.send(data)
        return self.recv(timeout)

    def close(self):
        self.sock.close()


def probe_user(port, user, probe, timeout=3.0):
    """Send OPTIONS for sip:<user>@DOMAIN from a foreign domain (no authentication asked) and
    return (request that reached the probe or None, final answer the sender got or None)."""
    ua = Ua(("127.0.0.1", port))
    try:
        ua.send(request("OPTIONS", "sip:%s@%s" % (user, DOMAIN), ua.local,
                        "sip:probe@elsewhere.invalid", "sip:%s@%s" % (user, DOMAIN)))
        got = probe.wait(user, timeout) if probe else None
        return got, ua.recv(timeout)
    finally:
        ua.close()


def register_raw(ua, user, pw, contact, expires=300, alg="MD5", call_id=None):
    """REGISTER -> 401 -> REGISTER with <alg> credentials; returns (challenge reply, final)."""
    call_id = call_id or "reg-%s-%d" % (user, random.getrandbits(32))
    aor = "sip:%s@%s" % (user, DOMAIN)
    ruri = "sip:" + DOMAIN
    ext = ["Expires: %d" % expires]

    def reg(extra, cseq):
        return request("REGISTER", ruri, ua.local, aor, aor, call_id=call_id, cseq=cseq,
                       extra=["Contact: <%s>" % contact] + ext + extra)

    r1 = ua.ask(reg([], 1))
    assert r1 is not None and r1.status == 401, r1
    ch = [c for c in challenges(r1) if c.get("algorithm") == alg]
    assert ch, r1.raw
    cred = digest(alg, user, DOMAIN, pw, "REGISTER", ruri, ch[0]["nonce"])
    return r1, ua.ask(reg(["Authorization: " + cred], 2))


def run_sipp(sb, name, port, scenario, csv_lines, extra=(), m=1, timeout=30, background=False):
    csv = sb.dir / ("%s.csv" % name)
    csv.write_text("SEQUENTIAL\n" + "".join(line + "\n" for line in csv_lines))
    args = ["127.0.0.1:%d" % port, "-sf", SCENARIOS / scenario, "-inf", csv, "-m", m,
            "-i", "127.0.0.1", "-p", sb.port()] + list(extra)
    return sb.sipp(name, args, timeout=timeout, background=background)


def auth_field(user, pw):
    return "[authentication username=%s password=%s]" % (user, pw)


def call_bob(sb, srv, port, callee_bg, caller="alice", caller_pw="alice-pw", transport="udp"):
    """sipp caller -> proxy (407, then Proxy-Authorization) -> bob (the registered sipp callee,
    on UDP); the caller on <transport>."""
    r = run_sipp(sb, "caller-%d" % _next(), port, "resi_caller.xml",
                 ["%s;%s;%s;bob" % (caller, DOMAIN, auth_field(caller, caller_pw))], timeout=20,
                 extra=["-t", "t1"] if transport == "tcp" else [])
    assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()
    rc = callee_bg.wait(5)
    assert rc.rc == 0, rc.describe() + "\n--- server ---\n" + srv.log_tail()


_k = [0]


def _next():
    _k[0] += 1
    return _k[0]


def start_callee(sb, srv, port, user="bob", pw="bob-pw"):
    """<user>'s phone: a sipp UAS that takes one call (in the background), registered by a sipp
    UAC with the UAS's address as Contact."""
    uas_port = sb.port()
    uas = sb.sipp("uas-%d" % _next(), ["-sf", SCENARIOS / "resi_uas.xml", "-i", "127.0.0.1",
                                        "-p", uas_port, "-m", 1], timeout=40, background=True)
    r = run_sipp(sb, "reg-%s-%d" % (user, _next()), port, "resi_register.xml",
                 ["%s;%s;%s;127.0.0.1:%d" % (user, DOMAIN, auth_field(user, pw), uas_port)],
                 extra=["-key", "expires", "300"], timeout=10)
    assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()
    return uas


# ---- SQLite ------------------------------------------------------------------------------------


def test_10000_registrations(sb):
    """10,000 distinct users register (REGISTER -> 401 -> REGISTER with credentials -> 200) at
    2000 calls/s; sample users are then reachable at their contact, an unknown one is 404, and
    every user has its row in the location table after the write-back."""
    n = 10000
    db, url = sqlite_world(sb, users=())
    users = [("u%05d" % i, "pw%05d" % i) for i in range(n)]
    bulk_users(db, users)
    port = sb.port()
    probe = Probe()
    srv = sb.server(resi_cfg(port, url), PORT=port)
    r = run_sipp(sb, "reg10k", port, "resi_register.xml",
                 ["%s;%s;%s;%s" % (u, DOMAIN, auth_field(u, p), probe.hostport) for u, p in users],
                 extra=["-key", "expires", "600", "-r", "2000", "-rp", "1000", "-l", "2000"],
                 m=n, timeout=60)
    assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()
    assert re.search(r"Successful call\s*\|\s*\d+\s*\|\s*%d\b" % n, r.out), r.out[-2000:]
    for u, _ in random.Random(7).sample(users, 20):
        got, ans = probe_user(port, u, probe)
        assert got is not None, "OPTIONS for %s did not reach its contact (answer %r)" % (u, ans)
        assert got.start.startswith("OPTIONS sip:%s@%s " % (u, probe.hostport)), got.start
        assert ans is not None and ans.status == 200, ans
    _, ans = probe_user(port, "nobody", None)
    assert ans is not None and ans.status == 404, ans

    def stored():
        return sqlite_rows(db, "SELECT COUNT(DISTINCT username) FROM location")[0][0]

    assert wait_for(lambda: stored() == n, 15), \
        "location table has %d of %d users after the write-back:\n%s" % (stored(), n,
                                                                          srv.log_tail())
    probe.close()


def test_call_and_restart_keeps_registrations(sb):
    """alice registers (contact: a socket of the test), bob is a sipp UA that registers and takes
    a call from alice through the proxy. The server is restarted; a nonce from before the
    restart is stale; bob (registered before it) takes a second call, from alice over TCP this
    time, and alice is still found."""
    db, url = sqlite_world(sb)
    port = sb.port()
    cfg = resi_cfg(port, url)
    srv = sb.server(cfg, PORT=port)
    probe = Probe()
    ua = Ua(("127.0.0.1", port))
    _, ok = register_raw(ua, "alice", "alice-pw", "sip:alice@" + probe.hostport)
    assert ok is not None and ok.status == 200, ok
    callee = start_callee(sb, srv, port)
    call_bob(sb, srv, port, callee)

    callee = start_callee(sb, srv, port)
    old_chal = ua.ask(request("REGISTER", "sip:" + DOMAIN, ua.local, "sip:alice@" + DOMAIN,
                              "sip:alice@" + DOMAIN, extra=["Expires: 300"]))
    assert old_chal is not None and old_chal.status == 401
    def users():
        return [u for u, in sqlite_rows(db, "SELECT DISTINCT username FROM location ORDER BY 1")]

    assert wait_for(lambda: users() == ["alice", "bob"], 5), \
        "location table before the restart: %r\n%s" % (users(), srv.log_tail())
    time.sleep(1.2)  # one more write-back period for bob's second REGISTER
    srv.stop()
    assert srv.rc == 0, srv.log_tail()
    srv2 = sb.server(cfg, name="sb2", PORT=port)

    # alice answers with the nonce of the previous start: the right password, a foreign nonce
    ch = [c for c in challenges(old_chal) if c.get("algorithm") == "MD5"][0]
    cred = digest("MD5", "alice", DOMAIN, "alice-pw", "REGISTER", "sip:" + DOMAIN, ch["nonce"])
    r = ua.ask(request("REGISTER", "sip:" + DOMAIN, ua.local, "sip:alice@" + DOMAIN,
                       "sip:alice@" + DOMAIN, cseq=2,
                       extra=["Contact: <sip:alice@%s>" % probe.hostport, "Expires: 300",
                              "Authorization: " + cred]))
    assert r is not None and r.status == 401, r
    assert any(c.get("stale") == "true" for c in challenges(r)), r.raw

    got, ans = probe_user(port, "alice", probe)
    assert got is not None, "alice's binding was lost in the restart (answer %r):\n%s" % (
        ans, srv2.log_tail())
    call_bob(sb, srv2, port, callee, transport="tcp")
    ua.close()
    probe.close()


def test_expiry_removes_contacts(sb):
    """A 2-second registration is routable at once, gone (404) after it expires, and its row
    leaves the table; a 300-second one of the same user set stays."""
    db, url = sqlite_world(sb, users=(("carol", "carol-pw"), ("dave", "dave-pw")))
    port = sb.port()
    srv = sb.server(resi_cfg(port, url, params=[("registrar", "min_expires", "1")]), PORT=port)
    probe = Probe()
    ua = Ua(("127.0.0.1", port))
    _, ok = register_raw(ua, "carol", "carol-pw", "sip:carol@" + probe.hostport, expires=2)
    assert ok is not None and ok.status == 200, ok
    assert re.search(r";expires=[12]\b", ok.hdr("Contact") or ""), ok.raw
    _, ok = register_raw(ua, "dave", "dave-pw", "sip:dave@" + probe.hostport, expires=300)
    assert ok is not None and ok.status == 200, ok
    got, _ = probe_user(port, "carol", probe)
    assert got is not None, srv.log_tail()
    assert wait_for(lambda: sqlite_rows(db, "SELECT 1 FROM location WHERE username='carol'"), 3), \
        "carol never reached the table:\n" + srv.log_tail()
    time.sleep(2.5)
    got, ans = probe_user(port, "carol", probe, timeout=1.5)
    assert got is None and ans is not None and ans.status == 404, (got, ans)
    gone = wait_for(lambda: not sqlite_rows(
        db, "SELECT 1 FROM location WHERE username='carol'"), 4)
    assert gone, "carol's expired row is still in the table:\n" + srv.log_tail()
    assert sqlite_rows(db, "SELECT 1 FROM location WHERE username='dave'")
    got, _ = probe_user(port, "dave", probe)
    assert got is not None
    ua.close()
    probe.close()


# ---- authentication in this config -------------------------------------------------------------


def test_auth_rules(sb):
    """Digest as this config applies it, with SHA-256 enabled the way its comment says: both
    challenges in the order given; SHA-256 credentials register; a wrong password is challenged
    again and not relayed; credentials of another user are refused (403); a replayed nonce-count
    on an INVITE is challenged again; OPTIONS to the server is answered without credentials;
    requests neither from nor to our domain are refused."""
    db, url = sqlite_world(sb)
    port = sb.port()
    srv = sb.server(resi_cfg(port, url, algorithms="SHA-256,MD5"), PORT=port)
    probe = Probe()
    ua = Ua(("127.0.0.1", port))
    r1, ok = register_raw(ua, "bob", "bob-pw", "sip:bob@" + probe.hostport, alg="SHA-256")
    assert [c.get("algorithm") for c in challenges(r1)] == ["SHA-256", "MD5"], r1.raw
    assert ok is not None and ok.status == 200, ok

    alice, bob = "sip:alice@" + DOMAIN, "sip:bob@" + DOMAIN
    sdp = b"v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
          b"m=audio 4000 RTP/AVP 0\r\n"

    def invite(extra, cseq, call_id):
        return request("INVITE", bob, ua.local, alice, bob, call_id=call_id, cseq=cseq,
                       extra=extra, body=sdp)

    def ack(to_tag, cseq, call_id, branch):
        ua.send(request("ACK", bob, ua.local, alice, bob, call_id=call_id, cseq=cseq,
                        branch=branch, to_tag=to_tag))

    # no credentials: 407 with both challenges
    r = ua.ask(invite([], 1, "inv-1"))
    assert r is not None and r.status == 407, r
    ch = challenges(r, "Proxy-Authenticate")
    assert [c.get("algorithm") for c in ch] == ["SHA-256", "MD5"], r.raw
    assert all(c.get("realm") == DOMAIN for c in ch), r.raw

    # wrong password: challenged again, not stale, nothing reaches bob
    cred = digest("MD5", "alice", DOMAIN, "wrong", "INVITE", bob, ch[1]["nonce"])
    r = ua.ask(invite(["Proxy-Authorization: " + cred], 2, "inv-2"))
    assert r is not None and r.status == 407 and "stale" not in r.raw.decode(), r
    assert probe.wait("bob", 0.5) is None

    # alice's credentials in a request from carol's identity: 403
    cred = digest("SHA-256", "alice", DOMAIN, "alice-pw", "INVITE", bob, ch[0]["nonce"])
    forged = request("INVITE", bob, ua.local, "sip:carol@" + DOMAIN, bob, call_id="inv-3",
                     extra=["Proxy-Authorization: " + cred], body=sdp)
    r = ua.ask(forged)
    assert r is not None and r.status == 403, r

    # the right SHA-256 answer is relayed to bob's contact; the same nonce-count again is not
    cred = digest("SHA-256", "alice", DOMAIN, "alice-pw", "INVITE", bob, ch[0]["nonce"],
                  nc="00000002")
    ua.send(invite(["Proxy-Authorization: " + cred], 1, "inv-4"))
    got = probe.wait("bob", 3)
    assert got is not None, srv.log_tail()
    assert got.hdr("Proxy-Authorization") is None, "credentials were forwarded"
    assert got.hdr("Record-Route"), got.raw
    r = ua.recv(3)
    assert r is not None and r.status == 200, r
    ua.send(request("ACK", "sip:bob@" + probe.hostport, ua.local, alice, bob, call_id="inv-4",
                    cseq=1, to_tag="probe", extra=["Route: " + got.hdr("Record-Route")]))
    replay = invite(["Proxy-Authorization: " + cred], 1, "inv-5")
    r = ua.ask(replay)
    assert r is not None and r.status == 407, r
    assert probe.wait("bob", 0.5) is None, "a replayed nonce-count was relayed"

    # a keep-alive to the server itself needs no credentials, one to a user does
    r = ua.ask(request("OPTIONS", "sip:" + DOMAIN, ua.local, alice, "sip:" + DOMAIN))
    assert r is not None and r.status == 200, r
    r = ua.ask(request("OPTIONS", bob, ua.local, alice, bob))
    assert r is not None and r.status == 407, r

    # neither from nor to our domain: no open relay
    r = ua.ask(request("INVITE", "sip:x@elsewhere.invalid", ua.local, "sip:y@other.invalid",
                       "sip:x@elsewhere.invalid", body=sdp))
    assert r is not None and r.status == 403, r
    ua.close()
    probe.close()


SDP = (b"v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 4000 RTP/AVP 0\r\n")


class Phone(Ua):
    """A raw UA that both calls (through the proxy) and receives requests at its own address."""

    def next_request(self, method, timeout=3.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                return None, None
            m = SipMsg(data)
            if m.method == method:
                return m, peer
        return None, None

    def answer(self, msg, peer, code, reason):
        self.sock.sendto(reply_to(msg, code, reason, to_tag="callee"), peer)


def test_call_failures_cancel_and_max_forwards(sb):
    """What the config does around a call that does not get answered: the caller's CANCEL
    reaches the ringing callee and the caller gets 487; a busy callee's 486 reaches the caller
    (failure_route); a callee that never answers becomes 480 after fr_inv_timeout; an unknown
    user is 404; Max-Forwards 0 is 483."""
    db, url = sqlite_world(sb)
    port = sb.port()
    srv = sb.server(resi_cfg(port, url, params=[("tm", "fr_inv_timeout", "2")]), PORT=port)
    server = ("127.0.0.1", port)
    caller, callee = Phone(server), Phone(server)
    contact = "sip:bob@%s:%d" % callee.local
    _, ok = register_raw(callee, "bob", "bob-pw", contact)
    assert ok is not None and ok.status == 200, ok
    alice, bob = "sip:alice@" + DOMAIN, "sip:bob@" + DOMAIN

    r = caller.ask(request("INVITE", bob, caller.local, alice, bob, call_id="ch", body=SDP))
    assert r is not None and r.status == 407, r
    nonce = challenges(r, "Proxy-Authenticate")[0]["nonce"]
    ncount = [0]

    def invite(call_id):
        """An authenticated INVITE from alice to bob; returns (branch, from tag)."""
        ncount[0] += 1
        cred = digest("MD5", "alice", DOMAIN, "alice-pw", "INVITE", bob, nonce,
                      nc="%08x" % ncount[0])
        branch, tag = "z9hG4bK-%s" % call_id, "ft-" + call_id
        caller.send(request("INVITE", bob, caller.local, alice, bob, call_id=call_id,
                            branch=branch, from_tag=tag, body=SDP,
                            extra=["Proxy-Authorization: " + cred]))
        return branch, tag

    def ack(reply, call_id, branch, tag):
        """ACK of a negative final answer: the INVITE's branch, the answer's To tag."""
        to_tag = reply.hdr("To").split(";tag=")[1].split(";")[0]
        caller.send(request("ACK", bob, caller.local, alice, bob, call_id=call_id, branch=branch,
                            from_tag=tag, to_tag=to_tag))

    # ringing, then cancelled by the caller
    branch, tag = invite("c-cancel")
    inv, peer = callee.next_request("INVITE")
    assert inv is not None, srv.log_tail()
    callee.answer(inv, peer, 180, "Ringing")
    r = caller.recv(3, final=False)
    while r is not None and r.status == 100:
        r = caller.recv(3, final=False)
    assert r is not None and r.status == 180, r
    caller.send(request("CANCEL", bob, caller.local, alice, bob, call_id="c-cancel",
                        branch=branch, from_tag=tag))
    cancel, cpeer = callee.next_request("CANCEL")
    assert cancel is not None, "the CANCEL did not reach the callee:\n" + srv.log_tail()
    assert cancel.hdr("Via").split(";branch=")[1].split(";")[0] == \
        inv.hdr("Via").split(";branch=")[1].split(";")[0], (cancel.raw, inv.raw)
    callee.answer(cancel, cpeer, 200, "OK")
    callee.answer(inv, peer, 487, "Request Terminated")
    finals = [caller.recv(3), caller.recv(3)]
    codes = sorted((m.hdr("CSeq").split()[1], m.status) for m in finals if m is not None)
    assert codes == [("CANCEL", 200), ("INVITE", 487)], [m and m.start for m in finals]
    ack([m for m in finals if m.status == 487][0], "c-cancel", branch, tag)
    proxy_ack, _ = callee.next_request("ACK", 2)  # the proxy ACKs the 487 itself
    assert proxy_ack is not None

    # busy
    branch, tag = invite("c-busy")
    inv, peer = callee.next_request("INVITE")
    assert inv is not None
    callee.answer(inv, peer, 486, "Busy Here")
    r = caller.recv(3)
    assert r is not None and r.status == 486, r
    ack(r, "c-busy", branch, tag)

    # nobody answers: 408 from tm becomes 480 in failure_route
    branch, tag = invite("c-noanswer")
    inv, peer = callee.next_request("INVITE")
    assert inv is not None
    callee.answer(inv, peer, 180, "Ringing")
    r = caller.recv(6)
    assert r is not None and r.status == 480, r
    ack(r, "c-noanswer", branch, tag)

    # nobody registered as carol
    carol = "sip:carol@" + DOMAIN
    ncount[0] += 1
    cred = digest("MD5", "alice", DOMAIN, "alice-pw", "INVITE", carol, nonce,
                  nc="%08x" % ncount[0])
    r = caller.ask(request("INVITE", carol, caller.local, alice, carol, body=SDP,
                           extra=["Proxy-Authorization: " + cred]))
    assert r is not None and r.status == 404, r

    r = caller.ask(request("INVITE", bob, caller.local, alice, bob, body=SDP, max_forwards=0))
    assert r is not None and r.status == 483, r
    caller.close()
    callee.close()


# ---- the redirect example ----------------------------------------------------------------------


def test_redirect_example(sb):
    """etc/examples/redirect.cfg: a user registers (digest), an INVITE for them gets 302 with the
    registered contacts (every one), one for an unknown user 404; nothing is
    proxied."""
    db, url = sqlite_world(sb)
    port = sb.port()
    text = (REPO / "etc" / "examples" / "redirect.cfg").read_text()
    assert text.count("127.0.0.1:5060") == 2
    text = text.replace("127.0.0.1:5060", "127.0.0.1:%d" % port)
    text = set_param(text, "usrloc", "db_url", '"%s"' % url)
    text = set_param(text, "auth_db", "db_url", '"%s"' % url)
    srv = sb.server(text, PORT=port)
    probe = Probe()
    ua = Ua(("127.0.0.1", port))
    _, ok = register_raw(ua, "bob", "bob-pw", "sip:bob@%s;transport=udp" % probe.hostport)
    assert ok is not None and ok.status == 200, ok
    bob = "sip:bob@" + DOMAIN
    r = ua.ask(request("INVITE", bob, ua.local, "sip:alice@" + DOMAIN, bob, call_id="redir-1"))
    assert r is not None and r.status == 302, r
    assert r.all("Contact") == ["<sip:bob@%s;transport=udp>" % probe.hostport], r.raw
    assert probe.wait("bob", 0.5) is None, "the redirect server proxied the INVITE"
    # a second device: the 302 lists the whole destination set
    _, ok = register_raw(ua, "bob", "bob-pw", "sip:bob-desk@%s;transport=udp" % probe.hostport)
    assert ok is not None and ok.status == 200, ok
    r = ua.ask(request("INVITE", bob, ua.local, "sip:alice@" + DOMAIN, bob, call_id="redir-3"))
    assert r is not None and r.status == 302, r
    assert sorted(r.all("Contact")) == ["<sip:bob-desk@%s;transport=udp>" % probe.hostport,
                                        "<sip:bob@%s;transport=udp>" % probe.hostport], r.raw
    r = ua.ask(request("INVITE", "sip:nobody@" + DOMAIN, ua.local, "sip:alice@" + DOMAIN,
                       "sip:nobody@" + DOMAIN, call_id="redir-2"))
    assert r is not None and r.status == 404, r
    assert srv.alive()
    ua.close()
    probe.close()


# ---- PostgreSQL --------------------------------------------------------------------------------


class Postgres:
    """A throw-away PostgreSQL 15 on 127.0.0.1 (initdb in a temporary directory, run as the
    postgres user when we are root)."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            pytest.skip("PostgreSQL 15 is not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="sb-resi-pg-"))
        self.port = free_port()
        self.url = "postgres://postgres@127.0.0.1:%d/postgres" % self.port
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        r = subprocess.run(self.as_pg + [str(PG_BIN / "initdb"), "-D", str(self.dir / "data"),
                                         "-A", "trust", "-U", "postgres", "--no-sync", "-E",
                                         "UTF8", "--locale=C.UTF-8"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            pytest.skip("initdb failed: " + r.stderr[-500:])
        self.running = False

    def start(self):
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off" % (self.port, self.dir))
        r = subprocess.run(self.as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"),
                                         "-l", str(self.dir / "pg.log"), "-w", "-t", "30", "-o",
                                         opts, "start"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr + self.log()
        self.running = True

    def stop(self):
        if self.running:
            subprocess.run(self.as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"),
                                         "-m", "fast", "-w", "-t", "30", "stop"],
                           capture_output=True, timeout=60)
            self.running = False

    def query(self, sql):
        r = subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                            "postgres", "-d", "postgres", "-At", "-c", sql],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return [line.split("|") for line in r.stdout.splitlines()]

    def log(self):
        try:
            return (self.dir / "pg.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pg():
    p = Postgres()
    try:
        p.start()
        yield p
    finally:
        p.destroy()


def test_postgres_register_and_call(sb, pg):
    """Subscribers and locations in PostgreSQL: registration with digest, a call to a registered
    user, the bindings in the table."""
    sbctl("-d", pg.url, "db", "init")
    for u, p in (("alice", "alice-pw"), ("bob", "bob-pw")):
        sbctl("-d", pg.url, "user", "add", "%s@%s" % (u, DOMAIN), p)
    port = sb.port()
    srv = sb.server(resi_cfg(port, pg.url, driver="db_postgres"), PORT=port)
    probe = Probe()
    ua = Ua(("127.0.0.1", port))
    _, ok = register_raw(ua, "alice", "alice-pw", "sip:alice@" + probe.hostport)
    assert ok is not None and ok.status == 200, ok
    callee = start_callee(sb, srv, port)
    call_bob(sb, srv, port, callee)
    rows = wait_for(lambda: pg.query("SELECT DISTINCT username FROM location ORDER BY 1"), 5)
    assert rows == [["alice"], ["bob"]], "%r\n%s" % (rows, srv.log_tail())
    ua.close()
    probe.close()


def test_postgres_outage_keeps_registrations(sb, pg):
    """Locations in PostgreSQL, subscribers in SQLite (digest checks do not depend on the server
    that goes away). PostgreSQL stops: users still register and are reachable; when it is back the
    queued writes reach the table."""
    db, sq_url = sqlite_world(sb, users=[("u%d" % i, "pw%d" % i) for i in range(4)])
    sbctl("-d", pg.url, "db", "init")
    port = sb.port()
    srv = sb.server(resi_cfg(port, pg.url, auth_url=sq_url, driver="db_postgres",
                             params=[("usrloc", "db_retry_interval", "1")]), PORT=port)
    probe = Probe()
    ua = Ua(("127.0.0.1", port))
    _, ok = register_raw(ua, "u0", "pw0", "sip:u0@" + probe.hostport)
    assert ok is not None and ok.status == 200, ok
    assert wait_for(lambda: pg.query("SELECT username FROM location"), 5), srv.log_tail()

    pg.stop()
    for i in (1, 2, 3):
        t0 = time.monotonic()
        _, ok = register_raw(ua, "u%d" % i, "pw%d" % i, "sip:u%d@%s" % (i, probe.hostport))
        assert ok is not None and ok.status == 200, "REGISTER during the outage: %r\n%s" % (
            ok, srv.log_tail())
        assert time.monotonic() - t0 < 2, "REGISTER waited for the database"
        got, _ = probe_user(port, "u%d" % i, probe)
        assert got is not None, srv.log_tail()
    time.sleep(1.5)  # let the write-back try (and fail) at least once
    pg.start()
    rows = wait_for(lambda: pg.query("SELECT DISTINCT username FROM location ORDER BY 1")
                    if len(pg.query("SELECT DISTINCT username FROM location")) == 4 else None,
                    15, 0.5)
    assert rows == [["u0"], ["u1"], ["u2"], ["u3"]], "after the outage: %r\n%s" % (
        pg.query("SELECT username FROM location"), srv.log_tail())
    ua.close()
    probe.close()


# ---- baresip -----------------------------------------------------------------------------------


def baresip_ctrl(port, *args, timeout=10):
    r = subprocess.run(["/usr/bin/python3", str(BARESIP_PEERS / "ctrl.py"), str(port)] +
                       list(args), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def test_baresip_registers_and_calls(sb):
    """baresip registers as alice (digest, MD5) and calls bob, a registered sipp UA, through the
    proxy: the call is established, hung up by baresip, and bob's sipp sees INVITE, ACK, BYE."""
    need("baresip")
    # mkconf.sh gives every account the password "secret"
    db, url = sqlite_world(sb, users=(("alice", "secret"), ("bob", "bob-pw")))
    port = sb.port()
    srv = sb.server(resi_cfg(port, url), PORT=port)
    callee = start_callee(sb, srv, port)

    conf = sb.dir / "baresip-alice"
    sip_port, ctrl_port = sb.port(), sb.port()
    rtp = free_port() & ~1
    subprocess.run(["sh", str(BARESIP_PEERS / "mkconf.sh"), str(conf), "alice", str(sip_port),
                    str(ctrl_port), str(rtp), str(rtp + 19), "127.0.0.1:%d" % port],
                   check=True, timeout=10)
    log = open(sb.dir / "baresip.log", "wb")
    bs = subprocess.Popen(["baresip", "-f", str(conf)], stdin=subprocess.DEVNULL, stdout=log,
                          stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def blog():
            return (sb.dir / "baresip.log").read_text(errors="replace")

        assert wait_for(lambda: re.search(r"alice@127\.0\.0\.1: .*200 OK", blog()), 10), \
            "baresip did not register:\n%s\n--- server ---\n%s" % (blog(), srv.log_tail())
        rc, out = baresip_ctrl(ctrl_port, "dial", "sip:bob@%s" % DOMAIN)
        assert rc == 0, out
        established = wait_for(lambda: "ESTABLISHED" in baresip_ctrl(ctrl_port, "listcalls")[1],
                               10, 0.5)
        assert established, "no call:\n%s\n--- server ---\n%s" % (blog(), srv.log_tail())
        time.sleep(0.5)
        rc, out = baresip_ctrl(ctrl_port, "hangup")
        assert rc == 0, out
        r = callee.wait(10)
        assert r.rc == 0, r.describe() + "\n--- baresip ---\n" + blog()
    finally:
        stop_pid(bs, 5)
        log.close()
