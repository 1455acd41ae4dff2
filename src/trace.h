/* trace.h - a TCP traceroute of one target:port, as a pure state machine.
 *
 * Every probe is a SYN on the same 5-tuple (Paris traceroute's rule: each
 * hop's probe hashes the same way through ECMP), with a rising TTL or hop
 * limit; what tells the probes apart is the sequence number, a keyed ISN
 * per (hop, query) that an ICMP error quotes back and a SYN/ACK or RST
 * acknowledges. A reply is the trace's only when it quotes or acknowledges
 * one of them, on the trace's addresses and ports.
 *
 * Hops are probed in windows of TRACE_WINDOW at once: the window's queries
 * go out in rounds a gap apart, then the window waits -W for what is
 * missing. A second SYN on the same 5-tuple must not meet the server's
 * half-open connection from the first (it would get an ACK, no answer of
 * its own): our RST must reach the server in between, so the gap is at
 * least the target's RTT and a quarter more and TRACE_GAP_MARGIN_NS
 * (TRACE_GAP_NS at least, -W at most): the RTT the probes measured, raised
 * by any slower answer of the target during the trace. Such an ACK (its
 * ack - 1 a probe's ISN) is no answer: the engine resets it. The
 * trace stops at the first hop whose answer is final - the target's SYN/ACK
 * (open) or RST (closed), or an ICMP error other than time exceeded
 * (rejected) - or after a window in which nothing answered (silent after
 * the last hop that did), or at the last hop allowed (max-hops); cut short
 * (trace_finish) before any of these, it is incomplete. RTTs run
 * from our SYN's capture to the answer's. No I/O: the engine sends what
 * trace_due() returns and hands over every captured segment. */
#ifndef TCPSHAKE_TRACE_H
#define TCPSHAKE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cookie.h"
#include "decode.h"
#include "util.h"

#define TRACE_MAX_HOPS 64
#define TRACE_QUERIES_MAX 10
#define TRACE_DEFAULT_HOPS 30
#define TRACE_DEFAULT_QUERIES 3
#define TRACE_WINDOW 5                             /* hops probed at once */
#define TRACE_GAP_NS (25 * INT64_C(1000000))       /* between one hop's queries, at least */
#define TRACE_GAP_MARGIN_NS (5 * INT64_C(1000000)) /* over the RTT and its quarter */

enum trace_verdict { TV_NONE = 0, TV_OPEN, TV_CLOSED, TV_REJECTED, TV_SILENT, TV_MAX_HOPS,
		     TV_INCOMPLETE };

struct trace_params {
	int max_hops;        /* 1..TRACE_MAX_HOPS */
	int queries;         /* probes per hop, 1..TRACE_QUERIES_MAX */
	int64_t wait_ns;     /* a window's wait after its last round (-W) */
	int64_t rtt_ns;      /* the target's RTT as the probes measured it; 0: unknown */
};

/* What one hop (one TTL) answered. */
struct trace_hop {
	struct addr addr;          /* the first address that answered */
	bool have_addr;
	int64_t rtt_ns[TRACE_QUERIES_MAX]; /* per query; -1: no answer */
	int answers;
	bool error;                /* an ICMP error other than time exceeded */
	uint8_t icmp_type, icmp_code;
	bool target;               /* the target's own TCP answer */
	uint8_t flags;             /* its flags: SA or RA */
};

struct trace_probe {
	uint32_t isn;
	int64_t sent_wall, sent_wire; /* the clock at send; the capture's stamp (0: not seen) */
	bool sent, answered;
};

struct trace {
	struct trace_params tp;
	struct addr src, dst;
	uint16_t sport, dport;
	struct trace_probe probe[TRACE_MAX_HOPS * TRACE_QUERIES_MAX]; /* [(ttl-1)*queries + q] */
	struct trace_hop hop[TRACE_MAX_HOPS];                         /* [ttl-1] */
	int win_lo, win_hi;        /* the TTLs of the current window */
	int next_round;            /* the window's next query round */
	int64_t round_at;          /* monotonic: when it is due */
	int64_t round_sent;        /* monotonic: when the last round went */
	int64_t gap_ns;            /* between rounds (trace_gap) */
	int64_t win_deadline;      /* monotonic: the window's wait ends; 0 while sending */
	int stop_ttl;              /* the first TTL with a final answer; 0: none yet */
	int sent_hi;               /* the highest TTL probed */
	bool done;
	enum trace_verdict verdict;
	int last_ttl;              /* the last good hop: answered, no error; 0 none */
	int shown;                 /* hops to report, from 1 */
};

/* One SYN the engine is to send now. */
struct trace_send {
	int idx;                   /* into t->probe */
	uint8_t ttl;
	uint32_t isn;
};

/* Start a trace of dst:dport from src:sport; ISNs keyed under key. */
void trace_init(struct trace *t, const struct trace_params *tp, const struct cookie_key *key,
		const struct addr *src, const struct addr *dst, uint16_t sport, uint16_t dport,
		int64_t now_mono);

/* The SYNs due at now (at most max); the engine sends them and calls
 * trace_sent() for each. */
int trace_due(struct trace *t, int64_t now_mono, struct trace_send *out, int max);
void trace_sent(struct trace *t, int idx, int64_t wall_ns);

enum trace_match { TM_NONE = 0, TM_OWN, TM_HOP, TM_TARGET, TM_CHALLENGE };

/* A captured segment: ours leaving (TM_OWN), a hop's ICMP error quoting one
 * of our probes (TM_HOP), or the target's SYN/ACK or RST acknowledging one
 * (TM_TARGET: a SYN/ACK is the engine's to reset), or the target's ACK of
 * a half-open connection a probe opened, met by a later SYN (TM_CHALLENGE:
 * no answer; the engine resets it). TM_NONE: not the trace's. */
enum trace_match trace_segment(struct trace *t, const struct segment *seg);

/* Close the window when its wait is over or nothing it waits for is
 * missing; decide, or open the next window. */
void trace_tick(struct trace *t, int64_t now_mono);

/* When trace_tick or trace_due next has something to do. */
int64_t trace_next_wake(const struct trace *t);

/* The gap between rounds for a target RTT (see above). */
int64_t trace_gap(const struct trace_params *tp, int64_t rtt_ns);

/* End the trace now with what it has (a signal, the engine's bound):
 * without a final answer, the verdict is incomplete. */
void trace_finish(struct trace *t);

/* "open", "closed", "rejected", "silent", "max-hops", "incomplete" */
const char *trace_verdict_name(enum trace_verdict v);

/* The verdict as a sentence: "reached 198.18.33.2:80 (open) at hop 3",
 * "silent after hop 2 (198.18.32.2)", "rejected at hop 2 by 198.18.32.2:
 * admin-prohibited", "not reached within 30 hops", "cut short after hop 2
 * (198.18.32.2)". */
const char *trace_verdict_text(const struct trace *t, char *buf, size_t len);

/* The hop (TTL) a rejection is told at: the hop that sent it, when that
 * address answered an earlier TTL, else the TTL rejected. */
int trace_reject_hop(const struct trace *t);

/* traceroute's mark for an ICMP error: !N !H !P !X, else !<code>; "" when
 * the hop sent none. */
const char *trace_icmp_mark(const struct trace *t, const struct trace_hop *h, char *buf,
			    size_t len);

#endif
