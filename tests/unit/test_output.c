/* The JSON and text lines, byte for byte. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "output.h"
#include "targets.h"
#include "trace.h"

static char *text;
static size_t len;

static struct output open_out(const struct output_ops *ops)
{
	struct output o = { .ops = ops, .f = open_memstream(&text, &len) };
	return o;
}

static const char *close_out(struct output *o)
{
	fclose(o->f);
	return text;
}

static struct addr addr_of(const char *s)
{
	struct addr a;
	char err[64];
	target_resolve(s, AF_UNSPEC, 1, &a, err, sizeof(err));
	return a;
}

Test(output, json_open_probe)
{
	struct addr a = addr_of("198.18.0.2");
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_OPEN, .flags = 0x12, .ttl = 64, .win = 64240,
				  .mss = 1460, .rtt_source = RTT_WIRE, .rtt_ns = 117412 };
	struct probe_report rep = { "web \"1\"", &a, 80, 61234, 0, &r, NS_PER_SEC,
				    INT64_C(1795663422869885123), PMODE_SYN, false, NULL, OUTCOME_NONE };
	struct output o = open_out(&output_json_ops);
	o.ops->probe(&o, &rep);
	cr_assert_str_eq(close_out(&o),
			 "{\"type\":\"probe\",\"target\":\"web \\\"1\\\"\",\"addr\":\"198.18.0.2\","
			 "\"port\":80,\"seq\":0,\"sport\":61234,\"outcome\":\"open\",\"flags\":\"SA\","
			 "\"rtt_us\":117.412,\"rtt_source\":\"wire\",\"ttl\":64,\"win\":64240,"
			 "\"mss\":1460,\"icmp\":null,\"time\":1795663422.869885,\"mode\":\"syn\","
			 "\"established\":false,\"close\":null,\"close_us\":null,\"segments\":[],"
			 "\"http\":null,\"syns\":1,\"middlebox\":null}\n");
	free(text);
}

Test(output, json_unreachable_and_filtered)
{
	struct addr a = addr_of("2001:db8::2");
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_UNREACHABLE, .icmp = true, .icmp_type = 1, .icmp_code = 1,
				  .icmp_from = a, .ttl = 64, .rtt_source = RTT_CLOCK,
				  .rtt_ns = 80000 };
	struct probe_report rep = { "2001:db8::2", &a, 83, 61000, 2, &r, NS_PER_SEC, NS_PER_SEC,
				    PMODE_FULL, false, NULL, OUTCOME_NONE };
	struct output o = open_out(&output_json_ops);
	o.ops->probe(&o, &rep);
	struct probe_result f = { .syns = 1, .outcome = OUTCOME_FILTERED };
	rep.res = &f;
	o.ops->probe(&o, &rep);
	cr_assert_str_eq(close_out(&o),
			 "{\"type\":\"probe\",\"target\":\"2001:db8::2\",\"addr\":\"2001:db8::2\","
			 "\"port\":83,\"seq\":2,\"sport\":61000,\"outcome\":\"unreachable\","
			 "\"flags\":null,\"rtt_us\":80.000,\"rtt_source\":\"clock\",\"ttl\":64,"
			 "\"win\":null,\"mss\":null,\"icmp\":{\"type\":1,\"code\":1,"
			 "\"name\":\"admin-prohibited\",\"from\":\"2001:db8::2\"},\"time\":1.000000,"
			 "\"mode\":\"full\",\"established\":false,\"close\":null,\"close_us\":null,"
			 "\"segments\":[],\"http\":null,\"syns\":1,\"middlebox\":null}\n"
			 "{\"type\":\"probe\",\"target\":\"2001:db8::2\",\"addr\":\"2001:db8::2\","
			 "\"port\":83,\"seq\":2,\"sport\":61000,\"outcome\":\"filtered\","
			 "\"flags\":null,\"rtt_us\":null,\"rtt_source\":null,\"ttl\":null,"
			 "\"win\":null,\"mss\":null,\"icmp\":null,\"time\":1.000000,"
			 "\"mode\":\"full\",\"established\":false,\"close\":null,\"close_us\":null,"
			 "\"segments\":[],\"http\":null,\"syns\":1,\"middlebox\":null}\n");
	free(text);
}

Test(output, json_control_bytes_escaped)
{
	struct addr a = addr_of("198.18.0.2");
	struct flow_summary s = { .name = "a\tb\x01", .addr = a, .port = 80 };
	struct output o = open_out(&output_json_ops);
	o.ops->summary(&o, &s);
	cr_assert(strstr(close_out(&o), "\"target\":\"a\\u0009b\\u0001\""), "%s", text);
	free(text);
}

Test(output, text_summary)
{
	struct addr a = addr_of("198.18.0.2");
	struct flow_summary s = { .name = "198.18.0.2", .addr = a, .port = 80, .sent = 10,
				  .open = 10 };
	for (int i = 0; i < 10; i++)
		stats_add(&s.rtt, 100 + i);
	flag_count_add(s.flags, 0x12);
	s.flags[0].n = 10;
	struct output o = open_out(&output_text_ops);
	o.ops->summary(&o, &s);
	cr_assert_str_eq(close_out(&o),
			 "--- 198.18.0.2:80 tcpshake statistics ---\n"
			 "10 probes, 10 open, 0 closed, 0 filtered, 0 unreachable, 0% loss\n"
			 "flags SA=10\n"
			 "rtt min/avg/max/mdev = 0.100/0.104/0.109/0.003 ms\n");
	free(text);
}

Test(output, text_probe_lines)
{
	struct addr a = addr_of("198.18.0.2");
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_UNREACHABLE, .icmp = true, .icmp_type = 3, .icmp_code = 13,
				  .icmp_from = a, .rtt_source = RTT_WIRE, .rtt_ns = 80000 };
	struct probe_report rep = { "198.18.0.2", &a, 83, 61000, 0, &r, NS_PER_SEC / 2, 0,
				    PMODE_SYN, false, NULL, OUTCOME_NONE };
	struct output o = open_out(&output_text_ops);
	o.ops->probe(&o, &rep);
	struct probe_result f = { .syns = 1, .outcome = OUTCOME_FILTERED };
	rep.res = &f;
	o.ops->probe(&o, &rep);
	cr_assert_str_eq(close_out(&o),
			 "198.18.0.2:83 seq=0 unreachable admin-prohibited from 198.18.0.2 rtt=0.080 ms\n"
			 "198.18.0.2:83 seq=0 filtered no answer in 0.500 s\n");
	free(text);
}

Test(output, json_full_http_probe)
{
	struct addr a = addr_of("198.18.0.2");
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_OPEN, .flags = 0x12, .ttl = 64, .win = 100,
				  .rtt_source = RTT_WIRE, .rtt_ns = 1000, .established = true,
				  .close = CLOSE_PEER_FIN, .close_ns = -1,
				  .http = { 200, 2500, 180 }, .nlog = 2,
				  .log = { { '>', 0x02, 0 }, { '<', 0x12, 1000 } } };
	struct probe_report rep = { "198.18.0.2", &a, 80, 61000, 0, &r, NS_PER_SEC, 0, PMODE_FULL,
				    true, NULL, OUTCOME_NONE };
	struct output o = open_out(&output_json_ops);
	o.ops->probe(&o, &rep);
	cr_assert(strstr(close_out(&o), ",\"mode\":\"full\",\"established\":true,\"close\":\"peer-fin\","
					"\"close_us\":null,\"segments\":[\">S\",\"<SA\"],"
					"\"http\":{\"status\":200,\"ttfb_us\":2.500,\"bytes\":180},\"syns\":1,\"middlebox\":null}\n"),
		  "%s", text);
	free(text);
}

Test(output, text_full_probe_verbose)
{
	struct addr a = addr_of("198.18.0.2");
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_OPEN, .flags = 0x12, .ttl = 64, .win = 100,
				  .mss = 1460, .rtt_source = RTT_WIRE, .rtt_ns = 117000,
				  .established = true, .close = CLOSE_FIN, .close_ns = 50000,
				  .nlog = 2, .log = { { '>', 0x02, 0 }, { '<', 0x12, 117 } },
				  .log_t0_ns = 1000 };
	struct probe_report rep = { "198.18.0.2", &a, 80, 61000, 3, &r, NS_PER_SEC, 0, PMODE_FULL,
				    false, NULL, OUTCOME_NONE };
	struct output o = open_out(&output_text_ops);
	o.verbose = true;
	o.ops->probe(&o, &rep);
	cr_assert_str_eq(close_out(&o),
			 "198.18.0.2:80 seq=3 open flags=SA ttl=64 win=100 mss=1460 rtt=0.117 ms "
			 "close=fin in 0.050 ms\n"
			 "    > S         0.000 ms\n"
			 "    < SA        0.117 ms\n");
	free(text);
}

static struct flow_summary flow(uint64_t sent, uint64_t open, uint64_t closed, uint64_t filtered,
				uint64_t unreachable, double rtt_us)
{
	static struct addr a;
	char err[64];
	target_resolve("198.18.0.2", AF_UNSPEC, 1, &a, err, sizeof(err));
	struct flow_summary s = { .target_buf = "198.18.0.2", .addr = a, .port = 80, .sent = sent,
				  .open = open, .closed = closed, .filtered = filtered,
				  .unreachable = unreachable };
	if (rtt_us > 0)
		for (uint64_t i = 0; i < open; i++)
			stats_add(&s.rtt, rtt_us);
	return s;
}

static const struct thresholds th = { .warn_rtt_ms = 200, .crit_rtt_ms = 500, .warn_loss = 20,
				      .crit_loss = 60, .refused = NAGIOS_CRITICAL };

Test(nagios, thresholds_and_their_edges)
{
	char why[200];
	struct flow_summary s = flow(10, 10, 0, 0, 0, 200000); /* exactly 200 ms */
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_OK,
		     "at the threshold is within it");
	s = flow(10, 10, 0, 0, 0, 200001);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_WARNING);
	s = flow(10, 10, 0, 0, 0, 500000);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_WARNING);
	s = flow(10, 10, 0, 0, 0, 500001);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_CRITICAL);
	s = flow(10, 8, 0, 2, 0, 100); /* loss 20%: at the threshold */
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_OK);
	s = flow(10, 7, 0, 3, 0, 100); /* loss only */
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_WARNING);
	cr_assert_str_eq(why, "198.18.0.2:80 open, rtt 0.100 ms, loss 30%");
	s = flow(10, 3, 0, 7, 0, 100);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_CRITICAL);
}

