/* cookie.c - SipHash-2-4 (libsodium's crypto_shorthash) over the 4-tuple. */
#include "cookie.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/random.h>

int cookie_key_random(struct cookie_key *key)
{
	size_t got = 0;
	while (got < sizeof(key->k)) {
		ssize_t n = getrandom(key->k + got, sizeof(key->k) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

uint32_t cookie_isn(const struct cookie_key *key, const struct addr *src,
		    const struct addr *dst, uint16_t sport, uint16_t dport, uint32_t probe_no)
{
	uint8_t msg[1 + 16 + 16 + 2 + 2 + 4];
	size_t n = 0;
	msg[n++] = (uint8_t)src->family;
	memcpy(msg + n, src->b, 16);
	n += 16;
	memcpy(msg + n, dst->b, 16);
	n += 16;
	msg[n++] = (uint8_t)(sport >> 8);
	msg[n++] = (uint8_t)sport;
	msg[n++] = (uint8_t)(dport >> 8);
	msg[n++] = (uint8_t)dport;
	msg[n++] = (uint8_t)(probe_no >> 24);
	msg[n++] = (uint8_t)(probe_no >> 16);
	msg[n++] = (uint8_t)(probe_no >> 8);
	msg[n++] = (uint8_t)probe_no;
	uint8_t out[crypto_shorthash_siphash24_BYTES];
	crypto_shorthash_siphash24(out, msg, n, key->k);
	uint32_t isn;
	memcpy(&isn, out, sizeof(isn));
	return isn;
}
