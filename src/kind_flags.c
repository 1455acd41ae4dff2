/* kind_flags.c - the flag scans, as nmap defines them.
 *
 * A segment that is not a SYN opens nothing: a host answers it with a RST,
 * or not at all. RFC 9293 3.10.7.1 says how a closed port answers: a
 * segment without ACK gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, one
 * with ACK gets <SEQ=SEG.ACK><CTL=RST>; an open port drops FIN, NULL and
 * Xmas (no SYN, no RST, no ACK) and resets an ACK. So:
 *   fin, null, xmas, maimon: RST closed, silence open|filtered, ICMP filtered
 *   ack:    RST unfiltered, silence or ICMP filtered
 *   window: RST with a window open, with a zero window closed, else filtered
 * An answer counts only when it acknowledges exactly what we sent (our ISN
 * plus one for a FIN), or, to a segment with ACK, carries our keyed ACK
 * number as its sequence number. */
#include "kind.h"

#include "probe.h"

bool kind_sends_ack(const struct probe_kind *k)
{
	return !k->handshake && (k->flags & TCPF_ACK);
}

static bool rst_answers(const struct probe *p, const struct segment *s)
{
	if (!(s->flags & TCPF_RST) || (s->flags & TCPF_SYN))
		return false;
	if (p->kind->flags & TCPF_ACK)
		return s->seq == p->ack0;
	uint32_t len = (p->kind->flags & TCPF_FIN) ? 1u : 0u;
	return (s->flags & TCPF_ACK) && s->ack == p->isn + len;
}

/* fin, null, xmas, maimon and --flags without ACK */
static enum outcome silent_open_classify(const struct probe *p, const struct segment *seg,
					 bool icmp)
{
	(void)p;
	if (icmp)
		return OUTCOME_FILTERED;
	return seg ? OUTCOME_CLOSED : OUTCOME_OPEN_FILTERED;
}

static enum outcome ack_classify(const struct probe *p, const struct segment *seg, bool icmp)
{
	(void)p;
	return !icmp && seg ? OUTCOME_UNFILTERED : OUTCOME_FILTERED;
}

static enum outcome window_classify(const struct probe *p, const struct segment *seg, bool icmp)
{
	(void)p;
	if (icmp || !seg)
		return OUTCOME_FILTERED;
	return seg->win ? OUTCOME_OPEN : OUTCOME_CLOSED;
}

const struct probe_kind kind_fin = { .name = "fin", .flags = TCPF_FIN, .answers = rst_answers,
				     .classify = silent_open_classify };
const struct probe_kind kind_null = { .name = "null", .flags = 0, .answers = rst_answers,
				     .classify = silent_open_classify };
const struct probe_kind kind_xmas = { .name = "xmas", .flags = TCPF_FIN | TCPF_PSH | TCPF_URG,
				      .answers = rst_answers, .classify = silent_open_classify };
const struct probe_kind kind_ack = { .name = "ack", .flags = TCPF_ACK, .answers = rst_answers,
				     .classify = ack_classify };
const struct probe_kind kind_window = { .name = "window", .flags = TCPF_ACK,
					.answers = rst_answers, .classify = window_classify };
const struct probe_kind kind_maimon = { .name = "maimon", .flags = TCPF_FIN | TCPF_ACK,
					.answers = rst_answers, .classify = silent_open_classify };

void kind_custom(struct probe_kind *k, uint8_t flags)
{
	*k = (struct probe_kind){ .name = "flags", .flags = flags, .answers = rst_answers,
				  .classify = (flags & TCPF_ACK) && !(flags & TCPF_FIN)
						      ? ack_classify
						      : silent_open_classify };
}
