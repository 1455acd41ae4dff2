/* probe.c - the probe state machine: SYN probes and full handshakes. */
#include "probe.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define RTO_MIN_NS (200 * INT64_C(1000000))

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t next_timer(const struct probe *p, int64_t now);

int64_t probe_start(struct probe *p, const struct probe_params *pp, int64_t syn_timeout_ns,
		    int64_t now_mono, int64_t now_wall)
{
	p->pp = pp;
	if (!p->kind) /* the run's kind when the caller named none */
		p->kind = pp->mode == PMODE_SYN ? &kind_syn : pp->http ? &kind_http : &kind_full;
	p->state = PS_SYN_SENT;
	p->sent_mono_ns = now_mono;
	p->sent_wall_ns = now_wall;
	p->snd_una = p->isn;
	p->snd_nxt = p->snd_max = p->isn + 1;
	p->rcv_nxt = 0;
	p->ts_ok = p->ws_ok = false;
	p->ts_recent = 0;
	p->peer_ws = 0;
	p->fin_sent = p->fin_acked = p->peer_fin = false;
	p->close_wanted = false;
	p->our_fin_wire_ns = p->req_wire_ns = 0;
	p->mark_set = false;
	p->mark_wire_ns = 0;
	p->phase_deadline = now_mono + syn_timeout_ns;
	p->rto_ns = RTO_MIN_NS;
	p->rtx_left = pp->retries;
	p->snd_wnd = 0;
	p->peer_mss = 536;
	p->persist_at = 0;
	p->persist_ns = 0;
	p->tw = false;
	p->reacked = false;
	p->rtx = 0;
	p->challenge_left = 3;
	memset(p->syn_wire, 0, sizeof(p->syn_wire));
	p->syns = 1;
	p->syns_seen = 0;
	p->rtt_clean = false;
	p->last_tsval = 0;
	p->syn_tsval[0] = probe_tsval(p, now_mono);
	p->syn_rto_ns = pp->syn_rto_ns;
	p->syn_next = pp->syn_rto_ns > 0 ? now_mono + pp->syn_rto_ns : 0;
	memset(&p->res, 0, sizeof(p->res));
	p->res.close_ns = -1;
	p->res.http.ttfb_ns = -1;
	p->res.tls_hello_ns = p->res.tls_handshake_ns = -1;
	p->res.syns = 1;
	/* a connection that goes on after the SYN/ACK: something to compare it with */
	p->res.mb.on = pp->middlebox && p->kind->handshake && p->kind->after != AFTER_RESET;
	return p->syn_next && p->syn_next < p->phase_deadline ? p->syn_next : p->phase_deadline;
}

uint32_t probe_tsval(struct probe *p, int64_t now_mono)
{
	uint32_t v = (uint32_t)(now_mono / 1000000);
	if (p->last_tsval && (int32_t)(v - p->last_tsval) <= 0)
		v = p->last_tsval + 1;
	p->last_tsval = v;
	return v;
}

/* A stream's window is its free room; without one (headers-only kinds
 * take data without keeping it) always the whole window. */
uint16_t probe_window(const struct probe *p)
{
	uint32_t w = p->stream ? stream_window(p->stream) : p->pp->window;
	if (p->ws_ok)
		w >>= (unsigned)p->pp->wscale;
	return (uint16_t)(w > 65535 ? 65535 : w);
}

static bool room(const struct probe_actions *a)
{
	return a->n < PROBE_OUT_MAX;
}

static void emit(struct probe_actions *a, uint8_t flags, uint32_t seq, uint32_t ack)
{
	if (room(a))
		a->out[a->n++] = (struct seg_out){ .flags = flags, .seq = seq, .ack = ack };
}

static void emit_ack(struct probe *p, struct probe_actions *a)
{
	emit(a, TCPF_ACK, p->snd_nxt, p->rcv_nxt);
}

static void emit_data(struct probe_actions *a, uint32_t seq, uint32_t ack, uint32_t off,
		      uint16_t len)
{
	if (room(a))
		a->out[a->n++] = (struct seg_out){ .flags = TCPF_PSH | TCPF_ACK, .seq = seq, .ack = ack,
						   .data_off = off, .data_len = len };
}

/* Our SYN again: the same ISN, a new timestamp value. */
static void emit_syn(struct probe *p, int64_t now, struct probe_actions *a)
{
	if (!room(a) || p->syns >= SYN_TRIES_MAX)
		return;
	uint32_t tsval = probe_tsval(p, now);
	p->syn_tsval[p->syns++] = tsval;
	p->res.syns = p->syns;
	a->out[a->n++] = (struct seg_out){ .flags = p->kind->flags, .seq = p->isn,
					   .ack = kind_sends_ack(p->kind) ? p->ack0 : 0, .syn = true,
					   .tsval = tsval };
}

/* Rounded to the nearest µs, clamped to what 32 bits hold (35 minutes). */
static int64_t ns_to_us_round(int64_t d)
{
	int64_t us = d >= 0 ? (d + 500) / 1000 : -((-d + 500) / 1000);
	return us > INT32_MAX ? INT32_MAX : us < INT32_MIN ? INT32_MIN : us;
}

static void log_seg(struct probe *p, char dir, uint8_t flags, int64_t ts)
{
	struct probe_result *r = &p->res;
	if (r->nlog == 0)
		r->log_t0_ns = ts;
	if (r->nlog < SEGLOG_MAX)
		r->log[r->nlog++] = (struct seg_log){ dir, flags, (int32_t)ns_to_us_round(ts - r->log_t0_ns) };
}

static void finish(struct probe *p, struct probe_actions *a)
{
	p->state = PS_DONE;
	a->done = true;
}

/* A new wait: its deadline, and the retransmission timer within it. */
/* The end of a wait that starts now: -W, never past the probe's own
 * deadline (--serve: the scrape's). */
static int64_t wait_end(const struct probe *p, int64_t now, int64_t wait_ns)
{
	int64_t end = now + wait_ns;
	return p->pp->deadline_ns && end > p->pp->deadline_ns ? p->pp->deadline_ns : end;
}

