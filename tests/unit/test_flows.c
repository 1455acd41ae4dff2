/* The flow scheduler, pure: order, shards, excludes, retries, counts. */
#include <criterion/criterion.h>
#include <string.h>

#include "flows.h"

struct bed {
	struct config cfg;
	struct plan pl;
	struct flows fs;
};

/* A plan from a command line, as the engine makes it (without sockets). */
static void make(struct bed *b, int argc, char **argv, int retries, uint64_t count)
{
	char err[256];
	memset(b, 0, sizeof(*b));
	cr_assert_eq(options_parse(argc, argv, &b->cfg), PARSE_OK, "%s", b->cfg.error);
	struct plan *pl = &b->pl;
	pl->cfg = &b->cfg;
	tset_init(&pl->targets, AF_UNSPEC, true, 1u << 20);
	for (int i = 0; i < b->cfg.ntargets; i++)
		cr_assert_eq(tset_add(&pl->targets, b->cfg.targets[i], err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < b->cfg.excludes.n; i++)
		cr_assert_eq(tset_exclude_list(&pl->targets, b->cfg.excludes.v[i], err, sizeof(err)),
			     0, "%s", err);
	cr_assert_eq(tset_finish(&pl->targets, err, sizeof(err)), 0, "%s", err);
	pl->routes = calloc(pl->targets.n, sizeof(*pl->routes));
	pl->space = pl->targets.total * b->cfg.ports.n;
	pl->fleet = pl->space > 1;
	pl->count = count;
	pl->retries = retries;
	pl->timeout_ns = 1000000000;
	struct cookie_key k;
	perm_key_from_seed(&k, 7);
	perm_init(&pl->perm, pl->space, &k, b->cfg.no_shuffle);
	cr_assert_eq(flows_init(&b->fs, pl, 4096), 0);
	b->fs.pacer.gap_ns = 0;
}

static void unmake(struct bed *b)
{
	flows_free(&b->fs);
	free(b->pl.routes);
	tset_free(&b->pl.targets);
	options_free(&b->cfg);
}

/* A probe that finished with this answer (flags 0: silence). */
static struct probe done_probe(const struct send_req *q, uint8_t flags)
{
	struct probe p;
	memset(&p, 0, sizeof(p));
	p.flow = q->flow;
	p.seq = q->seq;
	p.tries = q->tries;
	p.kind = &kind_syn;
	p.res.flags = flags;
	p.res.outcome = flags ? OUTCOME_OPEN : OUTCOME_FILTERED;
	return p;
}

/* Run the scheduler to the end: every probe answered with flags. */
static uint64_t drain(struct bed *b, uint8_t flags, uint64_t *seen, size_t nseen)
{
	struct flow_step st;
	uint64_t sent = 0;
	for (int guard = 0; guard < 100000 && !flows_finished(&b->fs); guard++) {
		flows_next(&b->fs, 0, true, &st);
		if (st.kind == STEP_IDLE)
			break;
		cr_assert_eq(st.kind, STEP_SEND);
		sent++;
		const struct flow *f = &b->fs.v[st.q.flow];
		if (seen && f->sum.index < nseen)
			seen[f->sum.index]++;
		struct probe p = done_probe(&st.q, flags);
		if (flows_done(&b->fs, &p) == DONE_CLOSED)
			flows_close(&b->fs, st.q.flow);
	}
	return sent;
}

Test(flows, shards_cover_the_space_exactly_once_through_the_scheduler)
{
	uint64_t seen[6 * 2] = { 0 };
	for (int i = 0; i < 3; i++) {
		char shard[16];
		snprintf(shard, sizeof(shard), "%d/3", i);
		char *argv[] = { "tcpshake", "-M", "syn", "--shard", shard, "-p", "80,443",
				 "198.18.0.1-6", NULL };
		struct bed b;
		make(&b, 8, argv, 0, 1);
		drain(&b, 0x12, seen, 12);
		unmake(&b);
	}
	for (int i = 0; i < 12; i++)
		cr_assert_eq(seen[i], 1, "index %d probed %llu times", i, (unsigned long long)seen[i]);
}

Test(flows, excluded_targets_skipped_and_counted)
{
	char *argv[] = { "tcpshake", "-M", "syn", "--exclude", "198.18.0.2", "-p", "80",
			 "198.18.0.1-4", NULL };
	struct bed b;
	make(&b, 8, argv, 0, 1);
	uint64_t sent = drain(&b, 0x12, NULL, 0);
	cr_assert_eq(sent, 3);
	cr_assert_eq(b.fs.excluded, 1);
	cr_assert(flows_finished(&b.fs));
	unmake(&b);
}

Test(flows, a_silent_probe_is_sent_again_then_counted)
{
	char *argv[] = { "tcpshake", "-M", "syn", "-p", "80", "198.18.0.1", NULL };
	struct bed b;
	make(&b, 6, argv, 2, 1);
	struct flow_step st;
	flows_next(&b.fs, 0, true, &st);
	cr_assert_eq(st.kind, STEP_SEND);
	cr_assert_eq(st.q.tries, 0);
	struct probe p = done_probe(&st.q, 0);
	cr_assert_eq(flows_done(&b.fs, &p), DONE_RETRY);
	flows_next(&b.fs, 0, true, &st);
	cr_assert_eq(st.q.tries, 1, "the same probe number, its second try");
	p = done_probe(&st.q, 0);
	cr_assert_eq(flows_done(&b.fs, &p), DONE_RETRY);
	flows_next(&b.fs, 0, true, &st);
	cr_assert_eq(st.q.tries, 2);
	p = done_probe(&st.q, 0);
	cr_assert_eq(flows_done(&b.fs, &p), DONE_CLOSED, "tries used up: counted, and done");
	cr_assert_eq(b.fs.retried, 2);
	cr_assert_eq(b.fs.v[st.q.flow].sum.filtered, 1);
	flows_close(&b.fs, st.q.flow);
	cr_assert(flows_finished(&b.fs));
	unmake(&b);
}

Test(flows, no_port_free_no_step_and_the_pacer_waits)
{
	char *argv[] = { "tcpshake", "-M", "syn", "-p", "80", "198.18.0.1-2", NULL };
	struct bed b;
	make(&b, 6, argv, 0, 1);
	struct flow_step st;
	flows_next(&b.fs, 0, false, &st);
	cr_assert_eq(st.kind, STEP_IDLE, "no source port free: nothing to do");
	b.fs.pacer.gap_ns = 1000;
	flows_next(&b.fs, 5000, true, &st);
	cr_assert_eq(st.kind, STEP_SEND);
	flows_next(&b.fs, 5000, true, &st);
	cr_assert_eq(st.kind, STEP_WAIT);
	cr_assert_eq(st.at, 6000, "the next slot of the pace");
	unmake(&b);
}

Test(flows, a_count_and_its_interval)
{
	char *argv[] = { "tcpshake", "-M", "syn", "-i", "0.5", "-p", "80", "198.18.0.1", NULL };
	struct bed b;
	make(&b, 8, argv, 0, 3);
	struct flow_step st;
	flows_next(&b.fs, 100, true, &st);
	cr_assert_eq(st.q.seq, 0);
	cr_assert_eq(st.next_at, 100 + 500000000, "the next probe number an interval later");
	flows_next(&b.fs, 100, true, &st);
	cr_assert_eq(st.kind, STEP_IDLE, "not due yet");
	flows_due(&b.fs, 0);
	flows_next(&b.fs, 200, true, &st);
	cr_assert_eq(st.q.seq, 1);
	unmake(&b);
}

Test(flows, per_flag_rounds_go_back_to_back)
{
	char *argv[] = { "tcpshake", "-M", "flags", "-p", "80", "198.18.0.1", NULL };
	struct bed b;
	make(&b, 6, argv, 0, PERFLAG_KINDS);
	struct flow_step st;
	flows_next(&b.fs, 100, true, &st);
	cr_assert_eq(st.next_at, 100, "the round's five probes one after the other");
	cr_assert_eq(flows_kind(&b.pl, 0), &kind_syn);
	cr_assert_eq(flows_kind(&b.pl, 1), &kind_ack);
	cr_assert_eq(flows_kind(&b.pl, 4), &kind_xmas);
	unmake(&b);
}

Test(flows, state_changes_and_the_longest_outage)
{
	char *argv[] = { "tcpshake", "-M", "syn", "-p", "80", "198.18.0.1", NULL };
	struct bed b;
	make(&b, 6, argv, 0, 0);
	struct flow_step st;
	const uint8_t flags[] = { 0x12, 0, 0, 0x12, 0, 0x12 };
	const enum outcome was[] = { OUTCOME_NONE, OUTCOME_OPEN, OUTCOME_NONE, OUTCOME_FILTERED,
				     OUTCOME_OPEN, OUTCOME_FILTERED };
	for (int i = 0; i < 6; i++) {
		if (i)
			flows_due(&b.fs, 0);
		flows_next(&b.fs, 0, true, &st);
		cr_assert_eq(st.kind, STEP_SEND);
		struct probe p = done_probe(&st.q, flags[i]);
		p.sent_wall_ns = (int64_t)(i + 1) * 1000000000;
		p.res.reply_wall_ns = flags[i] ? p.sent_wall_ns + 1000 : 0;
		flows_done(&b.fs, &p);
		cr_assert_eq(b.fs.v[0].was, was[i], "probe %d", i);
	}
	const struct flow_summary *s = &b.fs.v[0].sum;
	cr_assert_eq(s->outage_ns, 2000000000 + 1000, "from the 2nd probe to the answer of the 4th");
	cr_assert_eq(s->outage_at_ns, 2000000000);
	unmake(&b);
}
