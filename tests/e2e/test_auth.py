# SPDX-License-Identifier: BSD-2-Clause
"""Digest authentication (RFC 2617, RFC 7616, RFC 8760) with auth + auth_db over SQLite: a
REGISTER without credentials is challenged with 401 and WWW-Authenticate; answering the challenge
with the right password gets the 200, a wrong one another 401 (not marked stale); a replayed
nonce-count is refused; an expired nonce answered with the right password brings stale=true; other
requests get 407 with Proxy-Authenticate. sipp plays the UA for MD5 (UDP and TCP); the SHA-256,
replay and stale cases are computed here with hashlib over a raw socket."""
import hashlib
import re
import sqlite3
import time

import pytest

from conftest import SCENARIOS, SipMsg, sip_request

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"
loadmodule "signaling.so"
loadmodule "db_sqlite.so"
loadmodule "auth.so"
loadmodule "auth_db.so"

modparam("auth", "nonce_expire", @EXPIRE@)
modparam("auth_db", "db_url", "sqlite://@DB@")
modparam("auth_db", "calculate_ha1", 1)
modparam("auth_db", "use_domain", 1)

route {
    if ($rm == "REGISTER") {
        www_authorize("", "subscriber");
        $var(rc) = $rc;
        if ($var(rc) == 1) {
            consume_credentials();
            sl_send_reply(200, "OK");
            exit;
        }
        if ($var(rc) == -6) {
            sl_send_reply(403, "Replayed");
            exit;
        }
        www_challenge("", "auth", "@ALGS@");
        exit;
    }
    proxy_authorize("", "subscriber");
    $var(rc) = $rc;
    if ($var(rc) == 1) {
        sl_send_reply(200, "OK");
        exit;
    }
    proxy_challenge("", "auth");
}
"""

USERS = [("alice", "127.0.0.1", "secret1"), ("bob", "127.0.0.1", "secret2"),
         ("carol", "example.com", "secret3"), ("e2e", "127.0.0.1", "proxy-pw")]


def make_db(path):
    con = sqlite3.connect(str(path))
    con.execute("CREATE TABLE subscriber (id INTEGER PRIMARY KEY, username TEXT, domain TEXT, "
                "password TEXT, ha1 TEXT, ha1_sha256 TEXT, ha1_sha512t256 TEXT)")
    con.executemany("INSERT INTO subscriber (username, domain, password) VALUES (?, ?, ?)", USERS)
    con.commit()
    con.close()


def start(sb, algs="MD5", expire=30):
    port = sb.port()
    db = sb.dir / "auth.db"
    if not db.exists():
        make_db(db)
    srv = sb.server(CFG, PORT=port, DB=db, ALGS=algs, EXPIRE=expire)
    return srv, port


def challenges(msg, name="WWW-Authenticate"):
    out = []
    for v in msg.all(name):
        params = dict((k.lower(), a or b) for k, a, b in
                      re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))', v))
        params["_raw"] = v
        out.append(params)
    return out


def digest(alg, user, realm, pw, method, uri, nonce, nc="00000001", cnonce="e2ecn0", qop="auth"):
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[alg]

    def hx(s):
        return h(s.encode()).hexdigest()

    ha1 = hx("%s:%s:%s" % (user, realm, pw))
    ha2 = hx("%s:%s" % (method, uri))
    resp = hx("%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop, ha2))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, qop=%s, nc=%s, cnonce="%s"' %
            (user, realm, nonce, uri, resp, alg, qop, nc, cnonce))


def register(s, extra=(), call_id="auth-e2e-1", cseq=1):
    s.send(sip_request("REGISTER", "sip:carol@example.com", s.local, extra=list(extra),
                       call_id=call_id, cseq=cseq))
    r = s.recv(3)
    assert r is not None, "no answer to REGISTER"
    return r


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sipp_register_with_digest(sb, transport):
    """Three users: REGISTER -> 401 (MD5, qop=auth, a 58-hex nonce) -> REGISTER with the
    credentials -> 200."""
    srv, port = start(sb)
    csv = sb.dir / "users.csv"
    csv.write_text("SEQUENTIAL\n" + "".join(
        "%s;%s;[authentication username=%s password=%s]\n" % (u, d, u, p)
        for u, d, p in USERS[:2] + [("alice", "127.0.0.1", "secret1")]))
    args = ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "auth_register.xml", "-inf", csv,
            "-m", 3, "-r", 10, "-i", "127.0.0.1", "-p", sb.port()]
    if transport == "tcp":
        args += ["-t", "t1"]
    r = sb.sipp("uac", args, timeout=15)
    assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()


def test_sipp_wrong_password(sb):
    srv, port = start(sb)
    csv = sb.dir / "bad.csv"
    csv.write_text("SEQUENTIAL\nalice;127.0.0.1;[authentication username=alice password=nope]\n")
    r = sb.sipp("uac", ["127.0.0.1:%d" % port, "-sf", SCENARIOS / "auth_register_fail.xml",
                        "-inf", csv, "-m", 1, "-i", "127.0.0.1", "-p", sb.port()], timeout=10)
    assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()


def test_sha256_preferred_replay_refused(sb):
    """Challenges in the order asked (SHA-256 first, then MD5), each with its own nonce; a
    SHA-256 answer is accepted once per nonce-count; the same count again is a replay (403 here,
    from the script on -6); the next count passes."""
    srv, port = start(sb, algs="SHA-256,MD5")
    s = sb.sock("udp", ("127.0.0.1", port))
    r = register(s)
    assert r.status == 401, r.raw
    ch = challenges(r)
    assert [c.get("algorithm") for c in ch] == ["SHA-256", "MD5"], r.raw
    assert all(c["realm"] == "example.com" and c["qop"] == "auth" for c in ch), r.raw
    assert all(re.fullmatch(r"[0-9a-f]{58}", c["nonce"]) for c in ch), r.raw
    assert ch[0]["nonce"] != ch[1]["nonce"]
    assert ";tag=" in r.hdr("To")
    nonce = ch[0]["nonce"]
    uri = "sip:carol@example.com"
    auth = "Authorization: " + digest("SHA-256", "carol", "example.com", "secret3", "REGISTER",
                                      uri, nonce)
    assert register(s, [auth], cseq=2).status == 200
    assert register(s, [auth], cseq=3).status == 403
    auth2 = "Authorization: " + digest("SHA-256", "carol", "example.com", "secret3", "REGISTER",
                                       uri, nonce, nc="00000002")
    assert register(s, [auth2], cseq=4).status == 200
    # the MD5 nonce does not take SHA-256 credentials
    bad = "Authorization: " + digest("SHA-256", "carol", "example.com", "secret3", "REGISTER",
                                     uri, ch[1]["nonce"])
    r = register(s, [bad], cseq=5)
    assert r.status == 401 and "stale=true" in r.raw.decode(), r.raw
    # a wrong password over a good nonce: challenged again, not stale
    wrong = "Authorization: " + digest("MD5", "carol", "example.com", "x", "REGISTER", uri,
                                       ch[1]["nonce"])
    r = register(s, [wrong], cseq=6)
    assert r.status == 401 and "stale" not in r.raw.decode(), r.raw


def test_expired_nonce_is_stale(sb):
    srv, port = start(sb, expire=1)
    s = sb.sock("udp", ("127.0.0.1", port))
    nonce = challenges(register(s))[0]["nonce"]
    time.sleep(2.2)
    uri = "sip:carol@example.com"
    ok = "Authorization: " + digest("MD5", "carol", "example.com", "secret3", "REGISTER", uri,
                                    nonce)
    r = register(s, [ok], cseq=2)
    assert r.status == 401, r.raw
    ch = challenges(r)
    assert ch and ch[0].get("stale") == "true", r.raw
    # the fresh nonce works
    fresh = "Authorization: " + digest("MD5", "carol", "example.com", "secret3", "REGISTER", uri,
                                       ch[0]["nonce"])
    assert register(s, [fresh], cseq=3).status == 200


def test_proxy_challenge(sb):
    """A non-REGISTER request: 407 with Proxy-Authenticate for the From domain, then 200 with
    Proxy-Authorization."""
    srv, port = start(sb)
    s = sb.sock("udp", ("127.0.0.1", port))
    ruri = "sip:someone@example.com"
    s.send(sip_request("OPTIONS", ruri, s.local, call_id="auth-e2e-p"))
    r = s.recv(3)
    assert r is not None and r.status == 407, r
    ch = challenges(r, "Proxy-Authenticate")
    assert len(ch) == 1 and ch[0]["realm"] == "127.0.0.1" and ch[0]["algorithm"] == "MD5", r.raw
    cred = digest("MD5", "e2e", "127.0.0.1", "proxy-pw", "OPTIONS", ruri, ch[0]["nonce"])
    s.send(sip_request("OPTIONS", ruri, s.local, call_id="auth-e2e-p", cseq=2,
                       extra=["Proxy-Authorization: " + cred]))
    r = s.recv(3)
    assert r is not None and r.status == 200, r
