/* RTT statistics as ping prints them. */
#include <criterion/criterion.h>
#include <math.h>

#include "output.h"
#include "stats.h"

Test(stats, min_avg_max_mdev)
{
	struct rtt_stats s = { 0 };
	double v[] = { 1, 2, 3, 4 };
	for (int i = 0; i < 4; i++)
		stats_add(&s, v[i]);
	cr_assert_eq(s.n, 4);
	cr_assert_float_eq(s.min, 1, 1e-12);
	cr_assert_float_eq(s.max, 4, 1e-12);
	cr_assert_float_eq(s.mean, 2.5, 1e-12);
	cr_assert_float_eq(stats_mdev(&s), sqrt(1.25), 1e-12);
}

Test(stats, single_sample_has_no_deviation)
{
	struct rtt_stats s = { 0 };
	stats_add(&s, 117.5);
	cr_assert_float_eq(s.min, 117.5, 1e-12);
	cr_assert_float_eq(s.max, 117.5, 1e-12);
	cr_assert_float_eq(stats_mdev(&s), 0, 1e-12);
}

Test(stats, stable_for_large_offsets)
{
	struct rtt_stats s = { 0 };
	for (int i = 0; i < 1000; i++)
		stats_add(&s, 1e9 + (i % 2));
	cr_assert_float_eq(stats_mdev(&s), 0.5, 1e-6);
}

Test(stats, loss_and_flag_counts)
{
	struct flow_summary f = { 0 };
	cr_assert_float_eq(loss_pct(&f), 0, 1e-12);
	f.sent = 10;
	f.open = 5;
	f.closed = 1;
	f.filtered = 3;
	f.unreachable = 1;
	cr_assert_float_eq(loss_pct(&f), 40, 1e-12);
	flag_count_add(f.flags, 0x12);
	flag_count_add(f.flags, 0x14);
	flag_count_add(f.flags, 0x12);
	cr_assert_eq(f.flags[0].flags, 0x12);
	cr_assert_eq(f.flags[0].n, 2);
	cr_assert_eq(f.flags[1].n, 1);
	cr_assert_eq(f.flags[2].n, 0);
	for (int i = 0; i < 20; i++)
		flag_count_add(f.flags, (uint8_t)i); /* more kinds than slots: no overflow */
	cr_assert_eq(f.flags[FLAG_KINDS - 1].n, 1);
}
