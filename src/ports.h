/* ports.h - the source ports of a run, each held by a bound socket so the
 * kernel gives it to no other process while we live (see ports.c). */
#ifndef TCPSHAKE_PORTS_H
#define TCPSHAKE_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A run to one target:port reuses its ports in turn; this many let a probe
 * a second linger (answering a late or repeated segment as a real endpoint
 * would) for 16 probes before its port is taken again. */
#define PORTS_SINGLE 16

struct port_pool {
	uint16_t *port;   /* held, ascending */
	int *fd;          /* the socket holding each */
	size_t n;
};

struct port_ask {
	uint16_t lo, hi;  /* the range, inclusive */
	size_t start;     /* offset of the first port tried (keyed, per run) */
	size_t want;
};

/* Hold up to want ports of the range; -1 with a reason when none is free. */
int port_pool_hold(struct port_pool *pp, const struct port_ask *ask, char *err, size_t errlen);
void port_pool_release(struct port_pool *pp);
/* Keep only the ports of the first max_runs runs of consecutive ports. */
void port_pool_trim(struct port_pool *pp, size_t max_runs);

/* Consecutive ports as runs lo-hi. Returns the number of runs, or max + 1
 * when they do not fit. Pure. */
struct port_run {
	uint16_t lo, hi;
};
size_t port_runs(const uint16_t *sorted, size_t n, struct port_run *runs, size_t max);

/* How many ports a run asks for: a fleet half the range (another run may
 * want the rest), at most what it can have in flight; one target:port
 * PORTS_SINGLE, or its count if smaller. Pure. */
size_t ports_wanted(uint64_t space, uint64_t count, bool fleet, size_t range);

#endif
