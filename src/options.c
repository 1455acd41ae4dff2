/* options.c - getopt_long table, validation and conflicts. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "util.h"
#include "trace.h"

enum { OPT_CLOSE = 256, OPT_HTTP, OPT_HTTP_METHOD, OPT_SYN_OPTIONS, OPT_FORMAT, OPT_WARNING,
       OPT_CRITICAL, OPT_REFUSED, OPT_MIN_OPEN, OPT_EXCLUDE, OPT_EXCLUDE_FILE, OPT_SEED,
       OPT_NO_SHUFFLE, OPT_SHARD, OPT_RATE, OPT_RETRIES, OPT_MAX_TARGETS, OPT_ONLY, OPT_FLAGS,
       OPT_WAIT, OPT_DEADLINE, OPT_EXPECT_STATE, OPT_ALL_ADDRESSES, OPT_REQUIRE, OPT_SERVE,
       OPT_ALLOW, OPT_MAX_PROBES, OPT_TLS, OPT_SNI, OPT_ALPN, OPT_TLS_MIN, OPT_CA, OPT_INSECURE,
       OPT_CERT_WARNING, OPT_CERT_CRITICAL, OPT_SEND, OPT_EXPECT, OPT_EXPECT_TIMEOUT, OPT_BANNER,
       OPT_MISMATCH, OPT_STARTTLS, OPT_TRACE, OPT_TRACE_ON_FAIL, OPT_MAX_HOPS, OPT_QUERIES,
       OPT_PMTU, OPT_PEER_MTU, OPT_NO_MIDDLEBOX };

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "count", required_argument, NULL, 'c' },
	{ "interval", required_argument, NULL, 'i' },
	{ "timeout", required_argument, NULL, 'W' },
	{ "mode", required_argument, NULL, 'M' },
	{ "interface", required_argument, NULL, 'I' },
	{ "buffer-size", required_argument, NULL, 'B' },
	{ "source", required_argument, NULL, 'S' },
	{ "source-port", required_argument, NULL, 's' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "numeric", no_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, 'j' },
	{ "close", required_argument, NULL, OPT_CLOSE },
	{ "http", optional_argument, NULL, OPT_HTTP },
	{ "http-method", required_argument, NULL, OPT_HTTP_METHOD },
	{ "syn-options", required_argument, NULL, OPT_SYN_OPTIONS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "timestamp", no_argument, NULL, 'D' },
	{ "vcount", required_argument, NULL, 'C' },
	{ "file", required_argument, NULL, 'f' },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "no-shuffle", no_argument, NULL, OPT_NO_SHUFFLE },
	{ "no-middlebox", no_argument, NULL, OPT_NO_MIDDLEBOX },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "max-targets", required_argument, NULL, OPT_MAX_TARGETS },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "flags", required_argument, NULL, OPT_FLAGS },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "expect-state", required_argument, NULL, OPT_EXPECT_STATE },
	{ "all-addresses", no_argument, NULL, OPT_ALL_ADDRESSES },
	{ "require", required_argument, NULL, OPT_REQUIRE },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "sni", required_argument, NULL, OPT_SNI },
	{ "alpn", required_argument, NULL, OPT_ALPN },
	{ "tls-min", required_argument, NULL, OPT_TLS_MIN },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "cert-warning", required_argument, NULL, OPT_CERT_WARNING },
	{ "cert-critical", required_argument, NULL, OPT_CERT_CRITICAL },
	{ "send", required_argument, NULL, OPT_SEND },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "expect-timeout", required_argument, NULL, OPT_EXPECT_TIMEOUT },
	{ "banner", no_argument, NULL, OPT_BANNER },
	{ "mismatch", required_argument, NULL, OPT_MISMATCH },
	{ "starttls", required_argument, NULL, OPT_STARTTLS },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "trace-on-fail", no_argument, NULL, OPT_TRACE_ON_FAIL },
	{ "max-hops", required_argument, NULL, OPT_MAX_HOPS },
	{ "queries", required_argument, NULL, OPT_QUERIES },
	{ "pmtu", no_argument, NULL, OPT_PMTU },
	{ "peer-mtu", required_argument, NULL, OPT_PEER_MTU },
	{ "serve", required_argument, NULL, OPT_SERVE },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "max-probes", required_argument, NULL, OPT_MAX_PROBES },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "warning", required_argument, NULL, OPT_WARNING },
	{ "critical", required_argument, NULL, OPT_CRITICAL },
	{ "refused", required_argument, NULL, OPT_REFUSED },
	{ "min-open", required_argument, NULL, OPT_MIN_OPEN },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void options_help(FILE *f)
{
	fputs("Usage: tcpshake [OPTIONS] TARGET...\n"
	      "Probe TCP services by doing the three-way handshake on raw sockets.\n"
	      "TARGET is a host name, an IPv4 or IPv6 address, a CIDR block\n"
	      "(198.18.0.0/16) or a range (198.18.0.1-200).\n"
	      "\n"
	      "  -p, --port LIST         ports to probe: 80,443,8000-8010 (default 80)\n"
	      "  -c, --count N           probes per target:port (default: one target:port is\n"
	      "                          probed until interrupted, several get one each)\n"
	      "  -i, --interval SEC      seconds between probes to a target:port (default 1)\n"
	      "  -W, --timeout SEC       seconds to wait for an answer (default 3; a fleet 1)\n"
	      "  -M, --mode MODE         full: complete the handshake, then close (default);\n"
	      "                          syn: SYN, then our RST on SYN/ACK; flag scans as\n"
	      "                          nmap's: fin, null, xmas, ack, window, maimon;\n"
	      "                          flags: SYN, ACK, FIN, NULL and Xmas side by side\n"
	      "                          with a verdict on the filtering\n"
	      "      --flags LETTERS     a flag scan with these flags (F S R P A U E C)\n"
	      "      --expect-state LIST exit 0 when each named port is in its state, as\n"
	      "                          22=filtered,80=open,23=closed (compliance checks)\n"
	      "      --all-addresses     probe every A and AAAA record of a name, each as a\n"
	      "                          target of its own (load balancers, several zones)\n"
	      "      --require RULE      all (default): exit 0 when every target:port was\n"
	      "                          open; any: when one was\n"
	      "      --wait              probe every -i until each target:port answers open,\n"
	      "                          then exit 0 (deploy scripts: wait for a port)\n"
	      "      --deadline SEC      end the run after SEC seconds at the latest\n"
	      "                          (with --wait: exit 1 if not all open by then)\n"
	      "      --close KIND        how full mode ends: fin (default) or rst\n"
	      "      --no-middlebox      full mode: no middlebox verdict (synproxy,\n"
	      "                          syncookies, none, unknown; on by default)\n"
	      "      --http[=PATH]       send HEAD PATH (default /) over the connection and\n"
	      "                          report the status code (implies -M full)\n"
	      "      --http-method M     HEAD (default) or GET (reads and counts the body)\n"
	      "      --syn-options LIST  linux (default), none, or mss=N,ws=N,sack,ts\n"
	      "      --tls               a TLS handshake over the connection: version,\n"
	      "                          cipher, certificate and its verification, timed\n"
	      "                          on the wire (with --http: HTTPS; implies -M full)\n"
	      "      --sni NAME          --tls: the name sent and checked (default: the\n"
	      "                          target as given)\n"
	      "      --alpn LIST         --tls: protocols to offer, h2,http/1.1\n"
	      "      --tls-min VERSION   --tls: 1.2 or 1.3, the oldest version accepted\n"
	      "      --ca FILE           --tls: trust the CAs in FILE (PEM), not the system's\n"
	      "      --insecure          --tls: a certificate that does not verify does not\n"
	      "                          fail the check (it is still reported)\n"
	      "      --cert-warning DAYS nagios: WARNING when the certificate expires within\n"
	      "                          DAYS days (check_tcp -D)\n"
	      "      --cert-critical DAYS nagios: CRITICAL within DAYS days\n"
	      "      --starttls PROTO    smtp, imap or pop3: upgrade to TLS by the\n"
	      "                          protocol's STARTTLS, then check as --tls does\n"
	      "                          (implies --tls; the --tls options apply)\n"
	      "      --send STRING       send STRING once connected (escapes \\r \\n \\t\n"
	      "                          \\\\ \\xNN), then read the first line of the answer\n"
	      "      --expect REGEX      read what the server says (after --send) and\n"
	      "                          match REGEX (POSIX extended) as it arrives; a\n"
	      "                          mismatch fails the check (check_tcp -e)\n"
	      "      --expect-timeout SEC  wait SEC for the match after the handshake\n"
	      "                          (default: -W)\n"
	      "      --banner            read and report the first line the server sends\n"
	      "                          (a greeting: SSH, SMTP), no check\n"
	      "      --mismatch STATE    nagios: the state of an --expect mismatch: ok,\n"
	      "                          warn (default) or crit (check_tcp -M)\n"
	      "      --trace             after its probes, trace each target:port: SYNs\n"
	      "                          on its own 5-tuple with rising TTL, each hop's\n"
	      "                          ICMP time exceeded matched by its quote; says\n"
	      "                          where the path ends (at most 16 target:ports)\n"
	      "      --trace-on-fail     trace the target:ports found filtered or\n"
	      "                          unreachable, after their probes\n"
	      "      --max-hops N        --trace: the highest TTL or hop limit (default 30)\n"
	      "      --queries N         --trace: probes per hop, 1 to 10 (default 3)\n"
	      "      --pmtu              after the handshake send one full-size segment\n"
	      "                          with DF: report ok, fragmentation-needed (the\n"
	      "                          next-hop MTU) or black-hole (the largest size\n"
	      "                          that passed), and the MSS both ways\n"
	      "      --peer-mtu MTU      --pmtu: the server's interface MTU; a SYN/ACK MSS\n"
	      "                          below what it allows was clamped on the path\n"
	      "                          (68 to 65535; 1280 or more with -6)\n"
	      "  -f, --file FILE         read targets from FILE, one per line (- for stdin)\n"
	      "      --exclude LIST      leave out these targets (commas between them)\n"
	      "      --exclude-file FILE leave out the targets in FILE\n"
	      "      --max-targets N     refuse more targets than N (default 16777216)\n"
	      "      --seed N            the same pseudo-random order for the same N\n"
	      "      --no-shuffle        probe in the order given\n"
	      "      --shard I/N         probe only share I of N (0 <= I < N)\n"
	      "      --rate PPS          send at most PPS SYNs a second, evenly paced\n"
	      "      --retries N         send a silent probe again N times (default 1 for\n"
	      "                          several target:ports, 0 for one)\n"
	      "      --only OUTCOME      print only open, closed, filtered, unreachable,\n"
	      "                          unfiltered or open|filtered\n"
	      "                          target:ports (repeatable)\n"
	      "  -I, --interface IFACE   send and capture on IFACE (default: from the route)\n"
	      "  -B, --buffer-size KIB   the capture buffer in KiB (default: sized by --rate,\n"
	      "                          256 to 4096)\n"
	      "  -S, --source ADDR       source address (default: from the route)\n"
	      "  -s, --source-port PORT  pin the source port (default: a port per probe\n"
	      "                          from outside the kernel's ephemeral range)\n"
	      "  -4, --ipv4              IPv4 only\n"
	      "  -6, --ipv6              IPv6 only\n"
	      "  -n, --numeric           numeric addresses only, no name resolution\n"
	      "  -q, --quiet             print the summaries only; twice (-qq): print\n"
	      "                          nothing, the exit status says it all\n"
	      "  -j, --json              JSON lines: probe, summary and run objects\n"
	      "      --format FORMAT     text (default), json, csv, nagios or prometheus\n"
	      "  -o, --output FILE       write to FILE, atomically (a temporary file renamed)\n"
	      "      --warning RTT[,L%]  nagios: WARNING above RTT ms or L% loss (200,20%)\n"
	      "      --critical RTT[,L%] nagios: CRITICAL above RTT ms or L% loss (500,60%)\n"
	      "      --refused STATE     nagios: the state of a closed port: ok, warn, crit\n"
	      "                          (default crit)\n"
	      "      --min-open N        exit 0 when at least N target:ports are open\n"
	      "  -v, --verbose           print each exchange, one line per segment\n"
	      "  -D, --timestamp         text: each line begins with [seconds since the epoch]\n"
	      "  -C, --vcount N          N probes to each target:port, then one line each on\n"
	      "                          stderr as fping -C prints it (SmokePing):\n"
	      "                          \"host : 0.12 0.13 - 0.11\" (ms, - for no answer)\n"
	      "      --serve ADDR:PORT   run as a Prometheus prober (blackbox_exporter's\n"
	      "                          contract): GET /probe?target=HOST&port=N&module=M\n"
	      "                          probes HOST (M: full, syn or http), /metrics\n"
	      "                          counts; no TARGET on the command line\n"
	      "      --allow LIST        --serve: the networks /probe may reach, as CIDR\n"
	      "                          blocks with commas (repeatable; none by default)\n"
	      "      --max-probes N      --serve: probes in flight at once (default 64)\n"
	      "  -V, --version           print the version and the libraries in use\n"
	      "  -h, --help              print this help\n"
	      "\n"
	      "Outcomes: open (SYN/ACK), closed (RST), filtered (no answer in time),\n"
	      "unreachable (ICMP error, named by its code); flag scans as nmap's:\n"
	      "closed, open|filtered, unfiltered, filtered (see FLAG SCANS in the man page).\n"
	      "Raw sockets need root, or CAP_NET_RAW (and CAP_NET_ADMIN for -M full).\n"
	      "\n"
	      "Exit status (nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN):\n"
	      "  0  every target:port answered open at least once; a flag scan: every\n"
	      "     target:port answered (its state is determined); -M flags: every\n"
	      "     verdict is no-filter or closed\n"
	      "  1  some target:port was never open (closed, filtered, unreachable); a\n"
	      "     flag scan: some stayed silent; -M flags: a filter was found\n"
	      "  2  a name did not resolve (the others were still probed)\n"
	      "  3  usage error, nothing sent\n"
	      "  4  system error (privileges, interface, capture, send)\n",
	      f);
}

static int parse_long(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* One item of a --syn-options list. */
static int syn_item(const char *it, size_t n, struct syn_spec *o, char *err, size_t errlen)
{
	char item[32];
	long long v;
	if (n == 0 || n >= sizeof(item)) {
		snprintf(err, errlen, "empty or overlong item");
		return -1;
	}
	memcpy(item, it, n);
	item[n] = '\0';
	if (strcmp(item, "sack") == 0)
		o->sack = true;
	else if (strcmp(item, "ts") == 0)
		o->ts = true;
	else if (strcmp(item, "mss") == 0)
		o->mss = true;
	else if (strncmp(item, "mss=", 4) == 0 && parse_long(item + 4, 88, 65535, &v) == 0)
		o->mss = true, o->mss_value = (uint16_t)v;
	else if (strncmp(item, "ws=", 3) == 0 && parse_long(item + 3, 0, 14, &v) == 0)
		o->wscale = (int)v;
	else {
		snprintf(err, errlen, "'%s': not mss[=88-65535], ws=0-14, sack or ts", item);
		return -1;
	}
	return 0;
}

