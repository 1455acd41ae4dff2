/* The probe state machine, one transition at a time. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

#define MS INT64_C(1000000)
#define ISN 1000u
#define IRS 5000u

static struct probe p;
static struct segment s;
static struct probe_actions a;
static struct probe_params syn_pp = { PMODE_SYN, CLOSE_FIN, false, 1000 * MS, 3, 7, true, 64240, 0, false, NULL, NULL, 0, false };
static struct probe_params fin_pp = { PMODE_FULL, CLOSE_FIN, false, 1000 * MS, 3, 7, true, 64240, 0, false, NULL, NULL, 0, true };
static struct probe_params rst_pp = { PMODE_FULL, CLOSE_RST, false, 1000 * MS, 3, 7, true, 64240, 0, false, NULL, NULL, 0, false };
static struct probe_params http_pp = { PMODE_FULL, CLOSE_FIN, true, 1000 * MS, 3, 7, true, 64240, 0, false, NULL, NULL, 0, false };
static const uint8_t req[] = "HEAD / HTTP/1.1\r\n\r\n";

static void start(const struct probe_params *pp)
{
	probe_release(&p); /* the last test's stream */
	memset(&p, 0, sizeof(p));
	p.isn = ISN;
	p.req = req;
	p.req_len = sizeof(req) - 1;
	probe_start(&p, pp, pp->timeout_ns, 0, 5000);
}

/* A segment from the peer. */
static void peer(uint8_t flags, uint32_t seq, uint32_t ack, size_t len, int64_t ts)
{
	memset(&s, 0, sizeof(s));
	s.kind = SEG_TCP;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.payload_len = len;
	s.ts_ns = ts;
	s.ttl = 64;
	s.win = 64240;
	s.opt.mss = 1460;
	s.opt.wscale = 7;
	s.opt.has_ts = 1;
	s.opt.ts_val = 777;
}

static void step(enum probe_event ev, int64_t now)
{
	probe_step(&p, ev, ev == PEV_TIMER ? NULL : &s, now, &a);
}

/* Our own segment, as the capture sees it leave. */
static void own(uint8_t flags, uint32_t seq, size_t len, int64_t ts)
{
	memset(&s, 0, sizeof(s));
	s.kind = SEG_TCP;
	s.flags = flags;
	s.seq = seq;
	s.payload_len = len;
	s.ts_ns = ts;
	step(flags == TCPF_SYN ? PEV_OWN_SYN : PEV_OWN_SEG, ts);
}

static void synack(int64_t ts)
{
	own(TCPF_SYN, ISN, 0, 10000);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, ts);
	step(PEV_TCP, ts);
}

Test(probe, syn_mode_open_with_wire_rtt_then_rst)
{
	start(&syn_pp);
	synack(10117);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
	cr_assert_eq(p.res.rtt_ns, 117);
	cr_assert_eq(p.res.rtt_source, RTT_WIRE);
	cr_assert_eq(p.res.mss, 1460);
	cr_assert_eq(p.res.reply_wall_ns, 10117);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_RST);
	cr_assert_eq(a.out[0].seq, ISN + 1);
	cr_assert_not(a.done, "waits to see its RST leave");
	cr_assert_eq(p.state, PS_FLUSH);
	own(TCPF_RST, ISN + 1, 0, 10200);
	cr_assert(a.done);
	cr_assert_eq(p.res.nlog, 3);
	cr_assert_eq(p.res.log[2].dir, '>');
	cr_assert_eq(p.res.log[2].flags, TCPF_RST);
	cr_assert_not(p.res.established);
}

Test(probe, time_wait_ends_on_its_timer_if_the_capture_misses_our_rst)
{
	start(&syn_pp);
	synack(10117);
	cr_assert_gt(a.timer_at, 0);
	step(PEV_TIMER, a.timer_at);
	cr_assert(a.done);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
}

Test(probe, first_own_syn_stamp_kept)
{
	start(&syn_pp);
	own(TCPF_SYN, ISN, 0, 10000);
	own(TCPF_SYN, ISN, 0, 10050);
	cr_assert_eq(p.syn_wire[0], 10000);
}

Test(probe, clock_fallback_without_own_syn)
{
	start(&syn_pp);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 10117);
	step(PEV_TCP, 250);
	cr_assert_eq(p.res.rtt_source, RTT_CLOCK);
	cr_assert_eq(p.res.rtt_ns, 250);
}

Test(probe, closed_sends_nothing)
{
	start(&fin_pp);
	peer(TCPF_RST | TCPF_ACK, 0, ISN + 1, 0, 10);
	step(PEV_TCP, 20);
	cr_assert(a.done);
	cr_assert_eq(a.n, 0);
	cr_assert_eq(p.res.outcome, OUTCOME_CLOSED);
	cr_assert_not(p.res.established);
}

Test(probe, icmp_unreachable)
{
	start(&fin_pp);
	memset(&s, 0, sizeof(s));
	s.kind = SEG_ICMP;
	s.icmp_type = 3;
	s.icmp_code = 13;
	s.src.family = AF_INET;
	s.src.b[3] = 2;
	step(PEV_ICMP, 2000);
	cr_assert(a.done);
	cr_assert_eq(p.res.outcome, OUTCOME_UNREACHABLE);
	cr_assert_eq(p.res.icmp_code, 13);
	cr_assert_eq(p.res.icmp_from.b[3], 2);
}

Test(probe, timeout_is_filtered)
{
	start(&fin_pp);
	step(PEV_TIMER, 1000 * MS);
	cr_assert(a.done);
	cr_assert_eq(p.res.outcome, OUTCOME_FILTERED);
	cr_assert_eq(p.res.rtt_source, RTT_NONE);
}

Test(probe, done_ignores_later_events)
{
	start(&fin_pp);
	step(PEV_TIMER, 1000 * MS);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 10);
	step(PEV_TCP, 3000);
	cr_assert_eq(a.n, 0);
	cr_assert_not(a.done);
	cr_assert_eq(p.res.outcome, OUTCOME_FILTERED);
}

/* The seven segments: > S, < SA, > A, > FA, < A, < FA, > A. */
Test(probe, full_fin_close_seven_segments)
{
	start(&fin_pp);
	synack(10100);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
	cr_assert(p.res.established);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1);
	cr_assert_eq(a.out[0].ack, IRS + 1);
	cr_assert_eq(a.out[1].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[1].seq, ISN + 1);
	cr_assert_gt(a.timer_at, 0);
	cr_assert(p.ts_ok && p.ws_ok);
	cr_assert_eq(probe_window(&p), 64240 >> 7);
	own(TCPF_ACK, ISN + 1, 0, 10120);
	own(TCPF_FIN | TCPF_ACK, ISN + 1, 0, 10130);
	peer(TCPF_ACK, IRS + 1, ISN + 2, 0, 10200);
	step(PEV_TCP, 10200);
	cr_assert_eq(a.n, 0, "a bare ACK is not acknowledged");
	cr_assert_not(a.done);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 2, 0, 10300);
	step(PEV_TCP, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 2);
	cr_assert_eq(a.out[0].ack, IRS + 2);
	own(TCPF_ACK, ISN + 2, 0, 10310);
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_FIN);
	cr_assert_eq(p.res.close_ns, 10300 - 10130);
	const char *want = ">S<SA>A>FA<A<FA>A";
	char got[64] = "", fl[9];
	for (int i = 0; i < p.res.nlog; i++) {
		strncat(got, (char[]){ p.res.log[i].dir, 0 }, 2);
		strcat(got, tcp_flags_str(p.res.log[i].flags, fl));
	}
	cr_assert_str_eq(got, want);
}

