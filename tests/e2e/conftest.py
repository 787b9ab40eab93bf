# SPDX-License-Identifier: BSD-2-Clause
"""End-to-end harness: runs the switchboard binary, sipp and raw sockets on loopback.

Every process is started with Popen, remembered by PID and stopped by that PID (SIGTERM, bounded
wait, SIGKILL). Every wait is bounded. A test fails when the server it started exited abnormally
or wrote a sanitizer report, even if the test body passed. On failure the test's files (configs,
server and sipp logs, a pcap when tshark is installed) are copied to the artifact directory.

Environment:
  SB_BINARY          server binary (default <repo>/build-test/switchboard, then build/switchboard)
  SB_E2E_ARTIFACTS   where failed tests' files go (default <dir of SB_BINARY>/e2e-artifacts)
  SB_E2E_PCAP=0      do not capture packets
  SB_E2E_WORKERS     run every server with this many worker threads (-w); default: its config
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SANITIZER_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|ThreadSanitizer")
STARTED_RE = re.compile(r"\bstarted\b", re.I)


# ---- binaries ----------------------------------------------------------------------------------


def server_binary():
    env = os.environ.get("SB_BINARY")
    if env:
        return Path(env)
    for cand in (REPO / "build-test" / "switchboard", REPO / "build" / "switchboard"):
        if cand.exists():
            return cand
    return REPO / "build-test" / "switchboard"


BINARY = server_binary()
ARTIFACTS = Path(os.environ.get("SB_E2E_ARTIFACTS") or (BINARY.parent / "e2e-artifacts"))
_help_cache = {}


def binary_help():
    """The server's --help text (cached); empty when the binary cannot run."""
    if "text" not in _help_cache:
        try:
            r = subprocess.run([str(BINARY), "--help"], capture_output=True, timeout=10,
                               text=True, errors="replace")
            _help_cache["text"] = r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired):
            _help_cache["text"] = ""
    return _help_cache["text"]


def need(binary):
    if shutil.which(binary) is None:
        pytest.skip("%s not installed" % binary)


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


HAVE_IPV6 = have_ipv6()


# ---- ports -------------------------------------------------------------------------------------

_given_ports = set()


def _bindable(fam, host, kind, port):
    s = socket.socket(fam, kind)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    """A port free on 127.0.0.1 (and ::1 when IPv6 works) for both UDP and TCP, never handed out
    twice in this run. The kernel picks it (bind to port 0), so it is in the ephemeral range."""
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        t.close()
        if port in _given_ports:
            continue
        ok = _bindable(socket.AF_INET, "127.0.0.1", socket.SOCK_DGRAM, port)
        if ok and HAVE_IPV6:
            ok = (_bindable(socket.AF_INET6, "::1", socket.SOCK_DGRAM, port) and
                  _bindable(socket.AF_INET6, "::1", socket.SOCK_STREAM, port))
        ok = ok and _bindable(socket.AF_INET, "127.0.0.1", socket.SOCK_STREAM, port)
        if ok:
            _given_ports.add(port)
            return port
    raise RuntimeError("no free port found")


def _proc_net_has(port, proto):
    """Is something bound to <port> (UDP) or listening on it (TCP), IPv4 or IPv6?"""
    hexport = ":%04X" % port
    for name in (proto, proto + "6"):
        try:
            with open("/proc/net/" + name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 3 and cols[1].endswith(hexport) and (proto == "udp" or cols[3] == "0A"):
                return True
    return False


def wait_bound(port, proto, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if _proc_net_has(port, proto):
            return True
        time.sleep(0.05)
    return False


# ---- SIP messages ------------------------------------------------------------------------------


class SipMsg:
    """A received SIP message, parsed loosely (the harness must not be stricter than a peer)."""

    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("utf-8", "replace").split("\r\n")
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + line.strip())
            elif ":" in line:
                n, v = line.split(":", 1)
                self.headers.append((n.strip(), v.strip()))
        self.status = None
        self.reason = ""
        self.method = None
        parts = self.start.split(" ", 2)
        if self.start.startswith("SIP/2.0 ") and len(parts) >= 2 and parts[1].isdigit():
            self.status = int(parts[1])
            self.reason = parts[2] if len(parts) > 2 else ""
        else:
            self.method = parts[0]

    _compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
                "l": "content-length", "c": "content-type", "k": "supported", "s": "subject"}

    def all(self, name):
        name = name.lower()
        out = []
        for n, v in self.headers:
            n = n.lower()
            if self._compact.get(n, n) == name:
                out.append(v)
        return out

    def hdr(self, name):
        v = self.all(name)
        return v[0] if v else None

    def __repr__(self):
        return "<SipMsg %r>" % self.start


