/* engine.c - run set-up, the event loop, and the actions probes ask for. */
#include "engine.h"

#include "config.h"

#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cookie.h"
#include "craft.h"
#include "decode.h"
#include "guard.h"
#include "match.h"
#include "output.h"
#include "privs.h"
#include "probe.h"
#include "route.h"
#include "sched.h"
#include "targets.h"
#include "util.h"

#define MAX_CAPS 8
#define RETRIES 3          /* sends again of our FIN or request */
#define WINDOW 64240       /* the window we offer, in bytes */

/* The only mutable global: what the signal handler needs. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct flow {
	uint32_t target;        /* index into cfg->targets */
	struct addr dst;
	uint16_t port;
	struct route rt;
	uint8_t *req;           /* the HTTP request, with --http */
	size_t req_len;
	uint32_t next_seq;
	bool ever_open;
	struct flow_summary sum;
};

struct run {
	const struct config *cfg;
	struct diag *diag;
	struct probe_params pp;
	struct guard guard;
	struct cookie_key key;
	struct flow *flows;
	size_t nflows;
	struct addr *hosts;     /* unique target addresses, for the filter */
	size_t nhosts;
	uint64_t unresolved;    /* names that did not resolve */
	const char *first_unresolved;
	struct capture caps[MAX_CAPS];
	size_t ncaps;
	struct crafter craft;
	struct port_table ports;
	struct probe *probes;   /* one slot per source port */
	uint16_t *free_ports;   /* FIFO ring: a port is reused as late as possible */
	size_t free_head, free_n, nports;
	uint32_t *waiting;      /* flows waiting for a free source port (ring) */
	size_t wait_head, wait_n;
	struct sched sched;
	struct output out;
	size_t live, flows_left;
	uint64_t sent, received;
	int64_t start_mono, start_wall;
	struct output_file file;  /* -o */
	int fatal;              /* an exit code once a system error stops the run */
	int write_errno;        /* the report could not be written: stop */
};

/* ---- set-up ---------------------------------------------------------- */

static int add_host(struct run *r, const struct addr *a)
{
	for (size_t i = 0; i < r->nhosts; i++)
		if (addr_eq(&r->hosts[i], a))
			return 0;
	r->hosts[r->nhosts++] = *a;
	return 0;
}

/* The HTTP request for a flow: Host as the user named the target. */
static uint8_t *http_request(const struct config *cfg, const char *target, const struct addr *a,
			  uint16_t port, size_t *len)
{
	char host[300], portsuffix[8] = "";
	if (port != 80)
		snprintf(portsuffix, sizeof(portsuffix), ":%u", port);
	if (a->family == AF_INET6 && strchr(target, ':'))
		snprintf(host, sizeof(host), "[%s]%s", target, portsuffix);
	else
		snprintf(host, sizeof(host), "%.255s%s", target, portsuffix);
	char *req = NULL;
	int n = asprintf(&req,
			 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tcpshake/%s\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n",
			 cfg->http_method, cfg->http_path, host, PACKAGE_VERSION);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return (uint8_t *)req;
}

/* Resolve every target and route to it; one flow per target x port. */
static int build_flows(struct run *r)
{
	const struct config *cfg = r->cfg;
	char err[256];
	size_t n = (size_t)cfg->ntargets * cfg->ports.n;
	r->flows = calloc(n, sizeof(*r->flows));
	r->hosts = calloc((size_t)cfg->ntargets, sizeof(*r->hosts));
	if (!r->flows || !r->hosts) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	for (int t = 0; t < cfg->ntargets; t++) {
		struct addr a;
		struct route rt;
		if (target_resolve(cfg->targets[t], cfg->family, cfg->numeric, &a, err,
				   sizeof(err)) < 0) {
			diag_error(r->diag, "%s: %s", cfg->targets[t], err);
			if (r->unresolved++ == 0)
				r->first_unresolved = cfg->targets[t];
			continue;
		}
		if (route_lookup(&a, cfg->iface, cfg->source, &rt, err, sizeof(err)) < 0) {
			diag_error(r->diag, "%s: %s", cfg->targets[t], err);
			return strstr(err, "source") || strstr(err, "interface") ? EXIT_USAGE
										  : EXIT_SYSTEM;
		}
		add_host(r, &a);
		for (size_t p = 0; p < cfg->ports.n; p++) {
			struct flow *f = &r->flows[r->nflows++];
			f->target = (uint32_t)t;
			f->dst = a;
			f->port = cfg->ports.v[p];
			f->rt = rt;
			f->sum.target = cfg->targets[t];
			f->sum.addr = &f->dst;
			f->sum.port = f->port;
			f->sum.mode = cfg->mode;
			f->sum.http = cfg->http;
			if (cfg->http &&
			    !(f->req = http_request(cfg, cfg->targets[t], &a, f->port, &f->req_len))) {
				diag_error(r->diag, "memory: %s", strerror(errno));
				return EXIT_SYSTEM;
			}
		}
	}
	r->flows_left = r->nflows;
	return 0;
}

