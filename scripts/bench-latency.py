#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Per-call latency of a SIP proxy from a loopback capture (pcap or pcapng).

For every call (Call-ID + CSeq number of the INVITE) it takes the kernel timestamps of:
  inv_in   the first INVITE sent to the proxy port by anyone but the proxy (the UAC),
  t100     the first 100 Trying sent by the proxy back to that INVITE's source address,
  inv_out  the first INVITE sent by the proxy (towards the UAS),
and reports, in microseconds, t100 - inv_in ("trying": the proxy's own answer) and
inv_out - inv_in ("relay": the INVITE forwarded). On lo the capture timestamp is taken when the
sender's packet enters the loopback device, so both figures are the proxy's time from "datagram
queued on its socket" to "its answer handed to the kernel": queueing + processing, nothing of the
UAC's or the UAS's scheduling.

Calls are grouped into runs by the sipp process id in the Call-ID ("N-PID@host"), so one capture of
several repetitions gives one line per repetition and the medians over them, as the harness does.

    bench-latency.py CAPTURE --proxy-port P [--csv OUT.csv] [--calls OUT.csv] [--slow N]

Output: a table on stdout; --csv writes one row per run plus a "median" row; --calls writes one
row per call (run, Call-ID, INVITE time, trying µs, relay µs) for closer study; --slow N prints
the N slowest 100s with what the proxy was sending around them.
"""

import argparse
import re
import struct
import sys

LINKTYPE_NULL, LINKTYPE_EN10MB, LINKTYPE_RAW, LINKTYPE_SLL, LINKTYPE_SLL2 = 0, 1, 101, 113, 276

CALLID_RE = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)
CSEQ_RE = re.compile(rb"^cseq[ \t]*:[ \t]*(\d+)[ \t]+([A-Za-z]+)", re.I | re.M)
SIPP_CALLID_RE = re.compile(rb"^\d+-(\d+)@")
PCAP_MAGIC = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")


def read_packets(path):
    """Yields (timestamp in ns, linktype, frame bytes) of a pcap or pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in PCAP_MAGIC:
        yield from _pcap(data)
    elif magic == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng(data)
    else:
        raise SystemExit("%s: neither pcap nor pcapng" % path)


def _pcap(data):
    magic = data[:4]
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack_from(e + "I", data, 20)[0] & 0x0FFFFFFF
    hdr = struct.Struct(e + "IIII")
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = hdr.unpack_from(data, off)
        off += 16
        yield sec * 1_000_000_000 + (frac if nano else frac * 1000), linktype, data[off:off + incl]
        off += incl


def _pcapng(data):
    e = "<"
    links = []  # per interface: (linktype, ns per tick)
    off = 0
    while off + 12 <= len(data):
        btype = struct.unpack_from(e + "I", data, off)[0]
        if btype == 0x0A0D0D0A:
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack_from(e + "I", data, off + 4)[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description: link type and if_tsresol
            linktype = struct.unpack_from(e + "H", body, 0)[0]
            tick_ns = 1000
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack_from(e + "HH", body, o)
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    r = body[o + 4]
                    tick_ns = (10 ** 9 / 2 ** (r & 0x7F)) if r & 0x80 else 10 ** (9 - r)
                o += 4 + ((olen + 3) & ~3)
            links.append((linktype, tick_ns))
        elif btype == 6 and links:  # enhanced packet
            ifid, hi, lo, caplen = struct.unpack_from(e + "IIII", body, 0)
            linktype, tick_ns = links[ifid] if ifid < len(links) else links[0]
            ts = (hi << 32) | lo
            yield int(ts * tick_ns), linktype, body[20:20 + caplen]
        off += blen


def udp_of(linktype, frame):
    """(src ip, src port, dst ip, dst port, payload) of a UDP frame, or None."""
    if linktype == LINKTYPE_EN10MB:
        et, o = struct.unpack_from("!H", frame, 12)[0], 14
        while et == 0x8100 and len(frame) >= o + 4:
            et, o = struct.unpack_from("!H", frame, o + 2)[0], o + 4
    elif linktype == LINKTYPE_SLL:
        et, o = struct.unpack_from("!H", frame, 14)[0], 16
    elif linktype == LINKTYPE_SLL2:
        et, o = struct.unpack_from("!H", frame, 0)[0], 20
    elif linktype == LINKTYPE_RAW:
        et, o = (0x86DD if frame[0] >> 4 == 6 else 0x800), 0
    elif linktype == LINKTYPE_NULL:
        fam = struct.unpack_from("<I", frame, 0)[0]
        et, o = (0x800 if fam == 2 else 0x86DD), 4
    else:
        return None
    if et == 0x800:
        if len(frame) < o + 20 or frame[o + 9] != 17:
            return None
        if struct.unpack_from("!H", frame, o + 6)[0] & 0x3FFF:
            return None  # fragments: SIP over UDP on lo stays far below the MTU
        src, dst = frame[o + 12:o + 16], frame[o + 16:o + 20]
        o += (frame[o] & 0x0F) * 4
    elif et == 0x86DD:
        if len(frame) < o + 40 or frame[o + 6] != 17:
            return None
        src, dst = frame[o + 8:o + 24], frame[o + 24:o + 40]
        o += 40
    else:
        return None
    if len(frame) < o + 8:
        return None
    sport, dport = struct.unpack_from("!HH", frame, o)
    return src, sport, dst, dport, frame[o + 8:]


class Call:
    __slots__ = ("callid", "run", "inv_in", "src", "t100", "inv_out", "inv_n")

    def __init__(self, callid, run, ts, src):
        self.callid, self.run, self.inv_in, self.src = callid, run, ts, src
        self.t100 = self.inv_out = None
        self.inv_n = 1


def collect(path, proxy_port):
    """Calls keyed by (Call-ID, CSeq number), and the proxy's outgoing packets (ts, kind)."""
    calls = {}
    sent = []  # everything the proxy sent that the capture kept: (ts, first line)
    recv = []  # timestamps of everything sent to the proxy that the capture kept
    for ts, lt, frame in read_packets(path):
        u = udp_of(lt, frame)
        if u is None:
            continue
        sip, sport, dip, dport, pl = u
        from_proxy = sport == proxy_port
        if not from_proxy and dport != proxy_port:
            continue
        head = pl.split(b"\r\n\r\n", 1)[0]
        first = head.split(b"\r\n", 1)[0]
        if from_proxy:
            sent.append((ts, first[:24]))
        else:
            recv.append(ts)
        is_invite = first.startswith(b"INVITE ")
        is_100 = first.startswith(b"SIP/2.0 100 ")
        if not (is_invite or is_100):
            continue
        m, c = CALLID_RE.search(head), CSEQ_RE.search(head)
        if not m or not c or c.group(2).upper() != b"INVITE":
            continue
        key = (m.group(1), int(c.group(1)))
        call = calls.get(key)
        if is_invite and not from_proxy:
            if call is None:
                r = SIPP_CALLID_RE.match(m.group(1))
                run = r.group(1).decode() if r else "all"
                calls[key] = Call(m.group(1).decode("latin1"), run, ts, (sip, sport))
            else:
                call.inv_n += 1
        elif call is None:
            continue
        elif is_invite:
            if call.inv_out is None:
                call.inv_out = ts
        elif (dip, dport) == call.src and call.t100 is None:
            call.t100 = ts
    return calls, sent, recv


def pct(sorted_vals, p):
    """Nearest rank, as the harness computes sipp's percentiles."""
    if not sorted_vals:
        return None
    i = max(1, -(-len(sorted_vals) * p // 100))
    return sorted_vals[int(i) - 1]


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


COLS = ["calls", "no_100", "no_relay", "inv_retrans",
        "trying_p50_us", "trying_p90_us", "trying_p99_us", "trying_p999_us", "trying_max_us",
        "trying_over_1ms", "relay_p50_us", "relay_p90_us", "relay_p99_us", "relay_max_us"]


def stats(calls):
    tr = sorted((c.t100 - c.inv_in) / 1000 for c in calls if c.t100 is not None)
    rl = sorted((c.inv_out - c.inv_in) / 1000 for c in calls if c.inv_out is not None)
    return {
        "calls": len(calls),
        "no_100": sum(1 for c in calls if c.t100 is None),
        "no_relay": sum(1 for c in calls if c.inv_out is None),
        "inv_retrans": sum(c.inv_n - 1 for c in calls),
        "trying_p50_us": pct(tr, 50), "trying_p90_us": pct(tr, 90),
        "trying_p99_us": pct(tr, 99), "trying_p999_us": pct(tr, 99.9),
        "trying_max_us": tr[-1] if tr else None,
        "trying_over_1ms": sum(1 for v in tr if v >= 1000),
        "relay_p50_us": pct(rl, 50), "relay_p90_us": pct(rl, 90),
        "relay_p99_us": pct(rl, 99), "relay_max_us": rl[-1] if rl else None,
    }


def fmt(v):
    if v is None:
        return "NA"
    return str(v) if isinstance(v, int) else "%.1f" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--proxy-port", type=int, required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--min-calls", type=int, default=100,
                    help="runs with fewer INVITEs are ignored (e.g. a stray probe)")
    ap.add_argument("--csv", help="per-run rows and the median row")
    ap.add_argument("--calls", help="one row per call")
    ap.add_argument("--slow", type=int, default=0, help="show the N slowest 100 Trying")
    ap.add_argument("--explain", type=float, metavar="US",
                    help="for the 100s slower than US: what the proxy did meanwhile (needs a "
                    "capture of every packet of the port, BENCH_LATENCY_ALL=1)")
    a = ap.parse_args()

    calls, sent, recv = collect(a.capture, a.proxy_port)
    runs = {}
    for c in calls.values():
        runs.setdefault(c.run, []).append(c)
    order = sorted((r for r in runs if len(runs[r]) >= a.min_calls),
                   key=lambda r: runs[r][0].inv_in)
    rows = [(str(i + 1), r, stats(runs[r])) for i, r in enumerate(order)]
    med = {k: median([s[k] for _, _, s in rows]) for k in COLS}
    for k in ("calls", "no_100", "no_relay", "inv_retrans", "trying_over_1ms"):
        if med[k] is not None:
            med[k] = int(med[k])

    short = [k.replace("_us", "").replace("trying_", "t.").replace("relay_", "r.")[:9]
             for k in COLS]
    hdr = "%-8s %-8s " % ("run", "sipp") + " ".join("%9s" % k for k in short)
    print("%s: INVITE -> 100 Trying (t.) and INVITE in -> INVITE out (r.), µs, from %s"
          % (a.label or "proxy", a.capture))
    print(hdr)
    for rep, pid, s in rows + [("median", "-", med)]:
        print("%-8s %-8s " % (rep, pid) + " ".join("%9s" % fmt(s[k]) for k in COLS))
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("label,run,sipp_pid," + ",".join(COLS) + "\n")
            for rep, pid, s in rows + [("median", "-", med)]:
                f.write("%s,%s,%s,%s\n" % (a.label, rep, pid, ",".join(fmt(s[k]) for k in COLS)))
    if a.calls:
        with open(a.calls, "w") as f:
            f.write("run,call_id,inv_in_ns,trying_us,relay_us,inv_sent\n")
            for rep, pid, _ in rows:
                for c in runs[pid]:
                    f.write("%s,%s,%d,%s,%s,%d\n" % (
                        rep, c.callid, c.inv_in,
                        fmt(None if c.t100 is None else (c.t100 - c.inv_in) / 1000),
                        fmt(None if c.inv_out is None else (c.inv_out - c.inv_in) / 1000), c.inv_n))
    if a.slow:
        import bisect
        sent.sort()
        sts = [t for t, _ in sent]
        allc = [c for _, pid, _ in rows for c in runs[pid] if c.t100 is not None]
        allc.sort(key=lambda c: c.t100 - c.inv_in, reverse=True)
        for c in allc[:a.slow]:
            lo = bisect.bisect_left(sts, c.inv_in)
            hi = bisect.bisect_left(sts, c.t100)
            print("slow: trying %.1f us, relay %s us; proxy sent %d packets in between, "
                  "first %s" % ((c.t100 - c.inv_in) / 1000,
                                fmt(None if c.inv_out is None else (c.inv_out - c.inv_in) / 1000),
                                hi - lo, [s[1].decode("latin1") for s in sent[lo:min(hi, lo + 3)]]))
    if a.explain is not None:
        explain(a.explain, [c for _, pid, _ in rows for c in runs[pid]], sent, recv)
    return 0 if rows else 1


def explain(limit_us, calls, sent, recv):
    """Splits the slow 100s into the proxy busy with other messages (it kept sending) and the
    proxy silent (its thread not running, or one long piece of work), and shows the batching:
    how many datagrams left together with the 100 (one sendmmsg flush)."""
    import bisect
    sts = sorted(t for t, _ in sent)
    rts = sorted(recv)
    gap_ns = 20_000  # datagrams of one sendmmsg leave a few µs apart on lo

    def flush_size(t):
        i = bisect.bisect_left(sts, t)
        lo = hi = i
        while lo > 0 and sts[lo] - sts[lo - 1] < gap_ns:
            lo -= 1
        while hi + 1 < len(sts) and sts[hi + 1] - sts[hi] < gap_ns:
            hi += 1
        return hi - lo + 1, i - lo

    done = [c for c in calls if c.t100 is not None]
    fl = sorted(flush_size(c.t100)[0] for c in done)
    ahead = sorted(flush_size(c.t100)[1] for c in done)
    print("explain: %d calls; datagrams leaving with the 100 (one flush) p50/p90/max %d/%d/%d, "
          "sent before it in that flush p50/p90 %d/%d"
          % (len(done), pct(fl, 50), pct(fl, 90), fl[-1], pct(ahead, 50), pct(ahead, 90)))
    slow = [c for c in done if (c.t100 - c.inv_in) / 1000 >= limit_us]
    if not slow:
        print("explain: no 100 Trying took %.0f µs or more" % limit_us)
        return
    silent = busy = 0
    sil, outs, ins = [], [], []
    for c in slow:
        lo, hi = bisect.bisect_right(sts, c.inv_in), bisect.bisect_left(sts, c.t100)
        pts = [c.inv_in] + sts[lo:hi] + [c.t100]
        longest = max(b - a for a, b in zip(pts, pts[1:]))
        sil.append(longest / 1000)
        outs.append(hi - lo)
        ins.append(bisect.bisect_left(rts, c.inv_in)
                   - bisect.bisect_left(rts, c.inv_in - 1_000_000))
        if longest * 2 >= c.t100 - c.inv_in:
            silent += 1
        else:
            busy += 1
    sil.sort(), outs.sort(), ins.sort()
    print("explain: %d 100s took >= %.0f µs; in %d the proxy sent nothing for at least half of the "
          "wait (thread not running, or one long task), in %d it kept sending (queued behind "
          "other messages)" % (len(slow), limit_us, silent, busy))
    print("explain: longest silence of the proxy during the wait p50/p90/max %.0f/%.0f/%.0f µs; "
          "datagrams it sent during the wait p50/p90 %d/%d; datagrams that reached it in the "
          "millisecond before the INVITE p50/p90 %d/%d"
          % (pct(sil, 50), pct(sil, 90), sil[-1], pct(outs, 50), pct(outs, 90),
             pct(ins, 50), pct(ins, 90)))


if __name__ == "__main__":
    sys.exit(main())
