/* craft.c - libnet contexts; SYN and control segments; raw send. */
#include "craft.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TTL_DEFAULT 64

static size_t put_ts(uint8_t *b, size_t n, uint32_t ts_val)
{
	b[n++] = 8;
	b[n++] = 10;
	for (int i = 0; i < 4; i++)
		b[n++] = (uint8_t)(ts_val >> (24 - 8 * i));
	for (int i = 0; i < 4; i++)
		b[n++] = 0;
	return n;
}

void craft_syn_options(struct syn_options *o, const struct syn_spec *spec, uint16_t route_mss,
		       uint32_t ts_val)
{
	uint8_t *b = o->b;
	size_t n = 0;
	if (spec->mss) {
		uint16_t mss = spec->mss_value ? spec->mss_value : route_mss;
		b[n++] = 2;
		b[n++] = 4;
		b[n++] = (uint8_t)(mss >> 8);
		b[n++] = (uint8_t)mss;
	}
	if (spec->sack && spec->ts) {
		b[n++] = 4;
		b[n++] = 2;
		n = put_ts(b, n, ts_val);
	} else if (spec->ts) {
		b[n++] = 1;
		b[n++] = 1;
		n = put_ts(b, n, ts_val);
	} else if (spec->sack) {
		b[n++] = 1;
		b[n++] = 1;
		b[n++] = 4;
		b[n++] = 2;
	}
	if (spec->wscale >= 0) {
		b[n++] = 1;
		b[n++] = 3;
		b[n++] = 3;
		b[n++] = (uint8_t)spec->wscale;
	}
	o->len = n;
}

/* libnet's messages end in a newline or a space; one error line has none. */
static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int fam_index(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

/* A context that only builds packets. */
static int ctx_open(struct crafter *c, struct craft_ctx *x)
{
	char err[LIBNET_ERRBUF_SIZE];
	x->opt = x->tcp = x->ip = 0;
	x->optlen = 0;
	x->l = libnet_init(LIBNET_NONE, NULL, err);
	if (!x->l) {
		chomp(err);
		snprintf(c->err, sizeof(c->err), "%s", err);
		return -1;
	}
	return 0;
}

/* The raw socket of a family: we write the IP header (IPPROTO_RAW). */
static int raw_open(struct crafter *c, int family, const char *device)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0) {
		c->err_no = errno;
		snprintf(c->err, sizeof(c->err), "SOCK_RAW: %s", strerror(errno));
		return -1;
	}
	if (device && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device,
				 (socklen_t)strlen(device)) < 0) {
		snprintf(c->err, sizeof(c->err), "SO_BINDTODEVICE %s: %s", device, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int craft_open(struct crafter *c, int family, const char *device)
{
	int i = fam_index(family);
	c->device = device;
	if (!c->opened[0] && !c->opened[1])
		c->fd[0] = c->fd[1] = -1;
	if (c->syn[i].l)
		return 0;
	if ((c->fd[i] = raw_open(c, family, device)) < 0)
		return -1;
	c->opened[i] = true;
	if (ctx_open(c, &c->syn[i]) < 0)
		return -1;
	if (ctx_open(c, &c->ctl[i]) < 0) {
		libnet_destroy(c->syn[i].l);
		c->syn[i].l = NULL;
		return -1;
	}
	return 0;
}

void craft_close(struct crafter *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->syn[i].l)
			libnet_destroy(c->syn[i].l);
		if (c->ctl[i].l)
			libnet_destroy(c->ctl[i].l);
		c->syn[i].l = c->ctl[i].l = NULL;
		if (c->opened[i] && c->fd[i] >= 0)
			close(c->fd[i]);
		c->opened[i] = false;
		c->fd[i] = -1;
	}
}

int craft_set_mark(struct crafter *c, uint32_t mark)
{
	for (int i = 0; i < 2; i++) {
		if (!c->opened[i])
			continue;
		if (setsockopt(c->fd[i], SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
			snprintf(c->err, sizeof(c->err), "SO_MARK: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The built packet leaves on our raw socket; a signal does not lose it. */
static int send_packet(struct crafter *c, int fam, libnet_t *l, const struct addr *dst)
{
	uint8_t *pkt = NULL;
	uint32_t size = 0;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (libnet_pblock_coalesce(l, &pkt, &size) < 0)
		return -1;
	addr_to_sockaddr(dst, 0, &ss, &sl);
	ssize_t n;
	do
		n = sendto(c->fd[fam], pkt, size, 0, (struct sockaddr *)&ss, sl);
	while (n < 0 && errno == EINTR);
	int e = errno;
	free(pkt - l->aligner); /* as libnet_write() frees what it coalesced */
	if (n < 0) {
		c->err_no = e;
		snprintf(c->err, sizeof(c->err), "sendto: %s", strerror(e));
		return -2;
	}
	return 0;
}

void craft_ts_option(uint8_t out[12], uint32_t ts_val, uint32_t ts_ecr)
{
	out[0] = 1;
	out[1] = 1;
	put_ts(out, 2, ts_val);
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ts_ecr >> (24 - 8 * i));
}

/* Patch (or first build) the blocks of one context and write the packet. */
static int build_and_send(struct crafter *c, struct craft_ctx *x, const struct tcp_seg *s)
{
	libnet_t *l = x->l;
	uint32_t tcp_len = (uint32_t)(LIBNET_TCP_H + s->optlen + s->len);
	if (s->optlen != x->optlen) {
		/* blocks keep their shape: options of another length, build anew */
		libnet_clear_packet(l);
		x->opt = x->tcp = x->ip = 0;
		x->optlen = s->optlen;
	}
	if (s->optlen) {
		x->opt = libnet_build_tcp_options(s->opts, (uint32_t)s->optlen, l, x->opt);
		if (x->opt == -1)
			goto fail;
	}
	x->tcp = libnet_build_tcp(s->sport, s->dport, s->seq, s->ack, s->flags, s->win, 0, 0,
				  (uint16_t)tcp_len, s->payload, (uint32_t)s->len, l, x->tcp);
	if (x->tcp == -1)
		goto fail;
	uint8_t ttl = s->ttl ? s->ttl : TTL_DEFAULT;
	if (s->src->family == AF_INET) {
		uint32_t src, dst;
		memcpy(&src, s->src->b, 4);
		memcpy(&dst, s->dst->b, 4);
		x->ip = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + tcp_len), 0, 0, 0x4000,
					  ttl, IPPROTO_TCP, 0, src, dst, NULL, 0, l, x->ip);
	} else {
		struct libnet_in6_addr src, dst;
		memcpy(&src, s->src->b, 16);
		memcpy(&dst, s->dst->b, 16);
		x->ip = libnet_build_ipv6(0, 0, (uint16_t)tcp_len, IPPROTO_TCP, ttl, src,
					  dst, NULL, 0, l, x->ip);
	}
	if (x->ip == -1)
		goto fail;
	int rc = send_packet(c, fam_index(s->src->family), l, s->dst);
	if (rc == -2)
		return -1; /* c->err says why */
	if (rc < 0)
		goto fail;
	return 0;
fail:
	snprintf(c->err, sizeof(c->err), "%s", libnet_geterror(l));
	chomp(c->err);
	return -1;
}

int craft_send_syn(struct crafter *c, const struct tcp_seg *s)
{
	return build_and_send(c, &c->syn[fam_index(s->src->family)], s);
}

int craft_send_ctl(struct crafter *c, const struct tcp_seg *s)
{
	return build_and_send(c, &c->ctl[fam_index(s->src->family)], s);
}
