/* The TCP traceroute's state machine (trace.c): windows, strict matching
 * by the quoted or acknowledged ISN, verdicts. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "trace.h"

#define MS INT64_C(1000000)

static struct trace t;
static struct cookie_key key = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };
static struct addr me, target, hop1, hop2;

static void addr4(struct addr *a, uint8_t last3, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->b[0] = 198;
	a->b[1] = 18;
	a->b[2] = last3;
	a->b[3] = last;
}

static void start(int max_hops, int queries)
{
	struct trace_params tp = { .max_hops = max_hops, .queries = queries, .wait_ns = 500 * MS };
	addr4(&me, 31, 1);
	addr4(&hop1, 31, 254);
	addr4(&hop2, 32, 2);
	addr4(&target, 33, 2);
	trace_init(&t, &tp, &key, &me, &target, 61000, 80, 0);
}

/* Send every round of the current window at now, now + gap...; returns
 * the time of the last round. */
static int64_t send_window(int64_t now, int64_t wall)
{
	struct trace_send s[TRACE_WINDOW];
	for (int round = 0; round < t.tp.queries; round++, now += TRACE_GAP_NS) {
		int n = trace_due(&t, now, s, TRACE_WINDOW);
		cr_assert_gt(n, 0, "round %d", round);
		for (int i = 0; i < n; i++)
			trace_sent(&t, s[i].idx, wall + now);
	}
	return now - TRACE_GAP_NS;
}

static uint32_t isn_of(int ttl, int q)
{
	return t.probe[(ttl - 1) * t.tp.queries + q].isn;
}

/* An ICMP error from `from` quoting probe (ttl, q). */
static struct segment icmp(const struct addr *from, uint8_t type, uint8_t code, int ttl, int q,
			   int64_t ts)
{
	struct segment s;
	memset(&s, 0, sizeof(s));
	s.kind = SEG_ICMP;
	s.src = *from;
	s.dst = me;
	s.ts_ns = ts;
	s.icmp_type = type;
	s.icmp_code = code;
	s.quote.src = me;
	s.quote.dst = target;
	s.quote.sport = 61000;
	s.quote.dport = 80;
	s.quote.seq = isn_of(ttl, q);
	return s;
}

/* The target's answer to probe (ttl, q). */
static struct segment tcp_answer(uint8_t flags, int ttl, int q, int64_t ts)
{
	struct segment s;
	memset(&s, 0, sizeof(s));
	s.kind = SEG_TCP;
	s.src = target;
	s.dst = me;
	s.sport = 80;
	s.dport = 61000;
	s.flags = flags;
	s.seq = 777;
	s.ack = isn_of(ttl, q) + 1;
	s.ts_ns = ts;
	return s;
}

static void answer_hop(const struct addr *from, int ttl, int64_t ts)
{
	for (int q = 0; q < t.tp.queries; q++) {
		struct segment s = icmp(from, 11, 0, ttl, q, ts);
		cr_assert_eq(trace_segment(&t, &s), TM_HOP);
	}
}

Test(trace, every_probe_has_its_own_isn_on_one_five_tuple)
{
	start(30, 3);
	for (int i = 0; i < 30 * 3; i++)
		for (int k = i + 1; k < 30 * 3; k++)
			cr_assert_neq(t.probe[i].isn, t.probe[k].isn, "%d %d", i, k);
	struct trace_send s[TRACE_WINDOW];
	cr_assert_eq(trace_due(&t, 0, s, TRACE_WINDOW), TRACE_WINDOW);
	for (int i = 0; i < TRACE_WINDOW; i++)
		cr_assert_eq(s[i].ttl, i + 1);
	/* the next round waits for the gap; the window's wait follows the last */
	cr_assert_eq(trace_due(&t, TRACE_GAP_NS - 1, s, TRACE_WINDOW), 0);
	cr_assert_eq(trace_due(&t, TRACE_GAP_NS, s, TRACE_WINDOW), TRACE_WINDOW);
	cr_assert_eq(trace_due(&t, 2 * TRACE_GAP_NS, s, TRACE_WINDOW), TRACE_WINDOW);
	cr_assert_eq(trace_next_wake(&t), 2 * TRACE_GAP_NS + 500 * MS);
	cr_assert_eq(trace_due(&t, 3 * TRACE_GAP_NS, s, TRACE_WINDOW), 0);
}

