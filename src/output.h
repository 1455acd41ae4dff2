/* output.h - what a run reports, behind one small interface.
 *
 * Each format is a table of three callbacks. Contract: probe() is called
 * once per finished probe, in the order probes finish; summary() once per
 * target:port after the last probe; run() once, last. A format writes only
 * to out->f and never fails the run: write errors are seen by the caller
 * through ferror(). */
#ifndef TCPSHAKE_OUTPUT_H
#define TCPSHAKE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"
#include "stats.h"

#define FLAG_KINDS 8
#define RTT_BUCKETS 14

enum format { FORMAT_TEXT = 1, FORMAT_JSON, FORMAT_CSV, FORMAT_NAGIOS, FORMAT_PROMETHEUS };

enum nagios_state { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2, NAGIOS_UNKNOWN = 3 };

/* The health-check policy: Nagios thresholds and the quorum. */
struct thresholds {
	double warn_rtt_ms, crit_rtt_ms;   /* alert when the average RTT is above */
	double warn_loss, crit_loss;       /* alert when loss (%) is above */
	enum nagios_state refused;         /* the state of a closed port */
	long long min_open;                /* 0: every target:port must be open */
	/* --expect-state: the state each named port must be in (OUTCOME_NONE:
	 * not named) */
	uint8_t expect[65536];
	bool expecting;
	/* --cert-warning / --cert-critical: days a certificate must still be
	 * valid (check_tcp -D); -1: not asked */
	long cert_warn_days, cert_crit_days;
	/* --mismatch: the state of an --expect that did not match (check_tcp
	 * -M; default WARNING) */
	enum nagios_state mismatch;
};



/* Upper bounds of the RTT histogram buckets, in seconds (the last is +Inf). */
extern const double rtt_bucket_le[RTT_BUCKETS - 1];

struct flag_count {
	uint8_t flags;
	uint32_t n;
};

struct probe_report {
	const char *target;   /* as given */
	const struct addr *addr;
	uint16_t port, sport;
	uint32_t seq;
	const struct probe_result *res;
	int64_t timeout_ns;   /* the wait a filtered probe was given */
	int64_t time_ns;      /* wall clock: the reply's capture time, or the send time */
	enum probe_mode mode;
	bool http;
	const struct probe_kind *kind; /* the probe's kind; NULL: the mode's */
	enum outcome was;     /* the target:port was in this state before it; NONE */
};

/* --trace, --trace-on-fail: a target:port's TCP traceroute (trace.h), after
 * its probes. */
struct trace;
struct trace_report {
	const char *target;   /* as given */
	const struct addr *addr;
	uint16_t port;
	const struct trace *t;
};

/* -M flags: one round of five answers for a target:port, and its verdict. */
struct perflag_report {
	const char *target;
	const struct addr *addr;
	uint16_t port;
	const struct perflag_answer *answers; /* PERFLAG_KINDS, as perflag_kinds */
	enum perflag_verdict verdict;
};

#define CLOSE_KINDS 6
#define SUMMARY_EXTRA 10
#define HTTP_KINDS 8

struct status_count {
	int status;
	uint32_t n;
};

