/* The deadline queue: earliest first, timeouts before sends at a tie. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "sched.h"

Test(sched, ordered_by_deadline_then_kind)
{
	struct sched s = { 0 };
	struct event e;
	sched_push(&s, (struct event){ 30, EV_SEND, 1, 0 });
	sched_push(&s, (struct event){ 10, EV_SEND, 2, 0 });
	sched_push(&s, (struct event){ 10, EV_TIMEOUT, 3, 0 });
	sched_push(&s, (struct event){ 20, EV_TIMEOUT, 4, 0 });
	cr_assert_eq(sched_peek(&s)->id, 3);
	uint32_t want[] = { 3, 2, 4, 1 };
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(sched_pop(&s, &e), 0);
		cr_assert_eq(e.id, want[i]);
	}
	cr_assert_eq(sched_pop(&s, &e), -1);
	cr_assert_null(sched_peek(&s));
	sched_free(&s);
}

Test(sched, many_random_events_come_out_sorted)
{
	struct sched s = { 0 };
	struct event e;
	srand(7);
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(sched_push(&s, (struct event){ rand() % 1000, EV_SEND, (uint32_t)i, 0 }), 0);
	int64_t last = -1;
	for (int i = 0; i < 10000; i++) {
		sched_pop(&s, &e);
		cr_assert_geq(e.when_ns, last);
		last = e.when_ns;
	}
	sched_free(&s);
}
