/* main.c - parse options, run, map the result to an exit code. */
#include <libnet.h>
#include <pcap/pcap.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "options.h"
#include "output.h"
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

/* --format nagios anywhere on the line: errors then speak the plugin
 * language too (one UNKNOWN line on stdout), even before it is parsed. */
static bool nagios_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--format=nagios") == 0 ||
		    (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		     strcmp(argv[i + 1], "nagios") == 0))
			return true;
	return false;
}

static int fail(bool nagios, int code, const char *why)
{
	if (nagios)
		printf("TCPSHAKE UNKNOWN - %s\n", why);
	return nagios ? NAGIOS_UNKNOWN : code;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct diag diag = { "" };
	bool nagios = nagios_wanted(argc, argv);
	enum parse_result pr = options_parse(argc, argv, &cfg);
	if (pr != PARSE_OK) {
		if (pr == PARSE_EXIT_OK && cfg.ntargets < 0)
			print_version();
		if (pr == PARSE_USAGE)
			diag_error(&diag, "%s", cfg.error);
		options_free(&cfg);
		return pr == PARSE_EXIT_OK ? 0 : fail(nagios, EXIT_USAGE, diag.first);
	}
	char why[300];
	if (cfg.output && output_path_check(cfg.output, why, sizeof(why)) < 0) {
		diag_error(&diag, "%s", why);
		options_free(&cfg);
		return fail(nagios, EXIT_USAGE, diag.first);
	}
	if (privs_setid()) {
		diag_error(&diag, "refusing to run set-user-ID or set-group-ID: grant capabilities "
				  "instead (setcap cap_net_raw,cap_net_admin+ep)");
		options_free(&cfg);
		return fail(nagios, EXIT_SYSTEM, diag.first);
	}
	if (sodium_init() < 0) {
		diag_error(&diag, "libsodium: initialisation failed");
		options_free(&cfg);
		return fail(nagios, EXIT_SYSTEM, diag.first);
	}
	int rc = engine_run(&cfg, &diag);
	options_free(&cfg);
	return rc;
}
