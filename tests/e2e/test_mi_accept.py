# SPDX-License-Identifier: BSD-2-Clause
"""Management acceptance: reload_routes under a sipp call load (no failed call, the new script in
effect afterwards, a broken one refused while the old one keeps running); MI polling once a second
during a call load leaves SIP latency (p99) within 10 %; every command of `which` answered over
HTTP and over the FIFO; sbctl reload, ul dump/show, --url, its configuration file and the message
when the server is not running."""
import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import SCENARIOS, sip_request
from test_mi import Mi, fifo_call
from test_sbctl_mi import SBCTL

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
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"
loadmodule "mi_fifo.so"

modparam("tm", "fr_timeout", 4)
modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)
modparam("mi_fifo", "fifo_name", "@FIFO@")
modparam("mi_fifo", "reply_dir", "@DIR@")

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
    if (is_method("OPTIONS")) {
        sl_send_reply(200, "v1");
        exit;
    }
    if (is_method("REGISTER")) {
        save("location");
        exit;
    }
    record_route();
    $du = "sip:127.0.0.1:@UAS@";
    if (!t_relay())
        send_reply(500, "Relay failed");
}
"""


class World:
    def __init__(self, sb):
        self.sb = sb
        self.port, self.http, self.uas = sb.port(), sb.port(), sb.port()
        self.fifo = str(sb.dir / "sb_fifo")
        self.srv = sb.server(CFG, PORT=self.port, HTTP=self.http, UAS=self.uas, FIFO=self.fifo,
                             DIR=str(sb.dir), listen=[("udp", "127.0.0.1", self.port),
                                                      ("tcp", "127.0.0.1", self.http)])
        self.mi = Mi(self.http)
        self.url = "http://127.0.0.1:%d/mi" % self.http

    def options_reason(self):
        s = self.sb.sock("udp", ("127.0.0.1", self.port))
        s.send(sip_request("OPTIONS", "sip:ping@127.0.0.1:%d" % self.port, s.local))
        m = s.recv(3.0)
        s.close()
        assert m is not None and m.status == 200, m
        return m.reason

    def load(self, name, calls, rate, extra=(), uac_sf="uac_rr.xml", timeout=30):
        """A background call load: (uas, uac) running sipps."""
        uas = self.sb.sipp(name + "-uas", ["-sf", SCENARIOS / "uas_rr.xml", "-i", "127.0.0.1",
                                           "-p", self.uas, "-m", calls, "-t", "u1"],
                           background=True, timeout=timeout)
        uac = self.sb.sipp(name + "-uac", ["127.0.0.1:%d" % self.port, "-sf", SCENARIOS / uac_sf,
                                           "-s", "bob", "-i", "127.0.0.1", "-p", self.sb.port(),
                                           "-m", calls, "-r", rate, "-t", "u1"] + list(extra),
                           background=True, timeout=timeout)
        return uas, uac


def stat(result, name):
    m = re.search(r"^\s*%s\s*\|\s*\d+\s*\|\s*(\d+)" % re.escape(name), result.out, re.M)
    return int(m.group(1)) if m else None


def assert_all_calls_ok(uas, uac, calls, srv):
    ru = uac.wait()
    rs = uas.wait()
    assert ru.rc == 0, ru.describe() + srv.log_tail()
    assert rs.rc == 0, rs.describe() + srv.log_tail()
    assert stat(ru, "Successful call") == calls and stat(ru, "Failed call") == 0, ru.out
    return ru


def test_reload_routes_under_load(sb):
    w = World(sb)
    assert w.options_reason() == "v1"
    good = w.srv.cfg.read_text()
    calls = 100
    uas, uac = w.load("reload", calls, 20)
    time.sleep(1.5)
    # a broken script, mid-load: refused with its diagnostics, the old one keeps running
    w.srv.cfg.write_text(good.replace('sl_send_reply(200, "v1");',
                                      'sl_send_reply(200, "v2"); no_such_function(1);'))
    r = w.mi.call("reload_routes")
    assert r["error"]["code"] == -32000, r
    assert any("no_such_function" in line and w.srv.cfg.name in line
               for line in r["error"]["data"]), r
    assert w.options_reason() == "v1"
    # the new script, mid-load
    time.sleep(1.0)
    w.srv.cfg.write_text(good.replace('"v1"', '"v2"'))
    assert w.mi.result("reload_routes") == "OK"
    assert w.options_reason() == "v2"
    assert_all_calls_ok(uas, uac, calls, w.srv)
    assert w.options_reason() == "v2"


def rtt_p99(result, rtd=1):
    """p99 (nearest rank, ms) of sipp's -trace_rtt samples for response-time <rtd>, and n."""
    vals = []
    for f in result.files("*_rtt.csv"):
        for line in f.read_text().splitlines()[1:]:
            cols = line.split(";")
            if len(cols) >= 3 and cols[2].strip() == str(rtd):
                vals.append(float(cols[1]))
    vals.sort()
    assert vals, "no response-time samples"
    return vals[max(0, int(0.99 * len(vals) + 0.999999) - 1)], len(vals), vals