int parse_syn_options(const char *s, struct syn_spec *out, char *err, size_t errlen)
{
	struct syn_spec o = { false, false, false, 0, -1 };
	if (strcmp(s, "linux") == 0) {
		*out = (struct syn_spec){ true, true, true, 0, 7 };
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		*out = o;
		return 0;
	}
	for (const char *p = s;;) {
		size_t n = strcspn(p, ",");
		if (syn_item(p, n, &o, err, errlen) < 0)
			return -1;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*out = o;
	return 0;
}

int parse_threshold(const char *s, double *rtt_ms, double *loss_pct, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	double rtt = strtod(s, &end);
	if (errno || end == s || !isfinite(rtt) || rtt < 0 || (*end != '\0' && *end != ',')) {
		snprintf(err, errlen, "'%s': want RTT_MS[,LOSS%%], like 200,20%%", s);
		return -1;
	}
	double loss = *loss_pct;
	if (*end == ',') {
		const char *l = end + 1;
		errno = 0;
		loss = strtod(l, &end);
		if (errno || end == l || !isfinite(loss) || loss < 0 || loss > 100 ||
		    (*end != '\0' && strcmp(end, "%") != 0)) {
			snprintf(err, errlen, "'%s': the loss must be a percentage 0-100", s);
			return -1;
		}
	}
	*rtt_ms = rtt;
	*loss_pct = loss;
	return 0;
}

int64_t parse_seconds(const char *s, double max_s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > max_s)
		return -1;
	int64_t ns = (int64_t)llround(v * 1e9);
	return ns > 0 ? ns : -1;
}


