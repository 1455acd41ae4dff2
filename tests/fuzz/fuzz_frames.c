/* fuzz_frames.c - libFuzzer target for everything that touches a captured
 * frame: decode, match, the probe state machine fed what matched, and a
 * trace (trace.c) of 198.18.0.2:80 from port 61000 fed every segment.
 *
 * Input: a sequence of records [linktype selector][length hi][length lo]
 * [frame bytes]. Probes in every mode wait on the addresses and ports of
 * the seed frames (198.18.0.1:61000 -> 198.18.0.2:80-83, and the same in
 * 2001:db8::/32), so mutated real frames reach every state; two of them
 * run --pmtu's phase after the handshake. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "decode.h"
#include "match.h"
#include "probe.h"
#include "trace.h"

static const int links[] = { LINK_EN10MB, LINK_RAW, LINK_LINUX_SLL, LINK_LINUX_SLL2 };

static void addr_set(struct addr *a, int family, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	if (family == AF_INET) {
		a->b[0] = 198, a->b[1] = 18, a->b[3] = last;
	} else {
		a->b[0] = 0x20, a->b[1] = 0x01, a->b[2] = 0x0d, a->b[3] = 0xb8, a->b[15] = last;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct probe_params pps[3] = {
		{ .mode = PMODE_SYN, .close = CLOSE_FIN, .timeout_ns = 1000000000, .retries = 3,
		  .wscale = 7, .ts = true, .window = 64240 },
		{ .mode = PMODE_FULL, .close = CLOSE_FIN, .timeout_ns = 1000000000, .retries = 3,
		  .wscale = 7, .ts = true, .window = 64240, .middlebox = true },
		{ .mode = PMODE_FULL, .close = CLOSE_FIN, .http = true, .timeout_ns = 1000000000,
		  .retries = 3, .wscale = 7, .ts = true, .window = 64240, .middlebox = true },
	};
	static const uint8_t req[] = "HEAD / HTTP/1.1\r\n\r\n";
	/* --pmtu's phase (kind_pmtu without its record fields) */
	struct probe_kind pmtu = kind_full;
	pmtu.after = AFTER_PMTU;
	struct probe probes[8];
	struct port_table t;
	if (port_table_init(&t, 61000, 61007) < 0)
		return 0;
	for (int i = 0; i < 8; i++) {
		struct probe *p = &probes[i];
		memset(p, 0, sizeof(*p));
		int fam = i < 4 ? AF_INET : AF_INET6;
		addr_set(&p->src, fam, 1);
		addr_set(&p->dst, fam, 2);
		p->sport = (uint16_t)(61000 + i);
		p->dport = (uint16_t)(80 + i % 4);
		p->isn = 2542258321u + (uint32_t)i;
		p->req = req;
		p->req_len = sizeof(req) - 1;
		if (i == 1 || i == 7) {
			p->kind = &pmtu;
			p->route_mtu = 1500;
		}
		probe_start(p, &pps[i % 3], 1000000000, 0, 0);
		port_table_set(&t, p->sport, p);
	}
	/* a trace with its first window sent: ICMP quotes and answers reach it */
	static struct trace tr;
	static const struct cookie_key tkey = { { 1 } };
	struct trace_params tp = { .max_hops = 30, .queries = 3, .wait_ns = 1000000 };
	struct trace_send ts[TRACE_WINDOW];
	trace_init(&tr, &tp, &tkey, &probes[0].src, &probes[0].dst, 61000, 80, 0);
	for (int n = trace_due(&tr, 0, ts, TRACE_WINDOW), k = 0; k < n; k++)
		trace_sent(&tr, ts[k].idx, 0);
	int64_t now = 1;
	size_t off = 0;
	while (off + 3 <= size) {
		int link = links[data[off] % 4];
		/* the upper bits: how much longer the frame was on the wire */
		size_t cut = (size_t)(data[off] / 4) * 16;
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		struct segment seg;
		enum probe_event ev;
		struct probe_actions a;
		if (decode_frame_wire(link, data + off, len, len + cut, now, &seg) == 0) {
			(void)trace_segment(&tr, &seg);
			trace_tick(&tr, now);
			struct probe *p = match_segment(&t, &seg, &ev);
			if (p) {
				probe_step(p, ev, &seg, now, &a);
				for (int k = 0; k < a.n; k++) {
					(void)probe_window(p);
					(void)probe_seg_payload(p, &a.out[k]);
				}
			}
		}
		/* a timer now and then, so timeouts and sends again are reached */
		if (len && data[off] == 0xee)
			for (int i = 0; i < 8; i++) {
				struct probe_actions a2;
				probe_step(&probes[i], PEV_TIMER, NULL, now + 2000000000, &a2);
			}
		off += len;
		now += 1000;
	}
	trace_finish(&tr);
	char text[200];
	(void)trace_verdict_text(&tr, text, sizeof(text));
	for (int i = 0; i < 8; i++)
		probe_release(&probes[i]);
	port_table_free(&t);
	return 0;
}