static void new_phase(struct probe *p, int64_t now, struct probe_actions *a)
{
	p->phase_deadline = wait_end(p, now, p->pp->timeout_ns);
	p->rtx_left = p->pp->retries;
	a->timer_at = min64(p->phase_deadline, now + p->rto_ns);
}

static void send_fin(struct probe *p, int64_t now, struct probe_actions *a)
{
	emit(a, TCPF_FIN | TCPF_ACK, p->snd_nxt, p->rcv_nxt);
	p->snd_nxt++;
	p->fin_sent = true;
	new_phase(p, now, a);
}

/* Which SYN a reply answers. With one SYN sent, that one. Else the answer
 * is sure only when the SYN whose timestamp it echoes is also the last one
 * seen leaving before it: a peer echoes the timestamp of the SYN that opened
 * its half-open entry (Linux keeps the first that reached it) even when it
 * answers a later one. Otherwise the RTT is taken from that last SYN (the
 * one a prompt answer is to) and is no sample for the retransmission timer
 * (Karn). -1 when no SYN was seen leaving. */
static int answered_syn(const struct probe *p, const struct segment *seg, bool *sure)
{
	*sure = true;
	if (p->syns == 1)
		return 0;
	int echo = -1, last = -1;
	if (seg->kind == SEG_TCP && seg->opt.has_ts)
		for (int k = 0; k < p->syns; k++)
			if (p->syn_tsval[k] == seg->opt.ts_ecr)
				echo = k;
	for (int k = p->syns - 1; k >= 0 && last < 0; k--)
		if (p->syn_wire[k] > 0 && p->syn_wire[k] <= seg->ts_ns)
			last = k;
	if (echo >= 0 && echo == last)
		return echo;
	*sure = false;
	return last;
}

/* Both ends from the capture when we saw that SYN leave; else the clock. */
static void take_rtt(struct probe *p, const struct segment *seg, int64_t now_mono)
{
	bool sure;
	p->res.reply_wall_ns = seg->ts_ns;
	int k = answered_syn(p, seg, &sure);
	p->rtt_clean = sure;
	if (k >= 0 && p->syn_wire[k] > 0 && seg->ts_ns >= p->syn_wire[k]) {
		p->res.rtt_ns = seg->ts_ns - p->syn_wire[k];
		p->res.rtt_source = RTT_WIRE;
	} else if (k == 0) {
		p->res.rtt_ns = now_mono - p->sent_mono_ns;
		p->res.rtt_source = RTT_CLOCK;
	} else {
		p->res.rtt_ns = 0;
		p->res.rtt_source = RTT_NONE;
	}
}

/* The retransmission timeout of our data: RFC 6298 from one clean sample
 * (3 x RTT, at least 200 ms, as Linux); a sample of a second or more may be
 * the peer's own SYN/ACK retransmission, so then the initial 1 s. */
static int64_t data_rto(const struct probe *p)
{
	if (p->res.rtt_source == RTT_NONE || !p->rtt_clean || p->res.rtt_ns >= RTO_INIT_NS)
		return RTO_INIT_NS;
	int64_t rto = 3 * p->res.rtt_ns;
	return rto < RTO_MIN_NS ? RTO_MIN_NS : rto;
}

/* Stream offsets: 0 is the first byte after our SYN. */
static uint32_t data_sent(const struct probe *p)
{
	return p->snd_nxt - (p->isn + 1) - (p->fin_sent ? 1u : 0u);
}

static uint32_t data_acked(const struct probe *p)
{
	return p->snd_una - (p->isn + 1);
}

/* Bytes queued that were never sent. */
static bool unsent(const struct probe *p)
{
	return p->stream && seq_lt(data_sent(p), stream_send_end(p->stream));
}

/* As much of what is queued as the peer's window and MSS allow; with
 * nothing in flight and no room, a zero-window probe timer. */
static void send_data(struct probe *p, int64_t now, struct probe_actions *a)
{
	if (p->fin_sent || !p->stream)
		return;
	uint32_t sent = data_sent(p), len;
	while (room(a) && (len = stream_next_len(p->stream, data_acked(p), sent, p->snd_wnd,
						 p->peer_mss)) > 0) {
		emit_data(a, p->snd_nxt, p->rcv_nxt, sent, (uint16_t)len);
		p->snd_nxt += len;
		sent += len;
	}
	if (unsent(p) && p->snd_una == p->snd_nxt) {
		if (!p->persist_at) {
			p->persist_ns = p->rto_ns;
			p->persist_at = now + p->persist_ns;
		}
	} else {
		p->persist_at = 0;
	}
}

/* The peer's window, from a segment that acknowledges something new or the
 * same (SYN/ACK windows are never scaled). */
static void take_window(struct probe *p, const struct segment *seg)
{
	uint32_t w = (seg->flags & TCPF_SYN) ? seg->win : (uint32_t)seg->win << p->peer_ws;
	p->snd_wnd = w;
}

static void app_send(struct probe *p, int64_t now, struct probe_actions *a);

/* A kind's application starts on a new stream (the slot's earlier probe
 * released its own). Without the memory for it the connection is reset:
 * the port is open, nothing more is known. */
static void open_app(struct probe *p, const struct segment *seg, int64_t now,
		     struct probe_actions *a)
{
	if (!p->stream)
		p->stream = stream_new(p->pp->window, PROBE_SEND_MAX);
	if (!p->stream) {
		emit(a, TCPF_RST | TCPF_ACK, p->snd_nxt, p->rcv_nxt);
		p->res.close = CLOSE_RST;
		finish(p, a);
		return;
	}
	stream_reset(p->stream, seg->seq);
	p->state = PS_APP;
	new_phase(p, now, a);
	/* --expect-timeout: the answer may be given less (or more) than -W */
	if (p->pp->app && p->pp->app->timeout_ns > 0) {
		p->phase_deadline = wait_end(p, now, p->pp->app->timeout_ns);
		a->timer_at = min64(p->phase_deadline, now + p->rto_ns);
	}
	if (p->kind->app->on_open)
		p->kind->app->on_open(p);
	app_send(p, now, a);
	if (p->persist_at && p->persist_at < a->timer_at)
		a->timer_at = p->persist_at;
}

