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

int64_t probe_start(struct probe *p, const struct probe_params *pp, int64_t syn_timeout_ns,
		    int64_t now_mono, int64_t now_wall)
{
	p->pp = pp;
	p->state = PS_SYN_SENT;
	p->sent_mono_ns = now_mono;
	p->sent_wall_ns = now_wall;
	p->syn_wire_ns = 0;
	p->snd_una = p->isn;
	p->snd_nxt = p->isn + 1;
	p->rcv_nxt = 0;
	p->ts_ok = p->ws_ok = false;
	p->ts_recent = 0;
	p->peer_ws = 0;
	p->fin_sent = p->fin_acked = p->peer_fin = false;
	p->our_fin_wire_ns = p->req_wire_ns = 0;
	p->phase_deadline = now_mono + syn_timeout_ns;
	p->rto_ns = RTO_MIN_NS;
	p->rtx_left = pp->retries;
	memset(&p->res, 0, sizeof(p->res));
	p->res.close_ns = -1;
	p->res.http.ttfb_ns = -1;
	return p->phase_deadline;
}

uint16_t probe_window(const struct probe *p)
{
	uint32_t w = p->pp->window;
	if (p->ws_ok)
		w >>= (unsigned)p->pp->wscale;
	return (uint16_t)(w > 65535 ? 65535 : w);
}

static void emit(struct probe_actions *a, uint8_t flags, uint32_t seq, uint32_t ack, bool req)
{
	if (a->n < (int)(sizeof(a->out) / sizeof(a->out[0])))
		a->out[a->n++] = (struct seg_out){ flags, seq, ack, req };
}