Test(trace, reaches_an_open_port_and_settles_early)
{
	start(30, 3);
	int64_t last = send_window(0, 1000 * MS);
	answer_hop(&hop1, 1, 1000 * MS + last + 10000);
	answer_hop(&hop2, 2, 1000 * MS + last + 20000);
	for (int q = 0; q < 3; q++) {
		struct segment s = tcp_answer(TCPF_SYN | TCPF_ACK, 3, q, 1000 * MS + last + 30000);
		cr_assert_eq(trace_segment(&t, &s), TM_TARGET);
	}
	/* ttl 4 and 5 reached the target too, unanswered: no reason to wait */
	trace_tick(&t, last + MS);
	cr_assert(t.done);
	cr_assert_eq(t.verdict, TV_OPEN);
	cr_assert_eq(t.stop_ttl, 3);
	cr_assert_eq(t.last_ttl, 3);
	cr_assert_eq(t.shown, 3);
	cr_assert(addr_eq(&t.hop[0].addr, &hop1));
	cr_assert(addr_eq(&t.hop[1].addr, &hop2));
	char buf[128];
	cr_assert_str_eq(trace_verdict_text(&t, buf, sizeof(buf)), "reached 198.18.33.2:80 (open) at hop 3");
	cr_assert_str_eq(trace_verdict_name(t.verdict), "open");
}

Test(trace, rtt_from_our_syn_captured_to_the_answer)
{
	start(30, 1);
	struct trace_send s[TRACE_WINDOW];
	cr_assert_eq(trace_due(&t, 0, s, TRACE_WINDOW), TRACE_WINDOW);
	for (int i = 0; i < TRACE_WINDOW; i++)
		trace_sent(&t, s[i].idx, 5000000);
	struct segment own;
	memset(&own, 0, sizeof(own));
	own.kind = SEG_TCP;
	own.src = me;
	own.dst = target;
	own.sport = 61000;
	own.dport = 80;
	own.flags = TCPF_SYN;
	own.seq = isn_of(1, 0);
	own.ts_ns = 5001000;
	cr_assert_eq(trace_segment(&t, &own), TM_OWN);
	struct segment te = icmp(&hop1, 11, 0, 1, 0, 5001500);
	cr_assert_eq(trace_segment(&t, &te), TM_HOP);
	cr_assert_eq(t.hop[0].rtt_ns[0], 500); /* wire to wire, not the clock at send */
	/* a duplicate answer changes nothing */
	te.ts_ns = 9000000;
	trace_segment(&t, &te);
	cr_assert_eq(t.hop[0].rtt_ns[0], 500);
	cr_assert_eq(t.hop[0].answers, 1);
}

Test(trace, silent_after_the_last_hop_that_answered)
{
	start(30, 3);
	int64_t last = send_window(0, 0);
	answer_hop(&hop1, 1, last + 1000);
	answer_hop(&hop2, 2, last + 2000);
	trace_tick(&t, last + 499 * MS);
	cr_assert_not(t.done, "the window waits -W for hops 3-5");
	trace_tick(&t, last + 500 * MS);
	cr_assert_not(t.done, "hops answered: the next window");
	cr_assert_eq(t.win_lo, 6);
	last = send_window(last + 500 * MS, 0);
	trace_tick(&t, last + 500 * MS);
	cr_assert(t.done);
	cr_assert_eq(t.verdict, TV_SILENT);
	cr_assert_eq(t.last_ttl, 2);
	cr_assert_eq(t.shown, 3);
	char buf[128];
	cr_assert_str_eq(trace_verdict_text(&t, buf, sizeof(buf)), "silent after hop 2 (198.18.32.2)");
}

