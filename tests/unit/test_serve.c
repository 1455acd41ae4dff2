/* --serve's pure parts: the target of a request, the module, the wait, and
 * the allow list's intervals. */
#include <criterion/criterion.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "serve.h"
#include "targets.h"
#include "tset.h"

static void split_ok(const char *t, const char *host, int port)
{
	char h[64];
	int p = -1;
	cr_assert_eq(hostport_split(t, h, sizeof(h), &p), 0, "%s", t);
	cr_assert_str_eq(h, host, "%s", t);
	cr_assert_eq(p, port, "%s", t);
}

Test(serve, target_forms)
{
	split_ok("198.18.0.2", "198.18.0.2", 0);
	split_ok("198.18.0.2:80", "198.18.0.2", 80);
	split_ok("db.example:5432", "db.example", 5432);
	split_ok("[2001:db8::2]:443", "2001:db8::2", 443);
	split_ok("[2001:db8::2]", "2001:db8::2", 0);
	split_ok("2001:db8::2", "2001:db8::2", 0); /* two colons: an address alone */
}

Test(serve, malformed_targets)
{
	const char *bad[] = { "", ":80", "host:", "host:0", "host:65536", "host:8o",
			      "[2001:db8::2", "[2001:db8::2]x", "[]:80", "[2001:db8::2]:" };
	char h[64];
	int p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(hostport_split(bad[i], h, sizeof(h), &p), -1, "%s", bad[i]);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(hostport_split(longname, h, sizeof(h), &p), -1, "longer than the buffer");
}

Test(serve, modules)
{
	cr_assert_eq(serve_module("full"), &kind_full);
	cr_assert_eq(serve_module("tcp_connect"), &kind_full, "blackbox's name");
	cr_assert_eq(serve_module("syn"), &kind_syn);
	cr_assert_eq(serve_module("http"), &kind_http);
	cr_assert_eq(serve_module("http_2xx"), &kind_http);
	cr_assert_null(serve_module("icmp"));
	cr_assert_null(serve_module("fin"), "flag scans are not health checks");
}

Test(serve, the_wait_follows_the_scrape_timeout)
{
	const int64_t s = 1000000000;
	cr_assert_eq(serve_timeout_for(3 * s, NULL), 3 * s, "-W without a header");
	cr_assert_eq(serve_timeout_for(3 * s, "10"), 3 * s, "never above -W");
	cr_assert_eq(serve_timeout_for(3 * s, "1.5"), s, "less 0.5 s, as blackbox");
	cr_assert_eq(serve_timeout_for(3 * s, "0.6"), 300000000, "a short scrape: half of it");
	cr_assert_eq(serve_timeout_for(3 * s, "0.1"), 100000000, "100 ms at least");
	cr_assert_eq(serve_timeout_for(3 * s, "x"), 3 * s, "garbage is ignored");
	cr_assert_eq(serve_timeout_for(3 * s, "-4"), 3 * s);
	cr_assert_eq(serve_timeout_for(3 * s, "1e400"), 3 * s);
}

static struct addr a_of(const char *s)
{
	struct addr a = { 0 };
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	inet_pton(a.family, s, a.b);
	return a;
}

Test(serve, allow_blocks_of_any_size)
{
	struct tspan sp[3];
	char err[128];
	cr_assert_eq(tset_span("198.18.0.0/15", 0, &sp[0], err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_span("2001:db8::/32", 0, &sp[1], err, sizeof(err)), 0,
		     "2^96 addresses: %s", err);
	cr_assert_eq(tset_span("198.51.100.7", 0, &sp[2], err, sizeof(err)), 0, "%s", err);
	struct addr first = a_of("2001:db8::");
	cr_assert(addr_eq(&sp[1].first, &first));
	const char *in[] = { "198.18.0.1", "198.19.255.255", "2001:db8:ffff::1", "198.51.100.7" };
	const char *out[] = { "198.17.255.255", "198.20.0.0", "2001:db9::", "198.51.100.8",
			      "::ffff:198.18.0.1" };
	for (size_t i = 0; i < 4; i++) {
		struct addr a = a_of(in[i]);
		cr_assert(tspan_has(sp, 3, &a), "%s", in[i]);
	}
	for (size_t i = 0; i < 5; i++) {
		struct addr a = a_of(out[i]);
		cr_assert_not(tspan_has(sp, 3, &a), "%s", out[i]);
	}
	cr_assert_eq(tset_span("example.com", 0, &sp[0], err, sizeof(err)), -1, "no names");
	cr_assert_eq(tset_span("198.18.0.0/33", 0, &sp[0], err, sizeof(err)), -1);
	cr_assert_eq(tset_span("", 0, &sp[0], err, sizeof(err)), -1);
}

Test(serve, listen_addresses)
{
	char h[64];
	int p;
	cr_assert_eq(listen_spec_parse(":9516", h, sizeof(h), &p), 0);
	cr_assert_str_eq(h, "::");
	cr_assert_eq(p, 9516, ":PORT is every address on PORT (it bound port 0 once)");
	cr_assert_eq(listen_spec_parse("127.0.0.1:9516", h, sizeof(h), &p), 0);
	cr_assert_eq(p, 9516);
	cr_assert_eq(listen_spec_parse("[::1]:80", h, sizeof(h), &p), 0);
	cr_assert_str_eq(h, "::1");
	const char *bad[] = { ":", ":0", ":65536", ":95x", "127.0.0.1", "127.0.0.1:", "[::1]", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(listen_spec_parse(bad[i], h, sizeof(h), &p), -1, "%s", bad[i]);
}
