# SPDX-License-Identifier: BSD-2-Clause
"""Prometheus end to end: GET /metrics on the httpd serves every statistic in the text exposition
format (checked by Debian's promtool), counters move with SIP traffic, the module parameters
choose the statistics and the names; and a real Prometheus server scrapes it."""
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import need, sip_request, stop_pid

CFG = """
log_level = 3
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "sl.so"
loadmodule "httpd.so"
loadmodule "prometheus.so"
loadmodule "statistics.so"

modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", @HTTP@)
modparam("statistics", "variable", "script_hits")
@EXTRA@

route {
    update_stat("script_hits", "+1");
    sl_send_reply(200, "OK");
}
"""

SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?\d+)$")


def start(sb, extra=""):
    port, http = sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, HTTP=http, EXTRA=extra,
                    listen=[("udp", "127.0.0.1", port), ("tcp", "127.0.0.1", http)])
    return srv, port, http


def scrape(http, root="metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (http, root), timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode()


def parse(text):
    """{name or name{labels}: value} and {name: type}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            types[name] = typ
        elif line and not line.startswith("#"):
            m = SAMPLE_RE.match(line)
            assert m, "bad sample line %r" % line
            samples[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    return samples, types


def options(sb, port, n):
    s = sb.sock("udp", ("127.0.0.1", port))
    for _ in range(n):
        s.send(sip_request("OPTIONS", "sip:p@127.0.0.1:%d" % port, s.local))
        m = s.recv(3.0)
        assert m is not None and m.status == 200


def test_metrics_format_and_values(sb):
    need("promtool")
    srv, port, http = start(sb)
    text = scrape(http)
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    before, types = parse(text)
    assert types["switchboard_core_rcv_requests_total"] == "counter"
    assert types["switchboard_dynamic_script_hits_total"] == "counter"
    gauges = [n for n, t in types.items() if t == "gauge"]
    assert gauges, "no gauge at all"
    options(sb, port, 3)
    after, _ = parse(scrape(http))
    assert after["switchboard_core_rcv_requests_total"] - \
        before["switchboard_core_rcv_requests_total"] == 3
    assert after["switchboard_dynamic_script_hits_total"] == 3


def test_params_select_and_rename(sb):
    need("promtool")
    extra = "\n".join([
        'modparam("prometheus", "root", "prom")',
        'modparam("prometheus", "prefix", "sbx")',
        'modparam("prometheus", "group_mode", 2)',
        'modparam("prometheus", "statistics", "core: script_hits")',
        'modparam("prometheus", "labels", "node=\\"a-1\\"")',
    ])
    srv, port, http = start(sb, extra)
    options(sb, port, 2)
    text = scrape(http, "prom")
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    samples, types = parse(text)
    assert samples['sbx_script_hits_total{group="dynamic",node="a-1"}'] == 2
    assert samples['sbx_rcv_requests_total{group="core",node="a-1"}'] >= 2
    assert not any(n.startswith("sbx_snd_msgs") for n in samples), "net: was not selected"
    with pytest.raises(urllib.error.HTTPError):
        scrape(http, "metrics")


def test_real_prometheus_scrapes(sb):
    need("prometheus")
    srv, port, http = start(sb)
    prom_port = sb.port()
    d = sb.dir / "prom"
    d.mkdir()
    (d / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: switchboard\n    metrics_path: /metrics\n"
        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % http)
    log = open(d / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [shutil.which("prometheus"), "--config.file=%s" % (d / "prometheus.yml"),
         "--web.listen-address=127.0.0.1:%d" % prom_port, "--storage.tsdb.path=%s" % (d / "tsdb")],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=d,
        start_new_session=True)
    try:
        options(sb, port, 2)
        url = ("http://127.0.0.1:%d/api/v1/query?query=switchboard_core_rcv_requests_total"
               % prom_port)
        value = None
        end = time.monotonic() + 30
        while time.monotonic() < end and value is None:
            assert proc.poll() is None, (d / "prometheus.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    res = json.loads(r.read())["data"]["result"]
                if res:
                    value = int(float(res[0]["value"][1]))
            except (OSError, ValueError, KeyError):
                pass
            if value is None:
                time.sleep(0.3)
        assert value is not None and value >= 2, "Prometheus never scraped the server"
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/targets" % prom_port,
                                    timeout=5) as r:
            targets = json.loads(r.read())["data"]["activeTargets"]
        assert targets and targets[0]["health"] == "up", targets
    finally:
        stop_pid(proc)
        log.close()
