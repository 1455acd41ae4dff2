/* The middlebox verdict (src/middlebox.c): the SYN/ACK against the peer's
 * later segments, as Linux's synproxy, SYN cookies and a plain server make
 * them on the wire (tests/integration/middlebox.sh sees the same). */
#include <criterion/criterion.h>
#include <string.h>

#include "middlebox.h"

#define MS INT64_C(1000000)
#define ISN1 1001u /* our ISN + 1 */

static struct mb_evidence e;
static struct mb_judgement j;

static struct segment seg(uint8_t flags, int64_t t_ns, uint8_t ttl, uint16_t win, bool ts,
			  uint32_t tsval)
{
	struct segment s;
	memset(&s, 0, sizeof(s));
	s.kind = SEG_TCP;
	s.flags = flags;
	s.ts_ns = t_ns;
	s.ttl = ttl;
	s.win = win;
	s.ack = ISN1;
	s.opt.wscale = -1;
	s.opt.has_ts = ts;
	s.opt.ts_val = tsval;
	return s;
}

static void begin(uint8_t ttl, uint16_t win, bool ts, uint32_t tsval)
{
	memset(&e, 0, sizeof(e));
	e.on = true;
	struct segment s = seg(TCPF_SYN | TCPF_ACK, 0, ttl, win, ts, tsval);
	mb_synack(&e, &s);
}

static void later(uint8_t flags, int64_t t_ns, uint8_t ttl, uint16_t win, bool ts, uint32_t tsval,
		  uint32_t ack, size_t len)
{
	struct segment s = seg(flags, t_ns, ttl, win, ts, tsval);
	s.ack = ack;
	s.payload_len = len;
	mb_later(&e, &s, ISN1);
}

Test(middlebox, plain_server_none)
{
	begin(64, 65160, true, 5000);
	later(TCPF_FIN | TCPF_ACK, MS / 3, 64, 63, true, 5000, ISN1 + 1, 0);
	mb_judge(&e, 30000, &j);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	cr_assert(j.have_lag);
	cr_assert_eq(j.lag_ms, 0);
	cr_assert_str_eq(mb_name(j.v), "none");
	cr_assert(!e.reset);
}

/* Linux's cookie: the clock rounded down to 64 ms, the options in the low bits */
Test(middlebox, syncookie_lag)
{
	begin(64, 65160, true, 1398503667);
	later(TCPF_ACK, MS / 4, 64, 63, true, 1398503692, ISN1 + 1, 0);
	mb_judge(&e, 30000, &j);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	cr_assert_eq(j.lag_ms, 25);
	cr_assert(strstr(j.why, "25 ms behind"), "%s", j.why);
}

