/* Strict matching against real frames: ack == ISN + 1, ports, addresses,
 * ICMP by its quoted header. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "decode.h"
#include "frames.h"
#include "match.h"

static struct probe probe_for(int family, uint16_t dport, uint32_t isn)
{
	struct probe p;
	memset(&p, 0, sizeof(p));
	p.state = PS_SYN_SENT;
	p.kind = &kind_full;
	p.src.family = p.dst.family = family;
	if (family == AF_INET) {
		uint8_t s[4] = { 198, 18, 0, 1 }, d[4] = { 198, 18, 0, 2 };
		memcpy(p.src.b, s, 4);
		memcpy(p.dst.b, d, 4);
	} else {
		uint8_t s[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
		uint8_t d[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
		memcpy(p.src.b, s, 16);
		memcpy(p.dst.b, d, 16);
	}
	p.sport = 61000;
	p.dport = dport;
	p.isn = isn;
	return p;
}

static enum probe_event ev_of(const struct probe *p, const uint8_t *f, size_t n)
{
	struct segment s;
	cr_assert_eq(decode_frame(LINK_EN10MB, f, n, 0, &s), 0);
	return match_probe(p, &s);
}

#define EV(p, f) ev_of(&(p), f, sizeof(f))

Test(match, v4_real_exchange)
{
	struct probe p = probe_for(AF_INET, 80, 2542258321u);
	cr_assert_eq(EV(p, v4_syn), PEV_OWN_SYN);
	cr_assert_eq(EV(p, v4_synack), PEV_TCP);
	struct probe c = probe_for(AF_INET, 81, 4113662212u);
	cr_assert_eq(EV(c, v4_rstack), PEV_TCP);
	struct probe u = probe_for(AF_INET, 83, 237426307u);
	cr_assert_eq(EV(u, v4_icmp_admin), PEV_ICMP);
}

Test(match, v6_real_exchange)
{
	struct probe p = probe_for(AF_INET6, 80, 971519268u);
	cr_assert_eq(EV(p, v6_syn), PEV_OWN_SYN);
	cr_assert_eq(EV(p, v6_synack), PEV_TCP);
	struct probe c = probe_for(AF_INET6, 81, 3511940205u);
	cr_assert_eq(EV(c, v6_rstack), PEV_TCP);
	struct probe u = probe_for(AF_INET6, 83, 3760947485u);
	cr_assert_eq(EV(u, v6_icmp_admin), PEV_ICMP);
}

Test(match, wrong_isn_ignored)
{
	struct probe p = probe_for(AF_INET, 80, 2542258321u + 1);
	cr_assert_eq(EV(p, v4_synack), PEV_STALE,
		     "ack == ISN + 2 answers no SYN of ours: an older connection's, to reset");
	cr_assert_eq(EV(p, v4_syn), 0, "a SYN with another sequence is not ours");
	struct probe u = probe_for(AF_INET, 83, 237426308u);
	cr_assert_eq(EV(u, v4_icmp_admin), 0, "ICMP quoting another sequence");
}

Test(match, wrong_ports_or_addresses_ignored)
{
	struct probe p = probe_for(AF_INET, 8080, 2542258321u);
	cr_assert_eq(EV(p, v4_synack), 0);
	p = probe_for(AF_INET, 80, 2542258321u);
	p.sport = 61001;
	cr_assert_eq(EV(p, v4_synack), 0);
	p = probe_for(AF_INET, 80, 2542258321u);
	p.dst.b[3] = 9;
	cr_assert_eq(EV(p, v4_synack), 0);
	p = probe_for(AF_INET6, 80, 2542258321u);
	cr_assert_eq(EV(p, v4_synack), 0, "other family");
}

Test(match, synack_without_ack_flag_ignored)
{
	struct probe p = probe_for(AF_INET, 80, 2542258321u);
	struct segment s;
	decode_frame(LINK_EN10MB, v4_synack, sizeof(v4_synack), 0, &s);
	s.flags = TCPF_SYN;
	cr_assert_neq(match_probe(&p, &s), PEV_TCP);
	s.flags = TCPF_SYN | TCPF_RST | TCPF_ACK;
	cr_assert_neq(match_probe(&p, &s), PEV_TCP);
	s.flags = TCPF_ACK;
	cr_assert_eq(match_probe(&p, &s), PEV_STALE, "a bare ACK answers no SYN: stale, reset");
}

Test(match, port_table_lookup)
{
	struct port_table t;
	cr_assert_eq(port_table_init(&t, 61000, 61010), 0);
	struct probe p = probe_for(AF_INET, 80, 2542258321u);
	port_table_set(&t, 61000, &p);
	struct segment s;
	enum probe_event ev = 0;
	decode_frame(LINK_EN10MB, v4_synack, sizeof(v4_synack), 0, &s);
	cr_assert_eq(match_segment(&t, &s, &ev), &p);
	cr_assert_eq(ev, PEV_TCP);
	decode_frame(LINK_EN10MB, v4_syn, sizeof(v4_syn), 0, &s);
	cr_assert_eq(match_segment(&t, &s, &ev), &p);
	cr_assert_eq(ev, PEV_OWN_SYN);
	cr_assert_null(port_table_get(&t, 60999));
	cr_assert_null(port_table_get(&t, 61011));
	port_table_set(&t, 61000, NULL);
	decode_frame(LINK_EN10MB, v4_synack, sizeof(v4_synack), 0, &s);
	cr_assert_null(match_segment(&t, &s, &ev), "no live probe on the port");
	port_table_free(&t);
}

Test(match, bare_rst_is_a_later_reply_but_never_answers_a_syn)
{
	struct probe p = probe_for(AF_INET, 80, 2542258321u);
	struct segment s;
	decode_frame(LINK_EN10MB, v4_synack, sizeof(v4_synack), 0, &s);
	s.flags = TCPF_RST;
	s.ack = 0;
	cr_assert_neq(match_probe(&p, &s), PEV_TCP, "a bare RST answers no SYN");
	p.state = PS_APP;
	p.snd_nxt = p.isn + 100;
	cr_assert_eq(match_probe(&p, &s), PEV_TCP,
		     "a bare RST from a peer whose socket is gone reaches the state machine");
	s.flags = TCPF_RST | TCPF_SYN;
	cr_assert_neq(match_probe(&p, &s), PEV_TCP);
	s.flags = TCPF_FIN;
	cr_assert_eq(match_probe(&p, &s), PEV_STALE,
		     "anything else needs an acceptable ACK (else a challenge ACK)");
}

/* Across the wrap: ISN 0xffffffff is acknowledged by ack 0, and by
 * nothing else (ack 0xffffffff or 1 is not ours); IRS 0xfffffffe. */