def quantum(vals):
    """The resolution of sipp's response times: the smallest step between distinct samples
    (sipp reads a coarse clock: 4 ms steps on a 250 Hz kernel)."""
    distinct = sorted(set(vals))
    steps = [b - a for a, b in zip(distinct, distinct[1:]) if b > a]
    return min(steps) if steps else 0.0


def test_mi_polling_does_not_change_latency(sb):
    w = World(sb)
    calls, rate = 600, 100
    rtt = ["-trace_rtt", "-rtt_freq", "1", "-l", 200]

    def run(name, poll):
        stop = threading.Event()
        polls = []

        def poller():
            while not stop.wait(1.0):
                polls.append(w.mi.result("get_statistics", {"statistics": ["all"]}))

        th = threading.Thread(target=poller) if poll else None
        uas, uac = w.load(name, calls, rate, rtt, uac_sf="acc_uac_rtt.xml")
        if th:
            th.start()
        try:
            res = assert_all_calls_ok(uas, uac, calls, w.srv)
        finally:
            stop.set()
            if th:
                th.join(10)
        return rtt_p99(res), len(polls)

    (base, n0, v0), _ = run("quiet", False)
    (polled, n1, v1), npolls = run("polled", True)
    q = quantum(v0 + v1)
    print("SIP latency p99 (INVITE -> 200, %d calls at %d cps): %.3f ms without MI polling, "
          "%.3f ms with get_statistics once a second (%d polls); sipp resolution %.3f ms"
          % (calls, rate, base, polled, npolls, q))
    assert n0 == calls and n1 == calls
    assert npolls >= 3
    # 10 %, or 2 ms of loopback noise, and never finer than one step of sipp's clock
    assert polled <= max(1.1 * base, base + 2.0, base + q), (base, polled, q)


# commands that stop the server or drop state other tests look at; kill has its own tests
UNSAFE = {"kill", "shutdown", "ul_rm", "ul_rm_contact", "usrloc:rm", "usrloc:rm_contact",
          "reset_statistics", "statistics:reset", "reload_routes"}


def test_every_command_over_http_and_fifo(sb):
    w = World(sb)
    names = w.mi.result("which")
    assert len(names) > 10 and "which" in names
    seen = {}
    for n, name in enumerate(sorted(names)):
        if name in UNSAFE:
            continue
        req = {"jsonrpc": "2.0", "method": name, "id": 1000 + n}
        for kind in ("http", "fifo"):
            if kind == "http":
                status, r = w.mi.raw(json.dumps(req).encode())
                assert status == 200, "%s over HTTP: HTTP %s" % (name, status)
            else:
                r = fifo_call(w.fifo, str(sb.dir), req, name="acc_reply")
            assert r["jsonrpc"] == "2.0" and r["id"] == 1000 + n, (kind, name, r)
            assert ("result" in r) != ("error" in r), (kind, name, r)
            if "error" in r:
                # without parameters a command may only say its parameters are wrong, or
                # report a state error; never "not found" or an internal error
                assert r["error"]["code"] in (-32602, -32000, 404, 400), (kind, name, r)
            seen.setdefault(name, []).append("error" in r)
        assert w.srv.alive(), name
    # the two transports agree on every command
    assert all(v[0] == v[1] for v in seen.values()), seen
    assert len(seen) >= len(names) - len(UNSAFE)
    # and the commands that take no parameters mostly answer with a result
    assert sum(1 for v in seen.values() if not v[0]) >= len(seen) // 2, seen


# ---- sbctl ---------------------------------------------------------------------------------


