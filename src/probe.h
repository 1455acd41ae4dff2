/* probe.h - one probe's life as a pure state machine.
 *
 * The engine feeds a probe the events that concern it (our own segments
 * seen by the capture, a matched segment from the peer, a matched ICMP
 * error, its timer) and carries out the actions step() returns: segments
 * to send, a timer to arm, done. No I/O happens here, so every transition
 * is unit-tested without a network.
 *
 * SYN_SENT sends its SYN again on RFC 6298's schedule (1 s, doubling) until
 * the timeout, with the same ISN and a new timestamp value, so the SYN a
 * SYN/ACK answers is known when the peer echoes it; an ACK for an older
 * connection on our 4-tuple is reset (RFC 9293 3.10.7.3).
 *
 *   syn mode:  SYN_SENT --SA--> (RST) DONE
 *   full mode: SYN_SENT --SA--> (ACK) then, by --close and --http:
 *              rst:  (RST/ACK) DONE
 *              fin:  (FIN/ACK) FIN_WAIT --their FIN, ours acked--> (ACK) DONE
 *              app:  (its bytes) APP --their FIN--> (FIN/ACK) LAST_ACK --ACK--> DONE
 *                    APP --it is done--> (FIN/ACK) FIN_WAIT as fin
 *              a peer FIN before ours: (FIN/ACK) LAST_ACK; a RST: DONE
 *   pmtu:      SYN_SENT --SA--> (ACK, one full-size segment) PMTU: each test
 *              segment ACKed, refused by an ICMP too-big or lost (sent
 *              twice, a timeout each) until the verdict; then as --close
 * A kind with an application (kind.h: http, tls, https, banner, starttls) runs it on a byte stream
 * (stream.h), allocated when its handshake completes and released when
 * the engine is done with the probe (probe_release): the peer's data is
 * reassembled (out-of-order segments held), each data segment acknowledged
 * at once (a probe's exchange is short: a delayed ACK would only add a
 * timer and delay the peer), and our window is the stream's free room.
 * Every wait is bounded by the timeout; our FIN and data are sent again
 * a bounded number of times when not acknowledged, the data never beyond
 * the peer's window nor in segments above its MSS (a zero window is probed).
 * A probe whose last step sends segments waits in FLUSH until the capture
 * has seen them leave, so its log is the whole exchange. DONE is reported,
 * but lingers until its source port is taken again: a segment of its 4-tuple
 * gets the answer a real endpoint would give (TIME-WAIT after our FIN: a
 * repeated FIN is acknowledged again; otherwise CLOSED: a RST). */
#ifndef TCPSHAKE_PROBE_H
#define TCPSHAKE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "banner.h"
#include "decode.h"
#include "kind.h"
#include "middlebox.h"
#include "stream.h"
#include "util.h"

struct tls_ctx;
struct tls_result;

/* The state of a target:port as a probe found it. The flag scans add
 * nmap's unfiltered and open|filtered. */
enum outcome { OUTCOME_NONE = 0, OUTCOME_OPEN, OUTCOME_CLOSED, OUTCOME_FILTERED,
	       OUTCOME_UNREACHABLE, OUTCOME_UNFILTERED, OUTCOME_OPEN_FILTERED, OUTCOME_MAX };

enum rtt_source { RTT_NONE = 0, RTT_WIRE, RTT_CLOCK };

/* syn and full: the handshake kinds; scan: one flag-scan kind; perflag:
 * five kinds side by side for each target:port (-M flags). */
enum probe_mode { PMODE_SYN = 1, PMODE_FULL, PMODE_SCAN, PMODE_PERFLAG };

enum close_kind { CLOSE_NONE = 0, CLOSE_FIN, CLOSE_RST, CLOSE_PEER_FIN, CLOSE_PEER_RST,
		  CLOSE_TIMEOUT };

enum probe_state { PS_FREE = 0, PS_SYN_SENT, PS_APP, PS_FIN_WAIT, PS_LAST_ACK, PS_FLUSH,
		   PS_DONE, PS_PMTU };

