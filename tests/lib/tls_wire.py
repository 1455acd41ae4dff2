#!/usr/bin/env python3
"""Check tcpshake's TLS phases against a tcpdump capture of the same run.

Usage: tls_wire.py PCAP JSONL [MEDIAN_US]
For every probe line of JSONL with tls.handshake_ms, finds its connection in
PCAP (by source port) and computes on the wire:
  hello     our first data segment (the ClientHello) leaving -> the server
            segment that completed the first TLS record (the ServerHello)
  handshake our ClientHello leaving -> TLS 1.3: the last server data segment
            before our second data segment (our Finished goes out once the
            server's flight is complete); TLS 1.2: the first server data
            segment after it (the server's ChangeCipherSpec and Finished)
Our segments are stamped once for every capture socket, the server's by
each socket as it gets its copy, tcpshake's first (as rttcheck.py explains):
so tcpdump's phases may trail ours, never lead them. Exits 1 when a
connection is missing, a phase of ours is later than tcpdump's by more than
1 us, or the median difference is above MEDIAN_US (5)."""
import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import pcapkit  # noqa: E402

pcap, jsonl = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
diffs = []
# connections by 4-tuple, split at each new SYN (ports are used again by
# later runs); a probe is matched to the one whose SYN/ACK the capture saw
# at the probe's reported time
conns = {}
for ts, frame in pcapkit.read_pcap(pcap):
    t = pcapkit.parse_tcp(frame)
    if not t:
        continue
    syn = t["flags"] & 0x12 == 0x02
    key = (t["sport"], t["dport"]) if syn else None
    for k in ((t["sport"], t["dport"]), (t["dport"], t["sport"])):
        if k in conns and not syn:
            key = k
    if key is None:
        continue
    if syn and (not conns.get(key) or conns[key][-1]["isn"] != t["seq"]):
        conns.setdefault(key, []).append({"isn": t["seq"], "segs": [], "synack": None})
    if key not in conns:
        continue
    c = conns[key][-1]
    c["segs"].append((ts, t))
    if t["flags"] & 0x12 == 0x12 and c["synack"] is None:
        c["synack"] = ts


def find(sport, port, when_ns):
    best = None
    for c in conns.get((sport, port), []):
        if c["synack"] is not None and (best is None or
                                        abs(c["synack"] - when_ns) < abs(best["synack"] - when_ns)):
            best = c
    return best["segs"] if best else []

bad = 0
for line in open(jsonl):
    p = json.loads(line)
    if p.get("type") != "probe" or not p.get("tls") or p["tls"].get("handshake_ms") is None:
        continue
    sport, port = p["sport"], p["port"]
    segs = find(sport, port, int(round(p["time"] * 1e9)))
    ours = [(ts, t) for ts, t in segs if t["sport"] == sport and t["payload"]]
    theirs = [(ts, t) for ts, t in segs if t["sport"] == port and t["payload"]]
    if len(ours) < 2 or not theirs:
        print(f"sport {sport}: connection not in the capture")
        bad += 1
        continue
    t0 = ours[0][0]
    # the server's stream in sequence order, first copies only
    isn = min(t["seq"] for _, t in theirs)
    seen, stream = set(), []
    for ts, t in sorted(theirs, key=lambda x: (x[1]["seq"] - isn) % 2**32):
        off = (t["seq"] - isn) % 2**32
        if off in seen:
            continue
        seen.add(off)
        stream.append((off, len(t["payload"]), ts, t["payload"]))
    data = b"".join(pl for _, _, _, pl in sorted(stream))
    rec_end = 5 + int.from_bytes(data[3:5], "big") if len(data) >= 5 else None
    hello_ts = next((ts for off, n, ts, _ in sorted(stream) if rec_end and off + n >= rec_end), None)
    # a segment completes a record once every byte before it is in: the
    # latest capture time among the segments up to it
    if hello_ts is not None:
        hello_ts = max(ts for off, n, ts, _ in stream if off < rec_end)
    second = ours[1][0]
    if p["tls"]["version"] == "TLSv1.2":
        hs_ts = min((ts for ts, _ in theirs if ts > second), default=None)
    else:
        hs_ts = max(ts for ts, _ in theirs if ts < second)
    if hs_ts is None:
        print(f"sport {sport}: no server Finished in the capture")
        bad += 1
        continue
    wire_hello = (hello_ts - t0) / 1e6 if hello_ts else None
    wire_hs = (hs_ts - t0) / 1e6
    # tcpdump's minus ours, in microseconds: >= 0 but for rounding
    d_hs = (wire_hs - p["tls"]["handshake_ms"]) * 1000
    d_hello = (wire_hello - p["tls"]["hello_ms"]) * 1000 if wire_hello is not None else 0
    diffs += [abs(d_hs), abs(d_hello)]
    ok = d_hs >= -1 and d_hello >= -1
    bad += not ok
    print(f"sport {sport} port {port}: handshake {p['tls']['handshake_ms']:.3f} ms, wire {wire_hs:.3f}"
          f" ({d_hs:.1f} us); hello {p['tls']['hello_ms']:.3f} ms, wire {wire_hello:.3f}"
          f" ({d_hello:.1f} us){'' if ok else '  <-- ours later than the capture'}")
diffs.sort()
med = diffs[len(diffs) // 2] if diffs else 0
print(f"{len(diffs)} phases, median |tcpdump - ours| {med:.1f} us, max {diffs[-1] if diffs else 0:.1f} us")
sys.exit(1 if bad or med > limit else 0)