static int setup_ports(struct run *r)
{
	uint16_t lo, hi;
	if (r->cfg->source_port) {
		lo = hi = (uint16_t)r->cfg->source_port;
	} else {
		int elo, ehi;
		route_ephemeral_range(&elo, &ehi);
		route_our_ports(elo, ehi, &lo, &hi);
	}
	r->nports = (size_t)(hi - lo) + 1;
	r->probes = calloc(r->nports, sizeof(*r->probes));
	r->free_ports = calloc(r->nports, sizeof(*r->free_ports));
	r->waiting = calloc(r->nflows ? r->nflows : 1, sizeof(*r->waiting));
	if (!r->probes || !r->free_ports || !r->waiting || port_table_init(&r->ports, lo, hi) < 0) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < r->nports; i++)
		r->free_ports[i] = (uint16_t)(lo + i);
	r->free_n = r->nports;
	return 0;
}

static int open_raw(struct run *r)
{
	if (!privs_have(CAP_NET_RAW)) {
		diag_error(r->diag, "raw socket: tcpshake needs CAP_NET_RAW (run as root, or see "
			   "'Privileges' in man tcpshake)");
		return EXIT_SYSTEM;
	}
	bool fam[2] = { false, false };
	for (size_t i = 0; i < r->nflows; i++)
		fam[r->flows[i].dst.family == AF_INET6] = true;
	for (int i = 0; i < 2; i++) {
		if (!fam[i])
			continue;
		if (craft_open(&r->craft, i ? AF_INET6 : AF_INET, r->cfg->iface) < 0) {
			diag_error(r->diag, "raw socket: %s%s", r->craft.err,
				   strstr(r->craft.err, "ermi") ? " (tcpshake needs CAP_NET_RAW)" : "");
			return EXIT_SYSTEM;
		}
	}
	return 0;
}

/* Full mode: the kernel must not reset our connections (see guard.h). */
static int install_guard(struct run *r)
{
	char err[320];
	struct addr srcs[GUARD_MAX_ADDRS + 1];
	size_t n = 0;
	if (r->cfg->mode != PMODE_FULL)
		return 0;
	if (!privs_have(CAP_NET_ADMIN)) {
		diag_error(r->diag, "firewall guard: full mode needs CAP_NET_ADMIN (-M syn does not)");
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < r->nflows && n <= GUARD_MAX_ADDRS; i++) {
		bool have = false;
		for (size_t k = 0; k < n; k++)
			have |= addr_eq(&srcs[k], &r->flows[i].rt.src);
		if (!have)
			srcs[n++] = r->flows[i].rt.src;
	}
	struct guard_spec gs = { (long)getpid(), r->ports.lo, r->ports.hi, srcs, n, GUARD_MARK };
	if (guard_install(&r->guard, &gs, err, sizeof(err)) < 0) {
		diag_error(r->diag, "firewall guard: %s", err);
		return EXIT_SYSTEM;
	}
	if (craft_set_mark(&r->craft, GUARD_MARK) < 0) {
		diag_error(r->diag, "firewall guard: %s", r->craft.err);
		return EXIT_SYSTEM;
	}
	return 0;
}

