/* sched.c - binary min-heap ordered by (deadline, kind, id). */
#include "sched.h"

#include <stdlib.h>

static int before(const struct event *a, const struct event *b)
{
	if (a->when_ns != b->when_ns)
		return a->when_ns < b->when_ns;
	if (a->kind != b->kind)
		return a->kind < b->kind;
	return a->id < b->id; /* ties in a stable order: flows as given */
}

/* Put e at index i, keeping the keyed index in step. */
static void place(struct sched *s, size_t i, struct event e)
{
	s->v[i] = e;
	if (s->at && e.kind == EV_TIMEOUT && e.id < s->nids)
		s->at[e.id] = (uint32_t)(i + 1);
}

static void swap(struct sched *s, size_t i, size_t j)
{
	struct event t = s->v[i];
	place(s, i, s->v[j]);
	place(s, j, t);
}

static void sift_up(struct sched *s, size_t i)
{
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!before(&s->v[i], &s->v[up]))
			break;
		swap(s, i, up);
		i = up;
	}
}

static void sift_down(struct sched *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n && before(&s->v[l], &s->v[m]))
			m = l;
		if (r < s->n && before(&s->v[r], &s->v[m]))
			m = r;
		if (m == i)
			break;
		swap(s, i, m);
		i = m;
	}
}

/* The entry at i has a new deadline: move it to where it belongs. */
static void resift(struct sched *s, size_t i)
{
	sift_down(s, i);
	sift_up(s, i);
}

int sched_push(struct sched *s, struct event e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct event *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	place(s, s->n++, e);
	sift_up(s, s->n - 1);
	return 0;
}

const struct event *sched_peek(const struct sched *s)
{
	return s->n ? &s->v[0] : NULL;
}

/* Take out the entry at index i. */
static void remove_at(struct sched *s, size_t i)
{
	const struct event *e = &s->v[i];
	if (s->at && e->kind == EV_TIMEOUT && e->id < s->nids)
		s->at[e->id] = 0;
	if (i == --s->n)
		return;
	place(s, i, s->v[s->n]);
	resift(s, i);
}

int sched_pop(struct sched *s, struct event *e)
{
	if (s->n == 0)
		return -1;
	*e = s->v[0];
	remove_at(s, 0);
	return 0;
}

int sched_keyed_init(struct sched *s, size_t nids)
{
	s->at = calloc(nids, sizeof(*s->at));
	s->nids = s->at ? nids : 0;
	return s->at ? 0 : -1;
}

int sched_arm(struct sched *s, uint32_t id, int64_t when_ns)
{
	struct event e = { when_ns, EV_TIMEOUT, id };
	if (!s->at || id >= s->nids || s->at[id] == 0)
		return sched_push(s, e);
	size_t i = s->at[id] - 1;
	place(s, i, e);
	resift(s, i);
	return 0;
}

void sched_cancel(struct sched *s, uint32_t id)
{
	if (s->at && id < s->nids && s->at[id])
		remove_at(s, s->at[id] - 1);
}

void sched_free(struct sched *s)
{
	free(s->v);
	free(s->at);
	s->v = NULL;
	s->at = NULL;
	s->n = s->cap = s->nids = 0;
}

bool pacer_ready(const struct pacer *p, int64_t now, int64_t *when)
{
	*when = p->next_ns;
	return p->gap_ns == 0 || now >= p->next_ns;
}

void pacer_take(struct pacer *p, int64_t now)
{
	if (p->next_ns == 0)
		p->next_ns = now; /* the first send starts the schedule */
	if (now - p->next_ns > PACER_LAG_NS)
		p->next_ns = now - PACER_LAG_NS; /* missed slots older than that are lost */
	p->next_ns += p->gap_ns;
}

void pacer_adapt(struct pacer *p, bool dropped)
{
	const int64_t fastest = INT64_C(1000000000) / PACER_MAX_PPS;
	const int64_t slowest = INT64_C(1000000000) / PACER_MIN_PPS;
	int64_t g = p->gap_ns;
	g = dropped ? g * 2 : g - g / 16;
	p->gap_ns = g < fastest ? fastest : g > slowest ? slowest : g;
}
