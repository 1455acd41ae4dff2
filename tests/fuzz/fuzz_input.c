/* fuzz_input.c - libFuzzer target for what comes from the command line and
 * from files: the option parser (argv) and the target-file parser with
 * its excludes, then the target set built from them.
 *
 * Input: one selector byte, then the rest. Selector even: the rest is an
 * argv, its words separated by NUL bytes (at most 64). Selector odd: the
 * rest is a target file (bit 1: read as excludes after a fixed /24), read
 * through a memfd, numeric only so nothing is resolved. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "options.h"
#include "tset.h"

enum { MAX_ARGS = 64 };

static void fuzz_argv(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "tcpshake";
	for (size_t i = 0; i <= size && argc < MAX_ARGS + 1;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	struct config cfg;
	if (options_parse(argc, argv, &cfg) == PARSE_USAGE && strlen(cfg.error) >= sizeof(cfg.error))
		abort(); /* never: the message is a C string in its buffer */
	options_free(&cfg);
	free(buf);
}

static void fuzz_file(const uint8_t *data, size_t size, bool exclude)
{
	int fd = memfd_create("targets", 0);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct tset s;
	tset_init(&s, AF_UNSPEC, true, 1 << 16);
	if (exclude)
		tset_add(&s, "198.18.0.0/24", err, sizeof(err));
	if (tset_add_file(&s, path, exclude, err, sizeof(err)) == 0 &&
	    tset_finish(&s, err, sizeof(err)) == 0) {
		for (uint64_t i = 0; i < s.total; i += 1 + s.total / 16) {
			struct addr a;
			const char *name;
			size_t block;
			tset_at(&s, i, &a, &name, &block);
			(void)tset_excluded(&s, &a);
		}
	}
	tset_free(&s);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_argv(data + 1, size - 1);
	else
		fuzz_file(data + 1, size - 1, data[0] & 2);
	return 0;
}