Test(probe, full_fin_and_ack_in_one_segment)
{
	start(&fin_pp);
	synack(10100);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 2, 0, 10300);
	step(PEV_TCP, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(p.state, PS_FLUSH);
	cr_assert_eq(p.res.close, CLOSE_FIN);
}

Test(probe, peer_fin_before_our_fin_is_acked)
{
	start(&fin_pp);
	synack(10100);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 1, 0, 10300); /* does not ack our FIN */
	step(PEV_TCP, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].ack, IRS + 2);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	peer(TCPF_ACK, IRS + 2, ISN + 2, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert_eq(a.n, 0);
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_FIN);
}

Test(probe, banner_is_acked_and_still_closed_cleanly)
{
	start(&fin_pp);
	synack(10100);
	peer(TCPF_PSH | TCPF_ACK, IRS + 1, ISN + 1, 20, 10200); /* "220 service ready" */
	step(PEV_TCP, 10200);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].ack, IRS + 21);
	peer(TCPF_FIN | TCPF_ACK, IRS + 21, ISN + 2, 0, 10300);
	step(PEV_TCP, 10300);
	cr_assert_eq(a.out[0].ack, IRS + 22);
	cr_assert_eq(p.res.close, CLOSE_FIN);
}

Test(probe, out_of_order_data_gets_a_duplicate_ack)
{
	start(&fin_pp);
	synack(10100);
	peer(TCPF_ACK, IRS + 100, ISN + 1, 10, 10200);
	step(PEV_TCP, 10200);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].ack, IRS + 1);
	cr_assert_eq(p.rcv_nxt, IRS + 1);
}

Test(probe, duplicate_synack_is_acked_again)
{
	start(&fin_pp);
	synack(10100);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 10500);
	step(PEV_TCP, 10500);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[0].ack, IRS + 1);
}

Test(probe, peer_rst_in_window_ends_it_out_of_window_ignored)
{
	start(&fin_pp);
	synack(10100);
	peer(TCPF_RST | TCPF_ACK, IRS + 9999, ISN + 1, 0, 10200);
	step(PEV_TCP, 10200);
	cr_assert_not(a.done);
	cr_assert_neq(p.state, PS_DONE);
	peer(TCPF_RST | TCPF_ACK, IRS + 1, ISN + 1, 0, 10300);
	step(PEV_TCP, 10300);
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_PEER_RST);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
}

Test(probe, close_rst)
{
	start(&rst_pp);
	synack(10100);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[1].flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(p.res.close, CLOSE_RST);
}

Test(probe, our_fin_sent_again_then_timeout)
{
	static struct probe_params long_pp = { PMODE_FULL, CLOSE_FIN, false, 10000 * MS, 3, 7,
					       true, 64240, 0, false, NULL, NULL, 0, false };
	start(&long_pp);
	synack(10100);
	int64_t t = a.timer_at;
	int sent_again = 0;
	for (int i = 0; i < 20 && !a.done; i++) {
		step(PEV_TIMER, t);
		for (int k = 0; k < a.n; k++)
			sent_again += a.out[k].flags == (TCPF_FIN | TCPF_ACK);
		if (a.timer_at)
			t = a.timer_at;
		if (p.state == PS_FLUSH) {
			step(PEV_TIMER, t + 1000 * MS);
			break;
		}
	}
	cr_assert_eq(sent_again, 3, "retries bounded");
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_TIMEOUT);
	cr_assert_leq(t, 10100 + 10000 * MS + 10000 * MS, "every wait bounded by the timeout");
}

Test(probe, retransmissions_stop_at_the_timeout)
{
	start(&fin_pp); /* 1 s: room for two before the deadline */
	synack(10100);
	int sent_again = 0;
	for (int i = 0; i < 20 && !a.done && p.state != PS_FLUSH; i++) {
		int64_t t = a.timer_at;
		cr_assert_leq(t, 10100 + 1000 * MS);
		step(PEV_TIMER, t);
		for (int k = 0; k < a.n; k++)
			sent_again += a.out[k].flags == (TCPF_FIN | TCPF_ACK);
	}
	cr_assert_eq(sent_again, 2);
	cr_assert_eq(p.res.close, CLOSE_TIMEOUT);
}

Test(probe, http_exchange)
{
	start(&http_pp);
	synack(10100);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.out[1].flags, TCPF_PSH | TCPF_ACK);
	cr_assert_eq(a.out[1].data_len, sizeof(req) - 1, "the whole request fits the window and MSS");
	uint32_t after_req = ISN + 1 + (uint32_t)(sizeof(req) - 1);
	own(TCPF_PSH | TCPF_ACK, ISN + 1, sizeof(req) - 1, 10150);
	static const uint8_t resp[] = "HTTP/1.1 204 No Content\r\n\r\n";
	peer(TCPF_PSH | TCPF_ACK, IRS + 1, after_req, sizeof(resp) - 1, 10400);
	s.payload = resp;
	s.payload_cap = sizeof(resp) - 1;
	step(PEV_TCP, 10400);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].ack, IRS + 1 + sizeof(resp) - 1);
	cr_assert_eq(p.res.http.status, 204);
	cr_assert_eq(p.res.http.ttfb_ns, 250);
	cr_assert_eq(p.res.http.bytes, sizeof(resp) - 1);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1 + (uint32_t)sizeof(resp) - 1, after_req, 0, 10500);
	step(PEV_TCP, 10500);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(p.state, PS_LAST_ACK);
	peer(TCPF_ACK, IRS + 1 + (uint32_t)sizeof(resp), after_req + 1, 0, 10600);
	step(PEV_TCP, 10600);
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_PEER_FIN);
}

Test(probe, http_status_lines)
{
	cr_assert_eq(http_status((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17), 200);
	cr_assert_eq(http_status((const uint8_t *)"HTTP/1.0 404 Not Found", 22), 404);
	cr_assert_eq(http_status((const uint8_t *)"HTTP/2 301 \r\n", 13), 301);
	cr_assert_eq(http_status((const uint8_t *)"HTTP/1.1 20", 11), 0);
	cr_assert_eq(http_status((const uint8_t *)"HTTP/1.1 2000 OK", 16), 0);
	cr_assert_eq(http_status((const uint8_t *)"SSH-2.0-OpenSSH_9.2", 19), 0);
	cr_assert_eq(http_status((const uint8_t *)"HTTP/1.1 0xx OK\r\n", 17), 0);
	cr_assert_eq(http_status((const uint8_t *)"", 0), 0);
}

Test(probe, icmp_names)
{
	char b[32];
	cr_assert_str_eq(icmp_name(AF_INET, 3, 0, b, sizeof(b)), "net-unreachable");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 1, b, sizeof(b)), "host-unreachable");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 2, b, sizeof(b)), "protocol-unreachable");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 3, b, sizeof(b)), "port-unreachable");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 4, b, sizeof(b)), "frag-needed");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 9, b, sizeof(b)), "net-prohibited");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 10, b, sizeof(b)), "host-prohibited");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 13, b, sizeof(b)), "admin-prohibited");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 5, b, sizeof(b)), "code-5");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 200, b, sizeof(b)), "code-200");
	cr_assert_str_eq(icmp_name(AF_INET, 11, 0, b, sizeof(b)), "ttl-exceeded");
	cr_assert_str_eq(icmp_name(AF_INET6, 1, 0, b, sizeof(b)), "net-unreachable");
	cr_assert_str_eq(icmp_name(AF_INET6, 1, 1, b, sizeof(b)), "admin-prohibited");
	cr_assert_str_eq(icmp_name(AF_INET6, 1, 3, b, sizeof(b)), "host-unreachable");
	cr_assert_str_eq(icmp_name(AF_INET6, 1, 4, b, sizeof(b)), "port-unreachable");
	cr_assert_str_eq(icmp_name(AF_INET6, 1, 5, b, sizeof(b)), "source-policy-failed");
	cr_assert_str_eq(icmp_name(AF_INET6, 1, 6, b, sizeof(b)), "reject-route");
	cr_assert_str_eq(icmp_name(AF_INET6, 1, 2, b, sizeof(b)), "code-2");
	cr_assert_str_eq(icmp_name(AF_INET6, 3, 0, b, sizeof(b)), "ttl-exceeded");
	cr_assert_str_eq(icmp_name(AF_INET6, 2, 0, b, sizeof(b)), "packet-too-big");
	cr_assert_str_eq(icmp_name(AF_INET, 3, 4, b, sizeof(b)), "frag-needed");
	cr_assert_str_eq(outcome_name(OUTCOME_UNREACHABLE), "unreachable");
	cr_assert_str_eq(close_name(CLOSE_PEER_FIN), "peer-fin");
	cr_assert_null(close_name(CLOSE_NONE));
}

