#!/usr/bin/env python3
"""Compare each tool's reported RTTs with a tcpdump capture of its run.

Usage: rtt_compare.py DIR   (DIR holds TOOL.pcap and TOOL.out for
tcpshake, hping3 and nping). Prints per tool: probes, median and p99 of
|reported - captured| in microseconds, and the ratio to tcpshake's."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
from pcapkit import parse_tcp, read_pcap  # noqa: E402

d = sys.argv[1]


def captured_rtts(pcap):
    """In order: (client port, capture RTT ns) for each SYN and its answer."""
    pending, out = {}, []
    for ts, frame in read_pcap(pcap):
        t = parse_tcp(frame)
        if not t:
            continue
        if t["flags"] & 0x12 == 0x02:
            pending[(t["sport"], t["seq"])] = ts
        elif t["flags"] & 0x10 and t["flags"] & 0x06:
            syn = pending.pop((t["dport"], (t["ack"] - 1) & 0xFFFFFFFF), None)
            if syn is not None:
                out.append((t["dport"], ts - syn))
    return out


def reported(tool, text):
    if tool == "tcpshake":
        return [(o["sport"], o["rtt_us"] * 1000) for o in map(json.loads, text.splitlines())
                if o.get("type") == "probe" and o.get("rtt_us") is not None]
    if tool == "hping3":
        return [(None, float(m) * 1e6) for m in re.findall(r"flags=SA .*rtt=([0-9.]+) ms", text)]
    if tool == "nping":
        sent, out = None, []
        for line in text.splitlines():
            m = re.match(r"(SENT|RCVD) \(([0-9.]+)s\)", line)
            if m and m.group(1) == "SENT":
                sent = float(m.group(2))
            elif m and sent is not None:
                out.append((None, (float(m.group(2)) - sent) * 1e9))
                sent = None
        return out
    raise ValueError(tool)


def pct(v, q):
    return v[min(len(v) - 1, int(len(v) * q))]


rows = {}
for tool in ("tcpshake", "hping3", "nping"):
    cap = captured_rtts(os.path.join(d, tool + ".pcap"))
    rep = reported(tool, open(os.path.join(d, tool + ".out")).read())
    if tool == "tcpshake":
        bysport = dict(cap)
        errs = [abs(r - bysport[s]) for s, r in rep if s in bysport]
    else:
        errs = [abs(r - c[1]) for (_, r), c in zip(rep, cap)]
    errs.sort()
    if errs:
        rows[tool] = (len(errs), pct(errs, 0.5) / 1000, pct(errs, 0.99) / 1000)
base = rows.get("tcpshake")
print(f"{'tool':10} {'probes':>6} {'median |err| us':>16} {'p99 |err| us':>13} {'median vs tcpshake':>19}")
for tool, (n, med, p99) in rows.items():
    ratio = f"{med / base[1]:.0f}x" if base and base[1] > 0 else ("1x" if tool == "tcpshake" else "-")
    print(f"{tool:10} {n:6d} {med:16.3f} {p99:13.3f} {ratio:>19}")
