/* probe.c - the SYN probe state machine: SYN_SENT -> DONE. */
#include "probe.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void probe_start(struct probe *p, int64_t now_mono, int64_t now_wall)
{
	p->state = PS_SYN_SENT;
	p->sent_mono_ns = now_mono;
	p->sent_wall_ns = now_wall;
	p->syn_wire_ns = 0;
	memset(&p->res, 0, sizeof(p->res));
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

static int on_tcp(struct probe *p, const struct segment *seg, int64_t now_mono)
{
	take_rtt(p, seg, now_mono);
	p->res.flags = seg->flags;
	p->res.ttl = seg->ttl;
	p->res.win = seg->win;
	p->res.mss = seg->opt.mss;
	p->state = PS_DONE;
	if (seg->flags & TCPF_RST) {
		p->res.outcome = OUTCOME_CLOSED;
		return PACT_DONE;
	}
	p->res.outcome = OUTCOME_OPEN;
	return PACT_SEND_RST | PACT_DONE;
}

static int on_icmp(struct probe *p, const struct segment *seg, int64_t now_mono)
{
	take_rtt(p, seg, now_mono);
	p->res.outcome = OUTCOME_UNREACHABLE;
	p->res.icmp_type = seg->icmp_type;
	p->res.icmp_code = seg->icmp_code;
	p->res.icmp_from = seg->src;
	p->res.ttl = seg->ttl;
	p->state = PS_DONE;
	return PACT_DONE;
}

int probe_step(struct probe *p, enum probe_event ev, const struct segment *seg,
	       int64_t now_mono)
{
	if (p->state != PS_SYN_SENT)
		return 0;
	switch (ev) {
	case PEV_OWN_SYN:
		if (p->syn_wire_ns == 0)
			p->syn_wire_ns = seg->ts_ns;
		return 0;
	case PEV_TCP:
		return on_tcp(p, seg, now_mono);
	case PEV_ICMP:
		return on_icmp(p, seg, now_mono);
	case PEV_TIMEOUT:
		p->res.outcome = OUTCOME_FILTERED;
		p->state = PS_DONE;
		return PACT_DONE;
	}
	return 0;
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
