/* output_csv.c - one RFC 4180 row per probe, the JSON probe keys as columns. */
#include "output.h"
#include "record.h"
#include "trace.h"

#include <sys/socket.h>


/* The columns are the probe record's fields (record.h), nested keys
 * flattened: icmp.type is icmp_type. */
static void csv_begin(struct output *o)
{
	struct probe_result none = { 0 };
	struct addr a = { 0 };
	struct probe_report blank = { "", &a, 0, 0, 0, &none, 0, 0, PMODE_SYN, false, o->kind,
				      OUTCOME_NONE };
	struct record rec;
	a.family = AF_INET;
	record_probe(&blank, &rec);
	record_csv_header(o->f, &rec);
}

static void csv_probe(struct output *o, const struct probe_report *r)
{
	struct record rec;
	record_probe(r, &rec);
	record_csv_row(o->f, &rec);
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

/* Traces: a table of their own after the probes' rows, a blank line
 * between, one row per trace; path is each hop's address (or *) with spaces. */
static void csv_trace(struct output *o, const struct trace_report *r)
{
	char a[64], text[200], port[8];
	const struct trace *t = r->t;
	FILE *f = o->f;
	if (!o->trace_header) {
		fputs("\r\ntype,target,addr,port,sport,verdict,text,last_hop_ttl,last_hop,hops,path\r\n", f);
		o->trace_header = true;
	}
	fputs("trace,", f);
	csv_str(f, r->target);
	snprintf(port, sizeof(port), "%u", r->port);
	fprintf(f, ",%s,%s,%u,%s,", addr_str(r->addr, a, sizeof(a)), port, t->sport,
		trace_verdict_name(t->verdict));
	csv_str(f, trace_verdict_text(t, text, sizeof(text)));
	if (t->last_ttl)
		fprintf(f, ",%d,%s", t->last_ttl, addr_str(&t->hop[t->last_ttl - 1].addr, a, sizeof(a)));
	else
		fputs(",,", f);
	fprintf(f, ",%d,", t->shown);
	for (int ttl = 1; ttl <= t->shown; ttl++)
		fprintf(f, "%s%s", ttl > 1 ? " " : "",
			t->hop[ttl - 1].have_addr ? addr_str(&t->hop[ttl - 1].addr, a, sizeof(a)) : "*");
	fputs("\r\n", f);
}

const struct output_ops output_csv_ops = {
	.begin = csv_begin,
	.probe = csv_probe,
	.summary = csv_summary,
	.run = csv_run,
	.only_filters = true,
	.trace = csv_trace,
};
