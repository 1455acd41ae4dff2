/* Decoding real captured frames, and malformed or truncated ones. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "decode.h"
#include "frames.h"

static struct segment seg;

#define DECODE(f) decode_frame(LINK_EN10MB, f, sizeof(f), 42, &seg)

static uint8_t buf[2048];

static size_t copy_frame(const uint8_t *f, size_t len)
{
	memcpy(buf, f, len);
	return len;
}

Test(decode, v4_syn_ours)
{
	cr_assert_eq(DECODE(v4_syn), 0);
	cr_assert_eq(seg.kind, SEG_TCP);
	cr_assert_eq(seg.src.family, AF_INET);
	cr_assert_eq(seg.src.b[3], 1);
	cr_assert_eq(seg.dst.b[3], 2);
	cr_assert_eq(seg.sport, 61000);
	cr_assert_eq(seg.dport, 80);
	cr_assert_eq(seg.seq, 2542258321u);
	cr_assert_eq(seg.flags, TCPF_SYN);
	cr_assert_eq(seg.win, 64240);
	cr_assert_eq(seg.opt.mss, 1460);
	cr_assert_eq(seg.opt.sack_ok, 1);
	cr_assert_eq(seg.opt.has_ts, 1);
	cr_assert_eq(seg.opt.ts_val, 1206413u);
	cr_assert_eq(seg.opt.wscale, 7);
	cr_assert_eq(seg.ts_ns, 42);
}

Test(decode, v4_synack)
{
	cr_assert_eq(DECODE(v4_synack), 0);
	cr_assert_eq(seg.flags, TCPF_SYN | TCPF_ACK);
	cr_assert_eq(seg.seq, 2322916584u);
	cr_assert_eq(seg.ack, 2542258322u);
	cr_assert_eq(seg.win, 65160);
	cr_assert_eq(seg.ttl, 64);
	cr_assert_eq(seg.opt.wscale, 10);
	cr_assert_eq(seg.payload_len, 0);
}

Test(decode, v4_rstack)
{
	cr_assert_eq(DECODE(v4_rstack), 0);
	cr_assert_eq(seg.flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(seg.sport, 81);
	cr_assert_eq(seg.ack, 4113662213u);
	cr_assert_eq(seg.opt.mss, 0);
	cr_assert_eq(seg.opt.wscale, -1);
}

Test(decode, v4_icmp_admin_prohibited)
{
	cr_assert_eq(DECODE(v4_icmp_admin), 0);
	cr_assert_eq(seg.kind, SEG_ICMP);
	cr_assert_eq(seg.icmp_type, 3);
	cr_assert_eq(seg.icmp_code, 13);
	cr_assert_eq(seg.quote.sport, 61000);
	cr_assert_eq(seg.quote.dport, 83);
	cr_assert_eq(seg.quote.seq, 237426307u);
	cr_assert_eq(seg.quote.src.b[3], 1);
	cr_assert_eq(seg.quote.dst.b[3], 2);
	cr_assert_eq(seg.src.b[3], 2);
}

Test(decode, v6_frames)
{
	cr_assert_eq(DECODE(v6_syn), 0);
	cr_assert_eq(seg.src.family, AF_INET6);
	cr_assert_eq(seg.seq, 971519268u);
	cr_assert_eq(seg.opt.mss, 1440);
	cr_assert_eq(DECODE(v6_synack), 0);
	cr_assert_eq(seg.ack, 971519269u);
	cr_assert_eq(seg.win, 64260);
	cr_assert_eq(seg.ttl, 64);
	cr_assert_eq(DECODE(v6_rstack), 0);
	cr_assert_eq(seg.flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(seg.ack, 3511940206u);
	cr_assert_eq(DECODE(v6_icmp_admin), 0);
	cr_assert_eq(seg.kind, SEG_ICMP);
	cr_assert_eq(seg.icmp_type, 1);
	cr_assert_eq(seg.icmp_code, 1);
	cr_assert_eq(seg.quote.seq, 3760947485u);
	cr_assert_eq(seg.quote.dport, 83);
	cr_assert_eq(seg.quote.src.family, AF_INET6);
}

/* Every prefix of every real frame: never a read past the end (ASan in CI);
 * refused while a header is cut, and once every header is in (a frame cut
 * by the snap length) the same fields as the whole frame, lengths from the
 * IP header. */
