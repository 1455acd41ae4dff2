/* output_csv.c - one RFC 4180 row per probe, the JSON probe keys as columns. */
#include "output.h"

#include <string.h>

static const char *const columns =
	"target,addr,port,seq,sport,outcome,flags,rtt_us,rtt_source,ttl,win,mss,icmp_type,"
	"icmp_code,icmp_name,icmp_from,time,mode,established,close,close_us,segments,"
	"http_status,http_ttfb_us,http_bytes,syns";

/* A field, quoted when it holds a comma, a quote or a line break; valid
 * UTF-8, each invalid byte as U+FFFD. */
static void csv_field(FILE *f, const char *s, bool first)
{
	if (!first)
		fputc(',', f);
	bool quoted = strpbrk(s, ",\"\r\n") != NULL;
	if (quoted)
		fputc('"', f);
	while (*s) {
		if (*s == '"')
			fputc('"', f);
		s = put_utf8(f, s); /* valid UTF-8 */
	}
	if (quoted)
		fputc('"', f);
}

static void csv_begin(struct output *o)
{
	fprintf(o->f, "%s\r\n", columns);
}

static void csv_probe(struct output *o, const struct probe_report *r)
{
	const struct probe_result *res = r->res;
	char b[160], fl[9];
	FILE *f = o->f;
	bool tcp = res->flags && !res->icmp; /* a TCP answer */
	bool icmp = res->icmp || res->no_neighbour;
	csv_field(f, r->target, true);
	csv_field(f, addr_str(r->addr, b, sizeof(b)), false);
	fprintf(f, ",%u,%u,%u,%s,%s", r->port, r->seq, r->sport, outcome_name(res->outcome),
		tcp ? tcp_flags_str(res->flags, fl) : "");
	if (res->rtt_source != RTT_NONE)
		fprintf(f, ",%.3f,%s", (double)res->rtt_ns / 1e3,
			res->rtt_source == RTT_WIRE ? "wire" : "clock");
	else
		fputs(",,", f);
	if (!tcp && !icmp)
		fputs(",", f);
	else
		fprintf(f, ",%u", res->ttl);
	if (tcp)
		fprintf(f, ",%u,", res->win);
	else
		fputs(",,", f);
	if (tcp && res->mss)
		fprintf(f, "%u", res->mss);
	if (icmp) {
		char name[32], from[64];
		fprintf(f, ",%u,%u,%s,%s", res->icmp_type, res->icmp_code,
			icmp_name(r->addr->family, res->icmp_type, res->icmp_code, name, sizeof(name)),
			addr_str(&res->icmp_from, from, sizeof(from)));
	} else {
		fputs(",,,,", f);
	}
	fprintf(f, ",%lld.%06lld,%s,%s,", (long long)(r->time_ns / NS_PER_SEC),
		(long long)(r->time_ns % NS_PER_SEC / 1000), output_mode_name(r),
		res->established ? "true" : "false");
	const char *c = close_name(res->close);
	fputs(c ? c : "", f);
	if (c && res->close_ns >= 0)
		fprintf(f, ",%.3f,", (double)res->close_ns / 1e3);
	else
		fputs(",,", f);
	for (int i = 0; i < res->nlog; i++)
		fprintf(f, "%s%c%s", i ? " " : "", res->log[i].dir, tcp_flags_str(res->log[i].flags, fl));
	if (r->http && res->established) {
		fprintf(f, ",%d,", res->http.status);
		if (res->http.ttfb_ns >= 0)
			fprintf(f, "%.3f", (double)res->http.ttfb_ns / 1e3);
		fprintf(f, ",%llu", (unsigned long long)res->http.bytes);
	} else {
		fputs(",,,", f);
	}
	fprintf(f, ",%u\r\n", res->syns);
}

static void csv_summary(struct output *o, const struct flow_summary *s)
{
	(void)o;
	(void)s;
}

static void csv_run(struct output *o, const struct run_summary *r)
{
	(void)o;
	(void)r;
}

const struct output_ops output_csv_ops = { csv_begin, csv_probe, csv_summary, csv_run,
					   NULL };
