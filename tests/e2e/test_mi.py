# SPDX-License-Identifier: BSD-2-Clause
"""Management interface end to end: a server with httpd + mi_http + mi_fifo answers JSON-RPC 2.0
over HTTP (urllib) and over its FIFO; its statistics move when SIP requests arrive; the log level
and the routing script change at run time; `kill` stops it cleanly."""
import base64
import json
import os
import time
import urllib.error
import urllib.request

import pytest

from conftest import sip_request

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "httpd.so"
loadmodule "mi_http.so"
loadmodule "mi_fifo.so"
loadmodule "statistics.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)
modparam("mi_fifo", "fifo_name", "@FIFO@")
modparam("mi_fifo", "reply_dir", "@DIR@")
modparam("statistics", "variable", "script_options")
@EXTRA@

route {
    update_stat("script_options", "+1");
    @SCRIPT@
    sl_send_reply(200, "@REASON@");
}
"""


class Mi:
    """A JSON-RPC client over HTTP."""

    def __init__(self, port, root="mi", auth=None):
        self.url = "http://127.0.0.1:%d/%s" % (port, root)
        self.auth = auth
        self.seq = 0

    def raw(self, body, method="POST"):
        """(status, parsed reply or None) for a request body (bytes)."""
        headers = {"Content-Type": "application/json"}
        if self.auth:
            headers["Authorization"] = "Basic " + base64.b64encode(self.auth.encode()).decode()
        req = urllib.request.Request(self.url, data=body if method == "POST" else None,
                                     headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            return e.code, None

    def call(self, method, params=None):
        self.seq += 1
        body = {"jsonrpc": "2.0", "method": method, "id": self.seq}
        if params is not None:
            body["params"] = params
        status, reply = self.raw(json.dumps(body).encode())
        assert status == 200, "HTTP %s for %s" % (status, method)
        assert reply["jsonrpc"] == "2.0" and reply["id"] == self.seq, reply
        return reply

    def result(self, method, params=None):
        reply = self.call(method, params)
        assert "error" not in reply, reply
        return reply["result"]


def fifo_call(fifo, reply_dir, request, name="sb_reply", timeout=5.0):
    """Write ':name:' + request to the server's FIFO, read the reply from reply_dir/name."""
    path = os.path.join(reply_dir, name)
    if os.path.exists(path):
        os.unlink(path)
    os.mkfifo(path, 0o600)
    try:
        with open(fifo, "w") as f:
            f.write(":%s:%s\n" % (name, json.dumps(request)))
        # O_NONBLOCK so that a server that never answers cannot hang the test
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        data = b""
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    chunk = None
                if chunk:
                    data += chunk
                    if data.endswith(b"\n"):
                        break
                else:
                    time.sleep(0.02)
        finally:
            os.close(fd)
        assert data, "no reply on the FIFO within %.0f s" % timeout
        return json.loads(data)
    finally:
        os.unlink(path)


