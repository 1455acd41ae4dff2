/* The BPF filter text: valid for libpcap, narrow, and never overflowing. */
#include <criterion/criterion.h>
#include <poll.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
#include "util.h"
#include "frames.h"
#include "targets.h"

static int compiles(const char *text)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program prog;
	int rc = pcap_compile(p, &prog, text, 1, PCAP_NETMASK_UNKNOWN);
	if (rc == 0)
		pcap_freecode(&prog);
	pcap_close(p);
	return rc == 0;
}

Test(capture, filter_names_ports_and_hosts)
{
	struct addr h[2];
	char err[64], buf[4096];
	target_resolve("198.18.0.2", AF_UNSPEC, 1, &h[0], err, sizeof(err));
	target_resolve("2001:db8::2", AF_UNSPEC, 1, &h[1], err, sizeof(err));
	struct filter_spec f = { 61000, 65535, h, 2 };
	cr_assert_eq(capture_filter_text(&f, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "dst portrange 61000-65535"));
	cr_assert(strstr(buf, "src host 198.18.0.2 or src host 2001:db8::2"));
	cr_assert(strstr(buf, "icmp[0] = 3"));
	cr_assert(compiles(buf), "%s", buf);
}

Test(capture, filter_without_hosts_when_too_many)
{
	struct addr h[FILTER_MAX_HOSTS + 1];
	char buf[4096];
	memset(h, 0, sizeof(h));
	for (int i = 0; i <= FILTER_MAX_HOSTS; i++)
		h[i].family = AF_INET;
	struct filter_spec f = { 1024, 32767, h, FILTER_MAX_HOSTS + 1 };
	cr_assert_eq(capture_filter_text(&f, buf, sizeof(buf)), 0);
	cr_assert_null(strstr(buf, "host"));
	cr_assert(compiles(buf), "%s", buf);
}

Test(capture, filter_refuses_a_short_buffer)
{
	struct filter_spec f = { 61000, 65535, NULL, 0 };
	char buf[40];
	cr_assert_eq(capture_filter_text(&f, buf, sizeof(buf)), -1);
	cr_assert_eq(capture_filter_text(&f, buf, 0), -1);
}

/* Does the filter for our port range and the bed's two hosts pass frame? */
static bool passes(const uint8_t *frame, size_t len)
{
	struct addr h[2];
	char err[64], buf[4096];
	target_resolve("198.18.0.2", AF_UNSPEC, 1, &h[0], err, sizeof(err));
	target_resolve("2001:db8::2", AF_UNSPEC, 1, &h[1], err, sizeof(err));
	struct filter_spec f = { 61000, 65535, h, 2 };
	cr_assert_eq(capture_filter_text(&f, buf, sizeof(buf)), 0);
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program prog;
	cr_assert_eq(pcap_compile(p, &prog, buf, 1, PCAP_NETMASK_UNKNOWN), 0, "%s", buf);
	struct pcap_pkthdr hdr = { { 0, 0 }, (bpf_u_int32)len, (bpf_u_int32)len };
	int rc = pcap_offline_filter(&prog, &hdr, frame);
	pcap_freecode(&prog);
	pcap_close(p);
	return rc != 0;
}

Test(capture, filter_passes_answers_behind_ipv6_extension_headers)
{
	uint8_t buf[512];
	cr_assert(passes(v6_synack, sizeof(v6_synack)));
	cr_assert(passes(v6_icmp_admin, sizeof(v6_icmp_admin)));
	cr_assert(passes(v4_synack, sizeof(v4_synack)));
	size_t n = frame_with_ext(v6_synack, sizeof(v6_synack), 60, ext_dstopts_tcp,
				  sizeof(ext_dstopts_tcp), buf);
	cr_assert(passes(buf, n), "a SYN/ACK behind destination options");
	n = frame_with_ext(v6_icmp_admin, sizeof(v6_icmp_admin), 0, ext_hbh_routing_icmp6,
			   sizeof(ext_hbh_routing_icmp6), buf);
	cr_assert(passes(buf, n), "an ICMPv6 error behind hop-by-hop and routing headers");
	const uint8_t atomic[] = { 6, 0, 0, 0, 0x12, 0x34, 0x56, 0x78 };
	n = frame_with_ext(v6_synack, sizeof(v6_synack), 44, atomic, sizeof(atomic), buf);
	cr_assert(passes(buf, n), "a SYN/ACK as an atomic fragment");
}

Test(capture, filter_still_narrow)
{
	uint8_t buf[512];
	memcpy(buf, v6_synack, sizeof(v6_synack));
	buf[14 + 40 + 2] = 0x10; /* to port 4096, outside our range */
	cr_assert_not(passes(buf, sizeof(v6_synack)));
	memcpy(buf, v4_icmp_admin, sizeof(v4_icmp_admin));
	buf[14 + 20] = 8; /* an echo request */
	cr_assert_not(passes(buf, sizeof(v4_icmp_admin)));
}

/* release_begin/release_end (util.h): what is handed over stays open until
 * release_end, whatever the caller closes, and is then released by the
 * kernel (a pipe's write end: its reader sees the end of file). */
Test(release, the_kernel_releases_what_is_handed_over)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	struct release rl;
	cr_assert_eq(release_begin(&rl, &p[1], 1), 0);
	close(p[1]);
	struct pollfd pfd = { p[0], POLLIN, 0 };
	cr_assert_eq(poll(&pfd, 1, 50), 0, "released before release_end");
	release_end(&rl);
	cr_assert_eq(poll(&pfd, 1, 2000), 1, "not released within 2 s of release_end");
	char c;
	cr_assert_eq(read(p[0], &c, 1), 0, "the write end is closed");
	close(p[0]);
}

Test(release, nothing_handed_over_is_a_no_op)
{
	struct release rl;
	cr_assert_eq(release_begin(&rl, NULL, 0), -1);
	release_end(&rl);
	int fds[251] = { 0 };
	cr_assert_eq(release_begin(&rl, fds, 251), -1, "more than one message holds");
	release_end(&rl);
}
