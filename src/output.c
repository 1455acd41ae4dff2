/* output.c - helpers the formats share. */
#include "output.h"

#include <sys/socket.h>

double loss_pct(const struct flow_summary *s)
{
	if (s->sent == 0)
		return 0.0;
	return 100.0 * (double)(s->filtered + s->unreachable) / (double)s->sent;
}

void flag_count_add(struct flag_count fc[FLAG_KINDS], uint8_t flags)
{
	for (int i = 0; i < FLAG_KINDS; i++) {
		if (fc[i].n && fc[i].flags == flags) {
			fc[i].n++;
			return;
		}
		if (fc[i].n == 0) {
			fc[i].flags = flags;
			fc[i].n = 1;
			return;
		}
	}
}

void status_count_add(struct status_count sc[HTTP_KINDS], int status)
{
	for (int i = 0; i < HTTP_KINDS; i++) {
		if (sc[i].n && sc[i].status == status) {
			sc[i].n++;
			return;
		}
		if (sc[i].n == 0) {
			sc[i].status = status;
			sc[i].n = 1;
			return;
		}
	}
}

void summary_add(struct flow_summary *s, const struct probe_result *res)
{
	s->sent++;
	switch (res->outcome) {
	case OUTCOME_OPEN:
		s->open++;
		break;
	case OUTCOME_CLOSED:
		s->closed++;
		break;
	case OUTCOME_FILTERED:
		s->filtered++;
		break;
	case OUTCOME_UNREACHABLE:
		s->unreachable++;
		break;
	default:
		break;
	}
	if (res->outcome == OUTCOME_OPEN || res->outcome == OUTCOME_CLOSED)
		flag_count_add(s->flags, res->flags);
	if (res->rtt_source != RTT_NONE)
		stats_add(&s->rtt, (double)res->rtt_ns / 1e3);
	if (res->established) {
		s->established++;
		if (res->close < CLOSE_KINDS)
			s->closes[res->close]++;
	}
	if (s->http && res->established) {
		status_count_add(s->status, res->http.status);
		if (res->http.ttfb_ns >= 0)
			stats_add(&s->ttfb, (double)res->http.ttfb_ns / 1e3);
	}
}

const char *endpoint_str(const struct addr *a, uint16_t port, char *buf, size_t len)
{
	char s[64];
	addr_str(a, s, sizeof(s));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", s, port);
	else
		snprintf(buf, len, "%s:%u", s, port);
	return buf;
}