static void emit_ack(struct probe *p, struct probe_actions *a)
{
	emit(a, TCPF_ACK, p->snd_nxt, p->rcv_nxt, false);
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
static void new_phase(struct probe *p, int64_t now, struct probe_actions *a)
{
	p->phase_deadline = now + p->pp->timeout_ns;
	p->rtx_left = p->pp->retries;
	a->timer_at = min64(p->phase_deadline, now + p->rto_ns);
}

static void send_fin(struct probe *p, int64_t now, struct probe_actions *a)
{
	emit(a, TCPF_FIN | TCPF_ACK, p->snd_nxt, p->rcv_nxt, false);
	p->snd_nxt++;
	p->fin_sent = true;
	new_phase(p, now, a);
}

/* Both ends from the capture when we saw our own SYN; else the clock. */
static void take_rtt(struct probe *p, const struct segment *seg, int64_t now_mono)
{
	p->res.reply_wall_ns = seg->ts_ns;
	if (p->syn_wire_ns > 0 && seg->ts_ns >= p->syn_wire_ns) {
		p->res.rtt_ns = seg->ts_ns - p->syn_wire_ns;
		p->res.rtt_source = RTT_WIRE;
	} else {
		p->res.rtt_ns = now_mono - p->sent_mono_ns;
		p->res.rtt_source = RTT_CLOCK;
	}
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
	p->peer_ws = p->ws_ok ? (uint8_t)seg->opt.wscale : 0;
	int64_t rto = 2 * p->res.rtt_ns;
	p->rto_ns = rto < RTO_MIN_NS ? RTO_MIN_NS : rto;
	emit_ack(p, a);
	if (pp->close == CLOSE_RST) {
		emit(a, TCPF_RST | TCPF_ACK, p->snd_nxt, p->rcv_nxt, false);
		p->res.close = CLOSE_RST;
		finish(p, a);
	} else if (pp->http) {
		emit(a, TCPF_PSH | TCPF_ACK, p->snd_nxt, p->rcv_nxt, true);
		p->snd_nxt += (uint32_t)p->req_len;
		p->state = PS_HTTP;
		new_phase(p, now, a);
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
	if (seg->flags & TCPF_RST) {
		p->res.outcome = OUTCOME_CLOSED;
		finish(p, a);
		return;
	}
	p->res.outcome = OUTCOME_OPEN;
	if (p->pp->mode == PMODE_SYN) {
		emit(a, TCPF_RST, p->isn + 1, 0, false);
		finish(p, a);
		return;
	}
	established(p, seg, now, a);
}

static void on_data(struct probe *p, const struct segment *seg)
{
	struct http_result *h = &p->res.http;
	if (h->bytes == 0) {
		h->status = http_status(seg->payload, seg->payload_cap);
		if (p->req_wire_ns > 0 && seg->ts_ns >= p->req_wire_ns)
			h->ttfb_ns = seg->ts_ns - p->req_wire_ns;
	}
	h->bytes += seg->payload_len;
}

/* A segment of the established connection; false if it is to be ignored. */
static bool take_segment(struct probe *p, const struct segment *seg, bool *need_ack)
{
	if (seg->flags & TCPF_SYN) {
		/* their SYN/ACK again: our ACK was lost; say it again */
		*need_ack = seg->seq + 1 == p->rcv_nxt;
		return *need_ack;
	}
	if (seg->opt.has_ts)
		p->ts_recent = seg->opt.ts_val;
	if (seq_lt(p->snd_una, seg->ack) && seq_leq(seg->ack, p->snd_nxt))
		p->snd_una = seg->ack;
	if (p->fin_sent && p->snd_una == p->snd_nxt)
		p->fin_acked = true;
	bool in_order = seg->seq == p->rcv_nxt;
	if (seg->payload_len > 0) {
		*need_ack = true;
		if (!in_order)
			return true; /* a duplicate ACK asks for what is missing */
		on_data(p, seg);
		p->rcv_nxt += (uint32_t)seg->payload_len;
	}
	if ((seg->flags & TCPF_FIN) && in_order && !p->peer_fin) {
		p->rcv_nxt++;
		p->peer_fin = true;
		*need_ack = true;
		if (p->our_fin_wire_ns > 0 && seg->ts_ns >= p->our_fin_wire_ns)
			p->res.close_ns = seg->ts_ns - p->our_fin_wire_ns;
	}
	return true;
}

static void on_established_segment(struct probe *p, const struct segment *seg, int64_t now,
				   struct probe_actions *a)
{
	if (seg->flags & TCPF_RST) {
		if (seg->seq != p->rcv_nxt)
			return; /* out of window: not believed (RFC 5961) */
		log_seg(p, '<', seg->flags, seg->ts_ns);
		p->res.close = CLOSE_PEER_RST;
		finish(p, a);
		return;
	}
	bool need_ack = false;
	if (!take_segment(p, seg, &need_ack))
		return;
	log_seg(p, '<', seg->flags, seg->ts_ns);
	if (p->state == PS_HTTP && p->peer_fin) {
		/* the server closed first, as HTTP with Connection: close does */
		p->res.close = CLOSE_PEER_FIN;
		p->state = PS_LAST_ACK;
		send_fin(p, now, a);
		return;
	}
	if (need_ack)
		emit_ack(p, a);
	if (p->state == PS_FIN_WAIT && p->peer_fin && p->fin_acked) {
		p->res.close = CLOSE_FIN;
		finish(p, a);
	} else if (p->state == PS_LAST_ACK && p->fin_acked) {
		finish(p, a);
	}
}

static void on_timer(struct probe *p, int64_t now, struct probe_actions *a)
{
	if (p->state == PS_SYN_SENT) {
		p->res.outcome = OUTCOME_FILTERED;
		finish(p, a);
		return;
	}
	if (now >= p->phase_deadline) {
		if (p->state == PS_HTTP) {
			/* no answer or no close in time: end it politely anyway */
			p->state = PS_FIN_WAIT;
			send_fin(p, now, a);
			return;
		}
		emit(a, TCPF_RST | TCPF_ACK, p->snd_nxt, p->rcv_nxt, false);
		p->res.close = CLOSE_TIMEOUT;
		finish(p, a);
		return;
	}
	if (p->snd_una != p->snd_nxt && p->rtx_left > 0) {
		p->rtx_left--;
		if (p->fin_sent)
			emit(a, TCPF_FIN | TCPF_ACK, p->snd_nxt - 1, p->rcv_nxt, false);
		else
			emit(a, TCPF_PSH | TCPF_ACK, p->snd_una, p->rcv_nxt, true);
		p->rto_ns *= 2;
	}
	a->timer_at = min64(p->phase_deadline, now + p->rto_ns);
}

/* Done, once the capture has seen our last segments leave. */
static void time_wait(struct probe *p, int64_t now, struct probe_actions *a)
{
	if (!a->done || a->n == 0)
		return;
	a->done = false;
	p->state = PS_TIME_WAIT;
	p->own_pending = a->n;
	a->timer_at = now + min64(p->rto_ns, p->pp->timeout_ns);
}

static void on_time_wait(struct probe *p, enum probe_event ev, const struct segment *seg,
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

static void on_own(struct probe *p, enum probe_event ev, const struct segment *seg)
{
	log_seg(p, '>', seg->flags, seg->ts_ns);
	if (ev == PEV_OWN_SYN) {
		if (p->syn_wire_ns == 0)
			p->syn_wire_ns = seg->ts_ns;
		return;
	}
	if ((seg->flags & TCPF_FIN) && p->our_fin_wire_ns == 0)
		p->our_fin_wire_ns = seg->ts_ns;
	if (seg->payload_len > 0 && p->req_wire_ns == 0)
		p->req_wire_ns = seg->ts_ns;
}

static void step(struct probe *p, enum probe_event ev, const struct segment *seg,
		 int64_t now_mono, struct probe_actions *a);

void probe_step(struct probe *p, enum probe_event ev, const struct segment *seg,
		int64_t now_mono, struct probe_actions *a)
{
	memset(a, 0, sizeof(*a));
	if (p->state == PS_FREE || p->state == PS_DONE)
		return;
	if (p->state == PS_TIME_WAIT) {
		on_time_wait(p, ev, seg, a);
		return;
	}
	step(p, ev, seg, now_mono, a);
	time_wait(p, now_mono, a);
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
		if (p->state != PS_SYN_SENT)
			return;
		take_rtt(p, seg, now_mono);
		p->res.outcome = OUTCOME_UNREACHABLE;
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
	}
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
	if (family == AF_INET && type == 3 && code < 16)
		name = icmp4_unreach[code];
	else if (family == AF_INET6 && type == 1 && code < 8)
		name = icmp6_unreach[code];
	else if ((family == AF_INET && type == 11) || (family == AF_INET6 && type == 3))
		name = "ttl-exceeded";
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "code-%u", code);
	return buf;
}