Test(nagios, not_open)
{
	char why[200];
	struct flow_summary s = flow(1, 0, 1, 0, 0, 0);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_CRITICAL);
	cr_assert_str_eq(why, "198.18.0.2:80 closed (connection refused)");
	struct thresholds ok = th;
	ok.refused = NAGIOS_OK;
	cr_assert_eq(nagios_flow_state(&s, &ok, NS_PER_SEC, why, sizeof(why)), NAGIOS_OK);
	s = flow(1, 0, 0, 1, 0, 0);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC / 2, why, sizeof(why)), NAGIOS_CRITICAL);
	cr_assert_str_eq(why, "198.18.0.2:80 filtered (no answer in 0.5 s)");
	s = flow(1, 0, 0, 0, 1, 0);
	s.icmp_type = 3;
	s.icmp_code = 13;
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_CRITICAL);
	cr_assert_str_eq(why, "198.18.0.2:80 unreachable (admin-prohibited)");
	s = flow(0, 0, 0, 0, 0, 0);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_UNKNOWN);
}

Test(nagios, one_line_with_perfdata)
{
	struct flow_summary s = flow(1, 1, 0, 0, 0, 117);
	struct run_summary rs = { 0 };
	struct output o = open_out(&output_nagios_ops);
	o.th = &th;
	o.timeout_ns = NS_PER_SEC;
	o.ops->summary(&o, &s);
	o.ops->run(&o, &rs);
	cr_assert_eq(o.status, NAGIOS_OK);
	cr_assert_eq(nagios_finish(&o, NULL), NAGIOS_OK);
	cr_assert_str_eq(close_out(&o), "TCPSHAKE OK - 198.18.0.2:80 open, rtt 0.117 ms, loss 0%"
					"|rtt=0.000117s;0.200000;0.500000;0; loss=0%;20;60;0;100\n");
	free(o.sums);
	free(text);
}

