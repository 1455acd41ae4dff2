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
