/* The BPF filter text: valid for libpcap, narrow, and never overflowing. */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/socket.h>

#include "capture.h"
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