Test(nagios, a_system_error_is_one_unknown_line)
{
	struct flow_summary s = flow(1, 1, 0, 0, 0, 117);
	struct run_summary rs = { 0 };
	struct output o = open_out(&output_nagios_ops);
	o.th = &th;
	o.timeout_ns = NS_PER_SEC;
	o.ops->summary(&o, &s);
	o.ops->run(&o, &rs);
	cr_assert_eq(nagios_finish(&o, "send to 198.18.0.2:80: interface veth0 went down"),
		     NAGIOS_UNKNOWN);
	cr_assert_str_eq(close_out(&o), "TCPSHAKE UNKNOWN - send to 198.18.0.2:80: interface veth0 "
					"went down|rtt=0.000117s;0.200000;0.500000;0; "
					"loss=0%;20;60;0;100\n");
	free(o.sums);
	free(text);
}

Test(csv, quoting_rfc4180)
{
	struct addr a = addr_of("198.18.0.2");
	struct probe_result r = { .syns = 1, .outcome = OUTCOME_FILTERED };
	struct probe_report rep = { "a,\"b\"", &a, 80, 61000, 0, &r, NS_PER_SEC, 0, PMODE_SYN,
				    false, NULL, OUTCOME_NONE };
	struct output o = open_out(&output_csv_ops);
	o.ops->probe(&o, &rep);
	cr_assert_str_eq(close_out(&o), "\"a,\"\"b\"\"\",198.18.0.2,80,0,61000,filtered,,,,,,,,,,,"
					"0.000000,syn,false,,,,,,,1,,,,\r\n");
	free(text);
}

