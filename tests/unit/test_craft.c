/* Our SYN options, read back by our own decoder. */
#include <criterion/criterion.h>

#include "craft.h"
#include "decode.h"

Test(craft, linux_syn_options)
{
	struct syn_options o;
	struct tcp_info_opts d;
	craft_linux_options(&o, 1460, 0x01020304, 7);
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
