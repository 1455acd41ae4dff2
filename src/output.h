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
};

#define CLOSE_KINDS 6
#define HTTP_KINDS 8

struct status_count {
	int status;
	uint32_t n;
};

struct flow_summary {
	const char *target;
	const struct addr *addr;
	uint16_t port;
	uint64_t sent, open, closed, filtered, unreachable;
	struct rtt_stats rtt;
	struct flag_count flags[FLAG_KINDS];
	enum probe_mode mode;
	bool http;
	uint64_t established;
	uint64_t closes[CLOSE_KINDS];        /* by enum close_kind */
	struct status_count status[HTTP_KINDS];
	struct rtt_stats ttfb;
};

struct run_summary {
	uint64_t sent, received, pcap_drops;
	int64_t elapsed_ns;
};

struct output;

struct output_ops {
	void (*probe)(struct output *o, const struct probe_report *r);
	void (*summary)(struct output *o, const struct flow_summary *s);
	void (*run)(struct output *o, const struct run_summary *r);
};

struct output {
	const struct output_ops *ops;
	FILE *f;
	bool quiet;    /* summaries only */
	bool verbose;  /* the exchange, segment by segment */
};

extern const struct output_ops output_text_ops;
extern const struct output_ops output_json_ops;

/* Shared by the formats. */
double loss_pct(const struct flow_summary *s);
void flag_count_add(struct flag_count fc[FLAG_KINDS], uint8_t flags);
void status_count_add(struct status_count sc[HTTP_KINDS], int status);
/* Count a finished probe into its target:port's summary. */
void summary_add(struct flow_summary *s, const struct probe_result *res);
/* "198.18.0.2:80" or "[2001:db8::2]:80" */
const char *endpoint_str(const struct addr *a, uint16_t port, char *buf, size_t len);

#endif
