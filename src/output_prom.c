/* output_prom.c - the Prometheus text exposition format, for the
 * node_exporter textfile collector: every family's samples together. */
#include "output.h"

#include <string.h>


/* A label value: backslash, double quote and line feed escaped; valid
 * UTF-8, as the exposition format requires. */
void prom_label_value(FILE *f, const char *s)
{
	fputc('"', f);
	while (*s) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			fprintf(f, "\\%c", *s == '\n' ? 'n' : *s);
			s++;
		} else {
			s = put_utf8(f, s);
		}
	}
	fputc('"', f);
}

/* {target="..",addr="..",port=".." plus one more label, or none */
static void labels(FILE *f, const struct flow_summary *s, const char *k, const char *v)
{
	char a[64], port[8];
	snprintf(port, sizeof(port), "%u", s->port);
	fputs("{target=", f);
	prom_label_value(f, summary_target(s));
	fputs(",addr=", f);
	prom_label_value(f, addr_str(&s->addr, a, sizeof(a)));
	fputs(",port=", f);
	prom_label_value(f, port);
	if (k) {
		fprintf(f, ",%s=", k);
		prom_label_value(f, v);
	}
	fputc('}', f);
}

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_probe(struct output *o, const struct probe_report *r)
{
	(void)o;
	(void)r;
}

static void prom_summary(struct output *o, const struct flow_summary *s)
{
	(void)output_keep(o, s);
}

static void up_and_probes(FILE *f, const struct output *o)
{
	prom_family(f, "tcpshake_up", "gauge", "1 if the target:port answered open in the last run, else 0.");
	for (size_t i = 0; i < o->nsums; i++) {
		fputs("tcpshake_up", f);
		labels(f, &o->sums[i], NULL, NULL);
		fprintf(f, " %d\n", o->sums[i].open > 0);
	}
	prom_family(f, "tcpshake_probes_total", "counter", "Probes of the last run by outcome.");
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		const uint64_t n[6] = { s->open, s->closed, s->filtered, s->unreachable,
					s->unfiltered, s->open_filtered };
		/* a flag scan's states too (unfiltered, open|filtered) */
		int kinds = s->mode == PMODE_SCAN || s->mode == PMODE_PERFLAG ? 6 : 4;
		for (int k = 0; k < kinds; k++) {
			fputs("tcpshake_probes_total", f);
			labels(f, s, "outcome", outcome_name((enum outcome)(OUTCOME_OPEN + k)));
			fprintf(f, " %llu\n", (unsigned long long)n[k]);
		}
	}
}

static void rtt_histogram(FILE *f, const struct output *o)
{
	char le[32];
	prom_family(f, "tcpshake_rtt_seconds", "histogram",
	       "Round-trip time from our SYN to the answer, from capture timestamps.");
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		uint64_t cum = 0;
		for (int b = 0; b < RTT_BUCKETS; b++) {
			cum += s->rtt_hist[b];
			if (b < RTT_BUCKETS - 1)
				snprintf(le, sizeof(le), "%g", rtt_bucket_le[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			fputs("tcpshake_rtt_seconds_bucket", f);
			labels(f, s, "le", le);
			fprintf(f, " %llu\n", (unsigned long long)cum);
		}
		fputs("tcpshake_rtt_seconds_sum", f);
		labels(f, s, NULL, NULL);
		fprintf(f, " %.9f\n", s->rtt.mean * (double)s->rtt.n / 1e6);
		fputs("tcpshake_rtt_seconds_count", f);
		labels(f, s, NULL, NULL);
		fprintf(f, " %llu\n", (unsigned long long)s->rtt.n);
	}
}

static void phases(FILE *f, const struct output *o)
{
	prom_family(f, "tcpshake_phase_seconds", "gauge",
	       "Average duration of each phase the last run measured, on the wire.");
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		const struct rtt_stats *st[3] = { &s->rtt, &s->close_time, &s->ttfb };
		const char *name[3] = { "syn_ack", "close", "http_ttfb" };
		for (int k = 0; k < 3; k++) {
			if (!st[k]->n)
				continue;
			fputs("tcpshake_phase_seconds", f);
			labels(f, s, "phase", name[k]);
			fprintf(f, " %.9f\n", st[k]->mean / 1e6);
		}
	}
}