/* ---- the PMTU test (--pmtu) ---------------------------------------------
 *
 * One segment of zeros at snd_una, as large as the peer's MSS and our
 * route's MTU allow, with DF (IPv4; IPv6 never fragments on the path). It
 * is ACKed (ok); or a router refuses it with an ICMP too-big quoting it,
 * and the size it names is tried (fragmentation-needed when that one
 * passes); or nothing comes back after PMTU_TRIES sends, each waiting the
 * retransmission timeout: lost, and the sizes between the largest ACKed
 * and the smallest lost are bisected (black-hole), first trying IPv6's
 * minimum MTU, 1280. The phase is bounded by -W; its verdict is the
 * largest size that passed by then, and a size still in flight at its
 * end is waited for one more RTO. A smaller size after a larger one was
 * lost takes its place in the sequence space (snd_nxt moves back; snd_max
 * keeps the highest sent): an ACK of any size, late or for part of it (the
 * server's buffer took less), proves the whole packet crossed, and moves
 * our close after what the server holds. */

#define PMTU_TRIES 2          /* sends of each size: one loss is no black hole */
#define PMTU_ICMPS 4          /* too-big errors followed: a bounded walk down */
#define PMTU_FLOOR_MTU 1280   /* IPv6's minimum link MTU (RFC 8200 5) */

const char *pmtu_verdict_name(enum pmtu_verdict v)
{
	static const char *const names[] = { "not-tested", "ok", "fragmentation-needed",
					     "black-hole" };
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "not-tested";
}

int pmtu_min_mtu(int family)
{
	return family == AF_INET6 ? PMTU_FLOOR_MTU : 68;
}

static uint16_t pmtu_packet(const struct probe *p, uint16_t payload)
{
	return (uint16_t)(payload + p->pmtu.hdr);
}

static void pmtu_send(struct probe *p, int64_t now, struct probe_actions *a)
{
	struct pmtu_walk *w = &p->pmtu;
	w->base = p->snd_una;
	p->snd_nxt = p->snd_una + w->cur;
	emit_data(a, p->snd_una, p->rcv_nxt, 0, w->cur);
	w->tries++;
	p->res.pmtu.sends++;
	a->timer_at = min64(p->phase_deadline, now + p->rto_ns);
}

/* A new size: sent for the first time. */
static void pmtu_try(struct probe *p, uint16_t size, bool from_icmp, int64_t now,
		     struct probe_actions *a)
{
	p->pmtu.cur = size;
	p->pmtu.tries = 0;
	p->pmtu.from_icmp = from_icmp;
	pmtu_send(p, now, a);
}

/* The verdict from what the walk found. */
static void pmtu_judge(struct probe *p)
{
	const struct pmtu_walk *w = &p->pmtu;
	struct pmtu_result *r = &p->res.pmtu;
	r->size = w->lo ? pmtu_packet(p, w->lo) : 0;
	if (w->lo && w->hi == 0)
		r->verdict = PMTU_OK;
	else if (w->lo && w->from_icmp && w->lo == w->cur)
		r->verdict = PMTU_FRAG_NEEDED;
	else if (w->hi)
		r->verdict = PMTU_BLACK_HOLE;
	else
		r->verdict = PMTU_NOT_TESTED;
}

/* --close rst after the test: at snd_una, and when the size in flight was
 * never ACKed also at the highest sequence sent, as the server may hold it
 * (or a part): the reset not at its rcv_nxt but in its window draws a
 * challenge ACK, which the lingering probe answers with a RST at its ack
 * (probe_closed_reply), the one it takes. */
static void pmtu_reset(struct probe *p, bool unsure, struct probe_actions *a)
{
	emit(a, TCPF_RST | TCPF_ACK, p->snd_nxt, p->rcv_nxt);
	if (unsure && p->snd_max != p->snd_nxt)
		emit(a, TCPF_RST | TCPF_ACK, p->snd_max, p->rcv_nxt);
	p->res.close = CLOSE_RST;
	finish(p, a);
}

/* The test is over: the verdict, then the close --close asks for, or
 * ours after theirs when the server closed first (as one that answers the
 * bytes with an error does). Bytes never ACKed count as lost: our FIN takes
 * their place; if the server has them after all, its answer to the FIN
 * acknowledges them and the FIN goes again after them (take_held). */
static void pmtu_close(struct probe *p, int64_t now, struct probe_actions *a)
{
	/* nothing of the size in flight ACKed: the server may hold it all the same */
	bool unsure = p->snd_nxt != p->snd_una && p->snd_una == p->pmtu.base;
	pmtu_judge(p);
	p->snd_nxt = p->snd_una;
	if (p->peer_fin) {
		p->res.close = CLOSE_PEER_FIN;
		p->state = PS_LAST_ACK;
		send_fin(p, now, a);
		return;
	}
	if (p->pp->close == CLOSE_RST) {
		pmtu_reset(p, unsure, a);
		return;
	}
	p->state = PS_FIN_WAIT;
	send_fin(p, now, a);
}

/* After an ACK or a loss: done, or the next size to try (none once the
 * server has closed). */
static void pmtu_next(struct probe *p, int64_t now, struct probe_actions *a)
{
	struct pmtu_walk *w = &p->pmtu;
	bool icmp_passed = w->from_icmp && w->lo == w->cur;
	if (w->hi == 0 || icmp_passed || w->hi - w->lo <= 1 || p->peer_fin || w->ending) {
		pmtu_close(p, now, a);
		return;
	}
	uint16_t floor = w->hdr < PMTU_FLOOR_MTU ? (uint16_t)(PMTU_FLOOR_MTU - w->hdr) : 0;
	if (w->lo == 0 && !w->floor_tried && floor > 0 && floor < w->hi) {
		w->floor_tried = true;
		pmtu_try(p, floor, false, now, a);
		return;
	}
	pmtu_try(p, (uint16_t)(w->lo + (w->hi - w->lo) / 2), false, now, a);
}

