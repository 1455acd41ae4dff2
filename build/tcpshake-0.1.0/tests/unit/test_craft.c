/* Our SYN options, read back by our own decoder. */
#include <criterion/criterion.h>

#include "craft.h"
#include "decode.h"

Test(craft, linux_syn_options)
{
	struct syn_options o;
	struct tcp_info_opts d;
	struct syn_spec linux_spec = { true, true, true, 0, 7 };
	craft_syn_options(&o, &linux_spec, 1460, 0x01020304);
	cr_assert_eq(o.len, 20, "MSS 4 + SACK 2 + TS 10 + NOP 1 + WS 3");
	cr_assert_eq(o.len % 4, 0);
	const uint8_t head[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4 };
	cr_assert_arr_eq(o.b, head, sizeof(head));
	decode_tcp_options(o.b, o.len, &d);
	cr_assert_eq(d.mss, 1460);
	cr_assert_eq(d.sack_ok, 1);
	cr_assert_eq(d.has_ts, 1);
	cr_assert_eq(d.ts_val, 0x01020304u);
	cr_assert_eq(d.ts_ecr, 0);
	cr_assert_eq(d.wscale, 7);
}

Test(craft, syn_option_lists)
{
	struct syn_options o;
	struct tcp_info_opts d;
	struct syn_spec none = { false, false, false, 0, -1 };
	craft_syn_options(&o, &none, 1460, 1);
	cr_assert_eq(o.len, 0);
	struct syn_spec some = { true, false, true, 1400, 3 };
	craft_syn_options(&o, &some, 1460, 9);
	cr_assert_eq(o.len % 4, 0);
	decode_tcp_options(o.b, o.len, &d);
	cr_assert_eq(d.mss, 1400);
	cr_assert_eq(d.sack_ok, 0);
	cr_assert_eq(d.has_ts, 1);
	cr_assert_eq(d.ts_val, 9);
	cr_assert_eq(d.wscale, 3);
	struct syn_spec sack_only = { false, true, false, 0, -1 };
	craft_syn_options(&o, &sack_only, 1460, 1);
	cr_assert_eq(o.len, 4);
	decode_tcp_options(o.b, o.len, &d);
	cr_assert_eq(d.sack_ok, 1);
	cr_assert_eq(d.mss, 0);
}

Test(craft, timestamp_option)
{
	uint8_t b[TS_OPT_LEN];
	struct tcp_info_opts d;
	craft_ts_option(b, 0x11223344, 0x55667788);
	decode_tcp_options(b, sizeof(b), &d);
	cr_assert_eq(d.has_ts, 1);
	cr_assert_eq(d.ts_val, 0x11223344u);
	cr_assert_eq(d.ts_ecr, 0x55667788u);
}