/* A kind's field as a metric name, in base units as Prometheus wants
 * them: "tls.handshake_ms" is tcpshake_probe_tls_handshake_seconds (the
 * value scaled by *scale); false for a field with a metric of its own
 * (cert.days_left: tcpshake_tls_cert_expiry_timestamp_seconds). */
static bool extra_name(const char *key, char *name, size_t len, double *scale)
{
	static const struct { const char *suffix, *unit; double scale; } units[] = {
		{ "_ms", "_seconds", 1e-3 }, { "_us", "_seconds", 1e-6 },
	};
	size_t n = strlen(key);
	*scale = 1;
	if (n >= 9 && strcmp(key + n - 9, "days_left") == 0)
		return false;
	const char *unit = "";
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t k = strlen(units[i].suffix);
		if (n > k && strcmp(key + n - k, units[i].suffix) == 0) {
			n -= k;
			unit = units[i].unit;
			*scale = units[i].scale;
			break;
		}
	}
	snprintf(name, len, "tcpshake_probe_%.*s%s", (int)n, key, unit);
	for (char *c = name; *c; c++)
		*c = *c == '.' ? '_' : *c; /* a group's key: tls.handshake_ms */
	return true;
}

/* The value of a kind's field in a summary, by key (a field null in one
 * probe is absent from its summary, so positions differ between them). */
static const double *extra_of(const struct flow_summary *s, const char *key)
{
	for (int k = 0; k < s->nextra; k++)
		if (strcmp(s->extra[k].key, key) == 0)
			return &s->extra[k].v;
	return NULL;
}

/* Has an earlier summary (before i) a field named key? Then it was printed. */
static bool key_seen(const struct output *o, size_t i, const char *key)
{
	for (size_t j = 0; j < i; j++)
		if (extra_of(&o->sums[j], key))
			return true;
	return false;
}

/* A kind's own numbers, a gauge each: tcpshake_probe_KEY, every
 * target:port that has it. */
static void extras(FILE *f, const struct output *o)
{
	for (size_t i = 0; i < o->nsums; i++)
		for (int k = 0; k < o->sums[i].nextra; k++) {
			const char *key = o->sums[i].extra[k].key;
			char name[96];
			double scale;
			if (key_seen(o, i, key) || !extra_name(key, name, sizeof(name), &scale))
				continue;
			prom_family(f, name, "gauge", "A field of the probe kind's own, from the last probe.");
			for (size_t j = i; j < o->nsums; j++) {
				const double *v = extra_of(&o->sums[j], key);
				if (!v)
					continue;
				fputs(name, f);
				labels(f, &o->sums[j], NULL, NULL);
				fprintf(f, " %.15g\n", *v * scale);
			}
		}
}

/* --tls: the certificate's expiry (blackbox's probe_ssl_earliest_cert_expiry:
 * the earliest notAfter of the chain sent) with the TLS version as a label,
 * and whether the check passed. */
static void tls_gauges(FILE *f, const struct output *o)
{
	bool any = false;
	for (size_t i = 0; i < o->nsums; i++)
		any |= o->sums[i].tls.seen;
	if (!any)
		return;
	prom_family(f, "tcpshake_tls_cert_expiry_timestamp_seconds", "gauge",
	       "The earliest notAfter of the certificate chain the server sent, in seconds since "
	       "the epoch.");
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		if (!s->tls.seen || !s->tls.cert)
			continue;
		fputs("tcpshake_tls_cert_expiry_timestamp_seconds", f);
		labels(f, s, "tls_version", s->tls.version);
		fprintf(f, " %lld\n", (long long)s->tls.chain_not_after);
	}
	prom_family(f, "tcpshake_tls_ok", "gauge",
	       "1 if every TLS handshake of the last run passed the check (chain, name, version).");
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		if (!s->tls.seen)
			continue;
		fputs("tcpshake_tls_ok", f);
		labels(f, s, "tls_version", s->tls.version);
		fprintf(f, " %d\n", s->tls.failed == 0);
	}
}

