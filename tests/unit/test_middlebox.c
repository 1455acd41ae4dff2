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
static uint32_t sent; /* our data sent so far (bytes after the SYN) */

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
	sent = 0;
	e.on = true;
	struct segment s = seg(TCPF_SYN | TCPF_ACK, 0, ttl, win, ts, tsval);
	mb_synack(&e, &s);
}

/* One of our segments leaving at t_ns (the next round trip starts) */
static void ours(int64_t t_ns)
{
	struct segment s = seg(TCPF_ACK, t_ns, 64, 64240, true, 1);
	mb_ours(&e, &s);
}

static void later(uint8_t flags, int64_t t_ns, uint8_t ttl, uint16_t win, bool ts, uint32_t tsval,
		  uint32_t ack, size_t len)
{
	struct segment s = seg(flags, t_ns, ttl, win, ts, tsval);
	s.ack = ack;
	s.payload_len = len;
	mb_later(&e, &s, ISN1, ISN1 + sent);
}

Test(middlebox, plain_server_none)
{
	begin(64, 65160, true, 5000);
	ours(MS / 3 - 30000);
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
	ours(MS / 4 - 30000);
	later(TCPF_ACK, MS / 4, 64, 63, true, 1398503692, ISN1 + 1, 0);
	mb_judge(&e, 30000, &j);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	cr_assert_eq(j.lag_ms, 25);
	cr_assert(strstr(j.why, "25 ms behind"), "%s", j.why);
}

/* A probe's exchange: the SYN's round trip rtt1, our ACK leaving 50 us
 * after the SYN/ACK came, the server's answer rtt2 after it with its clock
 * lag_ms ahead of the SYN/ACK's TSval (a cookie's rounding; 0 for a plain
 * server); judged. */
static void exchange(int64_t rtt1, int64_t rtt2, int32_t lag_ms)
{
	begin(64, 65160, true, 100000);
	int64_t t = 50000 + rtt2;
	ours(50000);
	later(TCPF_FIN | TCPF_ACK, t, 64, 63, true,
	      (uint32_t)(100000 + (t + MS / 2) / MS + lag_ms), ISN1 + 1, 0);
	mb_judge(&e, rtt1, &j);
	cr_assert(j.have_lag);
	cr_assert_eq(j.lag_ms, lag_ms);
}

Test(middlebox, lag_against_the_wire_time_and_tolerance)
{
	/* 40 ms later on the wire, 41 ticks: a ms of rounding, no cookie */
	begin(64, 65160, true, 100);
	ours(40 * MS - 20000);
	later(TCPF_ACK, 40 * MS, 64, 63, true, 141, ISN1 + 1, 0);
	mb_judge(&e, 20000, &j);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	cr_assert_eq(j.lag_ms, 1);
	/* 2 ms behind with a steady 20 us path: beyond 1 ms of rounding */
	exchange(20000, 20000, 2);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	/* 63 ms behind is a cookie's most; 100 ms is no cookie's */
	exchange(20000, 20000, 63);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	exchange(20000, 20000, 100);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	cr_assert(strstr(j.why, "disagree by 100 ms"), "%s", j.why);
	/* ahead, not behind: no cookie either */
	exchange(20000, 20000, -20);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
}

/* The tolerance is the path's jitter, not its round trip: both timestamps
 * cross the same one-way path. A steady path of any RTT tells a cookie
 * (lag 2, 25, 63) from a plain server (lag 0, +-1); at 40 and 100 ms the
 * old 1 + 2 x RTT tolerance called every cookie none. */
