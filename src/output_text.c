/* output_text.c - ping-like lines and statistics blocks. */
#include "output.h"
#include "record.h"
#include "trace.h"

#include <string.h>
#include <time.h>

/* What the full handshake saw: the HTTP answer and how it ended. */
static void text_connection(FILE *f, const struct probe_report *r)
{
	const struct probe_result *res = r->res;
	if (r->http) {
		fprintf(f, " http=%d", res->http.status);
		if (res->http.ttfb_ns >= 0)
			fprintf(f, " ttfb=%.3f ms", (double)res->http.ttfb_ns / 1e6);
		fprintf(f, " bytes=%llu", (unsigned long long)res->http.bytes);
	}
	const char *c = close_name(res->close);
	fprintf(f, " close=%s", c ? c : "none");
	if (res->close != CLOSE_NONE && res->close_ns >= 0)
		fprintf(f, " in %.3f ms", (double)res->close_ns / 1e6);
	struct mb_judgement mb;
	probe_middlebox(res, &mb);
	if (mb.v != MB_NA)
		fprintf(f, " middlebox=%s%s", mb_name(mb.v), res->mb.reset ? " reset-after-handshake" : "");
}

/* -v: why the middlebox verdict is what it is. */
static void text_middlebox(FILE *f, const struct probe_result *res)
{
	struct mb_judgement mb;
	probe_middlebox(res, &mb);
	if (mb.v != MB_NA)
		fprintf(f, "    middlebox %s: %s\n", mb_name(mb.v), mb.why);
}

/* -v: the exchange as the capture saw it, times from our SYN. */
static void text_segments(FILE *f, const struct probe_result *res)
{
	char fl[9];
	for (int i = 0; i < res->nlog; i++)
		fprintf(f, "    %c %-4s %10.3f ms\n", res->log[i].dir,
			tcp_flags_str(res->log[i].flags, fl), (double)res->log[i].t_us / 1e3);
}

/* What the user typed, with the address: "localhost:8099 (127.0.0.1)";
 * an address given as such: "198.18.0.2:80", "[2001:db8::2]:80". Control
 * and invalid bytes of a name are escaped. */
static const char *named_endpoint(const char *name, const struct addr *a, uint16_t port,
				  char *buf, size_t len)
{
	char as[64];
	addr_str(a, as, sizeof(as));
	if (!name || strcmp(name, as) == 0)
		return endpoint_str(a, port, buf, len);
	size_t off = 0;
	for (const char *c = name; *c && off + 5 < len; c++) {
		unsigned char u = (unsigned char)*c;
		off += (size_t)snprintf(buf + off, len - off, u < 0x20 || u >= 0x7f ? "\\x%02x" : "%c", u);
	}
	snprintf(buf + off, len - off, ":%u (%s)", port, as);
	return buf;
}

/* -D: "[1795663422.869885] ", the event's time (or now) as fping -D prints it. */
static void stamp(const struct output *o, int64_t ns)
{
	if (!o->timestamps)
		return;
	if (ns <= 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ns = ts_to_ns(&ts);
	}
	fprintf(o->f, "[%lld.%06lld] ", (long long)(ns / NS_PER_SEC),
		(long long)(ns % NS_PER_SEC / 1000));
}

/* A change of state has a line of its own, after the probe's. */
static void text_change(struct output *o, const struct probe_report *r, const char *ep)
{
	if (r->was == OUTCOME_NONE)
		return;
	stamp(o, r->time_ns);
	fprintf(o->f, "%s is now %s (was %s)\n", ep, outcome_name(r->res->outcome),
		outcome_name(r->was));
}