/* "what: why": an overlong what (an argument as typed) is shortened in
 * its middle, so the reason after it always survives. */
static enum parse_result usage_error(struct config *cfg, const char *what, const char *why)
{
	char shown[256];
	snprintf(cfg->error, sizeof(cfg->error), "%s: %s (see tcpshake --help)",
		 str_show(what, 200, shown, sizeof(shown)), why);
	return PARSE_USAGE;
}

/* Memory ran out while parsing: a system error, not the user's. */
static enum parse_result no_memory(struct config *cfg, const char *what)
{
	snprintf(cfg->error, sizeof(cfg->error), "%s: out of memory", what);
	return PARSE_SYSTEM;
}

/* ports_parse's reason: the user's mistake, or memory. */
static enum parse_result ports_error(struct config *cfg, const char *err)
{
	return strcmp(err, "out of memory") == 0 ? no_memory(cfg, "--port")
						 : usage_error(cfg, "--port", err);
}

static void defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_ns = NS_PER_SEC;
	cfg->timeout_ns = NS_PER_SEC;
	cfg->mode = PMODE_FULL;
	cfg->close = CLOSE_FIN;
	cfg->http_method = "HEAD";
	cfg->syn = (struct syn_spec){ true, true, true, 0, 7 };
	cfg->family = AF_UNSPEC;
	cfg->format = FORMAT_TEXT;
	cfg->th = (struct thresholds){ .warn_rtt_ms = 200, .crit_rtt_ms = 500, .warn_loss = 20,
				       .crit_loss = 60, .refused = NAGIOS_CRITICAL,
				       .cert_warn_days = -1, .cert_crit_days = -1,
				       .mismatch = NAGIOS_WARNING };
	cfg->retries = -1;
}

/* One option; PARSE_OK to go on. */
static enum parse_result strlist_add(struct config *cfg, struct strlist *l, const char *opt,
				     const char *arg)
{
	if (*arg == '\0')
		return usage_error(cfg, opt, "empty argument");
	const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return no_memory(cfg, opt);
	v[l->n++] = arg;
	l->v = v;
	return PARSE_OK;
}

/* --shard I/N */
static enum parse_result parse_shard(struct config *cfg, const char *arg)
{
	char buf[48];
	long long i, n;
	const char *slash = strchr(arg, '/');
	if (!slash || (size_t)(slash - arg) >= sizeof(buf))
		return usage_error(cfg, "--shard", "want I/N, like 0/4");
	memcpy(buf, arg, (size_t)(slash - arg));
	buf[slash - arg] = '\0';
	if (parse_long(buf, 0, 1LL << 32, &i) < 0 || parse_long(slash + 1, 1, 1LL << 32, &n) < 0)
		return usage_error(cfg, "--shard", "want I/N with whole numbers, like 0/4");
	if (i >= n)
		return usage_error(cfg, "--shard", "I must be less than N (0 <= I < N)");
	cfg->shard_i = (uint64_t)i;
	cfg->shard_n = (uint64_t)n;
	return PARSE_OK;
}