Test(middlebox, steady_paths_rtt_1_20_40_100)
{
	const int64_t rtts[] = { 1 * MS, 20 * MS, 40 * MS, 100 * MS };
	for (size_t i = 0; i < sizeof(rtts) / sizeof(rtts[0]); i++) {
		int64_t r = rtts[i], r2 = r + 200000; /* 0.2 ms of jitter */
		exchange(r, r2, 0);
		cr_assert_eq(j.v, MB_NONE, "rtt %lld: %s", (long long)r, j.why);
		exchange(r, r - 200000, 1);
		cr_assert_eq(j.v, MB_NONE, "rtt %lld: %s", (long long)r, j.why);
		exchange(r, r2, -1);
		cr_assert_eq(j.v, MB_NONE, "rtt %lld: %s", (long long)r, j.why);
		exchange(r, r2, 2);
		cr_assert_eq(j.v, MB_SYNCOOKIES, "rtt %lld: %s", (long long)r, j.why);
		exchange(r, r2, 25);
		cr_assert_eq(j.v, MB_SYNCOOKIES, "rtt %lld: %s", (long long)r, j.why);
		cr_assert(strstr(j.why, "25 ms behind"), "%s", j.why);
		exchange(r, r2, 63);
		cr_assert_eq(j.v, MB_SYNCOOKIES, "rtt %lld: %s", (long long)r, j.why);
	}
}

/* A jittery path: the lag a plain server shows is the one-way delay's
 * variation. The tolerance is 1.5 ms and twice the difference of the two
 * round trips; within one over 4 ms a small lag is unknown (a cookie's could
 * be as small), beyond it a cookie is still told; a tolerance as wide as a
 * cookie's band tells nothing. */
Test(middlebox, jitter_widens_the_tolerance_until_unknown)
{
	/* RTT 40 ms, the next round trip 10 ms longer: tolerance 21.5 ms */
	exchange(40 * MS, 50 * MS, 0);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	cr_assert(strstr(j.why, "within the tolerance (21.5 ms)"), "%s", j.why);
	exchange(40 * MS, 50 * MS, 15);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	exchange(40 * MS, 50 * MS, 21);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	exchange(40 * MS, 50 * MS, 22);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	exchange(40 * MS, 50 * MS, 84);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "63 ms beyond the tolerance at most: %s", j.why);
	exchange(40 * MS, 50 * MS, 85);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	/* 1.25 ms (tolerance 4): still none */
	exchange(20 * MS, 21 * MS + MS / 4, 3);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	/* 1.5 ms (tolerance 4.5): a lag of 0 or 3 might be a cookie's */
	exchange(20 * MS, 21 * MS + MS / 2, 3);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	exchange(20 * MS, 21 * MS + MS / 2, 0);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	exchange(20 * MS, 21 * MS + MS / 2, 5);
	cr_assert_eq(j.v, MB_SYNCOOKIES, "%s", j.why);
	/* the SYN/ACK held 20 ms on the way (the second round trip shorter): a
	 * plain server's lag of 20 or 21 ms is no cookie */
	exchange(20 * MS + 40000, 40000, 20);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	exchange(20 * MS + 40000, 40000, 21);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	/* RTT 100 ms, the next 131: the tolerance covers the band (old: none) */
	for (int lag = 0; lag <= 63; lag += 21) {
		exchange(100 * MS, 131 * MS, lag);
		cr_assert_eq(j.v, MB_UNKNOWN, "lag %d: %s", lag, j.why);
		cr_assert(strstr(j.why, "round trips 31.0 ms apart: a tolerance of 63.5 ms covers a "
					"SYN cookie's 0-63 ms lag"),
			  "%s", j.why);
	}
}

/* Without a second round trip (our segment not seen leaving, or no RTT of
 * the SYN) the jitter is not known: unknown, said why. */
Test(middlebox, no_second_round_trip_unknown)
{
	begin(64, 65160, true, 100);
	later(TCPF_FIN | TCPF_ACK, MS, 64, 63, true, 101, ISN1 + 1, 0);
	mb_judge(&e, 40000, &j);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	cr_assert_str_eq(j.why, "no second round trip to measure the path's jitter");
	exchange(0, 40000, 0);
	cr_assert_eq(j.v, MB_UNKNOWN, "%s", j.why);
	/* only the first later segment's round trip counts */
	exchange(40000, 40000, 0);
	ours(10 * MS);
	later(TCPF_ACK, 30 * MS, 64, 63, true, 100030, ISN1 + 1, 0);
	mb_judge(&e, 40000, &j);
	cr_assert_eq(e.rtt2_ns, 40000);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
}