Test(match, synack_across_the_sequence_wrap)
{
	struct probe p = probe_for(AF_INET, 80, 0xffffffffu);
	struct segment s;
	cr_assert_eq(decode_frame(LINK_EN10MB, v4_synack, sizeof(v4_synack), 0, &s), 0);
	s.seq = 0xfffffffeu;
	s.ack = 0;
	cr_assert_eq(match_probe(&p, &s), PEV_TCP);
	s.ack = 0xffffffffu;
	cr_assert_eq(match_probe(&p, &s), PEV_STALE, "ack == ISN is not an answer: stale");
	s.ack = 1;
	cr_assert_eq(match_probe(&p, &s), PEV_STALE, "ack == ISN + 2 is not an answer: stale");
}

/* --pmtu: a frag-needed from the path bed's r1 quoting our test segment
 * (198.18.31.1:63684 -> 198.18.33.2:80, seq 0x02c991f0) is the probe's
 * while that segment is in flight; not once the test is over, nor for
 * other bytes. */
Test(match, icmp_too_big_for_the_pmtu_segment_in_flight)
{
	static uint8_t f[V4_FRAG_NEEDED_LEN];
	size_t n = pmtu_frame(f, v4_frag_needed_head, sizeof(v4_frag_needed_head),
			      V4_FRAG_NEEDED_LEN);
	struct probe p = probe_for(AF_INET, 80, 0x02c991f0u - 1);
	uint8_t s[4] = { 198, 18, 31, 1 }, d[4] = { 198, 18, 33, 2 };
	memcpy(p.src.b, s, 4);
	memcpy(p.dst.b, d, 4);
	p.sport = 63684;
	p.kind = &kind_pmtu;
	p.state = PS_PMTU;
	p.snd_una = 0x02c991f0u;
	p.snd_nxt = p.snd_una + 1448;
	cr_assert_eq(ev_of(&p, f, n), PEV_ICMP);
	p.state = PS_FIN_WAIT;
	cr_assert_eq(ev_of(&p, f, n), 0, "the test is over");
	p.state = PS_PMTU;
	p.snd_una += 100;
	cr_assert_eq(ev_of(&p, f, n), 0, "another segment in flight");
	p.state = PS_SYN_SENT;
	cr_assert_eq(ev_of(&p, f, n), 0, "a SYN's error quotes the ISN");
}

/* Review of issue 17, finding 1: a PMTU test moves snd_nxt back (a smaller
 * size, our close after the test); an ACK up to the highest sequence sent
 * (snd_max) is still the connection's (a late one for a larger size, or
 * the server's answer to a FIN below what it holds); above it, stale. Our
 * own segments up to it are ours. */
Test(match, ack_up_to_the_highest_sequence_sent)
{
	struct probe p = probe_for(AF_INET, 80, 2542258321u);
	struct segment s;
	cr_assert_eq(decode_frame(LINK_EN10MB, v4_synack, sizeof(v4_synack), 0, &s), 0);
	s.flags = TCPF_ACK;
	p.kind = &kind_pmtu;
	p.state = PS_FIN_WAIT;
	p.snd_una = p.isn + 1;
	p.snd_nxt = p.isn + 2;     /* our FIN where the test's bytes were */
	p.snd_max = p.isn + 1 + 1448;
	s.ack = p.isn + 1 + 1448;
	cr_assert_eq(match_probe(&p, &s), PEV_TCP, "the bytes the server holds");
	s.ack = p.isn + 2 + 1448;
	cr_assert_eq(match_probe(&p, &s), PEV_STALE, "beyond anything sent");
}
