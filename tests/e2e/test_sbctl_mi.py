# SPDX-License-Identifier: BSD-2-Clause
"""sbctl as the management client: one server with httpd + mi_http + mi_fifo, and sbctl's
`ps`, `stats`, `version`, `uptime` and `mi CMD ...` run over HTTP and over the FIFO, with the
human output, --json, named/positional/-j parameters, JSON-RPC errors (exit 1 and the message)
and transport failures.

Environment: SB_SBCTL (default: the sbctl beside SB_BINARY when that is set, else
<repo>/build-test/sbctl, then <repo>/build/sbctl).
"""
import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import sip_request

REPO = Path(__file__).resolve().parents[2]


def sbctl_path():
    if os.environ.get("SB_SBCTL"):
        return Path(os.environ["SB_SBCTL"])
    cands = [REPO / "build-test" / "sbctl", REPO / "build" / "sbctl"]
    if os.environ.get("SB_BINARY"):
        # the client built with the server under test
        cands.insert(0, Path(os.environ["SB_BINARY"]).parent / "sbctl")
    for cand in cands:
        if cand.exists():
            return cand
    return REPO / "build-test" / "sbctl"


SBCTL = sbctl_path()

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"
loadmodule "mi_fifo.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)
modparam("mi_fifo", "fifo_name", "@FIFO@")
modparam("mi_fifo", "reply_dir", "@DIR@")

