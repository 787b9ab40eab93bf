# SPDX-License-Identifier: BSD-2-Clause
"""Garbage under load: 5000 datagrams of random bytes and mangled SIP hit the proxy while sipp
runs calls through it. Every call must succeed and the server must live on, sanitizer-clean."""
import random
import socket
import time

from conftest import sip_request

CFG = """
log_level = 2
stderror_enabled = yes
socket = udp:127.0.0.1:@PORT@
socket = tcp:127.0.0.1:@PORT@

loadmodule "proto_udp.so"
loadmodule "proto_tcp.so"
loadmodule "sl.so"

route {
    if ($rU == "ping") {
        sl_send_reply(200, "OK");
        exit;
    }
    forward("sip:127.0.0.1:@UASPORT@");
}
"""

N_GARBAGE = 5000


def garbage(rng, template):
    """Random bytes, or a valid request cut short, bit-flipped or with a random header."""
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 1400)))
    if kind == 1:
        return template[:rng.randrange(1, len(template))]
    if kind == 2:
        b = bytearray(template)
        for _ in range(rng.randrange(1, 8)):
            b[rng.randrange(len(b))] = rng.getrandbits(8)
        return bytes(b)
    alphabet = b"abcXYZ:;,<>\"@[]%= \t\r\n0123456789"
    junk = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 200)))
    cut = template.index(b"\r\n") + 2
    return template[:cut] + junk + template[cut:]


def test_garbage_flood_during_calls(sb):
    port, uas_port, uac_port = sb.port(), sb.port(), sb.port()
    srv = sb.server(CFG, PORT=port, UASPORT=uas_port)
    sb.sipp("uas", ["-sn", "uas", "-i", "127.0.0.1", "-p", uas_port], background=True)
    uac = sb.sipp("uac", ["-sn", "uac", "127.0.0.1:%d" % port, "-i", "127.0.0.1", "-p",
                          uac_port, "-m", 30, "-r", 15, "-d", 100, "-trace_stat", "-fd", 1],
                  timeout=40, background=True)
    rng = random.Random(4475)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    template = sip_request("INVITE", "sip:x@127.0.0.1:%d" % port, s.getsockname(), body=b"v=0\r\n",
                           extra=["Content-Type: application/sdp"])
    sent = 0
    end = time.monotonic() + 20
    try:
        while sent < N_GARBAGE and time.monotonic() < end:
            for _ in range(100):
                try:
                    s.sendto(garbage(rng, template), ("127.0.0.1", port))
                except OSError:
                    pass  # ENOBUFS under load: keep going
                sent += 1
            time.sleep(0.02)
            if not srv.alive():
                break
    finally:
        s.close()
    r = uac.wait()
    assert srv.alive(), "server died under garbage:\n" + srv.log_tail(60)
    assert sent >= N_GARBAGE, "only %d garbage datagrams sent in time" % sent
    assert r.rc == 0, r.describe() + "\n--- server ---\n" + srv.log_tail()
    a = sb.options_ok(("127.0.0.1", port))
    assert a is not None and a.status == 200, srv.log_tail()
