/* checksum.c - one's-complement sums over segments and pseudo-headers. */
#include "checksum.h"

#include <sys/socket.h>

uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t csum_pseudo(const struct addr *src, const struct addr *dst, uint8_t proto,
		     size_t len)
{
	uint32_t sum = csum_add(0, src->b, addr_len(src));
	sum = csum_add(sum, dst->b, addr_len(dst));
	sum += proto;
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	return sum;
}

int csum_segment_ok(const struct addr *src, const struct addr *dst, uint8_t proto,
		    const uint8_t *seg, size_t len, size_t field_off, int with_pseudo)
{
	if (len < field_off + 2)
		return 0;
	uint32_t pseudo = with_pseudo ? csum_pseudo(src, dst, proto, len) : 0;
	if (csum_fold(csum_add(pseudo, seg, len)) == 0xffff)
		return 1;
	uint16_t field = (uint16_t)(seg[field_off] << 8 | seg[field_off + 1]);
	return with_pseudo && field == csum_fold(pseudo);
}
