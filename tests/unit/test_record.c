/* A probe as one record of named fields, rendered by JSON, CSV and text. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "output.h"
#include "record.h"

static char *text;
static size_t len;

static FILE *open_mem(void)
{
	return open_memstream(&text, &len);
}

/* A kind with a field of its own. */
static void extra_fields(const struct probe_result *res, struct record *rec)
{
	record_uint(rec, "answer_ttl_hops", 64u - res->ttl);
	record_str(rec, "note", "ok");
}

static struct probe_kind demo;

static struct probe_report report(struct probe_result *r, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->b[0] = 198, a->b[1] = 18, a->b[3] = 2;
	demo = kind_fin;
	demo.name = "demo";
	demo.fields = extra_fields;
	return (struct probe_report){ "t", a, 80, 61000, 0, r, 1, 0, PMODE_SCAN, false, &demo,
				      OUTCOME_NONE };
}

Test(record, groups_nest_in_json_and_flatten_in_csv)
{
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_CLOSED, .flags = 0x14, .ttl = 61 };
	struct addr a;
	struct probe_report rep = report(&r, &a);
	struct record rec;
	record_probe(&rep, &rec);
	FILE *f = open_mem();
	record_json(f, &rec);
	fclose(f);
	cr_assert(strstr(text, ",\"icmp\":null,"), "%s", text);
	cr_assert(strstr(text, ",\"http\":null,"), "%s", text);
	cr_assert(strstr(text, ",\"mode\":\"demo\","), "%s", text);
	cr_assert(strstr(text, ",\"syns\":1,\"middlebox\":null,\"answer_ttl_hops\":3,\"note\":\"ok\""),
		  "a kind's fields follow the common ones: %s", text);
	free(text);
	f = open_mem();
	record_csv_header(f, &rec);
	fclose(f);
	cr_assert(strstr(text, ",icmp_type,icmp_code,icmp_name,icmp_from,"), "%s", text);
	cr_assert(strstr(text, ",syns,middlebox_verdict,middlebox_evidence,middlebox_reset,middlebox_ts_lag_ms,answer_ttl_hops,note\r\n"), "%s", text);
	free(text);
	f = open_mem();
	record_text_extra(f, &rec);
	fclose(f);
	cr_assert_str_eq(text, " answer_ttl_hops=3 note=ok");
	free(text);
}

Test(record, a_group_with_a_value_is_an_object)
{
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_FILTERED, .icmp = true,
				  .icmp_type = 3, .icmp_code = 13, .ttl = 64 };
	struct addr a;
	struct probe_report rep = report(&r, &a);
	rep.kind = NULL;
	rep.mode = PMODE_SYN;
	r.icmp_from = a;
	struct record rec;
	record_probe(&rep, &rec);
	cr_assert_eq(rec.n, rec.nbase, "no kind: no fields of its own");
	FILE *f = open_mem();
	record_json(f, &rec);
	fclose(f);
	cr_assert(strstr(text, ",\"icmp\":{\"type\":3,\"code\":13,\"name\":\"admin-prohibited\","
			       "\"from\":\"198.18.0.2\"},"), "%s", text);
	free(text);
	f = open_mem();
	record_csv_row(f, &rec);
	fclose(f);
	cr_assert(strstr(text, ",3,13,admin-prohibited,198.18.0.2,"), "%s", text);
	free(text);
}

/* The per-flag view, byte for byte. */
Test(record, perflag_json_and_text_golden)
{
	struct addr a;
	struct probe_result none = { 0 };
	struct probe_report rep = report(&none, &a);
	struct perflag_answer ans[PERFLAG_KINDS] = {
		{ true, false, 0x12 }, { false, false, 0 }, { false, false, 0 },
		{ false, false, 0 }, { false, false, 0 } };
	struct perflag_report pr = { "web", &a, 105, ans, perflag_verdict(ans) };
	struct output o = { 0 };
	o.f = open_mem();
	output_json_ops.perflag(&o, &pr);
	fclose(o.f);
	cr_assert_str_eq(text, "{\"type\":\"flags\",\"target\":\"web\",\"addr\":\"198.18.0.2\","
			       "\"port\":105,\"answers\":{\"syn\":\"SA\",\"ack\":\"-\",\"fin\":\"-\","
			       "\"null\":\"-\",\"xmas\":\"-\"},\"verdict\":\"stateful-firewall\"}\n");
	free(text);
	o.f = open_mem();
	output_text_ops.perflag(&o, &pr);
	fclose(o.f);
	cr_assert_str_eq(text, "web:105 (198.18.0.2) syn=SA ack=- fin=- null=- xmas=- "
			       "verdict=stateful-firewall\n");
	free(text);
	(void)rep;
}

