/* The byte stream: reassembly, the window, the FIN, the send buffer. */
#include <criterion/criterion.h>
#include <string.h>

#include "stream.h"

#define IRS 5000u

static struct stream *st;
static struct stream_rx rx;
static uint8_t msg[4096];

static void setup(void)
{
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)('a' + i % 26);
	st = stream_new(1000, 2000);
	cr_assert_not_null(st);
	stream_reset(st, IRS);
}

static void teardown(void)
{
	stream_free(st);
}

/* Bytes [from, from + len) of msg, the peer's first byte at offset 0. */
static void rcv(uint32_t from, uint32_t len, bool fin)
{
	stream_receive(st, IRS + 1 + from, msg + from, len, fin, &rx);
}

/* The readable bytes are msg[0..n) from offset `at`. */
static void assert_readable(uint32_t at, size_t n)
{
	const uint8_t *d;
	cr_assert_eq(stream_readable(st, &d), n);
	cr_assert_eq(memcmp(d, msg + at, n), 0);
}

TestSuite(stream, .init = setup, .fini = teardown);

Test(stream, in_order_delivered_and_consumed)
{
	rcv(0, 100, false);
	cr_assert_eq(rx.fresh, 100);
	cr_assert_not(rx.out_of_order);
	cr_assert_eq(stream_rcv_nxt(st), IRS + 101);
	cr_assert_eq(stream_window(st), 900, "unconsumed bytes take room");
	assert_readable(0, 100);
	stream_consume(st, 60);
	assert_readable(60, 40);
	cr_assert_eq(stream_window(st), 960);
	rcv(100, 50, false);
	assert_readable(60, 90);
}

Test(stream, a_hole_is_held_then_filled)
{
	rcv(100, 100, false);
	cr_assert_eq(rx.fresh, 0);
	cr_assert(rx.out_of_order);
	cr_assert_eq(stream_rcv_nxt(st), IRS + 1, "the duplicate ACK asks for byte 0");
	cr_assert_eq(stream_window(st), 1000, "held bytes lie inside the window");
	assert_readable(0, 0);
	rcv(0, 100, false);
	cr_assert_eq(rx.fresh, 200);
	cr_assert_not(rx.out_of_order);
	assert_readable(0, 200);
}

Test(stream, reverse_order_three_segments)
{
	rcv(200, 100, false);
	rcv(100, 100, false);
	cr_assert_eq(st->nofo, 1, "touching runs are one");
	rcv(0, 100, false);
	cr_assert_eq(rx.fresh, 300);
	assert_readable(0, 300);
}

Test(stream, overlaps_trimmed_first_copy_kept)
{
	rcv(0, 50, false);
	/* the same bytes again and more: only the new part counts */
	rcv(20, 60, false);
	cr_assert_eq(rx.fresh, 30);
	assert_readable(0, 80);
	/* a held run overlapped on both sides, with different bytes inside */
	rcv(120, 20, false);
	uint8_t other[100];
	memcpy(other, msg + 80, sizeof(other));
	memset(other + 45, 'X', 10); /* offsets 125..135: held already */
	stream_receive(st, IRS + 1 + 80, other, 100, false, &rx);
	cr_assert_eq(rx.fresh, 100);
	assert_readable(0, 180);
}

Test(stream, duplicates_dropped)
{
	rcv(0, 100, false);
	rcv(0, 100, false);
	cr_assert(rx.dup);
	cr_assert_eq(rx.fresh, 0);
	rcv(300, 10, false);
	rcv(300, 10, false);
	cr_assert(rx.dup);
	rcv(302, 4, false);
	cr_assert(rx.dup, "inside a held run");
	/* long ago: before the bytes already consumed */
	stream_consume(st, 100);
	rcv(0, 50, false);
	cr_assert(rx.dup);
	assert_readable(100, 0);
}

Test(stream, beyond_the_buffer_is_cut)
{
	rcv(900, 200, true);
	cr_assert_eq(st->ofo[0].hi, 1000, "only what fits the buffer");
	cr_assert_not(st->fin_known, "a FIN after bytes not taken is not believed");
	rcv(0, 900, false);
	cr_assert_eq(rx.fresh, 1000);
	cr_assert_eq(stream_window(st), 0);
	rcv(1000, 10, false);
	cr_assert(rx.dup, "a zero window takes nothing");
	stream_consume(st, 1000);
	cr_assert_eq(stream_window(st), 1000);
	rcv(1000, 100, true);
	cr_assert(rx.fin);
	assert_readable(1000, 100);
}

Test(stream, fin_after_a_hole_waits)
{
	rcv(100, 50, true);
	cr_assert_not(rx.fin);
	cr_assert_eq(stream_rcv_nxt(st), IRS + 1);
	rcv(0, 100, false);
	cr_assert(rx.fin, "the hole filled: the FIN is in too");
	cr_assert_eq(rx.fresh, 150);
	cr_assert_eq(stream_rcv_nxt(st), IRS + 151 + 1);
	cr_assert_eq(stream_window(st), 850, "the window stays what the buffer has room for");
	rcv(150, 0, true);
	cr_assert(rx.dup, "the FIN again");
	cr_assert_not(rx.fin);
}

Test(stream, data_past_the_fin_refused)
{
	rcv(50, 0, true);
	rcv(40, 30, false);
	cr_assert_eq(st->ofo[0].hi, 50);
	rcv(0, 40, false);
	cr_assert(rx.fin);
	assert_readable(0, 50);
}

Test(stream, bare_fin_in_order)
{
	rcv(0, 0, true);
	cr_assert(rx.fin);
	cr_assert_not(rx.dup);
	cr_assert_eq(stream_rcv_nxt(st), IRS + 2);
}