/* Seen on the wire: the server closes right after accepting, its FIN
 * crosses our request; its kernel answers the request with a bare RST at
 * the sequence our request acked (before the FIN), and our FIN with a bare
 * RST at rcv_nxt. The first is not believed, the second ends the probe. */
Test(probe, http_request_crossing_the_servers_fin_ends_on_its_bare_rst)
{
	start(&http_pp);
	synack(10100);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 1, 0, 10200);
	step(PEV_TCP, 10200);
	cr_assert_eq(p.state, PS_LAST_ACK);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].ack, IRS + 2);
	peer(TCPF_RST, IRS + 1, 0, 0, 10300);
	step(PEV_TCP, 10300);
	cr_assert_not(a.done, "a reset left of rcv_nxt is not believed");
	peer(TCPF_RST, IRS + 2, 0, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_PEER_RST);
}

/* ---- a TCP endpoint as the kernel's: retransmission, Karn, linger ---- */

static struct probe_params retx_pp = { PMODE_FULL, CLOSE_FIN, false, 3000 * MS, 3, 7, true, 64240,
				       1000 * MS, true, NULL, NULL, 0, false };

/* Our own SYN leaving, with the timestamp value the probe gave it. */
static void own_syn_ts(uint32_t tsval, int64_t ts)
{
	memset(&s, 0, sizeof(s));
	s.kind = SEG_TCP;
	s.flags = TCPF_SYN;
	s.seq = ISN;
	s.ts_ns = ts;
	s.opt.has_ts = 1;
	s.opt.ts_val = tsval;
	step(PEV_OWN_SYN, ts);
}

Test(probe, syn_sent_again_on_rfc6298_schedule_then_filtered)
{
	start(&retx_pp);
	cr_assert_eq(p.syns, 1);
	int64_t t = probe_start(&p, &retx_pp, retx_pp.timeout_ns, 0, 5000);
	cr_assert_eq(t, 1000 * MS, "the first SYN is sent again after 1 s");
	own_syn_ts(p.syn_tsval[0], 10000);
	step(PEV_TIMER, 1000 * MS);
	cr_assert_eq(a.n, 1);
	cr_assert(a.out[0].syn);
	cr_assert_eq(a.out[0].seq, ISN, "the same ISN: a half-open peer answers it again");
	cr_assert_neq(a.out[0].tsval, p.syn_tsval[0], "a new timestamp value tells them apart");
	cr_assert_eq(a.timer_at, 3000 * MS, "next at 3 s, which is the deadline");
	step(PEV_TIMER, 3000 * MS);
	cr_assert(a.done);
	cr_assert_eq(p.res.outcome, OUTCOME_FILTERED);
	cr_assert_eq(p.res.syns, 2);
}

Test(probe, rtt_from_the_syn_whose_timestamp_is_echoed)
{
	start(&retx_pp);
	own_syn_ts(p.syn_tsval[0], 10000);
	step(PEV_TIMER, 1000 * MS);
	uint32_t second = a.out[0].tsval;
	own_syn_ts(second, 1000 * MS + 10000);
	cr_assert_eq(p.syns_seen, 2);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 1000 * MS + 10300);
	s.opt.ts_ecr = second;
	step(PEV_TCP, 1000 * MS + 10400);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
	cr_assert_eq(p.res.rtt_source, RTT_WIRE);
	cr_assert_eq(p.res.rtt_ns, 300, "from the second SYN, not the first");
	cr_assert_eq(p.res.syns, 2);
}

Test(probe, karn_no_rtt_when_the_answer_may_be_to_either_syn)
{
	start(&retx_pp);
	own_syn_ts(p.syn_tsval[0], 10000);
	step(PEV_TIMER, 1000 * MS);
	own_syn_ts(a.out[0].tsval, 1000 * MS + 10000);
	/* Linux echoes the first SYN's timestamp in its SYN/ACK again */
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 1000 * MS + 10300);
	s.opt.ts_ecr = p.syn_tsval[0];
	step(PEV_TCP, 1000 * MS + 10400);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
	cr_assert_eq(p.res.rtt_source, RTT_WIRE);
	cr_assert_eq(p.res.rtt_ns, 300, "from the last SYN seen leaving before the answer");
	cr_assert_not(p.rtt_clean);
	cr_assert_eq(p.rto_ns, RTO_INIT_NS, "Karn: no sample; the data timer is RFC 6298's 1 s");
}

Test(probe, late_synack_is_no_rtt_sample_for_the_data_timer)
{
	start(&http_pp);
	/* the peer's own SYN/ACK retransmission, a second after our only SYN */
	synack(10000 + 1004 * MS);
	cr_assert_eq(p.res.rtt_ns, 1004 * MS, "reported as seen on the wire");
	cr_assert_eq(p.rto_ns, RTO_INIT_NS, "but the data timer is not derived from it");
	start(&http_pp);
	synack(10000 + 2 * MS);
	cr_assert_eq(p.rto_ns, 200 * MS, "a clean sample: 3 x RTT, at least 200 ms");
}

Test(probe, stale_ack_reset_at_its_ack)
{
	start(&retx_pp);
	peer(TCPF_ACK, 424242, 999999, 0, 20000);
	step(PEV_STALE, 20000);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_RST);
	cr_assert_eq(a.out[0].seq, 999999u, "RFC 9293: <SEQ=SEG.ACK><CTL=RST>");
	cr_assert_eq(p.state, PS_SYN_SENT);
	peer(TCPF_RST | TCPF_ACK, 424242, 999999, 0, 20100);
	step(PEV_STALE, 20100);
	cr_assert_eq(a.n, 0, "a RST is never answered");
}

/* Through a FIN close, up to DONE. */
static void close_by_fin(const struct probe_params *pp)
{
	start(pp);
	synack(10100);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 2, 0, 10400);
	step(PEV_TCP, 10400);
	if (p.state == PS_FLUSH)
		step(PEV_TIMER, a.timer_at);
	cr_assert_eq(p.state, PS_DONE);
}

Test(probe, time_wait_acks_a_repeated_fin)
{
	close_by_fin(&fin_pp);
	cr_assert(p.tw);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 2, 0, 300 * MS);
	step(PEV_LINGER, 300 * MS);
	cr_assert_eq(a.n, 1, "our last ACK was lost: say it again");
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 2);
	cr_assert_eq(a.out[0].ack, IRS + 2);
	cr_assert_not(a.done);
}