/* The handshake is done: the first, full size. Nothing to test without
 * room for a byte. */
static void pmtu_start(struct probe *p, int64_t now, struct probe_actions *a)
{
	struct pmtu_walk *w = &p->pmtu;
	memset(w, 0, sizeof(*w));
	int hdr = tcpip_hdr_len(p->dst.family), opt = p->ts_ok ? 12 : 0;
	int full = p->peer_mss;
	if (p->route_mtu > hdr && p->route_mtu - hdr < full)
		full = p->route_mtu - hdr;
	full -= opt;
	if (full > PMTU_PAYLOAD_MAX)
		full = PMTU_PAYLOAD_MAX;
	if (full > 0 && (uint32_t)full > p->snd_wnd) /* a server's window may be smaller */
		full = (int)p->snd_wnd;
	w->hdr = (uint16_t)(hdr + opt);
	w->full = (uint16_t)(full > 0 ? full : 0);
	if (full <= 0) {
		pmtu_close(p, now, a);
		return;
	}
	p->state = PS_PMTU;
	p->phase_deadline = wait_end(p, now, p->pp->timeout_ns);
	p->res.pmtu.first = pmtu_packet(p, (uint16_t)full);
	pmtu_try(p, (uint16_t)full, false, now, a);
}

/* A size passed: the bound below. A larger one counted lost that passed
 * after all (its ACK late) leaves the full size, never ACKed, above. */
static void pmtu_passed(struct pmtu_walk *w, uint32_t size)
{
	if (size > w->full)
		size = w->full;
	if (size > w->lo)
		w->lo = (uint16_t)size;
	if (w->hi && w->hi <= w->lo)
		w->hi = w->full > w->lo ? w->full : 0;
}

/* A segment from the peer: our test segment ACKed (the next size, or the
 * verdict), data or their FIN (an ACK; once they closed, the size in
 * flight is the last: its ACK or loss decides where our FIN goes). Any
 * ACK above where the sizes start proves a packet at least as large as the
 * one in flight crossed (the sizes at one snd_una only go down), one as
 * large as what it acknowledges. The timer of the size in flight runs on. */
static void pmtu_segment(struct probe *p, bool need_ack, int64_t now, struct probe_actions *a)
{
	struct pmtu_walk *w = &p->pmtu;
	uint32_t got = p->snd_una - w->base;
	bool acked = seq_lt(w->base, p->snd_una);
	if (acked)
		pmtu_passed(w, got > w->cur ? got : w->cur);
	int before = a->n;
	if (acked)
		pmtu_next(p, now, a);
	if (need_ack && a->n == before)
		emit_ack(p, a);
}

/* Silence for the size in flight: send it again, or count it lost. */
static void pmtu_timer(struct probe *p, int64_t now, struct probe_actions *a)
{
	struct pmtu_walk *w = &p->pmtu;
	if (now >= p->phase_deadline) {
		int64_t end = wait_end(p, now, p->rto_ns);
		if (!w->ending && p->snd_una != p->snd_nxt && end > now) {
			w->ending = true; /* it may pass still: then our close goes after it */
			p->phase_deadline = end;
			a->timer_at = end;
			return;
		}
		pmtu_close(p, now, a);
		return;
	}
	if (w->tries < PMTU_TRIES) { /* the test's own loss: not counted in rtx */
		pmtu_send(p, now, a);
		return;
	}
	w->hi = w->cur;
	pmtu_next(p, now, a);
}

/* An ICMP too-big for the size in flight (its quote is our segment, of
 * that length): the next-hop MTU it names is tried, when it is below that
 * size and above what passed; else it counts as a loss. */
static void pmtu_icmp(struct probe *p, const struct segment *seg, int64_t now,
		      struct probe_actions *a)
{
	struct pmtu_walk *w = &p->pmtu;
	if (!decode_is_too_big(seg) || p->snd_una == p->snd_nxt ||
	    seg->quote.len != pmtu_packet(p, w->cur))
		return;
	p->res.pmtu.next_hop = seg->icmp_mtu;
	p->res.pmtu.from = seg->src;
	w->hi = w->cur;
	uint32_t mtu = seg->icmp_mtu;
	if (w->icmps++ < PMTU_ICMPS && mtu > w->hdr && mtu - w->hdr < w->cur &&
	    mtu - w->hdr > w->lo && !p->peer_fin && !w->ending) {
		pmtu_try(p, (uint16_t)(mtu - w->hdr), true, now, a);
		return;
	}
	pmtu_next(p, now, a);
}

/* The handshake is complete: ACK it, then what the run asked for. */
static void established(struct probe *p, const struct segment *seg, int64_t now,
			struct probe_actions *a)
{
	const struct probe_params *pp = p->pp;
	p->res.established = true;
	p->rcv_nxt = seg->seq + 1;
	p->snd_una = p->isn + 1;
	/* negotiated only when both ends offered them (RFC 7323) */
	p->ts_ok = pp->ts && seg->opt.has_ts;
	p->ts_recent = seg->opt.ts_val;
	p->ws_ok = pp->wscale >= 0 && seg->opt.wscale >= 0;
	p->peer_ws = p->ws_ok ? (uint8_t)(seg->opt.wscale > 14 ? 14 : seg->opt.wscale) : 0;
	p->peer_mss = seg->opt.mss ? seg->opt.mss : 536;
	take_window(p, seg);
	p->rto_ns = data_rto(p);
	p->syn_next = 0;
	emit_ack(p, a);
	if (p->kind->after == AFTER_PMTU) {
		pmtu_start(p, now, a);
	} else if (pp->close == CLOSE_RST) {
		emit(a, TCPF_RST | TCPF_ACK, p->snd_nxt, p->rcv_nxt);
		p->res.close = CLOSE_RST;
		finish(p, a);
	} else if (p->kind->after == AFTER_APP && p->kind->app) {
		open_app(p, seg, now, a);
	} else {
		p->state = PS_FIN_WAIT;
		send_fin(p, now, a);
	}
}