/* The index of arg among n keywords, or -1. */
/* "22=filtered,80=open": the state each port must be in. */
static int parse_expect(const char *arg, struct thresholds *th)
{
	char buf[1024];
	if (strlen(arg) >= sizeof(buf) || !*arg)
		return -1;
	strcpy(buf, arg);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		long long port;
		if (!eq)
			return -1;
		*eq = '\0';
		if (parse_long(tok, 1, 65535, &port) < 0)
			return -1;
		int o = OUTCOME_OPEN;
		while (o < OUTCOME_MAX && strcmp(eq + 1, outcome_name((enum outcome)o)) != 0)
			o++;
		if (o == OUTCOME_MAX)
			return -1;
		th->expect[port] = (uint8_t)o;
	}
	th->expecting = true;
	return 0;
}

/* "FPU": the TCP flags, each letter once. */
static int parse_flag_letters(const char *arg, uint8_t *out)
{
	static const char letters[] = "FSRPAUEC";
	*out = 0;
	if (!*arg)
		return -1;
	for (const char *c = arg; *c; c++) {
		const char *at = strchr(letters, *c >= 'a' && *c <= 'z' ? *c - 32 : *c);
		if (!at || !*c || (*out & (1u << (at - letters))))
			return -1;
		*out |= (uint8_t)(1u << (at - letters));
	}
	return 0;
}

static int pick(const char *arg, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(arg, names[i]) == 0)
			return i;
	return -1;
}

struct seen {
	bool fam4, fam6, close, method, mismatch;
};

/* --send STRING: its escapes undone into bytes the config owns. */
static enum parse_result take_send(struct config *cfg, const char *arg)
{
	char err[160];
	size_t n = strlen(arg);
	uint8_t *buf = malloc(n + 1);
	if (!buf)
		return no_memory(cfg, "--send");
	if (banner_unescape(arg, buf, n + 1, &cfg->send_len, err, sizeof(err)) < 0) {
		free(buf);
		return usage_error(cfg, "--send", err);
	}
	if (cfg->send_len == 0 || cfg->send_len > PROBE_SEND_MAX) {
		free(buf);
		return usage_error(cfg, "--send", cfg->send_len ? "more than 65536 bytes" : "empty argument");
	}
	free(cfg->send);
	cfg->send = buf;
	return PARSE_OK;
}

/* --expect REGEX: compiled once, here, so a bad one is a usage error. */
static enum parse_result take_expect(struct config *cfg, const char *arg)
{
	char err[256];
	banner_expect_free(&cfg->expect);
	if (*arg == '\0')
		return usage_error(cfg, "--expect", "empty argument");
	if (banner_expect_compile(&cfg->expect, arg, err, sizeof(err)) < 0)
		return usage_error(cfg, "--expect", err);
	return PARSE_OK;
}

/* The options of the banner and STARTTLS kinds. */
static enum parse_result take_banner_option(int c, const char *arg, struct config *cfg,
					    struct seen *sn)
{
	static const char *const states[] = { "ok", "warn", "crit" }; /* 0, 1, 2 */
	int k;
	switch (c) {
	case OPT_SEND:
		return take_send(cfg, arg);
	case OPT_EXPECT:
		return take_expect(cfg, arg);
	case OPT_EXPECT_TIMEOUT:
		if ((cfg->expect_timeout_ns = parse_seconds(arg, 86400)) < 0)
			return usage_error(cfg, "--expect-timeout", "must be a number of seconds > 0 "
								   "and <= 86400");
		return PARSE_OK;
	case OPT_BANNER:
		cfg->banner = true;
		return PARSE_OK;
	case OPT_MISMATCH:
		if ((k = pick(arg, states, 3)) < 0)
			return usage_error(cfg, "--mismatch", "ok, warn or crit");
		cfg->th.mismatch = (enum nagios_state)k;
		sn->mismatch = true;
		return PARSE_OK;
	default: /* OPT_STARTTLS */
		if (starttls_proto_parse(arg, &cfg->starttls_proto) < 0)
			return usage_error(cfg, "--starttls", "smtp, imap or pop3");
		cfg->starttls = true;
		cfg->tls = true; /* the rest is --tls */
		return PARSE_OK;
	}
}

/* --trace, --trace-on-fail, --max-hops, --queries */
static enum parse_result take_trace_option(int c, const char *arg, struct config *cfg)
{
	long long v;
	switch (c) {
	case OPT_TRACE:
		cfg->trace = true;
		return PARSE_OK;
	case OPT_TRACE_ON_FAIL:
		cfg->trace_on_fail = true;
		return PARSE_OK;
	case OPT_MAX_HOPS:
		if (parse_long(arg, 1, TRACE_MAX_HOPS, &v) < 0)
			return usage_error(cfg, "--max-hops", "must be a number from 1 to 64");
		cfg->max_hops = (int)v;
		return PARSE_OK;
	default: /* OPT_QUERIES */
		if (parse_long(arg, 1, TRACE_QUERIES_MAX, &v) < 0)
			return usage_error(cfg, "--queries", "must be a number from 1 to 10");
		cfg->trace_queries = (int)v;
		return PARSE_OK;
	}
}

