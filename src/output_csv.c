/* output_csv.c - one RFC 4180 row per probe (and per trace), the JSON probe keys as columns. */
#include "output.h"
#include "record.h"
#include "trace.h"

#include <string.h>
#include <sys/socket.h>

/* The columns are the probe record's fields (record.h), nested keys
 * flattened: icmp.type is icmp_type. With --trace or --trace-on-fail, six
 * trace_* columns end every row (one table, RFC 4180): empty in a probe's
 * row; a trace's row has target, addr, port and sport and them, every
 * other column empty. */

/* The trace columns, null in a probe's row. */
static void trace_nulls(const struct output *o, struct record *rec)
{
	static const char *const keys[] = { "trace.verdict", "trace.text", "trace.last_hop_ttl",
					     "trace.last_hop", "trace.hops", "trace.path" };
	if (!o->traces)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		record_null(rec, keys[i]);
}

/* The probe columns of a report with no answer (a trace's row, the header). */
static void blank_probe(const struct output *o, const char *target, const struct addr *addr,
			uint16_t port, uint16_t sport, struct record *rec)
{
	static const struct probe_result none;
	struct probe_report r = { .target = target, .addr = addr, .port = port, .sport = sport,
				  .res = &none, .mode = PMODE_SYN, .kind = o->kind,
				  .was = OUTCOME_NONE };
	record_probe(&r, rec);
}

static void csv_begin(struct output *o)
{
	struct addr a = { .family = AF_INET };
	struct record rec;
	blank_probe(o, "", &a, 0, 0, &rec);
	trace_nulls(o, &rec);
	record_csv_header(o->f, &rec);
}

static void csv_probe(struct output *o, const struct probe_report *r)
{
	struct record rec;
	record_probe(r, &rec);
	trace_nulls(o, &rec);
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

/* The hops' addresses (or *), spaces between. */
static const char *trace_path(const struct trace *t, char *buf, size_t len)
{
	char a[64];
	size_t n = 0;
	buf[0] = '\0';
	for (int ttl = 1; ttl <= t->shown && n < len; ttl++) {
		const struct trace_hop *h = &t->hop[ttl - 1];
		int k = snprintf(buf + n, len - n, "%s%s", ttl > 1 ? " " : "",
				 h->have_addr ? addr_str(&h->addr, a, sizeof(a)) : "*");
		if (k < 0)
			break;
		n += (size_t)k;
	}
	return buf;
}

/* A trace: a row of the one table (see above); only the probe columns that
 * name the target:port are filled. */
static void csv_trace(struct output *o, const struct trace_report *r)
{
	char text[200], last[64], path[TRACE_MAX_HOPS * 48];
	const struct trace *t = r->t;
	struct record rec;
	blank_probe(o, r->target, r->addr, r->port, t->sport, &rec);
	for (int i = 0; i < rec.n; i++) {
		const char *k = rec.f[i].key;
		if (strcmp(k, "target") && strcmp(k, "addr") && strcmp(k, "port") && strcmp(k, "sport"))
			rec.f[i].t = FV_NULL;
	}
	record_str(&rec, "trace.verdict", trace_verdict_name(t->verdict));
	record_str(&rec, "trace.text", trace_verdict_text(t, text, sizeof(text)));
	record_uint_or_null(&rec, "trace.last_hop_ttl", t->last_ttl > 0, (uint64_t)t->last_ttl);
	record_str(&rec, "trace.last_hop",
		   t->last_ttl ? addr_str(&t->hop[t->last_ttl - 1].addr, last, sizeof(last)) : NULL);
	record_uint(&rec, "trace.hops", (uint64_t)t->shown);
	record_str(&rec, "trace.path", trace_path(t, path, sizeof(path)));
	record_csv_row(o->f, &rec);
}

const struct output_ops output_csv_ops = {
	.begin = csv_begin,
	.probe = csv_probe,
	.summary = csv_summary,
	.run = csv_run,
	.only_filters = true,
	.trace = csv_trace,
};
