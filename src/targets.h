/* targets.h - what to probe: port lists and host names/addresses. */
#ifndef TCPSHAKE_TARGETS_H
#define TCPSHAKE_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct port_list {
	uint16_t *v;
	size_t n;
};

/* "80,443,8000-8010": each port 1..65535, ranges low-high, duplicates
 * dropped, input order kept. 0 on success; -1 with a reason in err. */
int ports_parse(const char *s, struct port_list *out, char *err, size_t errlen);
void ports_free(struct port_list *pl);

/* Resolve a host name or address. family: AF_UNSPEC, AF_INET or AF_INET6.
 * numeric: refuse names (no DNS). 0 on success; -1 with a reason in err. */
/* Every address of a name (--all-addresses), distinct, at most max. */
size_t target_resolve_all(const char *name, int family, struct addr *out, size_t max);

int target_resolve(const char *name, int family, int numeric, struct addr *out, char *err,
		   size_t errlen);

/* "host", "host:80", "198.18.0.2:80", "[2001:db8::2]:80", "2001:db8::2"
 * (--serve's requests): the host into host (brackets removed) and the
 * port (0 when none). -1 when malformed. Pure. */
int hostport_split(const char *t, char *host, size_t hostlen, int *port);

/* --serve's address: "ADDR:PORT", "[ADDR]:PORT", or ":PORT" for every
 * address (IPv6 and IPv4): the host ("::" for :PORT) and the port; -1 when
 * malformed. Pure. */
int listen_spec_parse(const char *spec, char *host, size_t hostlen, int *port);

#endif