/* What the kinds banner and starttls are to say and wait for; read-only. */
struct app_params {
	const struct banner_expect *expect; /* --expect; NULL: the first line is read */
	const uint8_t *send;                /* --send, sent first; NULL: none */
	size_t send_len;
	int64_t timeout_ns;                 /* the wait for the answer from the handshake
					     * on (--expect-timeout); 0: the probe's */
	enum starttls_proto starttls;       /* --starttls: the dialogue before TLS */
};

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
	int64_t syn_rto_ns;         /* first SYN retransmission; 0: none (a fleet retries) */
	bool own_reliable;          /* the capture sees every SYN leave (no drops) */
	const struct tls_ctx *tls;  /* --tls: the run's TLS context (tls.h); NULL none */
	const struct app_params *app; /* kinds banner and starttls; NULL others */
	int64_t deadline_ns;        /* monotonic: no wait goes past it (--serve: the
				     * scrape's timeout); 0: none */
	bool middlebox;             /* collect the middlebox evidence (full handshakes;
				     * --no-middlebox: off) */
};

#define SYN_TRIES_MAX 8
#define RTO_INIT_NS INT64_C(1000000000) /* RFC 6298's initial RTO */

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

/* --expect, --send, --banner: what the server said (kind_banner.c). The
 * times run from our --send leaving, or without one from the SYN/ACK,
 * both ends captured; -1 when not reached. */
struct banner_result {
	bool expecting;             /* --expect: matched is the check's verdict */
	bool matched;               /* it matched; without --expect: a whole line came */
	bool judged;                /* the reading is over (match, FIN, full, deadline) */
	uint64_t bytes;             /* bytes read */
	int64_t first_byte_ns, match_ns;
	char first_line[BANNER_LINE_TEXT]; /* printable (banner_first_line) */
};

/* --pmtu: what one full-size segment with DF met after the handshake (see
 * the man page's PATH MTU section): ACKed (ok), an ICMP too-big whose
 * next-hop MTU then passed (fragmentation-needed), or silence (black-hole:
 * the largest size that passed, found by bisection within -W). */
enum pmtu_verdict { PMTU_NOT_TESTED = 0, PMTU_OK, PMTU_FRAG_NEEDED, PMTU_BLACK_HOLE };

struct pmtu_result {
	enum pmtu_verdict verdict;
	uint16_t size;              /* the largest packet ACKed, IP header included; 0 none */
	uint16_t first;             /* the first size tried (full size), likewise */
	uint32_t next_hop;          /* the MTU an ICMP too-big reported; 0 none */
	struct addr from;           /* who sent it */
	uint16_t sends;             /* test segments sent, again ones included */
	/* the MSS both ways (the engine's, set at the start): our SYN's option
	 * as sent (0: none), the server's from its SYN/ACK is res.mss; what
	 * the server's interface MTU allows (--peer-mtu; 0 unknown) */
	uint16_t mss_sent, mss_expected;
};

const char *pmtu_verdict_name(enum pmtu_verdict v);

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
	uint8_t syns;               /* SYNs sent */
	bool no_neighbour;          /* unreachable: our SYN never left (no ARP/ND answer) */
	bool icmp;                  /* the answer was an ICMP error (a flag scan calls it filtered) */
	/* --tls: what the handshake found (valid until the probe is released:
	 * the report reads it first), and its phases on the wire, from the
	 * ClientHello leaving: the ServerHello in, the handshake complete; -1
	 * when not reached */
	const struct tls_result *tls;
	int64_t tls_hello_ns, tls_handshake_ns;
	/* --tls, --starttls: why the check failed before a TLS connection
	 * existed ("starttls-refused: 454 ...", "starttls-incomplete" for a
	 * dialogue the server cut short, no memory); NULL once TLS started or
	 * when nothing failed. Valid until the probe is released. */
	const char *tls_early_error;
	/* --expect, --send, --banner; NULL for other kinds (valid likewise) */
	const struct banner_result *banner;
	struct pmtu_result pmtu;    /* --pmtu */
	/* the SYN/ACK against the peer's later segments (middlebox.h) */
	struct mb_evidence mb;
};

/* The walk of the PMTU test: payload sizes (bytes of TCP data) of the test
 * segment; hdr makes them packet sizes. */
