/* permute.h - a keyed pseudo-random permutation of [0, n): the order in
 * which the target x port index space is probed, computed one index at a
 * time - no array of all targets. A balanced Feistel network over the
 * smallest even power of two >= n, its round function SipHash under the
 * key, and cycle walking to stay below n. */
#ifndef TCPSHAKE_PERMUTE_H
#define TCPSHAKE_PERMUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "cookie.h"

struct perm {
	uint64_t n;
	unsigned half;        /* bits in each half */
	uint64_t mask;        /* (1 << half) - 1 */
	struct cookie_key key;
	bool identity;        /* --no-shuffle */
};

void perm_init(struct perm *p, uint64_t n, const struct cookie_key *key, bool identity);

/* The position-th index of the order; a bijection on [0, n). */
uint64_t perm_at(const struct perm *p, uint64_t position);

/* The key for --seed N: the same seed, the same order, on any machine. */
void perm_key_from_seed(struct cookie_key *key, uint64_t seed);

#endif