static enum parse_result take_option(int c, const char *arg, struct config *cfg, struct seen *sn)
{
	bool *fam4 = &sn->fam4, *fam6 = &sn->fam6, *close_given = &sn->close,
	     *method_given = &sn->method;
	char err[160];
	long long v;
	int k;
	switch (c) {
	case 'p':
		ports_free(&cfg->ports);
		if (ports_parse(arg, &cfg->ports, err, sizeof(err)) < 0)
			return ports_error(cfg, err);
		return PARSE_OK;
	case 'c':
		if (parse_long(arg, 1, 1000000000LL, &v) < 0)
			return usage_error(cfg, "--count", "must be a whole number from 1 to 1000000000");
		cfg->count = v;
		cfg->count_given = true;
		return PARSE_OK;
	case 'i':
		if ((cfg->interval_ns = parse_seconds(arg, 86400)) < 0)
			return usage_error(cfg, "--interval", "must be a number of seconds > 0 and <= 86400");
		return PARSE_OK;
	case 'W':
		cfg->timeout_given = true;
		if ((cfg->timeout_ns = parse_seconds(arg, 3600)) < 0)
			return usage_error(cfg, "--timeout", "must be a number of seconds > 0 and <= 3600");
		return PARSE_OK;
	case 'M': {
		const struct probe_kind *kind = kind_by_name(arg);
		cfg->scan = NULL;
		if (strcmp(arg, "flags") == 0) {
			cfg->mode = PMODE_PERFLAG;
		} else if (!kind) {
			return usage_error(cfg, "--mode", "unknown mode (known: full, syn, fin, null, "
							  "xmas, ack, window, maimon, flags)");
		} else if (kind->handshake) {
			cfg->mode = kind == &kind_syn ? PMODE_SYN : PMODE_FULL;
		} else {
			cfg->mode = PMODE_SCAN;
			cfg->scan = kind;
		}
		return PARSE_OK;
	}
	case OPT_EXPECT_STATE:
		if (parse_expect(arg, &cfg->th) < 0)
			return usage_error(cfg, "--expect-state", "PORT=STATE,... (states: open, closed, "
							  "filtered, unreachable, unfiltered, open|filtered)");
		return PARSE_OK;
	case 'C':
		if (parse_long(arg, 1, 100000, &v) < 0)
			return usage_error(cfg, "--vcount", "must be a whole number from 1 to 100000");
		cfg->count = v;
		cfg->count_given = true;
		cfg->smokeping = true;
		return PARSE_OK;
	case 'D':
		cfg->timestamps = true;
		return PARSE_OK;
	case OPT_WAIT:
		cfg->wait = true;
		return PARSE_OK;
	case OPT_ALL_ADDRESSES:
		cfg->all_addresses = true;
		return PARSE_OK;
	case OPT_REQUIRE: {
		static const char *const rules[] = { "all", "any" };
		if ((k = pick(arg, rules, 2)) < 0)
			return usage_error(cfg, "--require", "all or any");
		cfg->require_any = k == 1;
		return PARSE_OK;
	}
	case OPT_TLS:
		cfg->tls = true;
		return PARSE_OK;
	case OPT_SNI:
		if (*arg == '\0' || strlen(arg) > 253 || strpbrk(arg, " \t\r\n/"))
			return usage_error(cfg, "--sni", "a host name of at most 253 bytes");
		cfg->sni = arg;
		return PARSE_OK;
	case OPT_ALPN:
		if (*arg == '\0' || strlen(arg) > 200 || strstr(arg, ",,") || arg[0] == ',' ||
		    arg[strlen(arg) - 1] == ',')
			return usage_error(cfg, "--alpn", "protocols separated by commas (h2,http/1.1)");
		cfg->alpn = arg;
		return PARSE_OK;
	case OPT_TLS_MIN:
		if (strcmp(arg, "1.2") == 0)
			cfg->tls_min = 12;
		else if (strcmp(arg, "1.3") == 0)
			cfg->tls_min = 13;
		else
			return usage_error(cfg, "--tls-min", "1.2 or 1.3");
		return PARSE_OK;
	case OPT_CA:
		if (*arg == '\0')
			return usage_error(cfg, "--ca", "empty argument");
		cfg->ca_file = arg;
		return PARSE_OK;
	case OPT_INSECURE:
		cfg->insecure = true;
		return PARSE_OK;
	case OPT_CERT_WARNING:
	case OPT_CERT_CRITICAL:
		if (parse_long(arg, 0, 36500, &v) < 0)
			return usage_error(cfg, c == OPT_CERT_WARNING ? "--cert-warning" : "--cert-critical",
					   "a number of days from 0 to 36500");
		*(c == OPT_CERT_WARNING ? &cfg->th.cert_warn_days : &cfg->th.cert_crit_days) = (long)v;
		return PARSE_OK;
	case OPT_SEND:
	case OPT_EXPECT:
	case OPT_EXPECT_TIMEOUT:
	case OPT_BANNER:
	case OPT_MISMATCH:
	case OPT_STARTTLS:
		return take_banner_option(c, arg, cfg, sn);
	case OPT_TRACE:
	case OPT_TRACE_ON_FAIL:
	case OPT_MAX_HOPS:
	case OPT_QUERIES:
		return take_trace_option(c, arg, cfg);
	case OPT_SERVE:
		cfg->serve = arg;
		return PARSE_OK;
	case OPT_PMTU:
		cfg->pmtu = true;
		return PARSE_OK;
	case OPT_PEER_MTU:
		if (parse_long(arg, pmtu_min_mtu(AF_INET), 65535, &v) < 0)
			return usage_error(cfg, "--peer-mtu", "must be an MTU from 68 to 65535");
		cfg->peer_mtu = (int)v;
		return PARSE_OK;
	case OPT_ALLOW:
		return strlist_add(cfg, &cfg->allows, "--allow", arg);
	case OPT_MAX_PROBES:
		if (parse_long(arg, 1, SERVE_MAX_PROBES, &v) < 0)
			return usage_error(cfg, "--max-probes", "must be a number from 1 to 4096");
		cfg->max_probes = (int)v;
		return PARSE_OK;
	case OPT_DEADLINE:
		if ((cfg->deadline_ns = parse_seconds(arg, 86400 * 7)) <= 0)
			return usage_error(cfg, "--deadline", "must be a number of seconds > 0 and <= 604800");
		return PARSE_OK;
	case OPT_FLAGS: {
		uint8_t f = 0;
		if (parse_flag_letters(arg, &f) < 0)
			return usage_error(cfg, "--flags", "letters of F S R P A U E C, each once");
		if (f & (TCPF_SYN | TCPF_RST))
			return usage_error(cfg, "--flags", "a scan without SYN and RST (-M syn probes "
							  "with a SYN)");
		kind_custom(&cfg->custom, f);
		cfg->mode = PMODE_SCAN;
		cfg->scan = &cfg->custom;
		return PARSE_OK;
	}
	case OPT_CLOSE: {
		static const char *const kinds[] = { "fin", "rst" };
		if ((k = pick(arg, kinds, 2)) < 0)
			return usage_error(cfg, "--close", "unknown kind (known: fin, rst)");
		cfg->close = (enum close_kind)(CLOSE_FIN + k);
		*close_given = true;
		return PARSE_OK;
	}
	case OPT_HTTP:
		cfg->http = true;
		cfg->http_path = arg ? arg : "/";
		if (cfg->http_path[0] != '/' || strpbrk(cfg->http_path, " \t\r\n") ||
		    strlen(cfg->http_path) > 1024)
			return usage_error(cfg, "--http", "PATH must start with / and hold no white space "
						     "(1024 bytes at most)");
		return PARSE_OK;
	case OPT_HTTP_METHOD:
		if (strcmp(arg, "HEAD") != 0 && strcmp(arg, "GET") != 0)
			return usage_error(cfg, "--http-method", "HEAD or GET");
		cfg->http_method = arg;
		*method_given = true;
		return PARSE_OK;
	case OPT_SYN_OPTIONS:
		if (parse_syn_options(arg, &cfg->syn, err, sizeof(err)) < 0)
			return usage_error(cfg, "--syn-options", err);
		return PARSE_OK;
	case 'v':
		cfg->verbose = true;
		return PARSE_OK;
	case 'I':
		if (*arg == '\0' || strlen(arg) >= 16)
			return usage_error(cfg, "--interface", "not a valid interface name");
		cfg->iface = arg;
		return PARSE_OK;
	case 'S':
		cfg->source = arg;
		return PARSE_OK;
	case 's':
		if (parse_long(arg, 1, 65535, &v) < 0)
			return usage_error(cfg, "--source-port", "must be a port from 1 to 65535");
		cfg->source_port = (int)v;
		return PARSE_OK;
	case '4':
		*fam4 = true;
		return PARSE_OK;
	case '6':
		*fam6 = true;
		return PARSE_OK;
	case 'n':
		cfg->numeric = true;
		return PARSE_OK;
	case 'q':
		cfg->silent = cfg->quiet; /* given twice */
		cfg->quiet = true;
		return PARSE_OK;
	case 'j':
		cfg->format = FORMAT_JSON;
		return PARSE_OK;
	case OPT_FORMAT: {
		static const char *const names[] = { "text", "json", "csv", "nagios", "prometheus" };
		if ((k = pick(arg, names, 5)) < 0)
			return usage_error(cfg, "--format", "unknown format (known: text, json, csv, "
							    "nagios, prometheus)");
		cfg->format = (enum format)(FORMAT_TEXT + k);
		return PARSE_OK;
	}
	case 'f':
		return strlist_add(cfg, &cfg->files, "--file", arg);
	case OPT_EXCLUDE:
		return strlist_add(cfg, &cfg->excludes, "--exclude", arg);
	case OPT_EXCLUDE_FILE:
		return strlist_add(cfg, &cfg->exclude_files, "--exclude-file", arg);
	case OPT_MAX_TARGETS:
		if (parse_long(arg, 1, 1LL << 40, &v) < 0)
			return usage_error(cfg, "--max-targets", "must be a whole number from 1 to 2^40");
		cfg->max_targets = (uint64_t)v;
		return PARSE_OK;
	case OPT_SEED:
		if (parse_long(arg, 0, INT64_MAX, &v) < 0)
			return usage_error(cfg, "--seed", "must be a whole number >= 0");
		cfg->seed = (uint64_t)v;
		cfg->seed_given = true;
		return PARSE_OK;
	case OPT_NO_SHUFFLE:
		cfg->no_shuffle = true;
		return PARSE_OK;
	case OPT_NO_MIDDLEBOX:
		cfg->no_middlebox = true;
		return PARSE_OK;
	case OPT_SHARD:
		return parse_shard(cfg, arg);
	case OPT_RATE: {
		char *end;
		errno = 0;
		double r = strtod(arg, &end);
		if (errno || end == arg || *end != '\0' || !isfinite(r) || r <= 0 || r > 1e7)
			return usage_error(cfg, "--rate", "must be a number of probes a second > 0 "
							 "and <= 10000000");
		cfg->rate = r;
		return PARSE_OK;
	}
	case 'B':
		if (parse_long(arg, 64, 1 << 20, &v) < 0)
			return usage_error(cfg, "--buffer-size", "must be a whole number of KiB from 64 to 1048576");
		cfg->buffer_kib = (int)v;
		return PARSE_OK;
	case OPT_RETRIES:
		if (parse_long(arg, 0, 10, &v) < 0)
			return usage_error(cfg, "--retries", "must be a whole number from 0 to 10");
		cfg->retries = (int)v;
		return PARSE_OK;
	case OPT_ONLY:
		for (int o = OUTCOME_OPEN; o < OUTCOME_MAX; o++)
			if (strcmp(arg, outcome_name((enum outcome)o)) == 0) {
				cfg->only |= 1u << o;
				return PARSE_OK;
			}
		return usage_error(cfg, "--only", "open, closed, filtered, unreachable, unfiltered or "
						  "open|filtered");
	case 'o':
		if (*arg == '\0')
			return usage_error(cfg, "--output", "empty file name");
		cfg->output = arg;
		return PARSE_OK;
	case OPT_WARNING:
	case OPT_CRITICAL: {
		double *rtt = c == OPT_WARNING ? &cfg->th.warn_rtt_ms : &cfg->th.crit_rtt_ms;
		double *loss = c == OPT_WARNING ? &cfg->th.warn_loss : &cfg->th.crit_loss;
		if (parse_threshold(arg, rtt, loss, err, sizeof(err)) < 0)
			return usage_error(cfg, c == OPT_WARNING ? "--warning" : "--critical", err);
		return PARSE_OK;
	}
	case OPT_REFUSED: {
		static const char *const states[] = { "ok", "warn", "crit" }; /* 0, 1, 2 */
		if ((k = pick(arg, states, 3)) < 0)
			return usage_error(cfg, "--refused", "ok, warn or crit");
		cfg->th.refused = (enum nagios_state)k;
		return PARSE_OK;
	}
	case OPT_MIN_OPEN:
		if (parse_long(arg, 1, 1LL << 40, &v) < 0)
			return usage_error(cfg, "--min-open", "must be a whole number >= 1");
		cfg->th.min_open = v;
		return PARSE_OK;
	case 'V':
		return PARSE_EXIT_OK;
	case 'h':
		options_help(stdout);
		return PARSE_EXIT_OK;
	default:
		return usage_error(cfg, "option", "unknown");
	}
}

