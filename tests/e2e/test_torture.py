# SPDX-License-Identifier: BSD-2-Clause
"""RFC 4475 and RFC 5118 torture messages (tests/data) sent, byte for byte, to a running server
whose script answers every request with sl_send_reply(200, "OK"). Each message must get the
answer its RFC calls for (tests/unit/test_torture.c cites the section and says which header a
400 names), and the server must still answer an OPTIONS afterwards.

Answers to a datagram go where the top Via says (RFC 3261 §18.2.2, RFC 3581): most torture
messages name hosts of example.com, so the server adds received=127.0.0.1 and sends to the Via's
port (5060 unless given). The test listens on those loopback ports as well as on the sending
socket; outside a private network namespace a port may be taken, and the messages that need it
are skipped."""
import re
import socket
import time

import pytest

from conftest import DATA, SANITIZER_RE, SipMsg, SipSocket, frame_stream, sip_request

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"

route {
    if ($rm == "ACK")
        exit;
    sl_send_reply(200, "OK");
}
"""


class Exp:
    """What a message must get: <codes> (a set of status codes; None: no answer at all; "any":
    anything or nothing), a header name the 400's reason must mention, extra checks."""

    def __init__(self, codes, names=None, n_answers=1, unsupported=None, closes=False):
        self.codes, self.names = codes, names
        self.n_answers = n_answers
        self.unsupported = unsupported or []
        self.closes = closes


OK = Exp({200})
NONE = Exp(None)
ANY = Exp("any")


def bad(*names):
    return Exp({400}, names)


# ---- datagrams --------------------------------------------------------------------------------

UDP = {
    # RFC 4475 §3.1.1: valid messages
    "rfc4475/wsinv.dat": OK,
    "rfc4475/intmeth.dat": OK,
    "rfc4475/esc01.dat": OK,
    "rfc4475/escnull.dat": OK,
    "rfc4475/esc02.dat": OK,
    "rfc4475/lwsdisp.dat": OK,
    "rfc4475/longreq.dat": OK,
    "rfc4475/dblreq.dat": Exp({200}, n_answers=1),  # the REGISTER only; the rest is excess
    "rfc4475/semiuri.dat": OK,
    "rfc4475/transports.dat": OK,
    "rfc4475/mpart01.dat": OK,
    "rfc4475/unreason.dat": NONE,  # a response: not ours, dropped
    "rfc4475/noreason.dat": NONE,
    # §3.1.2: invalid messages
    # the broken header is the Via, the only address an answer could go to: 400 or silence
    "rfc4475/badinv01.dat": Exp({400, None}, ("Via",)),
    "rfc4475/clerr.dat": bad("Content-Length"),
    "rfc4475/ncl.dat": bad("Content-Length"),
    "rfc4475/scalar02.dat": bad("CSeq"),
    "rfc4475/scalarlg.dat": NONE,
    "rfc4475/quotbal.dat": bad("To"),
    "rfc4475/ltgtruri.dat": bad("URI"),
    "rfc4475/lwsruri.dat": bad(),
    "rfc4475/lwsstart.dat": OK,  # liberal: extra SP accepted
    "rfc4475/trws.dat": OK,
    "rfc4475/escruri.dat": OK,
    "rfc4475/baddate.dat": OK,
    "rfc4475/regbadct.dat": bad("Contact"),
    "rfc4475/badaspec.dat": bad("To"),
    "rfc4475/baddn.dat": bad("From"),
    "rfc4475/badvers.dat": Exp({505}),
    "rfc4475/mismatch01.dat": bad("CSeq"),
    "rfc4475/mismatch02.dat": Exp({400, 501}),
    "rfc4475/bigcode.dat": NONE,
    # §3.2, §3.3: transaction and application layer
    "rfc4475/badbranch.dat": Exp({200, 400}),
    # no From, To, Call-ID: an answer could not copy them (RFC 3261 §8.2.6.2); 400 "ideally"
    "rfc4475/insuf.dat": Exp({400, None}),
    "rfc4475/unkscm.dat": Exp({416}),
    "rfc4475/novelsc.dat": Exp({416, 404}),
    "rfc4475/unksm2.dat": OK,
    "rfc4475/bext01.dat": Exp({420}, unsupported=["noProxiesSupportThis",
                                                  "norDoAnyProxiesSupportThis"]),
    "rfc4475/invut.dat": OK,
    "rfc4475/regaut01.dat": OK,
    "rfc4475/multi01.dat": bad("CSeq"),
    "rfc4475/mcl01.dat": bad("Content-Length"),
    "rfc4475/bcast.dat": NONE,
    "rfc4475/zeromf.dat": Exp({200, 483}),
    "rfc4475/cparam01.dat": OK,
    "rfc4475/cparam02.dat": OK,
    "rfc4475/regescrt.dat": OK,
    "rfc4475/sdp01.dat": OK,
    # §3.4
    "rfc4475/inv2543.dat": OK,
    "rfc4475/test.dat": ANY,  # described nowhere: survive it
    # RFC 5118 §4
    "rfc5118/ipv6-good.dat": OK,
    "rfc5118/ipv6-bad.dat": bad("URI"),
    "rfc5118/port-ambiguous.dat": OK,
    "rfc5118/port-unambiguous.dat": OK,
    "rfc5118/via-received-param-with-delim.dat": OK,
    "rfc5118/via-received-param-no-delim.dat": OK,
    "rfc5118/ipv6-in-sdp.dat": OK,
    "rfc5118/mult-ip-in-header.dat": OK,
    "rfc5118/mult-ip-in-sdp.dat": OK,
    "rfc5118/ipv4-mapped-ipv6.dat": OK,
    "rfc5118/ipv6-bug-abnf-3-colons.dat": OK,
    "rfc5118/ipv6-correct-abnf-2-colons.dat": OK,
}

