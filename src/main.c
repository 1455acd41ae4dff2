/* main.c - parse options, run, map the result to an exit code. */
#include <libnet.h>
#include <pcap/pcap.h>
#include <sodium.h>
#include <stdio.h>

#include "config.h"
#include "engine.h"
#include "options.h"
#include "privs.h"
#include "util.h"

static void print_version(void)
{
	printf("tcpshake %s\n", PACKAGE_VERSION);
	printf("libnet %s\n", LIBNET_VERSION);
	printf("%s\n", pcap_lib_version());
	printf("libnftables %s\n", NFT_VERSION);
	printf("libsodium %s\n", sodium_version_string());
}

int main(int argc, char **argv)
{
	struct config cfg;
	enum parse_result pr = options_parse(argc, argv, &cfg);
	if (pr != PARSE_OK) {
		if (pr == PARSE_EXIT_OK && cfg.ntargets < 0)
			print_version();
		options_free(&cfg);
		return pr == PARSE_EXIT_OK ? 0 : EXIT_USAGE;
	}
	if (privs_setid()) {
		warnx_line("refusing to run set-user-ID or set-group-ID: grant capabilities "
			   "instead (setcap cap_net_raw,cap_net_admin+ep)");
		options_free(&cfg);
		return EXIT_SYSTEM;
	}
	if (sodium_init() < 0) {
		warnx_line("libsodium: initialisation failed");
		options_free(&cfg);
		return EXIT_SYSTEM;
	}
	int rc = engine_run(&cfg);
	options_free(&cfg);
	return rc;
}
