/* kind.c - the table of kinds -M names, and the per-flag view's verdict. */
#include "kind.h"

#include <stdio.h>
#include <string.h>

#include "probe.h"

static const struct probe_kind *const kinds[] = { &kind_syn, &kind_full, &kind_fin, &kind_null,
						  &kind_xmas, &kind_ack, &kind_window,
						  &kind_maimon };

const char *const kind_names[] = { "syn", "full", "fin", "null", "xmas", "ack", "window",
				   "maimon", "flags", NULL };

const struct probe_kind *kind_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

bool kind_reads_payload(const struct probe_kind *k)
{
	return k->handshake && k->after == AFTER_APP && k->app;
}

const struct probe_kind *const perflag_kinds[PERFLAG_KINDS] = { &kind_syn, &kind_ack, &kind_fin,
								&kind_null, &kind_xmas };

enum { PF_SYN, PF_ACK, PF_FIN, PF_NULL, PF_XMAS };

static bool rst(const struct perflag_answer *a)
{
	return a->seen && !a->icmp && (a->flags & TCPF_RST);
}

static bool silent(const struct perflag_answer *a)
{
	return !a->seen;
}

/* How an unfiltered host answers, and what each departure from it says:
 *   open port:   SYN -> SA, ACK -> R, FIN/NULL/Xmas -> nothing
 *   closed port: SYN -> RA, ACK -> R, FIN/NULL/Xmas -> RA
 * A SYN answered while an unsolicited ACK is dropped is a stateful firewall
 * (it passes only what belongs to a connection or opens one). Answers that
 * depend on the flags in other ways (an ACK answered but no SYN, a closed
 * port silent to some of FIN/NULL/Xmas) are a stateless filter matching
 * flags. ICMP errors are a rejecting filter; nothing at all, a silent one
 * (or no host). */
enum perflag_verdict perflag_verdict(const struct perflag_answer a[PERFLAG_KINDS])
{
	int seen = 0, icmp = 0, fin_rst = 0;
	for (int i = 0; i < PERFLAG_KINDS; i++) {
		seen += a[i].seen;
		icmp += a[i].seen && a[i].icmp;
	}
	for (int i = PF_FIN; i <= PF_XMAS; i++)
		fin_rst += rst(&a[i]);
	if (seen == 0)
		return VERDICT_SILENT;
	if (icmp == seen)
		return VERDICT_REJECTED;
	const struct perflag_answer *syn = &a[PF_SYN], *ack = &a[PF_ACK];
	bool syn_open = syn->seen && !syn->icmp && (syn->flags & (TCPF_SYN | TCPF_ACK)) ==
								  (TCPF_SYN | TCPF_ACK);
	bool syn_closed = rst(syn);
	if ((syn_open || syn_closed) && silent(ack))
		return VERDICT_STATEFUL;
	if (syn_open && rst(ack) && fin_rst == 0)
		return VERDICT_NO_FILTER;
	if (syn_closed && rst(ack) && fin_rst == 3)
		return VERDICT_CLOSED;
	if (icmp > 0)
		return VERDICT_REJECTED;
	if (syn_closed || rst(ack) || fin_rst > 0)
		return VERDICT_STATELESS;
	return VERDICT_UNKNOWN;
}

const char *perflag_verdict_name(enum perflag_verdict v)
{
	static const char *const names[] = { "none", "no-filter", "closed", "stateless-filter",
					     "stateful-firewall", "rejected", "host-silent",
					     "unknown" };
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

const char *perflag_answer_str(const struct perflag_answer *a, char buf[9])
{
	if (!a->seen)
		return strcpy(buf, "-");
	if (a->icmp)
		return strcpy(buf, "icmp");
	return tcp_flags_str(a->flags, buf);
}
