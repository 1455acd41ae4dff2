/* cookie.h - the keyed ISN: SipHash-2-4 of the 4-tuple and probe number
 * under a per-run key from getrandom(). A reply is ours only if it
 * acknowledges exactly this ISN + 1, so replies cannot be forged blind and
 * two runs never take each other's answers. */
#ifndef TCPSHAKE_COOKIE_H
#define TCPSHAKE_COOKIE_H

#include <stdint.h>

#include "util.h"

#define COOKIE_KEY_LEN 16

struct cookie_key {
	uint8_t k[COOKIE_KEY_LEN];
};

/* Fill the key from getrandom(); -1 with errno set on failure. */
int cookie_key_random(struct cookie_key *key);

uint32_t cookie_isn(const struct cookie_key *key, const struct addr *src,
		    const struct addr *dst, uint16_t sport, uint16_t dport, uint32_t probe_no);

#endif
