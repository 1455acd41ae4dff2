/* capture.c - the capture: a packet socket or libpcap's ring, and its filter. */
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

static int host_list(const struct filter_spec *f, char *buf, size_t len, size_t *off,
		     const char *dir)
{
	char a[64], clause[96];
	if (f->nhosts == 0 || f->nhosts > FILTER_MAX_HOSTS)
		return 0;
	if (buf_put(buf, len, off, " and (") < 0)
		return -1;
	for (size_t i = 0; i < f->nhosts; i++) {
		addr_str(&f->hosts[i], a, sizeof(a));
		snprintf(clause, sizeof(clause), "%s%s host %s", i ? " or " : "", dir, a);
		if (buf_put(buf, len, off, "%s", clause) < 0)
			return -1;
	}
	return buf_put(buf, len, off, ")");
}

/* libpcap's tcp and icmp6 read the IPv6 next-header field alone (tcp
 * also steps over one fragment header, but its ports are then looked for
 * in the wrong place): an answer behind a hop-by-hop, routing,
 * destination-options or fragment header (an atomic fragment), which the
 * kernel accepts, would never reach us. BPF cannot walk the chain, so every IPv6 packet that
 * starts one passes; decode.c walks it and match.c judges the answer. */
int capture_filter_text(const struct filter_spec *f, char *buf, size_t len)
{
	char range[32];
	size_t off = 0;
	if (len == 0)
		return -1;
	buf[0] = '\0';
	snprintf(range, sizeof(range), "%u-%u", f->port_lo, f->port_hi);
	if (buf_put(buf, len, &off, "(tcp and ((dst portrange %s", range) < 0 ||
	    host_list(f, buf, len, &off, "src") < 0 ||
	    buf_put(buf, len, &off, ") or (src portrange %s", range) < 0 ||
	    host_list(f, buf, len, &off, "dst") < 0 ||
	    buf_put(buf, len, &off, "%s",
		   "))) or (icmp and (icmp[0] = 3 or icmp[0] = 11))"
		   " or (icmp6 and (ip6[40] = 1 or ip6[40] = 2 or ip6[40] = 3))"
		   " or (ip6 and (ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 60))") < 0)
		return -1;
	return 0;
}

/* Ask the kernel to stamp every packet once, as it enters the stack or
 * leaves for the driver, rather than when each capture socket receives its
 * copy: the stamp is then earlier, and the same for every capture of the
 * packet (tcpdump's included). Best effort: without it stamps are taken a
 * few hundred nanoseconds later, per socket. */
static void stamp_in_stack(int fd)
{
	int one = 1, soft = SOF_TIMESTAMPING_SOFTWARE;
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	(void)setsockopt(fd, SOL_PACKET, PACKET_TIMESTAMP, &soft, sizeof(soft));
}

/* ---- direct: a packet socket without a ring ------------------------------ */

/* The link type libpcap would give dev, for the links read directly: 0 for
 * any other (libpcap then captures). */
static int direct_linktype(int fd, const char *dev, int *lo)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (strlen(dev) >= sizeof(ifr.ifr_name))
		return 0;
	memcpy(ifr.ifr_name, dev, strlen(dev));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return 0;
	*lo = ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK;
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return DLT_EN10MB;
	case ARPHRD_NONE: /* a tun device: the IP packet alone */
		return DLT_RAW;
	default:
		return 0;
	}
}

/* A packet ring stamps each frame as the kernel hands it over, always; a
 * plain socket gets the stamp the stack put on the frame (as it came in or
 * left for the driver) only while the kernel's global switch for stamping
 * is on - else the time the frame is read, microseconds late. Asking for
 * timestamps turns the switch on, but the first asker's request is carried
 * out by a kernel worker later (some 20 ms on this project's VM, longer
 * than a ring's set-up). So a plain socket is used only where the switch
 * is on already (a time daemon's socket keeps it on, as chrony's does): a
 * datagram to ourselves on loopback (it never leaves the host) comes back
 * with the stack's stamp or none (SO_TIMESTAMPING reports, and does not
 * ask for, stamps made in software). Some 50 us; a UDP socket, whose
 * release waits for nothing. */
static bool stamping_on(void)
{
	int report = SOF_TIMESTAMPING_SOFTWARE;
	struct sockaddr_in self = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(self);
	char byte = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool sent = fd >= 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &report, sizeof(report)) == 0 &&
		    bind(fd, (struct sockaddr *)&self, sizeof(self)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&self, &sl) == 0 &&
		    sendto(fd, &byte, 1, 0, (struct sockaddr *)&self, sizeof(self)) == 1;
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct scm_timestamping st;
	memset(&st, 0, sizeof(st));
	char ctl[CMSG_SPACE(sizeof(st)) + 64];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	if (sent && poll(&pfd, 1, 5) > 0 && recvmsg(fd, &m, MSG_DONTWAIT) == 1)
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPING &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(st)))
				memcpy(&st, CMSG_DATA(cm), sizeof(st));
	if (fd >= 0)
		close(fd);
	return st.ts[0].tv_sec != 0 || st.ts[0].tv_nsec != 0;
}

