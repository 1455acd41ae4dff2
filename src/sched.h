/* sched.h - the deadline queue: a binary min-heap of timed events.
 * At equal deadlines timeouts come before sends, so a due timeout frees its
 * source port before the next probe wants one. */
#ifndef TCPSHAKE_SCHED_H
#define TCPSHAKE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ev_kind { EV_TIMEOUT = 0, EV_SEND = 1, EV_PUMP = 2, EV_PROGRESS = 3, EV_WATCH = 4,
	       EV_DEADLINE = 5, EV_TRACE = 6 };

struct event {
	int64_t when_ns;  /* monotonic */
	enum ev_kind kind;
	uint32_t id;      /* probe slot (timeout) or flow (send) */
};

struct sched {
	struct event *v;
	size_t n, cap;
	/* keyed timeouts: heap index + 1 of id's EV_TIMEOUT entry; 0: none */
	uint32_t *at;
	size_t nids;
};

int sched_push(struct sched *s, struct event e);

/* Timeouts keyed by id (0 .. nids-1): at most one per id is queued. Arming
 * again moves it in place and cancelling takes it out, so the queue holds
 * what is live, not every timer ever armed: its size is bounded by the
 * probes in flight whatever the rate and the timeout. */
int sched_keyed_init(struct sched *s, size_t nids);
int sched_arm(struct sched *s, uint32_t id, int64_t when_ns);
void sched_cancel(struct sched *s, uint32_t id);
/* The earliest event, or NULL when empty. */
const struct event *sched_peek(const struct sched *s);
/* Remove the earliest event into *e; -1 when empty. */
int sched_pop(struct sched *s, struct event *e);
void sched_free(struct sched *s);

/* Even pacing for --rate: one send every gap_ns. A loop that wakes late
 * sends the slots it missed, but never more than PACER_LAG_NS' worth: a
 * run never bursts to make up for an idle spell. */
struct pacer {
	int64_t gap_ns;   /* 0: no pacing */
	int64_t next_ns;  /* monotonic: the next send's slot */
};

#define PACER_LAG_NS (2 * INT64_C(1000000))

/* May a send go now? If not, *when says when it may. */
bool pacer_ready(const struct pacer *p, int64_t now, int64_t *when);
/* A send went now. */
void pacer_take(struct pacer *p, int64_t now);

/* The pace of a fleet without --rate: halved when the capture dropped
 * frames since the last look, else 1/16 faster, between PACER_MIN_PPS and
 * PACER_MAX_PPS. */
#define PACER_START_PPS 10000
#define PACER_MIN_PPS 100
#define PACER_MAX_PPS 100000
void pacer_adapt(struct pacer *p, bool dropped);

#endif