static void all_prefixes(const uint8_t *f, size_t len, size_t headers)
{
	struct segment whole;
	cr_assert_eq(decode_frame(LINK_EN10MB, f, len, 0, &whole), 0);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, f, n);
		int rc = decode_frame_wire(LINK_EN10MB, copy, n, len, 0, &seg);
		if (n < headers) {
			cr_assert_eq(rc, -1, "prefix %zu of %zu", n, len);
		} else {
			cr_assert_eq(rc, 0, "prefix %zu of %zu", n, len);
			cr_assert_eq(seg.seq, whole.seq);
			cr_assert_eq(seg.ack, whole.ack);
			cr_assert_eq(seg.quote.seq, whole.quote.seq);
			cr_assert_eq(seg.payload_len, whole.payload_len);
			cr_assert_leq(seg.payload_cap, seg.payload_len);
		}
		free(copy);
	}
}

Test(decode, truncated_frames)
{
	all_prefixes(v4_syn, sizeof(v4_syn), 14 + 20 + 40);
	all_prefixes(v4_synack, sizeof(v4_synack), 14 + 20 + 40);
	all_prefixes(v4_rstack, sizeof(v4_rstack), 14 + 20 + 20);
	all_prefixes(v4_icmp_admin, sizeof(v4_icmp_admin), 14 + 20 + 8 + 20 + 8);
	all_prefixes(v6_synack, sizeof(v6_synack), 14 + 40 + 40);
	all_prefixes(v6_icmp_admin, sizeof(v6_icmp_admin), 14 + 40 + 8 + 40 + 8);
}

/* Set the IPv4 total length of the frame in buf and its header checksum. */
static void set_ipv4_length(size_t ip, unsigned tot)
{
	buf[ip + 2] = (uint8_t)(tot >> 8);
	buf[ip + 3] = (uint8_t)tot;
	buf[ip + 10] = buf[ip + 11] = 0;
	uint32_t sum = 0;
	for (size_t i = 0; i < 20; i += 2)
		sum += (uint32_t)(buf[ip + i] << 8 | buf[ip + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	buf[ip + 10] = (uint8_t)(~sum >> 8);
	buf[ip + 11] = (uint8_t)~sum;
}

Test(decode, payload_length_from_the_ip_header)
{
	/* a SYN/ACK with 100 bytes of data of which the capture kept none */
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	set_ipv4_length(14, 60 + 100);
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, n + 100, 0, &seg), 0);
	cr_assert_eq(seg.payload_len, 100);
	cr_assert_eq(seg.payload_cap, 0);
}

Test(decode, ipv4_length_beyond_the_wire_is_a_lie)
{
	/* the whole frame was captured (caplen == len) but its IP header
	 * claims 100 more bytes: not cut by the snap length, malformed */
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	set_ipv4_length(14, 60 + 100);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1, "a forged SYN/ACK believed");
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, n, 0, &seg), -1);
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, n + 99, 0, &seg), -1);
	/* cut by the snap length: the wire held every byte it claims */
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, n + 100, 0, &seg), 0);
	cr_assert_eq(seg.payload_len, 100);
	cr_assert_eq(seg.payload_cap, 0);
}

Test(decode, data_segment_claiming_more_than_it_holds)
{
	/* an ACK carrying 10 bytes whose IP header claims 1000 of data */
	copy_frame(v4_rstack, sizeof(v4_rstack)); /* 14 + 20 + 20, and 2 of padding */
	size_t n = 14 + 40;
	buf[14 + 33] = TCPF_ACK | TCPF_PSH;
	memset(buf + n, 'x', 10);
	n += 10;
	set_ipv4_length(14, 40 + 1000);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1, "would be ACKed to 1001");
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, n, 0, &seg), -1);
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, 14 + 40 + 1000, 0, &seg), 0);
	cr_assert_eq(seg.payload_len, 1000);
	cr_assert_eq(seg.payload_cap, 10);
}

Test(decode, ipv6_payload_length_beyond_the_wire_is_a_lie)
{
	size_t n = copy_frame(v6_synack, sizeof(v6_synack));
	buf[14 + 5] = (uint8_t)(buf[14 + 5] + 100);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, n + 100, 0, &seg), 0);
	cr_assert_eq(seg.payload_len, 100);
	cr_assert_eq(seg.payload_cap, 0);
}

Test(decode, ethernet_padding_is_not_payload)
{
	/* the RST/ACK arrives with 2 bytes of Ethernet padding after its 40 */
	cr_assert_eq(DECODE(v4_rstack), 0);
	cr_assert_eq(seg.payload_len, 0);
	cr_assert_eq(seg.payload_cap, 0);
}

