/* craft.h - our segments, built with libnet and sent on raw sockets.
 *
 * Two libnet contexts per address family: one holds the SYN (with its
 * options), one the control segments (RST, and later ACK, FIN, data). Each
 * is built once; later packets patch the same protocol blocks (ptags). */
#ifndef TCPSHAKE_CRAFT_H
#define TCPSHAKE_CRAFT_H

#include <libnet.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SYN_OPTS_MAX 40

/* The TCP options of our SYN, as bytes. */
struct syn_options {
	uint8_t b[SYN_OPTS_MAX];
	size_t len;
};

/* A Linux client's SYN options: MSS, SACK permitted, timestamps, window
 * scale, in the kernel's order. Pure. */
void craft_linux_options(struct syn_options *o, uint16_t mss, uint32_t ts_val, uint8_t wscale);

struct craft_ctx {
	libnet_t *l;
	libnet_ptag_t opt, tcp, ip;
};

struct crafter {
	struct craft_ctx syn[2], ctl[2]; /* [0] IPv4, [1] IPv6 */
	const char *device;
	char err[LIBNET_ERRBUF_SIZE + 64];
};

/* Open the raw sockets for a family; -1 with the reason in c->err. */
int craft_open(struct crafter *c, int family, const char *device);
void craft_close(struct crafter *c);

/* The raw socket file descriptors of a family (for SO_MARK and the like). */
int craft_fd(const struct crafter *c, int family, int which);

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
};

int craft_send_syn(struct crafter *c, const struct tcp_seg *s);
int craft_send_ctl(struct crafter *c, const struct tcp_seg *s);

#endif
