/* guard.c - an owner-flagged nftables table that drops the kernel's RSTs. */
#include "guard.h"

#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* One rule for one family: "ip saddr { a, b }" or no address match. */
static int family_rule(const struct guard_spec *s, int family, char *buf, size_t len, size_t *off)
{
	char a[64];
	size_t n = 0;
	for (size_t i = 0; i < s->nsrcs; i++)
		n += s->srcs[i].family == family;
	if (n == 0)
		return 0;
	if (buf_put(buf, len, off, "\t\tmeta nfproto %s meta mark != 0x%08x tcp sport %u-%u "
			       "tcp flags & rst == rst",
		family == AF_INET ? "ipv4" : "ipv6", (unsigned)s->mark, s->port_lo, s->port_hi) < 0)
		return -1;
	if (s->nsrcs <= GUARD_MAX_ADDRS) {
		if (buf_put(buf, len, off, " %s saddr { ", family == AF_INET ? "ip" : "ip6") < 0)
			return -1;
		const char *sep = "";
		for (size_t i = 0; i < s->nsrcs; i++) {
			if (s->srcs[i].family != family)
				continue;
			if (buf_put(buf, len, off, "%s%s", sep, addr_str(&s->srcs[i], a, sizeof(a))) < 0)
				return -1;
			sep = ", ";
		}
		if (buf_put(buf, len, off, " }") < 0)
			return -1;
	}
	return buf_put(buf, len, off, " drop\n");
}

int guard_ruleset(const struct guard_spec *s, char *buf, size_t len)
{
	size_t off = 0;
	if (len == 0)
		return -1;
	if (buf_put(buf, len, &off,
		"table inet tcpshake_%ld {\n"
		"\tflags owner\n"
		"\tchain rst_guard {\n"
		"\t\ttype filter hook output priority raw; policy accept;\n",
		s->pid) < 0 ||
	    family_rule(s, AF_INET, buf, len, &off) < 0 ||
	    family_rule(s, AF_INET6, buf, len, &off) < 0 || buf_put(buf, len, &off, "\t}\n}\n") < 0)
		return -1;
	return 0;
}

/* nft's error text, one line. */
static void first_line(const char *in, char *err, size_t errlen)
{
	size_t n = strcspn(in ? in : "", "\n");
	snprintf(err, errlen, "%.*s", (int)n, in ? in : "");
}

int guard_install(struct guard *g, const struct guard_spec *s, char *err, size_t errlen)
{
	char rules[8192];
	snprintf(g->table, sizeof(g->table), "tcpshake_%ld", s->pid);
	if (guard_ruleset(s, rules, sizeof(rules)) < 0) {
		snprintf(err, errlen, "ruleset too long");
		return -1;
	}
	g->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!g->nft) {
		snprintf(err, errlen, "libnftables: no context");
		return -1;
	}
	nft_ctx_buffer_output(g->nft);
	nft_ctx_buffer_error(g->nft);
	if (nft_run_cmd_from_buffer(g->nft, rules) != 0) {
		char msg[256];
		first_line(nft_ctx_get_error_buffer(g->nft), msg, sizeof(msg));
		if (strstr(msg, "Operation not permitted"))
			snprintf(err, errlen, "Operation not permitted: full mode needs CAP_NET_ADMIN "
					      "(-M syn does not)");
		else if (strstr(msg, "No such file") || strstr(msg, "not supported") ||
			 strstr(msg, "Protocol not supported"))
			snprintf(err, errlen, "%s: the kernel has no nf_tables (-M syn needs none)", msg);
		else
			snprintf(err, errlen, "%s", msg[0] ? msg : "nftables refused the ruleset");
		nft_ctx_free(g->nft);
		g->nft = NULL;
		return -1;
	}
	return 0;
}

void guard_remove(struct guard *g)
{
	if (g->nft)
		nft_ctx_free(g->nft);
	g->nft = NULL;
}
