/* output_csv.c - one RFC 4180 row per probe, the JSON probe keys as columns. */
#include "output.h"
#include "record.h"

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

const struct output_ops output_csv_ops = { csv_begin, csv_probe, csv_summary, csv_run,
					   NULL, true };