/* A trace on the port after the probe: its SYN/ACK, late, reaches the
 * lingering probe in TIME-WAIT. Not this connection's: reset, or the
 * server's half-open entry retransmits for a minute. */
Test(probe, time_wait_resets_another_connections_synack)
{
	close_by_fin(&fin_pp);
	cr_assert(p.tw);
	peer(TCPF_SYN | TCPF_ACK, 90000, 0x7f001231u, 0, 300 * MS);
	step(PEV_LINGER, 300 * MS);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_RST);
	cr_assert_eq(a.out[0].seq, 0x7f001231u, "RFC 9293: <SEQ=SEG.ACK><CTL=RST>");
	/* this connection's own segments keep TIME-WAIT's rules */
	peer(TCPF_ACK, IRS + 2, ISN + 2, 0, 310 * MS);
	step(PEV_LINGER, 310 * MS);
	cr_assert_eq(a.n, 0, "an ACK of ours: nothing");
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 2, 0, 320 * MS);
	step(PEV_LINGER, 320 * MS);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
}

Test(probe, a_late_synack_for_a_filtered_probe_is_reset)
{
	start(&fin_pp);
	step(PEV_TIMER, 1000 * MS);
	cr_assert_eq(p.res.outcome, OUTCOME_FILTERED);
	cr_assert_not(p.tw);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 1500 * MS);
	step(PEV_LINGER, 1500 * MS);
	cr_assert_eq(a.n, 1, "never ACKed: the peer's half-open entry is reset");
	cr_assert_eq(a.out[0].flags, TCPF_RST);
	cr_assert_eq(a.out[0].seq, ISN + 1);
}

Test(probe, closed_reply_rules)
{
	struct seg_out o;
	memset(&s, 0, sizeof(s));
	s.kind = SEG_TCP;
	s.flags = TCPF_RST;
	cr_assert_not(probe_closed_reply(&s, &o));
	s.flags = TCPF_SYN;
	s.seq = 0xffffffffu;
	cr_assert(probe_closed_reply(&s, &o));
	cr_assert_eq(o.flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(o.ack, 0u, "a SYN counts one, and the sequence space wraps");
	s.flags = TCPF_FIN | TCPF_ACK | TCPF_PSH;
	s.ack = 77;
	s.payload_len = 10;
	cr_assert(probe_closed_reply(&s, &o));
	cr_assert_eq(o.flags, TCPF_RST);
	cr_assert_eq(o.seq, 77u);
}

Test(probe, request_cut_to_a_small_window_and_the_mss)
{
	start(&http_pp);
	own(TCPF_SYN, ISN, 0, 10000);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 10100);
	s.win = 8;
	step(PEV_TCP, 10100);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.out[1].data_len, 8, "never beyond the peer's window");
	cr_assert_eq(a.out[1].data_off, 0u);
	/* acknowledged, the window open again: the next 8 */
	peer(TCPF_ACK, IRS + 1, ISN + 9, 0, 10300);
	s.win = 1; /* scaled by 2^7 now: 128 bytes */
	step(PEV_TCP, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].seq, ISN + 9);
	cr_assert_eq(a.out[0].data_off, 8u);
	cr_assert_eq(a.out[0].data_len, sizeof(req) - 1 - 8);
}

Test(probe, zero_window_probed_then_sent)
{
	start(&http_pp);
	own(TCPF_SYN, ISN, 0, 10000);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 10100);
	s.win = 0;
	step(PEV_TCP, 10100);
	cr_assert_eq(a.n, 1, "only our ACK: no room for data");
	cr_assert_gt(p.persist_at, 0);
	int64_t t = p.persist_at;
	cr_assert_leq(a.timer_at, t);
	step(PEV_TIMER, t);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].seq, ISN + 1, "a zero-window probe: one byte beyond the window");
	cr_assert_eq(a.out[0].data_len, 1);
	cr_assert_eq(p.snd_nxt, ISN + 2, "the byte is in flight");
	peer(TCPF_ACK, IRS + 1, ISN + 2, 0, t + 100);
	s.win = 4; /* scaled: 512 bytes */
	step(PEV_TCP, t + 100);
	cr_assert_eq(a.n, 1, "accepted, the window open: the rest of the request");
	cr_assert_eq(a.out[0].seq, ISN + 2);
	cr_assert_eq(a.out[0].data_off, 1u);
	cr_assert_eq(a.out[0].data_len, sizeof(req) - 2);
}

Test(probe, syn_never_seen_leaving_is_no_neighbour)
{
	start(&retx_pp);
	step(PEV_TIMER, 1000 * MS);
	step(PEV_TIMER, 3000 * MS);
	cr_assert_eq(p.res.outcome, OUTCOME_UNREACHABLE);
	cr_assert(p.res.no_neighbour);
	char name[32];
	cr_assert_str_eq(icmp_name(AF_INET, p.res.icmp_type, p.res.icmp_code, name, sizeof(name)),
			 "no-neighbour");
	start(&retx_pp);
	own_syn_ts(p.syn_tsval[0], 10000);
	step(PEV_TIMER, 1000 * MS);
	step(PEV_TIMER, 3000 * MS);
	cr_assert_eq(p.res.outcome, OUTCOME_FILTERED, "seen leaving: filtered on the way");
}

/* Sequence numbers wrap: ISN 0xffffffff (our SYN's ACK is 0), IRS
 * 0xfffffffe (their FIN is at 0xffffffff, its ACK 0). */
Test(probe, full_fin_close_across_the_wrap)
{
	const uint32_t isn = 0xffffffffu, irs = 0xfffffffeu;
	probe_release(&p);
	memset(&p, 0, sizeof(p));
	p.isn = isn;
	p.req = req;
	p.req_len = sizeof(req) - 1;
	probe_start(&p, &fin_pp, fin_pp.timeout_ns, 0, 5000);
	own(TCPF_SYN, isn, 0, 10000);
	peer(TCPF_SYN | TCPF_ACK, irs, 0u, 0, 10100);
	step(PEV_TCP, 10100);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.out[0].seq, 0u);
	cr_assert_eq(a.out[0].ack, 0xffffffffu);
	cr_assert_eq(a.out[1].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[1].seq, 0u);
	own(TCPF_ACK, 0u, 0, 10120);
	own(TCPF_FIN | TCPF_ACK, 0u, 0, 10130);
	peer(TCPF_FIN | TCPF_ACK, 0xffffffffu, 1u, 0, 10300);
	step(PEV_TCP, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[0].seq, 1u);
	cr_assert_eq(a.out[0].ack, 0u);
	own(TCPF_ACK, 1u, 0, 10310);
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_FIN);
}

