/* craft.h - our segments, built with libnet and sent on raw sockets.
 *
 * Two libnet contexts per address family: one holds the SYN (with its
 * options), one the control segments (RST, and later ACK, FIN, data). Each
 * is built once; later packets patch the same protocol blocks (ptags). The
 * contexts only build (LIBNET_NONE): the packets leave on one raw socket
 * per family of our own (IPPROTO_RAW, the IP header ours), which spares
 * libnet's injection set-up (it grows SO_SNDBUF 128 bytes at a time, some
 * thousands of system calls a context). */
#ifndef TCPSHAKE_CRAFT_H
#define TCPSHAKE_CRAFT_H

#include <libnet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SYN_OPTS_MAX 40
#define TS_OPT_LEN 12

/* The TCP options of our SYN, as bytes. */
struct syn_options {
	uint8_t b[SYN_OPTS_MAX];
	size_t len;
};

/* Which options our SYN carries (--syn-options): none, linux, or a list. */
struct syn_spec {
	bool mss, sack, ts;
	uint16_t mss_value;   /* 0: from the route's MTU */
	int wscale;           /* -1: no window scale option */
};

/* The SYN options spec asks for, laid out as a Linux client lays them out
 * (MSS, SACK permitted, timestamps, NOP, window scale; NOPs pad to 32 bits).
 * route_mss: the MSS when spec names none. Pure. */
void craft_syn_options(struct syn_options *o, const struct syn_spec *spec, uint16_t route_mss,
		       uint32_t ts_val);

struct craft_ctx {
	libnet_t *l;
	libnet_ptag_t opt, tcp, ip;
	size_t optlen;  /* of the blocks built; another length rebuilds them */
};

struct crafter {
	struct craft_ctx syn[2], ctl[2]; /* [0] IPv4, [1] IPv6 */
	int fd[2];                       /* the raw sockets; -1 until opened */
	bool opened[2];
	const char *device;
	char err[LIBNET_ERRBUF_SIZE + 64];
	int err_no;   /* errno of the last failed send */
};

/* Open the raw sockets for a family; -1 with the reason in c->err. */
int craft_open(struct crafter *c, int family, const char *device);
void craft_close(struct crafter *c);

/* Mark every segment we send (SO_MARK), so the kernel-RST guard can tell
 * ours from the kernel's; -1 with the reason in c->err. */
int craft_set_mark(struct crafter *c, uint32_t mark);

/* The timestamps option of a segment after the SYN: NOP NOP TS. Pure. */
void craft_ts_option(uint8_t out[12], uint32_t ts_val, uint32_t ts_ecr);

struct tcp_seg {
	const struct addr *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opts;
	size_t optlen;
	const uint8_t *payload;
	size_t len;
	uint8_t ttl;          /* the TTL or hop limit; 0: the default, 64 (a trace
			       * sets each probe's own) */
};

int craft_send_syn(struct crafter *c, const struct tcp_seg *s);
int craft_send_ctl(struct crafter *c, const struct tcp_seg *s);

#endif
