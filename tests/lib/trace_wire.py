"""trace_wire.py PCAP TRACE.json MAX_ERR_NS - a trace against a tcpdump
capture of the same run (on the client's link).

Checks, printing one line per failure and exiting 1 on any:
  - every SYN of the trace (to its addr:port with a TTL or hop limit below
    64) has the same 5-tuple: our address, the trace's source port, the
    target and its port; and there are `queries` of them for each TTL from
    1 to the hops reported;
  - the TTLs rise one by one: the k-th SYN of each TTL is query k;
  - each RTT reported equals the capture's, from that SYN leaving to the
    answer that names it (an ICMP error quoting its sequence number, or the
    target's SYN/ACK or RST acknowledging it), within MAX_ERR_NS.
"""
import ipaddress
import json
import struct
import sys

from pcapkit import parse_tcp, read_pcap


def quoted_seq(frame):
    """An ICMP or ICMPv6 error quoting TCP: (src of the error, quoted seq)."""
    if len(frame) < 14:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 1:
        icmp = ip[(ip[0] & 15) * 4:]
        if len(icmp) < 8 or icmp[0] not in (3, 11):
            return None
        inner = icmp[8:]
        if len(inner) < 20:
            return None
        q = inner[(inner[0] & 15) * 4:]
        src = str(ipaddress.IPv4Address(ip[12:16]))
    elif et == 0x86DD and len(ip) >= 40 and ip[6] == 58:
        icmp = ip[40:]
        if len(icmp) < 8 or icmp[0] not in (1, 3):
            return None
        q = icmp[8 + 40:]
        src = str(ipaddress.IPv6Address(ip[8:24]))
    else:
        return None
    if len(q) < 8:
        return None
    return src, struct.unpack("!I", q[4:8])[0]


def main():
    pcap, trace_file, max_err = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tr = json.load(open(trace_file))
    addr, port, sport, queries = tr["addr"], tr["port"], tr["sport"], tr["queries"]
    syns, answers, bad = [], {}, []
    for ts, frame in read_pcap(pcap):
        seg = parse_tcp(frame)
        if seg and seg["dst"] == addr and seg["dport"] == port and seg["flags"] == 0x02 \
                and seg["ttl"] < 64:
            syns.append((ts, seg))
        elif seg and seg["src"] == addr and seg["sport"] == port and seg["flags"] & 0x10:
            answers.setdefault((seg["ack"] - 1) & 0xffffffff, ts)
        else:
            q = quoted_seq(frame)
            if q:
                answers.setdefault(q[1], ts)
    tuples = {(s["src"], s["sport"], s["dst"], s["dport"]) for _, s in syns}
    if len(tuples) != 1 or next(iter(tuples))[1] != sport:
        bad.append("5-tuples of the trace's SYNs: %s (sport %d)" % (sorted(tuples), sport))
    by_ttl = {}
    for ts, s in syns:
        by_ttl.setdefault(s["ttl"], []).append((ts, s))
    checked, worst = 0, 0
    for hop in tr["hops"]:
        ttl = hop["ttl"]
        sent = by_ttl.get(ttl, [])
        if len(sent) != queries:
            bad.append("ttl %d: %d SYNs, not %d" % (ttl, len(sent), queries))
            continue
        for q, rtt_us in enumerate(hop["rtts_us"]):
            ts, s = sent[q]
            got = answers.get(s["seq"])
            if rtt_us is None:
                continue
            if got is None:
                bad.append("ttl %d query %d: an RTT, but no answer in the capture" % (ttl, q))
                continue
            err = abs((got - ts) - rtt_us * 1000)
            checked += 1
            worst = max(worst, err)
            if err > max_err:
                bad.append("ttl %d query %d: rtt %.3f us, capture %.3f us" %
                           (ttl, q, rtt_us, (got - ts) / 1000))
    for line in bad:
        print(line)
    print("%d SYNs on one 5-tuple, %d RTTs checked against the capture, the largest error %d ns"
          % (len(syns), checked, worst))
    sys.exit(1 if bad or checked == 0 else 0)


main()
