/* decode.c - frame -> segment, with bounds checks at every step. */
#include "decode.h"

#include "checksum.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void decode_tcp_options(const uint8_t *p, size_t len, struct tcp_info_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->wscale = -1;
	size_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == 0)
			return;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return;
		uint8_t olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return; /* a zero length would loop; a long one would overrun */
		if (kind == 2 && olen == 4)
			o->mss = rd16(p + i + 2);
		else if (kind == 3 && olen == 3)
			o->wscale = p[i + 2] > 14 ? 14 : p[i + 2];
		else if (kind == 4 && olen == 2)
			o->sack_ok = 1;
		else if (kind == 8 && olen == 10) {
			o->has_ts = 1;
			o->ts_val = rd32(p + i + 2);
			o->ts_ecr = rd32(p + i + 6);
		}
		i += olen;
	}
}

/* The first 8 bytes of TCP quoted inside an ICMP error. */
static int decode_quote(const uint8_t *p, size_t len, struct segment *seg)
{
	struct segment inner;
	memset(&inner, 0, sizeof(inner));
	if (len < 1)
		return -1;
	int ver = p[0] >> 4;
	size_t hl;
	uint8_t proto;
	if (ver == 4) {
		if (len < 20)
			return -1;
		hl = (size_t)(p[0] & 0x0f) * 4;
		if (hl < 20 || len < hl + 8)
			return -1;
		if (rd16(p + 6) & 0x1fff)
			return -1; /* a later fragment quotes no TCP header */
		proto = p[9];
		seg->quote.len = rd16(p + 2);
		inner.src.family = inner.dst.family = AF_INET;
		memcpy(inner.src.b, p + 12, 4);
		memcpy(inner.dst.b, p + 16, 4);
	} else if (ver == 6) {
		if (len < 40 + 8)
			return -1;
		hl = 40;
		proto = p[6];
		seg->quote.len = 40u + rd16(p + 4);
		inner.src.family = inner.dst.family = AF_INET6;
		memcpy(inner.src.b, p + 8, 16);
		memcpy(inner.dst.b, p + 24, 16);
	} else {
		return -1;
	}
	if (proto != IPPROTO_TCP)
		return -1;
	const uint8_t *t = p + hl;
	seg->quote.src = inner.src;
	seg->quote.dst = inner.dst;
	seg->quote.sport = rd16(t);
	seg->quote.dport = rd16(t + 2);
	seg->quote.seq = rd32(t + 4);
	return 0;
}

/* t: the captured bytes of the segment (cap of them), wire: its length on
 * the wire as the IP header gives it; cap < wire when the snap length cut it. */
static int decode_tcp(const uint8_t *t, size_t cap, size_t wire, struct segment *seg)
{
	if (cap < 20)
		return -1;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || doff > cap)
		return -1;
	/* A corrupt segment is nobody's answer; one cut by the snap length
	 * cannot be summed, and its ISN check still stands. */
	if (cap == wire && !csum_segment_ok(&seg->src, &seg->dst, IPPROTO_TCP, t, wire, 16, 1))
		return -1;
	seg->kind = SEG_TCP;
	seg->sport = rd16(t);
	seg->dport = rd16(t + 2);
	seg->seq = rd32(t + 4);
	seg->ack = rd32(t + 8);
	seg->flags = t[13];
	seg->win = rd16(t + 14);
	decode_tcp_options(t + 20, doff - 20, &seg->opt);
	seg->payload = t + doff;
	seg->payload_cap = cap - doff;
	seg->payload_len = wire - doff;
	return 0;
}

/* The ICMP or ICMPv6 error types we read: destination unreachable, time
 * exceeded, and ICMPv6's packet too big (ICMP's frag-needed is an
 * unreachable code); ICMPv6's checksum covers a pseudo-header, ICMP's does
 * not. too_big: 0 in ICMP, which has no such type. */
struct icmp_kind {
	uint8_t proto, unreach, exceeded, too_big;
	int with_pseudo;
};

static const struct icmp_kind icmp4 = { .proto = IPPROTO_ICMP, .unreach = ICMP4_UNREACH,
					.exceeded = 11, .too_big = 0, .with_pseudo = 0 };
static const struct icmp_kind icmp6 = { .proto = IPPROTO_ICMPV6, .unreach = ICMP6_UNREACH,
					.exceeded = 3, .too_big = ICMP6_PACKET_TOO_BIG,
					.with_pseudo = 1 };

