/* The deadline queue: earliest first, timeouts before sends at a tie. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sched.h"

Test(sched, ordered_by_deadline_then_kind)
{
	struct sched s = { 0 };
	struct event e;
	sched_push(&s, (struct event){ 30, EV_SEND, 1 });
	sched_push(&s, (struct event){ 10, EV_SEND, 2 });
	sched_push(&s, (struct event){ 10, EV_TIMEOUT, 3 });
	sched_push(&s, (struct event){ 20, EV_TIMEOUT, 4 });
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
		cr_assert_eq(sched_push(&s, (struct event){ rand() % 1000, EV_SEND, (uint32_t)i }), 0);
	int64_t last = -1;
	for (int i = 0; i < 10000; i++) {
		sched_pop(&s, &e);
		cr_assert_geq(e.when_ns, last);
		last = e.when_ns;
	}
	sched_free(&s);
}

/* The heap is valid: every parent no later than its children, and the
 * keyed index points at each id's one timeout. */
static void assert_heap(const struct sched *s)
{
	for (size_t i = 1; i < s->n; i++)
		cr_assert_leq(s->v[(i - 1) / 2].when_ns, s->v[i].when_ns);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == EV_TIMEOUT)
			cr_assert_eq(s->at[s->v[i].id], i + 1);
}

Test(sched, keyed_timer_rearmed_in_place_and_cancelled)
{
	struct sched s = { 0 };
	struct event e;
	cr_assert_eq(sched_keyed_init(&s, 8), 0);
	sched_push(&s, (struct event){ 50, EV_SEND, 1 });
	sched_arm(&s, 3, 100);
	sched_arm(&s, 5, 40);
	cr_assert_eq(s.n, 3);
	sched_arm(&s, 3, 10); /* earlier: moves up */
	cr_assert_eq(s.n, 3, "re-arming adds nothing");
	cr_assert_eq(sched_peek(&s)->id, 3);
	cr_assert_eq(sched_peek(&s)->when_ns, 10);
	sched_arm(&s, 3, 200); /* later: moves down */
	assert_heap(&s);
	sched_cancel(&s, 5);
	sched_cancel(&s, 5); /* twice is harmless */
	sched_cancel(&s, 7); /* never armed */
	cr_assert_eq(s.n, 2);
	uint32_t want[] = { 1, 3 };
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(sched_pop(&s, &e), 0);
		cr_assert_eq(e.id, want[i]);
	}
	cr_assert_eq(s.at[3], 0, "popped: no longer queued");
	sched_arm(&s, 3, 5);
	cr_assert_eq(s.n, 1);
	sched_free(&s);
}

/* Many probes armed, re-armed and finished at random: the queue holds one
 * entry per live timer, never the history, and pops in order. */
Test(sched, keyed_timers_bounded_by_what_is_live)
{
	enum { IDS = 512 };
	struct sched s = { 0 };
	struct event e;
	bool live[IDS] = { false };
	size_t nlive = 0;
	cr_assert_eq(sched_keyed_init(&s, IDS), 0);
	srand(11);
	for (int i = 0; i < 200000; i++) {
		uint32_t id = (uint32_t)(rand() % IDS);
		if (rand() % 3 == 0) {
			sched_cancel(&s, id);
			nlive -= live[id];
			live[id] = false;
		} else {
			sched_arm(&s, id, rand() % 100000);
			nlive += !live[id];
			live[id] = true;
		}
		cr_assert_eq(s.n, nlive);
	}
	assert_heap(&s);
	int64_t last = -1;
	while (sched_pop(&s, &e) == 0) {
		cr_assert_geq(e.when_ns, last);
		last = e.when_ns;
	}
	sched_free(&s);
}
