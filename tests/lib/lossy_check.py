#!/usr/bin/env python3
"""lossy_check - what a tcpdump capture says about tcpshake's TCP endpoint.

Usage: lossy_check.py CHECK CAPTURE.pcap CLIENT_ADDR PORT [ARG]
The capture is taken on the client's interface; a connection is a client
source port. Each check prints one line per finding and exits 0 when right:
  window      no segment of ours goes past the window the server advertised
              (ack + win of its latest segment; window scale off, as the
              relay's --window leaves it); a 1-byte zero-window probe is
              allowed. ARG: also no payload larger than ARG bytes.
  reack       every FIN the server sent again (its FIN retransmitted because
              our last ACK was lost) is acknowledged by us with an ACK, not
              a RST, within a second
  latesynack  every SYN/ACK that reached us before ARG (epoch seconds, the
              run's exit) is answered with a RST at its ack number within
              200 ms, as a real endpoint that never acknowledged it would
  synrtt      ARG is tcpshake's JSON: each probe's rtt_us is the time from
              the last SYN we sent before the first SYN/ACK we received to
              that SYN/ACK (within 0.1 ms): the answered SYN's RTT"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapkit import read_pcap  # noqa: E402
import ipaddress  # noqa: E402

M32 = 0xFFFFFFFF


def after(a, b):
    """a > b in sequence space."""
    return 0 < ((a - b) & M32) < 0x80000000


def segments(path):
    for ts, fr in read_pcap(path):
        if len(fr) < 14:
            continue
        et = struct.unpack("!H", fr[12:14])[0]
        ip = fr[14:]
        if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
            hl = (ip[0] & 15) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
            tcp, tlen = ip[hl:], tot - hl
        elif et == 0x86DD and len(ip) >= 40 and ip[6] == 6:
            src, dst = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
            tcp, tlen = ip[40:], struct.unpack("!H", ip[4:6])[0]
        else:
            continue
        if len(tcp) < 20:
            continue
        sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
        doff = (tcp[12] >> 4) * 4
        yield dict(ts=ts / 1e9, src=str(src), dst=str(dst), sport=sport, dport=dport, seq=seq,
                   ack=ack, flags=tcp[13], win=struct.unpack("!H", tcp[14:16])[0],
                   len=max(tlen - doff, 0))


def conns(path, client, port):
    """client port -> [(dir, seg)], dir '>' ours, '<' the server's."""
    out = {}
    client = str(ipaddress.ip_address(client))
    for s in segments(path):
        if s["src"] == client and s["dport"] == port:
            out.setdefault(s["sport"], []).append((">", s))
        elif s["dst"] == client and s["sport"] == port:
            out.setdefault(s["dport"], []).append(("<", s))
    return out


FIN, SYN, RST, ACK = 1, 2, 4, 16


def check_window(cs, maxseg):
    bad = 0
    for cport, segs in cs.items():
        edge = None
        for d, s in segs:
            if d == "<" and s["flags"] & ACK:
                e = (s["ack"] + s["win"]) & M32
                if edge is None or after(e, edge) or s["flags"] & SYN:
                    edge = e
            elif d == ">" and s["len"] > 0 and edge is not None:
                end = (s["seq"] + s["len"]) & M32
                if after(end, edge) and not (s["len"] == 1 and s["seq"] == edge):
                    print("port %d: %d bytes at seq %d go %d past the window's edge %d" %
                          (cport, s["len"], s["seq"], (end - edge) & M32, edge))
                    bad += 1
                if maxseg is not None and s["len"] > maxseg:
                    print("port %d: a segment of %d bytes (window %d)" % (cport, s["len"], maxseg))
                    bad += 1
        sent = sum(s["len"] for d, s in segs if d == ">")
        print("port %d: %d bytes sent in %d data segments" %
              (cport, sent, sum(1 for d, s in segs if d == ">" and s["len"])))
    return bad == 0


def check_reack(cs):
    seen = ok = total = 0
    for cport, segs in cs.items():
        fins = [i for i, (d, s) in enumerate(segs) if d == "<" and s["flags"] & FIN]
        if len(fins) < 2:
            continue
        seen += 1
        for i in fins[1:]:
            f = segs[i][1]
            want = (f["seq"] + f["len"] + 1) & M32
            ans = [s for d, s in segs[i + 1:] if d == ">" and s["ts"] - f["ts"] < 1.0]
            good = any(s["flags"] & ACK and not s["flags"] & RST and s["ack"] == want for s in ans)
            ok += good
            total += 1
            print("port %d: retransmitted FIN at %.3f: %s" % (cport, f["ts"], "ACKed" if good else
                  ("answered " + ",".join(str(s["flags"]) for s in ans) if ans else "no answer")))
    if not seen:
        print("no FIN was retransmitted")
        return False
    return ok == total


def check_latesynack(cs, until):
    total = answered = 0
    for cport, segs in cs.items():
        for i, (d, s) in enumerate(segs):
            if d != "<" or s["flags"] & (SYN | ACK) != SYN | ACK or s["ts"] > until:
                continue
            total += 1
            if any(x["flags"] & RST and x["seq"] == s["ack"] and x["ts"] - s["ts"] < 0.2
                   for dd, x in segs[i + 1:] if dd == ">"):
                answered += 1
            else:
                print("port %d: the SYN/ACK at %.3f was not reset" % (cport, s["ts"]))
    print("%d of %d SYN/ACKs that came while the run lived were reset" % (answered, total))
    return total > 0 and answered == total


def check_synrtt(cs, jsonfile, client):
    bad = n = 0
    for line in open(jsonfile):
        p = json.loads(line)
        if p.get("type") != "probe" or \
                ipaddress.ip_address(p["addr"]).version != ipaddress.ip_address(client).version:
            continue
        n += 1
        segs = cs.get(p.get("sport"), [])
        sa = next((i for i, (d, s) in enumerate(segs) if d == "<" and s["flags"] & (SYN | ACK) == SYN | ACK), None)
        if sa is None or p.get("rtt_us") is None:
            print("port %s: %s, no SYN/ACK in the capture or no rtt" % (p.get("sport"), p.get("outcome")))
            bad += 1
            continue
        syns = [s for d, s in segs[:sa] if d == ">" and s["flags"] & SYN]
        wire = (segs[sa][1]["ts"] - syns[-1]["ts"]) * 1e6
        good = abs(wire - p["rtt_us"]) < 100
        bad += not good
        print("port %d: %d SYNs before the SYN/ACK, rtt_us %.1f, on the wire from the last SYN %.1f: %s" %
              (p["sport"], len(syns), p["rtt_us"], wire, "ok" if good else "differ"))
    return n > 0 and bad == 0


def main():
    what, cap, client, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    arg = sys.argv[5] if len(sys.argv) > 5 else None
    cs = conns(cap, client, port)
    ok = {"window": lambda: check_window(cs, int(arg) if arg else None),
          "reack": lambda: check_reack(cs),
          "latesynack": lambda: check_latesynack(cs, float(arg)),
          "synrtt": lambda: check_synrtt(cs, arg, client)}[what]()
    sys.exit(0 if ok else 1)


main()
