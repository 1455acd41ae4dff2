/* targets.c - port lists and name resolution, both strict. */
#include "targets.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decimal port 1..65535 at *s; advances *s past it. */
static int parse_port(const char **s, uint16_t *port, char *err, size_t errlen)
{
	const char *p = *s;
	unsigned long v = 0;
	if (*p < '0' || *p > '9') {
		snprintf(err, errlen, "'%s' is not a port number", *s);
		return -1;
	}
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535) {
			snprintf(err, errlen, "port out of range 1-65535 in '%s'", *s);
			return -1;
		}
		p++;
	}
	if (v == 0) {
		snprintf(err, errlen, "port 0 is not a valid port (1-65535)");
		return -1;
	}
	*port = (uint16_t)v;
	*s = p;
	return 0;
}

int ports_parse(const char *s, struct port_list *out, char *err, size_t errlen)
{
	uint8_t seen[65536 / 8];
	memset(seen, 0, sizeof(seen));
	out->v = NULL;
	out->n = 0;
	if (*s == '\0') {
		snprintf(err, errlen, "empty port list");
		return -1;
	}
	size_t cap = 0;
	const char *p = s;
	for (;;) {
		uint16_t lo, hi;
		if (parse_port(&p, &lo, err, errlen) < 0)
			goto fail;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_port(&p, &hi, err, errlen) < 0)
				goto fail;
			if (hi < lo) {
				snprintf(err, errlen, "reversed port range %u-%u", lo, hi);
				goto fail;
			}
		}
		if (*p != ',' && *p != '\0') {
			snprintf(err, errlen, "unexpected '%c' in port list '%s'", *p, s);
			goto fail;
		}
		for (uint32_t port = lo; port <= hi; port++) {
			if (seen[port / 8] & (1u << (port % 8)))
				continue;
			seen[port / 8] |= (uint8_t)(1u << (port % 8));
			if (out->n == cap) {
				cap = cap ? cap * 2 : 16;
				uint16_t *nv = realloc(out->v, cap * sizeof(*nv));
				if (!nv) {
					snprintf(err, errlen, "out of memory");
					goto fail;
				}
				out->v = nv;
			}
			out->v[out->n++] = (uint16_t)port;
		}
		if (*p == '\0')
			return 0;
		p++; /* ',' */
	}
fail:
	ports_free(out);
	return -1;
}

void ports_free(struct port_list *pl)
{
	free(pl->v);
	pl->v = NULL;
	pl->n = 0;
}

size_t target_resolve_all(const char *name, int family, struct addr *out, size_t max)
{
	struct addrinfo hints, *res = NULL;
	size_t n = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if (*name == '\0' || getaddrinfo(name, NULL, &hints, &res) != 0)
		return 0;
	for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
		struct addr a;
		bool seen = false;
		if (addr_from_sockaddr(&a, ai->ai_addr) < 0)
			continue;
		for (size_t k = 0; k < n; k++)
			seen |= addr_eq(&out[k], &a);
		if (!seen)
			out[n++] = a;
	}
	freeaddrinfo(res);
	return n;
}

int target_resolve(const char *name, int family, int numeric, struct addr *out, char *err,
		   size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = numeric ? AI_NUMERICHOST : 0;
	if (*name == '\0') {
		snprintf(err, errlen, "empty target name");
		return -1;
	}
	int rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		if (numeric && rc == EAI_NONAME)
			snprintf(err, errlen, "not a numeric %saddress (-n)",
				 family == AF_INET ? "IPv4 " : family == AF_INET6 ? "IPv6 " : "");
		else
			snprintf(err, errlen, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	int ok = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (addr_from_sockaddr(out, ai->ai_addr) == 0) {
			ok = 0;
			break;
		}
	freeaddrinfo(res);
	if (ok < 0)
		snprintf(err, errlen, "no IPv4 or IPv6 address");
	return ok;
}

int hostport_split(const char *t, char *host, size_t hostlen, int *port)
{
	const char *h = t, *end, *colon = NULL;
	*port = 0;
	if (*t == '[') {
		h = t + 1;
		if (!(end = strchr(h, ']')))
			return -1;
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0')
			return -1;
	} else {
		const char *c = strchr(t, ':');
		bool one = c && !strchr(c + 1, ':'); /* two colons: an IPv6 address alone */
		end = one ? c : t + strlen(t);
		colon = one ? c : NULL;
	}
	size_t n = (size_t)(end - h);
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon) {
		char *e;
		errno = 0;
		long v = strtol(colon + 1, &e, 10);
		if (errno || e == colon + 1 || *e || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
	}
	return 0;
}

int listen_spec_parse(const char *spec, char *host, size_t hostlen, int *port)
{
	if (spec[0] == ':') {
		char *e;
		errno = 0;
		long v = strtol(spec + 1, &e, 10);
		if (errno || e == spec + 1 || *e || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
		snprintf(host, hostlen, "::");
		return 0;
	}
	return hostport_split(spec, host, hostlen, port) < 0 || *port == 0 ? -1 : 0;
}
