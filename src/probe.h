/* probe.h - one probe's life as a pure state machine.
 *
 * The engine feeds a probe the events that concern it (our own SYN seen by
 * the capture, a matched TCP reply, a matched ICMP error, its timeout) and
 * carries out the actions step() returns. No I/O happens here, so every
 * transition is unit-tested without a network. */
#ifndef TCPSHAKE_PROBE_H
#define TCPSHAKE_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "util.h"

enum outcome { OUTCOME_NONE = 0, OUTCOME_OPEN, OUTCOME_CLOSED, OUTCOME_FILTERED,
	       OUTCOME_UNREACHABLE };

enum rtt_source { RTT_NONE = 0, RTT_WIRE, RTT_CLOCK };

enum probe_state { PS_FREE = 0, PS_SYN_SENT, PS_DONE };

struct probe_result {
	enum outcome outcome;
	uint8_t flags, ttl;
	uint16_t win, mss;
	uint8_t icmp_type, icmp_code;
	struct addr icmp_from;
	enum rtt_source rtt_source;
	int64_t rtt_ns;
	int64_t reply_wall_ns; /* capture time of the reply */
};

struct probe {
	enum probe_state state;
	struct addr src, dst;
	uint16_t sport, dport;
	uint32_t isn;
	uint32_t flow;      /* index of its target:port */
	uint32_t seq;       /* probe number within the flow */
	uint32_t gen;       /* bumped on reuse: stale timers are ignored */
	int64_t sent_mono_ns, sent_wall_ns;
	int64_t syn_wire_ns; /* capture time of our own SYN; 0 until seen */
	struct probe_result res;
};

enum probe_event { PEV_OWN_SYN = 1, PEV_TCP, PEV_ICMP, PEV_TIMEOUT };

/* Actions, a bit mask returned by probe_step(). */
enum { PACT_SEND_RST = 1, PACT_DONE = 2 };

/* Arm a probe that has just sent its SYN. */
void probe_start(struct probe *p, int64_t now_mono, int64_t now_wall);

/* Advance on one event; seg is NULL for PEV_TIMEOUT. now_mono is the
 * monotonic clock when the event is handled (used only for the fallback RTT). */
int probe_step(struct probe *p, enum probe_event ev, const struct segment *seg,
	       int64_t now_mono);

const char *outcome_name(enum outcome o);

/* "admin-prohibited", "ttl-exceeded", "code-N" ... into buf. */
const char *icmp_name(int family, uint8_t type, uint8_t code, char *buf, size_t len);

#endif
