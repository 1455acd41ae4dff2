#!/usr/bin/env python3
"""Compare tcpshake's reported RTTs with a tcpdump capture of the same run.

Usage: rttcheck.py CAPTURE.pcap RESULTS.json EACH_NS MEDIAN_NS
For each probe line with an RTT, finds our SYN (source port, target port)
and the first SYN/ACK or RST back to it in the capture, and checks that
|reported - captured| <= EACH_NS for every probe and that the median error
is <= MEDIAN_NS. Prints one line per mismatch and a last line
"N probes compared, M mismatched, median |err| X ns, p99 Y ns, max Z ns".
Exit 0 only if every probe with an RTT was found and matched.

Why two bounds: the kernel stamps a packet once for every capture socket
when it has a real-time stamp (our SYN, RSTs, ICMP errors): there the two
RTTs are equal to the nanosecond. A SYN/ACK from a Linux peer carries its
sender's delivery time instead, so each capture socket is stamped as the
kernel hands it its copy, one after the other: tcpdump's stamp then trails
ours by its own copy time (0.5-1.5 us on a small VM)."""
import json
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapkit import parse_tcp, read_pcap  # noqa: E402

cap, res, tol, med_tol = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
syn, reply = {}, {}
for ts, frame in read_pcap(cap):
    t = parse_tcp(frame)
    if not t:
        continue
    if t["flags"] & 0x12 == 0x02:
        syn.setdefault((t["sport"], t["dport"]), ts)
    elif t["flags"] & 0x10 and t["flags"] & 0x06:
        reply.setdefault((t["dport"], t["sport"]), ts)
errs, bad, n = [], 0, 0
for line in open(res):
    o = json.loads(line)
    if o.get("type") != "probe" or o.get("rtt_us") is None:
        continue
    n += 1
    key = (o["sport"], o["port"])
    if key not in syn or key not in reply:
        print(f"probe {key}: not in the capture")
        bad += 1
        continue
    wire = reply[key] - syn[key]
    err = abs(round(o["rtt_us"] * 1000) - wire)
    errs.append(err)
    if err > tol or o.get("rtt_source") != "wire":
        print(f"probe {key}: reported {o['rtt_us']} us ({o.get('rtt_source')}), capture {wire / 1000} us")
        bad += 1
errs.sort()
med = errs[len(errs) // 2] if errs else 0
p99 = errs[min(len(errs) - 1, int(len(errs) * 0.99))] if errs else 0
mx = errs[-1] if errs else 0
print(f"{n} probes compared, {bad} mismatched, median |err| {med} ns, p99 {p99} ns, max {mx} ns")
sys.exit(0 if n and not bad and med <= med_tol else 1)
