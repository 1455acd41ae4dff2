/* util.h - small shared helpers: nanosecond time, addresses, error lines. */
#ifndef TCPSHAKE_UTIL_H
#define TCPSHAKE_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define NS_PER_SEC INT64_C(1000000000)

/* Exit codes: a documented API (README, --help, man page). */
enum exit_code {
	EXIT_ALL_OPEN = 0,   /* every target:port answered open at least once */
	EXIT_NOT_OPEN = 1,   /* some target:port never open */
	EXIT_RESOLVE = 2,    /* a name did not resolve (the others were probed) */
	EXIT_USAGE = 3,      /* usage error, nothing sent */
	EXIT_SYSTEM = 4,     /* privileges, interface, capture, send */
};

/* An IPv4 or IPv6 address in 16 bytes (IPv4 in the first four). */
struct addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t b[16];
};

int64_t mono_ns(void);
int64_t ts_to_ns(const struct timespec *ts);
bool addr_eq(const struct addr *a, const struct addr *b);
size_t addr_len(const struct addr *a);
/* The IP and TCP headers of a packet without options: 40 bytes (IPv4), 60 (IPv6). */
int tcpip_hdr_len(int family);
/* Text form into buf (INET6_ADDRSTRLEN bytes at least); returns buf. */
const char *addr_str(const struct addr *a, char *buf, size_t len);
/* "198.18.0.2:80" or "[2001:db8::2]:80" */
const char *endpoint_str(const struct addr *a, uint16_t port, char *buf, size_t len);
int addr_from_sockaddr(struct addr *a, const struct sockaddr *sa);
void addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len);

/* Where a run's error lines go: stderr, one line "tcpshake: what: why",
 * and the first is kept for a status line (the Nagios format's UNKNOWN). */
struct diag {
	char first[256];
};

/* The line is never cut, and bytes that could drive a terminal (control
 * characters, DEL, C1 controls, bytes that are not UTF-8) are written as
 * \xNN: names and paths from files and arguments reach it verbatim. */
void diag_error(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s made safe to quote in an error line, into out (outlen bytes, at least
 * 16): terminal controls as \xNN as diag_error does, and longer than max
 * bytes it keeps its head and tail around "...", so the reason that
 * follows it in a fixed buffer survives. Returns out. */
const char *str_show(const char *s, size_t max, char *out, size_t outlen);

/* Close every descriptor but the n in keep (sorted here, in place). */
void fds_close_all_but(int *keep, size_t n);

/* Let the kernel release sockets in the background, after this process has
 * exited if need be: a socket whose release waits out RCU grace periods (a
 * packet ring, an nftables owner socket: some 10 ms each) would otherwise
 * hold the exit, and a caller timing us. release_begin takes a reference
 * to each of fds; the caller then closes them as usual (and unmaps what it
 * mapped of them), and release_end lets go of ours: the last. A failed
 * begin (-1: too many, no memory) leaves the releases to the caller's
 * closes; release_end is then a no-op. */
struct release {
	int pair[2];
};
int release_begin(struct release *rl, const int *fds, size_t n);
void release_end(struct release *rl);

/* Append to buf at *off with a checked vsnprintf; -1 once it is full. */
int buf_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