Test(decode, wire_shorter_than_captured_refused)
{
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, v4_synack, sizeof(v4_synack),
				       sizeof(v4_synack) - 1, 0, &seg), -1);
	cr_assert_eq(decode_frame_wire(LINK_RAW, v4_synack + 14, sizeof(v4_synack) - 14,
				       sizeof(v4_synack) - 15, 0, &seg), -1);
}

Test(decode, bad_ip_header_length)
{
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	buf[14] = 0x44; /* IHL 4: shorter than the fixed header */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	buf[14] = 0x4f; /* IHL 15: 60 bytes, past the TCP header */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, total_length_shorter_than_headers)
{
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	buf[14 + 2] = 0;
	buf[14 + 3] = 19; /* less than the IP header itself */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	buf[14 + 3] = 30; /* IP header and half a TCP header */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, tcp_data_offset_out_of_bounds)
{
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	buf[14 + 20 + 12] = 0x40; /* 16 bytes: below the minimum */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	buf[14 + 20 + 12] = 0xf0; /* 60 bytes: past the packet */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, fragments_refused)
{
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	buf[14 + 6] |= 0x20; /* more fragments */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, vlan_tagged)
{
	memcpy(buf, v4_synack, 12);
	buf[12] = 0x81;
	buf[13] = 0x00;
	buf[14] = 0x00;
	buf[15] = 0x05;
	memcpy(buf + 16, v4_synack + 12, sizeof(v4_synack) - 12);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, sizeof(v4_synack) + 4, 0, &seg), 0);
	cr_assert_eq(seg.ack, 2542258322u);
}

Test(decode, raw_and_sll_links)
{
	cr_assert_eq(decode_frame(LINK_RAW, v4_synack + 14, sizeof(v4_synack) - 14, 0, &seg), 0);
	cr_assert_eq(seg.ack, 2542258322u);
	memset(buf, 0, 16);
	buf[14] = 0x86;
	buf[15] = 0xdd;
	memcpy(buf + 16, v6_synack + 14, sizeof(v6_synack) - 14);
	cr_assert_eq(decode_frame(LINK_LINUX_SLL, buf, sizeof(v6_synack) + 2, 0, &seg), 0);
	cr_assert_eq(seg.ack, 971519269u);
	cr_assert_eq(decode_frame(999, v4_synack, sizeof(v4_synack), 0, &seg), -1);
}

Test(decode, not_ip_not_tcp)
{
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	buf[12] = 0x08;
	buf[13] = 0x06; /* ARP */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	n = copy_frame(v4_synack, sizeof(v4_synack));
	buf[14 + 9] = 17; /* UDP */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, icmp_echo_is_not_an_error)
{
	size_t n = copy_frame(v4_icmp_admin, sizeof(v4_icmp_admin));
	buf[14 + 20] = 0; /* echo reply */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, icmp_quote_of_udp_refused)
{
	size_t n = copy_frame(v4_icmp_admin, sizeof(v4_icmp_admin));
	buf[14 + 20 + 8 + 9] = 17;
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, options_zero_length_does_not_loop)
{
	struct tcp_info_opts o;
	const uint8_t opts[] = { 2, 4, 5, 0xb4, 8, 0, 1, 1 };
	decode_tcp_options(opts, sizeof(opts), &o);
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(o.has_ts, 0);
}

Test(decode, options_truncated)
{
	struct tcp_info_opts o;
	const uint8_t a[] = { 1, 1, 8, 10, 0, 0 };
	decode_tcp_options(a, sizeof(a), &o);
	cr_assert_eq(o.has_ts, 0);
	const uint8_t b[] = { 1, 2 };
	decode_tcp_options(b, sizeof(b), &o);
	cr_assert_eq(o.mss, 0);
	const uint8_t c[] = { 3, 3, 200 };
	decode_tcp_options(c, sizeof(c), &o);
	cr_assert_eq(o.wscale, 14, "window scale clamped to 14");
	const uint8_t d[] = { 2, 3, 5 };
	decode_tcp_options(d, sizeof(d), &o);
	cr_assert_eq(o.mss, 0, "an MSS option of the wrong length is ignored");
}

Test(decode, options_end_of_list)
{
	struct tcp_info_opts o;
	const uint8_t a[] = { 0, 2, 4, 5, 0xb4 };
	decode_tcp_options(a, sizeof(a), &o);
	cr_assert_eq(o.mss, 0);
}

Test(decode, flag_letters)
{
	char b[9];
	cr_assert_str_eq(tcp_flags_str(TCPF_SYN | TCPF_ACK, b), "SA");
	cr_assert_str_eq(tcp_flags_str(TCPF_RST | TCPF_ACK, b), "RA");
	cr_assert_str_eq(tcp_flags_str(TCPF_FIN | TCPF_PSH | TCPF_ACK, b), "FPA");
	cr_assert_str_eq(tcp_flags_str(0xff, b), "SRFPAUEC");
	cr_assert_str_eq(tcp_flags_str(0, b), "");
}