Test(trace, rejected_by_the_hop_that_forwarded_before)
{
	start(30, 3);
	int64_t last = send_window(0, 0);
	answer_hop(&hop1, 1, last + 1000);
	answer_hop(&hop2, 2, last + 2000);
	for (int ttl = 3; ttl <= 5; ttl++)
		for (int q = 0; q < 3; q++) {
			struct segment s = icmp(&hop2, 3, 13, ttl, q, last + 3000);
			cr_assert_eq(trace_segment(&t, &s), TM_HOP);
		}
	trace_tick(&t, last + MS);
	cr_assert(t.done);
	cr_assert_eq(t.verdict, TV_REJECTED);
	cr_assert_eq(t.stop_ttl, 3);
	cr_assert_eq(trace_reject_hop(&t), 2);
	cr_assert_eq(t.last_ttl, 2, "the rejecting answer is no good hop");
	char buf[128], mark[8];
	cr_assert_str_eq(trace_verdict_text(&t, buf, sizeof(buf)),
			 "rejected at hop 2 by 198.18.32.2: admin-prohibited");
	cr_assert_str_eq(trace_icmp_mark(&t, &t.hop[2], mark, sizeof(mark)), "!X");
	cr_assert_str_eq(trace_icmp_mark(&t, &t.hop[1], mark, sizeof(mark)), "");
}

Test(trace, closed_port_reached)
{
	start(30, 2);
	int64_t last = send_window(0, 0);
	answer_hop(&hop1, 1, last + 1000);
	for (int q = 0; q < 2; q++) {
		struct segment s = tcp_answer(TCPF_RST | TCPF_ACK, 2, q, last + 2000);
		cr_assert_eq(trace_segment(&t, &s), TM_TARGET);
	}
	trace_tick(&t, last + 1);
	cr_assert_eq(t.verdict, TV_CLOSED);
	cr_assert_eq(t.shown, 2);
}

Test(trace, answers_not_for_our_probes_are_not_taken)
{
	start(30, 3);
	int64_t last = send_window(0, 0);
	struct segment s = icmp(&hop1, 11, 0, 1, 0, last);
	s.quote.seq ^= 1; /* another ISN */
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	s = icmp(&hop1, 11, 0, 1, 0, last);
	s.quote.sport = 61001;
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	s = icmp(&hop1, 11, 0, 1, 0, last);
	s.quote.dst = hop2;
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	s = icmp(&hop1, 11, 0, 1, 0, last);
	s.dst = hop2; /* not to us */
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	s = icmp(&hop1, 11, 0, 7, 0, last); /* ttl 7 was never sent */
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	s = tcp_answer(TCPF_SYN | TCPF_ACK, 3, 0, last);
	s.ack += 1;
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	s = tcp_answer(TCPF_SYN | TCPF_ACK, 3, 0, last);
	s.src = hop2; /* a SYN/ACK from another host */
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	s = tcp_answer(TCPF_SYN, 3, 0, last); /* no ACK: acknowledges nothing */
	cr_assert_eq(trace_segment(&t, &s), TM_NONE);
	for (int i = 0; i < TRACE_MAX_HOPS; i++)
		cr_assert_eq(t.hop[i].answers, 0);
}

Test(trace, nothing_answers)
{
	start(30, 1);
	int64_t last = send_window(0, 0);
	trace_tick(&t, last + 500 * MS);
	cr_assert(t.done);
	cr_assert_eq(t.verdict, TV_SILENT);
	cr_assert_eq(t.last_ttl, 0);
	cr_assert_eq(t.shown, 1);
	char buf[64];
	cr_assert_str_eq(trace_verdict_text(&t, buf, sizeof(buf)), "silent from hop 1");
}

