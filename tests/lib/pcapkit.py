"""pcapkit - read the pcap files tcpdump writes and build raw frames.

Used by the integration tests to compare tcpshake's reports with what a
tcpdump capture of the same run shows, and to forge hostile replies."""
import struct

TCP_FLAGS = "FSRPAUEC"


def flags_str(f):
    """hping3-style letters, in tcpshake's order."""
    order = [(0x02, "S"), (0x04, "R"), (0x01, "F"), (0x08, "P"), (0x10, "A"),
             (0x20, "U"), (0x40, "E"), (0x80, "C")]
    return "".join(c for bit, c in order if f & bit)


def read_pcap(path):
    """Yield (ts_ns, frame bytes) from a pcap file (micro or nano)."""
    with open(path, "rb") as fh:
        data = fh.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B23C4D:
        scale, endian = 1, "<"
    elif magic == 0xA1B2C3D4:
        scale, endian = 1000, "<"
    else:
        raise ValueError("not a little-endian pcap file")
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield sec * 1_000_000_000 + frac * scale, data[off:off + incl]
        off += incl


def parse_tcp(frame):
    """Ethernet frame -> dict of the TCP segment, or None."""
    if len(frame) < 14:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        hl = (ip[0] & 15) * 4
        src, dst, tcp = ip[12:16], ip[16:20], ip[hl:]
        import ipaddress
        src, dst = str(ipaddress.IPv4Address(src)), str(ipaddress.IPv4Address(dst))
        ttl = ip[8]
        tlen = struct.unpack("!H", ip[2:4])[0] - hl
    elif et == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        import ipaddress
        src = str(ipaddress.IPv6Address(ip[8:24]))
        dst = str(ipaddress.IPv6Address(ip[24:40]))
        tcp = ip[40:]
        ttl = ip[7]
        tlen = struct.unpack("!H", ip[4:6])[0]
    else:
        return None
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
    doff = (tcp[12] >> 4) * 4
    return {"src": src, "dst": dst, "sport": sport, "dport": dport, "seq": seq,
            "ack": ack, "flags": tcp[13], "ttl": ttl, "win": struct.unpack("!H", tcp[14:16])[0],
            "payload": tcp[doff:], "header": tcp[:doff],
            "payload_len": tlen - doff}  # on the wire, however much was captured


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_packet(src, dst, proto, payload, v6, ttl=64, options=b""):
    """An IPv4 or IPv6 header (addresses as bytes) in front of payload,
    with the L4 checksum filled in at offset for TCP (16) or ICMP (2)."""
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(payload), proto)
    else:
        pseudo = src + dst + struct.pack("!xBH", proto, len(payload))
    if proto == 6:
        payload = payload[:16] + struct.pack("!H", csum(pseudo + payload[:16] + b"\0\0" + payload[18:])) + payload[18:]
    elif proto in (1, 58):
        body = payload[:2] + b"\0\0" + payload[4:]
        c = csum((pseudo if proto == 58 else b"") + body)
        payload = payload[:2] + struct.pack("!H", c) + payload[4:]
    if v6:
        return struct.pack("!IHBB", 6 << 28, len(payload), proto, ttl) + src + dst + payload
    hl = 20 + len(options)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), 0, 0x4000, ttl, proto,
                      0, src, dst) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp_segment(sport, dport, seq, ack, flags, win=65535, options=b""):
    options += b"\0" * (-len(options) % 4)
    doff = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + options
