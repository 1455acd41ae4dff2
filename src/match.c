/* match.c - strict reply matching by port table lookup and ISN check. */
#include "match.h"

#include <stdlib.h>

int port_table_init(struct port_table *t, uint16_t lo, uint16_t hi)
{
	t->lo = lo;
	t->hi = hi;
	t->slot = calloc((size_t)(hi - lo) + 1, sizeof(*t->slot));
	return t->slot ? 0 : -1;
}

void port_table_free(struct port_table *t)
{
	free(t->slot);
	t->slot = NULL;
}

struct probe *port_table_get(const struct port_table *t, uint16_t port)
{
	if (port < t->lo || port > t->hi)
		return NULL;
	return t->slot[port - t->lo];
}

void port_table_set(struct port_table *t, uint16_t port, struct probe *p)
{
	if (port >= t->lo && port <= t->hi)
		t->slot[port - t->lo] = p;
}

/* The answer to our first segment, as its kind defines it. */
static int is_reply(const struct probe *p, const struct segment *s)
{
	return seg_on_tuple(s, &p->dst, &p->src, p->dport, p->sport) && p->kind->answers(p, s);
}

/* The highest sequence we sent: a PMTU test moves snd_nxt back below it
 * (probe.c), and a segment up to it is still ours or acknowledges ours. */
static uint32_t snd_top(const struct probe *p)
{
	return (int32_t)(p->snd_max - p->snd_nxt) > 0 ? p->snd_max : p->snd_nxt;
}

/* A segment of the connection once the peer has answered our SYN: it must
 * acknowledge something we sent and nothing we did not. A reset without an
 * ACK is what a peer whose socket is gone answers to a segment of ours (RFC
 * 9293 3.10.7.1); the state machine believes it only at exactly rcv_nxt. */
static int is_later_reply(const struct probe *p, const struct segment *s)
{
	if (!seg_on_tuple(s, &p->dst, &p->src, p->dport, p->sport))
		return 0;
	if (!(s->flags & TCPF_ACK))
		return (s->flags & (TCPF_RST | TCPF_SYN)) == TCPF_RST;
	return (int32_t)(s->ack - (p->isn + 1u)) >= 0 && (int32_t)(s->ack - snd_top(p)) <= 0;
}

/* Our own ACK, data, FIN or RST after the SYN, as the capture saw it go. */
static int is_own_later(const struct probe *p, const struct segment *s)
{
	return seg_on_tuple(s, &p->src, &p->dst, p->sport, p->dport) && !(s->flags & TCPF_SYN) &&
	       (int32_t)(s->seq - (p->isn + 1u)) >= 0 && (int32_t)(s->seq - snd_top(p)) <= 0;
}

/* Our first segment (a SYN, or a flag scan's) seen leaving. */
static int is_own_syn(const struct probe *p, const struct segment *s)
{
	return seg_on_tuple(s, &p->src, &p->dst, p->sport, p->dport) && s->flags == p->kind->flags &&
	       s->seq == p->isn;
}

static int is_icmp_for(const struct probe *p, const struct segment *s)
{
	const struct icmp_quote *q = &s->quote;
	/* our SYN, or in a PMTU test the segment in flight */
	bool seq = q->seq == p->isn || (p->state == PS_PMTU && q->seq == p->snd_una);
	return seq && icmp_quotes_tuple(s, &p->src, &p->dst, p->sport, p->dport);
}

/* From the peer, on the probe's 4-tuple, whatever it acknowledges. */
static int is_theirs(const struct probe *p, const struct segment *s)
{
	return seg_on_tuple(s, &p->dst, &p->src, p->dport, p->sport);
}

enum probe_event match_probe(const struct probe *p, const struct segment *seg)
{
	if (seg->kind == SEG_ICMP)
		return p->state != PS_DONE && is_icmp_for(p, seg) ? PEV_ICMP : 0;
	if (seg->kind != SEG_TCP)
		return 0;
	if (p->state == PS_DONE)
		return is_theirs(p, seg) ? PEV_LINGER : 0;
	if (is_own_syn(p, seg))
		return PEV_OWN_SYN;
	if (p->state == PS_SYN_SENT || (p->state == PS_FLUSH && p->rcv_nxt == 0))
		return is_reply(p, seg) ? PEV_TCP : is_own_later(p, seg) ? PEV_OWN_SEG
				: is_theirs(p, seg) ? PEV_STALE : 0;
	if (is_own_later(p, seg))
		return PEV_OWN_SEG;
	if (is_later_reply(p, seg))
		return PEV_TCP;
	return is_theirs(p, seg) ? PEV_STALE : 0;
}

struct probe *match_segment(const struct port_table *t, const struct segment *seg,
			    enum probe_event *ev)
{
	uint16_t cand[2];
	int n = 0;
	if (seg->kind == SEG_ICMP) {
		cand[n++] = seg->quote.sport;
	} else {
		cand[n++] = seg->dport; /* a reply to us */
		cand[n++] = seg->sport; /* our own SYN going out */
	}
	for (int i = 0; i < n; i++) {
		struct probe *p = port_table_get(t, cand[i]);
		if (p && p->state != PS_FREE) {
			enum probe_event e = match_probe(p, seg);
			if (e) {
				*ev = e;
				return p;
			}
		}
	}
	return NULL;
}
