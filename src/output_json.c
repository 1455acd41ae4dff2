/* output_json.c - JSON lines: one object per probe, per target:port, per run. */
#include "output.h"
#include "record.h"
#include "trace.h"

static void json_head(FILE *f, const char *type, const char *target, const struct addr *a,
		      uint16_t port)
{
	char s[64];
	fprintf(f, "{\"type\":\"%s\",\"target\":", type);
	json_str(f, target);
	fprintf(f, ",\"addr\":\"%s\",\"port\":%u", addr_str(a, s, sizeof(s)), port);
}

static void json_stats(FILE *f, const char *key, const struct rtt_stats *st)
{
	if (st->n)
		fprintf(f, ",\"%s\":{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f,\"mdev\":%.3f}", key,
			st->min, st->mean, st->max, stats_mdev(st));
	else
		fprintf(f, ",\"%s\":null", key);
}

/* A probe: its record's fields (record.h), after the type. */
static void json_probe(struct output *o, const struct probe_report *r)
{
	struct record rec;
	if (o->quiet)
		return;
	record_probe(r, &rec);
	fputs("{\"type\":\"probe\"", o->f);
	record_json(o->f, &rec);
	fputs("}\n", o->f);
}

/* Full mode: the probes by middlebox verdict and the resets right after
 * the handshake; null without a verdict. */
static void json_middlebox(FILE *f, const struct flow_summary *s)
{
	if (!summary_judged(s)) {
		fputs(",\"middlebox\":null", f);
		return;
	}
	fputs(",\"middlebox\":{", f);
	for (int k = MB_NONE; k < MB_KINDS; k++)
		fprintf(f, "\"%s\":%llu,", mb_name((enum mb_verdict)k),
			(unsigned long long)s->middlebox[k]);
	fprintf(f, "\"reset\":%llu}", (unsigned long long)s->mb_resets);
}

static void json_summary(struct output *o, const struct flow_summary *s)
{
	char fl[9];
	FILE *f = o->f;
	json_head(f, "summary", summary_target(s), &s->addr, s->port);
	fprintf(f, ",\"sent\":%llu,\"open\":%llu,\"closed\":%llu,\"filtered\":%llu,"
		   "\"unreachable\":%llu,\"loss_pct\":%.1f",
		(unsigned long long)s->sent, (unsigned long long)s->open,
		(unsigned long long)s->closed, (unsigned long long)s->filtered,
		(unsigned long long)s->unreachable, loss_pct(s));
	if (s->mode == PMODE_SCAN || s->mode == PMODE_PERFLAG)
		fprintf(f, ",\"unfiltered\":%llu,\"open_filtered\":%llu,\"outcome\":\"%s\"",
			(unsigned long long)s->unfiltered, (unsigned long long)s->open_filtered,
			outcome_name(summary_outcome(s)));
	json_stats(f, "rtt_us", &s->rtt);
	fputs(",\"flags\":{", f);
	for (int i = 0; i < FLAG_KINDS && s->flags[i].n; i++)
		fprintf(f, "%s\"%s\":%u", i ? "," : "", tcp_flags_str(s->flags[i].flags, fl),
			s->flags[i].n);
	fprintf(f, "},\"mode\":\"%s\",\"established\":%llu,\"close\":{",
		s->mode == PMODE_FULL ? "full" : s->mode == PMODE_SYN || !s->kind ? "syn" : s->kind,
		(unsigned long long)s->established);
	const char *sep = "";
	for (int k = 1; k < CLOSE_KINDS; k++)
		if (s->closes[k]) {
			fprintf(f, "%s\"%s\":%llu", sep, close_name((enum close_kind)k),
				(unsigned long long)s->closes[k]);
			sep = ",";
		}
	fputc('}', f);
	json_middlebox(f, s);
	if (s->http) {
		fputs(",\"http\":{\"status\":{", f);
		for (int i = 0; i < HTTP_KINDS && s->status[i].n; i++)
			fprintf(f, "%s\"%d\":%u", i ? "," : "", s->status[i].status, s->status[i].n);
		fputc('}', f);
		json_stats(f, "ttfb_us", &s->ttfb);
		fputc('}', f);
	} else {
		fputs(",\"http\":null", f);
	}
	if (s->tls.seen) {
		fputs(",\"tls\":{\"version\":", f);
		if (s->tls.version[0])
			json_str(f, s->tls.version);
		else
			fputs("null", f); /* no handshake (a STARTTLS refused, a failure) */
		fprintf(f, ",\"failed\":%llu,\"error\":", (unsigned long long)s->tls.failed);
		if (s->tls.error[0])
			json_str(f, s->tls.error);
		else
			fputs("null", f);
		if (s->tls.cert)
			fprintf(f, ",\"days_left\":%lld,\"earliest_not_after\":%lld}",
				(long long)s->tls.days_left, (long long)s->tls.chain_not_after);
		else
			fputs(",\"days_left\":null,\"earliest_not_after\":null}", f);
	}
	if (s->banner.seen) {
		fputs(",\"banner\":{\"first_line\":", f);
		json_str(f, s->banner.first_line);
		if (s->banner.expecting)
			fprintf(f, ",\"matched\":%llu,\"mismatched\":%llu}",
				(unsigned long long)s->banner.matched,
				(unsigned long long)s->banner.mismatched);
		else
			fputs(",\"matched\":null,\"mismatched\":null}", f);
	}
	fputs("}\n", f);
}

