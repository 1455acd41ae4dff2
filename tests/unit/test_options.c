/* Option validation and conflicts. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>
#include <sys/socket.h>

#include "options.h"
#include "util.h"

static struct config cfg;

static enum parse_result parse(int argc, char **argv)
{
	return options_parse(argc, argv, &cfg);
}

#define ARGV(...) ((char *[]){ "tcpshake", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "tcpshake", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void quiet(void)
{
	cr_redirect_stderr();
	cr_redirect_stdout();
}

TestSuite(options, .init = quiet);

Test(options, defaults)
{
	cr_assert_eq(PARSE("198.18.0.2"), PARSE_OK);
	cr_assert_eq(cfg.ports.n, 1);
	cr_assert_eq(cfg.ports.v[0], 80);
	cr_assert_eq(cfg.count, 0, "one target:port: until interrupted");
	cr_assert_eq(cfg.interval_ns, NS_PER_SEC);
	cr_assert_eq(cfg.timeout_ns, NS_PER_SEC);
	cr_assert_eq(cfg.mode, PMODE_FULL, "full mode is the default");
	cr_assert_eq(cfg.close, CLOSE_FIN);
	cr_assert_not(cfg.http);
	cr_assert(cfg.syn.mss && cfg.syn.sack && cfg.syn.ts);
	cr_assert_eq(cfg.syn.wscale, 7);
	cr_assert_eq(cfg.family, AF_UNSPEC);
	cr_assert_eq(cfg.format, FORMAT_TEXT);
	options_free(&cfg);
}

Test(options, several_targets_get_one_probe_each)
{
	/* the engine decides once it knows how many target:ports there are */
	cr_assert_eq(PARSE("-p", "80,443", "198.18.0.2"), PARSE_OK);
	cr_assert_not(cfg.count_given);
	options_free(&cfg);
}

Test(options, everything_set)
{
	cr_assert_eq(PARSE("-p", "22", "-c", "5", "-i", "0.25", "-W", "2.5", "-M", "syn", "-6", "-n",
			   "-q", "-j", "-s", "40000", "-I", "lo", "-S", "::1", "::1"),
		     PARSE_OK);
	cr_assert_eq(cfg.count, 5);
	cr_assert_eq(cfg.interval_ns, 250000000);
	cr_assert_eq(cfg.timeout_ns, 2500000000);
	cr_assert_eq(cfg.family, AF_INET6);
	cr_assert(cfg.numeric && cfg.quiet);
	cr_assert_eq(cfg.format, FORMAT_JSON);
	cr_assert_eq(cfg.source_port, 40000);
	cr_assert_str_eq(cfg.iface, "lo");
	cr_assert_str_eq(cfg.source, "::1");
	options_free(&cfg);
}

Test(options, options_after_targets)
{
	cr_assert_eq(PARSE("198.18.0.2", "-c", "3"), PARSE_OK);
	cr_assert_eq(cfg.count, 3);
	cr_assert_eq(cfg.ntargets, 1);
	options_free(&cfg);
}