/* A flag scan's probe and summary, byte for byte. */
Test(record, flag_scan_json_golden)
{
	struct addr a;
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_OPEN_FILTERED };
	struct probe_report rep = report(&r, &a);
	rep.kind = &kind_fin;
	struct output o = { 0 };
	o.f = open_mem();
	output_json_ops.probe(&o, &rep);
	fclose(o.f);
	cr_assert_str_eq(text, "{\"type\":\"probe\",\"target\":\"t\",\"addr\":\"198.18.0.2\","
			       "\"port\":80,\"seq\":0,\"sport\":61000,\"outcome\":\"open|filtered\","
			       "\"flags\":null,\"rtt_us\":null,\"rtt_source\":null,\"ttl\":null,"
			       "\"win\":null,\"mss\":null,\"icmp\":null,\"time\":0.000000,"
			       "\"mode\":\"fin\",\"established\":false,\"close\":null,"
			       "\"close_us\":null,\"segments\":[],\"http\":null,\"syns\":1,\"middlebox\":null}\n");
	free(text);
	struct flow_summary s = { .target_buf = "198.18.0.2", .addr = a, .port = 80, .sent = 1,
				  .open_filtered = 1, .mode = PMODE_SCAN, .kind = "fin" };
	o.f = open_mem();
	output_json_ops.summary(&o, &s);
	fclose(o.f);
	cr_assert_str_eq(text, "{\"type\":\"summary\",\"target\":\"198.18.0.2\",\"addr\":\"198.18.0.2\","
			       "\"port\":80,\"sent\":1,\"open\":0,\"closed\":0,\"filtered\":0,"
			       "\"unreachable\":0,\"loss_pct\":0.0,\"unfiltered\":0,\"open_filtered\":1,"
			       "\"outcome\":\"open|filtered\",\"rtt_us\":null,\"flags\":{},"
			       "\"mode\":\"fin\",\"established\":0,\"close\":{},\"middlebox\":null,\"http\":null}\n");
	free(text);
}

/* A kind's own numbers reach the formats that speak per target:port. */
Test(record, kind_fields_in_nagios_perfdata_and_prometheus)
{
	struct addr a;
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_CLOSED, .flags = 0x14, .ttl = 61 };
	struct probe_report rep = report(&r, &a);
	struct record rec;
	record_probe(&rep, &rec);
	struct flow_summary s = { .target_buf = "198.18.0.2", .addr = a, .port = 80, .sent = 1,
				  .closed = 1, .mode = PMODE_SCAN, .kind = "demo" };
	record_keep_extra(&rec, &s);
	cr_assert_eq(s.nextra, 1, "the number, not the string");
	static struct thresholds th = { .warn_rtt_ms = 200, .crit_rtt_ms = 500, .warn_loss = 20,
				       .crit_loss = 60, .refused = NAGIOS_CRITICAL };
	struct run_summary rs = { 0 };
	struct output o = { 0 };
	o.th = &th;
	o.f = open_mem();
	output_prometheus_ops.summary(&o, &s);
	output_prometheus_ops.run(&o, &rs);
	fclose(o.f);
	cr_assert(strstr(text, "# TYPE tcpshake_probe_answer_ttl_hops gauge\n"
			       "tcpshake_probe_answer_ttl_hops{target=\"198.18.0.2\","
			       "addr=\"198.18.0.2\",port=\"80\"} 3\n"), "%s", text);
	free(text);
	free(o.sums);
	struct output n = { 0 };
	n.th = &th;
	n.f = open_mem();
	output_nagios_ops.summary(&n, &s);
	output_nagios_ops.run(&n, &rs);
	nagios_finish(&n, NULL);
	fclose(n.f);
	cr_assert(strstr(text, " answer_ttl_hops=3"), "%s", text);
	free(text);
	free(n.sums);
}

/* --pmtu: the verdict and its evidence, in JSON (nulls where unknown) and
 * the text line (details and nulls left out). */
