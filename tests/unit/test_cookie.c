/* The keyed ISN: stable under one key, different for any other input. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "cookie.h"

static struct cookie_key key;
static struct addr a, b;

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	for (int i = 0; i < COOKIE_KEY_LEN; i++)
		key.k[i] = (uint8_t)i;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.family = b.family = AF_INET;
	a.b[0] = 198, a.b[1] = 18, a.b[3] = 1;
	b.b[0] = 198, b.b[1] = 18, b.b[3] = 2;
}

TestSuite(cookie, .init = setup);

Test(cookie, siphash_reference_vector)
{
	/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e */
	uint8_t msg[15], out[8];
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	crypto_shorthash_siphash24(out, msg, sizeof(msg), key.k);
	const uint8_t want[8] = { 0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1 };
	cr_assert_arr_eq(out, want, 8);
}

/* cookie_isn's own golden vectors, computed outside this code base by a
 * SipHash-2-4 written from the paper (checked against its appendix A
 * vector) over the documented message: family byte, source and
 * destination in 16 bytes each, ports and probe number big-endian; the
 * ISN is the first four bytes of the hash as a host (little-endian) word.
 * Any change to the message layout, the key use or the byte order shows. */
Test(cookie, golden_isn)
{
	cr_assert_eq(cookie_isn(&key, &a, &b, 61000, 80, 0), 0x18453324u);
	cr_assert_eq(cookie_isn(&key, &a, &b, 65535, 443, 0xffffffffu), 0xe4959b58u);
	struct addr a6 = { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	struct addr b6 = { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };
	cr_assert_eq(cookie_isn(&key, &a6, &b6, 61000, 80, 7), 0xf5a15b91u);
}

Test(cookie, every_field_counts)
{
	uint32_t base = cookie_isn(&key, &a, &b, 61000, 80, 0);
	cr_assert_neq(base, cookie_isn(&key, &b, &a, 61000, 80, 0));
	cr_assert_neq(base, cookie_isn(&key, &a, &b, 61001, 80, 0));
	cr_assert_neq(base, cookie_isn(&key, &a, &b, 61000, 81, 0));
	cr_assert_neq(base, cookie_isn(&key, &a, &b, 61000, 80, 1));
	struct cookie_key other = key;
	other.k[0] ^= 1;
	cr_assert_neq(base, cookie_isn(&other, &a, &b, 61000, 80, 0));
	struct addr a6 = a;
	a6.family = AF_INET6;
	cr_assert_neq(base, cookie_isn(&key, &a6, &b, 61000, 80, 0));
}

Test(cookie, random_keys_differ)
{
	struct cookie_key k1, k2;
	cr_assert_eq(cookie_key_random(&k1), 0);
	cr_assert_eq(cookie_key_random(&k2), 0);
	cr_assert(memcmp(k1.k, k2.k, sizeof(k1.k)) != 0);
}