static void on_reply(struct probe *p, const struct segment *seg, int64_t now,
		     struct probe_actions *a)
{
	take_rtt(p, seg, now);
	p->res.flags = seg->flags;
	p->res.ttl = seg->ttl;
	p->res.win = seg->win;
	p->res.mss = seg->opt.mss;
	p->res.outcome = p->kind->classify(p, seg, false);
	if (!p->kind->handshake || (seg->flags & TCPF_RST)) {
		finish(p, a);
		return;
	}
	if (p->kind->after == AFTER_RESET) {
		emit(a, TCPF_RST, p->isn + 1, 0);
		finish(p, a);
		return;
	}
	mb_synack(&p->res.mb, seg);
	established(p, seg, now, a);
}

/* What a segment brought us. */
struct rcvd {
	bool need_ack;
	uint32_t fresh;             /* bytes delivered in order now (a stream) */
	bool fin;                   /* the peer's FIN is in now */
	bool fin_again;             /* our FIN goes again, after bytes the peer holds */
};

/* Into the stream: only bytes the capture kept (the rest of a segment it
 * cut counts as not received, and so does its FIN). */
static void take_stream_data(struct probe *p, const struct segment *seg, struct rcvd *r)
{
	size_t cap = seg->payload_cap < seg->payload_len ? seg->payload_cap : seg->payload_len;
	bool whole = cap == seg->payload_len;
	struct stream_rx rx;
	stream_receive(p->stream, seg->seq, seg->payload, (uint32_t)cap,
		       (seg->flags & TCPF_FIN) && whole, &rx);
	p->rcv_nxt = stream_rcv_nxt(p->stream);
	r->fresh = rx.fresh;
	r->fin = rx.fin;
	/* data, or a FIN beyond a hole: the (duplicate) ACK says what we have */
	r->need_ack = seg->payload_len > 0 || rx.fin ||
		      ((seg->flags & TCPF_FIN) && !p->peer_fin && rx.out_of_order);
}

/* Without a stream the bytes are acknowledged, not kept: in order only
 * (a duplicate ACK asks for what is missing). */
static void take_plain_data(struct probe *p, const struct segment *seg, struct rcvd *r)
{
	bool in_order = seg->seq == p->rcv_nxt;
	if (seg->payload_len > 0) {
		r->need_ack = true;
		if (!in_order)
			return;
		p->rcv_nxt += (uint32_t)seg->payload_len;
	}
	r->fin = (seg->flags & TCPF_FIN) && in_order && !p->peer_fin;
	if (r->fin) {
		p->rcv_nxt++;
		r->need_ack = true;
	}
}

/* An ACK above snd_nxt, up to snd_max: bytes of a PMTU test size taken
 * back (counted lost, or still in flight when the test ended) reached the
 * server after all. Our FIN, if sent, was below its rcv_nxt, a duplicate
 * it dropped: it is to go again after them (true). */
static bool take_held(struct probe *p, uint32_t ack)
{
	p->snd_nxt = ack;
	if (!p->fin_sent)
		return false;
	p->snd_nxt++;
	return true;
}

/* What the peer acknowledges of ours, and its window; true if our FIN is
 * to go again at once (take_held). */
static bool take_ack(struct probe *p, const struct segment *seg)
{
	bool moved = false;
	if (seq_leq(p->snd_una, seg->ack) && seq_leq(seg->ack, p->snd_max)) {
		if (seq_lt(p->snd_una, seg->ack)) {
			/* progress: the retry budget and the timer are whole again */
			p->rtx_left = p->pp->retries;
			p->rto_ns = data_rto(p);
		}
		if (seq_lt(p->snd_nxt, seg->ack))
			moved = take_held(p, seg->ack);
		p->snd_una = seg->ack;
		take_window(p, seg);
		if (p->stream)
			stream_acked(p->stream, data_acked(p));
	}
	if (p->fin_sent && p->snd_una == p->snd_nxt)
		p->fin_acked = true;
	return moved;
}

/* A segment of the established connection; false if it is to be ignored. */
static bool take_segment(struct probe *p, const struct segment *seg, struct rcvd *r)
{
	if (seg->flags & TCPF_SYN) {
		/* their SYN/ACK again: our ACK was lost; say it again */
		r->need_ack = seg->seq + 1 == p->rcv_nxt;
		return r->need_ack;
	}
	if (seg->opt.has_ts)
		p->ts_recent = seg->opt.ts_val;
	r->fin_again = take_ack(p, seg);
	if (p->stream)
		take_stream_data(p, seg, r);
	else
		take_plain_data(p, seg, r);
	if (r->fin) {
		p->peer_fin = true;
		if (p->our_fin_wire_ns > 0 && seg->ts_ns >= p->our_fin_wire_ns)
			p->res.close_ns = seg->ts_ns - p->our_fin_wire_ns;
	}
	return true;
}

/* New bytes in order, or the peer's FIN, for the application: it consumes
 * what it is done with and may queue bytes or say it is done. */
static void feed_app(struct probe *p, const struct rcvd *r, int64_t ts_ns)
{
	if (!p->stream || (r->fresh == 0 && !r->fin))
		return;
	struct app_input in = { .fresh = r->fresh, .ts_ns = ts_ns, .eof = p->peer_fin };
	in.len = stream_readable(p->stream, &in.data);
	size_t consumed = 0;
	if (p->kind->app->on_data(p, &in, &consumed) == APP_CLOSE)
		p->close_wanted = true;
	stream_consume(p->stream, consumed);
}

/* What the application queued, as the window allows; its close once all
 * of it is out. */
static void app_send(struct probe *p, int64_t now, struct probe_actions *a)
{
	send_data(p, now, a);
	if (p->state == PS_APP && p->close_wanted && !unsent(p)) {
		p->state = PS_FIN_WAIT;
		p->persist_at = 0;
		send_fin(p, now, a);
	}
}

