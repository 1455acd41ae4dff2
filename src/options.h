/* options.h - the command line becomes a read-only configuration. */
#ifndef TCPSHAKE_OPTIONS_H
#define TCPSHAKE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "banner.h"
#include "targets.h"

#include "craft.h"
#include "kind.h"
#include "probe.h"

#include "output.h"

/* A list of strings from repeated options (-f, --exclude, --exclude-file). */
struct strlist {
	const char **v;
	size_t n;
};

struct config {
	char **targets;       /* as given on the command line */
	int ntargets;
	struct strlist files, excludes, exclude_files;
	uint64_t max_targets; /* --max-targets */
	bool seed_given, no_shuffle;
	bool no_middlebox;    /* --no-middlebox: no middlebox verdict in full mode */
	uint64_t seed;
	uint64_t shard_i, shard_n; /* --shard I/N; N = 0: no sharding */
	double rate;          /* --rate, probes per second; 0: as fast as ports allow */
	int retries;          /* -1: the default (1 for a fleet, 0 for one target:port) */
	int buffer_kib;       /* -B: the capture ring in KiB; 0: sized by the rate */
	unsigned only;        /* --only: a mask of 1 << outcome; 0: every outcome */
	struct port_list ports;
	long long count;      /* probes per target:port; 0: until interrupted */
	bool count_given;
	bool timeout_given;       /* -W: else 3 s for one target:port, 1 s for a fleet */
	int64_t interval_ns, timeout_ns;
	enum probe_mode mode;
	const struct probe_kind *scan; /* -M fin|null|xmas|ack|window|maimon, --flags */
	struct probe_kind custom;      /* --flags LETTERS */
	enum close_kind close;
	bool http;
	const char *http_path;
	const char *http_method;  /* "HEAD" or "GET" */
	struct syn_spec syn;
	bool verbose;
	const char *iface;    /* -I or a target's zone (fe80::1%eth0); NULL: from the route */
	const char *source;   /* -S, or NULL: from the route */
	int source_port;      /* -s, or 0: from our own range */
	int family;           /* AF_UNSPEC, AF_INET, AF_INET6 */
	bool numeric, quiet;
	bool silent;          /* -qq: no report at all, the exit status alone */
	bool wait;            /* --wait: until every target:port has answered open */
	bool all_addresses;   /* --all-addresses: every A/AAAA record, each a target */
	bool require_any;     /* --require any: one open target:port is enough */
	bool timestamps;      /* -D: text lines begin with [epoch.usec], as fping -D */
	bool smokeping;       /* -C N: fping -C's lines on stderr, nothing else */
	int64_t deadline_ns;  /* --deadline: the run ends then at the latest; 0 none */
	/* --tls: a TLS handshake after the TCP one (with --http: HTTPS) */
	bool tls;
	const char *sni;      /* --sni: the name sent and checked; NULL: the target's */
	const char *alpn;     /* --alpn h2,http/1.1 */
	int tls_min;          /* --tls-min: 12 or 13 (TLS 1.2, 1.3); 0: the library's */
	const char *ca_file;  /* --ca: trust these, not the system store */
	bool insecure;        /* --insecure: a bad certificate does not fail the check */
	/* --expect, --send, --banner: read what the server says (kind banner);
	 * the expression compiled and the bytes unescaped here, owned by the
	 * config (options_free) */
	struct banner_expect expect; /* .compiled: --expect given */
	uint8_t *send;        /* --send, unescaped; NULL: none */
	size_t send_len;
	bool banner;          /* --banner: the first line, no check */
	int64_t expect_timeout_ns; /* --expect-timeout; 0: -W */
	bool starttls;        /* --starttls PROTO: the dialogue, then --tls */
	enum starttls_proto starttls_proto;
	bool pmtu;            /* --pmtu: the path MTU test after the handshake (kind pmtu) */
	int peer_mtu;         /* --peer-mtu: the server's interface MTU; 0 unknown */
	const char *serve;    /* --serve ADDR:PORT: a prober; NULL: one run */
	struct strlist allows; /* --allow: the blocks /probe may reach */
	int max_probes;       /* --max-probes: probes in flight at once */
	/* --trace: trace every target:port after its probes; --trace-on-fail:
	 * those found filtered or unreachable (trace.h) */
	bool trace, trace_on_fail;
	int max_hops;         /* --max-hops; 0: TRACE_DEFAULT_HOPS */
	int trace_queries;    /* --queries, probes per hop; 0: TRACE_DEFAULT_QUERIES */
	enum format format;
	const char *output;   /* -o: written atomically; NULL: stdout */
	struct thresholds th; /* --warning, --critical, --refused, --min-open */
	char error[1024];     /* PARSE_USAGE: "what: why" */
};

#define SERVE_DEFAULT_PROBES 64
#define SERVE_MAX_PROBES 4096
#define TRACE_MAX_FLOWS 16 /* --trace: target:ports traced in one run, at most */

/* PARSE_SYSTEM: out of memory while parsing (exit 4, not a usage error). */
enum parse_result { PARSE_OK = 0, PARSE_EXIT_OK, PARSE_USAGE, PARSE_SYSTEM };

/* Parse argv into cfg; on PARSE_USAGE cfg->error says what is wrong. */
enum parse_result options_parse(int argc, char **argv, struct config *cfg);
void options_free(struct config *cfg);
void options_help(FILE *f);

/* "0.5" seconds -> ns, strictly positive and at most max_s; -1 if not. */
int64_t parse_seconds(const char *s, double max_s);

/* "RTT_MS[,LOSS%]" for --warning and --critical; -1 with a reason in err. */
int parse_threshold(const char *s, double *rtt_ms, double *loss_pct, char *err, size_t errlen);

/* "none", "linux" or "mss=1400,ws=7,sack,ts"; -1 with a reason in err. */
int parse_syn_options(const char *s, struct syn_spec *out, char *err, size_t errlen);

#endif
