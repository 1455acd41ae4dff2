/* Probe kinds: what answers each one, and what the answer means. */
#include <criterion/criterion.h>
#include <string.h>

#include "kind.h"
#include "probe.h"

#define ISN 1000u
#define ACK0 777777u

static struct probe probe_of(const struct probe_kind *k)
{
	struct probe p;
	memset(&p, 0, sizeof(p));
	p.kind = k;
	p.isn = ISN;
	p.ack0 = ACK0;
	return p;
}

static struct segment seg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	struct segment s;
	memset(&s, 0, sizeof(s));
	s.kind = SEG_TCP;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.win = win;
	return s;
}

Test(kind, names)
{
	cr_assert_eq(kind_by_name("fin"), &kind_fin);
	cr_assert_eq(kind_by_name("maimon"), &kind_maimon);
	cr_assert_eq(kind_by_name("full"), &kind_full);
	cr_assert_null(kind_by_name("flags"), "the per-flag view is no kind");
	cr_assert_null(kind_by_name("bogus"));
	cr_assert_eq(kind_fin.flags, TCPF_FIN);
	cr_assert_eq(kind_null.flags, 0);
	cr_assert_eq(kind_xmas.flags, TCPF_FIN | TCPF_PSH | TCPF_URG);
	cr_assert_eq(kind_maimon.flags, TCPF_FIN | TCPF_ACK);
	cr_assert(kind_sends_ack(&kind_ack));
	cr_assert_not(kind_sends_ack(&kind_syn));
	cr_assert_not(kind_sends_ack(&kind_fin));
}

Test(kind, a_rst_answers_fin_null_xmas_only_at_our_sequence)
{
	struct probe p = probe_of(&kind_fin);
	struct segment s = seg(TCPF_RST | TCPF_ACK, 0, ISN + 1, 0);
	cr_assert(kind_fin.answers(&p, &s), "a FIN counts one: ack == ISN + 1");
	s.ack = ISN;
	cr_assert_not(kind_fin.answers(&p, &s));
	p = probe_of(&kind_null);
	cr_assert(kind_null.answers(&p, &s), "a NULL segment counts none: ack == ISN");
	s.flags = TCPF_RST;
	cr_assert_not(kind_null.answers(&p, &s), "a RST to a segment without ACK carries ACK");
	p = probe_of(&kind_xmas);
	s = seg(TCPF_RST | TCPF_ACK, 0, ISN + 1, 0);
	cr_assert(kind_xmas.answers(&p, &s));
	s.flags = TCPF_SYN | TCPF_ACK;
	cr_assert_not(kind_xmas.answers(&p, &s), "only a RST answers a flag scan");
}

Test(kind, a_rst_answers_an_ack_at_our_keyed_ack)
{
	struct probe p = probe_of(&kind_ack);
	struct segment s = seg(TCPF_RST, ACK0, 0, 0);
	cr_assert(kind_ack.answers(&p, &s), "RFC 9293: <SEQ=SEG.ACK><CTL=RST>");
	s.seq = ACK0 + 1;
	cr_assert_not(kind_ack.answers(&p, &s), "any other sequence number is not ours");
	p = probe_of(&kind_maimon);
	s.seq = ACK0;
	cr_assert(kind_maimon.answers(&p, &s));
}

