/* util.c - nanosecond clocks, address helpers, error lines, checked appends. */
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_to_ns(&ts);
}

int64_t ts_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NS_PER_SEC + ts->tv_nsec;
}

int tcpip_hdr_len(int family)
{
	return family == AF_INET6 ? 60 : 40;
}

size_t addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

bool addr_eq(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, addr_len(a)) == 0;
}

const char *addr_str(const struct addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->b, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *endpoint_str(const struct addr *a, uint16_t port, char *buf, size_t len)
{
	char s[64];
	addr_str(a, s, sizeof(s));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", s, port);
	else
		snprintf(buf, len, "%s:%u", s, port);
	return buf;
}

int addr_from_sockaddr(struct addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		a->family = AF_INET;
		memcpy(a->b, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		a->family = AF_INET6;
		memcpy(a->b, &in6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

void addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a->b, 4);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->b, 16);
		*len = sizeof(*in6);
	}
}

/* The length of the valid UTF-8 sequence at s that is no C1 control
 * (U+0080-U+009F), or 0. */
static size_t utf8_ok(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
	if (n == 0 || (c == 0xc2 && s[1] < 0xa0))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0; /* overlong, surrogate, above U+10FFFF */
	return n;
}

/* Write s to f with terminal controls as \xNN. */
static void put_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n = *p >= 0x20 && *p < 0x7f ? 1 : *p >= 0x80 ? utf8_ok(p) : 0;
		if (n == 0) {
			fprintf(f, "\\x%02x", *p++);
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

const char *str_show(const char *s, size_t max, char *out, size_t outlen)
{
	char *m = NULL;
	size_t mlen = 0;
	FILE *f = open_memstream(&m, &mlen);
	if (!f) {
		snprintf(out, outlen, "?");
		return out;
	}
	put_safe(f, s);
	if (fclose(f) != 0 || !m) {
		free(m);
		snprintf(out, outlen, "?");
		return out;
	}
	if (max > outlen - 1)
		max = outlen - 1;
	if (mlen <= max) {
		memcpy(out, m, mlen + 1);
	} else {
		size_t head = (max - 3) / 2, tail = max - 3 - head;
		snprintf(out, outlen, "%.*s...%s", (int)head, m, m + mlen - tail);
	}
	free(m);
	return out;
}

void diag_error(struct diag *d, const char *fmt, ...)
{
	/* no allocation: this is also how running out of memory is said */
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(line, sizeof(line), "%s", fmt);
	fputs("tcpshake: ", stderr);
	put_safe(stderr, line);
	fputc('\n', stderr);
	if (d && d->first[0] == '\0')
		str_show(line, sizeof(d->first) - 1, d->first, sizeof(d->first));
}

int buf_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	if (*off >= len)
		return -1;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

/* How: the descriptors travel, with one end of a socket pair, into the
 * queue of that same end, and release_end closes both ends. The pair is then
 * reached only from its own queue, a cycle that the kernel's collector of
 * in-flight descriptors frees (AF_UNIX garbage collection, started by that
 * close); it runs in a kernel worker on recent kernels (6.18 here), whose
 * file releases are deferred to another worker: not in this process, nor
 * in its exit. Where the collector runs in the closing task (older
 * kernels), the release happens there, as close() would do it. No child
 * process: nothing for a PID 1 that does not reap to keep as a zombie. */
int release_begin(struct release *rl, const int *fds, size_t n)
{
	int sent[251];
	rl->pair[0] = rl->pair[1] = -1;
	if (n == 0 || n > 250 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, rl->pair) < 0)
		return -1;
	sent[0] = rl->pair[1];
	memcpy(sent + 1, fds, n * sizeof(int));
	char ctl[CMSG_SPACE(sizeof(sent))], byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = CMSG_SPACE((n + 1) * sizeof(int)) };
	memset(ctl, 0, sizeof(ctl));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((n + 1) * sizeof(int));
	memcpy(CMSG_DATA(c), sent, (n + 1) * sizeof(int));
	if (sendmsg(rl->pair[0], &m, MSG_DONTWAIT) != 1) {
		close(rl->pair[0]);
		close(rl->pair[1]);
		rl->pair[0] = rl->pair[1] = -1;
		return -1;
	}
	return 0;
}

void release_end(struct release *rl)
{
	if (rl->pair[0] < 0)
		return;
	close(rl->pair[1]); /* now held by its own queue alone */
	close(rl->pair[0]); /* its release starts the collector */
	rl->pair[0] = rl->pair[1] = -1;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void fds_close_all_but(int *keep, size_t n)
{
	unsigned lo = 0;
	qsort(keep, n, sizeof(keep[0]), int_cmp);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0u, 0);
}