Test(middlebox, lag_against_the_wire_time_and_tolerance)
{
	/* 40 ms later on the wire, 41 ticks: a ms of rounding, no cookie */
	begin(64, 65160, true, 100);
	later(TCPF_ACK, 40 * MS, 64, 63, true, 141, ISN1 + 1, 0);
	mb_judge(&e, 20000, &j);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	cr_assert_eq(j.lag_ms, 1);
	/* 2 ms behind with a 20 us path: beyond 1 ms of rounding */
	begin(64, 65160, true, 100);
	later(TCPF_ACK, 0, 64, 63, true, 102, ISN1 + 1, 0);
	mb_judge(&e, 20000, &j);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	/* the same 2 ms on a 5 ms path is jitter: tolerance 1 + 2 x 5 ms */
	mb_judge(&e, 5 * MS, &j);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	/* 63 ms behind is a cookie's most; 100 ms is no cookie's */
	begin(64, 65160, true, 100);
	later(TCPF_ACK, 0, 64, 63, true, 163, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	begin(64, 65160, true, 100);
	later(TCPF_ACK, 0, 64, 63, true, 200, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	cr_assert(strstr(j.why, "disagree by 100 ms"), "%s", j.why);
	/* ahead, not behind: no cookie either */
	begin(64, 65160, true, 100);
	later(TCPF_ACK, 0, 64, 63, true, 80, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	cr_assert_eq(j.lag_ms, -20);
}

Test(middlebox, tsval_wraps)
{
	begin(64, 65160, true, 0xfffffff0u);
	later(TCPF_ACK, 0, 64, 63, true, 0x10u, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	cr_assert_eq(j.lag_ms, 32);
}

/* nftables synproxy: SYN/ACK window 0, then a pure ACK opening the window */
Test(middlebox, synproxy_zero_window_and_update)
{
	begin(64, 0, true, 20760279);
	later(TCPF_ACK, MS / 10, 64, 63, true, 20760279, ISN1, 0);
	later(TCPF_FIN | TCPF_ACK, MS / 2, 64, 64, true, 20760279, ISN1 + 1, 0);
	mb_judge(&e, 40000, &j);
	cr_assert_eq(j.v, MB_SYNPROXY, "%s", j.why);
	cr_assert(e.window_update);
	cr_assert_eq(e.update_win, 63);
	cr_assert_str_eq(j.why, "SYN/ACK window 0; window update to 63 after our ACK");
	cr_assert(!j.have_lag);
}

Test(middlebox, synproxy_by_ttl_or_timestamps)
{
	begin(62, 65160, true, 1000);
	later(TCPF_FIN | TCPF_ACK, MS, 64, 63, true, 1001, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_SYNPROXY, "%s", j.why);
	cr_assert(strstr(j.why, "ttl 62, later ttl 64"), "%s", j.why);
	begin(64, 65160, true, 1000);
	later(TCPF_FIN | TCPF_ACK, MS, 64, 63, false, 0, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_SYNPROXY, "%s", j.why);
	cr_assert(strstr(j.why, "timestamps in the SYN/ACK only"), "%s", j.why);
}

/* A reset proves nothing of its sender (a firewall's, the kernel's own) */
Test(middlebox, reset_after_handshake_unknown)
{
	begin(64, 65160, true, 1000);
	later(TCPF_RST | TCPF_ACK, MS, 60, 0, false, 0, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	cr_assert(e.reset);
	cr_assert_eq(e.later, 0);
	cr_assert(strstr(j.why, "reset after the handshake"), "%s", j.why);
	/* behind a synproxy: the verdict still named */
	begin(64, 0, true, 1000);
	later(TCPF_RST | TCPF_ACK, MS, 64, 0, false, 0, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_SYNPROXY, "%s", j.why);
	cr_assert(e.reset);
}

Test(middlebox, reset_after_data_is_not_the_pattern)
{
	begin(64, 65160, true, 1000);
	later(TCPF_PSH | TCPF_ACK, MS, 64, 63, true, 1001, ISN1, 20);
	later(TCPF_RST | TCPF_ACK, 2 * MS, 64, 0, true, 1002, ISN1, 0);
	mb_judge(&e, 0, &j);
	cr_assert(!e.reset);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	cr_assert(!e.window_update, "data is no window update");
}

Test(middlebox, unknown_without_evidence)
{
	begin(64, 65160, true, 1000); /* --close rst: nothing after the SYN/ACK */
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_UNKNOWN);
	cr_assert_str_eq(j.why, "no segment of the server after the SYN/ACK");
	begin(64, 65160, false, 0); /* no timestamps */
	later(TCPF_FIN | TCPF_ACK, MS, 64, 63, false, 0, ISN1 + 1, 0);
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_UNKNOWN);
	cr_assert(strstr(j.why, "no timestamps"), "%s", j.why);
}

Test(middlebox, off_or_not_established)
{
	memset(&e, 0, sizeof(e));
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_NA);
	cr_assert_null(mb_name(j.v));
	struct segment s = seg(TCPF_SYN | TCPF_ACK, 0, 64, 0, true, 1);
	mb_synack(&e, &s); /* off: nothing collected */
	cr_assert(!e.synack);
	e.on = true;
	mb_judge(&e, 0, &j);
	cr_assert_eq(j.v, MB_NA, "no SYN/ACK");
}

/* The SYN/ACK sent again (our ACK lost) is not a later segment; the first
 * SYN/ACK stays the one judged. */
Test(middlebox, synack_again_ignored)
{
	begin(64, 65160, true, 1000);
	later(TCPF_SYN | TCPF_ACK, 1000 * MS, 64, 65160, true, 2000, ISN1, 0);
	cr_assert_eq(e.later, 0);
	struct segment s = seg(TCPF_SYN | TCPF_ACK, 1000 * MS, 64, 0, true, 2000);
	mb_synack(&e, &s);
	cr_assert_eq(e.sa.win, 65160);
	cr_assert_eq(e.sa.tsval, 1000u);
}