Test(stream, wraparound_at_two_to_the_32)
{
	stream_reset(st, 0xffffff00u);
	/* the first byte is at 0xffffff01; offset 0x100 is sequence 0 */
	stream_receive(st, 0x00000010u, msg + 0x10f, 50, true, &rx);
	cr_assert(rx.out_of_order);
	stream_receive(st, 0xffffff01u, msg, 0x10f, false, &rx);
	cr_assert_eq(rx.fresh, 0x10f + 50);
	cr_assert(rx.fin);
	cr_assert_eq(stream_rcv_nxt(st), 0x00000010u + 50 + 1);
	assert_readable(0, 0x10f + 50);
	stream_consume(st, 0x100);
	assert_readable(0x100, 0x0f + 50);
}

Test(stream, too_many_holes_not_taken)
{
	for (uint32_t i = 0; i < STREAM_RANGES_MAX; i++)
		rcv(100 + i * 20, 10, false);
	cr_assert_eq(st->nofo, STREAM_RANGES_MAX);
	rcv(900, 10, false);
	cr_assert(rx.dup, "no run left for it: as if lost");
	rcv(110, 10, false); /* joins two runs */
	cr_assert_eq(st->nofo, STREAM_RANGES_MAX - 1);
	rcv(900, 10, false);
	cr_assert_not(rx.dup);
	rcv(0, 100, false);
	cr_assert_eq(rx.fresh, 130, "to the next hole");
}

Test(stream, every_run_held_then_the_hole_at_rcv_nxt_filled)
{
	for (uint32_t i = 0; i < STREAM_RANGES_MAX; i++)
		rcv(100 + i * 20, 10, false);
	rcv(0, 100, false);
	cr_assert_eq(rx.fresh, 110, "to the next hole, not one byte more");
	cr_assert_eq(st->nofo, STREAM_RANGES_MAX - 1);
	cr_assert_eq(stream_rcv_nxt(st), IRS + 1 + 110);
	assert_readable(0, 110);
	rcv(110, 10, false);
	cr_assert_eq(rx.fresh, 20);
}

Test(stream, segment_cut_by_the_capture_counts_what_was_captured)
{
	/* the probe passes only the captured bytes and no FIN */
	rcv(0, 30, false);
	cr_assert_eq(stream_rcv_nxt(st), IRS + 31);
	rcv(0, 80, true);
	cr_assert_eq(rx.fresh, 50);
	cr_assert(rx.fin);
}

/* ---- send -------------------------------------------------------------- */

Test(stream, segmented_by_mss_and_window)
{
	cr_assert(stream_append(st, msg, 1000));
	cr_assert_eq(stream_send_end(st), 1000);
	cr_assert_eq(stream_next_len(st, 0, 0, 5000, 536), 536);
	cr_assert_eq(stream_next_len(st, 0, 536, 5000, 536), 464);
	cr_assert_eq(stream_next_len(st, 0, 1000, 5000, 536), 0, "all sent");
	cr_assert_eq(stream_next_len(st, 0, 0, 300, 536), 300, "the window first");
	cr_assert_eq(stream_next_len(st, 0, 300, 300, 536), 0, "the window full");
	cr_assert_eq(stream_next_len(st, 0, 0, 0, 536), 0);
	cr_assert_eq(memcmp(stream_send_bytes(st, 536, 464), msg + 536, 464), 0);
	cr_assert_null(stream_send_bytes(st, 900, 200), "past what is held");
}

Test(stream, acked_bytes_let_go_retransmit_from_una)
{
	cr_assert(stream_append(st, msg, 1500));
	stream_acked(st, 600);
	cr_assert_null(stream_send_bytes(st, 500, 10), "acknowledged: gone");
	cr_assert_eq(memcmp(stream_send_bytes(st, 600, 100), msg + 600, 100), 0);
	cr_assert_eq(stream_rtx_len(st, 600, 1400, 536), 536);
	cr_assert_eq(stream_rtx_len(st, 600, 700, 536), 100, "only what is in flight");
	cr_assert_eq(stream_rtx_len(st, 600, 600, 536), 0);
	stream_acked(st, 500);
	cr_assert_eq(stream_send_end(st), 1500, "an old ACK changes nothing");
	cr_assert(stream_append(st, msg + 1500, 100));
	cr_assert_eq(memcmp(stream_send_bytes(st, 1500, 100), msg + 1500, 100), 0);
	cr_assert_not(stream_append(st, msg, 2000), "past the send buffer's bound");
	stream_acked(st, 1600);
	cr_assert(stream_append(st, msg, 2000), "room again once acknowledged");
}

Test(stream, send_offsets_wrap)
{
	st->s_base = 0xfffffff0u;
	cr_assert(stream_append(st, msg, 100));
	cr_assert_eq(stream_send_end(st), 100u - 16u);
	cr_assert_eq(stream_next_len(st, 0xfffffff0u, 0xfffffff0u, 1000, 1460), 100);
	cr_assert_eq(stream_rtx_len(st, 0xfffffff0u, 4u, 1460), 20);
	stream_acked(st, 4u);
	cr_assert_eq(memcmp(stream_send_bytes(st, 4u, 80), msg + 20, 80), 0);
}

Test(stream, an_ack_of_our_fin_with_nothing_ever_sent)
{
	/* a kind that only reads (--expect): no send buffer was ever made, and
	 * the peer acknowledges our FIN, one beyond the data */
	stream_acked(st, 1);
	cr_assert_eq(stream_send_end(st), 0);
	cr_assert(stream_append(st, "x", 1));
	stream_acked(st, 2); /* the byte and the FIN */
	cr_assert_eq(stream_send_end(st), 1);
}
