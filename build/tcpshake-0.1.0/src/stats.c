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
