# SPDX-License-Identifier: BSD-2-Clause
"""The switchboard process: command line, start-up line, graceful stop, reload on SIGHUP,
supervisor restarts, pidfile and daemon mode. Self-contained: run alone with
/usr/bin/pytest-3 tests/e2e/test_process.py (binary from $SB_BINARY)."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

BINARY = os.environ.get("SB_BINARY", "/work/main/build/switchboard")
STARTED = re.compile(r"switchboard \S+ started: (\d+) workers?, listening on (.*)")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Server:
    """A switchboard process whose stderr is collected line by line."""

    def __init__(self, args, cwd=None):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([BINARY] + args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, cwd=cwd)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_line(self, pattern, timeout=10.0, start=0):
        """The first line from index <start> matching <pattern>: (index, match)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError("no line matching %r; got:\n%s"
                                         % (pattern, "\n".join(self.lines)))
                self.cond.wait(min(left, 0.1))

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(2)


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory(prefix="sb-process-") as d:
        yield d


@pytest.fixture
def servers():
    started = []
    yield started
    for s in started:
        s.stop()


def basic_cfg(port, extra=""):
    return "socket=udp:127.0.0.1:%d\n%s\nroute { exit; }\n" % (port, extra)


def check(path):
    return subprocess.run([BINARY, "-c", "-f", path], capture_output=True, text=True, timeout=30)


def has_xlog(tmp):
    path = os.path.join(tmp, "xlog.cfg")
    write(path, 'startup_route { xlog("L_NOTICE", "x\\n"); }\nroute { exit; }\n')
    return check(path).returncode == 0