# Over a stream: the messages whose Via says TCP/TLS, and the framing cases.
TCP = {
    "rfc4475/esc02.dat": OK,
    "rfc4475/intmeth.dat": OK,
    "rfc4475/longreq.dat": OK,
    "rfc4475/trws.dat": OK,
    "rfc4475/regaut01.dat": OK,
    "rfc4475/scalar02.dat": bad("CSeq"),
    "rfc4475/unkscm.dat": Exp({416}),
    "rfc4475/novelsc.dat": Exp({416, 404}),
    "rfc4475/bext01.dat": Exp({420}, unsupported=["noProxiesSupportThis",
                                                  "norDoAnyProxiesSupportThis"]),
    "rfc4475/dblreq.dat": Exp({200}, n_answers=2),  # two messages on a stream
    "rfc4475/clerr.dat": NONE,  # Content-Length larger than what came: wait for more
    # the framing is lost: "the connection should be closed" (RFC 4475 §3.1.2.3, §3.3.9)
    "rfc4475/ncl.dat": Exp({400, None}, ("Content-Length",), closes=True),
    "rfc4475/mcl01.dat": Exp({400, None}, ("Content-Length",), closes=True),
    "rfc4475/inv2543.dat": Exp({400, None}, closes=True),  # no Content-Length: no framing
}

# Via ports of the corpus' datagrams, and the defaults: 5060, 5061 for a Via that says TLS
REPLY_PORTS = (5060, 5061, 5050, 6050, 19823)


def _via_port(raw):
    """Where an answer to <raw> goes when the Via names another host: the Via's port or 5060."""
    m = re.search(rb"(?im)^(?:via|v)[ \t]*:[^\r\n]*?SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*\w+[ \t]+"
                  rb"(\[[^\]]*\]|[^\s;:,]+)(?::(\d+))?([^\r\n]*)", raw)
    if not m:
        return None
    if b";rport" in m.group(3):
        return None
    if m.group(2):
        return int(m.group(2))
    return 5061 if b"/TLS" in m.group(0).upper() else 5060


@pytest.fixture(scope="module")
def torture(sb_module):
    env = sb_module
    port = env.port()
    srv = env.server(CFG, PORT=port)
    catchers = {}
    for p in REPLY_PORTS:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", p))
            catchers[p] = s
        except OSError:
            s.close()
    yield env, srv, port, catchers
    for s in catchers.values():
        s.close()


def _drain(socks, timeout, want):
    """Datagrams on <socks> until <want> final answers arrived (then a short grace period for
    duplicates) or <timeout>."""
    got = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for s in socks:
            s.setblocking(False)
            while True:
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                m = SipMsg(data)
                if m.status is None or m.status >= 200:
                    got.append(m)
        if want and len(got) >= want:
            end = min(end, time.monotonic() + 0.2)
            want = 0
        time.sleep(0.01)
    return got