Test(prometheus, label_values_escaped)
{
	struct flow_summary s = flow(1, 1, 0, 0, 0, 117);
	s.name = "we\"ird\\name\n";
	struct run_summary rs = { 0 };
	struct output o = open_out(&output_prometheus_ops);
	o.ops->summary(&o, &s);
	o.ops->run(&o, &rs);
	cr_assert(strstr(close_out(&o), "tcpshake_up{target=\"we\\\"ird\\\\name\\n\",addr=\"198.18.0.2\","
					"port=\"80\"} 1\n"), "%s", text);
	free(o.sums);
	free(text);
}

Test(output, fleet_lines)
{
	struct flow_summary s = flow(1, 1, 0, 0, 0, 117);
	flag_count_add(s.flags, 0x12);
	struct run_summary rs = { .sent = 2, .flows = 2, .open = 1, .filtered = 1, .retried = 1,
				  .elapsed_ns = NS_PER_SEC };
	struct output o = open_out(&output_text_ops);
	o.fleet = true;
	o.ops->summary(&o, &s);
	s = flow(2, 0, 0, 2, 0, 0);
	s.port = 81;
	o.ops->summary(&o, &s);
	o.ops->run(&o, &rs);
	cr_assert_str_eq(close_out(&o),
			 "198.18.0.2:80 open flags=SA rtt=0.117 ms\n"
			 "198.18.0.2:81 filtered probes=2 loss=100%\n"
			 "--- tcpshake: 2 target:ports in 1.000 s: 1 open, 0 closed, 1 filtered, "
			 "0 unreachable; 2 probes sent, 1 sent again ---\n");
	free(text);
}

Test(output, kept_summaries_sorted_and_own_their_names)
{
	struct output o = open_out(&output_text_ops);
	struct flow_summary s = flow(1, 1, 0, 0, 0, 1);
	s.index = 5;
	output_keep(&o, &s);
	s.index = 2;
	snprintf(s.target_buf, sizeof(s.target_buf), "second");
	output_keep(&o, &s);
	output_sort_kept(&o);
	cr_assert_eq(o.sums[0].index, 2);
	cr_assert_str_eq(summary_target(&o.sums[0]), "second");
	cr_assert_str_eq(summary_target(&o.sums[1]), "198.18.0.2");
	cr_assert_eq(summary_outcome(&o.sums[0]), OUTCOME_OPEN);
	o.only = 1u << OUTCOME_CLOSED;
	cr_assert(output_shows(&o, OUTCOME_CLOSED));
	cr_assert_not(output_shows(&o, OUTCOME_OPEN));
	close_out(&o);
	free(o.sums);
	free(text);
}

