#!/usr/bin/env python3
"""What each tool said of every address of a /16, against the bed's
truth and against a tcpdump capture of its own run.

Usage: fleet_compare.py DIR RATE...  (DIR holds RUN.pcap, RUN.out, RUN.time
and RUN.rate for each run: tcpshake-RATE and zmap-RATE at each RATE,
zmap-best at the machine's limit (DIR/limit, packets/s of bench/minsend.c),
nmap; RUN.time is "wall user sys maxrss_kb"). Prints each goal of issue 16
with met or not met."""
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


def drops(text):
    for line in text.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") == "run":
            return int(o.get("pcap_drops", 0))
    return 0


rates = sys.argv[2:]
limit = float(open(os.path.join(d, "limit")).read())
runs = [f"tcpshake-{r}" for r in rates] + [f"zmap-{r}" for r in rates] + ["zmap-best", "nmap"]
rows = {}
n = 65536
for run in runs:
    if not os.path.exists(os.path.join(d, run + ".time")):
        continue
    tool = run.split("-")[0]
    wall, user, sys_, rss = open(os.path.join(d, run + ".time")).read().split("\n")[-2].split()
    rate = open(os.path.join(d, run + ".rate")).read().strip()
    text = open(os.path.join(d, run + ".out")).read()
    rep = reported(tool, text)
    cap = from_capture(os.path.join(d, run + ".pcap"))
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
    cpu = float(user) + float(sys_)
    rows[run] = dict(rate=rate, wall=float(wall), cpu=cpu, us=cpu / n * 1e6, rss=int(rss) / 1024,
                     right=right / n * 100, agree=agree / n * 100,
                     drops=drops(text) if tool == "tcpshake" else None,
                     share=(n / float(wall)) / limit * 100)
print(f"{'run':16} {'rate/s':>7} {'wall s':>7} {'cpu s':>6} {'us/probe':>8} {'RSS MB':>7}"
      f" {'right %':>8} {'= capture %':>11} {'drops':>6} {'probes/s, % of limit':>21}")
for run, x in rows.items():
    dr = "-" if x["drops"] is None else str(x["drops"])
    print(f"{run:16} {x['rate']:>7} {x['wall']:7.2f} {x['cpu']:6.2f} {x['us']:8.1f} {x['rss']:7.1f}"
          f" {x['right']:8.2f} {x['agree']:11.2f} {dr:>6} {n / x['wall']:12.0f} {x['share']:7.1f}%")
print("right: the outcome the bed was built for (nmap: filtered covers ICMP-rejected;"
      " zmap: only SYN/ACK and RST are reported); wall includes each tool's wait for late answers")


def verdict(ok):
    return "met" if ok else "not met"


for r in rates:
    t, z = rows.get(f"tcpshake-{r}"), rows.get(f"zmap-{r}")
    if not t:
        continue
    ok = t["right"] == 100 and t["agree"] == 100
    print(f"goal at --rate {r}: 100% right and = capture: {t['right']:.2f}% / {t['agree']:.2f}%:"
          f" {verdict(ok)}; zero capture drops: {t['drops']}: {verdict(t['drops'] == 0)};"
          f" peak RSS <= 6 MB: {t['rss']:.1f}: {verdict(t['rss'] <= 6)}", end="")
    if z:
        print(f"; CPU per probe <= zmap's: {t['us']:.1f} vs {z['us']:.1f} us:"
              f" {verdict(t['us'] <= z['us'])}")
    else:
        print()
best = rows.get("zmap-best")
fastest = min((rows[f"tcpshake-{r}"] for r in rates if f"tcpshake-{r}" in rows),
              key=lambda x: x["wall"], default=None)
if best and fastest:
    print(f"goal: the /16's wall time <= zmap's at its best rate ({best['rate']}/s, the machine's"
          f" limit): tcpshake {fastest['wall']:.2f} s at --rate {fastest['rate']} vs zmap"
          f" {best['wall']:.2f} s: {verdict(fastest['wall'] <= best['wall'])}")
