#!/usr/bin/env python3
"""The TCP exchanges in a capture, one line per client port.

Usage: exchange.py CAPTURE.pcap CLIENT_ADDR
Prints "SPORT >S <SA >A ..." per connection from CLIENT_ADDR, in capture
order, with ">" for segments the client sent and "<" for the server's."""
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapkit import flags_str, parse_tcp, read_pcap  # noqa: E402

cap, client = sys.argv[1], sys.argv[2]
conns = {}
for _, frame in read_pcap(cap):
    t = parse_tcp(frame)
    if not t:
        continue
    if t["src"] == client:
        conns.setdefault(t["sport"], []).append(">" + flags_str(t["flags"]))
    elif t["dst"] == client:
        conns.setdefault(t["dport"], []).append("<" + flags_str(t["flags"]))
for port, segs in conns.items():
    print(port, " ".join(segs))
