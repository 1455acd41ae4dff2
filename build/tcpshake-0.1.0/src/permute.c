/* permute.c - Feistel permutation with cycle walking. */
#include "permute.h"

#include <sodium.h>
#include <string.h>

#define ROUNDS 4

void perm_init(struct perm *p, uint64_t n, const struct cookie_key *key, bool identity)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->identity = identity;
	p->key = *key;
	unsigned bits = 2;
	while (bits < 64 && (UINT64_C(1) << bits) < n)
		bits += 2;
	p->half = bits / 2;
	p->mask = (UINT64_C(1) << p->half) - 1;
}

static uint64_t round_fn(const struct perm *p, unsigned r, uint64_t x)
{
	uint8_t msg[9], out[crypto_shorthash_siphash24_BYTES];
	uint64_t v;
	msg[0] = (uint8_t)r;
	memcpy(msg + 1, &x, 8);
	crypto_shorthash_siphash24(out, msg, sizeof(msg), p->key.k);
	memcpy(&v, out, sizeof(v));
	return v & p->mask;
}

static uint64_t feistel(const struct perm *p, uint64_t x)
{
	uint64_t l = x >> p->half, r = x & p->mask;
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint64_t t = l ^ round_fn(p, i, r);
		l = r;
		r = t;
	}
	return l << p->half | r;
}

uint64_t perm_at(const struct perm *p, uint64_t position)
{
	if (p->identity || p->n <= 1)
		return position;
	uint64_t x = position;
	do
		x = feistel(p, x); /* the domain is < 4n: a few steps on average */
	while (x >= p->n);
	return x;
}

void perm_key_from_seed(struct cookie_key *key, uint64_t seed)
{
	static const uint8_t label[COOKIE_KEY_LEN] = "tcpshake-order";
	uint8_t msg[8], out[crypto_shorthash_siphash24_BYTES];
	for (int i = 0; i < 8; i++)
		msg[i] = (uint8_t)(seed >> (8 * i));
	for (int half = 0; half < 2; half++) {
		uint8_t k[COOKIE_KEY_LEN];
		memcpy(k, label, sizeof(k));
		k[15] = (uint8_t)half;
		crypto_shorthash_siphash24(out, msg, sizeof(msg), k);
		memcpy(key->k + 8 * half, out, 8);
	}
}
