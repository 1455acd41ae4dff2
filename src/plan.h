/* plan.h - what a run is to do, decided at set-up and read-only after:
 * the configuration, the targets and their routes, the order, and the
 * policy that follows from them (probes per target:port, retries, the
 * timeout, health check or scan). The flow scheduler and the engine read
 * it; nothing changes it once the first SYN has left. */
#ifndef TCPSHAKE_PLAN_H
#define TCPSHAKE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "permute.h"
#include "route.h"
#include "tset.h"

/* Up to this many target:ports a run is a health check: every probe waits
 * -W and sends its SYN again on RFC 6298's schedule, as the kernel's
 * connect() would. More is a scan: adaptive timeouts per target block, and
 * silent target:ports sent again (--retries) with backoff. */
#define SMALL_RUN 64

/* The default -W: a health check waits 3 s, so that one lost SYN or SYN/ACK
 * is recovered by the SYN sent again at 1 s (Linux sends its SYN again at
 * 1 s and 3 s); a scan 1 s at most, its silent target:ports being sent
 * again instead. */
#define TIMEOUT_SINGLE_NS (3 * INT64_C(1000000000))
#define TIMEOUT_FLEET_NS INT64_C(1000000000)
/* A Nagios check waits as long as check_tcp does: 10 s. */
#define TIMEOUT_NAGIOS_NS (10 * INT64_C(1000000000))

struct plan {
	const struct config *cfg;
	struct tset targets;
	struct route *routes;     /* one per target block */
	struct perm perm;         /* the order of the target x port space */
	uint64_t space;           /* targets x ports */
	uint64_t count;           /* probes per target:port; 0: until interrupted */
	int retries;
	int64_t timeout_ns;       /* -W, or its default for this kind of run */
	bool fleet;               /* more than one target:port */
	bool adaptive;            /* more than SMALL_RUN: adaptive timeouts, retries */
};

#endif