def children(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
    return True


# ---- command line --------------------------------------------------------------------------------

def test_version_and_help():
    r = subprocess.run([BINARY, "-V"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    assert re.match(r"switchboard \d+\.\d+\.\d+", r.stdout)
    r = subprocess.run([BINARY, "-h"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--no-supervisor" in r.stdout
    r = subprocess.run([BINARY, "-w", "zero"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2


def test_check_exit_codes(tmp):
    good = os.path.join(tmp, "good.cfg")
    write(good, basic_cfg(free_udp_port()))
    r = check(good)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout

    bad = os.path.join(tmp, "bad.cfg")
    write(bad, "socket=udp:127.0.0.1:5060\nroute {\n    no_such_function();\n}\n")
    r = check(bad)
    assert r.returncode == 1
    assert re.search(re.escape(bad) + r":3:\d+: error: ", r.stderr), r.stderr

    r = check(os.path.join(tmp, "missing.cfg"))
    assert r.returncode == 1

    # -l is checked with the configuration
    r = subprocess.run([BINARY, "-c", "-f", good, "-l", "udp:127.0.0.1:99999"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1 and "-l udp:127.0.0.1:99999" in r.stderr


def test_dump_script(tmp):
    path = os.path.join(tmp, "a.cfg")
    write(path, basic_cfg(free_udp_port()) + "route[only_here] { exit; }\n")
    r = subprocess.run([BINARY, "--dump-script", "-f", path], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    assert "only_here" in r.stdout


def test_default_config_relative_to_cwd(tmp):
    os.mkdir(os.path.join(tmp, "etc"))
    write(os.path.join(tmp, "etc", "switchboard.cfg"), basic_cfg(free_udp_port()))
    r = subprocess.run([BINARY, "-c"], capture_output=True, text=True, timeout=10, cwd=tmp)
    assert r.returncode == 0, r.stderr
    assert "etc/switchboard.cfg: configuration ok" in r.stdout


# ---- the server ----------------------------------------------------------------------------------

def test_start_and_graceful_stop(tmp, servers):
    port, extra_port = free_udp_port(), free_udp_port()
    path = os.path.join(tmp, "a.cfg")
    startup = 'startup_route { xlog("L_NOTICE", "startup route ran\\n"); }' if has_xlog(tmp) else ""
    write(path, basic_cfg(port, startup))
    pidfile = os.path.join(tmp, "sb.pid")
    s = Server(["-F", "-E", "--no-supervisor", "-w", "2", "-P", pidfile, "-f", path,
                "-l", "udp:127.0.0.1:%d" % extra_port])
    servers.append(s)
    _, m = s.wait_line(STARTED.pattern)
    assert m.group(1) == "2"
    assert "udp:127.0.0.1:%d" % port in m.group(2)
    assert "udp:127.0.0.1:%d" % extra_port in m.group(2)
    if startup:
        i, _ = s.wait_line("startup route ran")
        j, _ = s.wait_line(STARTED.pattern)
        assert i < j, "startup_route runs before the server reports it serves"
    with open(pidfile) as f:
        assert int(f.read()) == s.proc.pid

    # the port is really bound by us
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pytest.raises(OSError):
        probe.bind(("127.0.0.1", port))
    probe.close()

    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(5) == 0
    assert time.monotonic() - t0 < 3.0
    assert not os.path.exists(pidfile)
    s.wait_line("stopped")


def test_sigint_stops_too(tmp, servers):
    path = os.path.join(tmp, "a.cfg")
    write(path, basic_cfg(free_udp_port()))
    s = Server(["-F", "-E", "--no-supervisor", "-w", "1", "-f", path])
    servers.append(s)
    s.wait_line(STARTED.pattern)
    s.proc.send_signal(signal.SIGINT)
    assert s.proc.wait(5) == 0


def test_timer_route_runs(tmp, servers):
    if not has_xlog(tmp):
        pytest.skip("xlog is not available")
    path = os.path.join(tmp, "a.cfg")
    write(path, basic_cfg(free_udp_port(),
                          'timer_route[tick, 1] { xlog("L_NOTICE", "tick ran\\n"); }'))
    s = Server(["-F", "-E", "--no-supervisor", "-w", "2", "-f", path])
    servers.append(s)
    i, _ = s.wait_line(STARTED.pattern)
    a, _ = s.wait_line("tick ran", timeout=5, start=i)
    s.wait_line("tick ran", timeout=5, start=a + 1)


def test_sighup_reload_good_then_bad(tmp, servers):
    port = free_udp_port()
    path = os.path.join(tmp, "a.cfg")
    write(path, basic_cfg(port))
    s = Server(["-F", "-E", "--no-supervisor", "-w", "2", "-f", path])
    servers.append(s)
    i, _ = s.wait_line(STARTED.pattern)

    write(path, basic_cfg(port) + "route[added] { exit; }\n")
    s.proc.send_signal(signal.SIGHUP)
    i, _ = s.wait_line(r"reload_routes: .* reloaded", start=i)

    write(path, basic_cfg(port) + "route[broken] {\n    exit(\n")
    s.proc.send_signal(signal.SIGHUP)
    i, _ = s.wait_line(re.escape(path) + r":\d+:\d+: error: ", start=i)
    s.wait_line(r"running script is kept", start=0)
    time.sleep(0.3)
    assert s.proc.poll() is None, "a failed reload must not stop the server"

    # and it still reloads once the file is fixed
    write(path, basic_cfg(port))
    s.proc.send_signal(signal.SIGHUP)
    s.wait_line(r"reload_routes: .* reloaded", start=i)
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(5) == 0


def test_supervisor_restarts_killed_server(tmp, servers):
    port = free_udp_port()
    path = os.path.join(tmp, "a.cfg")
    write(path, basic_cfg(port))
    pidfile = os.path.join(tmp, "sb.pid")
    s = Server(["-F", "-E", "-w", "1", "-P", pidfile, "-f", path])
    servers.append(s)
    i, _ = s.wait_line(STARTED.pattern)
    with open(pidfile) as f:
        assert int(f.read()) == s.proc.pid, "the pidfile names the supervisor"
    kids = children(s.proc.pid)
    assert len(kids) == 1
    first = kids[0]

    os.kill(first, signal.SIGKILL)
    j, _ = s.wait_line(r"supervisor: the server \(pid %d\) was killed by signal 9" % first,
                       start=i)
    s.wait_line(STARTED.pattern, timeout=10, start=j)
    kids = children(s.proc.pid)
    assert len(kids) == 1 and kids[0] != first
    second = kids[0]

    # SIGTERM to the supervisor stops the server gracefully; the supervisor exits with its status
    t0 = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(5) == 0
    assert time.monotonic() - t0 < 3.0
    assert not alive(second)
    assert not os.path.exists(pidfile)


def test_supervisor_gives_up_when_first_start_fails(tmp, servers):
    port = free_udp_port()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", port))
    try:
        path = os.path.join(tmp, "a.cfg")
        write(path, basic_cfg(port))
        s = Server(["-F", "-E", "-w", "1", "-f", path])
        servers.append(s)
        rc = s.proc.wait(10)
        assert rc != 0
        assert "started:" not in s.text()
    finally:
        blocker.close()


def test_config_error_exits_1_before_fork(tmp, servers):
    path = os.path.join(tmp, "a.cfg")
    write(path, "route {\n")
    s = Server(["-F", "-E", "-f", path])
    servers.append(s)
    assert s.proc.wait(10) == 1
    assert re.search(re.escape(path) + r":\d+:\d+: error: ", s.text())


def test_daemon_mode(tmp):
    port = free_udp_port()
    path = os.path.join(tmp, "a.cfg")
    write(path, basic_cfg(port) + "stderror_enabled = yes\n")
    pidfile = os.path.join(tmp, "sb.pid")
    log = open(os.path.join(tmp, "err.log"), "w")
    # returns once the daemon serves
    r = subprocess.run([BINARY, "-w", "1", "-P", pidfile, "-f", path], stdout=subprocess.DEVNULL,
                       stderr=log, timeout=15)
    assert r.returncode == 0
    with open(pidfile) as f:
        pid = int(f.read())
    try:
        assert alive(pid)
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().split(") ")[1].split()
        ppid, sid = int(fields[1]), int(fields[3])
        assert sid != os.getsid(0), "the daemon has its own session"
        assert sid != pid, "the daemon is not a session leader"
        assert os.readlink("/proc/%d/cwd" % pid) == "/"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid)
        assert not os.path.exists(pidfile)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        log.close()
    with open(os.path.join(tmp, "err.log")) as f:
        assert STARTED.search(f.read())


def test_json_log_format(tmp, servers):
    import json
    path = os.path.join(tmp, "a.cfg")
    write(path, basic_cfg(free_udp_port()) + 'stderror_log_format = "json"\nlog_prefix = "p: "\n')
    s = Server(["-F", "-E", "--no-supervisor", "-w", "1", "-f", path])
    servers.append(s)
    _, m = s.wait_line(r'"msg":"p: switchboard \S+ started')
    line = s.lines[_]
    obj = json.loads(line)
    assert obj["level"] == "NOTICE"
    assert obj["pid"] == s.proc.pid
    assert obj["msg"].startswith("p: switchboard ")
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(5) == 0
