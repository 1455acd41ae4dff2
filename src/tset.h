/* tset.h - the set of targets as blocks: CIDR prefixes, ranges, single
 * addresses and resolved names, minus excluded blocks. Memory grows with
 * the lines of input, never with the number of addresses they cover: the
 * i-th target is computed, not stored. */
#ifndef TCPSHAKE_TSET_H
#define TCPSHAKE_TSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

typedef unsigned __int128 u128;

#define TSET_DEFAULT_MAX (UINT64_C(1) << 24)

struct tblock {
	int family;
	u128 base;        /* the first address as a number (IPv4: the low 32 bits) */
	uint64_t count;   /* addresses in the block */
	char *name;       /* the target as given when it is a name; else NULL */
};

struct interval {
	u128 lo, hi;      /* inclusive */
};

struct tset {
	struct tblock *v;
	size_t n, cap;
	uint64_t *cum;    /* cum[k]: targets in blocks before k (after tset_finish) */
	uint64_t total;
	struct interval *excl[2]; /* [0] IPv4, [1] IPv6: sorted, merged */
	size_t nexcl[2], capexcl[2];
	uint64_t max;     /* --max-targets */
	int family;       /* AF_UNSPEC, or -4/-6 */
	bool numeric;     /* -n */
	bool all_addresses; /* --all-addresses: every A/AAAA record of a name */
	uint64_t unresolved;
	char *first_unresolved;
};

void tset_init(struct tset *s, int family, bool numeric, uint64_t max);
void tset_free(struct tset *s);

/* One target: a name, an address, a CIDR block (198.18.0.0/16,
 * 2001:db8::/120) or a range (198.18.0.1-200, 198.18.0.1-198.18.1.9).
 * 0 on success; -1 with a reason in err for a malformed one; 1 when a name
 * did not resolve (counted, reason in err: the run goes on without it). */
int tset_add(struct tset *s, const char *spec, char *err, size_t errlen);

/* The same syntax, as a block to leave out. */
int tset_exclude(struct tset *s, const char *spec, char *err, size_t errlen);

/* A list separated by commas, for --exclude. */
int tset_exclude_list(struct tset *s, const char *list, char *err, size_t errlen);

/* A file of targets (exclude: of excludes), one per line, # comments;
 * "-" is standard input. -1 with "FILE:LINE: why" in err. */
int tset_add_file(struct tset *s, const char *path, bool exclude, char *err, size_t errlen);

/* Sums the blocks and checks the bound; -1 with a reason in err. */
int tset_finish(struct tset *s, char *err, size_t errlen);

/* The i-th target (i < total): its address, its name when it was given
 * as one (else NULL), and the index of its block. */
void tset_at(const struct tset *s, uint64_t i, struct addr *a, const char **name, size_t *block);

/* A numeric block of any size (an address, a CIDR block, a range) as an
 * interval, with its first address: --serve's allow list, where a /64 is
 * common. 0, or -1 with a reason (a name is refused). Pure. */
struct tspan {
	struct addr first;
	struct interval iv;
};
int tset_span(const char *spec, int family, struct tspan *out, char *err, size_t errlen);
/* Is a in one of the n spans? */
bool tspan_has(const struct tspan *v, size_t n, const struct addr *a);

/* Is this address excluded? */
bool tset_excluded(const struct tset *s, const struct addr *a);

/* Parse a block spec without resolving names: 0, or -1 when it is not a
 * numeric block (a name), or -2 with a reason in err when malformed. Pure. */
int tblock_parse(const char *spec, int family, struct tblock *b, char *err, size_t errlen);

#endif
