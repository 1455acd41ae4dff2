/* capture.c - the pcap handle and its filter. */
#include "capture.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>

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

int capture_open(struct capture *c, const char *dev, const struct capture_size *sz,
		 const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->dev, sizeof(c->dev), "%s", dev);
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
	c->p = NULL;
	c->fd = -1;
}

/* In the child: close every descriptor but the capture sockets (so no pipe
 * a caller reads, and no firewall guard, outlives this process), then exit
 * and let the kernel release the sockets here. */
_Noreturn static void keep_only(const struct capture *caps, size_t n)
{
	int keep[CAPTURE_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n && k < CAPTURE_MAX; i++)
		if (caps[i].p)
			keep[k++] = caps[i].fd;
	fds_close_all_but(keep, k);
	_exit(0);
}

/* Does our PID namespace's init reap the orphans it adopts? It does when it
 * catches SIGCHLD or ignores it (the kernel then reaps for it); a process
 * that does neither - a shell script or a program run as PID 1 of a
 * container - would keep our exit child as a zombie for good. Unknown
 * (no /proc): assume not. */
static bool init_reaps(void)
{
	char line[256];
	unsigned long long caught = 0, ignored = 0;
	FILE *f = fopen("/proc/1/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		(void)(sscanf(line, "SigCgt: %llx", &caught) || sscanf(line, "SigIgn: %llx", &ignored));
	}
	fclose(f);
	unsigned long long chld = 1ULL << (SIGCHLD - 1);
	return (caught & chld) || (ignored & chld);
}

void capture_close_detached(struct capture *caps, size_t n)
{
	if (!init_reaps()) { /* no one would reap the child: release here */
		for (size_t i = 0; i < n; i++)
			capture_close(&caps[i]);
		return;
	}
	int devnull = n > 0 && n <= CAPTURE_MAX ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
	pid_t pid = devnull >= 0 ? fork() : -1;
	if (pid == 0)
		keep_only(caps, n);
	for (size_t i = 0; i < n; i++) {
		/* the child holds the socket: here, pcap frees its handle
		 * against /dev/null in the socket's place */
		if (pid > 0 && caps[i].p)
			dup2(devnull, caps[i].fd);
		capture_close(&caps[i]);
	}
	if (devnull >= 0)
		close(devnull);
}

uint64_t capture_drops(struct capture *c)
{
	struct pcap_stat st;
	if (!c->p || pcap_stats(c->p, &st) < 0)
		return 0;
	return (uint64_t)st.ps_drop + st.ps_ifdrop;
}
