/* main.c - parse options, run, map the result to an exit code. */
#include <libnet.h>
#include <pcap/pcap.h>
#include <sodium.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

/* Is arg --format, or an abbreviation getopt_long takes for it (--fo and
 * longer: --f is also --file)? Its value, when given with "=", in *val. */
static bool format_option(const char *arg, const char **val)
{
	static const char name[] = "--format";
	size_t n = strcspn(arg, "=");
	if (n < 4 || n > sizeof(name) - 1 || strncmp(arg, name, n) != 0)
		return false;
	*val = arg[n] == '=' ? arg + n + 1 : NULL;
	return true;
}

/* --format nagios anywhere on the line, as getopt_long would read it
 * (abbreviated, with "=" or apart, the last one winning, none after
 * "--"): errors then speak the plugin language too (one UNKNOWN line on
 * stdout), even before the line is parsed. */
static bool nagios_wanted(int argc, char **argv)
{
	bool nagios = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *val;
		if (!format_option(argv[i], &val))
			continue;
		if (!val && i + 1 < argc)
			val = argv[++i];
		nagios = val && strcmp(val, "nagios") == 0;
	}
	return nagios;
}

/* A closed 0, 1 or 2 would be taken by the first socket opened, and the
 * report written into it: /dev/null goes there first. -1 if it cannot. */
static int std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n != fd) {
			if (n >= 0)
				close(n);
			return -1;
		}
	}
	return 0;
}

static int fail(bool nagios, int code, const char *why)
{
	if (nagios) {
		fputs("TCPSHAKE UNKNOWN - ", stdout);
		put_plain(stdout, why, true);
		putchar('\n');
	}
	return nagios ? NAGIOS_UNKNOWN : code;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct diag diag = { "" };
	if (std_fds_open() < 0)
		return EXIT_SYSTEM; /* nowhere to say it */
	bool nagios = nagios_wanted(argc, argv);
	enum parse_result pr = options_parse(argc, argv, &cfg);
	if (pr != PARSE_OK) {
		if (pr == PARSE_EXIT_OK && cfg.ntargets < 0)
			print_version();
		if (pr == PARSE_USAGE || pr == PARSE_SYSTEM)
			diag_error(&diag, "%s", cfg.error);
		options_free(&cfg);
		return pr == PARSE_EXIT_OK ? 0 : fail(nagios, pr == PARSE_SYSTEM ? EXIT_SYSTEM : EXIT_USAGE,
						      diag.first);
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