_seq = [0]


def sip_request(method, ruri, local, proto="UDP", max_forwards=70, extra=(), body=b"",
                call_id=None, cseq=1, to_tag=None):
    """A minimal valid request from <local> (host, port). Returns bytes."""
    _seq[0] += 1
    n = _seq[0]
    host, port = local[0], local[1]
    sent_by = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    call_id = call_id or "e2e-%d-%d@%s" % (os.getpid(), n, host)
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/%s %s;branch=z9hG4bK-e2e-%d-%d;rport" % (proto, sent_by, os.getpid(), n),
    ]
    if max_forwards is not None:
        lines.append("Max-Forwards: %d" % max_forwards)
    lines += [
        "From: <sip:e2e@%s>;tag=e2e%d" % (sent_by, n),
        "To: <%s>%s" % (ruri, ";tag=%s" % to_tag if to_tag else ""),
        "Call-ID: %s" % call_id,
        "CSeq: %d %s" % (cseq, method),
    ]
    lines += list(extra)
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def frame_stream(buf):
    """Split one SIP message off the front of a stream buffer: (msg bytes | b"\\r\\n" keep-alive
    | None when incomplete, rest)."""
    if buf.startswith(b"\r\n"):
        return b"\r\n", buf[2:]
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    head = buf[:end].decode("latin-1")
    m = re.search(r"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
    clen = int(m.group(1)) if m else 0
    total = end + 4 + clen
    if len(buf) < total:
        return None, buf
    return buf[:total], buf[total:]


class SipSocket:
    """A UDP or TCP socket talking to the server, with bounded receives."""

    def __init__(self, proto, server, local_host=None, bind_port=0):
        self.proto = proto.lower()
        self.server = server
        fam = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        kind = socket.SOCK_DGRAM if self.proto == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(fam, kind)
        host = local_host or ("::1" if fam == socket.AF_INET6 else "127.0.0.1")
        self.sock.bind((host, bind_port))
        if self.proto == "tcp":
            self.sock.settimeout(5)
            self.sock.connect(server)
        self.local = self.sock.getsockname()[:2]
        self.buf = b""
        self.closed = False

    def send(self, data):
        if self.proto == "udp":
            self.sock.sendto(data, self.server)
        else:
            self.sock.sendall(data)

    def recv_raw(self, timeout=2.0):
        """The next datagram or stream unit (message or CRLF) within <timeout>; None if none."""
        end = time.monotonic() + timeout
        while True:
            if self.proto == "tcp":
                unit, self.buf = frame_stream(self.buf)
                if unit is not None:
                    return unit
                if self.closed:
                    return None
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except (ConnectionResetError, ConnectionRefusedError):
                self.closed = True
                return None
            if self.proto == "udp":
                return data
            if not data:
                self.closed = True
            self.buf += data

    def recv(self, timeout=2.0, skip_provisional=True):
        """The next SIP message (CRLF keep-alives skipped; 1xx skipped unless asked)."""
        end = time.monotonic() + timeout
        while True:
            raw = self.recv_raw(max(0.0, end - time.monotonic()))
            if raw is None:
                return None
            if raw == b"\r\n":
                continue
            msg = SipMsg(raw)
            if skip_provisional and msg.status is not None and msg.status < 200:
                continue
            return msg

    def wait_closed(self, timeout=2.0):
        """True when the peer closed the connection within <timeout> (data read is kept)."""
        end = time.monotonic() + timeout
        while not self.closed and time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
            self.buf += data
        return self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- processes ---------------------------------------------------------------------------------


def stop_pid(p, grace=10.0):
    """SIGTERM <p>, wait up to <grace> s, then SIGKILL. Returns (returncode, was_killed)."""
    if p.poll() is not None:
        return p.returncode, False
    try:
        p.send_signal(signal.SIGTERM)
        return p.wait(grace), False
    except subprocess.TimeoutExpired:
        p.kill()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        return p.returncode, True


def _sanitizer_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class Server:
    """One switchboard instance: a config written from a template, a log, a PID."""

    def __init__(self, env, name, template, subs, listen):
        self.env, self.name = env, name
        self.dir = env.dir
        self.cfg = self.dir / ("%s.cfg" % name)
        self.logpath = self.dir / ("%s.log" % name)
        self.listen = listen  # [(proto, host, port)]
        text = template
        for k, v in subs.items():
            text = text.replace("@%s@" % k, str(v))
        left = re.findall(r"@[A-Z][A-Z0-9_]*@", text)
        if left:
            raise ValueError("config template: no value for %s" % ", ".join(sorted(set(left))))
        self.cfg.write_text(text)
        self.proc = None
        self.rc = None
        self.killed = False
        self.stopped = False
        self.start_failed = False

    def argv(self):
        argv = [str(BINARY), "-F", "-E", "-f", str(self.cfg)]
        if os.environ.get("SB_E2E_WORKERS"):
            argv += ["-w", os.environ["SB_E2E_WORKERS"]]
        if "--no-supervisor" in binary_help():
            argv.append("--no-supervisor")
        return argv

    def start(self, timeout=10.0):
        if not BINARY.exists():
            pytest.skip("no server binary at %s (set SB_BINARY)" % BINARY)
        self.env.capture_start()
        self._log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(self.argv(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     env=_sanitizer_env(), start_new_session=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self.start_failed = True
                pytest.fail("%s exited at start (rc %s):\n%s" %
                            (self.name, self.proc.returncode, self.log_tail()))
            if STARTED_RE.search(self.log()) or self._all_bound():
                return self
            time.sleep(0.05)
        pytest.fail("%s not ready within %.0f s:\n%s" % (self.name, timeout, self.log_tail()))

    def _all_bound(self):
        return all(_proc_net_has(port, proto) for proto, _, port in self.listen)

    def addr(self, proto="udp", family=None):
        for p, host, port in self.listen:
            if p == proto and (family is None or (":" in host) == (family == 6)):
                return (host, port)
        raise KeyError(proto)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            return self.logpath.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log().splitlines()[-n:])

    def stop(self):
        if self.proc is None or self.stopped:
            return
        self.stopped = True
        was_alive = self.proc.poll() is None
        self.rc, self.killed = stop_pid(self.proc)
        self.died_early = not was_alive
        self._log.close()

    def problems(self):
        """What went wrong with this process (call after stop())."""
        out = []
        if self.proc is None:
            return out
        log = self.log()
        hit = SANITIZER_RE.search(log)
        if hit:
            i = hit.start()
            out.append("%s: sanitizer report in the log:\n%s" %
                       (self.name, log[max(0, i - 200):i + 3000]))
        if self.killed:
            out.append("%s: did not exit within 10 s of SIGTERM (killed)" % self.name)
        elif self.start_failed:
            pass  # already reported by start()
        elif getattr(self, "died_early", False):
            out.append("%s: exited by itself during the test (rc %s):\n%s" %
                       (self.name, self.rc, self.log_tail()))
        elif self.rc not in (0, None):
            out.append("%s: exit status %s after SIGTERM:\n%s" %
                       (self.name, self.rc, self.log_tail()))
        return out


class SippResult:
    def __init__(self, name, rc, out, cwd):
        self.name, self.rc, self.out, self.cwd = name, rc, out, Path(cwd)

    def files(self, pattern):
        return sorted(self.cwd.glob(pattern))

    def text(self, pattern):
        return "\n".join(f.read_text(errors="replace") for f in self.files(pattern))

    def describe(self):
        errs = self.text("*_errors.log")
        return "sipp %s rc=%s\n--- output ---\n%s\n--- errors ---\n%s" % (
            self.name, self.rc, self.out[-3000:], errs[-3000:])


class Sipp:
    """A sipp run in its own directory (sipp writes its logs to its cwd)."""

    def __init__(self, env, name, args, timeout):
        self.env, self.name = env, name
        self.cwd = env.dir / ("sipp-" + name)
        self.cwd.mkdir(exist_ok=True)
        self.timeout = timeout
        self.cp = free_port()
        self.argv = ["sipp"] + [str(a) for a in args] + [
            "-nostdin", "-timeout", "%ds" % timeout, "-timeout_error", "-cp", str(self.cp),
            "-trace_err"]
        self.proc = None
        self.result = None
        self._out = self.cwd / "stdout.txt"

    def start(self):
        self.env.capture_start()
        self._fh = open(self._out, "wb")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, stdout=self._fh,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        return self

    def wait(self, extra=10):
        """Wait (bounded by sipp's own timeout plus <extra>) and return a SippResult."""
        if self.result is None:
            try:
                rc = self.proc.wait(self.timeout + extra)
            except subprocess.TimeoutExpired:
                rc, _ = stop_pid(self.proc, 2)
                rc = "killed (%s)" % rc
            self._fh.close()
            self.result = SippResult(self.name, rc, self._out.read_text(errors="replace"),
                                     self.cwd)
        return self.result

    def stop(self):
        if self.proc is not None and self.result is None:
            if self.proc.poll() is None:
                stop_pid(self.proc, 3)
            self.wait(0)


class Capture:
    """tshark on lo for a set of ports; the file is kept only when the test fails."""

    def __init__(self, path):
        self.path = Path(path)
        self.proc = None

    def start(self, ports):
        if (os.environ.get("SB_E2E_PCAP", "1") == "0" or shutil.which("tshark") is None or
                not ports or self.proc is not None):
            return
        filt = " or ".join("port %d" % p for p in sorted(ports))
        self._out = self.path.with_suffix(".tshark.txt")
        self._fh = open(self._out, "wb")
        self.proc = subprocess.Popen(["tshark", "-i", "lo", "-q", "-w", str(self.path), "-f", filt],
                                     stdout=self._fh, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        end = time.monotonic() + 5
        while time.monotonic() < end and self.proc.poll() is None:
            if b"Capturing on" in self._out.read_bytes():
                return
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None:
            time.sleep(0.1)  # let the last packets reach the file
            stop_pid(self.proc, 5)
            self._fh.close()
            self.proc = None


class Env:
    """Per-test (or per-module) world: a directory, ports, servers, sipps and a capture."""

    def __init__(self, name, directory):
        self.name = name
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ports = set()
        self.servers = []
        self.sipps = []
        self.socks = []
        self.capture = Capture(self.dir / "traffic.pcapng")
        self.finished = False
        self.problem_list = []

    # ports and capture
    def port(self):
        p = free_port()
        self.ports.add(p)
        return p

    def capture_start(self):
        self.capture.start(self.ports)

    # processes
    def server(self, template, name="sb", listen=None, start=True, **subs):
        """Start a server from <template> ("@NAME@" placeholders from <subs>). <listen>: the
        [(proto, host, port)] it binds (used for the readiness check); by default UDP and TCP on
        127.0.0.1:<subs['PORT']>."""
        if listen is None:
            listen = [("udp", "127.0.0.1", subs["PORT"]), ("tcp", "127.0.0.1", subs["PORT"])]
        s = Server(self, name, template, subs, listen)
        self.servers.append(s)
        if start:
            s.start()
        return s

    def sipp(self, name, args, timeout=20, background=False):
        """Run sipp; background=True returns the running Sipp (stopped at the end)."""
        need("sipp")
        sp = Sipp(self, name, args, timeout)
        self.sipps.append(sp)
        sp.start()
        if background:
            return sp
        return sp.wait()

    def sock(self, proto, server, **kw):
        self.capture_start()
        s = SipSocket(proto, server, **kw)
        self.socks.append(s)
        return s

    def options_ok(self, server, proto="udp", timeout=2.0):
        """Does the server still answer an OPTIONS (any final answer) on a fresh socket?"""
        s = SipSocket(proto, server)
        try:
            host = server[0]
            ruri = "sip:ping@[%s]:%d" % server if ":" in host else "sip:ping@%s:%d" % server
            s.send(sip_request("OPTIONS", ruri, s.local, proto.upper()))
            return s.recv(timeout)
        except OSError:
            return None
        finally:
            s.close()

    def finish(self):
        """Stop everything (sipps, then servers, then capture) and return the problems found."""
        if self.finished:
            return self.problem_list
        self.finished = True
        for s in self.socks:
            s.close()
        for sp in reversed(self.sipps):
            sp.stop()
        for sv in reversed(self.servers):
            sv.stop()
        self.capture.stop()
        for sv in self.servers:
            self.problem_list += sv.problems()
        return self.problem_list

    def keep(self, reason):
        """Copy this test's files to the artifact directory."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name)[:150]
        dest = ARTIFACTS / safe
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(self.dir, dest, dirs_exist_ok=True)
        (dest / "REASON.txt").write_text(reason)
        return dest

    def cleanup_capture(self):
        try:
            self.capture.path.unlink()
        except OSError:
            pass


def socket_lines(host, port, protos=("udp", "tcp")):
    """socket= lines for a config: one per protocol on <host>:<port>."""
    h = "[%s]" % host if ":" in host else host
    return "\n".join("socket = %s:%s:%d" % (p, h, port) for p in protos)


def uri_host(host):
    return "[%s]" % host if ":" in host else host


# ---- pytest wiring -----------------------------------------------------------------------------


def pytest_sessionstart(session):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    problems = []
    env = getattr(item, "_sb_env", None)
    if call.when == "call" and env is not None:
        problems = env.finish()
    outcome = yield
    rep = outcome.get_result()
    if problems:
        text = "\n".join(problems)
        if rep.passed:
            rep.outcome = "failed"
            rep.longrepr = text
        else:
            rep.sections.append(("switchboard process", text))
    setattr(item, "rep_" + rep.when, rep)
    menv = getattr(item, "funcargs", {}).get("sb_module")
    if menv is not None and rep.failed:
        menv.any_failed = True


def _failed(item):
    for when in ("setup", "call"):
        rep = getattr(item, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


@pytest.fixture
def sb(request, tmp_path):
    """The per-test world (see Env)."""
    env = Env(request.node.nodeid, tmp_path / "e2e")
    request.node._sb_env = env
    yield env
    problems = env.finish()
    if _failed(request.node) or problems:
        where = env.keep("test failed" + ("\n" + "\n".join(problems) if problems else ""))
        print("artifacts kept in %s" % where)
    else:
        env.cleanup_capture()


@pytest.fixture(scope="module")
def sb_module(request, tmp_path_factory):
    """A world shared by a module's tests (one server for many cases). Its files are kept when
    any test of the module failed."""
    env = Env(request.node.nodeid or request.module.__name__,
              tmp_path_factory.mktemp("e2e-" + request.module.__name__.split(".")[-1]))
    env.any_failed = False
    yield env
    problems = env.finish()
    if env.any_failed or problems:
        where = env.keep("a test of the module failed" +
                         ("\n" + "\n".join(problems) if problems else ""))
        print("artifacts kept in %s" % where)
        if problems:
            pytest.fail("\n".join(problems))
    else:
        env.cleanup_capture()


@pytest.fixture
def ports():
    return free_port