static void text_probe(struct output *o, const struct probe_report *r)
{
	char ep[1100], fl[9], name[32], from[64];
	const struct probe_result *res = r->res;
	if (o->quiet || ((o->fleet || r->mode == PMODE_PERFLAG) && !o->verbose))
		return;
	stamp(o, r->time_ns);
	fprintf(o->f, "%s seq=%u %s", named_endpoint(r->target, r->addr, r->port, ep, sizeof(ep)),
		r->seq,
		outcome_name(res->outcome));
	if (r->mode == PMODE_SCAN || r->mode == PMODE_PERFLAG)
		fprintf(o->f, " (%s)", output_mode_name(r));
	if (res->icmp || res->no_neighbour) {
		fprintf(o->f, " %s from %s",
			icmp_name(r->addr->family, res->icmp_type, res->icmp_code, name, sizeof(name)),
			addr_str(&res->icmp_from, from, sizeof(from)));
	} else if (res->flags) {
		fprintf(o->f, " flags=%s ttl=%u win=%u", tcp_flags_str(res->flags, fl), res->ttl,
			res->win);
		if (res->mss)
			fprintf(o->f, " mss=%u", res->mss);
	} else {
		fprintf(o->f, " no answer in %.3f s", (double)r->timeout_ns / 1e9);
		if (res->syns > 1)
			fprintf(o->f, " (%u sent)", res->syns);
		fputc('\n', o->f);
		text_change(o, r, ep);
		return;
	}
	if (res->rtt_source == RTT_NONE)
		fputs(" rtt=unknown", o->f); /* SYN sent again, the answer does not say to which */
	else
		fprintf(o->f, " rtt=%.3f ms%s", (double)res->rtt_ns / 1e6,
			res->rtt_source == RTT_CLOCK ? " (clock)" : "");
	if (res->syns > 1)
		fprintf(o->f, " syns=%u", res->syns);
	if (res->established)
		text_connection(o->f, r);
	if (r->kind && r->kind->fields) { /* the kind's own fields, key=value */
		struct record rec;
		record_probe(r, &rec);
		record_text_extra(o->f, &rec);
	}
	fputc('\n', o->f);
	if (o->verbose) {
		text_segments(o->f, res);
		text_middlebox(o->f, res);
	}
	text_change(o, r, ep);
}

/* A fleet: one line per target:port. */
static void text_fleet_line(struct output *o, const struct flow_summary *s)
{
	char ep[1100], fl[9], name[32];
	enum outcome oc = summary_outcome(s);
	stamp(o, 0);
	fprintf(o->f, "%s %s", named_endpoint(s->name, &s->addr, s->port, ep, sizeof(ep)),
		outcome_name(oc));
	if (oc != OUTCOME_UNREACHABLE && s->flags[0].n)
		fprintf(o->f, " flags=%s", tcp_flags_str(s->flags[0].flags, fl));
	if (s->icmp_seen && (oc == OUTCOME_UNREACHABLE || oc == OUTCOME_FILTERED))
		fprintf(o->f, " %s", icmp_name(s->addr.family, s->icmp_type, s->icmp_code, name,
					      sizeof(name)));
	if (s->rtt.n)
		fprintf(o->f, " rtt=%.3f ms", s->rtt.mean / 1e3);
	if (s->http && s->status[0].n)
		fprintf(o->f, " http=%d", s->status[0].status);
	if (s->tls.seen && s->tls.failed)
		fprintf(o->f, " tls=failed:%s", s->tls.error);
	else if (s->tls.seen)
		fprintf(o->f, " tls=%s cert_days=%lld", s->tls.version, (long long)s->tls.days_left);
	if (s->banner.seen && s->banner.expecting)
		fprintf(o->f, " expect=%s", s->banner.mismatched ? "mismatch" : "matched");
	if (summary_middlebox(s) != MB_NA)
		fprintf(o->f, " middlebox=%s", mb_name(summary_middlebox(s)));
	if (s->mb_resets)
		fprintf(o->f, " reset-after-handshake=%llu", (unsigned long long)s->mb_resets);
	if (s->sent > 1)
		fprintf(o->f, " probes=%llu loss=%g%%", (unsigned long long)s->sent, loss_pct(s));
	/* last: it may hold spaces (escaped as --send writes them otherwise) */
	if (s->banner.seen && s->banner.first_line[0])
		fprintf(o->f, " banner=\"%s\"", s->banner.first_line);
	fputc('\n', o->f);
}

/* --expect, --send, --banner in the statistics: the last first line, and
 * how many probes matched. */
static void text_banner_line(FILE *f, const struct flow_summary *s)
{
	fprintf(f, "banner \"%s\"", s->banner.first_line);
	if (s->banner.expecting)
		fprintf(f, ", expect matched %llu, mismatched %llu",
			(unsigned long long)s->banner.matched,
			(unsigned long long)s->banner.mismatched);
	fputc('\n', f);
}

