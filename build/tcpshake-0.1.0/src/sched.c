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

static void swap(struct event *a, struct event *b)
{
	struct event t = *a;
	*a = *b;
	*b = t;
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
	size_t i = s->n++;
	s->v[i] = e;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!before(&s->v[i], &s->v[up]))
			break;
		swap(&s->v[i], &s->v[up]);
		i = up;
	}
	return 0;
}

const struct event *sched_peek(const struct sched *s)
{
	return s->n ? &s->v[0] : NULL;
}

int sched_pop(struct sched *s, struct event *e)
{
	if (s->n == 0)
		return -1;
	*e = s->v[0];
	s->v[0] = s->v[--s->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n && before(&s->v[l], &s->v[m]))
			m = l;
		if (r < s->n && before(&s->v[r], &s->v[m]))
			m = r;
		if (m == i)
			break;
		swap(&s->v[i], &s->v[m]);
		i = m;
	}
	return 0;
}

void sched_free(struct sched *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
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