struct pmtu_walk {
	uint16_t hdr;               /* IP and TCP headers, options included */
	uint16_t cur;               /* the size in flight */
	uint16_t lo;                /* the largest ACKed; 0 none */
	uint16_t hi;                /* the smallest lost or refused; 0 none */
	uint8_t tries;              /* sends of cur */
	uint8_t icmps;              /* too-big errors taken */
	bool from_icmp;             /* cur is an ICMP's next-hop MTU */
	bool floor_tried;           /* the IPv6 minimum (1280) was tried */
	bool ending;                /* past -W: one more RTO for the size in flight */
	uint16_t full;              /* the first size (never ACKed when hi is set) */
	uint32_t base;              /* snd_una where the sizes in flight start */
};

struct probe {
	enum probe_state state;
	const struct probe_params *pp;
	const struct probe_kind *kind;
	uint32_t ack0;              /* the ACK number of a first segment with ACK (keyed) */
	struct addr src, dst;
	uint16_t sport, dport;
	uint32_t isn;
	uint32_t flow;              /* index of its target:port */
	uint32_t seq;               /* probe number within the flow */
	uint8_t tries;              /* sends of this probe number so far, 0 first */
	int64_t sent_mono_ns, sent_wall_ns;
	uint32_t syn_tsval[SYN_TRIES_MAX]; /* the timestamp value of each SYN */
	int64_t syn_wire[SYN_TRIES_MAX];   /* its capture time; 0 until seen */
	uint8_t syns, syns_seen;
	bool rtt_clean;             /* the RTT is a sample for the timers (Karn) */
	int64_t syn_next;           /* monotonic: the next SYN retransmission; 0 none */
	int64_t syn_rto_ns;
	uint32_t last_tsval;        /* our timestamps never go back */
	/* the connection, in full mode */
	uint32_t snd_una, snd_nxt, rcv_nxt;
	uint32_t snd_max;           /* the highest sequence sent: a PMTU test's smaller
				     * size, or the close after it, moves snd_nxt back */
	bool ts_ok, ws_ok;
	uint32_t ts_recent;
	uint8_t peer_ws;
	uint32_t snd_wnd;           /* what the peer takes beyond snd_una, bytes */
	uint16_t peer_mss;
	int64_t persist_at;         /* zero-window probe due; 0 none */
	int64_t persist_ns;
	bool fin_sent, fin_acked, peer_fin;
	bool tw;                    /* DONE after an active close: TIME-WAIT */
	bool reacked;               /* TIME-WAIT: a FIN came again (our last ACK was lost) */
	uint16_t rtx;               /* our segments sent again (loss on the path) */
	int challenge_left;
	int64_t phase_deadline;     /* monotonic: the end of the current wait */
	int64_t rto_ns;
	int rtx_left;
	int64_t our_fin_wire_ns;
	int64_t req_wire_ns;        /* our first data byte left (capture time) */
	int own_pending;            /* FLUSH: our last segments not yet captured */
	const uint8_t *req;         /* the HTTP request, owned by the flow */
	size_t req_len;
	/* kinds with an application (kind.h); NULL otherwise */
	struct stream *stream;      /* allocated at the handshake, freed by probe_release */
	void *app;                  /* the application's own state, its to free */
	bool close_wanted;          /* the application is done: FIN once all is sent */
	const char *host;           /* the name the application speaks to (TLS's SNI and
				     * certificate check; HTTP's Host is the flow's) */
	uint32_t mark_off;          /* probe_mark_send: the send offset to time */
	bool mark_set;
	int64_t mark_wire_ns;       /* when the segment holding it was captured leaving */
	uint16_t route_mtu;         /* --pmtu: the MTU of the route's interface (the engine's) */
	struct pmtu_walk pmtu;
	struct probe_result res;
};

/* A segment the engine is to send for the probe. */
struct seg_out {
	uint8_t flags;
	uint32_t seq, ack;
	uint32_t data_off;          /* payload: data_len bytes of the send stream from this
				     * offset (0: the first byte after our SYN) */
	uint16_t data_len;
	bool syn;                   /* our first segment again (a SYN with its options) */
	uint32_t tsval;             /* our timestamp value (when timestamps are on) */
};