int decode_is_too_big(const struct segment *seg)
{
	if (seg->kind != SEG_ICMP)
		return 0;
	if (seg->src.family == AF_INET)
		return seg->icmp_type == ICMP4_UNREACH && seg->icmp_code == ICMP4_FRAG_NEEDED;
	return seg->icmp_type == ICMP6_PACKET_TOO_BIG;
}

bool icmp_is_time_exceeded(int family, uint8_t type)
{
	return (family == AF_INET && type == icmp4.exceeded) ||
	       (family == AF_INET6 && type == icmp6.exceeded);
}

bool seg_on_tuple(const struct segment *seg, const struct addr *src, const struct addr *dst,
		  uint16_t sport, uint16_t dport)
{
	return seg->sport == sport && seg->dport == dport && addr_eq(&seg->src, src) &&
	       addr_eq(&seg->dst, dst);
}

bool icmp_quotes_tuple(const struct segment *seg, const struct addr *src, const struct addr *dst,
		       uint16_t sport, uint16_t dport)
{
	const struct icmp_quote *q = &seg->quote;
	return q->sport == sport && q->dport == dport && addr_eq(&q->src, src) &&
	       addr_eq(&q->dst, dst) && addr_eq(&seg->dst, src);
}

/* The next-hop MTU of a too-big error (the 8-byte header is there): ICMP's
 * in bytes 6-7 (RFC 1191; 0 from a router older than it), ICMPv6's in
 * bytes 4-7 (RFC 4443 3.2). */
static uint32_t icmp_mtu(const uint8_t *p, const struct icmp_kind *k)
{
	if (k->too_big && p[0] == k->too_big)
		return rd32(p + 4);
	if (!k->too_big && p[0] == ICMP4_UNREACH && p[1] == ICMP4_FRAG_NEEDED)
		return rd16(p + 6);
	return 0;
}

static int decode_icmp(const uint8_t *p, size_t len, size_t wire, const struct icmp_kind *k,
		       struct segment *seg)
{
	if (len < 8)
		return -1;
	if (len == wire &&
	    !csum_segment_ok(&seg->src, &seg->dst, k->proto, p, len, 2, k->with_pseudo))
		return -1;
	if (p[0] != k->unreach && p[0] != k->exceeded && (!k->too_big || p[0] != k->too_big))
		return -1;
	seg->kind = SEG_ICMP;
	seg->icmp_type = p[0];
	seg->icmp_code = p[1];
	seg->icmp_mtu = icmp_mtu(p, k);
	return decode_quote(p + 8, len - 8, seg);
}

/* cap: the bytes of the packet we hold; wire: how many it had on the wire
 * (the pcap header's len, less the link header). An IP length within the
 * wire length and beyond cap is a packet cut by our snap length; an IP
 * length beyond the wire length is a lie, and the frame is malformed. */
static int decode_ipv4(const uint8_t *p, size_t cap, size_t wire, struct segment *seg)
{
	if (cap < 20)
		return -1;
	size_t hl = (size_t)(p[0] & 0x0f) * 4;
	size_t tot = rd16(p + 2);
	if (hl < 20 || tot < hl || hl > cap || tot > wire)
		return -1;
	if (tot < cap)
		cap = tot; /* Ethernet padding is not the packet's */
	if (csum_fold(csum_add(0, p, hl)) != 0xffff)
		return -1; /* a header the kernel would drop, its lengths included */
	if (rd16(p + 6) & 0x3fff)
		return -1; /* fragments: never ours, never reassembled */
	seg->src.family = seg->dst.family = AF_INET;
	memcpy(seg->src.b, p + 12, 4);
	memcpy(seg->dst.b, p + 16, 4);
	seg->ttl = p[8];
	if (p[9] == IPPROTO_TCP)
		return decode_tcp(p + hl, cap - hl, tot - hl, seg);
	if (p[9] == IPPROTO_ICMP)
		return decode_icmp(p + hl, cap - hl, tot - hl, &icmp4, seg);
	return -1;
}

/* An IPv6 extension header we step over: hop-by-hop, routing, destination
 * options (RFC 8200 4.1), and a fragment header that fragments nothing
 * (offset 0, no more fragments: an atomic fragment, RFC 6946, which the
 * kernel takes as the whole packet). Real fragments are never ours;
 * anything else ends the chain. */
static bool ext_header(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT;
}

#define IPV6_MAX_EXT 8

