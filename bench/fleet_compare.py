#!/usr/bin/env python3
"""What each tool said of every address of a /16, against the bed's
truth and against a tcpdump capture of its own run.

Usage: fleet_compare.py DIR  (DIR holds RUN.pcap, RUN.out, RUN.time and
RUN.rate for each run: tcpshake at the peers' rate, tcpshake-fast at its
own, nmap and zmap; RUN.time is "wall user sys maxrss_kb")."""
import ipaddress
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lib"))
from pcapkit import read_pcap  # noqa: E402

d = sys.argv[1]
BASE = int(ipaddress.IPv4Address("198.19.0.0"))


def truth(addr):
    third = (addr >> 8) & 0xFF
    return {1: "filtered", 2: "closed", 3: "unreachable"}.get(third, "open")


def from_capture(path):
    """address -> outcome, as the wire shows it."""
    seen = {}
    for _, f in read_pcap(path):
        if len(f) < 34 or f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        hl = (ip[0] & 15) * 4
        src = struct.unpack("!I", ip[12:16])[0]
        if ip[9] == 6 and src >> 16 == BASE >> 16:
            flags = ip[hl + 13]
            if flags & 0x12 == 0x12:
                seen[src] = "open"
            elif flags & 0x04 and seen.get(src) != "open":
                seen[src] = "closed"
        elif ip[9] == 1 and ip[hl] == 3:
            inner = ip[hl + 8:]
            dst = struct.unpack("!I", inner[16:20])[0]
            seen.setdefault(dst, "unreachable")
    return seen


def reported(tool, text):
    out = {}
    if tool.startswith("tcpshake"):
        for line in text.splitlines():
            o = json.loads(line)
            if o.get("type") == "summary":
                a = int(ipaddress.IPv4Address(o["addr"]))
                out[a] = ("open" if o["open"] else "closed" if o["closed"] else
                          "unreachable" if o["unreachable"] else "filtered")
    elif tool == "nmap":
        for m in re.finditer(r"Host: (\S+) .*?Ports: 80/(\w+)/", text):
            out[int(ipaddress.IPv4Address(m.group(1)))] = m.group(2)
    elif tool == "zmap":
        for line in text.splitlines()[1:]:
            a, cls = line.split(",")[:2]
            out[int(ipaddress.IPv4Address(a))] = {"synack": "open", "rst": "closed"}.get(cls, cls)
    return out


rows = []
for run in ("tcpshake", "tcpshake-fast", "nmap", "zmap"):
    if not os.path.exists(os.path.join(d, run + ".time")):
        continue
    tool = run.split("-")[0]
    wall, user, sys_, rss = open(os.path.join(d, run + ".time")).read().split("\n")[-2].split()
    rate = open(os.path.join(d, run + ".rate")).read().strip()
    rep = reported(run, open(os.path.join(d, run + ".out")).read())
    cap = from_capture(os.path.join(d, run + ".pcap"))
    n = 65536
    right = agree = 0
    for i in range(n):
        a = BASE + i
        r = rep.get(a, "filtered")
        t = truth(i)
        w = cap.get(a, "filtered")
        if tool == "nmap":  # nmap calls an ICMP-rejected port filtered
            t = "filtered" if t == "unreachable" else t
            w = "filtered" if w == "unreachable" else w
        if tool == "zmap":  # zmap reports who answered SYN/ACK or RST, nothing else
            t = t if t in ("open", "closed") else "filtered"
            w = w if w in ("open", "closed") else "filtered"
        right += r == t
        agree += r == w
    rows.append((run, rate, float(wall), float(user) + float(sys_), int(rss) / 1024,
                 right / n * 100, agree / n * 100))
nmap = [r for r in rows if r[0] == "nmap"]
print(f"{'run':13} {'rate/s':>7} {'wall s':>7} {'cpu s':>6} {'peak RSS MB':>11} {'right %':>8}"
      f" {'= capture %':>11} {'wall vs nmap':>12}")
for t, rate, w, c, m, ok, ag in rows:
    vs = f"{w / nmap[0][2]:11.2f}x" if nmap else f"{'-':>12}"
    print(f"{t:13} {rate:>7} {w:7.2f} {c:6.2f} {m:11.1f} {ok:8.2f} {ag:11.2f} {vs}")
print("right: the outcome the bed was built for (nmap: filtered covers ICMP-rejected;"
      " zmap: only SYN/ACK and RST are reported)")
for t, rate, w, c, m, ok, ag in rows:
    if t.startswith("tcpshake") and nmap:
        met = ok == 100 and ag == 100 and w <= 0.5 * nmap[0][2] and m <= 6
        print(f"goals (100% right and = capture, wall <= 0.5x nmap, peak RSS <= 6 MB) for {t}"
              f" at {rate}/s: {'met' if met else 'not met'}")