/* ---- -o FILE --------------------------------------------------------- */

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(outfile, nothing_named_before_commit)
{
	char dir[] = "/tmp/tcpshake-unit.XXXXXX", path[64], err[300];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/report", dir);
	struct output_file of;
	cr_assert_eq(output_file_open(&of, path, err, sizeof(err)), 0, "%s", err);
	fputs("line\n", of.f);
	cr_assert_eq(entries(dir), 0, "a run killed now would leave a file behind");
	cr_assert_eq(output_file_commit(&of, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(entries(dir), 1);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 5);
	unlink(path);
	rmdir(dir);
}

Test(outfile, failed_open_then_abort_is_safe)
{
	struct output_file of;
	char err[300];
	cr_assert_eq(output_file_open(&of, "/nonexistent-dir/x/report", err, sizeof(err)), -1);
	cr_assert(strstr(err, "No such file or directory"), "%s", err);
	output_file_abort(&of); /* the engine's teardown does this after a failure */
	output_file_abort(&of);
	cr_assert_eq(output_file_open(&of, "/tmp", err, sizeof(err)), -1);
	cr_assert(strstr(err, "Is a directory"), "%s", err);
	output_file_abort(&of);
}

Test(outfile, directory_refused_up_front)
{
	char err[300];
	cr_assert_eq(output_path_check("/tmp", err, sizeof(err)), -1);
	cr_assert_str_eq(err, "-o /tmp: is a directory");
	cr_assert_eq(output_path_check("/tmp/", err, sizeof(err)), -1);
	cr_assert_eq(output_path_check("/dev/null", err, sizeof(err)), 0);
	cr_assert_eq(output_path_check("/nonexistent-dir/x", err, sizeof(err)), 0);
}

/* ---- names of any bytes -------------------------------------------------- */

#define FFFD "\xef\xbf\xbd"

Test(utf8, sequences)
{
	cr_assert_eq(utf8_seq((const unsigned char *)"a"), 1);
	cr_assert_eq(utf8_seq((const unsigned char *)"\xc3\xa9"), 2);       /* é */
	cr_assert_eq(utf8_seq((const unsigned char *)"\xe2\x82\xac"), 3);   /* € */
	cr_assert_eq(utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80"), 4);
	cr_assert_eq(utf8_seq((const unsigned char *)"\xe9t"), 0);          /* Latin-1 é */
	cr_assert_eq(utf8_seq((const unsigned char *)"\xc3"), 0);           /* cut by the NUL */
	cr_assert_eq(utf8_seq((const unsigned char *)"\x80"), 0);           /* continuation */
	cr_assert_eq(utf8_seq((const unsigned char *)"\xc0\xaf"), 0);       /* overlong / */
	cr_assert_eq(utf8_seq((const unsigned char *)"\xed\xa0\x80"), 0);   /* a surrogate */
	cr_assert_eq(utf8_seq((const unsigned char *)"\xf4\x90\x80\x80"), 0); /* > U+10FFFF */
	cr_assert_eq(utf8_seq((const unsigned char *)"\xff"), 0);
}

static const char bad_name[] = "caf\xe9-\xc3\xa9-\xff\xc0\xaf|\x1b[2J";

Test(utf8, json_stays_valid)
{
	struct flow_summary s = flow(1, 1, 0, 0, 0, 117);
	s.name = bad_name;
	struct output o = open_out(&output_json_ops);
	o.ops->summary(&o, &s);
	const char *t = close_out(&o);
	cr_assert(strstr(t, "\"target\":\"caf" FFFD "-\xc3\xa9-" FFFD FFFD FFFD "|\\u001b[2J\""),
		  "%s", t);
	free(text);
}

Test(utf8, prometheus_label_stays_valid)
{
	struct flow_summary s = flow(1, 1, 0, 0, 0, 117);
	s.name = bad_name;
	struct run_summary rs = { 0 };
	struct output o = open_out(&output_prometheus_ops);
	o.ops->summary(&o, &s);
	o.ops->run(&o, &rs);
	const char *t = close_out(&o);
	cr_assert(strstr(t, "{target=\"caf" FFFD "-\xc3\xa9-" FFFD FFFD FFFD "|\x1b[2J\","), "%s", t);
	free(o.sums);
	free(text);
}

Test(utf8, csv_stays_valid)
{
	struct addr a = addr_of("198.18.0.2");
	struct probe_result r = { .outcome = OUTCOME_FILTERED };
	struct probe_report rep = { bad_name, &a, 80, 61000, 0, &r, NS_PER_SEC, 0, PMODE_SYN, false, NULL, OUTCOME_NONE };
	struct output o = open_out(&output_csv_ops);
	o.ops->probe(&o, &rep);
	const char *t = close_out(&o);
	cr_assert_eq(strncmp(t, "caf" FFFD "-\xc3\xa9-" FFFD FFFD FFFD "|\x1b[2J,", 23), 0, "%s", t);
	free(text);
}

Test(utf8, nagios_one_line_valid_no_bar)
{
	struct flow_summary s = flow(1, 1, 0, 0, 0, 117);
	struct run_summary rs = { .unresolved = 1, .first_unresolved = bad_name };
	struct output o = open_out(&output_nagios_ops);
	o.th = &th;
	o.timeout_ns = NS_PER_SEC;
	o.ops->summary(&o, &s);
	o.ops->run(&o, &rs);
	nagios_finish(&o, NULL);
	cr_assert_str_eq(close_out(&o), "TCPSHAKE UNKNOWN - caf" FFFD "-\xc3\xa9-" FFFD FFFD FFFD
					"/" FFFD "[2J did not resolve; 1 names did not resolve"
					"|rtt=0.000117s;0.200000;0.500000;0; loss=0%;20;60;0;100\n");
	free(o.sums);
	free(text);
}

/* --expect: a probe that did not match counts in the summary, and its
 * Nagios state is --mismatch's (WARNING by default, as check_tcp -M). */
Test(nagios, an_expect_mismatch_is_mismatchs_state)
{
	char why[300];
	struct flow_summary s = flow(2, 2, 0, 0, 0, 100);
	struct banner_result b = { .expecting = true, .matched = true, .judged = true,
				   .first_line = "SSH-2.0-x" };
	struct probe_result res = { .outcome = OUTCOME_OPEN, .established = true, .banner = &b };
	struct flow_summary t = flow(0, 0, 0, 0, 0, 0);
	summary_add(&t, &res);
	b.matched = false;
	snprintf(b.first_line, sizeof(b.first_line), "220 \\x01mail");
	summary_add(&t, &res);
	cr_assert_eq(t.banner.matched, 1);
	cr_assert_eq(t.banner.mismatched, 1);
	cr_assert_str_eq(t.banner.first_line, "220 \\x01mail", "the last probe's line");
	s.banner = t.banner;
	struct thresholds th2 = th;
	th2.mismatch = NAGIOS_WARNING;
	cr_assert_eq(nagios_flow_state(&s, &th2, NS_PER_SEC, why, sizeof(why)), NAGIOS_WARNING);
	cr_assert_str_eq(why, "198.18.0.2:80 open, expect mismatch (1 of 2): \"220 \\x01mail\"");
	th2.mismatch = NAGIOS_CRITICAL;
	cr_assert_eq(nagios_flow_state(&s, &th2, NS_PER_SEC, why, sizeof(why)), NAGIOS_CRITICAL);
	th2.mismatch = NAGIOS_OK;
	cr_assert_eq(nagios_flow_state(&s, &th2, NS_PER_SEC, why, sizeof(why)), NAGIOS_OK);
}

/* A long first line is cut in the summary at a whole escape. */
Test(output, summary_first_line_cut_at_a_whole_escape)
{
	struct banner_result b = { .judged = true };
	struct probe_result res = { .outcome = OUTCOME_OPEN, .established = true, .banner = &b };
	char line[200];
	memset(line, 'a', 125);
	strcpy(line + 125, "\\x01\\x02");
	snprintf(b.first_line, sizeof(b.first_line), "%s", line);
	struct flow_summary t = flow(0, 0, 0, 0, 0, 0);
	summary_add(&t, &res);
	cr_assert_eq(strlen(t.banner.first_line), 125, "\\x01 would not fit whole");
}

/* A failed STARTTLS dialogue fails the TLS check in the summary. */
Test(nagios, a_refused_starttls_is_critical)
{
	char why[300];
	struct probe_result res = { .outcome = OUTCOME_OPEN, .established = true,
				    .tls_early_error = "starttls-refused: 454 no" };
	struct flow_summary s = flow(0, 0, 0, 0, 0, 0);
	summary_add(&s, &res);
	cr_assert(s.tls.seen);
	cr_assert_eq(s.tls.failed, 1);
	cr_assert_eq(nagios_flow_state(&s, &th, NS_PER_SEC, why, sizeof(why)), NAGIOS_CRITICAL);
	cr_assert_str_eq(why, "198.18.0.2:80 open, TLS failed: starttls-refused: 454 no");
}

/* A trace of 198.18.0.2:80 silent after hop 2: hops answered 10 and 20 µs
 * after the send (one query each). */
static struct trace tr;

static void silent_trace(void)
{
	struct trace_params tp = { .max_hops = 30, .queries = 1, .wait_ns = NS_PER_SEC };
	struct cookie_key key = { { 7 } };
	struct addr me = addr_of("198.18.31.1"), dst = addr_of("198.18.0.2");
	struct trace_send s[TRACE_WINDOW];
	trace_init(&tr, &tp, &key, &me, &dst, 61000, 80, 0);
	int n = trace_due(&tr, 0, s, TRACE_WINDOW);
	for (int i = 0; i < n; i++)
		trace_sent(&tr, s[i].idx, 1000000);
	const char *hops[] = { "198.18.31.254", "198.18.32.2" };
	for (int ttl = 1; ttl <= 2; ttl++) {
		struct segment e = { .kind = SEG_ICMP, .src = addr_of(hops[ttl - 1]), .dst = me,
				     .ts_ns = 1000000 + ttl * 10000, .icmp_type = 11 };
		e.quote = (struct icmp_quote){ .src = me, .dst = dst, .sport = 61000, .dport = 80,
					       .seq = tr.probe[ttl - 1].isn };
		cr_assert_eq(trace_segment(&tr, &e), TM_HOP);
	}
	trace_tick(&tr, NS_PER_SEC); /* hops answered: the next window, silent */
	n = trace_due(&tr, NS_PER_SEC, s, TRACE_WINDOW);
	for (int i = 0; i < n; i++)
		trace_sent(&tr, s[i].idx, 2000000);
	trace_tick(&tr, 2 * NS_PER_SEC);
	cr_assert(tr.done);
}

Test(output, trace_in_json_and_csv)
{
	struct addr a = addr_of("198.18.0.2");
	silent_trace();
	struct trace_report r = { .target = "198.18.0.2", .addr = &a, .port = 80, .t = &tr };
	struct output o = open_out(&output_json_ops);
	o.ops->trace(&o, &r);
	cr_assert_str_eq(close_out(&o),
		"{\"type\":\"trace\",\"target\":\"198.18.0.2\",\"addr\":\"198.18.0.2\",\"port\":80,"
		"\"sport\":61000,\"queries\":1,\"max_hops\":30,\"verdict\":\"silent\","
		"\"text\":\"silent after hop 2 (198.18.32.2)\","
		"\"last_hop\":{\"ttl\":2,\"addr\":\"198.18.32.2\"},\"hop_count\":3,\"hops\":["
		"{\"ttl\":1,\"addr\":\"198.18.31.254\",\"rtts_us\":[10.000],\"icmp\":null,\"tcp\":null},"
		"{\"ttl\":2,\"addr\":\"198.18.32.2\",\"rtts_us\":[20.000],\"icmp\":null,\"tcp\":null},"
		"{\"ttl\":3,\"addr\":null,\"rtts_us\":[null],\"icmp\":null,\"tcp\":null}]}\n");
	free(text);
	o = open_out(&output_text_ops);
	o.ops->trace(&o, &r);
	cr_assert_str_eq(close_out(&o),
		"trace 198.18.0.2:80: source port 61000, 1 probes a hop, 30 hops at most\n"
		" 1  198.18.31.254  0.010 ms\n"
		" 2  198.18.32.2  0.020 ms\n"
		" 3  *\n"
		"silent after hop 2 (198.18.32.2)\n");
	free(text);
}

/* Fields of a CSV line without quotes. */
static int csv_columns(const char *line, size_t n)
{
	int c = 1;
	for (size_t i = 0; i < n; i++)
		c += line[i] == ',';
	return c;
}

/* With traces, one table: the header, a probe's row and a trace's row have
 * the same columns; the trace's fill the probe columns that name the
 * target:port and the trace_* columns. */
Test(csv, traces_in_the_one_table)
{
	struct addr a = addr_of("198.18.0.2");
	struct probe_result pr = { .syns = 1, .outcome = OUTCOME_FILTERED };
	struct probe_report rep = { .target = "198.18.0.2", .addr = &a, .port = 80, .sport = 61000,
				    .res = &pr, .timeout_ns = NS_PER_SEC, .mode = PMODE_SYN,
				    .was = OUTCOME_NONE };
	silent_trace();
	struct trace_report r = { .target = "198.18.0.2", .addr = &a, .port = 80, .t = &tr };
	struct output o = open_out(&output_csv_ops);
	o.traces = true;
	o.ops->begin(&o);
	o.ops->probe(&o, &rep);
	o.ops->trace(&o, &r);
	o.ops->trace(&o, &r);
	const char *out = close_out(&o), *line = out;
	int rows = 0, cols = -1;
	for (const char *end; (end = strstr(line, "\r\n")); line = end + 2, rows++) {
		int c = csv_columns(line, (size_t)(end - line));
		cr_assert(cols < 0 || c == cols, "row %d: %d columns, not %d:\n%s", rows, c, cols, out);
		cols = c;
	}
	cr_assert_eq(rows, 4, "%s", out);
	cr_assert_eq(*line, '\0', "every row ends in CRLF: %s", out);
	cr_assert(strstr(out, ",trace_verdict,trace_text,trace_last_hop_ttl,trace_last_hop,"
			      "trace_hops,trace_path\r\n"), "%s", out);
	cr_assert(strstr(out, ",,,,,,\r\n"), "the probe's trace columns are empty: %s", out);
	static const char tail[] = ",silent,silent after hop 2 (198.18.32.2),2,198.18.32.2,3,"
				   "198.18.31.254 198.18.32.2 *\r\n";
	const char *t = strstr(out, "\r\n198.18.0.2,198.18.0.2,80,,61000,,");
	cr_assert(t, "the trace's row names the target:port and no probe: %s", out);
	const char *e = strstr(t + 2, "\r\n") + 2;
	cr_assert(e - t > (ptrdiff_t)strlen(tail) && memcmp(e - strlen(tail), tail, strlen(tail)) == 0,
		  "the trace columns: %s", out);
	free(text);
	/* without --trace, no trace columns */
	o = open_out(&output_csv_ops);
	o.ops->begin(&o);
	cr_assert_null(strstr(close_out(&o), "trace_"), "%s", text);
	free(text);
}

Test(nagios, trace_in_the_line_and_perfdata)
{
	struct flow_summary s = flow(1, 0, 0, 1, 0, 0);
	struct run_summary rs = { 0 };
	struct addr a = s.addr;
	silent_trace();
	struct trace_report r = { .target = "198.18.0.2", .addr = &a, .port = 80, .t = &tr };
	struct output o = open_out(&output_nagios_ops);
	o.th = &th;
	o.timeout_ns = NS_PER_SEC;
	o.ops->summary(&o, &s);
	o.ops->trace(&o, &r);
	o.ops->run(&o, &rs);
	cr_assert_eq(nagios_finish(&o, NULL), NAGIOS_CRITICAL);
	cr_assert_str_eq(close_out(&o), "TCPSHAKE CRITICAL - 198.18.0.2:80 filtered (no answer in 1 s)"
					"; trace 198.18.0.2:80: silent after hop 2 (198.18.32.2), last "
					"good hop 2 (198.18.32.2)|rtt=U;0.200000;0.500000;0; "
					"loss=100%;20;60;0;100 trace_hops=3;;;0; trace_last_hop=2;;;0;\n");
	free(o.sums);
	free(text);
}
