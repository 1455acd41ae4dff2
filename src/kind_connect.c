/* kind_connect.c - the handshake kinds: a SYN, then, once the SYN/ACK is
 * in, a RST at once (syn), our close (full) or a request first (http). The
 * connection itself is probe.c's state machine. */
#include "kind.h"

#include "probe.h"

/* A SYN/ACK or RST/ACK that acknowledges exactly our ISN + 1. */
static bool connect_answers(const struct probe *p, const struct segment *s)
{
	uint8_t sr = s->flags & (TCPF_SYN | TCPF_RST);
	return (s->flags & TCPF_ACK) && s->ack == p->isn + 1u && (sr == TCPF_SYN || sr == TCPF_RST);
}

static enum outcome connect_classify(const struct probe *p, const struct segment *seg, bool icmp)
{
	(void)p;
	if (icmp)
		return OUTCOME_UNREACHABLE;
	if (!seg)
		return OUTCOME_FILTERED;
	return (seg->flags & TCPF_RST) ? OUTCOME_CLOSED : OUTCOME_OPEN;
}

const struct probe_kind kind_syn = { .name = "syn", .flags = TCPF_SYN, .handshake = true,
				     .after = AFTER_RESET, .answers = connect_answers,
				     .classify = connect_classify };
const struct probe_kind kind_full = { .name = "full", .flags = TCPF_SYN, .handshake = true,
				     .after = AFTER_CLOSE, .answers = connect_answers,
				     .classify = connect_classify };
const struct probe_kind kind_http = { .name = "http", .flags = TCPF_SYN, .handshake = true,
				     .after = AFTER_REQUEST, .answers = connect_answers,
				     .classify = connect_classify,
				     .payload_snap = 256 };