Test(probe, an_echo_of_an_earlier_syn_after_a_later_one_left_is_not_sure)
{
	/* SYN 0 lost: the peer's entry holds SYN 1's timestamp, and it answers
	 * SYN 2 (or its own timer) echoing it: the RTT is SYN 2's, no sample */
	start(&retx_pp);
	own_syn_ts(p.syn_tsval[0], 10000);
	step(PEV_TIMER, 1000 * MS);
	uint32_t second = a.out[0].tsval;
	own_syn_ts(second, 1000 * MS + 10000);
	step(PEV_TIMER, 3000 * MS);
	cr_assert_eq(p.syns, 2, "the deadline: no third SYN at 3 s");
	start(&(struct probe_params){ PMODE_FULL, CLOSE_FIN, false, 8000 * MS, 3, 7, true, 64240,
				      1000 * MS, true, NULL, NULL, 0, false });
	own_syn_ts(p.syn_tsval[0], 10000);
	step(PEV_TIMER, 1000 * MS);
	second = a.out[0].tsval;
	own_syn_ts(second, 1000 * MS + 10000);
	step(PEV_TIMER, 3000 * MS);
	cr_assert_eq(p.syns, 3);
	own_syn_ts(a.out[0].tsval, 3000 * MS + 10000);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 3000 * MS + 10400);
	s.opt.ts_ecr = second;
	step(PEV_TCP, 3000 * MS + 10500);
	cr_assert_eq(p.res.rtt_ns, 400, "from the third SYN, the last to leave");
	cr_assert_not(p.rtt_clean);
}

/* ---- the byte stream under HTTP ----------------------------------------- */

static const uint8_t resp2[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
#define AFTER_REQ (ISN + 1 + (uint32_t)(sizeof(req) - 1))

/* A handshake and our request seen leaving at 10150. */
static void http_open_at(void)
{
	start(&http_pp);
	synack(10100);
	own(TCPF_PSH | TCPF_ACK, ISN + 1, sizeof(req) - 1, 10150);
}

/* Bytes [from, to) of resp2 from the peer, whole in the capture. */
static void resp_part(size_t from, size_t to, uint8_t extra, int64_t ts)
{
	peer(TCPF_ACK | extra, IRS + 1 + (uint32_t)from, AFTER_REQ, to - from, ts);
	s.payload = resp2 + from;
	s.payload_cap = to - from;
	step(PEV_TCP, ts);
}

Test(probe, http_status_line_split_and_reversed_is_read)
{
	http_open_at();
	/* "HTTP/1.1 4" | "04 Not Found..." : the second half first */
	resp_part(10, sizeof(resp2) - 1, TCPF_PSH, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[0].ack, IRS + 1, "a duplicate ACK asks for the hole");
	cr_assert_eq(p.res.http.status, 0);
	cr_assert_eq(p.res.http.bytes, 0);
	resp_part(0, 10, 0, 10400);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].ack, IRS + 1 + sizeof(resp2) - 1, "the hole filled: all acknowledged");
	cr_assert_eq(p.res.http.status, 404);
	cr_assert_eq(p.res.http.ttfb_ns, 10400 - 10150, "the first byte came in at 10400");
	cr_assert_eq(p.res.http.bytes, sizeof(resp2) - 1);
	cr_assert_eq(probe_window(&p), 64240 >> 7, "everything consumed: the whole window");
}

Test(probe, http_status_line_in_two_segments_in_order)
{
	http_open_at();
	resp_part(0, 5, TCPF_PSH, 10300); /* "HTTP/" */
	cr_assert_eq(a.out[0].ack, IRS + 6);
	cr_assert_eq(p.res.http.status, 0, "not a whole line yet");
	cr_assert_eq(p.res.http.ttfb_ns, 150);
	cr_assert_eq(stream_window(p.stream), 64240 - 5, "held bytes take room from the window");
	resp_part(5, sizeof(resp2) - 1, TCPF_PSH, 10350);
	cr_assert_eq(p.res.http.status, 404);
	cr_assert_eq(p.res.http.ttfb_ns, 150);
}

Test(probe, http_fin_after_a_hole_waits_for_the_hole)
{
	http_open_at();
	resp_part(20, sizeof(resp2) - 1, TCPF_FIN, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_ACK, "no FIN of ours: theirs is not in yet");
	cr_assert_eq(a.out[0].ack, IRS + 1);
	cr_assert_eq(p.state, PS_APP);
	resp_part(0, 20, 0, 10400);
	cr_assert_eq(p.res.http.status, 404);
	cr_assert_eq(p.state, PS_LAST_ACK);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].ack, IRS + 1 + sizeof(resp2) - 1 + 1, "their data and FIN acknowledged");
	peer(TCPF_ACK, IRS + 1 + (uint32_t)sizeof(resp2), AFTER_REQ + 1, 0, 10500);
	step(PEV_TCP, 10500);
	cr_assert(a.done);
	cr_assert_eq(p.res.close, CLOSE_PEER_FIN);
}

Test(probe, http_segment_cut_by_the_capture_is_taken_as_far_as_captured)
{
	http_open_at();
	peer(TCPF_PSH | TCPF_ACK | TCPF_FIN, IRS + 1, AFTER_REQ, sizeof(resp2) - 1, 10300);
	s.payload = resp2;
	s.payload_cap = 12; /* "HTTP/1.1 404" */
	step(PEV_TCP, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].ack, IRS + 13, "only what was captured, and no FIN");
	cr_assert_eq(p.state, PS_APP);
	cr_assert_eq(p.res.http.bytes, 12);
	resp_part(0, sizeof(resp2) - 1, TCPF_FIN, 10600); /* sent again, captured whole */
	cr_assert_eq(p.res.http.status, 404);
	cr_assert_eq(p.res.http.bytes, sizeof(resp2) - 1);
	cr_assert_eq(p.state, PS_LAST_ACK);
}

Test(probe, http_request_sent_again_from_the_stream)
{
	start(&http_pp);
	synack(10100);
	cr_assert_eq(a.out[1].data_len, sizeof(req) - 1);
	int64_t t = a.timer_at;
	step(PEV_TIMER, t);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].seq, ISN + 1);
	cr_assert_eq(a.out[0].data_off, 0u);
	cr_assert_eq(a.out[0].data_len, sizeof(req) - 1);
	cr_assert_eq(memcmp(probe_seg_payload(&p, &a.out[0]), req, sizeof(req) - 1), 0);
	cr_assert_eq(p.rtx, 1);
	/* half acknowledged: the rest again, from snd_una */
	peer(TCPF_ACK, IRS + 1, ISN + 1 + 5, 0, 10700);
	step(PEV_TCP, 10700);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(a.out[0].seq, ISN + 6);
	cr_assert_eq(a.out[0].data_off, 5u);
	cr_assert_eq(a.out[0].data_len, sizeof(req) - 1 - 5);
	cr_assert_eq(memcmp(probe_seg_payload(&p, &a.out[0]), req + 5, sizeof(req) - 1 - 5), 0);
}

Test(probe, headers_only_kinds_have_no_stream)
{
	start(&fin_pp);
	synack(10100);
	cr_assert_null(p.stream);
	start(&http_pp);
	cr_assert_null(p.stream, "allocated when the handshake completes");
	synack(10100);
	cr_assert_not_null(p.stream);
	probe_release(&p);
	cr_assert_null(p.stream);
	cr_assert(kind_reads_payload(&kind_http));
	cr_assert_not(kind_reads_payload(&kind_full));
	cr_assert_not(kind_reads_payload(&kind_syn));
}

/* A made-up application: reads a banner line, sends "QUIT\r\n", closes. */
static enum app_verdict banner_data(struct probe *pr, const struct app_input *in, size_t *consumed)
{
	if (!memchr(in->data, '\n', in->len))
		return APP_MORE;
	*consumed = in->len;
	probe_send(pr, "QUIT\r\n", 6);
	return APP_CLOSE;
}

static const struct probe_app banner_app = { .on_data = banner_data };
static const struct probe_kind banner_kind = { .name = "banner-test", .flags = TCPF_SYN,
					       .handshake = true, .after = AFTER_APP,
					       .app = &banner_app, .answers = NULL,
					       .classify = NULL };