static void json_run(struct output *o, const struct run_summary *r)
{
	double secs = (double)r->elapsed_ns / 1e9;
	fprintf(o->f, "{\"type\":\"run\",\"sent\":%llu,\"received\":%llu,\"elapsed_s\":%.6f,"
		      "\"pcap_drops\":%llu,\"retried\":%llu,\"rate_pps\":",
		(unsigned long long)r->sent, (unsigned long long)r->received, secs,
		(unsigned long long)r->pcap_drops, (unsigned long long)r->retried);
	if (run_rate_meaningful(r))
		fprintf(o->f, "%.1f", (double)r->sent / secs);
	else
		fputs("null", o->f); /* a handful of probes in a moment: no rate */
	fprintf(o->f, ",\"targets\":%llu,"
		      "\"open\":%llu,\"closed\":%llu,\"filtered\":%llu,\"unreachable\":%llu,"
		      "\"excluded\":%llu",
		(unsigned long long)r->flows,
		(unsigned long long)r->open, (unsigned long long)r->closed,
		(unsigned long long)r->filtered, (unsigned long long)r->unreachable,
		(unsigned long long)r->excluded);
	if (r->mode == PMODE_SCAN || r->mode == PMODE_PERFLAG)
		fprintf(o->f, ",\"unfiltered\":%llu,\"open_filtered\":%llu",
			(unsigned long long)r->unfiltered, (unsigned long long)r->open_filtered);
	fputs("}\n", o->f);
}

/* -M flags: {"type":"flags",...,"answers":{"syn":"SA",...},"verdict":"no-filter"} */
static void json_perflag(struct output *o, const struct perflag_report *r)
{
	char b[9];
	json_head(o->f, "flags", r->target, r->addr, r->port);
	fputs(",\"answers\":{", o->f);
	for (int i = 0; i < PERFLAG_KINDS; i++)
		fprintf(o->f, "%s\"%s\":\"%s\"", i ? "," : "", perflag_kinds[i]->name,
			perflag_answer_str(&r->answers[i], b));
	fprintf(o->f, "},\"verdict\":\"%s\"}\n", perflag_verdict_name(r->verdict));
}

/* One hop of a trace: {"ttl","addr","rtts_us":[..null..],"icmp","tcp"}. */
static void json_hop(FILE *f, const struct trace *t, int ttl)
{
	char a[64], name[32], fl[9];
	const struct trace_hop *h = &t->hop[ttl - 1];
	fprintf(f, "{\"ttl\":%d,\"addr\":", ttl);
	if (h->have_addr)
		fprintf(f, "\"%s\"", addr_str(&h->addr, a, sizeof(a)));
	else
		fputs("null", f);
	fputs(",\"rtts_us\":[", f);
	for (int q = 0; q < t->tp.queries; q++)
		if (h->rtt_ns[q] >= 0)
			fprintf(f, "%s%.3f", q ? "," : "", (double)h->rtt_ns[q] / 1e3);
		else
			fprintf(f, "%snull", q ? "," : "");
	fputs("],\"icmp\":", f);
	if (h->error)
		fprintf(f, "\"%s\"", icmp_name(t->dst.family, h->icmp_type, h->icmp_code, name,
						sizeof(name)));
	else
		fputs("null", f);
	fputs(",\"tcp\":", f);
	if (h->target)
		fprintf(f, "\"%s\"", tcp_flags_str(h->flags, fl));
	else
		fputs("null", f);
	fputc('}', f);
}

/* A trace: its verdict, the last good hop and every hop reported. */
static void json_trace(struct output *o, const struct trace_report *r)
{
	char text[200], a[64];
	const struct trace *t = r->t;
	FILE *f = o->f;
	json_head(f, "trace", r->target, r->addr, r->port);
	fprintf(f, ",\"sport\":%u,\"queries\":%d,\"max_hops\":%d,\"verdict\":\"%s\",\"text\":",
		t->sport, t->tp.queries, t->tp.max_hops, trace_verdict_name(t->verdict));
	json_str(f, trace_verdict_text(t, text, sizeof(text)));
	if (t->last_ttl)
		fprintf(f, ",\"last_hop\":{\"ttl\":%d,\"addr\":\"%s\"}", t->last_ttl,
			addr_str(&t->hop[t->last_ttl - 1].addr, a, sizeof(a)));
	else
		fputs(",\"last_hop\":null", f);
	fprintf(f, ",\"hop_count\":%d,\"hops\":[", t->shown);
	for (int ttl = 1; ttl <= t->shown; ttl++) {
		if (ttl > 1)
			fputc(',', f);
		json_hop(f, t, ttl);
	}
	fputs("]}\n", f);
}

const struct output_ops output_json_ops = {
	.probe = json_probe,
	.summary = json_summary,
	.run = json_run,
	.perflag = json_perflag,
	.only_filters = true,
	.trace = json_trace,
};