Test(trace, max_hops_without_the_target)
{
	start(3, 1);
	int64_t last = send_window(0, 0);
	cr_assert_eq(t.win_hi, 3);
	for (int ttl = 1; ttl <= 3; ttl++)
		answer_hop(ttl == 1 ? &hop1 : &hop2, ttl, last + 1000);
	trace_tick(&t, last + 1);
	cr_assert(t.done);
	cr_assert_eq(t.verdict, TV_MAX_HOPS);
	cr_assert_eq(t.shown, 3);
	char buf[64];
	cr_assert_str_eq(trace_verdict_text(&t, buf, sizeof(buf)), "not reached within 3 hops");
}

Test(trace, finish_cuts_short_with_what_came)
{
	start(30, 3);
	int64_t last = send_window(0, 0);
	answer_hop(&hop1, 1, last + 1000);
	trace_finish(&t);
	cr_assert(t.done);
	cr_assert_eq(t.verdict, TV_INCOMPLETE, "not silent: the window was still open");
	cr_assert_eq(t.last_ttl, 1);
	cr_assert_eq(t.shown, 2);
	char buf[128];
	cr_assert_str_eq(trace_verdict_name(t.verdict), "incomplete");
	cr_assert_str_eq(trace_verdict_text(&t, buf, sizeof(buf)), "cut short after hop 1 (198.18.31.254)");
	start(30, 3);
	send_window(0, 0);
	trace_finish(&t);
	cr_assert_eq(t.verdict, TV_INCOMPLETE);
	cr_assert_str_eq(trace_verdict_text(&t, buf, sizeof(buf)), "cut short before any hop answered");
}

Test(trace, finish_after_a_final_answer_keeps_it)
{
	start(30, 3);
	int64_t last = send_window(0, 0);
	struct segment s = tcp_answer(TCPF_SYN | TCPF_ACK, 2, 0, last + 1000);
	cr_assert_eq(trace_segment(&t, &s), TM_TARGET);
	trace_finish(&t); /* queries 1 and 2 of hop 2 still out */
	cr_assert_eq(t.verdict, TV_OPEN);
}

Test(trace, a_silent_window_that_ran_out_is_silent_not_incomplete)
{
	start(30, 1);
	int64_t last = send_window(0, 0);
	trace_tick(&t, last + 500 * MS);
	trace_finish(&t);
	cr_assert_eq(t.verdict, TV_SILENT);
}

/* The rounds of a window: TRACE_GAP_NS apart, or the target's RTT and a
 * quarter and the margin when that is longer (a round's SYN must not meet
 * the server's half-open connection from the one before: our RST first). */
Test(trace, the_gap_covers_the_targets_rtt)
{
	struct trace_params tp = { .max_hops = 30, .queries = 3, .wait_ns = 500 * MS, .rtt_ns = 50 * MS };
	cr_assert_eq(trace_gap(&tp, 0), TRACE_GAP_NS);
	cr_assert_eq(trace_gap(&tp, 4 * MS), TRACE_GAP_NS);
	cr_assert_eq(trace_gap(&tp, 50 * MS), 50 * MS + 50 * MS / 4 + TRACE_GAP_MARGIN_NS);
	cr_assert_eq(trace_gap(&tp, 5000 * MS), 500 * MS, "-W at most");
	addr4(&me, 31, 1);
	addr4(&target, 33, 2);
	trace_init(&t, &tp, &key, &me, &target, 61000, 80, 0);
	struct trace_send s[TRACE_WINDOW];
	int64_t gap = 50 * MS + 50 * MS / 4 + TRACE_GAP_MARGIN_NS;
	cr_assert_eq(trace_due(&t, 0, s, TRACE_WINDOW), TRACE_WINDOW);
	for (int i = 0; i < TRACE_WINDOW; i++)
		trace_sent(&t, s[i].idx, 0);
	cr_assert_eq(trace_due(&t, TRACE_GAP_NS, s, TRACE_WINDOW), 0, "25 ms: too early at 50 ms RTT");
	cr_assert_eq(trace_next_wake(&t), gap);
	cr_assert_eq(trace_due(&t, gap, s, TRACE_WINDOW), TRACE_WINDOW);
}

