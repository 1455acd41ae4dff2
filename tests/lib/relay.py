#!/usr/bin/env python3
"""relay - a bad link between two interfaces, for the lossy bed (no netem here).

Usage: relay.py IF_A IF_B --max-seconds S [options]
Copies every frame that arrives on IF_A to IF_B and back (AF_PACKET, so the
two interfaces must carry no address of their own: bed.sh drops their own
traffic at the netdev ingress hook, which runs after this socket's tap).
Each frame is held for a delay, then sent:
  --delay MS            one-way delay of every frame (0)
  --jitter MS           plus a uniform 0..MS (frames then overtake each other)
  --delay-net CIDR=MS   frames from or to CIDR are held MS instead (repeatable)
  --dup PCT             send PCT% of the frames twice (the copy 0.1 ms later)
  --reorder PCT         hold PCT% of the frames --reorder-gap MS longer (5),
                        so that the frames behind them overtake them
  --synack-delay MS     hold TCP SYN/ACK segments MS longer
  --window PORT:WIN[:MS]  segments from TCP port PORT advertise WIN (the
                        window field rewritten, the checksum fixed), for the
                        first MS ms after the connection's SYN/ACK (always
                        without MS); the window scale option of their SYN/ACK
                        is blanked (NOPs), so WIN is in bytes (repeatable)
  --partial-csum        TCP segments sent on IF_B leave with a virtio-net header
                        asking for the checksum (PACKET_VNET_HDR): the server
                        receives them as CHECKSUM_PARTIAL, checked by no one
                        on the way, as a NIC's offload delivers them (for
                        nft synproxy over IPv6, whose check is IPv4's; the
                        links on the way need tx checksumming on)
  --stats FILE          counters written at exit ("frames N dup N ...")
Exits after --max-seconds, or on SIGTERM/SIGINT. Python 3 stdlib only."""
import argparse, heapq, ipaddress, random, select, signal, socket, struct, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("a"); ap.add_argument("b")
ap.add_argument("--max-seconds", type=float, required=True)
for o in ("delay", "jitter", "dup", "reorder", "synack-delay"):
    ap.add_argument("--" + o, type=float, default=0.0)
ap.add_argument("--reorder-gap", type=float, default=5.0)
ap.add_argument("--delay-net", action="append", default=[])
ap.add_argument("--window", action="append", default=[])
ap.add_argument("--stats")
ap.add_argument("--partial-csum", action="store_true")
ap.add_argument("--seed", type=int)
opt = ap.parse_args()
rng = random.Random(opt.seed)
nets = [(ipaddress.ip_network(c), float(ms)) for c, ms in (d.split("=") for d in opt.delay_net)]
windows = {}
for w in opt.window:
    f = [int(x) for x in w.split(":")]
    windows[f[0]] = (f[1], f[2] if len(f) > 2 else None)
conn_start = {}  # (server port, client addr, client port) -> SYN/ACK time
stats = dict(frames=0, dup=0, reordered=0, synack_delayed=0, window_rewritten=0)