def _check(name, exp, answers, srv, offset, closed=None):
    desc = "%s: got %s" % (name, [(a.status, a.reason) for a in answers] or "no answer")
    if exp.codes == "any":
        return
    if exp.codes is None:
        assert not answers, desc
        return
    if None in exp.codes and not answers:
        assert closed or not exp.closes, "%s: no answer and the connection stays open" % name
        return
    assert answers, desc + "\n--- server log for this message ---\n" + srv.log()[offset:][-3000:]
    assert len(answers) == exp.n_answers, desc
    for a in answers:
        assert a.status in exp.codes, desc
        if a.status == 400 and exp.names:
            assert any(n.lower() in a.reason.lower() for n in exp.names), \
                "%s: 400 reason %r names none of %s" % (name, a.reason, exp.names)
    if exp.unsupported:
        uns = ",".join(answers[0].all("unsupported"))
        for tag in exp.unsupported:
            assert tag in uns, "%s: Unsupported: %r lacks %s" % (name, uns, tag)
    if exp.closes:
        assert closed, "%s: the server kept the connection open" % name


def _alive(env, srv, port, name, offset):
    a = env.options_ok(("127.0.0.1", port))
    assert srv.alive(), "%s killed the server:\n%s" % (name, srv.log()[offset:][-4000:])
    assert a is not None and a.status == 200, "%s: no 200 to a later OPTIONS (%r)\n%s" % (
        name, a, srv.log_tail(20))
    later = srv.log()[offset:]
    assert not SANITIZER_RE.search(later), "%s: sanitizer report:\n%s" % (name, later[-6000:])


@pytest.mark.parametrize("name", sorted(UDP))
def test_torture_udp(torture, name):
    env, srv, port, catchers = torture
    raw = (DATA / name).read_bytes()
    exp = UDP[name]
    vp = _via_port(raw)
    if exp.codes not in (None, "any") and vp is not None and vp not in catchers:
        pytest.skip("port %d (the Via's) is in use here; run in a network namespace" % vp)
    offset = len(srv.log())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.sendto(raw, ("127.0.0.1", port))
        want = exp.n_answers if isinstance(exp.codes, set) else 0
        answers = _drain([s] + list(catchers.values()), 2.0 if want else 0.6, want)
    finally:
        s.close()
    _check(name, exp, answers, srv, offset)
    _alive(env, srv, port, name, offset)


@pytest.mark.parametrize("name", sorted(TCP))
def test_torture_tcp(torture, name):
    env, srv, port, _ = torture
    raw = (DATA / name).read_bytes()
    exp = TCP[name]
    offset = len(srv.log())
    c = socket.create_connection(("127.0.0.1", port), timeout=3)
    answers, buf, closed = [], b"", False
    try:
        c.sendall(raw)
        want = exp.n_answers if isinstance(exp.codes, set) and exp.codes != {400, None} else 0
        end = time.monotonic() + (2.0 if want or exp.closes else 0.8)
        while time.monotonic() < end and not closed:
            c.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = c.recv(65536)
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
            if not data:
                closed = True
            buf += data
            while True:
                unit, buf = frame_stream(buf)
                if unit is None:
                    break
                if unit != b"\r\n":
                    m = SipMsg(unit)
                    if m.status is None or m.status >= 200:
                        answers.append(m)
            if want and len(answers) >= want and not exp.closes:
                end = min(end, time.monotonic() + 0.2)
    finally:
        c.close()
    _check(name, exp, answers, srv, offset, closed)
    _alive(env, srv, port, name, offset)
    _alive_tcp(srv, port, name)


def _alive_tcp(srv, port, name):
    s = SipSocket("tcp", ("127.0.0.1", port))
    try:
        s.send(sip_request("OPTIONS", "sip:ping@127.0.0.1:%d" % port, s.local, "TCP"))
        a = s.recv(2)
    finally:
        s.close()
    assert a is not None and a.status == 200, "%s: no 200 to a later OPTIONS over TCP\n%s" % (
        name, srv.log_tail(20))