static void on_established_segment(struct probe *p, const struct segment *seg, int64_t now,
				   struct probe_actions *a)
{
	if (seg->flags & TCPF_RST) {
		if (seg->seq != p->rcv_nxt)
			return; /* out of window: not believed (RFC 5961) */
		log_seg(p, '<', seg->flags, seg->ts_ns);
		mb_later(&p->res.mb, seg, p->isn + 1, p->isn + 1 + data_sent(p));
		if (p->state == PS_PMTU)
			pmtu_judge(p);
		p->res.close = CLOSE_PEER_RST;
		finish(p, a);
		return;
	}
	struct rcvd r = { 0 };
	if (!take_segment(p, seg, &r))
		return;
	log_seg(p, '<', seg->flags, seg->ts_ns);
	mb_later(&p->res.mb, seg, p->isn + 1, p->isn + 1 + data_sent(p));
	if (p->state == PS_PMTU) {
		pmtu_segment(p, r.need_ack, now, a);
		return;
	}
	if (r.fin_again) {
		if (p->kind->after == AFTER_PMTU) { /* a size that passed, late: the verdict says so */
			pmtu_passed(&p->pmtu, p->snd_una - p->pmtu.base);
			pmtu_judge(p);
		}
		emit(a, TCPF_FIN | TCPF_ACK, p->snd_nxt - 1, p->rcv_nxt);
		r.need_ack = false;
		a->timer_at = next_timer(p, now);
	}
	feed_app(p, &r, seg->ts_ns);
	if (p->state == PS_APP && p->peer_fin) {
		/* the server closed first, as HTTP with Connection: close does */
		p->res.close = CLOSE_PEER_FIN;
		p->state = PS_LAST_ACK;
		send_fin(p, now, a);
		return;
	}
	if (p->state == PS_APP) {
		int before = a->n;
		app_send(p, now, a);
		if (a->n > before)
			r.need_ack = false; /* the data (or our FIN) carries the ACK */
	}
	if (r.need_ack)
		emit_ack(p, a);
	if (p->state == PS_APP)
		a->timer_at = next_timer(p, now);
	if (p->state == PS_FIN_WAIT && p->peer_fin && p->fin_acked) {
		p->res.close = CLOSE_FIN;
		p->tw = true; /* we closed first: TIME-WAIT is ours */
		finish(p, a);
	} else if (p->state == PS_LAST_ACK && p->fin_acked) {
		finish(p, a);
	}
}

/* The wait of an established probe: the phase's end, the retransmission
 * of what is in flight, a zero-window probe. */
static int64_t next_timer(const struct probe *p, int64_t now)
{
	int64_t t = p->phase_deadline;
	if (p->snd_una != p->snd_nxt)
		t = min64(t, now + p->rto_ns);
	if (p->persist_at)
		t = min64(t, p->persist_at);
	return t;
}

/* No answer to our SYNs by the deadline. A SYN the capture never saw leave
 * was never sent: the kernel could not resolve the next hop. */
static void syn_timeout(struct probe *p, struct probe_actions *a)
{
	p->res.outcome = p->kind->classify(p, NULL, false);
	if (p->syns_seen == 0 && p->pp->own_reliable) {
		p->res.outcome = OUTCOME_UNREACHABLE;
		p->res.no_neighbour = true;
		p->res.icmp_type = ICMP_NO_NEIGHBOUR;
		p->res.icmp_code = 0;
		p->res.icmp_from = p->src;
	}
	finish(p, a);
}

static void on_syn_timer(struct probe *p, int64_t now, struct probe_actions *a)
{
	if (now >= p->phase_deadline) {
		syn_timeout(p, a);
		return;
	}
	if (p->syn_next && now >= p->syn_next) {
		emit_syn(p, now, a);
		p->syn_rto_ns *= 2;
		p->syn_next = p->syns < SYN_TRIES_MAX ? now + p->syn_rto_ns : 0;
	}
	a->timer_at = p->syn_next ? min64(p->phase_deadline, p->syn_next) : p->phase_deadline;
}

/* What is in flight again, from snd_una: a segment of our data, or our FIN. */
static void retransmit(struct probe *p, struct probe_actions *a)
{
	p->rtx++;
	uint32_t len = p->stream ? stream_rtx_len(p->stream, data_acked(p), data_sent(p), p->peer_mss)
				 : 0;
	if (len > 0) {
		emit_data(a, p->snd_una, p->rcv_nxt, data_acked(p), (uint16_t)len);
	} else if (p->fin_sent) {
		emit(a, TCPF_FIN | TCPF_ACK, p->snd_nxt - 1, p->rcv_nxt);
	}
}

static void on_timer(struct probe *p, int64_t now, struct probe_actions *a)
{
	if (p->state == PS_SYN_SENT) {
		on_syn_timer(p, now, a);
		return;
	}
	if (p->state == PS_PMTU) {
		pmtu_timer(p, now, a);
		return;
	}
	if (now >= p->phase_deadline) {
		if (p->state == PS_APP) {
			if (p->kind->app->on_timeout)
				p->kind->app->on_timeout(p);
			/* no answer or no close in time: end it politely anyway */
			p->state = PS_FIN_WAIT;
			p->persist_at = 0;
			send_fin(p, now, a);
			return;
		}
		emit(a, TCPF_RST | TCPF_ACK, p->snd_nxt, p->rcv_nxt);
		p->res.close = CLOSE_TIMEOUT;
		finish(p, a);
		return;
	}
	if (p->persist_at && now >= p->persist_at) {
		/* a zero window: one byte beyond it asks for its update (RFC 9293
		 * 3.8.6.1); the peer acknowledges it at once, where an old sequence
		 * number would meet its rate limit for invalid segments. Then it
		 * is in flight, sent again on the retransmission timer. */
		p->persist_at = 0;
		if (unsent(p)) {
			emit_data(a, p->snd_nxt, p->rcv_nxt, data_sent(p), 1);
			p->snd_nxt++;
		}
	} else if (p->snd_una != p->snd_nxt && p->rtx_left > 0) {
		p->rtx_left--;
		retransmit(p, a);
		p->rto_ns *= 2;
	}
	a->timer_at = next_timer(p, now);
}

/* Done, once the capture has seen our last segments leave. */
static void flush(struct probe *p, int64_t now, struct probe_actions *a)
{
	if (!a->done || a->n == 0)
		return;
	a->done = false;
	p->state = PS_FLUSH;
	p->own_pending = a->n;
	a->timer_at = now + min64(p->rto_ns, p->pp->timeout_ns);
}