/* Full mode in the statistics, when a synproxy or SYN cookies were met or
 * the peer reset right after the handshake (--close rst alone, always
 * unknown, adds no line): the probes by verdict, and those resets. */
static void text_middlebox_line(FILE *f, const struct flow_summary *s)
{
	fputs("middlebox", f);
	for (int k = MB_NONE; k < MB_KINDS; k++)
		if (s->middlebox[k])
			fprintf(f, " %s=%llu", mb_name((enum mb_verdict)k),
				(unsigned long long)s->middlebox[k]);
	if (s->mb_resets)
		fprintf(f, ", reset after the handshake %llu", (unsigned long long)s->mb_resets);
	fputc('\n', f);
}

/* --tls in the statistics: the last handshake, the certificate's days,
 * and how many probes failed the check. */
static void text_tls_line(FILE *f, const struct flow_summary *s)
{
	fprintf(f, "tls %s", s->tls.version[0] ? s->tls.version : "no handshake");
	if (s->tls.cert)
		fprintf(f, ", certificate %s %lld days", s->tls.days_left < 0 ? "expired" : "expires in",
			(long long)(s->tls.days_left < 0 ? -s->tls.days_left : s->tls.days_left));
	if (s->tls.failed)
		fprintf(f, ", failed %llu (%s)", (unsigned long long)s->tls.failed, s->tls.error);
	else
		fputs(", ok", f);
	fputc('\n', f);
}

static void text_summary(struct output *o, const struct flow_summary *s)
{
	char ep[1100], fl[9];
	if (s->mode == PMODE_PERFLAG)
		return; /* the round's line says it all */
	if (o->fleet && o->ordered) { /* a few: printed at the end, in order */
		if (output_keep(o, s) < 0)
			text_fleet_line(o, s);
		return;
	}
	if (o->fleet || (s->mode == PMODE_SCAN && o->quiet)) {
		text_fleet_line(o, s);
		return;
	}
	named_endpoint(s->name, &s->addr, s->port, ep, sizeof(ep));
	fprintf(o->f, "--- %s tcpshake statistics ---\n", ep);
	fprintf(o->f,
		"%llu probes, %llu open, %llu closed, %llu filtered, %llu unreachable, %g%% loss\n",
		(unsigned long long)s->sent, (unsigned long long)s->open,
		(unsigned long long)s->closed, (unsigned long long)s->filtered,
		(unsigned long long)s->unreachable, loss_pct(s));
	if (s->unfiltered || s->open_filtered)
		fprintf(o->f, "%llu unfiltered, %llu open|filtered\n", (unsigned long long)s->unfiltered,
			(unsigned long long)s->open_filtered);
	if (s->flags[0].n) {
		fputs("flags", o->f);
		for (int i = 0; i < FLAG_KINDS && s->flags[i].n; i++)
			fprintf(o->f, " %s=%u", tcp_flags_str(s->flags[i].flags, fl), s->flags[i].n);
		fputc('\n', o->f);
	}
	if (s->rtt.n)
		fprintf(o->f, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", s->rtt.min / 1e3,
			s->rtt.mean / 1e3, s->rtt.max / 1e3, stats_mdev(&s->rtt) / 1e3);
	if (s->outage_ns > 0) {
		char when[32];
		time_t at = (time_t)(s->outage_at_ns / NS_PER_SEC);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&at, &tm));
		fprintf(o->f, "longest outage %.3f s, from %s\n", (double)s->outage_ns / 1e9, when);
	}
	if (s->mode == PMODE_FULL && s->open) {
		fprintf(o->f, "established %llu, closes", (unsigned long long)s->established);
		for (int k = 1; k < CLOSE_KINDS; k++)
			if (s->closes[k])
				fprintf(o->f, " %s=%llu", close_name((enum close_kind)k),
					(unsigned long long)s->closes[k]);
		fputc('\n', o->f);
	}
	if (summary_middlebox(s) != MB_NA || s->mb_resets)
		text_middlebox_line(o->f, s);
	if (s->http && s->status[0].n) {
		fputs("http", o->f);
		for (int i = 0; i < HTTP_KINDS && s->status[i].n; i++)
			fprintf(o->f, " %d=%u", s->status[i].status, s->status[i].n);
		if (s->ttfb.n)
			fprintf(o->f, ", ttfb min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms",
				s->ttfb.min / 1e3, s->ttfb.mean / 1e3, s->ttfb.max / 1e3,
				stats_mdev(&s->ttfb) / 1e3);
		fputc('\n', o->f);
	}
	if (s->tls.seen)
		text_tls_line(o->f, s);
	if (s->banner.seen)
		text_banner_line(o->f, s);
}

