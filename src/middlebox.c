/* middlebox.c - the middlebox verdict from a probe's evidence (middlebox.h). */
#include "middlebox.h"

#include <string.h>

#include "util.h"

/* A cookie's TSval is the clock rounded down to 64 ms (Linux's TSBITS 6). */
#define MB_COOKIE_SPAN_MS 63
/* A lag's error on a still path: each TSval a whole ms (+-1 between two),
 * the wire time between them rounded to one (+-0.5). */
#define MB_GRAIN_MS 1.5
/* The tolerance for the path's jitter: this many times the difference of
 * the connection's two round trips (see judge_lag). */
#define MB_JITTER_FACTOR 2.0
/* The largest tolerance that still says "none": a cookie's lag falls within
 * it about (tolerance + 1) in 64 times, 1 in 13 at this. */
#define MB_NONE_TOL_MAX_MS 4.0

static struct mb_seg seg_of(const struct segment *s)
{
	struct mb_seg m;
	memset(&m, 0, sizeof(m));
	m.t_ns = s->ts_ns;
	m.ttl = s->ttl;
	m.win = s->win;
	m.has_ts = s->opt.has_ts != 0;
	m.tsval = s->opt.ts_val;
	return m;
}

void mb_synack(struct mb_evidence *e, const struct segment *seg)
{
	if (!e->on || e->synack)
		return;
	e->synack = true;
	e->sa = seg_of(seg);
}

void mb_ours(struct mb_evidence *e, const struct segment *seg)
{
	if (e->on && e->synack && !(seg->flags & TCPF_SYN))
		e->ours_ns = seg->ts_ns;
}

static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Does seg acknowledge at least one byte of our data (and no more than we
 * sent, our FIN after it included)? */
static bool acks_our_data(const struct segment *seg, uint32_t syn_acked, uint32_t data_end)
{
	return (seg->flags & TCPF_ACK) && data_end != syn_acked && seq_before(syn_acked, seg->ack) &&
	       !seq_before(data_end + 1, seg->ack);
}

void mb_later(struct mb_evidence *e, const struct segment *seg, uint32_t syn_acked,
	      uint32_t data_end)
{
	if (!e->on || !e->synack || (seg->flags & TCPF_SYN))
		return;
	e->data_acked |= acks_our_data(seg, syn_acked, data_end);
	if (seg->flags & TCPF_RST) {
		e->reset |= !e->peer_spoke && !e->data_acked;
		return; /* a reset may come from anyone: no evidence of the sender */
	}
	if (seg->payload_len > 0 || (seg->flags & TCPF_FIN))
		e->peer_spoke = true;
	if (e->later == 0) {
		e->first = seg_of(seg);
		if (e->ours_ns > e->sa.t_ns && seg->ts_ns >= e->ours_ns)
			e->rtt2_ns = seg->ts_ns - e->ours_ns;
	}
	if (e->later < UINT8_MAX)
		e->later++;
	if (seg->ttl != e->sa.ttl && !e->ttl_differs) {
		e->ttl_differs = true;
		e->other_ttl = seg->ttl;
	}
	if ((seg->opt.has_ts != 0) != e->sa.has_ts)
		e->ts_differs = true;
	if (!e->window_update && seg->flags == TCPF_ACK && seg->payload_len == 0 &&
	    seg->ack == syn_acked) {
		e->window_update = true;
		e->update_win = seg->win;
	}
}

/* "; " between the pieces of the evidence. */
static const char *sep(const struct mb_judgement *j)
{
	return j->why_len ? "; " : "";
}

/* Two senders: a zero-window SYN/ACK, another TTL, timestamps on one side only. */
static bool synproxy_signs(const struct mb_evidence *e, struct mb_judgement *j)
{
	bool found = false;
	if (e->sa.win == 0) {
		buf_put(j->why, sizeof(j->why), &j->why_len, "%sSYN/ACK window 0", sep(j));
		found = true;
	}
	if (e->window_update)
		buf_put(j->why, sizeof(j->why), &j->why_len, "%swindow update to %u after our ACK",
			sep(j), (unsigned)e->update_win);
	if (e->ttl_differs) {
		buf_put(j->why, sizeof(j->why), &j->why_len, "%sSYN/ACK ttl %u, later ttl %u", sep(j),
			(unsigned)e->sa.ttl, (unsigned)e->other_ttl);
		found = true;
	}
	if (e->ts_differs) {
		buf_put(j->why, sizeof(j->why), &j->why_len, "%stimestamps in the %s only", sep(j),
			e->sa.has_ts ? "SYN/ACK" : "later segments");
		found = true;
	}
	return found;
}

/* The SYN/ACK's TSval against the clock the later segments show: their
 * difference less the time between them on the wire (rounded to ms). */