/* Room for every probe that can be in flight at once, and their answers. */
static int ring_bytes(const struct run *r)
{
	size_t inflight = r->nflows < r->nports ? r->nflows : r->nports;
	size_t bytes = inflight * 4 * 512;
	return (int)(bytes < (256 << 10) ? (256 << 10) : bytes > (8 << 20) ? (8 << 20) : bytes);
}

static int open_captures(struct run *r)
{
	char filter[8192], err[PCAP_ERRBUF_SIZE + 128];
	struct filter_spec fs = { r->ports.lo, r->ports.hi, r->hosts, r->nhosts };
	/* with --http, room for a status line after the headers */
	struct capture_size sz = { r->cfg->http ? SNAPLEN_HEADERS + 256 : SNAPLEN_HEADERS,
				   ring_bytes(r) };
	if (capture_filter_text(&fs, filter, sizeof(filter)) < 0) {
		fs.nhosts = 0; /* too many hosts for one program: ports alone */
		capture_filter_text(&fs, filter, sizeof(filter));
	}
	for (size_t i = 0; i < r->nflows; i++) {
		const char *dev = r->flows[i].rt.ifname;
		bool have = false;
		for (size_t c = 0; c < r->ncaps; c++)
			have |= strcmp(r->caps[c].dev, dev) == 0;
		if (have)
			continue;
		if (r->ncaps == MAX_CAPS) {
			diag_error(r->diag, "capture: more than %d interfaces", MAX_CAPS);
			return EXIT_SYSTEM;
		}
		if (capture_open(&r->caps[r->ncaps], dev, &sz, filter, err, sizeof(err)) < 0) {
			diag_error(r->diag, "%s", err);
			return EXIT_SYSTEM;
		}
		r->ncaps++;
	}
	return 0;
}

/* ---- probes ------------------------------------------------------------ */

static void sched_or_die(struct run *r, struct event e)
{
	if (sched_push(&r->sched, e) < 0 && !r->fatal) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		r->fatal = EXIT_SYSTEM;
	}
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts_to_ns(&ts);
}

static uint16_t syn_mss(const struct route *rt, int family)
{
	int mss = rt->mtu - (family == AF_INET ? 40 : 60);
	return (uint16_t)(mss < 536 ? 536 : mss > 65535 ? 65535 : mss);
}

static void send_syn(struct run *r, struct probe *p, const struct flow *f, int64_t now)
{
	struct syn_options opt;
	craft_syn_options(&opt, &r->cfg->syn, syn_mss(&f->rt, f->dst.family),
			  (uint32_t)(now / 1000000));
	struct tcp_seg s = { &p->src, &p->dst, p->sport, p->dport, p->isn, 0, TCPF_SYN, WINDOW,
			     opt.b, opt.len, NULL, 0 };
	if (craft_send_syn(&r->craft, &s) < 0) {
		char ep[80];
		diag_error(r->diag, "send to %s: %s", endpoint_str(&p->dst, p->dport, ep, sizeof(ep)),
			   r->craft.err);
		r->fatal = EXIT_SYSTEM;
	}
}

/* A segment the state machine asked for: timestamps when negotiated (not
 * on a RST, as Linux does), our window, the request as payload. */
static void send_seg(struct run *r, const struct probe *p, const struct seg_out *o, int64_t now)
{
	uint8_t ts[TS_OPT_LEN];
	bool rst = o->flags & TCPF_RST;
	bool with_ts = p->ts_ok && !rst;
	if (with_ts)
		craft_ts_option(ts, (uint32_t)(now / 1000000), p->ts_recent);
	struct tcp_seg s = { &p->src, &p->dst, p->sport, p->dport, o->seq, o->ack, o->flags,
			     rst ? 0 : probe_window(p), with_ts ? ts : NULL, with_ts ? sizeof(ts) : 0,
			     o->with_request ? (const uint8_t *)p->req : NULL,
			     o->with_request ? p->req_len : 0 };
	if (craft_send_ctl(&r->craft, &s) < 0)
		diag_error(r->diag, "send: %s", r->craft.err); /* the peer times out; not fatal */
}