/* Full mode: probes by middlebox verdict, and resets right after the
 * handshake, for every target:port that had a verdict. */
static void middlebox_counters(FILE *f, const struct output *o)
{
	bool any = false;
	for (size_t i = 0; i < o->nsums; i++)
		any |= summary_judged(&o->sums[i]) > 0;
	if (!any)
		return;
	prom_family(f, "tcpshake_middlebox_probes_total", "counter",
	       "Probes of the last run by middlebox verdict: none, synproxy, syncookies, unknown.");
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		if (!summary_judged(s))
			continue;
		for (int k = MB_NONE; k < MB_KINDS; k++) {
			fputs("tcpshake_middlebox_probes_total", f);
			labels(f, s, "verdict", mb_name((enum mb_verdict)k));
			fprintf(f, " %llu\n", (unsigned long long)s->middlebox[k]);
		}
	}
	prom_family(f, "tcpshake_reset_after_handshake_total", "counter",
	       "Probes of the last run the peer reset after the handshake, before any data, FIN or ACK of our data.");
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		if (!summary_judged(s))
			continue;
		fputs("tcpshake_reset_after_handshake_total", f);
		labels(f, s, NULL, NULL);
		fprintf(f, " %llu\n", (unsigned long long)s->mb_resets);
	}
}

/* --trace: per traced target:port, the hops reported, the last good hop's
 * TTL (0: none answered) and the verdict as a label. */
static void trace_gauges(FILE *f, const struct output *o)
{
	bool any = false;
	for (size_t i = 0; i < o->nsums; i++)
		any |= o->sums[i].trace.seen;
	if (!any)
		return;
	prom_family(f, "tcpshake_trace_hops", "gauge", "Hops the trace reported, to its stop.");
	for (size_t i = 0; i < o->nsums; i++)
		if (o->sums[i].trace.seen) {
			fputs("tcpshake_trace_hops", f);
			labels(f, &o->sums[i], NULL, NULL);
			fprintf(f, " %d\n", o->sums[i].trace.hops);
		}
	prom_family(f, "tcpshake_trace_last_hop", "gauge",
		    "The TTL of the last hop that answered the trace without an error (0: none).");
	for (size_t i = 0; i < o->nsums; i++)
		if (o->sums[i].trace.seen) {
			fputs("tcpshake_trace_last_hop", f);
			labels(f, &o->sums[i], "last_hop_addr", o->sums[i].trace.last_hop);
			fprintf(f, " %d\n", o->sums[i].trace.last_ttl);
		}
	prom_family(f, "tcpshake_trace_verdict", "gauge",
		    "1 for the trace's verdict: open, closed, rejected, silent, max-hops or "
		    "incomplete.");
	for (size_t i = 0; i < o->nsums; i++)
		if (o->sums[i].trace.seen) {
			fputs("tcpshake_trace_verdict", f);
			labels(f, &o->sums[i], "verdict", o->sums[i].trace.verdict);
			fputs(" 1\n", f);
		}
}

static void prom_trace(struct output *o, const struct trace_report *r)
{
	output_keep_trace(o, r);
}

static void prom_run(struct output *o, const struct run_summary *r)
{
	FILE *f = o->f;
	output_sort_kept(o);
	up_and_probes(f, o);
	rtt_histogram(f, o);
	phases(f, o);
	extras(f, o);
	middlebox_counters(f, o);
	tls_gauges(f, o);
	trace_gauges(f, o);
	prom_family(f, "tcpshake_last_run_timestamp_seconds", "gauge",
	       "When the last run ended, in seconds since the epoch.");
	fprintf(f, "tcpshake_last_run_timestamp_seconds %.3f\n",
		(double)(r->start_wall_ns + r->elapsed_ns) / 1e9);
	prom_family(f, "tcpshake_run_duration_seconds", "gauge", "How long the last run took.");
	fprintf(f, "tcpshake_run_duration_seconds %.6f\n", (double)r->elapsed_ns / 1e9);
}

const struct output_ops output_prometheus_ops = {
	.probe = prom_probe,
	.summary = prom_summary,
	.run = prom_run,
	.only_filters = false,
	.trace = prom_trace,
};