/* The filter, compiled by libpcap for the link type, in the kernel: before
 * the socket is bound, so that nothing else is ever queued. */
static int attach_filter(struct capture *c, const char *filter)
{
	struct bpf_program prog;
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(c->linktype, (int)c->snaplen,
							     PCAP_TSTAMP_PRECISION_NANO);
	if (!dead) {
		snprintf(c->err, sizeof(c->err), "capture filter: out of memory");
		return -1;
	}
	if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(c->err, sizeof(c->err), "capture filter: %s", pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	/* struct bpf_insn is the kernel's struct sock_filter, as libpcap has it */
	struct sock_fprog fp = { (unsigned short)prog.bf_len, (struct sock_filter *)prog.bf_insns };
	int rc = setsockopt(c->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
	if (rc < 0)
		snprintf(c->err, sizeof(c->err), "capture filter: %s", strerror(errno));
	pcap_freecode(&prog);
	pcap_close(dead);
	return rc;
}

/* The receive buffer as large as the ring would have been (beyond the
 * system's rmem_max only with CAP_NET_ADMIN). */
static void size_buffer(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

/* 1: open; 0: not a link read directly (use libpcap); -1: failed. */
static int direct_open(struct capture *c, const struct capture_size *sz, const char *filter)
{
	int one = 1;
	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		snprintf(c->err, sizeof(c->err), "capture on %s: %s", c->dev, strerror(errno));
		return -1;
	}
	unsigned ifindex = if_nametoindex(c->dev);
	c->linktype = direct_linktype(c->fd, c->dev, &c->lo);
	if (ifindex == 0 || c->linktype == 0) {
		close(c->fd);
		c->fd = -1;
		return 0;
	}
	c->snaplen = (size_t)sz->snaplen;
	/* a batch of header-sized frames; whole frames (64 KiB each) a few */
	c->batch = c->snaplen <= SNAPLEN_HEADERS ? DIRECT_BATCH : 4;
	c->buf = malloc(c->snaplen * c->batch);
	if (!c->buf) {
		snprintf(c->err, sizeof(c->err), "capture on %s: out of memory", c->dev);
		return -1;
	}
	if (attach_filter(c, filter) < 0)
		return -1;
	stamp_in_stack(c->fd);
	size_buffer(c->fd, sz->buffer);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	if (setsockopt(c->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		snprintf(c->err, sizeof(c->err), "capture on %s: %s", c->dev, strerror(errno));
		return -1;
	}
	return 1;
}

/* Each frame read: its wire length (the kernel's auxiliary data: the
 * filter's snap length cuts what is queued), its stamp, and whether it is a
 * loopback frame's outgoing copy (the same frame comes in next). */
struct direct_msg {
	struct sockaddr_ll from;
	union { /* aligned for the control messages */
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata)) +
		       CMSG_SPACE(sizeof(struct timespec))];
	} ctl;
	struct iovec iov;
};

static void frame_header(const struct capture *c, struct msghdr *m, size_t n,
			 struct pcap_pkthdr *h)
{
	struct timespec ts = { 0, 0 };
	size_t wire = n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts)))
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
			struct tpacket_auxdata aux;
			memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
			wire = aux.tp_len;
		}
	}
	if (ts.tv_sec == 0 && ts.tv_nsec == 0)
		clock_gettime(CLOCK_REALTIME, &ts);
	h->ts.tv_sec = ts.tv_sec;
	h->ts.tv_usec = ts.tv_nsec; /* nanosecond precision, as libpcap's */
	h->caplen = (bpf_u_int32)(n < c->snaplen ? n : c->snaplen);
	h->len = (bpf_u_int32)(wire > h->caplen ? wire : h->caplen);
}

static const char *read_error(struct capture *c, int e)
{
	if (e == ENETDOWN)
		snprintf(c->err, sizeof(c->err), "the interface %s went down", c->dev);
	else if (e == ENXIO || e == ENODEV)
		snprintf(c->err, sizeof(c->err), "the interface %s disappeared", c->dev);
	else
		snprintf(c->err, sizeof(c->err), "%s", strerror(e));
	return c->err;
}