static void arm_timer(struct run *r, struct probe *p, int64_t at)
{
	p->gen++;
	sched_or_die(r, (struct event){ at, EV_TIMEOUT, (uint32_t)(p->sport - r->ports.lo), p->gen });
}

/* Start the next probe of flow fi, or queue the flow for a free port. */
static void start_probe(struct run *r, uint32_t fi, int64_t now)
{
	struct flow *f = &r->flows[fi];
	if (r->free_n == 0) {
		r->waiting[(r->wait_head + r->wait_n++) % r->nflows] = fi;
		return;
	}
	uint16_t port = r->free_ports[r->free_head];
	r->free_head = (r->free_head + 1) % r->nports;
	r->free_n--;
	struct probe *p = &r->probes[port - r->ports.lo];
	p->src = f->rt.src;
	p->dst = f->dst;
	p->sport = port;
	p->dport = f->port;
	p->flow = fi;
	p->seq = f->next_seq++;
	p->isn = cookie_isn(&r->key, &p->src, &p->dst, p->sport, p->dport, p->seq);
	p->req = f->req;
	p->req_len = f->req_len;
	int64_t timer = probe_start(p, &r->pp, now, wall_ns());
	port_table_set(&r->ports, port, p);
	r->live++;
	r->sent++;
	send_syn(r, p, f, now);
	arm_timer(r, p, timer);
	if (r->cfg->count && f->next_seq >= (uint64_t)r->cfg->count)
		r->flows_left--;
	else
		sched_or_die(r, (struct event){ now + r->cfg->interval_ns, EV_SEND, fi, 0 });
}

/* A probe is done: report it, free its port, let a waiting flow have it. */
static void finish_probe(struct run *r, struct probe *p, int64_t now)
{
	struct flow *f = &r->flows[p->flow];
	struct probe_report rep = { f->sum.target, &f->dst, f->port, p->sport, p->seq, &p->res,
				    r->cfg->timeout_ns,
				    p->res.reply_wall_ns ? p->res.reply_wall_ns : p->sent_wall_ns,
				    r->cfg->mode, r->cfg->http };
	summary_add(&f->sum, &p->res);
	f->ever_open |= p->res.outcome == OUTCOME_OPEN;
	r->out.ops->probe(&r->out, &rep);
	if (ferror(r->out.f) && !r->write_errno)
		r->write_errno = errno ? errno : EIO;
	port_table_set(&r->ports, p->sport, NULL);
	p->state = PS_FREE;
	r->live--;
	r->free_ports[(r->free_head + r->free_n++) % r->nports] = p->sport;
	if (r->wait_n) {
		uint32_t fi = r->waiting[r->wait_head];
		r->wait_head = (r->wait_head + 1) % r->nflows;
		r->wait_n--;
		start_probe(r, fi, now);
	}
}

static void act(struct run *r, struct probe *p, const struct probe_actions *a, int64_t now)
{
	for (int i = 0; i < a->n; i++)
		send_seg(r, p, &a->out[i], now);
	if (a->done)
		finish_probe(r, p, now);
	else if (a->timer_at)
		arm_timer(r, p, a->timer_at);
}

/* ---- capture ----------------------------------------------------------- */

struct dispatch_ctx {
	struct run *r;
	int linktype;
};

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct dispatch_ctx *d = (struct dispatch_ctx *)user;
	struct segment seg;
	enum probe_event ev;
	/* nanosecond precision: tv_usec holds nanoseconds */
	int64_t ts = (int64_t)h->ts.tv_sec * NS_PER_SEC + h->ts.tv_usec;
	if (decode_frame(d->linktype, bytes, h->caplen, ts, &seg) < 0)
		return;
	struct probe_actions a;
	struct probe *p = match_segment(&d->r->ports, &seg, &ev);
	if (!p)
		return;
	if (ev != PEV_OWN_SYN && ev != PEV_OWN_SEG)
		d->r->received++;
	int64_t now = mono_ns();
	probe_step(p, ev, &seg, now, &a);
	act(d->r, p, &a, now);
}

