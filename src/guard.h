/* guard.h - the kernel-RST guard.
 *
 * The kernel knows nothing of our crafted connections and answers every
 * SYN/ACK, data segment or FIN of theirs with a RST. While a full-mode run
 * lives, an nftables table drops those RSTs: family inet, named after our
 * pid and a random tag (unique across PID namespaces sharing one network
 * namespace), with the owner flag, so it exists only as long as its netlink
 * socket - it vanishes when the process exits, is killed or crashes (the
 * kernel may release the socket some milliseconds after the exit). Its one
 * chain drops only RSTs leaving from the source ports this run holds (see
 * ports.h: no other process can have them) and our addresses that do not
 * carry our mark (every segment we send is marked with SO_MARK); another
 * run's segments and the host's own are never touched.
 *
 * libnftables exits the process on some failures (memory, descriptors), so
 * a child process builds the table and hands its netlink socket back: a
 * failure there is our one line, never libnftables' exit. */
#ifndef TCPSHAKE_GUARD_H
#define TCPSHAKE_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "ports.h"
#include "util.h"

#define GUARD_MARK UINT32_C(0x74637368) /* "tcsh" */
#define GUARD_MAX_ADDRS 64
#define GUARD_MAX_RUNS 512

struct guard {
	int fd;            /* the netlink socket that owns the table; -1 none */
	char table[64];
	/* while guard_begin's child builds it: the child, its channel and
	 * what it prints (-1: none) */
	int child, chan, errfd;
};

struct guard_spec {
	long pid;
	uint32_t tag;               /* random, per run */
	const struct port_run *runs; /* the ports we hold */
	size_t nruns;
	const struct addr *srcs; /* our source addresses; more than GUARD_MAX_ADDRS: ports only */
	size_t nsrcs;
	uint32_t mark;
};

/* The table's name and its ruleset, as nft text. -1 if it does not fit. Pure. */
int guard_name(const struct guard_spec *s, char *buf, size_t len);
int guard_ruleset(const struct guard_spec *s, char *buf, size_t len);

/* Install it; -1 with a reason in err. guard_begin starts building it in a
 * child and returns at once (the caller sets up the rest meanwhile: the
 * packet ring's set-up waits out an RCU grace period too); guard_finish
 * waits for the table. */
int guard_begin(struct guard *g, const struct guard_spec *s, char *err, size_t errlen);
int guard_finish(struct guard *g, char *err, size_t errlen);

/* Remove it: close the socket (the owner table goes with its socket). A
 * table still being built is waited for first. The socket's release waits
 * out an RCU grace period in the kernel; engine.c hands it to the kernel to
 * release after we exit (fds_release_async) before this. */
void guard_remove(struct guard *g);

#endif
