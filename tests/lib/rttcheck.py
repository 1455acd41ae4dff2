#!/usr/bin/env python3
"""Compare tcpshake's reported RTTs with a tcpdump capture of the same run.

Usage: rttcheck.py CAPTURE.pcap RESULTS.json MEDIAN_NS P90_NS LATE_NS
For each probe line with an RTT, finds our SYN (source port, target port)
and the first SYN/ACK or RST back to it in the capture, and checks that the
median of |reported - captured| is <= MEDIAN_NS, its 90th percentile
<= P90_NS, and that no reported RTT is longer than the captured one by more
than LATE_NS. Prints one line per probe out of bounds and a last line
"N probes compared, M mismatched, median |err| X ns, p99 Y ns, max Z ns".
Exit 0 only if every probe with an RTT was found and within bounds.

Why these bounds: the kernel stamps a packet once for every capture socket
when it has a real-time stamp (our SYN, RSTs, ICMP errors): there the two
RTTs are equal to the nanosecond. A SYN/ACK from a Linux peer carries its
sender's delivery time instead, so each capture socket is stamped as the
kernel hands it its copy, one after the other (the newest socket first:
ours): tcpdump's stamp then trails ours by its own copy time (0.5-1.5 us on
a small VM), more when an interrupt lands in between - never the other
way round, hence the one-sided bound for every probe."""
import json
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapkit import parse_tcp, read_pcap  # noqa: E402

cap, res = sys.argv[1], sys.argv[2]
med_tol, p90_tol, late_tol = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
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
    signed = round(o["rtt_us"] * 1000) - wire
    err = abs(signed)
    errs.append(err)
    if signed > late_tol or o.get("rtt_source") != "wire":
        print(f"probe {key}: reported {o['rtt_us']} us ({o.get('rtt_source')}), capture {wire / 1000} us")
        bad += 1
errs.sort()
med = errs[len(errs) // 2] if errs else 0
p99 = errs[min(len(errs) - 1, int(len(errs) * 0.99))] if errs else 0
p90 = errs[min(len(errs) - 1, int(len(errs) * 0.90))] if errs else 0
mx = errs[-1] if errs else 0
print(f"{n} probes compared, {bad} mismatched, median |err| {med} ns, p99 {p99} ns, max {mx} ns")
sys.exit(0 if n and not bad and med <= med_tol and p90 <= p90_tol else 1)
