/* route.c - source address and interface from the kernel's route. */
#include "route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The interface that holds addr, if any; 1 when found. */
static int iface_of_addr(const struct addr *a, char *ifname)
{
	struct ifaddrs *ifs, *i;
	int found = 0;
	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i && !found; i = i->ifa_next) {
		struct addr x;
		if (!i->ifa_addr || addr_from_sockaddr(&x, i->ifa_addr) < 0)
			continue;
		if (addr_eq(&x, a)) {
			snprintf(ifname, IF_NAMESIZE, "%s", i->ifa_name);
			found = 1;
		}
	}
	freeifaddrs(ifs);
	return found;
}

static int iface_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1500;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int mtu = ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 1500;
	close(fd);
	return mtu;
}

static bool is_link_local(const struct addr *a)
{
	return a->family == AF_INET6 && a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

static bool is_loopback_addr(const struct addr *a)
{
	static const uint8_t v6_lo[16] = { [15] = 1 };
	return a->family == AF_INET ? a->b[0] == 127 : memcmp(a->b, v6_lo, 16) == 0;
}

static bool iface_is_loopback(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	bool lo = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK);
	close(fd);
	return lo;
}

/* The kernel's source address for dst: connect a UDP socket, read its name. */
static int kernel_source(const struct addr *dst, const char *iface, struct addr *src, char *err,
			 size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(dst->family, SOCK_DGRAM, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface)) < 0) {
		snprintf(err, errlen, "interface %s: %s", iface, strerror(errno));
		close(fd);
		return -1;
	}
	addr_to_sockaddr(dst, 9, &ss, &len);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno == EINVAL && !iface && is_link_local(dst))
			snprintf(err, errlen, "a link-local address needs its zone (fe80::1%%eth0) "
					      "or an interface (-I)");
		else
			snprintf(err, errlen, "no route: %s", strerror(errno));
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	int rc = getsockname(fd, (struct sockaddr *)&ss, &len);
	close(fd);
	if (rc < 0 || addr_from_sockaddr(src, (struct sockaddr *)&ss) < 0) {
		snprintf(err, errlen, "no source address: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int route_lookup(const struct addr *dst, const char *iface, const char *source,
		 struct route *rt, char *err, size_t errlen)
{
	memset(rt, 0, sizeof(*rt));
	if (iface && if_nametoindex(iface) == 0) {
		snprintf(err, errlen, "interface %s: no such interface", iface);
		return -1;
	}
	char here[IF_NAMESIZE];
	if (iface && iface_is_loopback(iface) && !is_loopback_addr(dst) && !iface_of_addr(dst, here)) {
		snprintf(err, errlen, "interface %s: a loopback interface reaches only this "
				      "host's addresses", iface);
		return -1;
	}
	if (source) {
		rt->src.family = dst->family;
		char shown[80];
		if (inet_pton(dst->family, source, rt->src.b) != 1) {
			snprintf(err, errlen, "source %s: not an %s address",
				 str_show(source, 64, shown, sizeof(shown)),
				 dst->family == AF_INET ? "IPv4" : "IPv6");
			return -1;
		}
		char ifn[IF_NAMESIZE];
		if (!iface_of_addr(&rt->src, ifn)) {
			snprintf(err, errlen, "source %s: not an address of this host",
				 str_show(source, 64, shown, sizeof(shown)));
			return -1;
		}
	} else if (kernel_source(dst, iface, &rt->src, err, errlen) < 0) {
		return -1;
	}
	if (iface)
		snprintf(rt->ifname, sizeof(rt->ifname), "%s", iface);
	else if (iface_of_addr(dst, rt->ifname))
		snprintf(rt->ifname, sizeof(rt->ifname), "lo"); /* a local address: loopback */
	else if (!iface_of_addr(&rt->src, rt->ifname)) {
		snprintf(err, errlen, "no interface holds the source address");
		return -1;
	}
	rt->mtu = iface_mtu(rt->ifname);
	return 0;
}

void route_our_ports(int eph_lo, int eph_hi, uint16_t *lo, uint16_t *hi)
{
	if (eph_lo < 1024 || eph_hi > 65535 || eph_lo > eph_hi) {
		eph_lo = 32768;
		eph_hi = 60999;
	}
	int above = 65535 - eph_hi;  /* eph_hi+1 .. 65535 */
	int below = eph_lo - 1024;   /* 1024 .. eph_lo-1 */
	/* Above first: low ports are where services listen. */
	if (above >= 1024 || (above > 0 && above >= below)) {
		*lo = (uint16_t)(eph_hi + 1);
		*hi = 65535;
	} else if (below > 0) {
		*lo = 1024;
		*hi = (uint16_t)(eph_lo - 1);
	} else {
		*lo = 61000; /* the kernel took everything: share, the ISN still guards */
		*hi = 65535;
	}
}

void route_ephemeral_range(int *lo, int *hi)
{
	*lo = 32768;
	*hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (!f)
		return;
	int a, b;
	if (fscanf(f, "%d %d", &a, &b) == 2) {
		*lo = a;
		*hi = b;
	}
	fclose(f);
}

bool route_iface_up(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return true;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	bool up = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) &&
		  (ifr.ifr_flags & IFF_RUNNING);
	close(fd);
	return up;
}