Test(probe, an_application_sends_then_closes)
{
	probe_release(&p);
	memset(&p, 0, sizeof(p));
	p.isn = ISN;
	p.kind = &kind_full;
	probe_start(&p, &fin_pp, fin_pp.timeout_ns, 0, 5000);
	/* the classify hook of a handshake kind: borrowed from full */
	struct probe_kind k = banner_kind;
	k.answers = kind_full.answers;
	k.classify = kind_full.classify;
	p.kind = &k;
	synack(10100);
	cr_assert_eq(a.n, 1, "a server speaks first: only our ACK");
	cr_assert_eq(p.state, PS_APP);
	static const uint8_t banner[] = "220 ready\r\n";
	peer(TCPF_PSH | TCPF_ACK, IRS + 1, ISN + 1, sizeof(banner) - 1, 10200);
	s.payload = banner;
	s.payload_cap = sizeof(banner) - 1;
	step(PEV_TCP, 10200);
	cr_assert_eq(a.n, 2, "our data (carrying the ACK), then our FIN");
	cr_assert_eq(a.out[0].data_len, 6);
	cr_assert_eq(a.out[0].ack, IRS + 1 + sizeof(banner) - 1);
	cr_assert_eq(memcmp(probe_seg_payload(&p, &a.out[0]), "QUIT\r\n", 6), 0);
	cr_assert_eq(a.out[1].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[1].seq, ISN + 1 + 6);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1 + (uint32_t)sizeof(banner) - 1, ISN + 1 + 7, 0, 10300);
	step(PEV_TCP, 10300);
	cr_assert_eq(p.res.close, CLOSE_FIN);
	probe_release(&p);
}

/* ---- the PMTU test (--pmtu) --------------------------------------------- */

static const struct probe_params pmtu_pp = { .mode = PMODE_FULL, .close = CLOSE_FIN,
					     .timeout_ns = 10000 * MS, .retries = 3, .wscale = 7,
					     .ts = true, .window = 64240 };

/* A pmtu probe to an IPv4 peer whose route's interface has this MTU. */
static void start_pmtu(const struct probe_params *pp, int family, uint16_t route_mtu)
{
	probe_release(&p);
	memset(&p, 0, sizeof(p));
	p.isn = ISN;
	p.kind = &kind_pmtu;
	p.src.family = p.dst.family = family;
	p.route_mtu = route_mtu;
	probe_start(&p, pp, pp->timeout_ns, 0, 5000);
}

/* The test segment among the actions; NULL if none. */
static const struct seg_out *test_seg(void)
{
	for (int i = 0; i < a.n; i++)
		if (a.out[i].data_len > 0)
			return &a.out[i];
	return NULL;
}

static void ack_upto(uint32_t ack, int64_t ts)
{
	peer(TCPF_ACK, IRS + 1, ack, 0, ts);
	step(PEV_TCP, ts);
}

/* An ICMP too-big quoting a segment of ours of quote_len bytes at seq. */
static void too_big(uint32_t mtu, uint32_t quote_len, uint32_t seq, int64_t ts)
{
	memset(&s, 0, sizeof(s));
	s.kind = SEG_ICMP;
	s.src.family = s.dst.family = AF_INET;
	s.src.b[3] = 254;
	s.icmp_type = 3;
	s.icmp_code = 4;
	s.icmp_mtu = mtu;
	s.quote.len = quote_len;
	s.quote.seq = seq;
	s.ts_ns = ts;
	step(PEV_ICMP, ts);
}

Test(probe, pmtu_ok_full_size_acked_then_fin)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	cr_assert_eq(p.state, PS_PMTU);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.out[0].flags, TCPF_ACK, "the handshake's ACK first");
	const struct seg_out *d = test_seg();
	cr_assert_not_null(d);
	cr_assert_eq(d->seq, ISN + 1);
	cr_assert_eq(d->data_len, 1448, "1500 - 20 - 20 - 12 (timestamps)");
	cr_assert_not_null(probe_seg_payload(&p, d), "zeros to send");
	cr_assert_eq(p.res.pmtu.first, 1500);
	ack_upto(ISN + 1 + 1448, 10400);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_OK);
	cr_assert_eq(p.res.pmtu.size, 1500);
	cr_assert_eq(p.res.pmtu.sends, 1);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1448);
	cr_assert_str_eq(pmtu_verdict_name(p.res.pmtu.verdict), "ok");
}

/* A server that accepts and closes with our test bytes unread resets
 * (Linux): after it ACKed them, or in the RST that ACKs them, that is no
 * handshake-then-reset; a RST that ACKs none of them still is. */
static const struct probe_params pmtu_mb_pp = { .mode = PMODE_FULL, .close = CLOSE_FIN,
						.timeout_ns = 10000 * MS, .retries = 3, .wscale = 7,
						.ts = true, .window = 64240, .middlebox = true };

Test(probe, pmtu_reset_after_our_bytes_is_not_reset_after_handshake)
{
	start_pmtu(&pmtu_mb_pp, AF_INET, 1500);
	synack(10117);
	ack_upto(ISN + 1 + 1448, 10400);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	peer(TCPF_RST | TCPF_ACK, IRS + 1, ISN + 1 + 1448, 0, 10500);
	step(PEV_TCP, 10500);
	cr_assert_eq(p.res.close, CLOSE_PEER_RST);
	cr_assert(p.res.mb.data_acked);
	cr_assert(!p.res.mb.reset);
	start_pmtu(&pmtu_mb_pp, AF_INET, 1500);
	synack(10117);
	peer(TCPF_RST | TCPF_ACK, IRS + 1, ISN + 1 + 1448, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert_eq(p.res.close, CLOSE_PEER_RST);
	cr_assert(!p.res.mb.reset, "the RST ACKs the bytes: the server's delayed ACK never went");
	start_pmtu(&pmtu_mb_pp, AF_INET, 1500);
	synack(10117);
	peer(TCPF_RST | TCPF_ACK, IRS + 1, ISN + 1, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert(p.res.mb.reset, "reset before the bytes came");
}

Test(probe, pmtu_size_bounded_by_the_route_and_the_peer_mss)
{
	start_pmtu(&pmtu_pp, AF_INET, 1400);
	synack(10117);
	cr_assert_eq(test_seg()->data_len, 1400 - 52);
	cr_assert_eq(p.res.pmtu.first, 1400);
	/* IPv6: 40 bytes of IP header; the peer's MSS (1460) below the route's */
	start_pmtu(&pmtu_pp, AF_INET6, 9000);
	synack(10117);
	cr_assert_eq(test_seg()->data_len, 1460 - 12);
	cr_assert_eq(p.res.pmtu.first, 1460 + 60);
}

Test(probe, pmtu_frag_needed_then_the_next_hop_mtu_passes)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	int64_t timer = a.timer_at;
	too_big(1280, 1500, ISN + 1, 10300);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(test_seg()->seq, ISN + 1, "the same bytes, fewer of them");
	cr_assert_eq(test_seg()->data_len, 1280 - 52);
	cr_assert_eq(p.res.pmtu.next_hop, 1280);
	cr_assert_eq(p.res.pmtu.from.b[3], 254);
	cr_assert_neq(a.timer_at, timer, "a wait of its own");
	/* the error again (for the first size), or one quoting another size */
	too_big(1280, 1500, ISN + 1, 10310);
	cr_assert_eq(a.n, 0);
	too_big(1000, 1400, ISN + 1, 10320);
	cr_assert_eq(a.n, 0);
	ack_upto(ISN + 1 + 1228, 10500);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_FRAG_NEEDED);
	cr_assert_eq(p.res.pmtu.size, 1280);
	cr_assert_eq(p.res.pmtu.sends, 2);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1228);
	cr_assert_str_eq(pmtu_verdict_name(p.res.pmtu.verdict), "fragmentation-needed");
}

