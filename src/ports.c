/* ports.c - our source ports, held against every other process.
 *
 * A run takes a block of its range starting at a keyed random offset and
 * walking up (wrapping at the top), and holds each port with a bound TCP
 * socket: the kernel then gives that port to no other socket - no connect()
 * of the host picks it, no other tcpshake run binds it - until we close the
 * socket at exit. Ports some other socket holds (another run's, a
 * connection's, a TIME-WAIT) are skipped. A dual-stack IPv6 socket bound to
 * the unspecified address holds the port for both families; without IPv6 an
 * IPv4 socket holds it for IPv4. */
#include "ports.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* A socket holding port; -1 with errno (EADDRINUSE: someone else has it). */
static int hold_one(uint16_t port)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		int off = 0;
		struct sockaddr_in6 a6;
		memset(&a6, 0, sizeof(a6));
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons(port);
		a6.sin6_addr = in6addr_any;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0 &&
		    bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0)
			return fd;
		int e = errno;
		close(fd);
		errno = e;
		if (e != EAFNOSUPPORT && e != EADDRNOTAVAIL)
			return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a4;
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	a4.sin_port = htons(port);
	a4.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) == 0)
		return fd;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Room for want descriptors more than we have open now. */
static void raise_fd_limit(size_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t need = (rlim_t)want + 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int port_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int port_pool_hold(struct port_pool *pp, const struct port_ask *ask, char *err, size_t errlen)
{
	size_t range = (size_t)(ask->hi - ask->lo) + 1;
	size_t want = ask->want < range ? ask->want : range;
	memset(pp, 0, sizeof(*pp));
	if (want == 0)
		want = 1;
	pp->port = calloc(want, sizeof(*pp->port));
	pp->fd = calloc(want, sizeof(*pp->fd));
	if (!pp->port || !pp->fd) {
		snprintf(err, errlen, "memory: %s", strerror(errno));
		return -1;
	}
	raise_fd_limit(want);
	int last_errno = 0;
	for (size_t i = 0; i < range && pp->n < want; i++) {
		uint16_t port = (uint16_t)(ask->lo + (ask->start + i) % range);
		int fd = hold_one(port);
		if (fd >= 0) {
			pp->port[pp->n] = port;
			pp->fd[pp->n++] = fd;
		} else if (errno != EADDRINUSE) {
			last_errno = errno;
			if (errno == EMFILE || errno == ENFILE)
				break;
		}
	}
	if (pp->n == 0) {
		if (last_errno)
			snprintf(err, errlen, "source ports %u-%u: %s", ask->lo, ask->hi,
				 strerror(last_errno));
		else
			snprintf(err, errlen, "source ports %u-%u: every one is in use", ask->lo,
				 ask->hi);
		return -1;
	}
	/* the pairs stay together: sort ports and descriptors as one */
	struct { uint16_t port; int fd; } *tmp = calloc(pp->n, sizeof(*tmp));
	if (tmp) {
		for (size_t i = 0; i < pp->n; i++) {
			tmp[i].port = pp->port[i];
			tmp[i].fd = pp->fd[i];
		}
		qsort(tmp, pp->n, sizeof(*tmp), port_cmp); /* port is the first member */
		for (size_t i = 0; i < pp->n; i++) {
			pp->port[i] = tmp[i].port;
			pp->fd[i] = tmp[i].fd;
		}
		free(tmp);
	}
	return 0;
}

void port_pool_release(struct port_pool *pp)
{
	for (size_t i = 0; i < pp->n; i++)
		close(pp->fd[i]);
	free(pp->port);
	free(pp->fd);
	memset(pp, 0, sizeof(*pp));
}

size_t port_runs(const uint16_t *sorted, size_t n, struct port_run *runs, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && runs[k - 1].hi + 1 == sorted[i]) {
			runs[k - 1].hi = sorted[i];
			continue;
		}
		if (k == max)
			return max + 1;
		runs[k].lo = runs[k].hi = sorted[i];
		k++;
	}
	return k;
}

size_t ports_wanted(uint64_t space, uint64_t count, bool fleet, size_t range)
{
	size_t want;
	if (fleet)
		want = range / 2; /* leave room for another run beside us */
	else
		want = count == 0 || count > PORTS_SINGLE ? PORTS_SINGLE : (size_t)count;
	if (fleet && space < want)
		want = (size_t)space < 64 ? 64 : (size_t)space;
	if (want > range)
		want = range;
	return want ? want : 1;
}

void port_pool_trim(struct port_pool *pp, size_t max_runs)
{
	size_t runs = 0;
	for (size_t i = 0; i < pp->n; i++) {
		if (i == 0 || pp->port[i - 1] + 1 != pp->port[i])
			runs++;
		if (runs > max_runs) {
			for (size_t k = i; k < pp->n; k++)
				close(pp->fd[k]);
			pp->n = i;
			return;
		}
	}
}