/* Edit distance with transpositions (optimal string alignment), capped:
 * how far a typo is from an option's name. */
static size_t typo_distance(const char *a, size_t na, const char *b)
{
	enum { MAXN = 24 };
	size_t nb = strlen(b);
	if (na >= MAXN || nb >= MAXN)
		return MAXN;
	size_t d[MAXN + 1][MAXN + 1];
	for (size_t i = 0; i <= na; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= na; i++)
		for (size_t j = 1; j <= nb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[na][nb];
}

/* The long option nearest to a typo, or NULL when none is near. */
static const char *nearest_option(const char *name, size_t n)
{
	const char *best = NULL;
	size_t best_d = n < 4 ? 1 : 2; /* at most this far */
	for (const struct option *o = long_opts; o->name; o++) {
		size_t d = typo_distance(name, n, o->name);
		if (d <= best_d && (!best || d < best_d))
			best = o->name, best_d = d;
	}
	return best;
}

/* The long options that name (n bytes) can stand for: an exact match, or
 * every option it abbreviates. Returns how many; the first in *found. */
static int long_matches(const char *name, size_t n, const struct option **found, char *list,
			size_t listlen)
{
	int k = 0;
	size_t off = 0;
	list[0] = '\0';
	for (const struct option *o = long_opts; o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0) {
			*found = o;
			return 1;
		}
	for (const struct option *o = long_opts; o->name; o++)
		if (strncmp(o->name, name, n) == 0) {
			if (k++ == 0)
				*found = o;
			buf_put(list, listlen, &off, "%s--%s", k > 1 ? ", " : "", o->name);
		}
	return k;
}

/* getopt_long refused arg: name the option as typed or as it abbreviates,
 * say what is wrong with it, and suggest the nearest for a typo. */
static enum parse_result bad_option(struct config *cfg, const char *arg, bool missing)
{
	char what[64], why[512], list[400];
	if (!arg || strncmp(arg, "--", 2) != 0) { /* a short option, alone or in a cluster */
		snprintf(what, sizeof(what), "-%c", optopt > 0x20 && optopt < 0x7f ? optopt : '?');
		return usage_error(cfg, what, missing ? "needs an argument" : "unknown option");
	}
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	const struct option *o = NULL;
	int k = long_matches(name, n, &o, list, sizeof(list));
	if (k == 1) {
		snprintf(what, sizeof(what), "--%s", o->name);
		return usage_error(cfg, what, missing ? "needs an argument"
					  : o->has_arg == no_argument ? "takes no argument"
								      : "bad argument");
	}
	if (k > 1) {
		snprintf(why, sizeof(why), "ambiguous (%s)", list);
		return usage_error(cfg, arg, why);
	}
	const char *near = nearest_option(name, n);
	if (near)
		snprintf(why, sizeof(why), "unknown option, did you mean --%s?", near);
	else
		snprintf(why, sizeof(why), "unknown option");
	return usage_error(cfg, arg, why);
}

/* Targets as typed: none empty; a zone (fe80::1%eth0) names the
 * interface, so every zone and -I must agree. */
static enum parse_result check_targets(struct config *cfg)
{
	for (int i = 0; i < cfg->ntargets; i++) {
		const char *t = cfg->targets[i], *pct = strchr(t, '%');
		if (*t == '\0')
			return usage_error(cfg, "target", "empty argument");
		if (!pct)
			continue;
		const char *zone = pct + 1;
		if (*zone == '\0' || strlen(zone) >= 16 || strchr(zone, '/') || strchr(zone, '-'))
			return usage_error(cfg, t, "the zone after % must be an interface name "
						   "(fe80::1%eth0), on a single address");
		if (!cfg->iface)
			cfg->iface = zone;
		else if (strcmp(cfg->iface, zone) != 0) {
			char why[96];
			snprintf(why, sizeof(why), "its zone %s is not the interface %s (-I or an "
				 "earlier zone)", zone, cfg->iface);
			return usage_error(cfg, t, why);
		}
	}
	return PARSE_OK;
}

/* --trace and --trace-on-fail: SYNs, after a run that ends. */
static enum parse_result trace_checks(struct config *cfg)
{
	const char *what = cfg->trace ? "--trace" : "--trace-on-fail";
	if (!cfg->trace && !cfg->trace_on_fail) {
		if (cfg->max_hops || cfg->trace_queries)
			return usage_error(cfg, cfg->max_hops ? "--max-hops" : "--queries",
					   "needs --trace or --trace-on-fail");
		return PARSE_OK;
	}
	if (cfg->trace && cfg->trace_on_fail)
		return usage_error(cfg, "--trace-on-fail", "conflicts with --trace (which traces "
							  "every target:port)");
	if (cfg->mode == PMODE_SCAN || cfg->mode == PMODE_PERFLAG)
		return usage_error(cfg, what, "conflicts with a flag scan (a trace follows -M syn "
					      "or full)");
	if (cfg->wait)
		return usage_error(cfg, what, "conflicts with --wait");
	if (cfg->smokeping)
		return usage_error(cfg, what, "conflicts with --vcount");
	return PARSE_OK;
}

/* --tls and what goes with it. */
static enum parse_result tls_checks(struct config *cfg)
{
	const struct thresholds *th = &cfg->th;
	const char *needs = cfg->sni ? "--sni" : cfg->alpn ? "--alpn" : cfg->tls_min ? "--tls-min"
		: cfg->ca_file ? "--ca" : cfg->insecure ? "--insecure" : th->cert_warn_days >= 0
		? "--cert-warning" : th->cert_crit_days >= 0 ? "--cert-critical" : NULL;
	if (!cfg->tls && !cfg->serve && needs) /* --serve: for its tls and https modules */
		return usage_error(cfg, needs, "needs --tls");
	if (!cfg->tls)
		return PARSE_OK;
	if (cfg->mode != PMODE_FULL)
		return usage_error(cfg, cfg->mode == PMODE_SYN ? "-M syn" : "a flag scan",
				   "conflicts with --tls (it needs -M full)");
	if (cfg->close == CLOSE_RST)
		return usage_error(cfg, "--tls", "conflicts with --close rst");
	if (th->cert_warn_days >= 0 && th->cert_crit_days > th->cert_warn_days)
		return usage_error(cfg, "--cert-critical", "is more days than --cert-warning");
	return PARSE_OK;
}

/* --expect, --send, --banner, --starttls and what goes with them: one
 * application on the connection, so one of them (or --http, --tls). */
static enum parse_result banner_checks(struct config *cfg, const struct seen *sn)
{
	bool reading = cfg->expect.compiled || cfg->send || cfg->banner;
	const char *what = cfg->expect.compiled ? "--expect" : cfg->send ? "--send" : "--banner";
	if (cfg->expect_timeout_ns && !reading)
		return usage_error(cfg, "--expect-timeout", "needs --expect, --send or --banner");
	if (sn->mismatch && !cfg->expect.compiled)
		return usage_error(cfg, "--mismatch", "needs --expect");
	if (cfg->banner && (cfg->expect.compiled || cfg->send))
		return usage_error(cfg, "--banner", cfg->send ? "conflicts with --send (which reads "
				   "the first line already)" : "conflicts with --expect (which reads "
				   "what the server says already)");
	if (!reading && !cfg->starttls)
		return PARSE_OK;
	if (reading && cfg->tls)
		return usage_error(cfg, what, cfg->starttls ? "conflicts with --starttls"
							    : "conflicts with --tls");
	if (cfg->mode != PMODE_FULL)
		return usage_error(cfg, cfg->mode == PMODE_SYN ? "-M syn" : "a flag scan",
				   cfg->starttls ? "conflicts with --starttls (it needs -M full)"
						 : "conflicts with --expect, --send and --banner (they "
						   "need -M full)");
	if (cfg->http)
		return usage_error(cfg, cfg->starttls ? "--starttls" : what, "conflicts with --http");
	if (cfg->close == CLOSE_RST)
		return usage_error(cfg, cfg->starttls ? "--starttls" : what,
				   "conflicts with --close rst");
	return PARSE_OK;
}

/* --pmtu: a segment of its own on the connection, so no application;
 * --peer-mtu only with it. */
static enum parse_result pmtu_checks(struct config *cfg)
{
	if (cfg->peer_mtu && !cfg->pmtu)
		return usage_error(cfg, "--peer-mtu", "needs --pmtu");
	if (!cfg->pmtu)
		return PARSE_OK;
	if (cfg->family == AF_INET6 && cfg->peer_mtu && cfg->peer_mtu < pmtu_min_mtu(AF_INET6))
		return usage_error(cfg, "--peer-mtu", "must be 1280 or more with -6 (IPv6's "
						      "minimum MTU)");
	if (cfg->mode != PMODE_FULL)
		return usage_error(cfg, cfg->mode == PMODE_SYN ? "-M syn" : "a flag scan",
				   "conflicts with --pmtu (it needs -M full)");
	const char *app = cfg->http ? "--http" : cfg->starttls ? "--starttls" : cfg->tls ? "--tls"
		: cfg->expect.compiled ? "--expect" : cfg->send ? "--send" : cfg->banner ? "--banner"
		: NULL;
	if (app)
		return usage_error(cfg, app, "conflicts with --pmtu (one test on the connection)");
	return PARSE_OK;
}

/* --serve: the targets come with the requests; what a single run would
 * take from the command line does not apply. */
static enum parse_result serve_checks(struct config *cfg, int ntargets)
{
	/* what belongs to a run of named targets, or is a request's own */
	const struct { bool set; const char *what; } run_only[] = {
		{ ntargets > 0, "target" }, { cfg->files.n > 0, "--file" },
		{ cfg->count_given, "--count" }, { cfg->wait, "--wait" },
		{ cfg->deadline_ns > 0, "--deadline" }, { cfg->output != NULL, "--output" },
		{ cfg->starttls != 0, "--starttls" }, { cfg->expect.compiled, "--expect" },
		{ cfg->send != NULL, "--send" }, { cfg->banner, "--banner" },
		{ cfg->mode == PMODE_SCAN || cfg->mode == PMODE_PERFLAG, "a flag scan" },
		{ cfg->source_port != 0, "--source-port" }, { cfg->th.expecting, "--expect-state" },
		{ cfg->shard_n != 0, "--shard" }, { cfg->smokeping, "--vcount" },
		{ cfg->all_addresses, "--all-addresses" }, { cfg->tls, "--tls (modules tls, https)" },
		{ cfg->sni != NULL, "--sni (each target is its name)" },
		{ cfg->close == CLOSE_RST, "--close rst" }, { cfg->pmtu, "--pmtu" },
		{ cfg->trace || cfg->trace_on_fail, cfg->trace ? "--trace" : "--trace-on-fail" },
	};
	const char *what = NULL;
	for (size_t i = 0; i < sizeof(run_only) / sizeof(run_only[0]) && !what; i++)
		if (run_only[i].set)
			what = run_only[i].what;
	if (what)
		return usage_error(cfg, what, "conflicts with --serve (each request names its "
					      "target and port)");
	char host[128];
	int port;
	if (listen_spec_parse(cfg->serve, host, sizeof(host), &port) < 0)
		return usage_error(cfg, "--serve", "ADDR:PORT, [ADDR]:PORT or :PORT");
	if (cfg->allows.n == 0)
		return usage_error(cfg, "--serve", "needs --allow CIDR,...: the networks it may "
						   "probe (none by default)");
	if (cfg->max_probes == 0)
		cfg->max_probes = SERVE_DEFAULT_PROBES;
	cfg->targets = NULL;
	cfg->ntargets = 0;
	return PARSE_OK;
}

enum parse_result options_parse(int argc, char **argv, struct config *cfg)
{
	struct seen sn = { false, false, false, false, false };
	defaults(cfg);
	opterr = 0;
	optind = 0; /* 0, not 1: glibc forgets a cluster left half-read by an earlier call */
	for (;;) {
		int before = optind;
		int c = getopt_long(argc, argv, ":p:c:i:W:M:I:B:S:s:46nqjo:f:vVhDC:", long_opts, NULL);
		if (c == -1)
			break;
		if (c == '?' || c == ':') /* optind stays put inside a cluster of short options */
			return bad_option(cfg, optind > before ? argv[optind - 1] : NULL, c == ':');
		if (c == 'V') {
			cfg->ntargets = -1; /* main prints the version */
			return PARSE_EXIT_OK;
		}
		enum parse_result r = take_option(c, optarg, cfg, &sn);
		if (r != PARSE_OK)
			return r;
	}
	if (sn.fam4 && sn.fam6)
		return usage_error(cfg, "-4 and -6", "cannot be used together");
	cfg->family = sn.fam4 ? AF_INET : sn.fam6 ? AF_INET6 : AF_UNSPEC;
	if (cfg->mode != PMODE_FULL && (cfg->http || sn.close || sn.method)) {
		const char *m = cfg->mode == PMODE_SYN ? "-M syn" : "a flag scan";
		return usage_error(cfg, m, cfg->http ? "conflicts with --http (it needs -M full)"
					 : sn.close ? "conflicts with --close (it closes nothing)"
						    : "conflicts with --http-method");
	}
	if (sn.method && !cfg->http)
		return usage_error(cfg, "--http-method", "needs --http");
	enum parse_result br = banner_checks(cfg, &sn);
	if (br != PARSE_OK)
		return br;
	enum parse_result tr = tls_checks(cfg);
	if (tr != PARSE_OK)
		return tr;
	enum parse_result pr = pmtu_checks(cfg);
	if (pr != PARSE_OK)
		return pr;
	if (cfg->http && cfg->close == CLOSE_RST)
		return usage_error(cfg, "--http", "conflicts with --close rst");
	enum parse_result trc = trace_checks(cfg);
	if (trc != PARSE_OK)
		return trc;
	if (cfg->th.warn_rtt_ms > cfg->th.crit_rtt_ms || cfg->th.warn_loss > cfg->th.crit_loss)
		return usage_error(cfg, "--warning", "is above --critical");
	if (cfg->serve)
		return serve_checks(cfg, argc - optind);
	if (cfg->allows.n || cfg->max_probes)
		return usage_error(cfg, cfg->allows.n ? "--allow" : "--max-probes", "needs --serve");
	if (optind >= argc && cfg->files.n == 0)
		return usage_error(cfg, "target", "no target given");
	cfg->targets = argv + optind;
	cfg->ntargets = argc - optind;
	enum parse_result r = check_targets(cfg);
	if (r != PARSE_OK)
		return r;
	if (cfg->ports.n == 0) {
		char err[64];
		if (ports_parse("80", &cfg->ports, err, sizeof(err)) < 0)
			return ports_error(cfg, err);
	}
	return PARSE_OK;
}

void options_free(struct config *cfg)
{
	ports_free(&cfg->ports);
	free(cfg->files.v);
	free(cfg->excludes.v);
	free(cfg->exclude_files.v);
	free(cfg->allows.v);
	free(cfg->send);
	cfg->send = NULL;
	banner_expect_free(&cfg->expect);
	cfg->files.v = cfg->excludes.v = cfg->exclude_files.v = cfg->allows.v = NULL;
}