Test(kind, states_as_nmap_defines_them)
{
	struct probe p = probe_of(&kind_fin);
	struct segment rst = seg(TCPF_RST | TCPF_ACK, 0, ISN + 1, 0);
	cr_assert_eq(kind_fin.classify(&p, NULL, false), OUTCOME_OPEN_FILTERED);
	cr_assert_eq(kind_fin.classify(&p, &rst, false), OUTCOME_CLOSED);
	cr_assert_eq(kind_fin.classify(&p, &rst, true), OUTCOME_FILTERED, "ICMP: filtered");
	cr_assert_eq(kind_null.classify(&p, NULL, false), OUTCOME_OPEN_FILTERED);
	cr_assert_eq(kind_maimon.classify(&p, &rst, false), OUTCOME_CLOSED);
	cr_assert_eq(kind_ack.classify(&p, &rst, false), OUTCOME_UNFILTERED);
	cr_assert_eq(kind_ack.classify(&p, NULL, false), OUTCOME_FILTERED);
	cr_assert_eq(kind_ack.classify(&p, &rst, true), OUTCOME_FILTERED);
	struct segment w = seg(TCPF_RST, ACK0, 0, 512);
	cr_assert_eq(kind_window.classify(&p, &w, false), OUTCOME_OPEN, "a window: open");
	cr_assert_eq(kind_window.classify(&p, &rst, false), OUTCOME_CLOSED, "zero: closed");
	cr_assert_eq(kind_window.classify(&p, NULL, false), OUTCOME_FILTERED);
	struct segment sa = seg(TCPF_SYN | TCPF_ACK, 5, ISN + 1, 100);
	cr_assert_eq(kind_syn.classify(&p, &sa, false), OUTCOME_OPEN);
	cr_assert_eq(kind_syn.classify(&p, &rst, false), OUTCOME_CLOSED);
	cr_assert_eq(kind_syn.classify(&p, NULL, true), OUTCOME_UNREACHABLE);
	cr_assert_str_eq(outcome_name(OUTCOME_OPEN_FILTERED), "open|filtered");
	cr_assert_str_eq(outcome_name(OUTCOME_UNFILTERED), "unfiltered");
}

Test(kind, custom_flags)
{
	struct probe_kind k;
	kind_custom(&k, TCPF_FIN | TCPF_PSH);
	struct probe p = probe_of(&k);
	struct segment rst = seg(TCPF_RST | TCPF_ACK, 0, ISN + 1, 0);
	cr_assert(k.answers(&p, &rst));
	cr_assert_eq(k.classify(&p, NULL, false), OUTCOME_OPEN_FILTERED);
	kind_custom(&k, TCPF_ACK | TCPF_PSH);
	cr_assert_eq(k.classify(&p, NULL, false), OUTCOME_FILTERED, "with ACK: as an ACK scan");
	cr_assert_eq(k.classify(&p, &rst, false), OUTCOME_UNFILTERED);
}

static enum perflag_verdict verdict(const char *syn, const char *ack, const char *fin,
				    const char *nul, const char *xmas)
{
	const char *in[PERFLAG_KINDS] = { syn, ack, fin, nul, xmas };
	struct perflag_answer a[PERFLAG_KINDS];
	memset(a, 0, sizeof(a));
	for (int i = 0; i < PERFLAG_KINDS; i++) {
		if (strcmp(in[i], "-") == 0)
			continue;
		a[i].seen = true;
		if (strcmp(in[i], "icmp") == 0)
			a[i].icmp = true;
		else
			a[i].flags = (uint8_t)((strchr(in[i], 'S') ? TCPF_SYN : 0) |
					       (strchr(in[i], 'R') ? TCPF_RST : 0) |
					       (strchr(in[i], 'A') ? TCPF_ACK : 0));
	}
	return perflag_verdict(a);
}

Test(kind, perflag_verdicts)
{
	cr_assert_eq(verdict("SA", "R", "-", "-", "-"), VERDICT_NO_FILTER);
	cr_assert_eq(verdict("RA", "R", "RA", "RA", "RA"), VERDICT_CLOSED);
	cr_assert_eq(verdict("SA", "-", "-", "-", "-"), VERDICT_STATEFUL,
		     "SYN passes, the unsolicited ACK does not");
	cr_assert_eq(verdict("RA", "-", "-", "-", "-"), VERDICT_STATEFUL);
	cr_assert_eq(verdict("RA", "R", "-", "RA", "-"), VERDICT_STATELESS,
		     "a closed port silent to some flags: a filter on flags");
	cr_assert_eq(verdict("-", "R", "-", "-", "-"), VERDICT_STATELESS);
	cr_assert_eq(verdict("icmp", "icmp", "icmp", "icmp", "icmp"), VERDICT_REJECTED);
	cr_assert_eq(verdict("-", "-", "-", "-", "-"), VERDICT_SILENT);
	cr_assert_str_eq(perflag_verdict_name(VERDICT_STATEFUL), "stateful-firewall");
	struct perflag_answer a = { true, false, TCPF_RST | TCPF_ACK };
	char b[9];
	cr_assert_str_eq(perflag_answer_str(&a, b), "RA");
}
