/* stream.c - the byte stream of a crafted connection (see stream.h). */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

struct stream *stream_new(uint32_t rcap, uint32_t smax)
{
	struct stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->rbuf = malloc(rcap ? rcap : 1);
	if (!st->rbuf) {
		free(st);
		return NULL;
	}
	st->rcap = rcap;
	st->smax = smax;
	return st;
}

void stream_free(struct stream *st)
{
	if (!st)
		return;
	free(st->rbuf);
	free(st->sbuf);
	free(st);
}

void stream_reset(struct stream *st, uint32_t irs)
{
	st->rd_seq = st->rcv_nxt = irs + 1;
	st->nofo = 0;
	st->fin_known = st->fin_in = false;
	st->fin_seq = 0;
	st->s_base = 0;
	st->s_len = 0;
}

/* ---- receive ----------------------------------------------------------- */

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Where the bytes delivered in order end, as an offset in rbuf. */
static uint32_t in_order_end(const struct stream *st)
{
	return st->rcv_nxt - st->rd_seq;
}

/* Copy the bytes of [lo, hi) that no held run covers: the first copy of a
 * byte stays (a peer that sends different bytes for the same sequence
 * numbers gets its first version read). Returns how many were new. */
static uint32_t copy_gaps(struct stream *st, uint32_t lo, uint32_t hi, const uint8_t *data,
			  uint32_t data_lo)
{
	uint32_t pos = lo, copied = 0;
	for (int i = 0; i < st->nofo && pos < hi; i++) {
		const struct stream_range *r = &st->ofo[i];
		if (r->hi <= pos || r->lo >= hi)
			continue;
		if (r->lo > pos) {
			memcpy(st->rbuf + pos, data + (pos - data_lo), r->lo - pos);
			copied += r->lo - pos;
		}
		pos = r->hi > pos ? r->hi : pos;
	}
	if (pos < hi) {
		memcpy(st->rbuf + pos, data + (pos - data_lo), hi - pos);
		copied += hi - pos;
	}
	return copied;
}

/* The held runs with [lo, hi) merged in, into out (sorted, runs that
 * overlap or touch joined). Returns their number, which may be one more
 * than STREAM_RANGES_MAX. */
static int merged_ranges(const struct stream *st, uint32_t lo, uint32_t hi,
			 struct stream_range out[STREAM_RANGES_MAX + 1])
{
	struct stream_range m = { lo, hi };
	bool placed = false;
	int n = 0;
	for (int i = 0; i < st->nofo; i++) {
		const struct stream_range *r = &st->ofo[i];
		if (r->hi < m.lo) {
			out[n++] = *r;
		} else if (r->lo > m.hi) {
			if (!placed)
				out[n++] = m;
			placed = true;
			out[n++] = *r;
		} else {
			m.lo = min32(m.lo, r->lo);
			m.hi = r->hi > m.hi ? r->hi : m.hi;
		}
	}
	if (!placed)
		out[n++] = m;
	return n;
}

/* Take the bytes [lo, hi) (offsets in rbuf, lo at or past rcv_nxt) of a
 * segment whose first byte is at offset data_lo. False if it would need
 * one run too many: then nothing is taken. */
static bool take_bytes(struct stream *st, uint32_t lo, uint32_t hi, const uint8_t *data,
		       uint32_t data_lo, uint32_t *copied)
{
	struct stream_range out[STREAM_RANGES_MAX + 1];
	int n = merged_ranges(st, lo, hi, out);
	/* the first run, when it begins at rcv_nxt, is in order now: it needs
	 * no place among the held ones */
	int first = out[0].lo == in_order_end(st) ? 1 : 0;
	if (n - first > STREAM_RANGES_MAX)
		return false;
	*copied = copy_gaps(st, lo, hi, data, data_lo);
	if (first)
		st->rcv_nxt = st->rd_seq + out[0].hi;
	memcpy(st->ofo, out + first, (size_t)(n - first) * sizeof(out[0]));
	st->nofo = n - first;
	return true;
}

/* A FIN at offset fin_off: the first one seen counts; any data after it is
 * dropped (none should be there). */
static void take_fin(struct stream *st, uint32_t fin_seq)
{
	if (st->fin_known)
		return;
	st->fin_known = true;
	st->fin_seq = fin_seq;
	uint32_t fin_off = fin_seq - st->rd_seq;
	int n = 0;
	for (int i = 0; i < st->nofo; i++)
		if (st->ofo[i].lo < fin_off) {
			st->ofo[n] = st->ofo[i];
			st->ofo[n].hi = min32(st->ofo[n].hi, fin_off);
			n++;
		}
	st->nofo = n;
}