Test(options, refused)
{
	cr_assert_eq(PARSE("-4", "-6", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-c", "0", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-i", "0", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-W", "-1", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-M", "fast", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-M", "syn", "--http", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-M", "syn", "--close", "rst", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--http", "--close", "rst", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--http-method", "GET", "x"), PARSE_USAGE, "needs --http");
	options_free(&cfg);
	cr_assert_eq(PARSE("--http-method", "POST", "--http", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--http=index.html", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--close", "abort", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--syn-options", "mss=10", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-s", "65536", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-I", "0123456789abcdefg", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("-q"), PARSE_USAGE, "no target");
	options_free(&cfg);
	cr_assert_eq(PARSE("--no-such-option", "x"), PARSE_USAGE);
	options_free(&cfg);
}

Test(options, help_and_version)
{
	cr_assert_eq(PARSE("--help"), PARSE_EXIT_OK);
	options_free(&cfg);
	cr_assert_eq(PARSE("-V"), PARSE_EXIT_OK);
	cr_assert_eq(cfg.ntargets, -1);
	options_free(&cfg);
}

Test(options, seconds)
{
	cr_assert_eq(parse_seconds("1", 10), NS_PER_SEC);
	cr_assert_eq(parse_seconds("0.000001", 10), 1000);
	cr_assert_eq(parse_seconds("1e-3", 10), 1000000);
	cr_assert_eq(parse_seconds("0", 10), -1);
	cr_assert_eq(parse_seconds("-1", 10), -1);
	cr_assert_eq(parse_seconds("11", 10), -1);
	cr_assert_eq(parse_seconds("nan", 10), -1);
	cr_assert_eq(parse_seconds("inf", 10), -1);
	cr_assert_eq(parse_seconds("1s", 10), -1);
	cr_assert_eq(parse_seconds("", 10), -1);
	cr_assert_eq(parse_seconds("1e-12", 10), -1, "rounds to zero nanoseconds");
}

Test(options, modes_and_http)
{
	cr_assert_eq(PARSE("-M", "syn", "x"), PARSE_OK);
	cr_assert_eq(cfg.mode, PMODE_SYN);
	options_free(&cfg);
	cr_assert_eq(PARSE("--http", "--http-method", "GET", "-v", "x"), PARSE_OK);
	cr_assert(cfg.http && cfg.verbose);
	cr_assert_str_eq(cfg.http_path, "/");
	cr_assert_str_eq(cfg.http_method, "GET");
	options_free(&cfg);
	cr_assert_eq(PARSE("--http=/health?full=1", "--close", "fin", "x"), PARSE_OK);
	cr_assert_str_eq(cfg.http_path, "/health?full=1");
	options_free(&cfg);
	cr_assert_eq(PARSE("--close", "rst", "x"), PARSE_OK);
	cr_assert_eq(cfg.close, CLOSE_RST);
	options_free(&cfg);
}

Test(options, syn_option_lists)
{
	struct syn_spec s;
	char err[128];
	cr_assert_eq(parse_syn_options("none", &s, err, sizeof(err)), 0);
	cr_assert(!s.mss && !s.sack && !s.ts && s.wscale == -1);
	cr_assert_eq(parse_syn_options("linux", &s, err, sizeof(err)), 0);
	cr_assert(s.mss && s.sack && s.ts && s.wscale == 7 && s.mss_value == 0);
	cr_assert_eq(parse_syn_options("mss=1400,ws=7,sack,ts", &s, err, sizeof(err)), 0);
	cr_assert(s.mss && s.sack && s.ts && s.wscale == 7 && s.mss_value == 1400);
	cr_assert_eq(parse_syn_options("ts", &s, err, sizeof(err)), 0);
	cr_assert(!s.mss && s.ts && s.wscale == -1);
	const char *bad[] = { "", "mss=0", "mss=65536", "ws=15", "ws=-1", "sack,", ",ts", "foo",
			      "mss=1400x", "ws" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(parse_syn_options(bad[i], &s, err, sizeof(err)), -1, "'%s'", bad[i]);
}

Test(options, thresholds)
{
	double rtt = 0, loss = 7;
	char err[128];
	cr_assert_eq(parse_threshold("200", &rtt, &loss, err, sizeof(err)), 0);
	cr_assert_float_eq(rtt, 200, 1e-9);
	cr_assert_float_eq(loss, 7, 1e-9, "loss kept when not given");
	cr_assert_eq(parse_threshold("0.5,20%", &rtt, &loss, err, sizeof(err)), 0);
	cr_assert_float_eq(rtt, 0.5, 1e-9);
	cr_assert_float_eq(loss, 20, 1e-9);
	cr_assert_eq(parse_threshold("100,50", &rtt, &loss, err, sizeof(err)), 0);
	cr_assert_float_eq(loss, 50, 1e-9);
	const char *bad[] = { "", "-1", "abc", "100,", "100,101", "100,-1", "100,20%%", "1e999",
			      "100;20", "nan" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(parse_threshold(bad[i], &rtt, &loss, err, sizeof(err)), -1, "'%s'", bad[i]);
	cr_assert_eq(PARSE("--warning", "600", "x"), PARSE_USAGE, "warning above critical");
	options_free(&cfg);
	cr_assert_eq(PARSE("--format", "xml", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--refused", "maybe", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--min-open", "0", "x"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--format", "nagios", "--warning", "100,10%", "--critical", "300,30",
			   "--refused", "warn", "--min-open", "1", "-o", "/tmp/x", "x"),
		     PARSE_OK);
	cr_assert_eq(cfg.format, FORMAT_NAGIOS);
	cr_assert_float_eq(cfg.th.warn_rtt_ms, 100, 1e-9);
	cr_assert_float_eq(cfg.th.crit_loss, 30, 1e-9);
	cr_assert_eq(cfg.th.refused, NAGIOS_WARNING);
	cr_assert_eq(cfg.th.min_open, 1);
	cr_assert_str_eq(cfg.output, "/tmp/x");
	options_free(&cfg);
}

Test(options, fleet_options)
{
	cr_assert_eq(PARSE("-f", "a.txt", "-f", "-", "--exclude", "198.18.0.9", "--exclude-file", "x",
			   "--seed", "42", "--no-shuffle", "--shard", "1/4", "--rate", "2000.5",
			   "--retries", "2", "--max-targets", "1000", "--only", "open", "--only",
			   "filtered"),
		     PARSE_OK, "files alone are targets enough");
	cr_assert_eq(cfg.files.n, 2);
	cr_assert_str_eq(cfg.files.v[1], "-");
	cr_assert_eq(cfg.excludes.n, 1);
	cr_assert_eq(cfg.exclude_files.n, 1);
	cr_assert(cfg.seed_given && cfg.seed == 42 && cfg.no_shuffle);
	cr_assert_eq(cfg.shard_i, 1);
	cr_assert_eq(cfg.shard_n, 4);
	cr_assert_float_eq(cfg.rate, 2000.5, 1e-9);
	cr_assert_eq(cfg.retries, 2);
	cr_assert_eq(cfg.max_targets, 1000);
	cr_assert_eq(cfg.only, (1u << OUTCOME_OPEN) | (1u << OUTCOME_FILTERED));
	options_free(&cfg);
	const char *bad[][2] = { { "--shard", "4/4" }, { "--shard", "1" }, { "--shard", "a/b" },
				 { "--shard", "0/0" }, { "--rate", "0" }, { "--rate", "-5" },
				 { "--retries", "11" }, { "--seed", "-1" }, { "--only", "up" },
				 { "--max-targets", "0" }, { "--exclude", "" }, { "-f", "" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(PARSE((char *)bad[i][0], (char *)bad[i][1], "x"), PARSE_USAGE, "%s %s",
			     bad[i][0], bad[i][1]);
		options_free(&cfg);
	}
}

/* PARSE_USAGE with a message that holds want. */
#define REFUSED(want, ...)                                                                  \
	do {                                                                                \
		cr_assert_eq(PARSE(__VA_ARGS__), PARSE_USAGE);                              \
		cr_assert(strstr(cfg.error, want), "'%s' lacks '%s'", cfg.error, want);     \
		options_free(&cfg);                                                         \
	} while (0)

Test(options, long_options_are_named)
{
	REFUSED("--format: needs an argument", "x", "--format");
	REFUSED("--format: needs an argument", "x", "--form");
	REFUSED("--count: needs an argument", "x", "--count");
	REFUSED("-c: needs an argument", "x", "-c");
	REFUSED("-Z: unknown option", "-qZ", "x");
	REFUSED("-Z: unknown option", "-Zq", "x");
	REFUSED("--quiet: takes no argument", "--quiet=yes", "x");
	REFUSED("--h: ambiguous (--http, --http-method, --help)", "--h", "x");
	cr_assert_null(strchr(cfg.error, '\004'));
}

Test(options, typos_get_the_nearest_option)
{
	REFUSED("--cuont: unknown option, did you mean --count?", "--cuont", "3", "x");
	REFUSED("did you mean --format?", "--fromat=json", "x");
	REFUSED("did you mean --interval?", "--intervall", "1", "x");
	REFUSED("did you mean --exclude?", "--exlcude", "198.18.0.1", "x");
	REFUSED("--zzzzzzzz: unknown option (see", "--zzzzzzzz", "x");
}

Test(options, empty_target_is_a_usage_error)
{
	REFUSED("target: empty argument", "");
	REFUSED("target: empty argument", "198.18.0.1", "");
}

Test(options, a_zone_names_the_interface)
{
	cr_assert_eq(PARSE("fe80::1%veth0"), PARSE_OK);
	cr_assert_str_eq(cfg.iface, "veth0");
	options_free(&cfg);
	cr_assert_eq(PARSE("-I", "veth0", "fe80::1%veth0", "fe80::2%veth0"), PARSE_OK);
	cr_assert_str_eq(cfg.iface, "veth0");
	options_free(&cfg);
	REFUSED("zone veth1 is not the interface veth0", "fe80::1%veth0", "fe80::2%veth1");
	REFUSED("zone veth0 is not the interface lo", "-I", "lo", "fe80::1%veth0");
	REFUSED("zone after %", "fe80::1%");
}

Test(options, long_arguments_keep_the_reason)
{
	static char big[3000];
	memset(big, '9', sizeof(big) - 1);
	REFUSED("must be a whole number", "--count", big, "x");
	REFUSED("needs an argument", "x", "--format");
	char opt[2100] = "--";
	memset(opt + 2, 'q', 2000);
	REFUSED("unknown option", opt, "x");
}

Test(options, serve_takes_allow_and_no_target)
{
	cr_assert_eq(PARSE("--serve", "127.0.0.1:9516", "--allow", "198.18.0.0/15",
			   "--allow", "2001:db8::/32"), PARSE_OK);
	cr_assert_str_eq(cfg.serve, "127.0.0.1:9516");
	cr_assert_eq(cfg.allows.n, 2);
	cr_assert_eq(cfg.max_probes, SERVE_DEFAULT_PROBES);
	cr_assert_eq(cfg.ntargets, 0);
	options_free(&cfg);
}

Test(options, serve_refuses_what_a_run_takes)
{
	cr_assert_eq(PARSE("--serve", ":9516"), PARSE_USAGE, "nothing allowed by default");
	cr_assert(strstr(cfg.error, "needs --allow"), "%s", cfg.error);
	options_free(&cfg);
	cr_assert_eq(PARSE("--serve", ":9516", "--allow", "198.18.0.0/24", "198.18.0.2"), PARSE_USAGE);
	cr_assert(strstr(cfg.error, "conflicts with --serve"), "%s", cfg.error);
	options_free(&cfg);
	cr_assert_eq(PARSE("--serve", ":9516", "--allow", "198.18.0.0/24", "-c", "3"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--serve", ":9516", "--allow", "198.18.0.0/24", "-M", "fin"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--serve", ":9516", "--allow", "198.18.0.0/24", "--wait"), PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--allow", "198.18.0.0/24", "198.18.0.2"), PARSE_USAGE, "without --serve");
	cr_assert(strstr(cfg.error, "needs --serve"), "%s", cfg.error);
	options_free(&cfg);
	cr_assert_eq(PARSE("--serve", ":9516", "--allow", "198.18.0.0/24", "--max-probes", "0"),
		     PARSE_USAGE);
	options_free(&cfg);
	cr_assert_eq(PARSE("--serve", ":9516", "--allow", "198.18.0.0/24", "--max-probes", "5000"),
		     PARSE_USAGE);
	options_free(&cfg);
}

/* ---- --expect, --send, --banner, --starttls ---------------------------- */

Test(options, expect_and_send_parsed_once)
{
	cr_assert_eq(PARSE("--send", "PING\\r\\n", "--expect", "^\\+PONG", "--expect-timeout", "0.5",
			   "--mismatch", "crit", "198.18.0.2"), PARSE_OK, "%s", cfg.error);
	cr_assert_eq(cfg.send_len, 6);
	cr_assert_eq(memcmp(cfg.send, "PING\r\n", 6), 0, "the escapes undone");
	cr_assert(cfg.expect.compiled);
	cr_assert_eq(cfg.expect_timeout_ns, NS_PER_SEC / 2);
	cr_assert_eq(cfg.th.mismatch, NAGIOS_CRITICAL);
	options_free(&cfg);
	cr_assert_null(cfg.send);
	cr_assert_not(cfg.expect.compiled);
	cr_assert_eq(PARSE("--expect", "x", "198.18.0.2"), PARSE_OK);
	cr_assert_eq(cfg.th.mismatch, NAGIOS_WARNING, "check_tcp -M's default");
	options_free(&cfg);
}

Test(options, starttls_implies_tls)
{
	cr_assert_eq(PARSE("--starttls", "imap", "--ca", "/dev/null", "198.18.0.2"), PARSE_OK);
	cr_assert(cfg.starttls && cfg.tls);
	cr_assert_eq(cfg.starttls_proto, STARTTLS_IMAP);
	options_free(&cfg);
}

/* Each mistake: one usage error naming the option and why. */
Test(options, banner_options_and_their_conflicts)
{
	static const struct {
		const char *args[4]; /* before the target; NULL-terminated */
		const char *error;
	} cases[] = {
		{ { "--send", "a\\q" }, "--send: " },
		{ { "--send", "" }, "--send: empty argument" },
		{ { "--expect", "(" }, "--expect: " },
		{ { "--expect-timeout", "1" }, "--expect-timeout: needs --expect, --send or --banner" },
		{ { "--mismatch", "crit" }, "--mismatch: needs --expect" },
		{ { "--mismatch", "bad", "--expect=x" }, "--mismatch: ok, warn or crit" },
		{ { "--banner", "--expect", "x" }, "--banner: conflicts with --expect" },
		{ { "--banner", "--send", "x" }, "--banner: conflicts with --send" },
		{ { "--expect", "x", "--tls" }, "--expect: conflicts with --tls" },
		{ { "--send", "x", "--starttls=smtp" }, "--send: conflicts with --starttls" },
		{ { "--expect", "x", "-Msyn" }, "-M syn: conflicts with --expect" },
		{ { "--starttls", "smtp", "-Msyn" }, "-M syn: conflicts with --starttls" },
		{ { "--starttls", "smtp", "--http" }, "--starttls: conflicts with --http" },
		{ { "--banner", "--close", "rst" }, "--banner: conflicts with --close rst" },
		{ { "--starttls", "ftp" }, "--starttls: smtp, imap or pop3" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[7] = { "tcpshake" };
		int argc = 1;
		for (int k = 0; k < 4 && cases[i].args[k]; k++)
			argv[argc++] = (char *)cases[i].args[k];
		argv[argc++] = "198.18.0.2";
		cr_assert_eq(parse(argc, argv), PARSE_USAGE, "case %zu", i);
		cr_assert(strncmp(cfg.error, cases[i].error, strlen(cases[i].error)) == 0,
			  "case %zu: %s", i, cfg.error);
		options_free(&cfg);
	}
}

Test(options, trace_options)
{
	cr_assert_eq(PARSE("--trace", "-M", "syn", "198.18.0.2"), PARSE_OK);
	cr_assert(cfg.trace && !cfg.trace_on_fail);
	cr_assert_eq(cfg.max_hops, 0);
	cr_assert_eq(cfg.trace_queries, 0);
	options_free(&cfg);
	cr_assert_eq(PARSE("--trace-on-fail", "--max-hops", "8", "--queries", "1", "198.18.0.2"),
		     PARSE_OK);
	cr_assert(cfg.trace_on_fail && !cfg.trace);
	cr_assert_eq(cfg.max_hops, 8);
	cr_assert_eq(cfg.trace_queries, 1);
	options_free(&cfg);
}

/* Each mistake: one usage error naming the option and why. */
Test(options, trace_refusals)
{
	static const struct {
		const char *args[4]; /* before the target; NULL-terminated */
		const char *error;
	} cases[] = {
		{ { "--max-hops", "5" }, "--max-hops: needs --trace or --trace-on-fail" },
		{ { "--queries", "2" }, "--queries: needs --trace or --trace-on-fail" },
		{ { "--trace", "--max-hops", "0" }, "--max-hops: must be a number from 1 to 64" },
		{ { "--trace", "--max-hops", "65" }, "--max-hops: must be a number from 1 to 64" },
		{ { "--trace", "--queries", "11" }, "--queries: must be a number from 1 to 10" },
		{ { "--trace", "--trace-on-fail" }, "--trace-on-fail: conflicts with --trace" },
		{ { "--trace", "-M", "fin" }, "--trace: conflicts with a flag scan" },
		{ { "--trace-on-fail", "-M", "flags" }, "--trace-on-fail: conflicts with a flag scan" },
		{ { "--trace", "--wait" }, "--trace: conflicts with --wait" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[7] = { "tcpshake" };
		int argc = 1;
		for (int k = 0; k < 4 && cases[i].args[k]; k++)
			argv[argc++] = (char *)cases[i].args[k];
		argv[argc++] = "198.18.0.2";
		cr_assert_eq(parse(argc, argv), PARSE_USAGE, "case %zu", i);
		cr_assert(strncmp(cfg.error, cases[i].error, strlen(cases[i].error)) == 0,
			  "case %zu: %s", i, cfg.error);
		options_free(&cfg);
	}
	cr_assert_eq(PARSE("--serve", ":9516", "--allow", "198.18.0.0/15", "--trace"), PARSE_USAGE);
	cr_assert(strstr(cfg.error, "--trace: conflicts with --serve"), "%s", cfg.error);
	options_free(&cfg);
}

Test(options, pmtu_and_its_conflicts)
{
	cr_assert_eq(PARSE("--pmtu", "--peer-mtu", "1500", "198.18.0.2"), PARSE_OK);
	cr_assert(cfg.pmtu);
	cr_assert_eq(cfg.peer_mtu, 1500);
	cr_assert_eq(cfg.mode, PMODE_FULL);
	options_free(&cfg);
	cr_assert_eq(PARSE("--pmtu", "--close", "rst", "198.18.0.2"), PARSE_OK);
	options_free(&cfg);
	REFUSED("--peer-mtu: needs --pmtu", "--peer-mtu", "1500", "198.18.0.2");
	REFUSED("--peer-mtu: must be an MTU from 68 to 65535", "--pmtu", "--peer-mtu", "67", "x");
	REFUSED("--peer-mtu: must be an MTU from 68 to 65535", "--pmtu", "--peer-mtu", "65536", "x");
	/* review of issue 17, finding 10: IPv6's links carry 1280 bytes at least */
	REFUSED("--peer-mtu: must be 1280 or more with -6", "--pmtu", "--peer-mtu", "100", "-6",
		"x");
	REFUSED("--peer-mtu: must be 1280 or more with -6", "-6", "--pmtu", "--peer-mtu", "1279",
		"x");
	cr_assert_eq(PARSE("-6", "--pmtu", "--peer-mtu", "1280", "2001:db8::2"), PARSE_OK);
	options_free(&cfg);
	cr_assert_eq(PARSE("-4", "--pmtu", "--peer-mtu", "576", "198.18.0.2"), PARSE_OK);
	cr_assert_eq(cfg.peer_mtu, 576);
	options_free(&cfg);
	cr_assert_eq(pmtu_min_mtu(AF_INET), 68);
	cr_assert_eq(pmtu_min_mtu(AF_INET6), 1280);
	REFUSED("-M syn: conflicts with --pmtu", "--pmtu", "-M", "syn", "x");
	REFUSED("a flag scan: conflicts with --pmtu", "--pmtu", "-M", "fin", "x");
	REFUSED("--http: conflicts with --pmtu", "--pmtu", "--http", "x");
	REFUSED("--tls: conflicts with --pmtu", "--pmtu", "--tls", "x");
	REFUSED("--starttls: conflicts with --pmtu", "--pmtu", "--starttls", "smtp", "x");
	REFUSED("--banner: conflicts with --pmtu", "--pmtu", "--banner", "x");
	REFUSED("--pmtu: conflicts with --serve", "--pmtu", "--serve", ":9", "--allow",
		"198.18.0.0/15");
}
