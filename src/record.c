/* record.c - a finished probe as one list of named fields (record.h). */
#include "record.h"

#include <string.h>

#include "output.h"

static struct field *add(struct record *rec, const char *key, enum fv_type t)
{
	if (rec->n >= RECORD_MAX)
		return NULL;
	struct field *f = &rec->f[rec->n++];
	f->key = key;
	f->t = t;
	f->detail = false;
	return f;
}

void record_int(struct record *rec, const char *key, int64_t i)
{
	struct field *f = add(rec, key, FV_INT);
	if (f)
		f->v.i = i;
}

void record_detail(struct record *rec)
{
	if (rec->n > rec->nbase)
		rec->f[rec->n - 1].detail = true;
}

void record_null(struct record *rec, const char *key)
{
	add(rec, key, FV_NULL);
}

void record_str(struct record *rec, const char *key, const char *s)
{
	struct field *f = add(rec, key, s ? FV_STR : FV_NULL);
	if (f)
		f->v.s = s;
}

void record_uint(struct record *rec, const char *key, uint64_t u)
{
	struct field *f = add(rec, key, FV_UINT);
	if (f)
		f->v.u = u;
}

void record_fixed3(struct record *rec, const char *key, double d)
{
	struct field *f = add(rec, key, FV_FIXED3);
	if (f)
		f->v.d = d;
}

void record_bool(struct record *rec, const char *key, bool b)
{
	struct field *f = add(rec, key, FV_BOOL);
	if (f)
		f->v.b = b;
}

static void record_time(struct record *rec, const char *key, int64_t ns)
{
	struct field *f = add(rec, key, FV_TIME);
	if (f)
		f->v.ns = ns;
}

void record_uint_or_null(struct record *rec, const char *key, bool have, uint64_t u)
{
	if (have)
		record_uint(rec, key, u);
	else
		record_null(rec, key);
}

void record_int_or_null(struct record *rec, const char *key, bool have, int64_t i)
{
	if (have)
		record_int(rec, key, i);
	else
		record_null(rec, key);
}

void record_fixed3_or_null(struct record *rec, const char *key, bool have, double d)
{
	if (have)
		record_fixed3(rec, key, d);
	else
		record_null(rec, key);
}

void record_bool_or_null(struct record *rec, const char *key, bool have, bool b)
{
	if (have)
		record_bool(rec, key, b);
	else
		record_null(rec, key);
}

/* middlebox.*: the verdict, its evidence in words, the handshake-then-reset
 * pattern and the SYN/ACK's timestamp lag; all null when not judged. */
static void record_middlebox(struct record *rec, const struct probe_result *res)
{
	struct mb_judgement j;
	probe_middlebox(res, &j);
	bool judged = j.v != MB_NA;
	snprintf(rec->mb_why, sizeof(rec->mb_why), "%s", j.why);
	record_str(rec, "middlebox.verdict", mb_name(j.v));
	record_str(rec, "middlebox.evidence", judged ? rec->mb_why : NULL);
	record_bool_or_null(rec, "middlebox.reset", judged, res->mb.reset);
	record_int_or_null(rec, "middlebox.ts_lag_ms", judged && j.have_lag, j.lag_ms);
}

void record_probe(const struct probe_report *r, struct record *rec)
{
	const struct probe_result *res = r->res;
	memset(rec, 0, sizeof(*rec));
	rec->res = res;
	bool tcp = res->flags && !res->icmp; /* a TCP answer */
	bool icmp = res->icmp || res->no_neighbour;
	bool rtt = res->rtt_source != RTT_NONE;
	record_str(rec, "target", r->target);
	record_str(rec, "addr", addr_str(r->addr, rec->addr, sizeof(rec->addr)));
	record_uint(rec, "port", r->port);
	record_uint(rec, "seq", r->seq);
	record_uint(rec, "sport", r->sport);
	record_str(rec, "outcome", outcome_name(res->outcome));
	record_str(rec, "flags", tcp ? tcp_flags_str(res->flags, rec->flags) : NULL);
	record_fixed3_or_null(rec, "rtt_us", rtt, (double)res->rtt_ns / 1e3);
	record_str(rec, "rtt_source", !rtt ? NULL : res->rtt_source == RTT_WIRE ? "wire" : "clock");
	record_uint_or_null(rec, "ttl", tcp || icmp, res->ttl);
	record_uint_or_null(rec, "win", tcp, res->win);
	record_uint_or_null(rec, "mss", tcp && res->mss, res->mss);
	record_uint_or_null(rec, "icmp.type", icmp, res->icmp_type);
	record_uint_or_null(rec, "icmp.code", icmp, res->icmp_code);
	record_str(rec, "icmp.name", icmp ? icmp_name(r->addr->family, res->icmp_type,
						     res->icmp_code, rec->icmp_name,
						     sizeof(rec->icmp_name))
					 : NULL);
	record_str(rec, "icmp.from",
		   icmp ? addr_str(&res->icmp_from, rec->icmp_from, sizeof(rec->icmp_from)) : NULL);
	record_time(rec, "time", r->time_ns);
	record_str(rec, "mode", output_mode_name(r));
	record_bool(rec, "established", res->established);
	record_str(rec, "close", close_name(res->close));
	record_fixed3_or_null(rec, "close_us", res->close != CLOSE_NONE && res->close_ns >= 0,
		       (double)res->close_ns / 1e3);
	add(rec, "segments", FV_SEGMENTS);
	bool http = r->http && res->established;
	record_uint_or_null(rec, "http.status", http, (uint64_t)res->http.status);
	record_fixed3_or_null(rec, "http.ttfb_us", http && res->http.ttfb_ns >= 0,
		       (double)res->http.ttfb_ns / 1e3);
	record_uint_or_null(rec, "http.bytes", http, res->http.bytes);
	record_uint(rec, "syns", res->syns);
	record_middlebox(rec, res);
	rec->nbase = rec->n;
	if (r->kind && r->kind->fields)
		r->kind->fields(res, rec);
}

