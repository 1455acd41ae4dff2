/* guard.c - an owner-flagged nftables table that drops the kernel's RSTs. */
#include "guard.h"

#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* "61000-61015, 62001" */
static int port_set(const struct guard_spec *s, char *buf, size_t len, size_t *off)
{
	for (size_t i = 0; i < s->nruns; i++) {
		const struct port_run *r = &s->runs[i];
		int rc = r->lo == r->hi ? buf_put(buf, len, off, "%s%u", i ? ", " : "", r->lo)
					: buf_put(buf, len, off, "%s%u-%u", i ? ", " : "", r->lo, r->hi);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One rule for one family: "ip saddr { a, b }" or no address match. */
static int family_rule(const struct guard_spec *s, int family, char *buf, size_t len, size_t *off)
{
	char a[64];
	size_t n = 0;
	for (size_t i = 0; i < s->nsrcs; i++)
		n += s->srcs[i].family == family;
	if (n == 0)
		return 0;
	if (buf_put(buf, len, off, "\t\tmeta nfproto %s meta mark != 0x%08x tcp sport { ",
		    family == AF_INET ? "ipv4" : "ipv6", (unsigned)s->mark) < 0 ||
	    port_set(s, buf, len, off) < 0 || buf_put(buf, len, off, " } tcp flags & rst == rst") < 0)
		return -1;
	if (s->nsrcs <= GUARD_MAX_ADDRS) {
		if (buf_put(buf, len, off, " %s saddr { ", family == AF_INET ? "ip" : "ip6") < 0)
			return -1;
		const char *sep = "";
		for (size_t i = 0; i < s->nsrcs; i++) {
			if (s->srcs[i].family != family)
				continue;
			if (buf_put(buf, len, off, "%s%s", sep, addr_str(&s->srcs[i], a, sizeof(a))) < 0)
				return -1;
			sep = ", ";
		}
		if (buf_put(buf, len, off, " }") < 0)
			return -1;
	}
	return buf_put(buf, len, off, " drop\n");
}

int guard_name(const struct guard_spec *s, char *buf, size_t len)
{
	int n = snprintf(buf, len, "tcpshake_%ld_%08x", s->pid, (unsigned)s->tag);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int guard_ruleset(const struct guard_spec *s, char *buf, size_t len)
{
	char name[64];
	size_t off = 0;
	if (len == 0 || s->nruns == 0 || guard_name(s, name, sizeof(name)) < 0)
		return -1;
	if (buf_put(buf, len, &off,
		"table inet %s {\n"
		"\tflags owner\n"
		"\tchain rst_guard {\n"
		"\t\ttype filter hook output priority raw; policy accept;\n",
		name) < 0 ||
	    family_rule(s, AF_INET, buf, len, &off) < 0 ||
	    family_rule(s, AF_INET6, buf, len, &off) < 0 || buf_put(buf, len, &off, "\t}\n}\n") < 0)
		return -1;
	return 0;
}

/* nft's error text, one line. */
static void first_line(const char *in, char *err, size_t errlen)
{
	size_t n = strcspn(in ? in : "", "\n");
	snprintf(err, errlen, "%.*s", (int)n, in ? in : "");
}

static bool is_nf_netlink(int fd)
{
	int dom = 0, proto = -1;
	socklen_t l = sizeof(dom);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) < 0 || dom != AF_NETLINK)
		return false;
	l = sizeof(proto);
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) == 0 &&
	       proto == NETLINK_NETFILTER;
}

/* The netfilter netlink socket libnftables opened: every other descriptor
 * but the channel was closed before, so it has one of the lowest numbers. */
static int find_nf_socket(int chan)
{
	int found = -1;
	for (int fd = 3; fd < 67; fd++) /* the lowest free numbers */
		if (fd != chan && is_nf_netlink(fd))
			found = fd;
	return found;
}

static void send_fd(int chan, int fd)
{
	char byte = 0, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	memset(ctl, 0, sizeof(ctl));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	(void)sendmsg(chan, &m, 0);
}

/* In the child: build the table, hand its socket back (or the reason).
 * Every other descriptor is closed first: libmnl waits on its socket with
 * select(), which cannot take a descriptor above FD_SETSIZE, and a fleet
 * holds thousands of ports. */
/* libnftables' functions, from the library opened in the child. */
struct nft_api {
	struct nft_ctx *(*ctx_new)(uint32_t flags);
	int (*buffer_output)(struct nft_ctx *ctx);
	int (*buffer_error)(struct nft_ctx *ctx);
	int (*run_cmd)(struct nft_ctx *ctx, const char *buf);
	const char *(*error_buffer)(struct nft_ctx *ctx);
	void (*ctx_free)(struct nft_ctx *ctx);
};

static int nft_load(struct nft_api *a, char *msg, size_t msglen)
{
	void *lib = dlopen(NFT_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(msg, msglen, "%s (Debian: apt-get install libnftables1)", dlerror());
		return -1;
	}
	if (!(*(void **)&a->ctx_new = dlsym(lib, "nft_ctx_new")) ||
	    !(*(void **)&a->buffer_output = dlsym(lib, "nft_ctx_buffer_output")) ||
	    !(*(void **)&a->buffer_error = dlsym(lib, "nft_ctx_buffer_error")) ||
	    !(*(void **)&a->run_cmd = dlsym(lib, "nft_run_cmd_from_buffer")) ||
	    !(*(void **)&a->error_buffer = dlsym(lib, "nft_ctx_get_error_buffer")) ||
	    !(*(void **)&a->ctx_free = dlsym(lib, "nft_ctx_free"))) {
		snprintf(msg, msglen, "%s: a function is missing", NFT_SONAME);
		return -1;
	}
	return 0;
}