struct flow_summary {
	const char *name;     /* the target as given when a name, else NULL */
	char target_buf[64];  /* the address as text */
	uint64_t index;       /* in the target x port space: the order given */
	struct addr addr;
	uint16_t port;
	uint64_t sent, open, closed, filtered, unreachable;
	uint64_t unfiltered, open_filtered;  /* flag scans */
	struct rtt_stats rtt;
	struct flag_count flags[FLAG_KINDS];
	enum probe_mode mode;
	const char *kind;     /* flag scans: the kind's name; -M flags: "flags" */
	bool http;
	uint64_t established;
	uint64_t closes[CLOSE_KINDS];        /* by enum close_kind */
	struct status_count status[HTTP_KINDS];
	struct rtt_stats ttfb, close_time;
	uint32_t rtt_hist[RTT_BUCKETS];      /* counts per bucket, not cumulative */
	uint8_t icmp_type, icmp_code;        /* the last ICMP error, if any */
	bool icmp_seen;
	/* the longest run of probes without an open answer between two open
	 * ones (or to the end), and when it began (wall clock); 0: none */
	int64_t outage_ns, outage_at_ns, outage_from_ns;
	/* --tls: the last handshake's verdict (tls_error: why it fails the
	 * check, "" when it passes), its version and the certificate's days
	 * left and the chain's earliest expiry (blackbox's
	 * probe_ssl_earliest_cert_expiry) */
	struct {
		bool seen, cert;
		char version[16];
		char error[STARTTLS_ERROR_MAX]; /* a STARTTLS refusal says the server's line */
		int64_t days_left, chain_not_after;
		uint64_t failed;      /* probes whose TLS check failed */
	} tls;
	/* --expect, --send, --banner: the last probe's first line; how many
	 * probes matched, and how many did not (each fails the check) */
	struct {
		bool seen, expecting;
		uint64_t matched, mismatched;
		char first_line[128];
	} banner;
	/* full mode: probes by middlebox verdict (middlebox.h), and how many
	 * the peer reset right after the handshake */
	uint64_t middlebox[MB_KINDS];
	uint64_t mb_resets;
	/* the numbers of the kind's own fields (record.h) of the last probe:
	 * Nagios perfdata and Prometheus gauges */
	struct { const char *key; double v; } extra[SUMMARY_EXTRA];
	int nextra;
	/* --trace, --trace-on-fail: the trace's verdict (trace.h), the last
	 * good hop (0: none) and the hops reported */
	struct {
		bool seen;
		char verdict[16], text[160], last_hop[64];
		int last_ttl, hops;
	} trace;
};

struct run_summary {
	uint64_t sent, received, pcap_drops, retried;
	uint64_t flows, open, closed, filtered, unreachable; /* target:ports by outcome */
	uint64_t excluded;
	int64_t elapsed_ns;
	int64_t start_wall_ns;
	uint64_t unresolved;          /* names that did not resolve */
	const char *first_unresolved;
	uint64_t unfiltered, open_filtered;  /* flag scans: target:ports */
	enum probe_mode mode;
};

struct output;

struct output_ops {
	void (*begin)(struct output *o);   /* before the first probe; may be NULL */
	void (*probe)(struct output *o, const struct probe_report *r);
	void (*summary)(struct output *o, const struct flow_summary *s);
	void (*run)(struct output *o, const struct run_summary *r);
	/* -M flags: a round's answers side by side; NULL: the format has none */
	void (*perflag)(struct output *o, const struct perflag_report *r);
	/* --only picks which probes and target:ports this format is given;
	 * false: a format that judges the whole run (Nagios, Prometheus) is
	 * given every one */
	bool only_filters;
	/* --trace, --trace-on-fail: a target:port's trace, after its summary;
	 * NULL: the format keeps nothing of it */
	void (*trace)(struct output *o, const struct trace_report *r);
};

struct output {
	const struct output_ops *ops;
	FILE *f;
	bool quiet;    /* summaries only */
	bool verbose;  /* the exchange, segment by segment */
	const struct thresholds *th;
	int64_t timeout_ns;
	bool fleet;    /* text: a line per target:port, no statistics blocks */
	bool ordered;  /* text: those lines at the end, in the order given */
	bool timestamps; /* text: each line begins with [epoch.usec] */
	unsigned only; /* --only: a mask of 1 << outcome; 0: all */
	/* formats that speak after the run keep copies of the summaries */
	struct flow_summary *sums;
	size_t nsums, capsums;
	enum nagios_state status;  /* nagios: the state of the run, after run() */
	bool traces;               /* --trace, --trace-on-fail: the run may write traces */
	const struct probe_kind *kind; /* the run's kind (its fields are CSV columns) */
	struct {
		char reason[200];  /* the worst target:port's, or why none */
		size_t not_ok;
		uint64_t unresolved;
	} nagios;                  /* nagios: what run() found, for nagios_finish() */
};

extern const struct output_ops output_text_ops;
extern const struct output_ops output_json_ops;
extern const struct output_ops output_csv_ops;
extern const struct output_ops output_nagios_ops;
extern const struct output_ops output_prometheus_ops;

/* The exposition format's pieces (the prober writes its answers with them):
 * a family's HELP and TYPE lines, and a label value quoted and escaped,
 * valid UTF-8. */
void prom_family(FILE *f, const char *name, const char *type, const char *help);
void prom_label_value(FILE *f, const char *s);