static void text_run(struct output *o, const struct run_summary *r)
{
	output_sort_kept(o);
	for (size_t i = 0; i < o->nsums; i++)
		text_fleet_line(o, &o->sums[i]);
	if (o->fleet) {
		double secs = (double)r->elapsed_ns / 1e9;
		fprintf(o->f,
			"--- tcpshake: %llu target:ports in %.3f s: %llu open, %llu closed, "
			"%llu filtered, %llu unreachable; %llu probes sent",
			(unsigned long long)r->flows, secs, (unsigned long long)r->open,
			(unsigned long long)r->closed, (unsigned long long)r->filtered,
			(unsigned long long)r->unreachable, (unsigned long long)r->sent);
		if (run_rate_meaningful(r))
			fprintf(o->f, " (%.0f/s)", (double)r->sent / secs);
		fprintf(o->f, ", %llu sent again", (unsigned long long)r->retried);
		if (r->mode == PMODE_SCAN)
			fprintf(o->f, ", %llu unfiltered, %llu open|filtered",
				(unsigned long long)r->unfiltered, (unsigned long long)r->open_filtered);
		if (r->excluded)
			fprintf(o->f, ", %llu excluded", (unsigned long long)r->excluded);
		fputs(" ---\n", o->f);
	}
	if (r->pcap_drops)
		fprintf(o->f, "capture dropped %llu packets\n", (unsigned long long)r->pcap_drops);
}

/* -M flags: "198.18.0.2:80 syn=SA ack=R fin=- null=- xmas=- verdict=no-filter" */
static void text_perflag(struct output *o, const struct perflag_report *r)
{
	char ep[1100], b[9];
	stamp(o, 0);
	fputs(named_endpoint(r->target, r->addr, r->port, ep, sizeof(ep)), o->f);
	for (int i = 0; i < PERFLAG_KINDS; i++)
		fprintf(o->f, " %s=%s", perflag_kinds[i]->name, perflag_answer_str(&r->answers[i], b));
	fprintf(o->f, " verdict=%s\n", perflag_verdict_name(r->verdict));
}

/* A trace as traceroute prints it: a line per hop (its address, each
 * probe's RTT or *, an ICMP error's mark), then the verdict. */
static void text_trace(struct output *o, const struct trace_report *r)
{
	char ep[1100], a[64], mark[8], verdict[200];
	const struct trace *t = r->t;
	stamp(o, 0);
	fprintf(o->f, "trace %s: source port %u, %d probes a hop, %d hops at most\n",
		named_endpoint(r->target, r->addr, r->port, ep, sizeof(ep)), t->sport, t->tp.queries,
		t->tp.max_hops);
	for (int ttl = 1; ttl <= t->shown; ttl++) {
		const struct trace_hop *h = &t->hop[ttl - 1];
		trace_icmp_mark(t, h, mark, sizeof(mark));
		fprintf(o->f, "%2d  %s", ttl, h->have_addr ? addr_str(&h->addr, a, sizeof(a)) : "*");
		for (int q = 0; q < t->tp.queries && h->have_addr; q++)
			if (h->rtt_ns[q] >= 0)
				fprintf(o->f, "  %.3f ms%s%s", (double)h->rtt_ns[q] / 1e6, *mark ? " " : "",
					mark);
			else
				fputs("  *", o->f);
		if (!h->have_addr)
			for (int q = 1; q < t->tp.queries; q++)
				fputs(" *", o->f);
		if (h->target)
			fprintf(o->f, "  [%s]", h->flags & TCPF_SYN ? "open" : "closed");
		fputc('\n', o->f);
	}
	stamp(o, 0);
	fprintf(o->f, "%s\n", trace_verdict_text(t, verdict, sizeof(verdict)));
}

const struct output_ops output_text_ops = {
	.probe = text_probe,
	.summary = text_summary,
	.run = text_run,
	.perflag = text_perflag,
	.only_filters = true,
	.trace = text_trace,
};
