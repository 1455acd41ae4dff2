/* middlebox.h - did the server answer our SYN, or something in front of it?
 *
 * A SYN proxy (Linux's nftables/iptables synproxy) answers the SYN itself
 * and connects to the server only once our ACK proves we are real; a SYN
 * cookie server (Linux with tcp_syncookies) answers from no state at all.
 * Either way the SYN/ACK is made differently from the server's later
 * segments of the same connection, and that is the evidence, collected per
 * probe as the state machine sees the segments (probe.c) and judged here:
 *
 *   synproxy    the SYN/ACK offers a zero window (synproxy's, which no
 *               stack sends: the window comes in a pure ACK after our ACK),
 *               or it and the later segments differ in TTL / hop limit or in
 *               having timestamps at all: two different senders
 *   syncookies  the SYN/ACK's timestamp is behind the server's clock as its
 *               later segments show it, by more than the tolerance and at
 *               most 63 ms beyond it: Linux rounds a cookie's TSval down to
 *               64 ms and keeps the SYN's options in the low 6 bits
 *   none        the same sender: timestamps continuous within a tolerance
 *               small enough to leave most of a cookie's band, TTL the same
 *   unknown     no segment after the SYN/ACK (--close rst, a reset alone),
 *               no timestamps (a cookie cannot be seen without them), a
 *               path whose jitter is as large as a cookie's lag can be, or
 *               clocks that disagree otherwise (a microsecond clock): said
 *               why, never guessed
 * The tolerance: both timestamps cross the same one-way path, so its delay
 * cancels and only its variation between the two segments is left, with a
 * millisecond of clock granularity. That variation is measured in the
 * connection itself: the SYN's round trip against the next one (our last
 * segment before the server's first later one, to it).
 * Beside the verdict, the "handshake then reset" pattern: a RST from the
 * peer after our ACK before any data or FIN of its own, and before it ACKed
 * any data of ours (Linux resets a socket closed with unread data: a server
 * that accepts and closes, sent bytes, resets by design).
 *
 * Pure: no I/O, no clock but the capture times given. */
#ifndef TCPSHAKE_MIDDLEBOX_H
#define TCPSHAKE_MIDDLEBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* MB_NA: nothing to judge (not full mode, not established, switched off). */
enum mb_verdict { MB_NA = 0, MB_NONE, MB_SYNPROXY, MB_SYNCOOKIES, MB_UNKNOWN, MB_KINDS };

/* What one segment says of its sender. */
struct mb_seg {
	int64_t t_ns;        /* capture time */
	uint8_t ttl;
	uint16_t win;
	bool has_ts;
	uint32_t tsval;
};

/* The evidence of one probe, in its result (probe.h). */
struct mb_evidence {
	bool on;             /* collected: a full handshake, not --no-middlebox */
	bool synack;         /* sa holds the SYN/ACK that opened the connection */
	struct mb_seg sa;
	uint8_t later;       /* the peer's segments after it, RSTs aside (to 255) */
	struct mb_seg first; /* the first of them */
	bool ttl_differs;    /* one came with another TTL / hop limit than the SYN/ACK */
	uint8_t other_ttl;
	bool ts_differs;     /* one had timestamps where the SYN/ACK had none, or the reverse */
	bool window_update;  /* a pure ACK of our SYN alone: a window opened after the handshake */
	uint16_t update_win;
	bool peer_spoke;     /* data or a FIN from the peer */
	bool data_acked;     /* the peer ACKed data of ours (in a RST too) */
	bool reset;          /* the peer reset before any data or FIN of its own, or ACK of our data */
	int64_t ours_ns;     /* capture time of our latest segment after the SYN (0 none) */
	int64_t rtt2_ns;     /* the first later segment less ours_ns: a second round trip (0 none) */
};

#define MB_WHY_MAX 160

struct mb_judgement {
	enum mb_verdict v;
	bool have_lag;
	int32_t lag_ms;      /* the SYN/ACK's TSval behind the server's clock, ms */
	char why[MB_WHY_MAX];
	size_t why_len;
};

/* The SYN/ACK that opened the connection. */
void mb_synack(struct mb_evidence *e, const struct segment *seg);
/* One of our own segments after the SYN, captured leaving. */
void mb_ours(struct mb_evidence *e, const struct segment *seg);
/* A segment of the peer after it, believed by the state machine (a RST at
 * the expected sequence number); syn_acked is our ISN + 1: an ACK of that
 * alone, carrying nothing, is a window update; data_end is the sequence
 * number after the last byte of data we sent (syn_acked: none). */
void mb_later(struct mb_evidence *e, const struct segment *seg, uint32_t syn_acked,
	      uint32_t data_end);

/* The verdict, its evidence in words, and the timestamp lag; rtt_ns is the
 * SYN's round trip (0 when unknown): against the connection's second one it
 * gives the path's jitter, the tolerance of the lag. */
void mb_judge(const struct mb_evidence *e, int64_t rtt_ns, struct mb_judgement *j);

/* "none", "synproxy", "syncookies", "unknown"; NULL for MB_NA. */
const char *mb_name(enum mb_verdict v);

#endif
