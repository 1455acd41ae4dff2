/* output_nagios.c - one status line with perfdata, in the conventions of
 * the monitoring-plugins check_tcp and check_icmp: the worst target:port
 * names the state; perfdata for every target:port, in seconds and %. */
#include "output.h"

#include <string.h>

static const char *const state_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* CRITICAL is worst, then UNKNOWN, WARNING, OK. */
static int severity(enum nagios_state s)
{
	static const int rank[] = { 0, 1, 3, 2 };
	return rank[s];
}

static void nagios_probe(struct output *o, const struct probe_report *r)
{
	(void)o;
	(void)r;
}

static void nagios_summary(struct output *o, const struct flow_summary *s)
{
	if (output_keep(o, s) < 0)
		o->status = NAGIOS_UNKNOWN;
}

/* Probes that met a synproxy or SYN cookies, and resets right after the
 * handshake: only when there were any (a plain server's line is as before). */
static void middlebox_perfdata(FILE *f, const struct flow_summary *s, const char *ep, bool labelled)
{
	const struct { const char *key; uint64_t n; } c[3] = {
		{ "synproxy", s->middlebox[MB_SYNPROXY] },
		{ "syncookies", s->middlebox[MB_SYNCOOKIES] },
		{ "reset_after_handshake", s->mb_resets },
	};
	if (!c[0].n && !c[1].n && !c[2].n)
		return;
	for (int i = 0; i < 3; i++) {
		if (labelled)
			fprintf(f, " '%s %s'=%llu;;;0;", c[i].key, ep, (unsigned long long)c[i].n);
		else
			fprintf(f, " %s=%llu;;;0;", c[i].key, (unsigned long long)c[i].n);
	}
}

static void perfdata(FILE *f, const struct flow_summary *s, const struct thresholds *th,
		     bool labelled)
{
	char ep[80];
	endpoint_str(&s->addr, s->port, ep, sizeof(ep));
	if (labelled)
		fprintf(f, "'rtt %s'=", ep);
	else
		fputs("rtt=", f);
	if (s->rtt.n)
		fprintf(f, "%.6fs", s->rtt.mean / 1e6);
	else
		fputs("U", f);
	fprintf(f, ";%.6f;%.6f;0; ", th->warn_rtt_ms / 1e3, th->crit_rtt_ms / 1e3);
	if (labelled)
		fprintf(f, "'loss %s'=", ep);
	else
		fputs("loss=", f);
	fprintf(f, "%g%%;%g;%g;0;100", loss_pct(s), th->warn_loss, th->crit_loss);
	if (s->trace.seen) { /* --trace: the hops reported and the last good one */
		if (labelled)
			fprintf(f, " 'trace_hops %s'=%d;;;0; 'trace_last_hop %s'=%d;;;0;", ep,
				s->trace.hops, ep, s->trace.last_ttl);
		else
			fprintf(f, " trace_hops=%d;;;0; trace_last_hop=%d;;;0;", s->trace.hops,
				s->trace.last_ttl);
	}
	middlebox_perfdata(f, s, ep, labelled);
	for (int i = 0; i < s->nextra; i++) { /* a kind's own numbers */
		if (labelled)
			fprintf(f, " '%s %s'=%.15g", s->extra[i].key, ep, s->extra[i].v);
		else
			fprintf(f, " %s=%.15g", s->extra[i].key, s->extra[i].v);
	}
}

/* Decide the run's state; the line waits for nagios_finish(), which alone
 * knows whether the run ended on a system error. */
static void nagios_run(struct output *o, const struct run_summary *r)
{
	char reason[200];
	enum nagios_state worst = NAGIOS_UNKNOWN;
	snprintf(o->nagios.reason, sizeof(o->nagios.reason), "no target:port probed");
	o->nagios.not_ok = 0;
	if (o->nsums)
		worst = NAGIOS_OK;
	output_sort_kept(o);
	for (size_t i = 0; i < o->nsums; i++) {
		enum nagios_state st = nagios_flow_state(&o->sums[i], o->th, o->timeout_ns, reason,
							 sizeof(reason));
		o->nagios.not_ok += st != NAGIOS_OK;
		if (i == 0 || severity(st) > severity(worst)) {
			worst = st;
			snprintf(o->nagios.reason, sizeof(o->nagios.reason), "%s", reason);
		}
	}
	if (r->unresolved && severity(NAGIOS_UNKNOWN) > severity(worst)) {
		worst = NAGIOS_UNKNOWN;
		snprintf(o->nagios.reason, sizeof(o->nagios.reason), "%s did not resolve",
			 r->first_unresolved);
	}
	if (o->status == NAGIOS_UNKNOWN && o->nsums == 0)
		worst = NAGIOS_UNKNOWN;
	o->nagios.unresolved = r->unresolved;
	o->status = worst;
}

/* --trace: each trace's verdict and its last good hop, in the line. */
static void trace_lines(const struct output *o)
{
	char ep[80];
	for (size_t i = 0; i < o->nsums; i++) {
		const struct flow_summary *s = &o->sums[i];
		if (!s->trace.seen)
			continue;
		fprintf(o->f, "; trace %s: ", endpoint_str(&s->addr, s->port, ep, sizeof(ep)));
		put_plain(o->f, s->trace.text, true);
		if (s->trace.last_ttl)
			fprintf(o->f, ", last good hop %d (%s)", s->trace.last_ttl, s->trace.last_hop);
		else
			fputs(", no hop answered", o->f);
	}
}

static void nagios_trace(struct output *o, const struct trace_report *r)
{
	output_keep_trace(o, r);
}

enum nagios_state nagios_finish(const struct output *o, const char *fatal)
{
	enum nagios_state st = fatal ? NAGIOS_UNKNOWN : o->status;
	/* names and error lines carry any bytes: one line of valid UTF-8,
	 * no bar before the perfdata's */
	fprintf(o->f, "TCPSHAKE %s - ", state_names[st]);
	put_plain(o->f, fatal ? fatal : o->nagios.reason, true);
	if (o->nsums > 1 && o->nagios.not_ok)
		fprintf(o->f, "; %zu of %zu target:ports not OK", o->nagios.not_ok, o->nsums);
	if (o->nagios.unresolved)
		fprintf(o->f, "; %llu names did not resolve", (unsigned long long)o->nagios.unresolved);
	if (!fatal)
		trace_lines(o);
	for (size_t i = 0; i < o->nsums; i++) {
		fputs(i ? " " : "|", o->f);
		perfdata(o->f, &o->sums[i], o->th, o->nsums > 1);
	}
	fputc('\n', o->f);
	fflush(o->f);
	return st;
}

const struct output_ops output_nagios_ops = {
	.probe = nagios_probe,
	.summary = nagios_summary,
	.run = nagios_run,
	.only_filters = false,
	.trace = nagios_trace,
};