#define PROBE_OUT_MAX 8

struct probe_actions {
	int n;
	struct seg_out out[PROBE_OUT_MAX];
	bool done;
	int64_t timer_at;           /* monotonic; 0: no timer */
};

/* PEV_STALE: a segment of our 4-tuple that acknowledges what we never sent
 * (an older connection's, or out of window); PEV_LINGER: a segment of a DONE
 * probe's 4-tuple. */
enum probe_event { PEV_OWN_SYN = 1, PEV_OWN_SEG, PEV_TCP, PEV_ICMP, PEV_TIMER, PEV_STALE,
		   PEV_LINGER };

/* Arm a probe whose first SYN the engine sends now (its timestamp value is
 * p->syn_tsval[0]); returns the first timer. syn_timeout_ns bounds the wait
 * for an answer to the SYNs. */
int64_t probe_start(struct probe *p, const struct probe_params *pp, int64_t syn_timeout_ns,
		    int64_t now_mono, int64_t now_wall);

/* Our next timestamp value: the millisecond clock, but never equal to or
 * below the last one sent (a peer's PAWS check would drop it). */
uint32_t probe_tsval(struct probe *p, int64_t now_mono);

/* Advance on one event; seg is NULL for PEV_TIMER. now_mono is the
 * monotonic clock when the event is handled. */
void probe_step(struct probe *p, enum probe_event ev, const struct segment *seg,
		int64_t now_mono, struct probe_actions *act);

/* The reply of a CLOSED endpoint to a segment for no connection (RFC 9293
 * 3.10.7.1): false for a RST (never answered); else a RST, at the segment's
 * ack if it has one, else acknowledging it. */
bool probe_closed_reply(const struct segment *seg, struct seg_out *o);

/* The window field of our segments once the handshake is done. */
uint16_t probe_window(const struct probe *p);

/* For an application (kind.h): queue n bytes to send on the probe's
 * stream; they go out at the end of the current step, as the peer's
 * window allows. False (nothing queued) without a stream or past its send
 * buffer (PROBE_SEND_MAX bytes not yet acknowledged). */
#define PROBE_SEND_MAX (64u * 1024u)
/* --pmtu: the largest test segment's payload (a 9000-byte MTU's) */
#define PMTU_PAYLOAD_MAX 8960
/* --pmtu, --peer-mtu: the smallest MTU a link of the family may have: 68
 * (IPv4, RFC 791), 1280 (IPv6, RFC 8200 5) */
int pmtu_min_mtu(int family);
bool probe_send(struct probe *p, const void *data, size_t n);
/* Time the next byte to be queued: p->mark_wire_ns is set to the capture
 * time of the first segment of ours that carries it (an HTTPS request). */
void probe_mark_send(struct probe *p);

/* The bytes of a segment the probe asked for (seg_out's data_off and
 * data_len); NULL if it has none or they are not held. A PMTU test
 * segment's are zeros. */
const uint8_t *probe_seg_payload(const struct probe *p, const struct seg_out *o);

/* Free the probe's stream and its application's state, once the engine
 * has sent the segments of its last step. A slot's next probe allocates
 * them again if its kind needs them. */
void probe_release(struct probe *p);

/* The middlebox verdict of a finished probe (middlebox.h), its RTT the
 * jitter's measure. */
void probe_middlebox(const struct probe_result *res, struct mb_judgement *j);

const char *outcome_name(enum outcome o);
const char *close_name(enum close_kind c);

/* An unreachable result with no ICMP error at all: our SYN never left, the
 * next hop did not answer ARP or neighbour discovery. Type 0 is no ICMP
 * error type in either family. */
#define ICMP_NO_NEIGHBOUR 0

/* "admin-prohibited", "ttl-exceeded", "no-neighbour", "code-N" ... into buf. */
const char *icmp_name(int family, uint8_t type, uint8_t code, char *buf, size_t len);

/* The status code of an HTTP status line ("HTTP/1.1 200 OK"), or 0. */
int http_status(const uint8_t *p, size_t len);

#endif
