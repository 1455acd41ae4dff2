/* The pacer of --rate and the adaptive timeout. */
#include <criterion/criterion.h>

#include "sched.h"
#include "stats.h"

Test(pacer, evenly_spaced_and_bounded_catch_up)
{
	struct pacer p = { 1000, 0 };
	int64_t when;
	cr_assert(pacer_ready(&p, 0, &when));
	pacer_take(&p, 0);
	struct pacer late = { 1000, 0 };
	pacer_take(&late, 7000000); /* a first send late in the clock: no catch-up */
	cr_assert_not(pacer_ready(&late, 7000000, &when));
	cr_assert_eq(when, 7001000);
	cr_assert_not(pacer_ready(&p, 999, &when));
	cr_assert_eq(when, 1000);
	cr_assert(pacer_ready(&p, 1000, &when));
	pacer_take(&p, 1000);
	/* a loop 3.5 gaps late sends the slots it missed, then waits again */
	int n = 0;
	while (pacer_ready(&p, 5500, &when)) {
		pacer_take(&p, 5500);
		n++;
	}
	cr_assert_eq(n, 4);
	cr_assert_eq(when, 6000);
	/* idle for a second: at most PACER_LAG_NS' worth at once, not a second's */
	n = 0;
	while (pacer_ready(&p, 1000000000, &when)) {
		pacer_take(&p, 1000000000);
		n++;
	}
	cr_assert_eq(n, PACER_LAG_NS / 1000 + 1);
	struct pacer none = { 0, 0 };
	for (int i = 0; i < 5; i++) {
		cr_assert(pacer_ready(&none, 0, &when));
		pacer_take(&none, 0);
	}
}

Test(pacer, rate_over_a_second)
{
	struct pacer p = { 1000000000 / 20000, 0 }; /* 20000/s */
	int64_t now = 0, when;
	int sent = 0;
	while (now < 1000000000) {
		if (pacer_ready(&p, now, &when)) {
			pacer_take(&p, now);
			sent++;
		} else {
			now = when;
		}
	}
	cr_assert_eq(sent, 20000);
}

Test(rto, rfc6298_and_bounds)
{
	struct rto r = { 0 };
	cr_assert_eq(rto_value(&r, 10, 1000), 1000, "no sample yet: the timeout");
	rto_sample(&r, 100);
	cr_assert_eq(rto_value(&r, 10, 1000), 100 + 4 * 50);
	for (int i = 0; i < 50; i++)
		rto_sample(&r, 100);
	cr_assert_lt(rto_value(&r, 10, 1000), 110);
	cr_assert_eq(rto_value(&r, 150, 1000), 150, "floor");
	rto_sample(&r, 100000);
	cr_assert_eq(rto_value(&r, 10, 1000), 1000, "ceiling");
}
