/* craft.c - libnet contexts; SYN and control segments; raw send. */
#include "craft.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

static int ctx_open(struct crafter *c, struct craft_ctx *x, int family)
{
	char err[LIBNET_ERRBUF_SIZE];
	x->opt = x->tcp = x->ip = 0;
	x->optlen = 0;
	x->l = libnet_init(family == AF_INET ? LIBNET_RAW4 : LIBNET_RAW6, c->device, err);
	if (!x->l) {
		chomp(err);
		snprintf(c->err, sizeof(c->err), "%s", err);
		return -1;
	}
	return 0;
}

int craft_open(struct crafter *c, int family, const char *device)
{
	int i = fam_index(family);
	c->device = device;
	if (c->syn[i].l)
		return 0;
	if (ctx_open(c, &c->syn[i], family) < 0)
		return -1;
	if (ctx_open(c, &c->ctl[i], family) < 0) {
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
	}
}

int craft_set_mark(struct crafter *c, uint32_t mark)
{
	struct craft_ctx *all[4] = { &c->syn[0], &c->syn[1], &c->ctl[0], &c->ctl[1] };
	for (int i = 0; i < 4; i++) {
		if (!all[i]->l)
			continue;
		if (setsockopt(libnet_getfd(all[i]->l), SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
			snprintf(c->err, sizeof(c->err), "SO_MARK: %s", strerror(errno));
			return -1;
		}
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
	if (s->src->family == AF_INET) {
		uint32_t src, dst;
		memcpy(&src, s->src->b, 4);
		memcpy(&dst, s->dst->b, 4);
		x->ip = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + tcp_len), 0, 0, 0x4000,
					  TTL_DEFAULT, IPPROTO_TCP, 0, src, dst, NULL, 0, l, x->ip);
	} else {
		struct libnet_in6_addr src, dst;
		memcpy(&src, s->src->b, 16);
		memcpy(&dst, s->dst->b, 16);
		x->ip = libnet_build_ipv6(0, 0, (uint16_t)tcp_len, IPPROTO_TCP, TTL_DEFAULT, src,
					  dst, NULL, 0, l, x->ip);
	}
	if (x->ip == -1)
		goto fail;
	if (libnet_write(l) == -1) {
		c->err_no = errno;
		goto fail;
	}
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
