#!/usr/bin/env python3
"""Forge hostile replies from the server side of the bed.

Usage: forge.py IFACE PORT DELAY READYFILE [established]
With "established", it waits instead for the client's ACK that completes a
real handshake and sends RSTs outside the window, a duplicate SYN/ACK and
segments acking what was never sent: the connection must still end cleanly.
Sniffs the first SYN to PORT on IFACE (AF_PACKET, so before the server's
firewall drops it), then sends at once every reply a strict matcher must
ignore and a flood of unrelated traffic, and after DELAY seconds the one
correct SYN/ACK (ack = ISN + 1), carrying IP options when IPv4."""
import socket
import struct
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapkit import ip_packet, parse_tcp, tcp_segment  # noqa: E402

iface, port, delay, ready = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
established = len(sys.argv) > 5 and sys.argv[5] == "established"
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((iface, 0))
open(ready, "w").write("ready\n")
deadline = time.time() + 10
while time.time() < deadline:
    frame = s.recv(65535)
    t = parse_tcp(frame)
    if t and t["dport"] == port and t["flags"] == (0x10 if established else 0x02):
        break
else:
    sys.exit("no SYN seen")

v6 = ":" in t["src"]
fam = socket.AF_INET6 if v6 else socket.AF_INET
cli, srv = socket.inet_pton(fam, t["src"]), socket.inet_pton(fam, t["dst"])
eth = frame[6:12] + frame[0:6] + frame[12:14]
isn, sp, cp = t["seq"], port, t["sport"]


def send_tcp(sport, dport, seq, ack, flags, src=srv, corrupt=False, topts=b"", ipopts=b""):
    seg = tcp_segment(sport, dport, seq, ack, flags, options=topts)
    pkt = bytearray(ip_packet(src, cli, 6, seg, v6, options=b"" if v6 else ipopts))
    if corrupt:
        pkt[(40 if v6 else 20) + 17] ^= 0x5A  # the TCP checksum
    s.send(eth + bytes(pkt))


def send_icmp(quote_seq, quote_dport, code, cut=None):
    quoted = ip_packet(cli, srv, 6, tcp_segment(cp, quote_dport, quote_seq, 0, 0x02), v6)
    if cut is not None:
        quoted = quoted[:cut]
    if v6:
        icmp = struct.pack("!BBHI", 1, code, 0, 0) + quoted
        s.send(eth + ip_packet(srv, cli, 58, icmp, True))
    else:
        icmp = struct.pack("!BBHI", 3, code, 0, 0) + quoted[:28]
        s.send(eth + ip_packet(srv, cli, 1, icmp, False))


if established:
    # t is the client's ACK: its ack is the server's next sequence number
    rcv = t["ack"]
    snd = t["seq"]
    send_tcp(sp, cp, rcv + 100000, snd, 0x14)   # RST far beyond the window
    send_tcp(sp, cp, rcv - 5, snd, 0x14)        # RST behind it
    send_tcp(sp, cp, rcv - 1, snd, 0x12)        # SYN/ACK again (our ACK "lost")
    send_tcp(sp, cp, rcv, snd + 1000, 0x10)     # acks data never sent
    send_tcp(sp, cp, rcv, snd, 0x14, corrupt=True)  # in window but a bad checksum
    sys.exit(0)

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
send_icmp(isn, port, 1, cut=(40 if v6 else 20) + 4)  # a quote cut inside the ports
send_tcp(sp, cp, 1000, isn + 2, 0x12, topts=bytes([3, 0, 1, 1]))  # an option of length 0
send_tcp(sp, cp, 1000, isn + 2, 0x12, topts=bytes([2, 40, 5, 180]))  # an option past the end
for i in range(2000):                          # a flood of unrelated traffic
    send_tcp(1000 + i % 50, 2000 + i, i, i, 0x12)
    send_tcp(sp, cp, i, isn + 3 + i, 0x14)     # RSTs acking what we never sent
time.sleep(delay)
# the one real answer, with IPv4 options (NOP NOP NOP EOL) to decode past
send_tcp(sp, cp, 4242, isn + 1, 0x12, ipopts=bytes([1, 1, 1, 0]))