void stream_receive(struct stream *st, uint32_t seq, const uint8_t *data, uint32_t len, bool fin,
		    struct stream_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	uint32_t before = st->rcv_nxt;
	uint32_t rn = in_order_end(st);
	/* signed: a segment may begin before the first byte we still hold */
	int64_t lo = (int32_t)(seq - st->rd_seq), hi = lo + len;
	int64_t end = st->rcap;
	if (st->fin_known && (int64_t)(int32_t)(st->fin_seq - st->rd_seq) < end)
		end = (int32_t)(st->fin_seq - st->rd_seq);
	rx->out_of_order = lo > rn;
	/* the FIN is believed only where every byte before it fits the buffer */
	bool fin_ok = fin && hi >= rn && hi <= st->rcap;
	uint32_t copied = 0;
	int64_t a = lo > rn ? lo : rn, b = hi < end ? hi : end;
	if (a < b && !take_bytes(st, (uint32_t)a, (uint32_t)b, data, (uint32_t)lo, &copied))
		fin_ok = false; /* no room for its run: as if not received */
	bool fin_new = fin_ok && !st->fin_known;
	if (fin_ok)
		take_fin(st, seq + len);
	if (st->fin_known && !st->fin_in && st->rcv_nxt == st->fin_seq) {
		st->fin_in = true;
		rx->fin = true;
	}
	rx->fresh = st->rcv_nxt - before;
	rx->out_of_order |= st->nofo > 0;
	rx->dup = copied == 0 && !fin_new;
}

uint32_t stream_window(const struct stream *st)
{
	return st->rcap - in_order_end(st); /* after their FIN too, as Linux does */
}

uint32_t stream_rcv_nxt(const struct stream *st)
{
	return st->rcv_nxt + (st->fin_in ? 1u : 0u);
}

size_t stream_readable(const struct stream *st, const uint8_t **data)
{
	*data = st->rbuf;
	return in_order_end(st);
}

void stream_consume(struct stream *st, size_t n)
{
	uint32_t rn = in_order_end(st);
	uint32_t k = n > rn ? rn : (uint32_t)n;
	uint32_t held = st->nofo ? st->ofo[st->nofo - 1].hi : rn;
	if (k == 0)
		return;
	/* one buffer from rd_seq: readers get every byte contiguous, at the
	 * cost of moving what remains (little: consumers take all they can) */
	memmove(st->rbuf, st->rbuf + k, held - k);
	st->rd_seq += k;
	for (int i = 0; i < st->nofo; i++) {
		st->ofo[i].lo -= k;
		st->ofo[i].hi -= k;
	}
}

/* ---- send -------------------------------------------------------------- */

bool stream_append(struct stream *st, const void *data, size_t n)
{
	if (n > st->smax - st->s_len)
		return false;
	uint32_t need = st->s_len + (uint32_t)n;
	if (need > st->scap) {
		uint32_t cap = st->scap ? st->scap : 512;
		while (cap < need)
			cap *= 2;
		cap = cap > st->smax ? st->smax : cap;
		uint8_t *b = realloc(st->sbuf, cap);
		if (!b)
			return false;
		st->sbuf = b;
		st->scap = cap;
	}
	memcpy(st->sbuf + st->s_len, data, n);
	st->s_len = need;
	return true;
}

uint32_t stream_send_end(const struct stream *st)
{
	return st->s_base + st->s_len;
}

void stream_acked(struct stream *st, uint32_t una)
{
	uint32_t k = una - st->s_base;
	if ((int32_t)k <= 0)
		return;
	k = min32(k, st->s_len); /* beyond it: our FIN */
	if (k == 0)
		return; /* nothing held (nothing ever sent: no buffer either) */
	memmove(st->sbuf, st->sbuf + k, st->s_len - k);
	st->s_base += k;
	st->s_len -= k;
}

uint32_t stream_next_len(const struct stream *st, uint32_t una, uint32_t nxt, uint32_t wnd,
			 uint32_t mss)
{
	uint32_t end = stream_send_end(st), wnd_end = una + wnd;
	if ((int32_t)(end - nxt) <= 0 || (int32_t)(wnd_end - nxt) <= 0)
		return 0;
	return min32(min32(end - nxt, wnd_end - nxt), mss);
}

uint32_t stream_rtx_len(const struct stream *st, uint32_t una, uint32_t nxt, uint32_t mss)
{
	uint32_t end = stream_send_end(st);
	if ((int32_t)(nxt - una) <= 0 || (int32_t)(end - una) <= 0)
		return 0;
	return min32(min32(nxt - una, end - una), mss);
}

const uint8_t *stream_send_bytes(const struct stream *st, uint32_t off, uint32_t len)
{
	uint32_t rel = off - st->s_base;
	if (rel > st->s_len || len > st->s_len - rel || !st->sbuf)
		return NULL;
	return st->sbuf + rel;
}