Test(decode, ipv6_extension_headers)
{
	/* insert an 8-byte destination-options header before TCP */
	size_t ip = 14, tcp = 14 + 40;
	memcpy(buf, v6_synack, tcp);
	buf[ip + 6] = 60;
	uint8_t ext[8] = { 6, 0, 1, 4, 0, 0, 0, 0 };
	memcpy(buf + tcp, ext, 8);
	memcpy(buf + tcp + 8, v6_synack + tcp, sizeof(v6_synack) - tcp);
	uint16_t plen = (uint16_t)((buf[ip + 4] << 8 | buf[ip + 5]) + 8);
	buf[ip + 4] = (uint8_t)(plen >> 8);
	buf[ip + 5] = (uint8_t)plen;
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, sizeof(v6_synack) + 8, 0, &seg), 0);
	cr_assert_eq(seg.ack, 971519269u);
	buf[tcp + 1] = 200; /* extension longer than the packet */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, sizeof(v6_synack) + 8, 0, &seg), -1);
}

Test(decode, ipv6_icmp_error_behind_hop_by_hop_and_routing)
{
	size_t n = frame_with_ext(v6_icmp_admin, sizeof(v6_icmp_admin), 0, ext_hbh_routing_icmp6,
				  sizeof(ext_hbh_routing_icmp6), buf);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), 0);
	cr_assert_eq(seg.kind, SEG_ICMP);
	cr_assert_eq(seg.icmp_type, 1);
	cr_assert_eq(seg.icmp_code, 1);
	cr_assert_eq(seg.quote.dport, 83);
}

Test(decode, ipv6_extension_chain_cut_or_endless)
{
	size_t n = frame_with_ext(v6_synack, sizeof(v6_synack), 60, ext_dstopts_tcp,
				  sizeof(ext_dstopts_tcp), buf);
	/* cut inside the extension header: every header is not there */
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, 14 + 44, n, 0, &seg), -1);
	/* nine destination-options headers in a row: more than we walk */
	uint8_t chain[9 * 8];
	for (size_t i = 0; i < 9; i++) {
		memcpy(chain + i * 8, ext_dstopts_tcp, 8);
		chain[i * 8] = i < 8 ? 60 : 6;
	}
	n = frame_with_ext(v6_synack, sizeof(v6_synack), 60, chain, sizeof(chain), buf);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	/* eight are walked */
	n = frame_with_ext(v6_synack, sizeof(v6_synack), 60, chain + 8, sizeof(chain) - 8, buf);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), 0);
	/* an extension header longer than the payload length says */
	n = frame_with_ext(v6_synack, sizeof(v6_synack), 60, ext_dstopts_tcp,
			   sizeof(ext_dstopts_tcp), buf);
	buf[14 + 5] = 4;
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, buf, n, n, 0, &seg), -1);
	/* a fragment header: never reassembled */
	n = frame_with_ext(v6_synack, sizeof(v6_synack), 44, ext_dstopts_tcp,
			   sizeof(ext_dstopts_tcp), buf);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, ipv6_atomic_fragment_is_the_whole_packet)
{
	/* offset 0, no more fragments (RFC 6946): the kernel takes it whole */
	const uint8_t atomic[] = { 6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78 };
	size_t n = frame_with_ext(v6_synack, sizeof(v6_synack), 44, atomic, sizeof(atomic), buf);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), 0);
	cr_assert_eq(seg.ack, 971519269u);
	buf[14 + 40 + 3] = 1; /* more fragments */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	buf[14 + 40 + 3] = 0x08; /* offset 1 */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
}

Test(decode, ipv4_header_checksum)
{
	/* a header the kernel drops: a TTL changed without its checksum */
	size_t n = copy_frame(v4_synack, sizeof(v4_synack));
	buf[14 + 8] = 1;
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), -1);
	/* the checksum right again: decoded (the TCP checksum does not cover the TTL) */
	set_ipv4_length(14, 60);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &seg), 0);
	cr_assert_eq(seg.ttl, 1);
}

/* ---- ICMP too-big: frag-needed and packet-too-big (--pmtu) ------------- */

static uint8_t big[V6_TOO_BIG_LEN];