static void drain_captures(struct run *r)
{
	for (size_t i = 0; i < r->ncaps; i++) {
		struct dispatch_ctx d = { r, r->caps[i].linktype };
		if (pcap_dispatch(r->caps[i].p, -1, on_frame, (u_char *)&d) == PCAP_ERROR) {
			diag_error(r->diag, "capture on %s: %s", r->caps[i].dev, pcap_geterr(r->caps[i].p));
			r->fatal = EXIT_SYSTEM;
		}
	}
}

/* ---- the loop ---------------------------------------------------------- */

static void handle_event(struct run *r, const struct event *e, int64_t now)
{
	if (e->kind == EV_SEND) {
		start_probe(r, e->id, now);
		return;
	}
	struct probe *p = &r->probes[e->id];
	struct probe_actions a;
	if (p->state != PS_FREE && p->state != PS_DONE && p->gen == e->gen) {
		probe_step(p, PEV_TIMER, NULL, now, &a);
		act(r, p, &a, now);
	}
}

static bool finished(const struct run *r)
{
	return r->fatal || stop_signal || r->write_errno ||
	       (r->live == 0 && r->flows_left == 0);
}

/* Sleep in poll() exactly until the next deadline or a frame. */
static void wait_for_work(struct run *r, const sigset_t *unblocked)
{
	struct pollfd pfd[MAX_CAPS];
	const struct event *next = sched_peek(&r->sched);
	struct timespec tmo = { 1, 0 };
	if (next) {
		int64_t d = next->when_ns - mono_ns();
		if (d < 0)
			d = 0;
		tmo.tv_sec = (time_t)(d / NS_PER_SEC);
		tmo.tv_nsec = (long)(d % NS_PER_SEC);
	}
	for (size_t i = 0; i < r->ncaps; i++)
		pfd[i] = (struct pollfd){ r->caps[i].fd, POLLIN, 0 };
	if (ppoll(pfd, r->ncaps, &tmo, unblocked) < 0 && errno != EINTR) {
		diag_error(r->diag, "poll: %s", strerror(errno));
		r->fatal = EXIT_SYSTEM;
	}
}

static void event_loop(struct run *r)
{
	sigset_t block, unblocked;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	for (uint32_t i = 0; i < r->nflows; i++)
		sched_or_die(r, (struct event){ r->start_mono, EV_SEND, i, 0 });
	while (!finished(r)) {
		wait_for_work(r, &unblocked);
		/* 1. replies first: a frame already captured beats its timeout */
		drain_captures(r);
		/* 2. every due deadline, timeouts before sends at equal times */
		int64_t now = mono_ns();
		struct event e;
		while (!finished(r) && sched_peek(&r->sched) && sched_peek(&r->sched)->when_ns <= now) {
			sched_pop(&r->sched, &e);
			handle_event(r, &e, now);
		}
	}
}

/* ---- results ----------------------------------------------------------- */

/* The exit-code policy (the same for every format but nagios): a system
 * error, then a quorum met (--min-open), then names, then every open. */
static int exit_code(const struct run *r)
{
	size_t open = 0;
	if (r->fatal)
		return r->fatal;
	if (r->cfg->format == FORMAT_NAGIOS)
		return (int)r->out.status;
	for (size_t i = 0; i < r->nflows; i++)
		open += r->flows[i].ever_open;
	if (r->cfg->th.min_open)
		return open >= (size_t)r->cfg->th.min_open ? EXIT_ALL_OPEN : EXIT_NOT_OPEN;
	if (r->unresolved)
		return EXIT_RESOLVE;
	return open == r->nflows ? EXIT_ALL_OPEN : EXIT_NOT_OPEN;
}

static void report(struct run *r)
{
	struct run_summary rs = { r->sent, r->received, 0, mono_ns() - r->start_mono,
				  r->start_wall, r->unresolved, r->first_unresolved };
	for (size_t i = 0; i < r->nflows; i++)
		r->out.ops->summary(&r->out, &r->flows[i].sum);
	for (size_t i = 0; i < r->ncaps; i++)
		rs.pcap_drops += capture_drops(&r->caps[i]);
	r->out.ops->run(&r->out, &rs);
	if ((fflush(r->out.f) != 0 || ferror(r->out.f)) && !r->write_errno)
		r->write_errno = errno ? errno : EIO;
}