Test(middlebox, tsval_wraps)
{
	begin(64, 65160, true, 0xfffffff0u);
	ours(MS - 20000);
	later(TCPF_ACK, MS, 64, 63, true, 0x11u, ISN1 + 1, 0);
	mb_judge(&e, 20000, &j);
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
	ours(MS - 30000);
	later(TCPF_PSH | TCPF_ACK, MS, 64, 63, true, 1001, ISN1, 20);
	later(TCPF_RST | TCPF_ACK, 2 * MS, 64, 0, true, 1002, ISN1, 0);
	mb_judge(&e, 30000, &j);
	cr_assert(!e.reset);
	cr_assert_eq(j.v, MB_NONE, "%s", j.why);
	cr_assert(!e.window_update, "data is no window update");
}

/* Linux resets a socket closed with unread data: after data of ours that
 * the peer ACKed (--pmtu's test segment, a request, --send), a RST is how a
 * server that accepts and closes ends, not the handshake-then-reset
 * pattern. */
Test(middlebox, reset_after_our_data_acked_is_not_the_pattern)
{
	/* --pmtu: 1448 bytes ACKed, then the reset of the server's close */
	begin(64, 65160, true, 1000);
	sent = 1448;
	ours(MS - 30000);
	later(TCPF_ACK, MS, 64, 63, true, 1001, ISN1 + 1448, 0);
	later(TCPF_RST | TCPF_ACK, 2 * MS, 64, 0, false, 0, ISN1 + 1448, 0);
	cr_assert(e.data_acked);
	cr_assert(!e.reset);
	mb_judge(&e, 30000, &j);
	cr_assert(!strstr(j.why, "reset"), "%s", j.why);
	/* the server's delayed ACK never went: the RST itself ACKs the bytes */
	begin(64, 65160, true, 1000);
	sent = 1448;
	later(TCPF_RST | TCPF_ACK, MS, 64, 0, false, 0, ISN1 + 1448, 0);
	cr_assert(!e.reset);
	/* a part of them ACKed is an ACK of our data too */
	begin(64, 65160, true, 1000);
	sent = 1448;
	later(TCPF_RST | TCPF_ACK, MS, 64, 0, false, 0, ISN1 + 100, 0);
	cr_assert(!e.reset);
}

Test(middlebox, reset_before_our_data_acked_is_the_pattern)
{
	/* data sent, the RST ACKs none of it: reset at accept */
	begin(64, 65160, true, 1000);
	sent = 1448;
	later(TCPF_RST | TCPF_ACK, MS, 64, 0, false, 0, ISN1, 0);
	cr_assert(e.reset);
	cr_assert(!e.data_acked);
	/* no data of ours: an ACK of our FIN is no ACK of data */
	begin(64, 65160, true, 1000);
	later(TCPF_ACK, MS, 64, 63, true, 1001, ISN1 + 1, 0);
	later(TCPF_RST | TCPF_ACK, 2 * MS, 64, 0, false, 0, ISN1 + 1, 0);
	cr_assert(e.reset);
	cr_assert(!e.data_acked);
	/* an ACK beyond what we sent (and our FIN) acknowledges nothing of ours */
	begin(64, 65160, true, 1000);
	sent = 100;
	later(TCPF_RST | TCPF_ACK, MS, 64, 0, false, 0, ISN1 + 102, 0);
	cr_assert(e.reset);
	/* a RST without the ACK flag ACKs nothing */
	begin(64, 65160, true, 1000);
	sent = 100;
	later(TCPF_RST, MS, 64, 0, false, 0, ISN1 + 100, 0);
	cr_assert(e.reset);
	mb_judge(&e, 0, &j);
	cr_assert(strstr(j.why, "reset after the handshake"), "%s", j.why);
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
