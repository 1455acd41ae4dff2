/* decode.h - a captured frame becomes a segment: addresses, ports, flags,
 * sequence numbers, options, or an ICMP error with its quoted header.
 * Pure: no I/O, every length checked against the captured bytes. */
#ifndef TCPSHAKE_DECODE_H
#define TCPSHAKE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum { TCPF_FIN = 0x01, TCPF_SYN = 0x02, TCPF_RST = 0x04, TCPF_PSH = 0x08, TCPF_ACK = 0x10,
       TCPF_URG = 0x20, TCPF_ECE = 0x40, TCPF_CWR = 0x80 };

enum seg_kind { SEG_TCP = 1, SEG_ICMP = 2 };

struct tcp_info_opts {
	uint16_t mss;       /* 0: absent */
	int16_t wscale;     /* -1: absent */
	uint8_t sack_ok;
	uint8_t has_ts;
	uint32_t ts_val, ts_ecr;
};

/* The part of our SYN an ICMP error quotes back. */
struct icmp_quote {
	struct addr src, dst;
	uint16_t sport, dport;
	uint32_t seq;
	uint32_t len;       /* the quoted packet's length as its IP header gives it */
};

struct segment {
	int64_t ts_ns;          /* capture time, ns since the epoch */
	enum seg_kind kind;
	struct addr src, dst;
	uint8_t ttl;            /* TTL or hop limit */
	/* SEG_TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	struct tcp_info_opts opt;
	const uint8_t *payload;
	size_t payload_len;     /* on the wire */
	size_t payload_cap;     /* captured: at most payload_len */
	/* SEG_ICMP: a destination-unreachable, time-exceeded or (ICMPv6)
	 * packet-too-big quoting TCP */
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_mtu;      /* the next-hop MTU of an ICMP frag-needed (type 3 code 4)
				 * or ICMPv6 packet-too-big (type 2); 0 otherwise */
	struct icmp_quote quote;
};

/* Link types we read (values of pcap's DLT_*). */
enum { LINK_EN10MB = 1, LINK_RAW = 12, LINK_RAW_ALT = 101, LINK_LINUX_SLL = 113,
       LINK_LINUX_SLL2 = 276 };

/* The ICMP errors that say a packet was too big for the next hop. */
#define ICMP4_UNREACH 3
#define ICMP4_FRAG_NEEDED 4     /* its code */
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_UNREACH 1

/* Is seg an ICMP frag-needed or ICMPv6 packet-too-big? */
int decode_is_too_big(const struct segment *seg);

/* Is an ICMP (family AF_INET) or ICMPv6 error of this type a time exceeded? */
bool icmp_is_time_exceeded(int family, uint8_t type);

/* Does seg go from src:sport to dst:dport (a TCP segment's own header)? */
bool seg_on_tuple(const struct segment *seg, const struct addr *src, const struct addr *dst,
		  uint16_t sport, uint16_t dport);

/* Does the ICMP error seg come to src and quote a segment from src:sport to
 * dst:dport? (The quoted sequence number is the caller's to check.) */
bool icmp_quotes_tuple(const struct segment *seg, const struct addr *src, const struct addr *dst,
		       uint16_t sport, uint16_t dport);

/* Decode one frame. Returns 0 and fills seg when the frame is TCP or an
 * ICMP/ICMPv6 error quoting TCP; -1 for anything else or anything malformed.
 * caplen bytes were captured of a frame wirelen bytes long (pcap's caplen
 * and len). A frame cut by the snap length (caplen < wirelen) decodes if
 * every header is there; lengths then come from the IP header, and only
 * captured bytes are ever read. An IP length beyond the wire length is a
 * lie: the frame is malformed. */
int decode_frame_wire(int linktype, const uint8_t *p, size_t caplen, size_t wirelen,
		      int64_t ts_ns, struct segment *seg);

/* The same for a frame held whole: its wire length is caplen. */
int decode_frame(int linktype, const uint8_t *p, size_t caplen, int64_t ts_ns,
		 struct segment *seg);

/* Decode an IP packet held whole (v4 or v6 by its version nibble). */
int decode_ip(const uint8_t *p, size_t len, struct segment *seg);

/* Parse a TCP option list; malformed lists stop the parse, never overrun. */
void decode_tcp_options(const uint8_t *p, size_t len, struct tcp_info_opts *o);

/* Flags as letters, hping3 style: "SA", "RA", "FPA" ... into buf[9]. */
const char *tcp_flags_str(uint8_t flags, char buf[9]);

#endif