Test(probe, pmtu_too_big_without_a_usable_mtu_bisects)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	too_big(0, 1500, ISN + 1, 10300); /* a router older than RFC 1191 */
	cr_assert_eq(test_seg()->data_len, 1280 - 52, "IPv6's minimum MTU first");
	too_big(1600, 1280, ISN + 1, 10400); /* not below the size refused */
	cr_assert_eq(test_seg()->data_len, 614, "then halves");
}

/* A path that carries packets up to path_mtu and silently loses the rest:
 * the peer ACKs what arrives, the timer fires for what does not. Bounded. */
static void walk_path(unsigned path_mtu, int *sizes_sent)
{
	*sizes_sent = 0;
	for (int i = 0; i < 200 && p.state == PS_PMTU; i++) {
		const struct seg_out *d = test_seg();
		int64_t now = a.timer_at;
		if (d && d->data_len + 52u <= path_mtu) {
			ack_upto(d->seq + d->data_len, now - 1);
		} else {
			if (d)
				(*sizes_sent)++;
			step(PEV_TIMER, now);
		}
	}
}

Test(probe, pmtu_black_hole_bisected_to_the_largest_size_that_passes)
{
	int lost;
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	walk_path(1300, &lost);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_BLACK_HOLE);
	cr_assert_eq(p.res.pmtu.size, 1300);
	cr_assert_eq(p.res.pmtu.next_hop, 0);
	cr_assert_gt(p.res.pmtu.sends, 4);
	cr_assert_lt(p.res.pmtu.sends, 30, "bisection, not a walk");
	cr_assert(lost > 0);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, p.snd_una, "lost bytes are not ours to send");
	cr_assert_str_eq(pmtu_verdict_name(p.res.pmtu.verdict), "black-hole");
}

Test(probe, pmtu_each_size_sent_twice_before_it_counts_lost)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(test_seg()->data_len, 1448, "sent again");
	cr_assert_eq(p.rtx, 0, "the test's losses are no loss on the connection");
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(test_seg()->data_len, 1228, "then a smaller size");
	cr_assert_eq(p.res.pmtu.sends, 3);
}

Test(probe, pmtu_nothing_passes)
{
	int lost;
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	walk_path(0, &lost);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_BLACK_HOLE);
	cr_assert_eq(p.res.pmtu.size, 0);
	cr_assert_eq(p.state, PS_FIN_WAIT);
}

Test(probe, pmtu_bisection_cut_short_by_the_timeout)
{
	int lost;
	struct probe_params pp = pmtu_pp;
	pp.timeout_ns = 1000 * MS;
	start_pmtu(&pp, AF_INET, 1500);
	synack(10117);
	walk_path(1300, &lost);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_BLACK_HOLE);
	cr_assert_gt(p.res.pmtu.size, 0);
	cr_assert_leq(p.res.pmtu.size, 1300, "a size that passed");
	cr_assert_eq(p.state, PS_FIN_WAIT);
}

Test(probe, pmtu_peer_closes_or_resets_during_the_test)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 1 + 1448, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_OK);
	cr_assert_eq(p.state, PS_LAST_ACK);
	cr_assert_eq(p.res.close, CLOSE_PEER_FIN);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].ack, IRS + 2);

	/* their FIN before our segment's ACK: it is waited for, then ours */
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 1, 0, 10200);
	step(PEV_TCP, 10200);
	cr_assert_eq(p.state, PS_PMTU);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_ACK);
	cr_assert_eq(a.out[0].ack, IRS + 2, "their FIN acknowledged");
	ack_upto(ISN + 1 + 1448, 10400);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_OK);
	cr_assert_eq(p.state, PS_LAST_ACK);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1448, "after the bytes they have");
	/* ... or lost twice: no smaller size, our FIN where the bytes were */
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 1, 0, 10200);
	step(PEV_TCP, 10200);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(test_seg()->data_len, 1448);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(p.state, PS_LAST_ACK);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_BLACK_HOLE);
	cr_assert_eq(p.res.close, CLOSE_PEER_FIN);

	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	peer(TCPF_RST, IRS + 1, 0, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_NOT_TESTED);
	cr_assert_eq(p.res.close, CLOSE_PEER_RST);
	cr_assert(a.done);
}

Test(probe, pmtu_close_rst)
{
	struct probe_params pp = pmtu_pp;
	pp.close = CLOSE_RST;
	start_pmtu(&pp, AF_INET, 1500);
	synack(10117);
	cr_assert_eq(p.state, PS_PMTU, "the test first");
	ack_upto(ISN + 1 + 1448, 10400);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_OK);
	cr_assert_eq(a.out[0].flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(p.res.close, CLOSE_RST);
}

Test(probe, pmtu_not_tested_for_other_kinds)
{
	start(&fin_pp);
	synack(10117);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_NOT_TESTED);
	cr_assert_null(probe_seg_payload(&p, &a.out[0]));
	cr_assert_str_eq(pmtu_verdict_name(PMTU_NOT_TESTED), "not-tested");
}

/* Review of issue 17, finding 1: an ACK for a size counted lost (both of
 * its ACKs late) arrives while a smaller one is in flight: above snd_nxt,
 * but below the highest sequence sent. That size passed; our FIN goes after
 * the bytes the server holds. */
Test(probe, pmtu_late_ack_of_a_size_counted_lost)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	step(PEV_TIMER, a.timer_at);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(test_seg()->data_len, 1228, "1448 counted lost");
	cr_assert_eq(p.snd_max, ISN + 1 + 1448, "the highest sequence sent");
	ack_upto(ISN + 1 + 1448, a.timer_at - 1);
	cr_assert_eq(p.res.pmtu.verdict, PMTU_OK, "%s", pmtu_verdict_name(p.res.pmtu.verdict));
	cr_assert_eq(p.res.pmtu.size, 1500);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1448, "after what the server holds");
	ack_upto(ISN + 2 + 1448, a.timer_at - 1);
	cr_assert(p.fin_acked);
}

/* A late ACK for a larger size that proves less than the full size: the
 * bisection goes on above it, below the full size. */
Test(probe, pmtu_late_ack_of_a_bisected_size)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	step(PEV_TIMER, a.timer_at);
	step(PEV_TIMER, a.timer_at); /* 1448 lost: 1228 (1280) next */
	step(PEV_TIMER, a.timer_at);
	step(PEV_TIMER, a.timer_at); /* 1228 lost: 614 next */
	cr_assert_eq(test_seg()->data_len, 614);
	ack_upto(ISN + 1 + 1228, a.timer_at - 1);
	cr_assert_eq(p.state, PS_PMTU, "between 1280 and 1500: more to try");
	cr_assert_eq(p.pmtu.lo, 1228);
	cr_assert_eq(test_seg()->seq, ISN + 1 + 1228);
	cr_assert_gt(test_seg()->data_len, 0);
	cr_assert_gt(test_seg()->data_len, 1228, "above what passed");
	cr_assert_lt(test_seg()->data_len, 1448, "below the full size, never ACKed");
}

/* Finding 1: the test's deadline with a size in flight: one more RTO for
 * it; its ACK then puts our FIN (or RST) after it. */