def start(sb, reason="OK", extra="", script=""):
    port, http = sb.port(), sb.port()
    fifo = str(sb.dir / "sb_fifo")
    srv = sb.server(CFG, PORT=port, HTTP=http, FIFO=fifo, DIR=str(sb.dir), REASON=reason,
                    EXTRA=extra, SCRIPT=script, listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", http)])
    return srv, port, http, fifo


def options(sb, port, n):
    """Send <n> OPTIONS and return the reason phrases of the answers."""
    s = sb.sock("udp", ("127.0.0.1", port))
    reasons = []
    for _ in range(n):
        s.send(sip_request("OPTIONS", "sip:mi@127.0.0.1:%d" % port, s.local))
        m = s.recv(3.0)
        assert m is not None and m.status == 200, "no 200 to OPTIONS"
        reasons.append(m.reason)
    return reasons


def wait_exit(srv, timeout=10.0):
    """The server stops by itself (kill): collect its status like Server.stop() would."""
    rc = srv.proc.wait(timeout)
    srv.stopped = True
    srv.rc = rc
    srv._log.close()
    return rc


def test_core_commands_over_http(sb):
    """ps lists the control thread, every SIP worker and the management threads with real thread
    ids; uptime, version, which and help answer in OpenSIPS's shapes; 4.x names work too."""
    srv, port, http, _ = start(sb)
    mi = Mi(http)
    procs = mi.result("ps")["Processes"]
    assert procs[0]["Type"] == "main/control" and procs[0]["PID"] == srv.proc.pid
    assert [p["ID"] for p in procs] == list(range(len(procs)))
    workers = [p for p in procs if p["Type"].startswith("SIP worker")]
    assert workers, procs
    tasks = set(int(t) for t in os.listdir("/proc/%d/task" % srv.proc.pid))
    for p in procs:
        assert p["PID"] in tasks, "%s is not a thread of the server" % p
    assert any(p["Type"] == "HTTPD" for p in procs)
    assert any(p["Type"] == "MI FIFO" for p in procs)
    assert mi.result("core:ps")["Processes"][0]["PID"] == srv.proc.pid

    up = mi.result("uptime")
    assert set(up) == {"Now", "Up since", "Up time"}
    assert up["Up time"].endswith("[sec]")
    assert mi.result("version")["Server"].startswith("Switchboard ")
    names = mi.result("which")
    for n in ("ps", "uptime", "version", "get_statistics", "reload_routes", "kill", "mem_info"):
        assert n in names
    assert mi.result("help", ["get_statistics"])["Exported by"] == "core"
    mem = mi.result("mem_info")
    assert mem["Process"]["RSS"] > 0
    # one entry per worker, read on the worker itself
    per_worker = mem["Workers"]
    assert sorted(w["Worker"] for w in per_worker) == list(range(len(workers))), mem
    for w in per_worker:
        assert set(w) == {"Worker", "scratch_heap", "pooled_msgs", "pooled_bytes"}
        assert w["pooled_bytes"] >= 0 and w["pooled_msgs"] >= 0


def test_errors_over_http(sb):
    """Every JSON-RPC error code, and HTTP statuses for the wrong path or method."""
    srv, port, http, _ = start(sb)
    mi = Mi(http)
    status, r = mi.raw(b'{"jsonrpc":"2.0","method":')
    assert status == 200 and r["error"]["code"] == -32700 and r["id"] is None
    status, r = mi.raw(b'{"jsonrpc":"2.0","id":4}')
    assert r["error"]["code"] == -32600 and r["id"] == 4
    assert mi.call("no_such_command")["error"]["code"] == -32601
    assert mi.call("uptime", [1, 2])["error"]["code"] == -32602
    assert mi.call("get_statistics", {"stats": ["all"]})["error"]["code"] == -32602
    assert mi.call("get_statistics", [["nosuch:stat"]])["error"]["code"] == -32000
    # a notification is executed and not answered
    status, r = mi.raw(b'{"jsonrpc":"2.0","method":"version"}')
    assert status == 204 and r is None
    assert Mi(http, root="other").raw(b"{}")[0] == 404
    assert mi.raw(b"", method="GET")[0] == 405


def test_statistics_move_and_reset(sb):
    """OPTIONS answered by the script move core:rcv_requests and the script's own statistic;
    reset_statistics zeroes them; list_statistics gives their types."""
    srv, port, http, _ = start(sb)
    mi = Mi(http)
    before = mi.result("get_statistics", {"statistics": ["core:", "script_options"]})
    assert "core:rcv_requests" in before and "core:drop_requests" in before
    assert before["dynamic:script_options"] == 0
    options(sb, port, 3)
    after = mi.result("statistics:get", [["core:rcv_requests", "script_options", "shmem:"]])
    assert after["core:rcv_requests"] - before["core:rcv_requests"] == 3
    assert after["dynamic:script_options"] == 3
    for k in ("shmem:used_size", "shmem:total_size", "shmem:free_size"):
        assert isinstance(after[k], int)
    # a worker counts a send after sendmsg returns, which can be after the peer has the reply
    end = time.monotonic() + 2
    while True:
        net = mi.result("get_statistics", [["net:rcv_msgs", "net:snd_msgs"]])
        if net["net:snd_msgs"] >= 3 or time.monotonic() > end:
            break
        time.sleep(0.05)
    assert net["net:rcv_msgs"] >= 3 and net["net:snd_msgs"] >= 3

    types = mi.result("list_statistics", [["core:rcv_requests", "shmem:used_size"]])
    assert types == {"core:rcv_requests": "incremental", "shmem:used_size": "non-incremental"}

    assert mi.result("reset_statistics", [["core:rcv_requests", "dynamic:"]]) == "OK"
    zero = mi.result("get_statistics", [["core:rcv_requests", "script_options"]])
    assert zero == {"core:rcv_requests": 0, "dynamic:script_options": 0}
    options(sb, port, 2)
    two = mi.result("get_statistics", [["core:rcv_requests", "script_options"]])
    assert two == {"core:rcv_requests": 2, "dynamic:script_options": 2}


def test_log_level_at_run_time(sb):
    srv, port, http, _ = start(sb)
    mi = Mi(http)
    assert mi.result("log_level")["Log level"] == 3
    assert mi.result("log_level", [4])["New global log level"] == 4
    assert mi.result("log_level")["Log level"] == 4
    assert mi.call("log_level", ["verbose"])["error"]["code"] == -32602
    assert mi.result("log_level", {"level": -1})["New global log level"] == -1
    assert mi.result("log_level")["Log level"] == -1


def test_reload_routes(sb):
    """A broken script is refused with its diagnostics and changes nothing; a good one is
    adopted: the reply reason changes."""
    srv, port, http, _ = start(sb, reason="Before")
    mi = Mi(http)
    assert options(sb, port, 1) == ["Before"]
    good = srv.cfg.read_text()
    srv.cfg.write_text(good.replace('sl_send_reply(200, "Before");',
                                    'sl_send_reply(200, "Broken"); no_such_function();'))
    r = mi.call("reload_routes")
    assert r["error"]["code"] == -32000
    assert "no_such_function" in r["error"]["message"]
    assert any("%s:" % srv.cfg.name in line and "no_such_function" in line
               for line in r["error"]["data"]), r
    assert options(sb, port, 1) == ["Before"]

    srv.cfg.write_text(good.replace('"Before"', '"After"'))
    assert mi.result("reload_routes") == "OK"
    assert options(sb, port, 1) == ["After"]


def test_fifo_commands(sb):
    """The FIFO transport: OpenSIPS framing, a 4.x alias, errors, statistics."""
    srv, port, http, fifo = start(sb)
    d = str(sb.dir)
    r = fifo_call(fifo, d, {"jsonrpc": "2.0", "method": "version", "id": 1})
    assert r["result"]["Server"].startswith("Switchboard ") and r["id"] == 1
    r = fifo_call(fifo, d, {"jsonrpc": "2.0", "method": "core:uptime", "id": "x"})
    assert "Up time" in r["result"] and r["id"] == "x"
    r = fifo_call(fifo, d, {"jsonrpc": "2.0", "method": "nope", "id": 2})
    assert r["error"]["code"] == -32601
    options(sb, port, 2)
    r = fifo_call(fifo, d, {"jsonrpc": "2.0", "method": "statistics:get",
                            "params": {"statistics": ["script_options"]}, "id": 3})
    assert r["result"] == {"dynamic:script_options": 2}
    r = fifo_call(fifo, d, {"jsonrpc": "2.0", "method": "log_level", "params": ["2"], "id": 4})
    assert r["result"]["New global log level"] == 2


def test_kill_over_http(sb):
    srv, port, http, fifo = start(sb)
    assert Mi(http).result("kill") == "OK"
    assert wait_exit(srv) == 0
    assert "switchboard stopped" in srv.log()
    assert not os.path.exists(fifo), "the FIFO is removed at shutdown"


def test_kill_over_fifo(sb):
    srv, port, http, fifo = start(sb)
    r = fifo_call(fifo, str(sb.dir), {"jsonrpc": "2.0", "method": "core:kill", "id": 1})
    assert r["result"] == "OK"
    assert wait_exit(srv) == 0


def test_basic_auth(sb):
    extra = ('modparam("mi_http", "auth_user", "admin")\n'
             'modparam("mi_http", "auth_password", "s3cret")\n'
             'modparam("mi_http", "root", "rpc")')
    srv, port, http, _ = start(sb, extra=extra)
    body = b'{"jsonrpc":"2.0","method":"version","id":1}'
    assert Mi(http, root="rpc").raw(body)[0] == 401
    assert Mi(http, root="rpc", auth="admin:wrong").raw(body)[0] == 401
    status, r = Mi(http, root="rpc", auth="admin:s3cret").raw(body)
    assert status == 200 and r["result"]["Server"].startswith("Switchboard ")
    assert Mi(http, root="mi", auth="admin:s3cret").raw(body)[0] == 404


def test_script_statistics(sb):
    """The statistics module: $stat reads what update_stat wrote, groups declared with
    stat_groups work, and an MI reset is seen by the script."""
    srv, port, http, _ = start(sb, reason="n=$stat(script_options) m=$stat(method:OPTIONS)",
                               extra='modparam("statistics", "stat_groups", "method")',
                               script='update_stat("method:$rm", 2);')
    assert options(sb, port, 2) == ["n=1 m=2", "n=2 m=4"]
    mi = Mi(http)
    assert mi.result("get_statistics", [["method:"]]) == {"method:OPTIONS": 4}
    assert mi.result("reset_statistics", [["script_options"]]) == "OK"
    assert options(sb, port, 1) == ["n=1 m=6"]
