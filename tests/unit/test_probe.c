/* The probe state machine, one transition at a time. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"

static struct probe p;
static struct segment s;

static void setup(void)
{
	memset(&p, 0, sizeof(p));
	memset(&s, 0, sizeof(s));
	probe_start(&p, 1000, 5000);
}

TestSuite(probe, .init = setup);

Test(probe, open_with_wire_rtt)
{
	s.ts_ns = 10000;
	cr_assert_eq(probe_step(&p, PEV_OWN_SYN, &s, 1100), 0);
	s.ts_ns = 10117;
	s.kind = SEG_TCP;
	s.flags = TCPF_SYN | TCPF_ACK;
	s.ttl = 64;
	s.win = 64240;
	s.opt.mss = 1460;
	int a = probe_step(&p, PEV_TCP, &s, 99999);
	cr_assert_eq(a, PACT_SEND_RST | PACT_DONE);
	cr_assert_eq(p.res.outcome, OUTCOME_OPEN);
	cr_assert_eq(p.res.rtt_ns, 117);
	cr_assert_eq(p.res.rtt_source, RTT_WIRE);
	cr_assert_eq(p.res.mss, 1460);
	cr_assert_eq(p.res.win, 64240);
	cr_assert_eq(p.res.reply_wall_ns, 10117);
	cr_assert_eq(p.state, PS_DONE);
}

Test(probe, first_own_syn_stamp_kept)
{
	s.ts_ns = 10000;
	probe_step(&p, PEV_OWN_SYN, &s, 0);
	s.ts_ns = 10050;
	probe_step(&p, PEV_OWN_SYN, &s, 0);
	cr_assert_eq(p.syn_wire_ns, 10000);
}

Test(probe, clock_fallback_without_own_syn)
{
	s.ts_ns = 10117;
	s.flags = TCPF_SYN | TCPF_ACK;
	probe_step(&p, PEV_TCP, &s, 1250);
	cr_assert_eq(p.res.rtt_source, RTT_CLOCK);
	cr_assert_eq(p.res.rtt_ns, 250);
}

Test(probe, closed_sends_no_rst)
{
	s.flags = TCPF_RST | TCPF_ACK;
	cr_assert_eq(probe_step(&p, PEV_TCP, &s, 2000), PACT_DONE);
	cr_assert_eq(p.res.outcome, OUTCOME_CLOSED);
}

Test(probe, icmp_unreachable)
{
	s.kind = SEG_ICMP;
	s.icmp_type = 3;
	s.icmp_code = 13;
	s.src.family = AF_INET;
	s.src.b[3] = 2;
	cr_assert_eq(probe_step(&p, PEV_ICMP, &s, 2000), PACT_DONE);
	cr_assert_eq(p.res.outcome, OUTCOME_UNREACHABLE);
	cr_assert_eq(p.res.icmp_code, 13);
	cr_assert_eq(p.res.icmp_from.b[3], 2);
}

Test(probe, timeout_is_filtered)
{
	cr_assert_eq(probe_step(&p, PEV_TIMEOUT, NULL, 2000), PACT_DONE);
	cr_assert_eq(p.res.outcome, OUTCOME_FILTERED);
	cr_assert_eq(p.res.rtt_source, RTT_NONE);
}

Test(probe, done_ignores_later_events)
{
	probe_step(&p, PEV_TIMEOUT, NULL, 2000);
	s.flags = TCPF_SYN | TCPF_ACK;
	cr_assert_eq(probe_step(&p, PEV_TCP, &s, 3000), 0);
	cr_assert_eq(p.res.outcome, OUTCOME_FILTERED);
	cr_assert_eq(probe_step(&p, PEV_TIMEOUT, NULL, 4000), 0);
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
	cr_assert_str_eq(outcome_name(OUTCOME_UNREACHABLE), "unreachable");
}