Test(decode, v4_frag_needed_with_its_mtu)
{
	size_t n = pmtu_frame(big, v4_frag_needed_head, sizeof(v4_frag_needed_head),
			      V4_FRAG_NEEDED_LEN);
	cr_assert_eq(decode_frame(LINK_EN10MB, big, n, 42, &seg), 0);
	cr_assert_eq(seg.kind, SEG_ICMP);
	cr_assert_eq(seg.icmp_type, 3);
	cr_assert_eq(seg.icmp_code, 4);
	cr_assert_eq(seg.icmp_mtu, 1280);
	cr_assert(decode_is_too_big(&seg));
	cr_assert_eq(seg.src.b[3], 254); /* r1 */
	cr_assert_eq(seg.quote.len, 1500);
	cr_assert_eq(seg.quote.sport, 63684);
	cr_assert_eq(seg.quote.dport, 80);
	cr_assert_eq(seg.quote.seq, 0x02c991f0u);
	/* as the header-only capture holds it: the same, unsummed */
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, big, 256, n, 42, &seg), 0);
	cr_assert_eq(seg.icmp_mtu, 1280);
	cr_assert_eq(seg.quote.len, 1500);
	all_prefixes(big, n, 14 + 20 + 8 + 20 + 8);
}

Test(decode, v6_packet_too_big_with_its_mtu)
{
	size_t n = pmtu_frame(big, v6_too_big_head, sizeof(v6_too_big_head), V6_TOO_BIG_LEN);
	cr_assert_eq(decode_frame(LINK_EN10MB, big, n, 42, &seg), 0);
	cr_assert_eq(seg.kind, SEG_ICMP);
	cr_assert_eq(seg.icmp_type, 2);
	cr_assert_eq(seg.icmp_code, 0);
	cr_assert_eq(seg.icmp_mtu, 1280);
	cr_assert(decode_is_too_big(&seg));
	cr_assert_eq(seg.quote.len, 1500);
	cr_assert_eq(seg.quote.sport, 65009);
	cr_assert_eq(seg.quote.seq, 0xcc256b8eu);
	cr_assert_eq(seg.quote.src.family, AF_INET6);
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, big, 256, n, 42, &seg), 0);
	cr_assert_eq(seg.icmp_mtu, 1280);
	all_prefixes(big, n, 14 + 40 + 8 + 40 + 8);
}

Test(decode, too_big_malformed)
{
	/* a changed MTU breaks the ICMP checksum of a whole frame */
	size_t n = pmtu_frame(big, v4_frag_needed_head, sizeof(v4_frag_needed_head),
			      V4_FRAG_NEEDED_LEN);
	big[14 + 20 + 6] = 0x04;
	cr_assert_eq(decode_frame(LINK_EN10MB, big, n, 0, &seg), -1);
	/* cut by the snap length (unsummed): RFC 1191's older routers send 0 */
	big[14 + 20 + 6] = big[14 + 20 + 7] = 0;
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, big, 256, n, 0, &seg), 0);
	cr_assert_eq(seg.icmp_mtu, 0);
	cr_assert(decode_is_too_big(&seg));
	/* ICMP type 2 is no error in IPv4 */
	big[14 + 20] = 2;
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, big, 256, n, 0, &seg), -1);
	/* an ICMPv6 packet-too-big with a bad checksum, one quoting UDP */
	n = pmtu_frame(big, v6_too_big_head, sizeof(v6_too_big_head), V6_TOO_BIG_LEN);
	big[14 + 40 + 7] ^= 1;
	cr_assert_eq(decode_frame(LINK_EN10MB, big, n, 0, &seg), -1);
	big[14 + 40 + 8 + 6] = 17;
	cr_assert_eq(decode_frame_wire(LINK_EN10MB, big, 256, n, 0, &seg), -1);
	/* another unreachable has no MTU */
	cr_assert_eq(DECODE(v4_icmp_admin), 0);
	cr_assert_eq(seg.icmp_mtu, 0);
	cr_assert(!decode_is_too_big(&seg));
	cr_assert_eq(DECODE(v6_icmp_admin), 0);
	cr_assert(!decode_is_too_big(&seg));
	cr_assert_eq(DECODE(v4_synack), 0);
	cr_assert(!decode_is_too_big(&seg));
}

Test(decode, icmp_time_exceeded_by_family)
{
	cr_assert(icmp_is_time_exceeded(AF_INET, 11));
	cr_assert(icmp_is_time_exceeded(AF_INET6, 3));
	cr_assert_not(icmp_is_time_exceeded(AF_INET, 3), "ICMP's 3 is unreachable");
	cr_assert_not(icmp_is_time_exceeded(AF_INET6, 11));
	cr_assert_not(icmp_is_time_exceeded(AF_INET6, ICMP6_UNREACH));
}
