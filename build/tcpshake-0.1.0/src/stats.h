/* stats.h - RTT statistics (min/avg/max/mdev, as ping prints them),
 * accumulated in one pass with Welford's method. */
#ifndef TCPSHAKE_STATS_H
#define TCPSHAKE_STATS_H

#include <stdbool.h>
#include <stdint.h>

struct rtt_stats {
	uint64_t n;
	double min, max, mean, m2; /* microseconds */
};

void stats_add(struct rtt_stats *s, double us);
/* Population standard deviation (ping's mdev); 0 for fewer than 2 samples. */
double stats_mdev(const struct rtt_stats *s);

/* The adaptive timeout of RFC 6298 over a run's round-trip times:
 * srtt + 4 rttvar, bounded below and above. */
struct rto {
	bool have;
	double srtt, rttvar; /* ns */
};

void rto_sample(struct rto *r, int64_t rtt_ns);
int64_t rto_value(const struct rto *r, int64_t floor_ns, int64_t ceil_ns);

#endif