const struct output_ops *output_ops_for(enum format f);

/* Nagios: the one plugin line, after run(): the state run() found, or
 * UNKNOWN and fatal (the first error line) when the run ended on a system
 * error; returns the state printed, the exit code. */
enum nagios_state nagios_finish(const struct output *o, const char *fatal);

/* The target as given: its name, or its address. */
const char *summary_target(const struct flow_summary *s);

/* Sort the kept summaries into the order the targets were given. */
void output_sort_kept(struct output *o);

/* Keep a copy of a summary until run(); -1 when out of memory. */
int output_keep(struct output *o, const struct flow_summary *s);

/* A trace's verdict into the kept summary of its target:port (Nagios and
 * Prometheus speak after the run); nothing when none is kept. */
void output_keep_trace(struct output *o, const struct trace_report *r);

/* The outcome of a target:port over its probes: open if any was, else
 * closed, unreachable, filtered. */
enum outcome summary_outcome(const struct flow_summary *s);

/* Is s in the state --expect-state names for its port? true when unnamed. */
bool expect_met(const struct thresholds *th, const struct flow_summary *s);

/* Does --only let this outcome be printed? */
bool output_shows(const struct output *o, enum outcome oc);

/* The Nagios state of one target:port, and why, into reason. Pure. */
enum nagios_state nagios_flow_state(const struct flow_summary *s, const struct thresholds *th,
				    int64_t timeout_ns, char *reason, size_t len);

/* -o FILE: a regular file (or a new path) is written to an unnamed
 * temporary file beside it and renamed into place at the end, so a reader
 * never sees half a file and an interrupted run leaves nothing behind; a
 * device, FIFO or socket (or a symlink to one) is written directly, never
 * replaced; a directory is refused. */
struct output_file {
	char *path, *tmp; /* the rename's target and source; NULL when direct */
	FILE *f;
	bool direct;      /* written in place */
	bool unnamed;     /* O_TMPFILE: tmp is named only at commit */
};

/* A directory as -o: -1 with a reason, to refuse it before anything is
 * sent. Pure but for a stat(). */
int output_path_check(const char *path, char *err, size_t errlen);
int output_file_open(struct output_file *of, const char *path, char *err, size_t errlen);
/* Flush, sync, rename; -1 with a reason (the temporary file is removed). */
int output_file_commit(struct output_file *of, char *err, size_t errlen);
/* Close and remove what is not committed; safe on a zeroed or failed one. */
void output_file_abort(struct output_file *of);

/* Names come from files, hosts files and DNS: any bytes. Every format
 * writes valid UTF-8, each invalid byte as U+FFFD. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"
/* The length of the valid UTF-8 sequence at p (shortest form, no
 * surrogates, at most U+10FFFF; ASCII, NUL included, is 1); 0 when p does
 * not start one. Reads no further than the first byte that breaks it. */
size_t utf8_seq(const unsigned char *p);
/* Write the character at s, or U+FFFD for an invalid byte; the next one. */
const char *put_utf8(FILE *f, const char *s);
/* Text for one line of a plain-text report (the Nagios line): valid
 * UTF-8, control bytes as U+FFFD, and bar as a slash when bar_too (the
 * plugin line's perfdata separator). */
void put_plain(FILE *f, const char *s, bool bar_too);

/* Shared by the formats. */
/* A send rate means something over at least 10 probes and 100 ms. */
bool run_rate_meaningful(const struct run_summary *r);
/* "syn" or "full" for the handshake kinds, else the kind's name. */
const char *output_mode_name(const struct probe_report *r);
double loss_pct(const struct flow_summary *s);
void flag_count_add(struct flag_count fc[FLAG_KINDS], uint8_t flags);
void status_count_add(struct status_count sc[HTTP_KINDS], int status);
/* Probes of a target:port given a middlebox verdict (full mode). */
uint64_t summary_judged(const struct flow_summary *s);
/* The verdict that names a middlebox most often among them (synproxy or
 * syncookies); MB_NA when none did. */
enum mb_verdict summary_middlebox(const struct flow_summary *s);
/* Count a finished probe into its target:port's summary. */
void summary_add(struct flow_summary *s, const struct probe_result *res);

#endif