/* Up to DIRECT_BATCH frames a system call (recvmmsg), at most max in all. */
static int direct_dispatch(struct capture *c, int max, pcap_handler cb, u_char *user)
{
	struct direct_msg dm[DIRECT_BATCH];
	struct mmsghdr v[DIRECT_BATCH];
	int got = 0;
	while (got < max) {
		unsigned left = (unsigned)(max - got);
		unsigned want = left < c->batch ? left : c->batch;
		for (unsigned i = 0; i < want; i++) {
			dm[i].iov = (struct iovec){ c->buf + i * c->snaplen, c->snaplen };
			v[i].msg_hdr = (struct msghdr){ .msg_name = &dm[i].from,
							.msg_namelen = sizeof(dm[i].from),
							.msg_iov = &dm[i].iov, .msg_iovlen = 1,
							.msg_control = dm[i].ctl.b,
							.msg_controllen = sizeof(dm[i].ctl.b) };
		}
		int n = recvmmsg(c->fd, v, want, MSG_TRUNC | MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			read_error(c, errno);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			if (c->lo && dm[i].from.sll_pkttype == PACKET_OUTGOING)
				continue;
			struct pcap_pkthdr h;
			frame_header(c, &v[i].msg_hdr, v[i].msg_len, &h);
			cb(user, &h, c->buf + (size_t)i * c->snaplen);
		}
		got += n;
		if ((unsigned)n < want)
			break;
	}
	return got;
}

int capture_dispatch(struct capture *c, int max, pcap_handler cb, u_char *user)
{
	if (c->p) {
		int rc = pcap_dispatch(c->p, max, cb, user);
		if (rc == PCAP_ERROR)
			snprintf(c->err, sizeof(c->err), "%s", pcap_geterr(c->p));
		return rc < 0 ? -1 : rc;
	}
	return c->fd >= 0 ? direct_dispatch(c, max, cb, user) : 0;
}

const char *capture_error(struct capture *c)
{
	return c->err;
}

/* ---- libpcap's ring ------------------------------------------------------ */

int capture_open(struct capture *c, const char *dev, const struct capture_size *sz,
		 const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->dev, sizeof(c->dev), "%s", dev);
	if (sz->direct && stamping_on()) { /* see stamping_on */
		int rc = direct_open(c, sz, filter);
		if (rc > 0)
			return 0;
		if (rc < 0) {
			snprintf(err, errlen, "%s", c->err);
			capture_close(c);
			return -1;
		}
	}
	c->p = pcap_create(dev, ebuf);
	if (!c->p) {
		snprintf(err, errlen, "capture on %s: %s", dev, ebuf);
		return -1;
	}
	pcap_set_snaplen(c->p, sz->snaplen);
	if (sz->packed)
		pcap_set_timeout(c->p, PACKED_WAIT_MS);
	else
		pcap_set_immediate_mode(c->p, 1);
	pcap_set_buffer_size(c->p, sz->buffer);
	pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(c->p);
	if (rc < 0) {
		snprintf(err, errlen, "capture on %s: %s", dev,
			 rc == PCAP_ERROR ? pcap_geterr(c->p) : pcap_statustostr(rc));
		goto fail;
	}
	if (pcap_get_tstamp_precision(c->p) != PCAP_TSTAMP_PRECISION_NANO) {
		snprintf(err, errlen, "capture on %s: no nanosecond timestamps", dev);
		goto fail;
	}
	if (pcap_setdirection(c->p, PCAP_D_INOUT) < 0) {
		snprintf(err, errlen, "capture on %s: %s", dev, pcap_geterr(c->p));
		goto fail;
	}
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "capture filter: %s", pcap_geterr(c->p));
		goto fail;
	}
	rc = pcap_setfilter(c->p, &prog);
	pcap_freecode(&prog);
	if (rc < 0 || pcap_setnonblock(c->p, 1, ebuf) < 0) {
		snprintf(err, errlen, "capture on %s: %s", dev, pcap_geterr(c->p));
		goto fail;
	}
	c->fd = pcap_get_selectable_fd(c->p);
	c->linktype = pcap_datalink(c->p);
	stamp_in_stack(c->fd);
	if (c->fd < 0) {
		snprintf(err, errlen, "capture on %s: no selectable descriptor", dev);
		goto fail;
	}
	return 0;
fail:
	pcap_close(c->p);
	c->p = NULL;
	return -1;
}

void capture_close(struct capture *c)
{
	if (c->p)
		pcap_close(c->p);
	else if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->buf = NULL;
	c->p = NULL;
	c->fd = -1;
}

uint64_t capture_drops(struct capture *c)
{
	struct pcap_stat st;
	if (!c->p && c->fd >= 0) {
		struct tpacket_stats ts;
		socklen_t l = sizeof(ts);
		if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &l) == 0)
			c->drops += ts.tp_drops;
		return c->drops;
	}
	if (!c->p || pcap_stats(c->p, &st) < 0)
		return 0;
	return (uint64_t)st.ps_drop + st.ps_ifdrop;
}
