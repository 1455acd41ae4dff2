/* checksum.h - the Internet checksum (RFC 1071) of captured segments. */
#ifndef TCPSHAKE_CHECKSUM_H
#define TCPSHAKE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Add bytes to a running one's-complement sum (16-bit big-endian words;
 * an odd last byte is padded with zero). */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t csum_fold(uint32_t sum);

/* The IPv4 or IPv6 pseudo-header sum for a layer-4 segment of len bytes. */
uint32_t csum_pseudo(const struct addr *src, const struct addr *dst, uint8_t proto,
		     size_t len);

/* Is the checksum of this whole segment right? Also yes when its checksum
 * field holds just the folded pseudo-header sum: a segment whose sender
 * left the checksum to the network card (CHECKSUM_PARTIAL), as captures on
 * veth and loopback show them. with_pseudo: 0 for ICMPv4, whose checksum
 * covers the message alone. field_off: where the checksum field is. */
int csum_segment_ok(const struct addr *src, const struct addr *dst, uint8_t proto,
		    const uint8_t *seg, size_t len, size_t field_off, int with_pseudo);

#endif
