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

const struct probe_kind kind_syn = { "syn", TCPF_SYN, true, AFTER_RESET, connect_answers,
				     connect_classify, NULL };
const struct probe_kind kind_full = { "full", TCPF_SYN, true, AFTER_CLOSE, connect_answers,
				      connect_classify, NULL };
const struct probe_kind kind_http = { "http", TCPF_SYN, true, AFTER_REQUEST, connect_answers,
				      connect_classify, NULL };
