/* The Internet checksum, and which captured segments pass it. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "checksum.h"
#include "decode.h"
#include "frames.h"

Test(checksum, rfc1071_example)
{
	/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	cr_assert_eq(csum_fold(csum_add(0, b, sizeof(b))), 0xddf2);
}

Test(checksum, odd_length_pads_with_zero)
{
	const uint8_t b[] = { 0x12, 0x34, 0x56 };
	cr_assert_eq(csum_fold(csum_add(0, b, 3)), 0x1234 + 0x5600);
}

Test(checksum, fold_carries)
{
	cr_assert_eq(csum_fold(0x1ffff), 0x0001);
	cr_assert_eq(csum_fold(0x2fffd), 0xffff);
}

static uint8_t buf[256];

/* The captured frames: full checksums (ours, ICMP, the IPv4 RST/ACK) and
 * offloaded ones (the peer's SYN/ACK on veth, whose field holds only the
 * pseudo-header sum) both decode; one flipped bit in what the checksum
 * covers does not - for an offloaded segment that is the field itself. */
static void flip_and_refuse(const uint8_t *f, size_t n, size_t at)
{
	struct segment s;
	memcpy(buf, f, n);
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &s), 0);
	buf[at] ^= 0x40;
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, n, 0, &s), -1, "bit flipped at %zu", at);
}

Test(checksum, corrupt_segments_refused)
{
	flip_and_refuse(v4_syn, sizeof(v4_syn), 14 + 20 + 14);          /* window */
	flip_and_refuse(v4_synack, sizeof(v4_synack), 14 + 20 + 16);    /* offloaded: field */
	flip_and_refuse(v4_rstack, sizeof(v4_rstack), 14 + 20 + 8);     /* ack */
	flip_and_refuse(v4_icmp_admin, sizeof(v4_icmp_admin), 14 + 20 + 8 + 24);
	flip_and_refuse(v6_synack, sizeof(v6_synack), 14 + 40 + 17);
	flip_and_refuse(v6_rstack, sizeof(v6_rstack), 14 + 40 + 16);
	flip_and_refuse(v6_icmp_admin, sizeof(v6_icmp_admin), 14 + 40 + 8 + 44);
}

Test(checksum, pseudo_header_counts_addresses)
{
	struct segment s;
	memcpy(buf, v4_syn, sizeof(v4_syn));
	buf[14 + 12] ^= 1; /* another source address: the IP header's own sum is not checked */
	cr_assert_eq(decode_frame(LINK_EN10MB, buf, sizeof(v4_syn), 0, &s), -1);
}