/* ---- JSON --------------------------------------------------------------- */

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	while (*s) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			s++;
		} else {
			s = put_utf8(f, s); /* valid UTF-8 */
		}
	}
	fputc('"', f);
}

static void json_value(FILE *f, const struct record *rec, const struct field *x)
{
	char fl[9];
	switch (x->t) {
	case FV_NULL:
		fputs("null", f);
		break;
	case FV_STR:
		json_str(f, x->v.s);
		break;
	case FV_UINT:
		fprintf(f, "%llu", (unsigned long long)x->v.u);
		break;
	case FV_INT:
		fprintf(f, "%lld", (long long)x->v.i);
		break;
	case FV_FIXED3:
		fprintf(f, "%.3f", x->v.d);
		break;
	case FV_BOOL:
		fputs(x->v.b ? "true" : "false", f);
		break;
	case FV_TIME:
		fprintf(f, "%lld.%06lld", (long long)(x->v.ns / NS_PER_SEC),
			(long long)(x->v.ns % NS_PER_SEC / 1000));
		break;
	case FV_SEGMENTS:
		fputc('[', f);
		for (int i = 0; i < rec->res->nlog; i++)
			fprintf(f, "%s\"%c%s\"", i ? "," : "", rec->res->log[i].dir,
				tcp_flags_str(rec->res->log[i].flags, fl));
		fputc(']', f);
		break;
	}
}

/* How many fields from i share key's group ("icmp." ...); 0 when none. */
static int group_len(const struct record *rec, int i, size_t *plen)
{
	const char *dot = strchr(rec->f[i].key, '.');
	if (!dot)
		return 0;
	*plen = (size_t)(dot - rec->f[i].key) + 1;
	int k = i;
	while (k < rec->n && strncmp(rec->f[k].key, rec->f[i].key, *plen) == 0)
		k++;
	return k - i;
}

void record_json(FILE *f, const struct record *rec)
{
	for (int i = 0; i < rec->n;) {
		size_t plen = 0;
		int g = group_len(rec, i, &plen);
		if (g == 0) {
			fprintf(f, ",\"%s\":", rec->f[i].key);
			json_value(f, rec, &rec->f[i]);
			i++;
			continue;
		}
		bool all_null = true;
		for (int k = i; k < i + g; k++)
			all_null &= rec->f[k].t == FV_NULL;
		fprintf(f, ",\"%.*s\":", (int)(plen - 1), rec->f[i].key);
		if (all_null) {
			fputs("null", f);
		} else {
			for (int k = i; k < i + g; k++) {
				fprintf(f, "%s\"%s\":", k == i ? "{" : ",", rec->f[k].key + plen);
				json_value(f, rec, &rec->f[k]);
			}
			fputc('}', f);
		}
		i += g;
	}
}

/* ---- CSV ---------------------------------------------------------------- */

void csv_str(FILE *f, const char *s)
{
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

void record_csv_header(FILE *f, const struct record *rec)
{
	for (int i = 0; i < rec->n; i++) {
		if (i)
			fputc(',', f);
		for (const char *c = rec->f[i].key; *c; c++)
			fputc(*c == '.' ? '_' : *c, f);
	}
	fputs("\r\n", f);
}

void record_csv_row(FILE *f, const struct record *rec)
{
	char fl[9];
	for (int i = 0; i < rec->n; i++) {
		const struct field *x = &rec->f[i];
		if (i)
			fputc(',', f);
		switch (x->t) {
		case FV_NULL:
			break;
		case FV_STR:
			csv_str(f, x->v.s);
			break;
		case FV_BOOL:
			fputs(x->v.b ? "true" : "false", f);
			break;
		case FV_SEGMENTS:
			for (int k = 0; k < rec->res->nlog; k++)
				fprintf(f, "%s%c%s", k ? " " : "", rec->res->log[k].dir,
					tcp_flags_str(rec->res->log[k].flags, fl));
			break;
		default:
			json_value(f, rec, x); /* numbers print the same */
			break;
		}
	}
	fputs("\r\n", f);
}

void record_keep_extra(const struct record *rec, struct flow_summary *s)
{
	s->nextra = 0;
	for (int i = rec->nbase; i < rec->n && s->nextra < SUMMARY_EXTRA; i++) {
		const struct field *x = &rec->f[i];
		if (x->t != FV_UINT && x->t != FV_FIXED3 && x->t != FV_INT)
			continue;
		s->extra[s->nextra].key = x->key;
		s->extra[s->nextra++].v = x->t == FV_UINT ? (double)x->v.u
				       : x->t == FV_INT ? (double)x->v.i : x->v.d;
	}
}

/* ---- text --------------------------------------------------------------- */

void record_text_extra(FILE *f, const struct record *rec)
{
	for (int i = rec->nbase; i < rec->n; i++) {
		if (rec->f[i].t == FV_NULL || rec->f[i].detail)
			continue;
		fprintf(f, " %s=", rec->f[i].key);
		if (rec->f[i].t == FV_STR)
			fputs(rec->f[i].v.s, f);
		else
			json_value(f, rec, &rec->f[i]);
	}
}
