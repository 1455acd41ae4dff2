/* trace.c - a TCP traceroute as a pure state machine (see trace.h). */
#include "trace.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

/* Trace probes' numbers for the keyed ISN: apart from a probe's (seq << 4 |
 * tries) by the high bits. */
#define TRACE_SALT 0x7f000000u

static int probe_index(const struct trace *t, int ttl, int q)
{
	return (ttl - 1) * t->tp.queries + q;
}

static void open_window(struct trace *t, int lo, int64_t now)
{
	t->win_lo = lo;
	t->win_hi = lo + TRACE_WINDOW - 1 > t->tp.max_hops ? t->tp.max_hops : lo + TRACE_WINDOW - 1;
	t->next_round = 0;
	t->round_at = now;
	t->win_deadline = 0;
}

int64_t trace_gap(const struct trace_params *tp, int64_t rtt_ns)
{
	int64_t hi = tp->wait_ns > TRACE_GAP_NS ? tp->wait_ns : TRACE_GAP_NS;
	int64_t gap = rtt_ns > 0 && rtt_ns < hi ? rtt_ns + rtt_ns / 4 + TRACE_GAP_MARGIN_NS
						: rtt_ns > 0 ? hi : TRACE_GAP_NS;
	return gap < TRACE_GAP_NS ? TRACE_GAP_NS : gap > hi ? hi : gap;
}

void trace_init(struct trace *t, const struct trace_params *tp, const struct cookie_key *key,
		const struct addr *src, const struct addr *dst, uint16_t sport, uint16_t dport,
		int64_t now_mono)
{
	memset(t, 0, sizeof(*t));
	t->tp = *tp;
	if (t->tp.max_hops < 1 || t->tp.max_hops > TRACE_MAX_HOPS)
		t->tp.max_hops = TRACE_DEFAULT_HOPS;
	if (t->tp.queries < 1 || t->tp.queries > TRACE_QUERIES_MAX)
		t->tp.queries = TRACE_DEFAULT_QUERIES;
	t->src = *src;
	t->dst = *dst;
	t->sport = sport;
	t->dport = dport;
	t->gap_ns = trace_gap(&t->tp, t->tp.rtt_ns);
	for (int ttl = 1; ttl <= t->tp.max_hops; ttl++) {
		for (int q = 0; q < TRACE_QUERIES_MAX; q++)
			t->hop[ttl - 1].rtt_ns[q] = -1;
		for (int q = 0; q < t->tp.queries; q++)
			t->probe[probe_index(t, ttl, q)].isn =
				cookie_isn(key, src, dst, sport, dport,
					   TRACE_SALT | (uint32_t)ttl << 4 | (uint32_t)q);
	}
	open_window(t, 1, now_mono);
}

int trace_due(struct trace *t, int64_t now_mono, struct trace_send *out, int max)
{
	int n = 0;
	if (t->done || t->win_deadline || now_mono < t->round_at)
		return 0;
	for (int ttl = t->win_lo; ttl <= t->win_hi && n < max; ttl++) {
		int idx = probe_index(t, ttl, t->next_round);
		out[n++] = (struct trace_send){ .idx = idx, .ttl = (uint8_t)ttl, .isn = t->probe[idx].isn };
	}
	if (t->win_hi > t->sent_hi)
		t->sent_hi = t->win_hi;
	t->round_sent = now_mono;
	if (++t->next_round < t->tp.queries)
		t->round_at = now_mono + t->gap_ns;
	else
		t->win_deadline = now_mono + t->tp.wait_ns;
	return n;
}

void trace_sent(struct trace *t, int idx, int64_t wall_ns)
{
	if (idx < 0 || idx >= TRACE_MAX_HOPS * TRACE_QUERIES_MAX)
		return;
	t->probe[idx].sent = true;
	t->probe[idx].sent_wall = wall_ns;
}

/* The probe whose ISN this is, among those sent; -1 none. */
static int probe_by_isn(const struct trace *t, uint32_t isn)
{
	for (int i = 0; i < t->sent_hi * t->tp.queries; i++)
		if (t->probe[i].sent && t->probe[i].isn == isn)
			return i;
	return -1;
}

/* Probe idx was answered at ts by from: its hop learns the RTT. The first
 * answer of a TTL names the hop; a final one may stop the trace there. */
