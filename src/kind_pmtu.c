/* kind_pmtu.c - --pmtu: a handshake, one full-size segment with DF on the
 * connection (probe.c's PMTU phase walks the sizes), then our close. Its
 * fields say what the segment met and the MSS both ways. */
#include "kind.h"

#include "probe.h"
#include "record.h"

/* The verdict and its evidence. Numbers for the metrics formats: the
 * verdict as pmtu_black_hole (0 or 1) and pmtu_next_hop (an ICMP too-big
 * came); the MSS both ways and what the server's MTU allows. */
static void pmtu_fields(const struct probe_result *res, struct record *rec)
{
	const struct pmtu_result *m = &res->pmtu;
	bool tested = m->verdict != PMTU_NOT_TESTED;
	record_str(rec, "pmtu", pmtu_verdict_name(m->verdict));
	record_uint_or_null(rec, "pmtu_size", m->size > 0, m->size);
	record_uint_or_null(rec, "pmtu_first", m->first > 0, m->first);
	record_detail(rec);
	record_uint_or_null(rec, "pmtu_next_hop", m->next_hop > 0, m->next_hop);
	record_str(rec, "pmtu_from",
		   m->next_hop > 0 ? addr_str(&m->from, rec->kind_addr, sizeof(rec->kind_addr)) : NULL);
	record_uint_or_null(rec, "pmtu_black_hole", tested, m->verdict == PMTU_BLACK_HOLE);
	record_uint(rec, "pmtu_sends", m->sends);
	record_detail(rec);
	record_uint_or_null(rec, "mss_sent", m->mss_sent > 0, m->mss_sent);
	record_uint_or_null(rec, "mss_peer", res->mss > 0, res->mss);
	record_uint_or_null(rec, "mss_expected", m->mss_expected > 0, m->mss_expected);
	record_detail(rec);
	record_bool_or_null(rec, "mss_clamped", m->mss_expected > 0 && res->mss > 0,
			    res->mss < m->mss_expected);
}

const struct probe_kind kind_pmtu = { .name = "pmtu", .flags = TCPF_SYN, .handshake = true,
				      .after = AFTER_PMTU, .answers = kind_connect_answers,
				      .classify = kind_connect_classify, .fields = pmtu_fields };