Test(trace, a_slower_target_answer_widens_the_gap)
{
	start(30, 3); /* no RTT known: 25 ms */
	struct trace_send s[TRACE_WINDOW];
	cr_assert_eq(trace_due(&t, 0, s, TRACE_WINDOW), TRACE_WINDOW);
	for (int i = 0; i < TRACE_WINDOW; i++)
		trace_sent(&t, s[i].idx, 0);
	cr_assert_eq(trace_next_wake(&t), TRACE_GAP_NS);
	struct segment a = tcp_answer(TCPF_SYN | TCPF_ACK, 2, 0, 12 * MS);
	cr_assert_eq(trace_segment(&t, &a), TM_TARGET);
	cr_assert_eq(trace_next_wake(&t), TRACE_GAP_NS, "12 ms fits in the gap");
	a = tcp_answer(TCPF_SYN | TCPF_ACK, 3, 0, 80 * MS);
	cr_assert_eq(trace_segment(&t, &a), TM_TARGET);
	int64_t gap = 80 * MS + 20 * MS + TRACE_GAP_MARGIN_NS;
	cr_assert_eq(trace_next_wake(&t), gap, "the next round waits for 80 ms and more");
	cr_assert_eq(trace_due(&t, gap - 1, s, TRACE_WINDOW), 0);
	cr_assert_eq(trace_due(&t, gap, s, TRACE_WINDOW), TRACE_WINDOW);
	cr_assert_eq(trace_next_wake(&t), 2 * gap);
}

/* A later SYN that met the half-open connection of an earlier one gets an
 * ACK of that earlier ISN: it answers no probe of its own. */
Test(trace, the_targets_challenge_ack_is_no_answer)
{
	start(30, 3);
	int64_t last = send_window(0, 0);
	struct segment a = tcp_answer(TCPF_ACK, 2, 0, last + 1000);
	cr_assert_eq(trace_segment(&t, &a), TM_CHALLENGE);
	cr_assert_eq(t.hop[1].answers, 0);
	cr_assert_not(t.hop[1].target);
	a.ack += 7; /* no ISN of ours */
	cr_assert_eq(trace_segment(&t, &a), TM_NONE);
}

Test(trace, ipv6_time_exceeded_and_marks)
{
	struct trace_params tp = { .max_hops = 30, .queries = 1, .wait_ns = 500 * MS };
	struct addr a = { .family = AF_INET6 }, b = { .family = AF_INET6 }, h = { .family = AF_INET6 };
	a.b[0] = b.b[0] = h.b[0] = 0x20;
	a.b[15] = 1;
	b.b[15] = 2;
	h.b[15] = 0xfe;
	trace_init(&t, &tp, &key, &a, &b, 61000, 443, 0);
	struct trace_send s[TRACE_WINDOW];
	int n = trace_due(&t, 0, s, TRACE_WINDOW);
	for (int i = 0; i < n; i++)
		trace_sent(&t, s[i].idx, 0);
	struct segment e;
	memset(&e, 0, sizeof(e));
	e.kind = SEG_ICMP;
	e.src = h;
	e.dst = a;
	e.icmp_type = 3; /* ICMPv6 time exceeded */
	e.quote.src = a;
	e.quote.dst = b;
	e.quote.sport = 61000;
	e.quote.dport = 443;
	e.quote.seq = t.probe[0].isn;
	cr_assert_eq(trace_segment(&t, &e), TM_HOP);
	cr_assert_not(t.hop[0].error);
	e.icmp_type = 1; /* unreachable, admin-prohibited */
	e.icmp_code = 1;
	e.quote.seq = t.probe[1].isn;
	cr_assert_eq(trace_segment(&t, &e), TM_HOP);
	cr_assert(t.hop[1].error);
	cr_assert_eq(t.stop_ttl, 2);
	char mark[8];
	cr_assert_str_eq(trace_icmp_mark(&t, &t.hop[1], mark, sizeof(mark)), "!X");
}