ETH_P_ALL, PACKET_OUTGOING = 3, 4
socks = {}
for name in (opt.a, opt.b):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((name, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    socks[name] = s
peer = {socks[opt.a]: socks[opt.b], socks[opt.b]: socks[opt.a]}
SOL_PACKET, PACKET_VNET_HDR = 263, 15
vnet = None
if opt.partial_csum:
    vnet = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    vnet.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    vnet.bind((opt.b, 0))


def fold(x):
    while x >> 16:
        x = (x & 0xFFFF) + (x >> 16)
    return x


def patch16(buf, off, new, csum_off):
    """Set the 16-bit word at off to new, updating the checksum (RFC 1624)."""
    old = struct.unpack_from("!H", buf, off)[0]
    hc = struct.unpack_from("!H", buf, csum_off)[0]
    struct.pack_into("!H", buf, off, new)
    struct.pack_into("!H", buf, csum_off, ~fold((~hc & 0xFFFF) + (~old & 0xFFFF) + new) & 0xFFFF)


def partial(fr):
    """A TCP frame as a virtio-net header asking for its checksum (NEEDS_CSUM
    from the TCP header on) and the frame, its checksum field the
    pseudo-header's sum as Linux leaves it for offload; None for others."""
    et = struct.unpack_from("!H", fr, 12)[0]
    if et == 0x86DD and len(fr) >= 74 and fr[20] == 6:
        t, tlen = 54, struct.unpack_from("!H", fr, 18)[0]
        pseudo = sum(struct.unpack_from("!16H", fr, 22)) + tlen + 6
    elif et == 0x0800 and len(fr) >= 54 and fr[23] == 6:
        t = 14 + (fr[14] & 15) * 4
        tlen = struct.unpack_from("!H", fr, 16)[0] - (t - 14)
        pseudo = sum(struct.unpack_from("!4H", fr, 26)) + tlen + 6
    else:
        return None
    fr = bytearray(fr)
    struct.pack_into("!H", fr, t + 16, fold(pseudo))
    return struct.pack("=BBHHHH", 1, 0, 0, 0, t, 16) + bytes(fr)


def inspect(fr):
    """Delay for this frame in ms; rewrites it in place where asked."""
    et = struct.unpack_from("!H", fr, 12)[0]
    if et == 0x0800 and len(fr) >= 34:
        hl, proto = (fr[14] & 15) * 4, fr[23]
        src, dst, t = ipaddress.IPv4Address(bytes(fr[26:30])), ipaddress.IPv4Address(bytes(fr[30:34])), 14 + hl
    elif et == 0x86DD and len(fr) >= 54:
        proto = fr[20]
        src, dst, t = ipaddress.IPv6Address(bytes(fr[22:38])), ipaddress.IPv6Address(bytes(fr[38:54])), 54
    else:
        return opt.delay
    d = opt.delay
    for net, ms in nets:
        if src in net or dst in net:
            d = ms
            break
    if proto != 6 or len(fr) < t + 20:
        return d
    sport, dport = struct.unpack_from("!HH", fr, t)
    flags, doff = fr[t + 13], (fr[t + 12] >> 4) * 4
    if flags & 0x12 == 0x12:
        d += opt.synack_delay
        stats["synack_delayed"] += opt.synack_delay > 0
    if sport in windows:
        win, ms = windows[sport]
        key = (sport, dst, dport)
        if flags & 0x12 == 0x12:
            conn_start[key] = time.monotonic()
            i = t + 20
            while i < t + doff and i < len(fr):  # blank the window scale option
                kind = fr[i]
                if kind == 0:
                    break
                if kind == 1:
                    i += 1
                    continue
                ln = fr[i + 1] if i + 1 < len(fr) else 0
                if ln < 2:
                    break
                if kind == 3 and ln == 3:
                    # a 3-byte option: rewrite byte-wise through aligned words
                    for j in (i, i + 1, i + 2):
                        w = j - ((j - t) % 2)
                        cur = bytearray(fr[w:w + 2])
                        cur[j - w] = 1
                        patch16(fr, w, struct.unpack("!H", bytes(cur))[0], t + 16)
                i += ln
        start = conn_start.get(key)
        if ms is None or (start is not None and time.monotonic() - start < ms / 1000):
            patch16(fr, t + 14, win, t + 16)
            stats["window_rewritten"] += 1
    return d


def main():
    end = time.monotonic() + opt.max_seconds
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    heap, n = [], 0
    rlist = list(peer)
    print("ready", flush=True)
    try:
        while True:
            now = time.monotonic()
            if now >= end:
                break
            while heap and heap[0][0] <= now:
                _, _, out, fr = heapq.heappop(heap)
                v = partial(fr) if vnet and out is socks[opt.b] else None
                if v:
                    out, fr = vnet, v
                try:
                    out.send(fr)
                except OSError:
                    pass
            wait = min(end - now, (heap[0][0] - now) if heap else 0.5)
            for s in select.select(rlist, [], [], max(wait, 0))[0]:
                for _ in range(64):
                    try:
                        fr, addr = s.recvfrom(65535, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    if addr[2] == PACKET_OUTGOING:
                        continue
                    fr = bytearray(fr)
                    stats["frames"] += 1
                    d = inspect(fr) + rng.uniform(0, opt.jitter)
                    if rng.uniform(0, 100) < opt.reorder:
                        d += opt.reorder_gap
                        stats["reordered"] += 1
                    t = time.monotonic() + d / 1000
                    n += 1
                    heapq.heappush(heap, (t, n, peer[s], bytes(fr)))
                    if rng.uniform(0, 100) < opt.dup:
                        n += 1
                        stats["dup"] += 1
                        heapq.heappush(heap, (t + 0.0001, n, peer[s], bytes(fr)))
    except KeyboardInterrupt:
        pass
    finally:
        if opt.stats:
            with open(opt.stats, "w") as fh:
                fh.write(" ".join("%s %d" % kv for kv in stats.items()) + "\n")


main()
