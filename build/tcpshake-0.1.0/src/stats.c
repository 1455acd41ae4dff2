/* stats.c - Welford's running mean and variance. */
#include "stats.h"

#include <math.h>

void stats_add(struct rtt_stats *s, double us)
{
	if (s->n == 0 || us < s->min)
		s->min = us;
	if (s->n == 0 || us > s->max)
		s->max = us;
	s->n++;
	double d = us - s->mean;
	s->mean += d / (double)s->n;
	s->m2 += d * (us - s->mean);
}

double stats_mdev(const struct rtt_stats *s)
{
	if (s->n < 2)
		return 0.0;
	return sqrt(s->m2 / (double)s->n);
}

void rto_sample(struct rto *r, int64_t rtt_ns)
{
	double x = (double)rtt_ns;
	if (!r->have) {
		r->srtt = x;
		r->rttvar = x / 2;
		r->have = true;
		return;
	}
	r->rttvar = 0.75 * r->rttvar + 0.25 * fabs(r->srtt - x);
	r->srtt = 0.875 * r->srtt + 0.125 * x;
}

int64_t rto_value(const struct rto *r, int64_t floor_ns, int64_t ceil_ns)
{
	if (!r->have)
		return ceil_ns;
	int64_t v = (int64_t)(r->srtt + 4 * r->rttvar);
	return v < floor_ns ? floor_ns : v > ceil_ns ? ceil_ns : v;
}