static void on_flush(struct probe *p, enum probe_event ev, const struct segment *seg,
		     struct probe_actions *a)
{
	if (ev == PEV_OWN_SEG) {
		log_seg(p, '>', seg->flags, seg->ts_ns);
		if (--p->own_pending <= 0)
			finish(p, a);
	} else if (ev == PEV_TCP && (seg->flags & TCPF_FIN) && seg->seq + 1 == p->rcv_nxt) {
		log_seg(p, '<', seg->flags, seg->ts_ns);
		emit_ack(p, a); /* their FIN again: our last ACK was lost */
		p->own_pending++;
	} else if (ev == PEV_TIMER) {
		finish(p, a);
	}
}

/* Our SYN seen leaving: which one, by its timestamp value, else in order. */
static void own_syn(struct probe *p, const struct segment *seg)
{
	int k = -1;
	if (seg->opt.has_ts)
		for (int i = 0; i < p->syns && k < 0; i++)
			if (p->syn_tsval[i] == seg->opt.ts_val && p->syn_wire[i] == 0)
				k = i;
	if (k < 0 && !seg->opt.has_ts)
		for (int i = 0; i < p->syns && k < 0; i++)
			if (p->syn_wire[i] == 0)
				k = i;
	if (k >= 0) {
		p->syn_wire[k] = seg->ts_ns;
		p->syns_seen++;
	}
}

static void on_own(struct probe *p, enum probe_event ev, const struct segment *seg)
{
	log_seg(p, '>', seg->flags, seg->ts_ns);
	if (ev == PEV_OWN_SYN) {
		own_syn(p, seg);
		return;
	}
	mb_ours(&p->res.mb, seg);
	if ((seg->flags & TCPF_FIN) && p->our_fin_wire_ns == 0)
		p->our_fin_wire_ns = seg->ts_ns;
	if (seg->payload_len > 0 && p->req_wire_ns == 0)
		p->req_wire_ns = seg->ts_ns;
	/* the marked byte, in this segment's payload (offsets from ISS + 1) */
	if (p->mark_set && p->mark_wire_ns == 0 && seg->payload_len > 0 &&
	    p->mark_off - (seg->seq - (p->isn + 1)) < (uint32_t)seg->payload_len)
		p->mark_wire_ns = seg->ts_ns;
}

static void step(struct probe *p, enum probe_event ev, const struct segment *seg,
		 int64_t now_mono, struct probe_actions *a);
bool probe_closed_reply(const struct segment *seg, struct seg_out *o)
{
	if (seg->kind != SEG_TCP || (seg->flags & TCPF_RST))
		return false;
	memset(o, 0, sizeof(*o));
	if (seg->flags & TCPF_ACK) {
		o->flags = TCPF_RST;
		o->seq = seg->ack;
	} else {
		o->flags = TCPF_RST | TCPF_ACK;
		o->ack = seg->seq + (uint32_t)seg->payload_len + !!(seg->flags & TCPF_SYN) +
			 !!(seg->flags & TCPF_FIN);
	}
	return true;
}

/* Does seg acknowledge what this probe's connection sent, and only that? */
static bool acks_own(const struct probe *p, const struct segment *seg)
{
	return (seg->flags & TCPF_ACK) && (int32_t)(seg->ack - (p->isn + 1u)) >= 0 &&
	       (int32_t)(seg->ack - p->snd_nxt) <= 0;
}

/* A DONE probe lingers: in TIME-WAIT their FIN again means our last ACK
 * was lost, so it is sent again; otherwise the 4-tuple is CLOSED. A
 * segment acknowledging another connection's sequence numbers (a trace's
 * SYN/ACK after the trace, on the same port) is not this one's: it gets
 * the closed port's reply even in TIME-WAIT, or the server's half-open
 * connection would retransmit for a minute. */
static void on_linger(struct probe *p, const struct segment *seg, int64_t now,
		      struct probe_actions *a)
{
	struct seg_out o;
	if (p->tw && (acks_own(p, seg) || !(seg->flags & TCPF_ACK))) {
		if ((seg->flags & TCPF_FIN) && !(seg->flags & TCPF_RST) && seg->seq + 1 == p->rcv_nxt) {
			p->reacked = true;
			struct seg_out ack = { .flags = TCPF_ACK, .seq = p->snd_nxt, .ack = p->rcv_nxt,
					       .tsval = probe_tsval(p, now) };
			a->out[a->n++] = ack;
		}
		return;
	}
	if (probe_closed_reply(seg, &o))
		a->out[a->n++] = o;
}

/* A segment of our 4-tuple acknowledging what we never sent. Before the
 * handshake it belongs to an older connection the peer still holds: reset
 * it at its own ack (RFC 9293 3.10.7.3); our SYN sent again at its time
 * then opens the new one. After, it is out of window: a challenge ACK (RFC
 * 5961), a few at most. */
static void on_stale(struct probe *p, const struct segment *seg, struct probe_actions *a)
{
	if (seg->flags & TCPF_RST)
		return;
	if (p->state == PS_SYN_SENT) {
		if (!(seg->flags & TCPF_ACK))
			return;
		emit(a, TCPF_RST, seg->ack, 0);
		return;
	}
	if (p->challenge_left > 0 && p->state != PS_FLUSH) {
		p->challenge_left--;
		emit_ack(p, a);
	}
}

/* Every segment of ours carries a timestamp value that never goes back. */
static void stamp(struct probe *p, int64_t now, struct probe_actions *a)
{
	for (int i = 0; i < a->n; i++)
		if (!a->out[i].syn && !a->out[i].tsval)
			a->out[i].tsval = probe_tsval(p, now);
}

