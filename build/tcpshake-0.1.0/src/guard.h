/* guard.h - the kernel-RST guard.
 *
 * The kernel knows nothing of our crafted connections and answers every
 * SYN/ACK, data segment or FIN of theirs with a RST. While a full-mode run
 * lives, an nftables table drops those RSTs: family inet, named after our
 * pid, with the owner flag, so it exists only as long as our netlink socket
 * - it vanishes when the process exits, is killed or crashes. Its one chain
 * drops only RSTs leaving from our source-port range and our addresses that
 * do not carry our mark (every segment we send is marked with SO_MARK); it
 * touches no other table or rule. */
#ifndef TCPSHAKE_GUARD_H
#define TCPSHAKE_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define GUARD_MARK UINT32_C(0x74637368) /* "tcsh" */
#define GUARD_MAX_ADDRS 64

struct nft_ctx;

struct guard {
	struct nft_ctx *nft;
	char table[48];
};

struct guard_spec {
	long pid;
	uint16_t port_lo, port_hi;
	const struct addr *srcs; /* our source addresses; more than GUARD_MAX_ADDRS: ports only */
	size_t nsrcs;
	uint32_t mark;
};

/* The ruleset, as nft text. -1 if it does not fit. Pure. */
int guard_ruleset(const struct guard_spec *s, char *buf, size_t len);

/* Install it; -1 with a reason in err. */
int guard_install(struct guard *g, const struct guard_spec *s, char *err, size_t errlen);

/* Remove it (closing our netlink socket is what removes an owner table). */
void guard_remove(struct guard *g);

#endif
