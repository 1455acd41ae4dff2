/* output_json.c - JSON lines: one object per probe, per target:port, per run. */
#include "output.h"

/* A JSON string, every control byte and quote escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_head(FILE *f, const char *type, const char *target, const struct addr *a,
		      uint16_t port)
{
	char s[64];
	fprintf(f, "{\"type\":\"%s\",\"target\":", type);
	json_str(f, target);
	fprintf(f, ",\"addr\":\"%s\",\"port\":%u", addr_str(a, s, sizeof(s)), port);
}

static void json_probe(struct output *o, const struct probe_report *r)
{
	const struct probe_result *res = r->res;
	char fl[9], name[32], from[64];
	FILE *f = o->f;
	if (o->quiet)
		return;
	json_head(f, "probe", r->target, r->addr, r->port);
	fprintf(f, ",\"seq\":%u,\"sport\":%u,\"outcome\":\"%s\"", r->seq, r->sport,
		outcome_name(res->outcome));
	bool tcp = res->outcome == OUTCOME_OPEN || res->outcome == OUTCOME_CLOSED;
	if (tcp)
		fprintf(f, ",\"flags\":\"%s\"", tcp_flags_str(res->flags, fl));
	else
		fputs(",\"flags\":null", f);
	if (res->rtt_source != RTT_NONE)
		fprintf(f, ",\"rtt_us\":%.3f,\"rtt_source\":\"%s\"", (double)res->rtt_ns / 1e3,
			res->rtt_source == RTT_WIRE ? "wire" : "clock");
	else
		fputs(",\"rtt_us\":null,\"rtt_source\":null", f);
	if (res->outcome == OUTCOME_FILTERED)
		fputs(",\"ttl\":null", f);
	else
		fprintf(f, ",\"ttl\":%u", res->ttl);
	if (tcp) {
		fprintf(f, ",\"win\":%u", res->win);
		if (res->mss)
			fprintf(f, ",\"mss\":%u", res->mss);
		else
			fputs(",\"mss\":null", f);
	} else {
		fputs(",\"win\":null,\"mss\":null", f);
	}
	if (res->outcome == OUTCOME_UNREACHABLE)
		fprintf(f, ",\"icmp\":{\"type\":%u,\"code\":%u,\"name\":\"%s\",\"from\":\"%s\"}",
			res->icmp_type, res->icmp_code,
			icmp_name(r->addr->family, res->icmp_type, res->icmp_code, name,
				  sizeof(name)),
			addr_str(&res->icmp_from, from, sizeof(from)));
	else
		fputs(",\"icmp\":null", f);
	fprintf(f, ",\"time\":%lld.%06lld}\n", (long long)(r->time_ns / NS_PER_SEC),
		(long long)(r->time_ns % NS_PER_SEC / 1000));
}

static void json_summary(struct output *o, const struct flow_summary *s)
{
	char fl[9];
	FILE *f = o->f;
	json_head(f, "summary", s->target, s->addr, s->port);
	fprintf(f, ",\"sent\":%llu,\"open\":%llu,\"closed\":%llu,\"filtered\":%llu,"
		   "\"unreachable\":%llu,\"loss_pct\":%.1f",
		(unsigned long long)s->sent, (unsigned long long)s->open,
		(unsigned long long)s->closed, (unsigned long long)s->filtered,
		(unsigned long long)s->unreachable, loss_pct(s));
	if (s->rtt.n)
		fprintf(f, ",\"rtt_us\":{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f,\"mdev\":%.3f}",
			s->rtt.min, s->rtt.mean, s->rtt.max, stats_mdev(&s->rtt));
	else
		fputs(",\"rtt_us\":null", f);
	fputs(",\"flags\":{", f);
	for (int i = 0; i < FLAG_KINDS && s->flags[i].n; i++)
		fprintf(f, "%s\"%s\":%u", i ? "," : "", tcp_flags_str(s->flags[i].flags, fl),
			s->flags[i].n);
	fputs("}}\n", f);
}

static void json_run(struct output *o, const struct run_summary *r)
{
	fprintf(o->f, "{\"type\":\"run\",\"sent\":%llu,\"received\":%llu,\"elapsed_s\":%.6f,"
		      "\"pcap_drops\":%llu}\n",
		(unsigned long long)r->sent, (unsigned long long)r->received,
		(double)r->elapsed_ns / 1e9, (unsigned long long)r->pcap_drops);
}

const struct output_ops output_json_ops = { json_probe, json_summary, json_run };
