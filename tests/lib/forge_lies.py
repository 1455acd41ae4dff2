#!/usr/bin/env python3
"""Forge one kind of reply whose headers lie or hide the answer.

Usage: forge_lies.py IFACE PORT READYFILE KIND
Sniffs the first SYN to PORT on IFACE (AF_PACKET, before the server's
firewall drops it), then answers it as KIND says:
  lie       the right SYN/ACK, but its IP length claims 100 bytes more than
            the frame holds (the IP header checksum is right): malformed,
            never an answer
  data-lie  the right SYN/ACK; after the client's ACK, a segment with 10
            bytes of data whose IP length claims 1000: malformed, so no ACK
            may acknowledge data beyond what was sent. Prints "acked N"
            for any such ACK seen within a second.
  dstopts   the right SYN/ACK behind an IPv6 destination-options header
  atomic    the right SYN/ACK as an IPv6 atomic fragment (RFC 6946)
  icmp-ext  an ICMPv6 administratively-prohibited error quoting the SYN,
            behind a hop-by-hop and a routing header (type 0, no segments
            left)"""
import socket
import struct
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapkit import csum, ip_packet, parse_tcp, tcp_segment  # noqa: E402

iface, port, ready, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((iface, 0))
open(ready, "w").write("ready\n")


def sniff(pred, secs):
    """The first TCP frame from the client that pred accepts, or None."""
    s.settimeout(0.1)
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        t = parse_tcp(frame)
        if t and t["dport"] == port and pred(t):
            return frame, t
    return None, None


frame, t = sniff(lambda t: t["flags"] == 0x02, 10)
if not t:
    sys.exit("no SYN seen")
v6 = ":" in t["src"]
fam = socket.AF_INET6 if v6 else socket.AF_INET
cli, srv = socket.inet_pton(fam, t["src"]), socket.inet_pton(fam, t["dst"])
eth = frame[6:12] + frame[0:6] + frame[12:14]
isn, cp = t["seq"], t["sport"]
SRV_ISN = 777000


def with_length_lie(pkt, extra):
    """The packet with its IP length raised by extra (IPv4 checksum redone)."""
    pkt = bytearray(pkt)
    if v6:
        plen = struct.unpack("!H", pkt[4:6])[0] + extra
        pkt[4:6] = struct.pack("!H", plen)
        return bytes(pkt)
    tot = struct.unpack("!H", pkt[2:4])[0] + extra
    pkt[2:4] = struct.pack("!H", tot)
    pkt[10:12] = b"\0\0"
    hl = (pkt[0] & 15) * 4
    pkt[10:12] = struct.pack("!H", csum(bytes(pkt[:hl])))
    return bytes(pkt)


def synack():
    return ip_packet(srv, cli, 6, tcp_segment(port, cp, SRV_ISN, isn + 1, 0x12,
                                              options=bytes([2, 4, 5, 180])), v6)


def behind_ext(pkt, exts):
    """An IPv6 packet with extension headers (next-header, bytes) inserted."""
    nh = pkt[6]
    chain = b""
    for i, (code, body) in enumerate(exts):
        following = exts[i + 1][0] if i + 1 < len(exts) else nh
        hdr = bytes([following, (len(body) + 2) // 8 - 1]) + body
        chain += hdr
    first = exts[0][0]
    plen = struct.unpack("!H", pkt[4:6])[0] + len(chain)
    return pkt[:4] + struct.pack("!HB", plen, first) + pkt[7:40] + chain + pkt[40:]


PADN6 = bytes([1, 4, 0, 0, 0, 0])  # six bytes of options: the header is 8

if kind == "lie":
    s.send(eth + with_length_lie(synack(), 100))
elif kind == "data-lie":
    s.send(eth + synack())
    frame, a = sniff(lambda t: t["flags"] & 0x10 and t["ack"] == SRV_ISN + 1, 3)
    if not a:
        sys.exit("no ACK of the SYN/ACK seen")
    data = tcp_segment(port, cp, SRV_ISN + 1, a["seq"], 0x18) + b"0123456789"
    s.send(eth + with_length_lie(ip_packet(srv, cli, 6, data, v6), 990))
    deadline = time.time() + 1
    while time.time() < deadline:
        frame, t = sniff(lambda t: t["flags"] & 0x10, deadline - time.time())
        if t and t["ack"] - (SRV_ISN + 1) > 10:
            print("acked %d" % (t["ack"] - SRV_ISN))
elif kind == "dstopts":
    s.send(eth + behind_ext(synack(), [(60, PADN6)]))
elif kind == "atomic":
    frag = bytes([0, 0, 0x12, 0x34, 0x56, 0x78])  # offset 0, no more fragments
    s.send(eth + behind_ext(synack(), [(44, frag)]))
elif kind == "icmp-ext":
    quoted = ip_packet(cli, srv, 6, tcp_segment(cp, port, isn, 0, 0x02), True)
    icmp = struct.pack("!BBHI", 1, 1, 0, 0) + quoted
    pkt = ip_packet(srv, cli, 58, icmp, True)
    routing = bytes([0, 0]) + b"\0" * 4  # type 0, segments left 0: 8 bytes
    s.send(eth + behind_ext(pkt, [(0, PADN6), (43, routing)]))
else:
    sys.exit("unknown kind " + kind)
