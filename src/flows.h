/* flows.h - the flow scheduler, pure: which target:port comes next (a
 * keyed permutation of the target x port space, sharded, minus excludes),
 * when its probes may go (the pacer, a free source port, the interval),
 * sends again of silent probes, and when a target:port is done. It does no
 * I/O: the engine asks it for the next step and carries it out, and tells
 * it when a probe has finished; reporting is the engine's too. State is
 * kept only for the target:ports in flight, so memory does not grow with
 * the target count. */
#ifndef TCPSHAKE_FLOWS_H
#define TCPSHAKE_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kind.h"
#include "output.h"
#include "plan.h"
#include "probe.h"
#include "sched.h"
#include "stats.h"

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
	bool answered;            /* some probe got a TCP answer or an ICMP error */
	struct flow_summary sum;
	struct perflag_answer pf[PERFLAG_KINDS]; /* -M flags: this round's answers */
	uint32_t pf_done;
	bool verdicts_bad;        /* -M flags: a round found a filter or silence */
	bool stop;                /* --wait: it answered open, no more probes */
	double *rtts;             /* -C: each probe's RTT in ms, by probe number; <0 none */
	/* state changes and outages, probe after probe (as they finish) */
	enum outcome last;        /* the last probe's outcome; OUTCOME_NONE before */
	enum outcome was;         /* the last probe changed the state from this; NONE */
	/* --serve: a flow a request opened, with its own kind and parameters
	 * (NULL: the run's) and the request waiting for it */
	const struct probe_kind *kind;
	const struct probe_params *pp;
	void *owner;
};

/* A probe waiting for the pacer and a free source port. */
struct send_req {
	uint32_t flow;
	uint32_t seq;
	uint8_t tries;            /* sends of this probe number so far */
};

struct flows {
	const struct plan *plan;
	struct flow *v;
	uint32_t *free;           /* free flow slots */
	size_t n, nfree, live;
	struct send_req *queue;   /* FIFO ring */
	size_t q_head, q_n, q_cap;
	uint64_t pos;             /* the next position in the permuted order */
	struct rto *rtos;         /* a scan's adaptive timeout, one per target block */
	struct pacer pacer;
	bool auto_rate;           /* a fleet without --rate: paced by the capture */
	uint64_t excluded, retried;
	uint32_t serial;          /* --serve: each request's probe number, so a port
				   * used again for the same target:port gets a new ISN */
	bool nomem;               /* out of memory: the run must stop */
};

/* Room for max_live target:ports at once; -1 when out of memory. */
int flows_init(struct flows *fs, const struct plan *pl, size_t max_live);
void flows_free(struct flows *fs);

/* What the engine is to do next: start a probe now (and, when next_at is
 * set, come back for this flow's next probe number then: flows_due), wait
 * for the pacer until at, or nothing until a probe finishes. */
struct flow_step {
	enum step_kind { STEP_IDLE = 0, STEP_SEND, STEP_WAIT } kind;
	struct send_req q;
	int64_t next_at;
	int64_t at;
};
void flows_next(struct flows *fs, int64_t now, bool port_free, struct flow_step *st);

/* --serve: one target:port a request names, probed once as its kind and
 * parameters say; the flow's slot with its probe queued, or -1 when every
 * slot is taken (or out of memory: fs->nomem). name may be NULL; it must
 * live as long as the flow. */
struct flow_spec {
	struct addr dst;
	uint16_t port;
	const struct route *rt;
	const char *name;
	const struct probe_kind *kind;
	const struct probe_params *pp;
	void *owner;
	const char *http_path;    /* the kind http's path; NULL: --http's, or / */
};
int flows_add(struct flows *fs, const struct flow_spec *sp);

/* A flow's next probe number is due: it joins the queue. */
void flows_due(struct flows *fs, uint32_t flow);

/* A probe has finished. A silent one with tries left is queued again
 * (DONE_RETRY); else it is counted into its flow's summary (DONE_COUNTED),
 * and when that was the flow's last, DONE_CLOSED: the engine reports the
 * flow, then calls flows_close. */
enum done_kind { DONE_RETRY, DONE_COUNTED, DONE_CLOSED };
enum done_kind flows_done(struct flows *fs, const struct probe *p);
void flows_close(struct flows *fs, uint32_t flow);

/* Every target:port is done. */
bool flows_finished(const struct flows *fs);

/* The wait for a probe's answer: -W for a health check; for a scan the
 * block's adaptive timeout, doubled with each try. */
int64_t flows_wait(const struct flows *fs, const struct flow *f, int tries, int64_t floor_ns);

/* The kind of a flow's probe number seq (-M flags: five kinds in turn). */
const struct probe_kind *flows_kind(const struct plan *pl, uint32_t seq);

/* A probe that got no answer at all (no TCP, no ICMP, not unsent). */
bool probe_silent(const struct probe_result *res);

#endif
