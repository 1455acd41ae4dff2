/* capture.h - libpcap on one interface: immediate mode, nanosecond
 * timestamps, both directions, and a BPF filter as narrow as the run. */
#ifndef TCPSHAKE_CAPTURE_H
#define TCPSHAKE_CAPTURE_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Interfaces one run captures on, at the most. */
#define CAPTURE_MAX 8

/* A capture is libpcap's (a packet ring: what a fleet needs) or, for a few
 * probes where the kernel stamps frames in the stack already, a plain
 * packet socket read in batches ("direct"): setting up a ring waits out an
 * RCU grace period in the kernel (some 10 ms), a single check's largest
 * cost. Both filter with the same program (compiled by libpcap) and carry
 * the kernel's same stamps (capture.c, stamping_on, says when). */
struct capture {
	pcap_t *p;         /* libpcap's, or NULL: direct */
	int fd;
	int linktype;
	char dev[32];
	/* direct: */
	uint8_t *buf;      /* batch frames of snaplen bytes */
	size_t snaplen;
	unsigned batch;
	int lo;            /* on loopback: our frames come back in, not out too */
	uint64_t drops;    /* the kernel's count, summed (it resets on reading) */
	char err[PCAP_ERRBUF_SIZE];
};

/* What the filter lets through: TCP between our port range and the
 * targets, ICMP/ICMPv6 errors, and IPv6 packets with extension headers
 * (the filter cannot find the TCP or ICMPv6 header behind them). */
struct filter_spec {
	uint16_t port_lo, port_hi;
	const struct addr *hosts; /* the targets; more than FILTER_MAX_HOSTS: ports only */
	size_t nhosts;
};

#define FILTER_MAX_HOSTS 64

/* Write the BPF program text into buf; -1 if it does not fit. Pure. */
int capture_filter_text(const struct filter_spec *f, char *buf, size_t len);

/* How much of each frame to keep, and the kernel ring's size in bytes: a
 * ring is allocated and freed whole, so a short run wants a small one. */
struct capture_size {
	int snaplen;
	int buffer;
	/* Frames packed in the ring (TPACKET_V3, handed over at the latest
	 * PACKED_WAIT_MS after they came) instead of a slot of snaplen bytes
	 * each (immediate mode): with whole frames a 1 MiB ring of slots holds
	 * 15 of them, a TLS handshake alone 12. Timestamps are the kernel's
	 * either way. */
	bool packed;
	/* A plain packet socket, no ring (a few probes), where the kernel
	 * stamps frames already; libpcap otherwise, and where the link is not
	 * one it reads (Ethernet, loopback, raw IP). */
	bool direct;
};

#define PACKED_WAIT_MS 1

/* Frames a system call reads from a plain packet socket. */
#define DIRECT_BATCH 64

/* Every header we read, IPv6 extension headers and an ICMPv6 quote included. */
#define SNAPLEN_HEADERS 256

/* A whole frame: the largest IP packet (a coalesced one too: GRO and
 * loopback hand the capture up to 64 KiB at once) behind any link header. */
#define SNAPLEN_WHOLE (SNAPLEN_HEADERS + 65535)

/* Open dev; -1 with a reason in err. */
int capture_open(struct capture *c, const char *dev, const struct capture_size *sz,
		 const char *filter, char *err, size_t errlen);
void capture_close(struct capture *c);

/* Hand each frame waiting (at most max) to cb, as pcap_dispatch does
 * (nanosecond timestamps in ts.tv_usec). The count, or -1 with the reason
 * in capture_error. */
int capture_dispatch(struct capture *c, int max, pcap_handler cb, u_char *user);
const char *capture_error(struct capture *c);


/* Kernel drop counter since open (ps_drop + ps_ifdrop). */
uint64_t capture_drops(struct capture *c);

#endif
