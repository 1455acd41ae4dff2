#!/usr/bin/env python3
"""What a capture shows of each connection's SYN/ACK and the server's later
segments: the witness for tcpshake's middlebox verdict.

Usage: middlebox_wire.py CAPTURE.pcap CLIENT_ADDR
Prints one line per client port, in capture order:
  "SPORT sa_win=W ttl=T,T2 update=0|1 rst=0|1 lag=L"
sa_win: the SYN/ACK's window; ttl: the SYN/ACK's TTL (hop limit) and the
first later segment's (- when none); update: a pure ACK of the client's SYN
alone came after the SYN/ACK (a synproxy's window update); rst: the server
reset before any data or FIN of its own; lag: the SYN/ACK's TSval behind the
first later non-RST segment's, less the ms between them on the wire (- when
either has no timestamps), computed as tcpshake does, from the capture."""
import struct
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapkit import parse_tcp, read_pcap  # noqa: E402

SYN, RST, FIN, ACK = 0x02, 0x04, 0x01, 0x10


def parse(frame):
    """Ethernet frame -> (src, dst, ttl, tcp header bytes, payload length) or None."""
    t = parse_tcp(frame)
    return t and (t["src"], t["dst"], t["ttl"], t["header"], t["payload_len"])


def tsval(hdr):
    """The timestamp value of a TCP header's options, or None."""
    opts, i = hdr[20:], 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if kind == 8 and opts[i + 1] == 10:
            return struct.unpack("!I", opts[i + 2:i + 6])[0]
        i += opts[i + 1]
    return None


cap, client = sys.argv[1], sys.argv[2]
conns = {}
for ts, frame in read_pcap(cap):
    p = parse(frame)
    if not p or p[1] != client:
        continue
    src, dst, ttl, hdr, plen = p
    dport, _, ack = struct.unpack("!H", hdr[2:4])[0], None, struct.unpack("!I", hdr[8:12])[0]
    flags, win = hdr[13], struct.unpack("!H", hdr[14:16])[0]
    c = conns.setdefault(dport, {"sa": None, "later": None, "update": 0, "rst": 0, "spoke": False})
    if flags & SYN:
        if c["sa"] is None:
            c["sa"] = (ts, ttl, win, tsval(hdr), ack)
        continue
    if c["sa"] is None:
        continue
    if flags & RST:
        c["rst"] |= not c["spoke"]
        continue
    if plen > 0 or flags & FIN:
        c["spoke"] = True
    if c["later"] is None:
        c["later"] = (ts, ttl, win, tsval(hdr))
    if flags == ACK and plen == 0 and ack == c["sa"][4]:
        c["update"] = 1
for port, c in conns.items():
    if c["sa"] is None:
        continue
    sa, lt = c["sa"], c["later"]
    lag = "-"
    if lt and sa[3] is not None and lt[3] is not None:
        ticks = (lt[3] - sa[3] + 2**31) % 2**32 - 2**31
        lag = ticks - (lt[0] - sa[0] + 500000) // 1000000
    print(f"{port} sa_win={sa[2]} ttl={sa[1]},{lt[1] if lt else '-'} update={c['update']} "
          f"rst={c['rst']} lag={lag}")
