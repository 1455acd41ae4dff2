/* stream.h - the byte stream of one crafted connection, both directions.
 *
 * Pure: no I/O, no clock. The probe (probe.c) hands it the payload of the
 * peer's segments and the acknowledgements it gets, and asks it what to
 * send; the application of a kind (kind.h, struct probe_app) reads what is
 * delivered and appends what it wants sent.
 *
 * Receive side: a buffer of rcap bytes holds, from the first byte the
 * application has not consumed, the bytes delivered in order and beyond
 * rcv_nxt the out-of-order ones (at most STREAM_RANGES_MAX separate runs
 * of them). A segment is trimmed to what is new and to the buffer; bytes
 * already held keep their first copy. The window to advertise is the room
 * past rcv_nxt, so its right edge moves left only when the application
 * consumes nothing. A FIN counts once every byte before it is in; data
 * past a FIN is refused. Sequence numbers are compared mod 2^32.
 *
 * Send side: what the application appends is held until acknowledged. The
 * probe keeps its sequence numbers (snd_una, snd_nxt); here they are
 * offsets from the first data byte (ISS + 1), mod 2^32 too. */
#ifndef TCPSHAKE_STREAM_H
#define TCPSHAKE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Separate runs of out-of-order bytes held at once; a segment that would
 * need one more is not taken (the peer sends it again). Linux's
 * out-of-order queue is no bigger in practice on a path that reorders a
 * little; a path that loses every other segment fills it. */
#define STREAM_RANGES_MAX 8

struct stream_range {
	uint32_t lo, hi; /* offsets from rd_seq: [lo, hi) */
};

struct stream {
	/* receive */
	uint8_t *rbuf;
	uint32_t rcap;
	uint32_t rd_seq;           /* sequence number of rbuf[0]: the first byte not consumed */
	uint32_t rcv_nxt;          /* the first data byte not yet in order (the FIN not counted) */
	struct stream_range ofo[STREAM_RANGES_MAX]; /* sorted, apart, all past rcv_nxt */
	int nofo;
	bool fin_known, fin_in;
	uint32_t fin_seq;          /* the FIN's own sequence number */
	/* send */
	uint8_t *sbuf;
	uint32_t scap, smax;       /* allocated; the most it may grow to */
	uint32_t s_base;           /* offset of sbuf[0]: the first byte not acknowledged */
	uint32_t s_len;            /* bytes held from s_base */
};

/* A buffer for rcap received bytes and up to smax bytes to send (the send
 * buffer grows on demand). NULL when memory is short. */
struct stream *stream_new(uint32_t rcap, uint32_t smax);
void stream_free(struct stream *st);

/* A new connection whose peer's first byte is irs + 1; nothing held. */
void stream_reset(struct stream *st, uint32_t irs);

/* ---- receive ----------------------------------------------------------- */

struct stream_rx {
	uint32_t fresh;            /* bytes delivered in order by this segment */
	bool fin;                  /* the FIN is in now (all before it too) */
	bool out_of_order;         /* it left or found a hole: a duplicate ACK is due */
	bool dup;                  /* nothing in it was new */
};

/* A segment from the peer: len bytes (only those captured) at seq, and
 * whether it carries a FIN. fin must be false for a segment the capture
 * cut short: its end was never seen. */
void stream_receive(struct stream *st, uint32_t seq, const uint8_t *data, uint32_t len, bool fin,
		    struct stream_rx *rx);

/* What the peer may still send past rcv_nxt, in bytes. */
uint32_t stream_window(const struct stream *st);

/* The next sequence number expected (the FIN counted once it is in). */
uint32_t stream_rcv_nxt(const struct stream *st);

/* Delivered bytes not yet consumed: *data holds them, contiguous. */
size_t stream_readable(const struct stream *st, const uint8_t **data);

/* The application is done with the first n readable bytes. */
void stream_consume(struct stream *st, size_t n);

/* ---- send -------------------------------------------------------------- */

/* Append n bytes to send; false (nothing taken) past smax or with no memory. */
bool stream_append(struct stream *st, const void *data, size_t n);

/* The offset just past the last byte appended. */
uint32_t stream_send_end(const struct stream *st);

/* The peer acknowledged every byte before offset una: let them go. */
void stream_acked(struct stream *st, uint32_t una);

/* The length of the next segment to send at offset nxt, given una (the
 * oldest unacknowledged), the peer's window from una and its MSS; 0: none
 * now (all sent, or the window full). */
uint32_t stream_next_len(const struct stream *st, uint32_t una, uint32_t nxt, uint32_t wnd,
			 uint32_t mss);

/* The length of a retransmission from una: what is in flight before nxt,
 * at most one MSS. */
uint32_t stream_rtx_len(const struct stream *st, uint32_t una, uint32_t nxt, uint32_t mss);

/* The bytes [off, off + len) to put in a segment; NULL unless all held. */
const uint8_t *stream_send_bytes(const struct stream *st, uint32_t off, uint32_t len);

#endif
