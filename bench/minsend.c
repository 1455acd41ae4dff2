/* minsend.c - the machine's limit: how many packets per second one core
 * sends through a packet socket, when each is one constant SYN frame (no
 * crafting, no capture, no state). Every tool's rate in the fleet benchmark
 * is shown as a share of it.
 *
 *   minsend IFACE DST_MAC SRC_IP DST_IP COUNT
 *
 * Sends COUNT copies of one SYN to DST_IP:9 (a port nothing listens on)
 * with sendmmsg, 256 a call; prints "PPS SECONDS". Only for the bench's
 * own namespaces (198.18.0.0/15). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)(b[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int main(int argc, char **argv)
{
	uint8_t f[54] = { 0 }, *ip = f + 14, *tcp = f + 34;
	struct in_addr s, d;
	unsigned m[6];
	if (argc != 6 || sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
				&m[5]) != 6 || !inet_pton(AF_INET, argv[3], &s) ||
	    !inet_pton(AF_INET, argv[4], &d) || (ntohl(d.s_addr) >> 17) != (0xc612u >> 1)) {
		fprintf(stderr, "usage: minsend IFACE DST_MAC SRC_IP DST_IP(198.18.0.0/15) COUNT\n");
		return 2;
	}
	long count = atol(argv[5]);
	for (int i = 0; i < 6; i++)
		f[i] = (uint8_t)m[i];
	f[12] = 0x08;
	ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = 6;
	memcpy(ip + 12, &s, 4), memcpy(ip + 16, &d, 4);
	uint16_t c = htons(csum(ip, 20, 0));
	memcpy(ip + 10, &c, 2);
	tcp[0] = 0xee, tcp[1] = 0x48, tcp[3] = 9, tcp[12] = 0x50, tcp[13] = 0x02, tcp[14] = 0xff;
	uint8_t ph[12];
	memcpy(ph, &s, 4), memcpy(ph + 4, &d, 4), ph[8] = 0, ph[9] = 6, ph[10] = 0, ph[11] = 20;
	uint32_t sum = 0;
	for (int i = 0; i < 12; i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	c = htons(csum(tcp, 20, sum));
	memcpy(tcp + 16, &c, 2);

	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1]),
				  .sll_halen = 6 };
	memcpy(to.sll_addr, f, 6);
	if (fd < 0 || to.sll_ifindex == 0) {
		perror("minsend");
		return 1;
	}
	enum { BATCH = 256 };
	struct iovec iov = { f, sizeof(f) };
	struct mmsghdr v[BATCH];
	for (int i = 0; i < BATCH; i++)
		v[i].msg_hdr = (struct msghdr){ .msg_name = &to, .msg_namelen = sizeof(to),
						.msg_iov = &iov, .msg_iovlen = 1 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long sent = 0;
	while (sent < count) {
		int n = sendmmsg(fd, v, (unsigned)(count - sent < BATCH ? count - sent : BATCH), 0);
		if (n < 0) {
			perror("sendmmsg");
			return 1;
		}
		sent += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f %.3f\n", (double)sent / secs, secs);
	return 0;
}