/* In the child: build the table, hand its socket back (or the reason).
 * Every other descriptor is closed first: libmnl waits on its socket with
 * select(), which cannot take a descriptor above FD_SETSIZE, and a fleet
 * holds thousands of ports. libnftables is opened here, not linked: the
 * parent never loads it. */
_Noreturn static void install_child(int chan, int errfd, const char *rules)
{
	char msg[256];
	struct nft_api nft;
	/* what libnftables prints itself goes to our parent, not the terminal */
	dup2(errfd, STDERR_FILENO);
	int keep[] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, chan };
	fds_close_all_but(keep, sizeof(keep) / sizeof(keep[0]));
	msg[0] = '\001';
	if (nft_load(&nft, msg + 1, sizeof(msg) - 1) < 0) {
		(void)!write(chan, msg, strlen(msg + 1) + 1);
		_exit(1);
	}
	struct nft_ctx *ctx = nft.ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		(void)!write(chan, "\001libnftables: no context", 24);
		_exit(1);
	}
	nft.buffer_output(ctx);
	nft.buffer_error(ctx);
	if (nft.run_cmd(ctx, rules) != 0) {
		first_line(nft.error_buffer(ctx), msg + 1, sizeof(msg) - 1);
		(void)!write(chan, msg, strlen(msg + 1) + 1);
		nft.ctx_free(ctx);
		_exit(1);
	}
	int fd = find_nf_socket(chan);
	if (fd < 0) {
		(void)!write(chan, "\001no netlink socket", 18);
		nft.ctx_free(ctx);
		_exit(1);
	}
	send_fd(chan, fd);
	/* the socket in flight holds its own reference: the table lives on */
	nft.ctx_free(ctx);
	_exit(0);
}

/* The socket, or -1 with the child's reason in msg. */
static int receive_fd(int chan, char *msg, size_t msglen)
{
	char buf[256] = "", ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t n;
	do
		n = recvmsg(chan, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	msg[0] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n > 0 && c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			return fd;
		}
	if (n > 1 && buf[0] == '\001') {
		buf[n] = '\0';
		snprintf(msg, msglen, "%s", buf + 1);
	}
	return -1;
}

/* The first line libnftables printed itself, if any. */
static void child_said(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void explain(const char *msg, const char *said, int status, char *err, size_t errlen)
{
	if (strstr(msg, "Operation not permitted"))
		snprintf(err, errlen, "Operation not permitted: full mode needs CAP_NET_ADMIN "
				      "(-M syn does not)");
	else if (strstr(msg, "No such file") || strstr(msg, "not supported"))
		snprintf(err, errlen, "%s: the kernel has no nf_tables (-M syn needs none)", msg);
	else if (msg[0])
		snprintf(err, errlen, "%s", msg);
	else if (said[0])
		snprintf(err, errlen, "libnftables: %s", said);
	else if (WIFEXITED(status))
		snprintf(err, errlen, "libnftables failed (exit status %d): out of memory or "
				      "descriptors?", WEXITSTATUS(status));
	else
		snprintf(err, errlen, "libnftables failed (signal %d)",
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int guard_begin(struct guard *g, const struct guard_spec *s, char *err, size_t errlen)
{
	char rules[16384];
	int chan[2], errp[2];
	g->fd = g->chan = g->errfd = -1;
	g->child = -1;
	if (guard_name(s, g->table, sizeof(g->table)) < 0 ||
	    guard_ruleset(s, rules, sizeof(rules)) < 0) {
		snprintf(err, errlen, "ruleset too long");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(chan[0]);
		close(chan[1]);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(chan[0]);
		close(chan[1]);
		close(errp[0]);
		close(errp[1]);
		return -1;
	}
	if (pid == 0) {
		close(chan[0]);
		close(errp[0]);
		install_child(chan[1], errp[1], rules);
	}
	close(chan[1]);
	close(errp[1]);
	g->child = pid;
	g->chan = chan[0];
	g->errfd = errp[0];
	return 0;
}

/* The child's answer, and the child reaped. */
static int collect_child(struct guard *g, char *msg, size_t msglen, char *said, size_t saidlen,
			 int *status)
{
	*status = 0;
	g->fd = receive_fd(g->chan, msg, msglen);
	close(g->chan);
	g->chan = -1;
	while (waitpid(g->child, status, 0) < 0 && errno == EINTR)
		;
	g->child = -1;
	child_said(g->errfd, said, saidlen);
	close(g->errfd);
	g->errfd = -1;
	return g->fd;
}

int guard_finish(struct guard *g, char *err, size_t errlen)
{
	char msg[256], said[200];
	int status;
	if (g->child < 0) {
		snprintf(err, errlen, "no table is being built");
		return -1;
	}
	if (collect_child(g, msg, sizeof(msg), said, sizeof(said), &status) < 0) {
		explain(msg, said, status, err, errlen);
		return -1;
	}
	return 0;
}

/* A table still being built is waited for (it is removed like any other). */
static void reap_builder(struct guard *g)
{
	char msg[256], said[200];
	int status;
	if (g->child >= 0)
		collect_child(g, msg, sizeof(msg), said, sizeof(said), &status);
}

void guard_remove(struct guard *g)
{
	reap_builder(g);
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}
