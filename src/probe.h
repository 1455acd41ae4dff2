/* probe.h - one probe's life as a pure state machine.
 *
 * The engine feeds a probe the events that concern it (our own segments
 * seen by the capture, a matched segment from the peer, a matched ICMP
 * error, its timer) and carries out the actions step() returns: segments
 * to send, a timer to arm, done. No I/O happens here, so every transition
 * is unit-tested without a network.
 *
 *   syn mode:  SYN_SENT --SA--> (RST) DONE
 *   full mode: SYN_SENT --SA--> (ACK) then, by --close and --http:
 *              rst:  (RST/ACK) DONE
 *              fin:  (FIN/ACK) FIN_WAIT --their FIN, ours acked--> (ACK) DONE
 *              http: (request) HTTP --their FIN--> (FIN/ACK) LAST_ACK --ACK--> DONE
 *              a peer FIN before ours: (FIN/ACK) LAST_ACK; a RST: DONE
 * Every wait is bounded by the timeout; our FIN and request are sent again
 * a bounded number of times when not acknowledged. A probe whose last step
 * sends segments waits in TIME_WAIT until the capture has seen them leave,
 * so its log is the whole exchange (and a FIN sent again is answered). */
#ifndef TCPSHAKE_PROBE_H
#define TCPSHAKE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "util.h"

enum outcome { OUTCOME_NONE = 0, OUTCOME_OPEN, OUTCOME_CLOSED, OUTCOME_FILTERED,
	       OUTCOME_UNREACHABLE };

enum rtt_source { RTT_NONE = 0, RTT_WIRE, RTT_CLOCK };

enum probe_mode { PMODE_SYN = 1, PMODE_FULL };

enum close_kind { CLOSE_NONE = 0, CLOSE_FIN, CLOSE_RST, CLOSE_PEER_FIN, CLOSE_PEER_RST,
		  CLOSE_TIMEOUT };

enum probe_state { PS_FREE = 0, PS_SYN_SENT, PS_HTTP, PS_FIN_WAIT, PS_LAST_ACK, PS_TIME_WAIT,
		   PS_DONE };

/* How every probe of a run behaves; read-only. */
struct probe_params {
	enum probe_mode mode;
	enum close_kind close;      /* CLOSE_FIN or CLOSE_RST */
	bool http;
	int64_t timeout_ns;         /* bound on every wait */
	int retries;                /* sends again of an unacknowledged FIN or request */
	int wscale;                 /* the window scale our SYN offers; -1 none */
	bool ts;                    /* our SYN offers timestamps */
	uint16_t window;            /* the window we offer, in bytes */
};

#define SEGLOG_MAX 24

/* One segment of the exchange as the capture saw it; its time in µs after
 * the first one logged (the probe keeps that one's time). Eight bytes: a
 * fleet has thousands of probes in flight. */
struct seg_log {
	char dir;         /* '>' ours, '<' theirs */
	uint8_t flags;
	int32_t t_us;
};

struct http_result {
	int status;                 /* 0 until a status line is read */
	int64_t ttfb_ns;            /* our request to the first response byte, wire */
	uint64_t bytes;             /* response bytes received, headers included */
};

struct probe_result {
	enum outcome outcome;
	uint8_t flags, ttl;
	uint16_t win, mss;
	uint8_t icmp_type, icmp_code;
	struct addr icmp_from;
	enum rtt_source rtt_source;
	int64_t rtt_ns;
	int64_t reply_wall_ns;      /* capture time of the reply */
	bool established;
	enum close_kind close;
	int64_t close_ns;           /* our FIN to their FIN, wire; -1 unknown */
	struct http_result http;
	struct seg_log log[SEGLOG_MAX];
	int nlog;
	int64_t log_t0_ns;          /* capture time of log[0] */
};

struct probe {
	enum probe_state state;
	const struct probe_params *pp;
	struct addr src, dst;
	uint16_t sport, dport;
	uint32_t isn;
	uint32_t flow;              /* index of its target:port */
	uint32_t seq;               /* probe number within the flow */
	uint8_t tries;              /* sends of this probe number so far, 0 first */
	int64_t sent_mono_ns, sent_wall_ns;
	int64_t syn_wire_ns;        /* capture time of our own SYN; 0 until seen */
	/* the connection, in full mode */
	uint32_t snd_una, snd_nxt, rcv_nxt;
	bool ts_ok, ws_ok;
	uint32_t ts_recent;
	uint8_t peer_ws;
	bool fin_sent, fin_acked, peer_fin;
	int64_t phase_deadline;     /* monotonic: the end of the current wait */
	int64_t rto_ns;
	int rtx_left;
	int64_t our_fin_wire_ns, req_wire_ns;
	int own_pending;            /* TIME_WAIT: our last segments not yet captured */
	const uint8_t *req;         /* the HTTP request, owned by the flow */
	size_t req_len;
	struct probe_result res;
};

/* A segment the engine is to send for the probe. */
struct seg_out {
	uint8_t flags;
	uint32_t seq, ack;
	bool with_request;          /* carry the HTTP request as payload */
};

struct probe_actions {
	int n;
	struct seg_out out[3];
	bool done;
	int64_t timer_at;           /* monotonic; 0: no timer */
};

enum probe_event { PEV_OWN_SYN = 1, PEV_OWN_SEG, PEV_TCP, PEV_ICMP, PEV_TIMER };

/* Arm a probe that has just sent its SYN; returns the first timer, in
 * syn_timeout_ns (the wait for an answer to the SYN). */
int64_t probe_start(struct probe *p, const struct probe_params *pp, int64_t syn_timeout_ns,
		    int64_t now_mono, int64_t now_wall);

/* Advance on one event; seg is NULL for PEV_TIMER. now_mono is the
 * monotonic clock when the event is handled. */
void probe_step(struct probe *p, enum probe_event ev, const struct segment *seg,
		int64_t now_mono, struct probe_actions *act);

/* The window field of our segments once the handshake is done. */
uint16_t probe_window(const struct probe *p);

const char *outcome_name(enum outcome o);
const char *close_name(enum close_kind c);

/* "admin-prohibited", "ttl-exceeded", "code-N" ... into buf. */
const char *icmp_name(int family, uint8_t type, uint8_t code, char *buf, size_t len);

/* The status code of an HTTP status line ("HTTP/1.1 200 OK"), or 0. */
int http_status(const uint8_t *p, size_t len);

#endif