static void answered(struct trace *t, int idx, const struct segment *seg, bool final)
{
	struct trace_probe *p = &t->probe[idx];
	int ttl = idx / t->tp.queries + 1, q = idx % t->tp.queries;
	struct trace_hop *h = &t->hop[ttl - 1];
	if (p->answered)
		return; /* a duplicate */
	p->answered = true;
	int64_t sent = p->sent_wire ? p->sent_wire : p->sent_wall;
	h->rtt_ns[q] = seg->ts_ns >= sent ? seg->ts_ns - sent : 0;
	h->answers++;
	if (!h->have_addr) {
		h->addr = seg->src;
		h->have_addr = true;
	}
	if (final && (t->stop_ttl == 0 || ttl < t->stop_ttl))
		t->stop_ttl = ttl;
}

static enum trace_match on_icmp(struct trace *t, const struct segment *seg)
{
	if (!icmp_quotes_tuple(seg, &t->src, &t->dst, t->sport, t->dport))
		return TM_NONE;
	int idx = probe_by_isn(t, seg->quote.seq);
	if (idx < 0)
		return TM_NONE;
	bool te = icmp_is_time_exceeded(t->dst.family, seg->icmp_type);
	struct trace_hop *h = &t->hop[idx / t->tp.queries];
	if (!te && !t->probe[idx].answered) {
		h->error = true;
		h->icmp_type = seg->icmp_type;
		h->icmp_code = seg->icmp_code;
	}
	answered(t, idx, seg, !te);
	return TM_HOP;
}

/* The target answered probe idx after rtt: later rounds wait at least
 * that long (the round due is put off). */
static void learn_rtt(struct trace *t, int idx)
{
	int64_t g = trace_gap(&t->tp, t->hop[idx / t->tp.queries].rtt_ns[idx % t->tp.queries]);
	if (g <= t->gap_ns)
		return;
	t->gap_ns = g;
	if (!t->win_deadline && t->next_round > 0)
		t->round_at = t->round_sent + g;
}

static enum trace_match on_tcp(struct trace *t, const struct segment *seg)
{
	if (seg_on_tuple(seg, &t->src, &t->dst, t->sport, t->dport)) {
		if (seg->flags != TCPF_SYN)
			return TM_NONE;
		int idx = probe_by_isn(t, seg->seq);
		if (idx < 0)
			return TM_NONE;
		if (!t->probe[idx].sent_wire)
			t->probe[idx].sent_wire = seg->ts_ns;
		return TM_OWN;
	}
	if (!seg_on_tuple(seg, &t->dst, &t->src, t->dport, t->sport) || !(seg->flags & TCPF_ACK))
		return TM_NONE;
	int idx = probe_by_isn(t, seg->ack - 1u);
	if (idx < 0)
		return TM_NONE;
	if (!(seg->flags & (TCPF_SYN | TCPF_RST)))
		return TM_CHALLENGE; /* a later SYN met probe idx's half-open connection */
	struct trace_hop *h = &t->hop[idx / t->tp.queries];
	if (!t->probe[idx].answered && !h->target) {
		h->target = true;
		h->flags = seg->flags & (TCPF_SYN | TCPF_RST | TCPF_ACK);
	}
	answered(t, idx, seg, true);
	learn_rtt(t, idx);
	return TM_TARGET;
}

enum trace_match trace_segment(struct trace *t, const struct segment *seg)
{
	return seg->kind == SEG_ICMP ? on_icmp(t, seg) : seg->kind == SEG_TCP ? on_tcp(t, seg)
									      : TM_NONE;
}

/* Nothing the window waits for is missing: every probe of the window up
 * to the stop (the stop hop's included), or of the whole window, answered. */
static bool window_settled(const struct trace *t)
{
	int hi = t->stop_ttl && t->stop_ttl < t->win_hi ? t->stop_ttl : t->win_hi;
	for (int ttl = t->win_lo; ttl <= hi; ttl++)
		for (int q = 0; q < t->tp.queries; q++)
			if (!t->probe[probe_index(t, ttl, q)].answered)
				return false;
	return true;
}

static bool window_silent(const struct trace *t)
{
	for (int ttl = t->win_lo; ttl <= t->win_hi; ttl++)
		if (t->hop[ttl - 1].answers)
			return false;
	return true;
}

/* The verdict and the hops to show, from what came in; cut: the trace
 * ends before its window did. */