Test(probe, pmtu_deadline_waits_for_the_size_in_flight)
{
	for (int rst = 0; rst < 2; rst++) {
		struct probe_params pp = pmtu_pp;
		pp.timeout_ns = 1000 * MS;
		pp.close = rst ? CLOSE_RST : CLOSE_FIN;
		start_pmtu(&pp, AF_INET, 1500);
		synack(10117);
		int64_t end = p.phase_deadline;
		step(PEV_TIMER, end);
		cr_assert_eq(p.state, PS_PMTU, "the size in flight is waited for");
		cr_assert_eq(a.n, 0, "no close yet");
		cr_assert_gt(a.timer_at, end);
		ack_upto(ISN + 1 + 1448, end + 1);
		cr_assert_eq(p.res.pmtu.verdict, PMTU_OK);
		cr_assert_eq(a.n, 1);
		cr_assert_eq(a.out[0].flags, (rst ? TCPF_RST : TCPF_FIN) | TCPF_ACK);
		cr_assert_eq(a.out[0].seq, ISN + 1 + 1448, "after the bytes they have");
	}
	/* no ACK in that RTO: lost, the close where the bytes were */
	struct probe_params pp = pmtu_pp;
	pp.timeout_ns = 1000 * MS;
	start_pmtu(&pp, AF_INET, 1500);
	synack(10117);
	step(PEV_TIMER, p.phase_deadline);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1);
	cr_assert_eq(p.res.pmtu.sends, 1);
	/* --close rst, unsure what the server holds: a RST at each end; the
	 * one not at its rcv_nxt draws a challenge ACK, answered by a RST at
	 * its ack once the probe lingers */
	pp.close = CLOSE_RST;
	start_pmtu(&pp, AF_INET, 1500);
	synack(10117);
	step(PEV_TIMER, p.phase_deadline);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(a.out[0].flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1);
	cr_assert_eq(a.out[1].flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(a.out[1].seq, ISN + 1 + 1448);
	own(TCPF_RST | TCPF_ACK, ISN + 1, 0, a.timer_at - 2);
	own(TCPF_RST | TCPF_ACK, ISN + 1 + 1448, 0, a.timer_at - 1);
	cr_assert_eq(p.state, PS_DONE);
	ack_upto(ISN + 1 + 1448, p.phase_deadline + 5); /* its challenge ACK */
	step(PEV_LINGER, p.phase_deadline + 5);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_RST);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1448, "exactly at its rcv_nxt");
}

/* Finding 1: the size counted lost had reached the server after all: its
 * answer to our FIN (a duplicate to it) acknowledges the bytes it holds,
 * above our FIN. The FIN goes again after them, and the close completes. */
Test(probe, pmtu_fin_moved_after_bytes_the_server_holds)
{
	struct probe_params pp = pmtu_pp;
	pp.timeout_ns = 1000 * MS;
	start_pmtu(&pp, AF_INET, 1500);
	synack(10117);
	step(PEV_TIMER, p.phase_deadline);
	step(PEV_TIMER, a.timer_at);
	cr_assert_eq(a.out[0].seq, ISN + 1, "our FIN where the bytes were");
	cr_assert_eq(p.res.pmtu.verdict, PMTU_NOT_TESTED, "nothing ACKed or lost in time");
	int64_t t = a.timer_at - 1;
	ack_upto(ISN + 1 + 1448, t); /* the server's duplicate ACK */
	cr_assert_eq(p.res.pmtu.verdict, PMTU_OK, "the full size passed after all");
	cr_assert_eq(p.res.pmtu.size, 1500);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	cr_assert_eq(a.n, 1);
	cr_assert_eq(a.out[0].flags, TCPF_FIN | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1448);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 2 + 1448, 0, t + 1);
	step(PEV_TCP, t + 1);
	cr_assert_eq(p.res.close, CLOSE_FIN);
	cr_assert(p.tw);
}

/* Finding 3: the test size within the server's window, and a partial ACK
 * counts as the size passing (the whole packet crossed). */
Test(probe, pmtu_size_within_the_peer_window)
{
	start_pmtu(&pmtu_pp, AF_INET, 1500);
	own(TCPF_SYN, ISN, 0, 10000);
	peer(TCPF_SYN | TCPF_ACK, IRS, ISN + 1, 0, 10117);
	s.win = 1000;
	step(PEV_TCP, 10117);
	cr_assert_eq(test_seg()->data_len, 1000, "no more than the window");
	cr_assert_eq(p.res.pmtu.first, 1052);

	start_pmtu(&pmtu_pp, AF_INET, 1500);
	synack(10117);
	cr_assert_eq(test_seg()->data_len, 1448);
	ack_upto(ISN + 1 + 1000, 10400); /* its receive buffer took 1000 */
	cr_assert_eq(p.res.pmtu.verdict, PMTU_OK);
	cr_assert_eq(p.res.pmtu.size, 1500);
	cr_assert_eq(p.state, PS_FIN_WAIT);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1000, "after what it took");
	struct probe_params pp = pmtu_pp;
	pp.close = CLOSE_RST;
	start_pmtu(&pp, AF_INET, 1500);
	synack(10117);
	ack_upto(ISN + 1 + 1000, 10400);
	cr_assert_eq(a.n, 1, "its rcv_nxt is known: one RST");
	cr_assert_eq(a.out[0].flags, TCPF_RST | TCPF_ACK);
	cr_assert_eq(a.out[0].seq, ISN + 1 + 1000);
}

/* The IP and TCP headers of a packet without options, by family. */
Test(probe, tcpip_header_bytes)
{
	cr_assert_eq(tcpip_hdr_len(AF_INET), 40);
	cr_assert_eq(tcpip_hdr_len(AF_INET6), 60);
}

/* The middlebox evidence: a full handshake's SYN/ACK and the peer's later
 * segments are kept (middlebox.h); syn mode keeps none. */
Test(probe, middlebox_evidence_collected_in_full_mode)
{
	start(&fin_pp);
	cr_assert(p.res.mb.on);
	synack(10100);
	cr_assert(p.res.mb.synack);
	cr_assert_eq(p.res.mb.sa.tsval, 777u);
	own(TCPF_ACK, ISN + 1, 0, 10150);
	own(TCPF_FIN | TCPF_ACK, ISN + 1, 0, 10160);
	peer(TCPF_FIN | TCPF_ACK, IRS + 1, ISN + 2, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert_eq(p.res.mb.later, 1);
	cr_assert(p.res.mb.peer_spoke);
	cr_assert(!p.res.mb.reset);
	struct mb_judgement j;
	probe_middlebox(&p.res, &j);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	start(&syn_pp);
	cr_assert(!p.res.mb.on);
	synack(10100);
	cr_assert(!p.res.mb.synack);
	probe_middlebox(&p.res, &j);
	cr_assert_eq(j.v, MB_NA);
}

Test(probe, middlebox_reset_after_handshake)
{
	start(&fin_pp);
	synack(10100);
	own(TCPF_ACK, ISN + 1, 0, 10150);
	own(TCPF_FIN | TCPF_ACK, ISN + 1, 0, 10160);
	peer(TCPF_RST | TCPF_ACK, IRS + 1, ISN + 2, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert_eq(p.res.close, CLOSE_PEER_RST);
	cr_assert(p.res.mb.reset);
	start(&fin_pp);
	synack(10100);
	peer(TCPF_RST | TCPF_ACK, IRS + 7, ISN + 1, 0, 10400);
	step(PEV_TCP, 10400);
	cr_assert(!p.res.mb.reset, "a reset not at rcv_nxt is not believed");
}