/* Where the report goes: stdout, or -o's temporary file. */
static int open_output(struct run *r)
{
	char err[300];
	const struct config *cfg = r->cfg;
	r->out.ops = output_ops_for(cfg->format);
	r->out.f = stdout;
	setvbuf(stdout, NULL, _IOLBF, 0); /* a line as soon as a probe is done */
	r->out.verbose = cfg->verbose;
	r->out.quiet = cfg->quiet;
	r->out.th = &cfg->th;
	r->out.timeout_ns = cfg->timeout_ns;
	if (cfg->output) {
		if (output_file_open(&r->file, cfg->output, err, sizeof(err)) < 0) {
			diag_error(r->diag, "%s", err);
			return EXIT_SYSTEM;
		}
		r->out.f = r->file.f;
	}
	return 0;
}

/* -o: rename the finished report into place. A failed write is exit 4;
 * a reader that went away (| head) ends the run quietly. */
static int close_output(struct run *r, int rc)
{
	char err[300];
	if (!r->cfg->output) {
		if (r->write_errno == EPIPE)
			return rc;
		if (r->write_errno) {
			diag_error(r->diag, "standard output: %s", strerror(r->write_errno));
			return EXIT_SYSTEM;
		}
		return rc;
	}
	if (r->write_errno) {
		diag_error(r->diag, "%s: %s", r->cfg->output, strerror(r->write_errno));
		output_file_abort(&r->file);
		return EXIT_SYSTEM;
	}
	if (output_file_commit(&r->file, err, sizeof(err)) < 0) {
		diag_error(r->diag, "%s", err);
		return EXIT_SYSTEM;
	}
	return rc;
}

static void teardown(struct run *r)
{
	for (size_t i = 0; i < r->ncaps; i++)
		capture_close(&r->caps[i]);
	craft_close(&r->craft);
	guard_remove(&r->guard);
	port_table_free(&r->ports);
	for (size_t i = 0; i < r->nflows; i++)
		free(r->flows[i].req);
	sched_free(&r->sched);
	free(r->flows);
	free(r->hosts);
	free(r->probes);
	free(r->free_ports);
	free(r->waiting);
	free(r->out.sums);
	output_file_abort(&r->file);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The run could not start: its code, or in nagios format an UNKNOWN line. */
static int not_started(const struct run *r, int code)
{
	if (r->cfg->format != FORMAT_NAGIOS)
		return code;
	printf("TCPSHAKE UNKNOWN - %s\n", r->diag->first[0] ? r->diag->first : "nothing to probe");
	return NAGIOS_UNKNOWN;
}

int engine_run(const struct config *cfg, struct diag *diag)
{
	struct run r;
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.diag = diag;
	r.pp = (struct probe_params){ cfg->mode, cfg->close, cfg->http, cfg->timeout_ns, RETRIES,
				      cfg->syn.wscale, cfg->syn.ts, WINDOW };
	int rc = 0;
	if (cookie_key_random(&r.key) < 0) {
		diag_error(r.diag, "getrandom: %s", strerror(errno));
		return not_started(&r, EXIT_SYSTEM);
	}
	if ((rc = open_output(&r)) != 0 || (rc = build_flows(&r)) != 0 || r.nflows == 0 ||
	    (rc = setup_ports(&r)) != 0 ||
	    (rc = open_raw(&r)) != 0 || (rc = install_guard(&r)) != 0 ||
	    (rc = open_captures(&r)) != 0) {
		teardown(&r);
		return not_started(&r, rc ? rc : EXIT_RESOLVE);
	}
	/* every socket, capture handle and the guard are open: no more privilege */
	if (privs_drop_all() < 0) {
		diag_error(r.diag, "dropping capabilities: %s", strerror(errno));
		teardown(&r);
		return not_started(&r, EXIT_SYSTEM);
	}
	install_signals();
	r.start_mono = mono_ns();
	r.start_wall = wall_ns();
	if (r.out.ops->begin)
		r.out.ops->begin(&r.out);
	event_loop(&r);
	report(&r);
	rc = close_output(&r, exit_code(&r));
	teardown(&r);
	return rc;
}