route {
    sl_send_reply(200, "OK");
}
"""


class World:
    def __init__(self, env, srv, port, http, fifo):
        self.env, self.srv, self.port, self.http, self.fifo = env, srv, port, http, fifo
        self.url = "http://127.0.0.1:%d/mi" % http

    def transport(self, kind):
        if kind == "http":
            return ["-u", self.url]
        return ["-f", self.fifo, "-r", str(self.env.dir)]


@pytest.fixture(scope="module")
def world(sb_module):
    if not SBCTL.exists():
        pytest.skip("no sbctl at %s (set SB_SBCTL)" % SBCTL)
    port, http = sb_module.port(), sb_module.port()
    fifo = str(sb_module.dir / "sb_fifo")
    srv = sb_module.server(CFG, PORT=port, HTTP=http, FIFO=fifo, DIR=str(sb_module.dir),
                           listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", http)])
    return World(sb_module, srv, port, http, fifo)


def run(*args, env=None, timeout=20):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SB_MI_")}
    e.update(env or {})
    r = subprocess.run([str(SBCTL)] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=e)
    return r.returncode, r.stdout, r.stderr


def ok(*args, **kw):
    rc, out, err = run(*args, **kw)
    assert rc == 0, "sbctl %s: rc %s\nstdout: %s\nstderr: %s" % (args, rc, out, err)
    return out


def no_reply_fifos(world):
    return [p.name for p in world.env.dir.iterdir() if p.name.startswith("sbctl_reply_")]


TRANSPORTS = ["http", "fifo"]


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_ps_table(world, kind):
    out = ok(*world.transport(kind), "ps")
    lines = out.splitlines()
    assert re.match(r"^ID\s+PID\s+Type$", lines[0]), out
    rows = [re.match(r"^(\d+)\s+(\d+)\s+(.+)$", l) for l in lines[1:]]
    assert all(rows), out
    types = {m.group(3): int(m.group(2)) for m in rows}
    # the main thread's id is the process id; workers and management threads are listed
    assert types["main/control"] == world.srv.proc.pid
    assert "SIP worker 0" in types and types["SIP worker 0"] > 0
    assert "MI FIFO" in types
    assert [int(m.group(1)) for m in rows] == list(range(len(rows)))
    assert no_reply_fifos(world) == []


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_ps_json(world, kind):
    res = json.loads(ok(*world.transport(kind), "ps", "--json"))
    procs = res["Processes"]
    assert procs[0] == {"ID": 0, "PID": world.srv.proc.pid, "Type": "main/control"}


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_stats_lines_move(world, kind):
    def rcv_requests():
        out = ok(*world.transport(kind), "stats", "core:")
        vals = dict(l.split(" = ", 1) for l in out.splitlines())
        assert all(k.startswith("core:") for k in vals), out
        assert "core:timestamp" in vals
        return int(vals["core:rcv_requests"])

    before = rcv_requests()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        for _ in range(3):
            s.sendto(sip_request("OPTIONS", "sip:x@127.0.0.1:%d" % world.port,
                                 s.getsockname()), ("127.0.0.1", world.port))
            assert b"200 OK" in s.recv(65536)
    finally:
        s.close()
    assert rcv_requests() == before + 3


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_stats_selectors_and_json(world, kind):
    out = ok(*world.transport(kind), "stats", "net:rcv_msgs", "shmem:")
    names = [l.split(" = ")[0] for l in out.splitlines()]
    assert "net:rcv_msgs" in names and "shmem:used_size" in names
    assert not any(n.startswith("core:") for n in names)
    res = json.loads(ok(*world.transport(kind), "--json", "stats", "net:rcv_msgs"))
    assert list(res) == ["net:rcv_msgs"] and isinstance(res["net:rcv_msgs"], int)
    rc, out, err = run(*world.transport(kind), "stats", "nosuch:")
    assert rc == 1 and "error -32000: Statistics Not Found" in err


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_mi_log_level(world, kind):
    t = world.transport(kind)
    assert json.loads(ok(*t, "mi", "log_level", "4")) == {"New global log level": 4}
    assert json.loads(ok(*t, "mi", "log_level"))["Log level"] == 4
    # named form, and the pretty-printed output is indented JSON
    out = ok(*t, "mi", "log_level", "level=3")
    assert out == '{\n    "New global log level": 3\n}\n'
    assert json.loads(ok(*t, "mi", "log_level", "--json")) == {"Log level": 3, "Name": "INFO"}


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_mi_which_json(world, kind):
    out = ok(*world.transport(kind), "mi", "which", "--json")
    assert len(out.strip().splitlines()) == 1
    names = json.loads(out)
    assert {"ps", "get_statistics", "log_level", "reload_routes"} <= set(names)


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_mi_bad_method(world, kind):
    rc, out, err = run(*world.transport(kind), "mi", "no_such_command")
    assert rc == 1
    assert err.strip() == "error -32601: Method not found"
    assert out == ""
    rc, out, err = run(*world.transport(kind), "mi", "log_level", "loud")
    assert rc == 1 and err.strip() == "error -32602: Invalid params"
    assert no_reply_fifos(world) == []


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_mi_params_forms(world, kind):
    t = world.transport(kind)
    # positional words of the statistics commands form one list
    res = json.loads(ok(*t, "mi", "get_statistics", "core:rcv_requests", "net:rcv_msgs"))
    assert set(res) == {"core:rcv_requests", "net:rcv_msgs"}
    # a repeated name collects its values
    res = json.loads(ok(*t, "mi", "get_statistics", "statistics=core:rcv_replies",
                        "statistics=net:snd_msgs"))
    assert set(res) == {"core:rcv_replies", "net:snd_msgs"}
    res = json.loads(ok(*t, "mi", "get_statistics", "-j", '{"statistics": ["net:too_big"]}'))
    assert set(res) == {"net:too_big"}
    res = json.loads(ok(*t, "mi", "help", "mi_cmd=get_statistics"))
    assert res["Exported by"] == "core" and res["Params"] == [["statistics"]]
    # 4.x names go through as they are
    assert json.loads(ok(*t, "mi", "core:version"))["Server"].startswith("Switchboard ")


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_version_uptime(world, kind):
    t = world.transport(kind)
    assert re.match(r"^Switchboard \d+\.\d+\.\d+\n$", ok(*t, "version"))
    out = ok(*t, "uptime")
    keys = [l.split(": ", 1)[0] for l in out.splitlines()]
    assert keys == ["Now", "Up since", "Up time"]
    assert re.search(r"^Up time: \d+ \[sec\]$", out, re.M)


def test_environment_selects_transport(world):
    out = ok("version", env={"SB_MI_URL": world.url})
    assert out.startswith("Switchboard ")
    out = ok("version", env={"SB_MI_FIFO": world.fifo, "SB_MI_REPLY_DIR": str(world.env.dir)})
    assert out.startswith("Switchboard ")
    # -u on the command line wins over the environment's FIFO
    rc, _, err = run("-u", "http://127.0.0.1:1/mi", "version",
                     env={"SB_MI_FIFO": world.fifo, "SB_MI_REPLY_DIR": str(world.env.dir)})
    assert rc == 1 and "cannot connect to 127.0.0.1:1" in err


def test_usage_errors(world):
    rc, _, err = run("-u", world.url, "mi", "get_statistics", "statistics=core:", "net:")
    assert rc == 2 and "cannot be mixed" in err
    rc, _, err = run("-u", world.url, "mi", "ps", "-j", "{broken")
    assert rc == 2 and "-j" in err
    rc, _, err = run("-u", world.url, "ps", "extra")
    assert rc == 2


def test_transport_failures(world, tmp_path):
    rc, _, err = run("-u", "http://127.0.0.1:%d/other" % world.http, "ps")
    assert rc == 1 and "HTTP 404" in err
    rc, _, err = run("-f", str(tmp_path / "missing_fifo"), "-r", str(tmp_path), "ps")
    assert rc == 1 and "missing_fifo" in err
    # a FIFO that someone holds open but nobody answers: bounded by -t
    dead = tmp_path / "dead_fifo"
    os.mkfifo(dead)
    fd = os.open(dead, os.O_RDWR | os.O_NONBLOCK)
    try:
        rc, _, err = run("-f", dead, "-r", tmp_path, "-t", "0.5", "ps", timeout=10)
    finally:
        os.close(fd)
    assert rc == 1 and "no reply" in err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("sbctl_reply_")] == []
    assert world.srv.alive()


def test_mi_error_data_lines(world):
    """A failed reload_routes: the message, then every diagnostic line of "data"; the running
    script stays and still answers."""
    cfg = world.srv.cfg
    good = cfg.read_text()
    cfg.write_text(good.replace('sl_send_reply(200, "OK");', 'no_such_function(1);'))
    try:
        rc, out, err = run("-u", world.url, "mi", "reload_routes")
        assert rc == 1, out
        lines = err.splitlines()
        assert lines[0].startswith("error -32000: Reload failed"), err
        assert any(re.match(r"^%s:\d+:\d+: error: " % re.escape(str(cfg)), l)
                   for l in lines[1:]), err
        rc, out, err = run("-u", world.url, "--json", "mi", "reload_routes")
        assert rc == 1 and json.loads(out)["code"] == -32000
    finally:
        cfg.write_text(good)
    assert ok("-u", world.url, "mi", "reload_routes").strip() == '"OK"'