def sbctl(*args, env=None, timeout=20, home=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SB_MI_")}
    e["HOME"] = str(home) if home else "/nonexistent"
    e.update(env or {})
    r = subprocess.run([str(SBCTL)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=e)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def world(sb):
    if not SBCTL.exists():
        pytest.skip("no sbctl at %s (set SB_SBCTL)" % SBCTL)
    return World(sb)


def test_sbctl_reload(world):
    cfg = world.srv.cfg
    good = cfg.read_text()
    cfg.write_text(good.replace('sl_send_reply(200, "v1");', 'no_such_function(1);'))
    rc, out, err = sbctl("--url", world.url, "reload")
    assert rc == 1, (out, err)
    lines = err.splitlines()
    assert lines[0].startswith("error -32000: Reload failed"), err
    assert any(re.match(r"^%s:\d+:\d+: error: .*no_such_function" % re.escape(str(cfg)), l)
               for l in lines[1:]), err
    assert world.options_reason() == "v1"
    cfg.write_text(good.replace('"v1"', '"v3"'))
    rc, out, err = sbctl("-f", world.fifo, "-r", world.sb.dir, "reload")
    assert (rc, out) == (0, "OK\n"), err
    assert world.options_reason() == "v3"
    rc, _, err = sbctl("--url", world.url, "reload", "now")
    assert rc == 2


def register(world, user, contact_port, expires=300):
    s = world.sb.sock("udp", ("127.0.0.1", world.port))
    aor = "sip:%s@127.0.0.1" % user
    s.send(sip_request("REGISTER", "sip:127.0.0.1:%d" % world.port, s.local,
                       extra=["Contact: <sip:%s@127.0.0.1:%d>;expires=%d" % (user, contact_port,
                                                                             expires),
                              "User-Agent: acc-ua"]).replace(
        b"To: <sip:127.0.0.1:%d>" % world.port, ("To: <%s>" % aor).encode()))
    m = s.recv(3.0)
    s.close()
    assert m is not None and m.status == 200, m
    return aor


def test_sbctl_ul_dump_and_show(world):
    a1 = register(world, "alice", 7001)
    register(world, "bob", 7002, expires=120)
    rc, out, err = sbctl("-u", world.url, "ul", "dump")
    assert rc == 0, err
    lines = out.splitlines()
    assert re.match(r"^Table\s+AOR\s+Contact\s+Expires\s+Q\s+User-agent$", lines[0]), out
    rows = [re.split(r"\s{2,}", l.strip()) for l in lines[1:]]
    by_contact = {r[2]: r for r in rows}
    assert set(by_contact) == {"sip:alice@127.0.0.1:7001", "sip:bob@127.0.0.1:7002"}, out
    alice = by_contact["sip:alice@127.0.0.1:7001"]
    assert alice[0] == "location" and "alice" in alice[1], alice
    assert 290 <= int(alice[3]) <= 300 and alice[5] == "acc-ua", alice
    assert 110 <= int(by_contact["sip:bob@127.0.0.1:7002"][3]) <= 120
    # the AOR as the dump shows it finds the contact again
    rc, out, err = sbctl("-u", world.url, "ul", "show", alice[1])
    assert rc == 0, err
    lines = out.splitlines()
    assert re.match(r"^Contact\s+Expires\s+Q\s+Callid\s+Cseq\s+User-agent$", lines[0]), out
    assert len(lines) == 2 and lines[1].startswith("sip:alice@127.0.0.1:7001 "), out
    rc, out2, err = sbctl("-u", world.url, "ul", "show", "location", alice[1])
    assert rc == 0 and out2.splitlines()[1].split()[0] == "sip:alice@127.0.0.1:7001", out2
    rc, out, err = sbctl("-u", world.url, "--json", "ul", "show", alice[1])
    assert json.loads(out)["Contacts"][0]["Contact"] == "sip:alice@127.0.0.1:7001"
    rc, out, err = sbctl("-u", world.url, "ul", "show", "sip:nobody@127.0.0.1")
    assert rc == 1 and "AOR not found" in err
    rc, _, err = sbctl("-u", world.url, "ul", "frobnicate")
    assert rc == 2 and "usage" in err
    assert "alice" in a1


def test_sbctl_config_file(world, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".sbctl.cfg").write_text("# management endpoint\nurl = %s\ntimeout = 5\n" % world.url)
    rc, out, err = sbctl("version", home=home)
    assert rc == 0 and out.startswith("Switchboard "), err
    # a FIFO in the file
    (home / ".sbctl.cfg").write_text("fifo = %s\nreply_dir = \"%s\"\n" % (world.fifo, world.sb.dir))
    rc, out, err = sbctl("ps", home=home)
    assert rc == 0 and "main/control" in out, err
    # the environment and the command line win over the file
    (home / ".sbctl.cfg").write_text("url = http://127.0.0.1:1/mi\n")
    rc, out, err = sbctl("version", home=home, env={"SB_MI_URL": world.url})
    assert rc == 0, err
    rc, out, err = sbctl("--url", world.url, "version", home=home)
    assert rc == 0, err
    rc, out, err = sbctl("version", home=home)
    assert rc == 1 and "http://127.0.0.1:1/mi" in err
    # a malformed file is reported with its line
    (home / ".sbctl.cfg").write_text("url = %s\nbogus line\n" % world.url)
    rc, out, err = sbctl("version", home=home)
    assert rc == 2 and ".sbctl.cfg:2:" in err, err


def test_sbctl_not_running_message(world, tmp_path):
    dead = "http://127.0.0.1:%d/mi" % world.sb.port()
    rc, out, err = sbctl("--url", dead, "ps")
    assert rc == 1 and out == ""
    assert err.startswith("sbctl: switchboard is not running (no answer on %s)" % dead), err
    rc, out, err = sbctl("-f", tmp_path / "no_fifo", "-r", tmp_path, "ps")
    assert rc == 1 and "switchboard is not running (no FIFO at %s)" % (tmp_path / "no_fifo") \
        in err, err