static void decide(struct trace *t, bool cut)
{
	int limit = t->stop_ttl ? t->stop_ttl : t->sent_hi;
	t->last_ttl = 0;
	for (int ttl = 1; ttl <= limit; ttl++)
		if (t->hop[ttl - 1].answers && !t->hop[ttl - 1].error)
			t->last_ttl = ttl;
	if (t->stop_ttl) {
		const struct trace_hop *h = &t->hop[t->stop_ttl - 1];
		t->verdict = h->target ? (h->flags & TCPF_SYN ? TV_OPEN : TV_CLOSED) : TV_REJECTED;
		t->shown = t->stop_ttl;
	} else {
		t->verdict = cut ? TV_INCOMPLETE
			: t->sent_hi >= t->tp.max_hops && !window_silent(t) ? TV_MAX_HOPS : TV_SILENT;
		t->shown = t->verdict == TV_MAX_HOPS ? t->sent_hi
				: t->last_ttl < t->sent_hi ? t->last_ttl + 1 : t->sent_hi;
	}
	if (t->shown < 1)
		t->shown = 1;
	t->done = true;
}

void trace_finish(struct trace *t)
{
	if (!t->done)
		decide(t, true);
}

void trace_tick(struct trace *t, int64_t now_mono)
{
	if (t->done || !t->win_deadline)
		return;
	if (now_mono < t->win_deadline && !window_settled(t))
		return;
	if (t->stop_ttl || window_silent(t) || t->win_hi >= t->tp.max_hops) {
		decide(t, false);
		return;
	}
	open_window(t, t->win_hi + 1, now_mono);
}

int64_t trace_next_wake(const struct trace *t)
{
	return t->win_deadline ? t->win_deadline : t->round_at;
}

const char *trace_verdict_name(enum trace_verdict v)
{
	static const char *const names[] = { "none", "open", "closed", "rejected", "silent",
					      "max-hops", "incomplete" };
	return v <= TV_INCOMPLETE ? names[v] : "none";
}

int trace_reject_hop(const struct trace *t)
{
	if (t->stop_ttl < 1)
		return 0;
	const struct addr *by = &t->hop[t->stop_ttl - 1].addr;
	for (int ttl = 1; ttl < t->stop_ttl; ttl++)
		if (t->hop[ttl - 1].have_addr && addr_eq(&t->hop[ttl - 1].addr, by))
			return ttl;
	return t->stop_ttl;
}

const char *trace_verdict_text(const struct trace *t, char *buf, size_t len)
{
	char a[64], ep[80], name[32];
	const struct trace_hop *stop = t->stop_ttl ? &t->hop[t->stop_ttl - 1] : NULL;
	const struct trace_hop *last = t->last_ttl ? &t->hop[t->last_ttl - 1] : NULL;
	switch (t->verdict) {
	case TV_OPEN:
	case TV_CLOSED:
		snprintf(buf, len, "reached %s (%s) at hop %d", endpoint_str(&t->dst, t->dport, ep, sizeof(ep)),
			 t->verdict == TV_OPEN ? "open" : "closed", t->stop_ttl);
		break;
	case TV_REJECTED:
		snprintf(buf, len, "rejected at hop %d by %s: %s", trace_reject_hop(t),
			 addr_str(&stop->addr, a, sizeof(a)),
			 icmp_name(t->dst.family, stop->icmp_type, stop->icmp_code, name, sizeof(name)));
		break;
	case TV_MAX_HOPS:
		snprintf(buf, len, "not reached within %d hops", t->tp.max_hops);
		break;
	case TV_INCOMPLETE:
		if (last)
			snprintf(buf, len, "cut short after hop %d (%s)", t->last_ttl,
				 addr_str(&last->addr, a, sizeof(a)));
		else
			snprintf(buf, len, "cut short before any hop answered");
		break;
	default:
		if (last)
			snprintf(buf, len, "silent after hop %d (%s)", t->last_ttl,
				 addr_str(&last->addr, a, sizeof(a)));
		else
			snprintf(buf, len, "silent from hop 1");
		break;
	}
	return buf;
}

const char *trace_icmp_mark(const struct trace *t, const struct trace_hop *h, char *buf, size_t len)
{
	uint8_t c = h->icmp_code;
	const char *m = NULL;
	if (!h->error) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	if (t->dst.family == AF_INET)
		m = c == 0 || c == 6 || c == 9 ? "!N" : c == 1 || c == 7 || c == 10 ? "!H"
			: c == 2 ? "!P" : c == 13 ? "!X" : NULL;
	else if (h->icmp_type == ICMP6_UNREACH)
		m = c == 0 ? "!N" : c == 1 ? "!X" : c == 3 ? "!H" : NULL;
	if (m)
		snprintf(buf, len, "%s", m);
	else
		snprintf(buf, len, "!%u", c);
	return buf;
}
