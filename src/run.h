/* run.h - the run context, passed explicitly, in three parts by who owns
 * what: the plan (read-only once set up: plan.h), the flow scheduler's
 * state (flows.h, changed only through its functions), and the engine's:
 * sockets, capture, ports and probe slots, the deadline queue, and the
 * report with its counters. */
#ifndef TCPSHAKE_RUN_H
#define TCPSHAKE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "cookie.h"
#include "craft.h"
#include "flows.h"
#include "guard.h"
#include "match.h"
#include "options.h"
#include "output.h"
#include "plan.h"
#include "ports.h"
#include "probe.h"
#include "sched.h"
#include "tls.h"
#include "trace.h"

/* --trace, --trace-on-fail: a target:port to trace once the probes are done
 * (its flow is gone by then). */
struct trace_job {
	struct addr dst;
	const struct route *rt;
	uint16_t port;
	int64_t rtt_ns;           /* the probes' largest RTT to it; 0: none */
	char target[256];         /* as given */
};

/* The report: where it goes and what it has counted. */
struct report {
	struct output out;
	struct output_file file;  /* -o */
	FILE *silent_f;           /* -qq: /dev/null */
	uint64_t sent, received;
	uint64_t flows_done;
	uint64_t flows_undetermined; /* flag scans: silent target:ports; -M flags: filtered */
	uint64_t flows_by[OUTCOME_MAX]; /* target:ports done, by outcome */
	uint64_t flows_unexpected;  /* --expect-state: not in their named state */
	uint64_t flows_check_failed; /* open, but a check on the connection failed (--tls,
				      * --starttls, --expect) */
	int64_t start_mono, start_wall;
	int write_errno;          /* the report could not be written: stop */
	bool progress;            /* a progress line on stderr */
	bool progress_shown;      /* it is on the terminal now: clear it before a result */
};

struct run {
	struct plan plan;         /* read-only once set up */
	struct flows flows;       /* the flow scheduler's */
	struct report rep;
	/* the engine's */
	const struct config *cfg; /* = plan.cfg */
	struct diag *diag;
	struct probe_params pp;
	struct guard guard;
	struct tls_ctx tls;       /* --tls: the trust store, loaded once */
	struct app_params app;    /* --expect, --send, --banner, --starttls */
	struct cookie_key key;
	int64_t pump_at;          /* the one pending EV_PUMP, or 0 */
	uint64_t drops_seen;      /* capture drops at the last look */
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
	size_t live;              /* probes in flight */
	uint64_t retried_syns;    /* SYNs sent again within their probe */
	int fatal;                /* an exit code once a system error stops the run */
	bool deadline_hit;        /* --deadline passed: the run ends, as after a signal */
	struct serve *serve;      /* --serve: the HTTP side (serve.c); NULL: one run */
	struct probe_params *slot_pp; /* --serve: each probe slot's parameters, for as long
				       * as its probe lingers (a request's go with it) */
	struct trace_job *trace_jobs; /* --trace: TRACE_MAX_FLOWS at most */
	size_t ntrace_jobs;
	uint64_t traces_skipped;  /* --trace-on-fail: beyond TRACE_MAX_FLOWS */
	size_t next_trace;        /* trace_jobs[next_trace] runs next (or now) */
	struct trace *trace;      /* the trace running, offered every captured segment */
	int64_t trace_at;         /* its one pending EV_TRACE, or 0 */
	int64_t trace_end;        /* monotonic: it ends then at the latest */
};

/* --serve: a request's target:port joins the run (flows_add) and its probe
 * starts as soon as a port is free; the flow's slot, or -1 when full. */
int engine_submit(struct run *r, const struct flow_spec *sp);

/* report.c: what the engine tells the user */
void report_probe(struct run *r, const struct probe *p);
void report_perflag(struct run *r, struct flow *f);
void report_flow(struct run *r, struct flow *f);
void report_live(struct run *r);
void report_trace(struct run *r, const struct trace_job *j, const struct trace *t);
void report_progress(struct run *r, int64_t now, bool last);

#endif