static int32_t ts_lag_ms(const struct mb_evidence *e)
{
	int64_t wire_ms = (e->first.t_ns - e->sa.t_ns + 500000) / 1000000;
	int64_t ticks = (int32_t)(e->first.tsval - e->sa.tsval);
	return (int32_t)(ticks - wire_ms);
}

/* The lag against the tolerance. Both timestamps cross the same one-way
 * path, so its delay cancels; what is left is its variation between the
 * two segments (jitter), and 1.5 ms of granularity (each TSval a whole
 * ms, the wire time rounded to one). The jitter is estimated from the
 * connection's two round trips (the SYN's, rtt_ns, and the next one):
 * their difference mixes both ways' variations and is one sample of it,
 * so twice it is taken (for two samples of a normal spread, |a - b| is
 * 1.13 sigma on average: twice it about 2 sigma). Both round trips slowed
 * alike hide it (the SYN/ACK held on its way back, our ACK on its way out:
 * a cookie's lag, as far as one connection can tell). A tolerance as wide as a cookie's band leaves nothing to
 * tell; one wider than MB_NONE_TOL_MAX_MS leaves a cookie's small lags
 * indistinguishable from none. */
static void judge_lag(const struct mb_evidence *e, int64_t rtt_ns, struct mb_judgement *j)
{
	j->have_lag = true;
	j->lag_ms = ts_lag_ms(e);
	if (rtt_ns <= 0 || e->rtt2_ns <= 0) {
		j->v = MB_UNKNOWN;
		buf_put(j->why, sizeof(j->why), &j->why_len,
			"%sno second round trip to measure the path's jitter", sep(j));
		return;
	}
	int64_t d = e->rtt2_ns - rtt_ns;
	double jitter = (double)(d < 0 ? -d : d) / 1e6;
	double tol = MB_GRAIN_MS + MB_JITTER_FACTOR * jitter, lag = j->lag_ms;
	if (tol >= MB_COOKIE_SPAN_MS) {
		j->v = MB_UNKNOWN;
		buf_put(j->why, sizeof(j->why), &j->why_len,
			"%sround trips %.1f ms apart: a tolerance of %.1f ms covers a SYN cookie's 0-63 ms lag",
			sep(j), jitter, tol);
	} else if (lag > tol && lag <= MB_COOKIE_SPAN_MS + tol) {
		j->v = MB_SYNCOOKIES;
		buf_put(j->why, sizeof(j->why), &j->why_len,
			"%sSYN/ACK TSval %d ms behind the server's clock", sep(j), (int)j->lag_ms);
	} else if (lag >= -tol && lag <= tol && tol <= MB_NONE_TOL_MAX_MS) {
		j->v = MB_NONE;
		buf_put(j->why, sizeof(j->why), &j->why_len,
			"%stimestamps continuous (%+d ms), ttl %u throughout", sep(j), (int)j->lag_ms,
			(unsigned)e->sa.ttl);
	} else if (lag >= -tol && lag <= tol) {
		j->v = MB_UNKNOWN;
		buf_put(j->why, sizeof(j->why), &j->why_len,
			"%stimestamps %+d ms apart, within the tolerance (%.1f ms) as a SYN cookie's may be",
			sep(j), (int)j->lag_ms, tol);
	} else {
		j->v = MB_UNKNOWN;
		buf_put(j->why, sizeof(j->why), &j->why_len, "%stimestamp clocks disagree by %d ms",
			sep(j), (int)j->lag_ms);
	}
}

void mb_judge(const struct mb_evidence *e, int64_t rtt_ns, struct mb_judgement *j)
{
	memset(j, 0, sizeof(*j));
	if (!e->on || !e->synack) {
		j->v = MB_NA;
		return;
	}
	if (e->reset)
		buf_put(j->why, sizeof(j->why), &j->why_len, "reset after the handshake");
	if (synproxy_signs(e, j)) {
		j->v = MB_SYNPROXY;
		return;
	}
	if (e->later == 0) {
		j->v = MB_UNKNOWN;
		buf_put(j->why, sizeof(j->why), &j->why_len,
			"%sno segment of the server after the SYN/ACK", sep(j));
		return;
	}
	if (!e->sa.has_ts || !e->first.has_ts) {
		j->v = MB_UNKNOWN;
		buf_put(j->why, sizeof(j->why), &j->why_len,
			"%sno timestamps: a SYN cookie cannot be told", sep(j));
		return;
	}
	judge_lag(e, rtt_ns, j);
}

const char *mb_name(enum mb_verdict v)
{
	switch (v) {
	case MB_NONE:
		return "none";
	case MB_SYNPROXY:
		return "synproxy";
	case MB_SYNCOOKIES:
		return "syncookies";
	case MB_UNKNOWN:
		return "unknown";
	default:
		return NULL;
	}
}
