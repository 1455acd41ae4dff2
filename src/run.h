/* run.h - the run context the engine and the flow scheduler share.
 * Everything a run knows lives here and is passed explicitly. */
#ifndef TCPSHAKE_RUN_H
#define TCPSHAKE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "cookie.h"
#include "craft.h"
#include "guard.h"
#include "match.h"
#include "options.h"
#include "output.h"
#include "permute.h"
#include "ports.h"
#include "probe.h"
#include "route.h"
#include "sched.h"
#include "stats.h"
#include "tset.h"


/* One target:port being probed: alive from its first probe to its last. */
struct flow {
	bool live;
	struct addr dst;
	uint16_t port;
	const struct route *rt;
	uint8_t *req;             /* the HTTP request, with --http */
	size_t req_len;
	uint32_t next_seq;        /* the next probe number to start */
	uint32_t done;            /* probe numbers finished */
	uint32_t busy;            /* probes in flight or waiting to be sent */
	bool ever_open;
	struct flow_summary sum;
	struct perflag_answer pf[PERFLAG_KINDS]; /* -M flags: this round's answers */
	uint32_t pf_done;
	bool verdicts_bad;        /* -M flags: a round found a filter or silence */
	bool answered;            /* some probe got a TCP answer or an ICMP error */
};

/* A SYN waiting for the pacer and a free source port. */
struct send_req {
	uint32_t flow;
	uint32_t seq;
	uint8_t tries;            /* sends of this probe number so far */
};

struct run {
	const struct config *cfg;
	struct diag *diag;
	struct probe_params pp;
	struct guard guard;
	struct cookie_key key;
	/* what to probe, and in which order */
	struct tset targets;
	struct route *routes;     /* one per target block */
	struct perm perm;
	uint64_t space;           /* targets x ports */
	uint64_t pos;             /* the next position in the permuted order */
	uint64_t count;           /* probes per target:port; 0: until interrupted */
	int retries;
	int64_t timeout_ns;       /* -W, or its default for this kind of run */
	bool fleet;               /* more than one target:port */
	bool adaptive;            /* more than SMALL_RUN: adaptive timeouts, retries */
	uint64_t excluded;
	/* flows alive, and the SYNs waiting to go */
	struct flow *flows;
	uint32_t *free_flows;
	size_t nflows, free_nflows, live_flows;
	struct send_req *queue;   /* FIFO ring */
	size_t q_head, q_n, q_cap;
	struct pacer pacer;
	int64_t pump_at;          /* the one pending EV_PUMP, or 0 */
	struct rto *rtos;         /* a fleet's adaptive timeout, one per target block */
	bool auto_rate;           /* a fleet without --rate: paced by what the capture keeps up with */
	uint64_t drops_seen;      /* capture drops at the last look */
	/* sockets and capture */
	struct addr *hosts;       /* target addresses for the filter, when few */
	size_t nhosts;
	struct capture caps[CAPTURE_MAX];
	size_t ncaps;
	struct crafter craft;
	struct port_pool pool;    /* the source ports we hold; slot i uses pool.port[i] */
	struct port_table ports;
	struct probe *probes;     /* one slot per port held */
	uint32_t *free_slots;     /* FIFO ring: a port is reused as late as possible, and
				   * its finished probe lingers until then */
	size_t free_head, free_n, nports;
	struct addr srcs[GUARD_MAX_ADDRS + 1]; /* our source addresses */
	size_t nsrcs;
	bool guarded;             /* full mode: we answer for our ports, the kernel cannot */
	bool loss_seen;           /* something was sent again: linger at the end */
	int wake_fd[2];           /* the signal handler's self-pipe */
	struct sched sched;
	struct output out;
	struct output_file file;  /* -o */
	/* counters */
	size_t live;              /* probes in flight */
	uint64_t sent, received, retried;
	uint64_t flows_done;
	uint64_t flows_undetermined; /* flag scans: silent target:ports; -M flags: filtered */
	uint64_t flows_by[OUTCOME_MAX]; /* target:ports done, by outcome */
	int64_t start_mono, start_wall;
	int fatal;                /* an exit code once a system error stops the run */
	int write_errno;          /* the report could not be written: stop */
	bool progress;            /* a progress line on stderr */
};

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

/* flows.c: the flow scheduler */
int flows_setup(struct run *r);
void flows_pump(struct run *r, int64_t now);
void flows_wake(struct run *r, int64_t now);
/* The kind of a flow's probe number seq (-M flags: five kinds in turn). */
const struct probe_kind *flows_kind(const struct run *r, uint32_t seq);
void flows_send_due(struct run *r, uint32_t flow, int64_t now);
void flows_probe_done(struct run *r, struct probe *p, int64_t now);
bool flows_finished(const struct run *r);
void flows_report_live(struct run *r);
void flows_progress(struct run *r, int64_t now, bool last);

/* engine.c: what the scheduler asks of the engine */
void engine_start_probe(struct run *r, const struct send_req *q, int64_t now);
void engine_schedule(struct run *r, struct event e);
int64_t wall_ns(void);

#endif
