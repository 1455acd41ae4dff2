/* route.h - what the kernel's routing table says about a target: the
 * source address and the interface a packet to it leaves by, that
 * interface's MTU, and which source ports the kernel leaves to us. */
#ifndef TCPSHAKE_ROUTE_H
#define TCPSHAKE_ROUTE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct route {
	struct addr src;
	char ifname[IF_NAMESIZE];
	int mtu;
};

/* Route to dst. iface and source (either may be NULL) override the kernel's
 * choice; a source that is not an address of this host is refused.
 * 0 on success; -1 with a reason in err. */
int route_lookup(const struct addr *dst, const char *iface, const char *source,
		 struct route *rt, char *err, size_t errlen);

/* Our source-port range: the span above the kernel's
 * net.ipv4.ip_local_port_range when it has 1024 ports or more, else the larger
 * span outside it, so the kernel's own connections never collide with
 * ours. Pure: takes the kernel's range. */
void route_our_ports(int eph_lo, int eph_hi, uint16_t *lo, uint16_t *hi);

/* Is the interface there and up? */
bool route_iface_up(const char *ifname);

/* Read /proc/sys/net/ipv4/ip_local_port_range; 32768-60999 if unreadable. */
void route_ephemeral_range(int *lo, int *hi);

#endif
