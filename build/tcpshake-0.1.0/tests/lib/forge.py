#!/usr/bin/env python3
"""Forge hostile replies from the server side of the bed.

Usage: forge.py IFACE PORT DELAY READYFILE
Sniffs the first SYN to PORT on IFACE (AF_PACKET, so before the server's
firewall drops it), then sends at once every reply a strict matcher must
ignore, and after DELAY seconds the one correct SYN/ACK (ack = ISN + 1)."""
import socket
import struct
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapkit import ip_packet, parse_tcp, tcp_segment  # noqa: E402

iface, port, delay, ready = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((iface, 0))
open(ready, "w").write("ready\n")
deadline = time.time() + 10
while time.time() < deadline:
    frame = s.recv(65535)
    t = parse_tcp(frame)
    if t and t["dport"] == port and t["flags"] == 0x02:
        break
else:
    sys.exit("no SYN seen")

v6 = ":" in t["src"]
fam = socket.AF_INET6 if v6 else socket.AF_INET
cli, srv = socket.inet_pton(fam, t["src"]), socket.inet_pton(fam, t["dst"])
eth = frame[6:12] + frame[0:6] + frame[12:14]
isn, sp, cp = t["seq"], port, t["sport"]


def send_tcp(sport, dport, seq, ack, flags, src=srv, corrupt=False):
    pkt = bytearray(ip_packet(src, cli, 6, tcp_segment(sport, dport, seq, ack, flags), v6))
    if corrupt:
        pkt[(40 if v6 else 20) + 17] ^= 0x5A  # the TCP checksum
    s.send(eth + bytes(pkt))


def send_icmp(quote_seq, quote_dport, code):
    quoted = ip_packet(cli, srv, 6, tcp_segment(cp, quote_dport, quote_seq, 0, 0x02), v6)
    if v6:
        icmp = struct.pack("!BBHI", 1, code, 0, 0) + quoted
        s.send(eth + ip_packet(srv, cli, 58, icmp, True))
    else:
        icmp = struct.pack("!BBHI", 3, code, 0, 0) + quoted[:28]
        s.send(eth + ip_packet(srv, cli, 1, icmp, False))


other = bytearray(srv)
other[-1] ^= 0x7F  # an address that is not the target
send_tcp(sp, cp, 1000, isn + 2, 0x12)          # SYN/ACK, wrong ack
send_tcp(sp, cp, 1000, isn, 0x12)              # SYN/ACK acking the ISN itself
send_tcp(sp, cp, 1000, isn + 1, 0x02)          # SYN without ACK
send_tcp(sp, cp, 1000, 0, 0x04)                # bare RST, no ACK
send_tcp(sp, cp, 1000, isn + 5, 0x14)          # RST/ACK, wrong ack
send_tcp(sp + 1, cp, 1000, isn + 1, 0x12)      # right ack, wrong source port
send_tcp(sp, cp + 1, 1000, isn + 1, 0x12)      # right ack, port we did not use
send_tcp(sp, cp, 1000, isn + 1, 0x12, bytes(other))  # right ack, wrong address
send_tcp(sp, cp, 1000, isn + 1, 0x16)          # SYN+RST+ACK together
send_tcp(sp, cp, 1000, isn + 1, 0x12, corrupt=True)  # right ack, bad checksum
send_icmp(isn + 1, port, 1)                    # ICMP quoting a wrong sequence
send_icmp(isn, port + 1, 1)                    # ICMP quoting a wrong port
time.sleep(delay)
send_tcp(sp, cp, 4242, isn + 1, 0x12)          # the one real answer