void probe_step(struct probe *p, enum probe_event ev, const struct segment *seg,
		int64_t now_mono, struct probe_actions *a)
{
	memset(a, 0, sizeof(*a));
	if (p->state == PS_FREE)
		return;
	if (p->state == PS_DONE) {
		if (ev == PEV_LINGER || ev == PEV_STALE)
			on_linger(p, seg, now_mono, a);
		return;
	}
	if (ev == PEV_STALE) {
		on_stale(p, seg, a);
	} else if (p->state == PS_FLUSH) {
		on_flush(p, ev, seg, a);
	} else {
		step(p, ev, seg, now_mono, a);
		flush(p, now_mono, a);
	}
	if (seq_lt(p->snd_max, p->snd_nxt))
		p->snd_max = p->snd_nxt;
	stamp(p, now_mono, a);
}

static void step(struct probe *p, enum probe_event ev, const struct segment *seg,
		 int64_t now_mono, struct probe_actions *a)
{
	switch (ev) {
	case PEV_OWN_SYN:
	case PEV_OWN_SEG:
		on_own(p, ev, seg);
		return;
	case PEV_ICMP:
		if (p->state == PS_PMTU)
			pmtu_icmp(p, seg, now_mono, a);
		if (p->state != PS_SYN_SENT)
			return;
		take_rtt(p, seg, now_mono);
		p->res.outcome = p->kind->classify(p, seg, true);
		p->res.icmp = true;
		p->res.icmp_type = seg->icmp_type;
		p->res.icmp_code = seg->icmp_code;
		p->res.icmp_from = seg->src;
		p->res.ttl = seg->ttl;
		finish(p, a);
		return;
	case PEV_TCP:
		if (p->state == PS_SYN_SENT) {
			log_seg(p, '<', seg->flags, seg->ts_ns);
			on_reply(p, seg, now_mono, a);
		} else {
			on_established_segment(p, seg, now_mono, a);
		}
		return;
	case PEV_TIMER:
		on_timer(p, now_mono, a);
		return;
	case PEV_STALE:
	case PEV_LINGER:
		return; /* handled in probe_step */
	}
}

bool probe_send(struct probe *p, const void *data, size_t n)
{
	return p->stream && stream_append(p->stream, data, n);
}

void probe_mark_send(struct probe *p)
{
	if (!p->stream)
		return;
	p->mark_off = stream_send_end(p->stream);
	p->mark_set = true;
	p->mark_wire_ns = 0;
}

/* A PMTU test segment's bytes: zeros, read-only. */
static const uint8_t pmtu_zeros[PMTU_PAYLOAD_MAX];

const uint8_t *probe_seg_payload(const struct probe *p, const struct seg_out *o)
{
	if (!p->stream && p->kind && p->kind->after == AFTER_PMTU && o->data_len > 0 &&
	    o->data_len <= PMTU_PAYLOAD_MAX)
		return pmtu_zeros;
	if (!p->stream || o->data_len == 0)
		return NULL;
	return stream_send_bytes(p->stream, o->data_off, o->data_len);
}

void probe_release(struct probe *p)
{
	if (p->kind && p->kind->app && p->kind->app->on_release)
		p->kind->app->on_release(p);
	p->app = NULL;
	stream_free(p->stream);
	p->stream = NULL;
}

void probe_middlebox(const struct probe_result *res, struct mb_judgement *j)
{
	mb_judge(&res->mb, res->rtt_source != RTT_NONE ? res->rtt_ns : 0, j);
}

const char *outcome_name(enum outcome o)
{
	switch (o) {
	case OUTCOME_OPEN:
		return "open";
	case OUTCOME_CLOSED:
		return "closed";
	case OUTCOME_FILTERED:
		return "filtered";
	case OUTCOME_UNREACHABLE:
		return "unreachable";
	case OUTCOME_UNFILTERED:
		return "unfiltered";
	case OUTCOME_OPEN_FILTERED:
		return "open|filtered";
	default:
		return "none";
	}
}

const char *close_name(enum close_kind c)
{
	switch (c) {
	case CLOSE_FIN:
		return "fin";
	case CLOSE_RST:
		return "rst";
	case CLOSE_PEER_FIN:
		return "peer-fin";
	case CLOSE_PEER_RST:
		return "peer-rst";
	case CLOSE_TIMEOUT:
		return "timeout";
	default:
		return NULL;
	}
}

int http_status(const uint8_t *p, size_t len)
{
	/* "HTTP/" 1*DIGIT "." 1*DIGIT SP 3DIGIT, or "HTTP/2 200" */
	size_t i = 5;
	if (len < 12 || memcmp(p, "HTTP/", 5) != 0)
		return 0;
	while (i < len && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
		i++;
	if (i + 4 > len || p[i] != ' ')
		return 0;
	int code = 0;
	for (size_t k = i + 1; k < i + 4; k++) {
		if (p[k] < '0' || p[k] > '9')
			return 0;
		code = code * 10 + (p[k] - '0');
	}
	if (i + 4 < len && p[i + 4] != ' ' && p[i + 4] != '\r')
		return 0;
	return code >= 100 ? code : 0;
}

static const char *icmp4_unreach[16] = {
	[0] = "net-unreachable",   [1] = "host-unreachable", [2] = "protocol-unreachable",
	[3] = "port-unreachable",  [4] = "frag-needed",      [9] = "net-prohibited",
	[10] = "host-prohibited",  [13] = "admin-prohibited",
};

static const char *icmp6_unreach[8] = {
	[0] = "net-unreachable",  [1] = "admin-prohibited",     [3] = "host-unreachable",
	[4] = "port-unreachable", [5] = "source-policy-failed", [6] = "reject-route",
};

const char *icmp_name(int family, uint8_t type, uint8_t code, char *buf, size_t len)
{
	const char *name = NULL;
	if (type == ICMP_NO_NEIGHBOUR && code == 0)
		name = "no-neighbour";
	else if (family == AF_INET && type == ICMP4_UNREACH && code < 16)
		name = icmp4_unreach[code];
	else if (family == AF_INET6 && type == ICMP6_UNREACH && code < 8)
		name = icmp6_unreach[code];
	else if (icmp_is_time_exceeded(family, type))
		name = "ttl-exceeded";
	else if (family == AF_INET6 && type == ICMP6_PACKET_TOO_BIG)
		name = "packet-too-big";
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "code-%u", code);
	return buf;
}