Test(record, pmtu_fields_golden)
{
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_OPEN, .flags = 0x12, .ttl = 62,
				  .mss = 1200, .established = true };
	r.pmtu.verdict = PMTU_FRAG_NEEDED;
	r.pmtu.size = 1280;
	r.pmtu.first = 1500;
	r.pmtu.next_hop = 1280;
	r.pmtu.from.family = AF_INET;
	r.pmtu.from.b[0] = 198, r.pmtu.from.b[1] = 18, r.pmtu.from.b[2] = 31, r.pmtu.from.b[3] = 254;
	r.pmtu.sends = 2;
	r.pmtu.mss_sent = 1460;
	r.pmtu.mss_expected = 1460;
	struct addr a;
	struct probe_report rep = report(&r, &a);
	rep.kind = &kind_pmtu;
	struct record rec;
	record_probe(&rep, &rec);
	FILE *f = open_mem();
	record_json(f, &rec);
	fclose(f);
	cr_assert(strstr(text, ",\"pmtu\":\"fragmentation-needed\",\"pmtu_size\":1280,"
			       "\"pmtu_first\":1500,\"pmtu_next_hop\":1280,"
			       "\"pmtu_from\":\"198.18.31.254\",\"pmtu_black_hole\":0,"
			       "\"pmtu_sends\":2,\"mss_sent\":1460,\"mss_peer\":1200,"
			       "\"mss_expected\":1460,\"mss_clamped\":true"),
		  "%s", text);
	free(text);
	f = open_mem();
	record_text_extra(f, &rec);
	fclose(f);
	cr_assert_str_eq(text, " pmtu=fragmentation-needed pmtu_size=1280 pmtu_next_hop=1280"
			       " pmtu_from=198.18.31.254 pmtu_black_hole=0 mss_sent=1460"
			       " mss_peer=1200 mss_clamped=true");
	free(text);
	/* not tested: the verdict says so, the rest is null */
	memset(&r.pmtu, 0, sizeof(r.pmtu));
	r.mss = 0;
	record_probe(&rep, &rec);
	f = open_mem();
	record_json(f, &rec);
	fclose(f);
	cr_assert(strstr(text, ",\"pmtu\":\"not-tested\",\"pmtu_size\":null,\"pmtu_first\":null,"
			       "\"pmtu_next_hop\":null,\"pmtu_from\":null,\"pmtu_black_hole\":null,"
			       "\"pmtu_sends\":0,\"mss_sent\":null,\"mss_peer\":null,"
			       "\"mss_expected\":null,\"mss_clamped\":null"),
		  "%s", text);
	free(text);
}

/* Review of issue 17, finding 6: all eight numbers of --pmtu (the next hop
 * and the MSS both ways among them) reach the Nagios perfdata and the
 * Prometheus gauges, not the first four. */
Test(record, pmtu_numbers_all_in_nagios_and_prometheus)
{
	static const char *const keys[] = { "pmtu_size", "pmtu_first", "pmtu_next_hop",
					    "pmtu_black_hole", "pmtu_sends", "mss_sent",
					    "mss_peer", "mss_expected" };
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_OPEN, .flags = 0x12, .ttl = 62,
				  .mss = 1200, .established = true };
	r.pmtu.verdict = PMTU_FRAG_NEEDED;
	r.pmtu.size = 1280;
	r.pmtu.first = 1500;
	r.pmtu.next_hop = 1280;
	r.pmtu.from.family = AF_INET;
	r.pmtu.sends = 2;
	r.pmtu.mss_sent = 1460;
	r.pmtu.mss_expected = 1440;
	struct addr a;
	struct probe_report rep = report(&r, &a);
	rep.kind = &kind_pmtu;
	struct record rec;
	record_probe(&rep, &rec);
	struct flow_summary s = { .target_buf = "198.18.0.2", .addr = a, .port = 80, .sent = 1,
				  .open = 1, .mode = PMODE_FULL, .kind = "pmtu" };
	record_keep_extra(&rec, &s);
	cr_assert_eq(s.nextra, 8, "%d", s.nextra);
	static struct thresholds th = { .warn_rtt_ms = 200, .crit_rtt_ms = 500, .warn_loss = 20,
				       .crit_loss = 60, .refused = NAGIOS_CRITICAL };
	struct run_summary rs = { 0 };
	struct output o = { 0 };
	o.th = &th;
	o.f = open_mem();
	output_prometheus_ops.summary(&o, &s);
	output_prometheus_ops.run(&o, &rs);
	fclose(o.f);
	char want[160];
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want), "# TYPE tcpshake_probe_%s gauge\n", keys[i]);
		cr_assert(strstr(text, want), "%s missing:\n%s", keys[i], text);
	}
	cr_assert(strstr(text, "tcpshake_probe_mss_expected{target=\"198.18.0.2\","
			       "addr=\"198.18.0.2\",port=\"80\"} 1440\n"), "%s", text);
	free(text);
	free(o.sums);
	struct output n = { 0 };
	n.th = &th;
	n.f = open_mem();
	output_nagios_ops.summary(&n, &s);
	output_nagios_ops.run(&n, &rs);
	nagios_finish(&n, NULL);
	fclose(n.f);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want), " %s=", keys[i]);
		cr_assert(strstr(text, want), "%s missing: %s", keys[i], text);
	}
	cr_assert(strstr(text, " mss_peer=1200"), "%s", text);
	free(text);
	free(n.sums);
}
