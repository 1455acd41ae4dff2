/* middlebox.c - the middlebox verdict from a probe's evidence (middlebox.h). */
#include "middlebox.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A cookie's TSval is the clock rounded down to 64 ms (Linux's TSBITS 6). */
#define MB_COOKIE_SPAN_MS 63

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

void mb_later(struct mb_evidence *e, const struct segment *seg, uint32_t syn_acked)
{
	if (!e->on || !e->synack || (seg->flags & TCPF_SYN))
		return;
	if (seg->flags & TCPF_RST) {
		e->reset |= !e->peer_spoke;
		return; /* a reset may come from anyone: no evidence of the sender */
	}
	if (seg->payload_len > 0 || (seg->flags & TCPF_FIN))
		e->peer_spoke = true;
	if (e->later == 0)
		e->first = seg_of(seg);
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

static void say(struct mb_judgement *j, const char *fmt, ...)
{
	size_t n = strlen(j->why);
	if (n + 3 >= sizeof(j->why))
		return;
	if (n) {
		memcpy(j->why + n, "; ", 3);
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->why + n, sizeof(j->why) - n, fmt, ap);
	va_end(ap);
}

/* Two senders: a zero-window SYN/ACK, another TTL, timestamps on one side only. */
static bool synproxy_signs(const struct mb_evidence *e, struct mb_judgement *j)
{
	bool found = false;
	if (e->sa.win == 0) {
		say(j, "SYN/ACK window 0");
		found = true;
	}
	if (e->window_update)
		say(j, "window update to %u after our ACK", (unsigned)e->update_win);
	if (e->ttl_differs) {
		say(j, "SYN/ACK ttl %u, later ttl %u", (unsigned)e->sa.ttl, (unsigned)e->other_ttl);
		found = true;
	}
	if (e->ts_differs) {
		say(j, "timestamps in the %s only", e->sa.has_ts ? "SYN/ACK" : "later segments");
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

void mb_judge(const struct mb_evidence *e, int64_t rtt_ns, struct mb_judgement *j)
{
	memset(j, 0, sizeof(*j));
	if (!e->on || !e->synack) {
		j->v = MB_NA;
		return;
	}
	if (e->reset)
		say(j, "reset after the handshake");
	if (synproxy_signs(e, j)) {
		j->v = MB_SYNPROXY;
		return;
	}
	if (e->later == 0) {
		j->v = MB_UNKNOWN;
		say(j, "no segment of the server after the SYN/ACK");
		return;
	}
	if (!e->sa.has_ts || !e->first.has_ts) {
		j->v = MB_UNKNOWN;
		say(j, "no timestamps: a SYN cookie cannot be told");
		return;
	}
	/* jitter: 1 ms of clock granularity, and the path's round trip twice */
	double tol = 1.0 + 2.0 * (double)(rtt_ns > 0 ? rtt_ns : 0) / 1e6;
	j->have_lag = true;
	j->lag_ms = ts_lag_ms(e);
	double lag = j->lag_ms;
	if (lag > tol && lag <= MB_COOKIE_SPAN_MS + tol) {
		j->v = MB_SYNCOOKIES;
		say(j, "SYN/ACK TSval %d ms behind the server's clock", (int)j->lag_ms);
	} else if (lag >= -tol && lag <= tol) {
		j->v = MB_NONE;
		say(j, "timestamps continuous (%+d ms), ttl %u throughout", (int)j->lag_ms,
		    (unsigned)e->sa.ttl);
	} else {
		j->v = MB_UNKNOWN;
		say(j, "timestamp clocks disagree by %d ms", (int)j->lag_ms);
	}
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