static int decode_ipv6(const uint8_t *p, size_t cap, size_t wire, struct segment *seg)
{
	if (cap < 40)
		return -1;
	size_t tot = 40 + (size_t)rd16(p + 4);
	if (tot > wire)
		return -1; /* a payload length the wire did not carry */
	if (tot < cap)
		cap = tot;
	seg->src.family = seg->dst.family = AF_INET6;
	memcpy(seg->src.b, p + 8, 16);
	memcpy(seg->dst.b, p + 24, 16);
	seg->ttl = p[7];
	uint8_t nh = p[6];
	size_t off = 40;
	/* Walk the extension headers, each one captured whole and within the
	 * packet, at most IPV6_MAX_EXT of them. */
	for (int n = 0; n <= IPV6_MAX_EXT; n++) {
		if (nh == IPPROTO_TCP)
			return decode_tcp(p + off, cap - off, tot - off, seg);
		if (nh == IPPROTO_ICMPV6)
			return decode_icmp(p + off, cap - off, tot - off, &icmp6, seg);
		if (!ext_header(nh) || cap - off < 8)
			return -1;
		if (nh == IPPROTO_FRAGMENT && (rd16(p + off + 2) & 0xfff9) != 0)
			return -1; /* a real fragment: never ours, never reassembled */
		/* a fragment header is 8 bytes, its second byte reserved */
		size_t el = nh == IPPROTO_FRAGMENT ? 8 : ((size_t)p[off + 1] + 1) * 8;
		if (el > cap - off)
			return -1;
		nh = p[off];
		off += el;
	}
	return -1;
}

static int decode_ip_wire(const uint8_t *p, size_t cap, size_t wire, struct segment *seg)
{
	if (cap < 1 || wire < cap)
		return -1;
	switch (p[0] >> 4) {
	case 4:
		return decode_ipv4(p, cap, wire, seg);
	case 6:
		return decode_ipv6(p, cap, wire, seg);
	default:
		return -1;
	}
}

int decode_ip(const uint8_t *p, size_t len, struct segment *seg)
{
	return decode_ip_wire(p, len, len, seg);
}

static int decode_ethertype(uint16_t et, const uint8_t *p, size_t cap, size_t wire,
			    struct segment *seg)
{
	if (et == ETHERTYPE_IP || et == ETHERTYPE_IPV6)
		return decode_ip_wire(p, cap, wire, seg);
	return -1;
}

/* The link header's length, and the ethertype after it; 0 when the frame
 * is not one we read. */
static size_t link_header(int linktype, const uint8_t *p, size_t caplen, uint16_t *et)
{
	switch (linktype) {
	case LINK_EN10MB: {
		if (caplen < ETH_HLEN)
			return 0;
		size_t off = 12;
		*et = rd16(p + off);
		for (int tags = 0; (*et == ETHERTYPE_VLAN || *et == ETHERTYPE_QINQ) && tags < 2;
		     tags++) {
			off += 4;
			if (caplen < off + 2)
				return 0;
			*et = rd16(p + off);
		}
		return off + 2;
	}
	case LINK_LINUX_SLL:
		if (caplen < SLL_HLEN)
			return 0;
		*et = rd16(p + 14);
		return SLL_HLEN;
	case LINK_LINUX_SLL2:
		if (caplen < SLL2_HLEN)
			return 0;
		*et = rd16(p);
		return SLL2_HLEN;
	default:
		return 0;
	}
}

int decode_frame_wire(int linktype, const uint8_t *p, size_t caplen, size_t wirelen,
		      int64_t ts_ns, struct segment *seg)
{
	memset(seg, 0, sizeof(*seg));
	seg->ts_ns = ts_ns;
	if (wirelen < caplen)
		return -1; /* not a pcap header libpcap would give */
	if (linktype == LINK_RAW || linktype == LINK_RAW_ALT)
		return decode_ip_wire(p, caplen, wirelen, seg);
	uint16_t et = 0;
	size_t hl = link_header(linktype, p, caplen, &et);
	if (hl == 0)
		return -1;
	return decode_ethertype(et, p + hl, caplen - hl, wirelen - hl, seg);
}

int decode_frame(int linktype, const uint8_t *p, size_t caplen, int64_t ts_ns,
		 struct segment *seg)
{
	return decode_frame_wire(linktype, p, caplen, caplen, ts_ns, seg);
}

const char *tcp_flags_str(uint8_t flags, char buf[9])
{
	/* hping3's order: S R F P A U E C, so a SYN/ACK reads "SA". */
	static const uint8_t bit[] = { TCPF_SYN, TCPF_RST, TCPF_FIN, TCPF_PSH, TCPF_ACK, TCPF_URG,
				       TCPF_ECE, TCPF_CWR };
	static const char letter[] = "SRFPAUEC";
	size_t n = 0;
	for (size_t i = 0; i < sizeof(bit); i++)
		if (flags & bit[i])
			buf[n++] = letter[i];
	buf[n] = '\0';
	return buf;
}
