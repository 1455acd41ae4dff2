/* engine.c - run set-up, the event loop, and the actions probes ask for. */
#include "engine.h"

#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>
#include <stdio.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "privs.h"
#include "run.h"
#include "serve.h"
#include "util.h"

#define RETRIES 8          /* sends again of our FIN or request, within -W */
#define WINDOW 64240       /* the window we offer, in bytes */
#define SCAN_WINDOW 1024   /* a flag scan's segment: the window nmap's carry */
#define RTO_FLOOR_NS (100 * INT64_C(1000000)) /* a fleet's adaptive timeout, at least (nmap's
						      * --min-rtt-timeout) */
#define PROGRESS_NS (250 * INT64_C(1000000))
#define WATCH_NS (10 * INT64_C(1000000))
#define LINGER_NS INT64_C(1000000000) /* at the end, after loss: a FIN may come again */

/* The only mutable globals: what the signal handler needs. */
static volatile sig_atomic_t stop_signal;
static volatile int wake_write_fd = -1;

/* Sets the flag and wakes poll() through the self-pipe. Installed without
 * SA_RESTART, so a write blocked on a stalled reader returns too, and from
 * now on a SIGALRM every 100 ms interrupts any write that blocks again: the
 * run ends, and the report is attempted, in bounded time. */
static void on_signal(int sig)
{
	int e = errno;
	struct itimerval it = { { 0, 100000 }, { 0, 100000 } };
	stop_signal = sig;
	if (wake_write_fd >= 0)
		(void)!write(wake_write_fd, "", 1);
	setitimer(ITIMER_REAL, &it, NULL);
	errno = e;
}

static void on_alarm(int sig)
{
	(void)sig; /* only to interrupt a blocked write */
}

/* ---- set-up ---------------------------------------------------------- */

/* Every target of the command line, the files and the excludes. */
static int load_targets(struct run *r)
{
	const struct config *cfg = r->cfg;
	char err[512];
	struct tset *ts = &r->plan.targets;
	tset_init(ts, cfg->family, cfg->numeric, cfg->max_targets);
	ts->all_addresses = cfg->all_addresses;
	if (cfg->serve)
		return serve_load_allow(r);
	for (int t = 0; t < cfg->ntargets; t++) {
		int rc = tset_add(ts, cfg->targets[t], err, sizeof(err));
		if (rc == 1)
			diag_error(r->diag, "%s: %s", cfg->targets[t], err);
		else if (rc < 0) {
			diag_error(r->diag, "%s: %s", cfg->targets[t], err);
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < cfg->files.n; i++)
		if (tset_add_file(ts, cfg->files.v[i], false, err, sizeof(err)) < 0) {
			diag_error(r->diag, "%s", err);
			return EXIT_USAGE;
		}
	for (size_t i = 0; i < cfg->excludes.n; i++)
		if (tset_exclude_list(ts, cfg->excludes.v[i], err, sizeof(err)) < 0) {
			diag_error(r->diag, "--exclude: %s", err);
			return EXIT_USAGE;
		}
	for (size_t i = 0; i < cfg->exclude_files.n; i++)
		if (tset_add_file(ts, cfg->exclude_files.v[i], true, err, sizeof(err)) < 0) {
			diag_error(r->diag, "%s", err);
			return EXIT_USAGE;
		}
	if (tset_finish(ts, err, sizeof(err)) < 0) {
		diag_error(r->diag, "targets: %s", err);
		return EXIT_USAGE;
	}
	if (ts->total == 0) {
		if (ts->unresolved == 0)
			diag_error(r->diag, "targets: none to probe");
		return ts->unresolved ? EXIT_RESOLVE : EXIT_USAGE;
	}
	return 0;
}

/* The index space, its order, and what a run of it means. */
static int make_plan(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct cookie_key order;
	if (cfg->serve)
		return serve_plan(r);
	r->plan.space = r->plan.targets.total * cfg->ports.n;
	r->plan.fleet = r->plan.space > 1;
	/* a health check of a few services: each probed like check_tcp would;
	 * a scan: adaptive timeouts and retries */
	r->plan.adaptive = r->plan.space > SMALL_RUN;
	/* like ping for one target:port named on the command line; else one each */
	bool ping_like = !r->plan.fleet && cfg->files.n == 0 && cfg->ntargets == 1;
	/* a trace follows the probes: they must end */
	bool tracing = cfg->trace || cfg->trace_on_fail;
	r->plan.count = cfg->count_given ? (uint64_t)cfg->count
			: (ping_like && !tracing) || cfg->wait ? 0 : 1;
	if (cfg->trace && r->plan.space > TRACE_MAX_FLOWS) {
		diag_error(r->diag, "--trace: at most %d target:ports (this run has %llu)",
			   TRACE_MAX_FLOWS, (unsigned long long)r->plan.space);
		return EXIT_USAGE;
	}
	if (cfg->mode == PMODE_PERFLAG) /* a round of five kinds per count */
		r->plan.count = (cfg->count_given ? (uint64_t)cfg->count : 1) * PERFLAG_KINDS;
	r->plan.retries = cfg->retries >= 0 ? cfg->retries : r->plan.adaptive ? 1 : 0;
	r->plan.timeout_ns = cfg->timeout_given ? cfg->timeout_ns
			: cfg->format == FORMAT_NAGIOS ? TIMEOUT_NAGIOS_NS
			: r->plan.adaptive ? TIMEOUT_FLEET_NS : TIMEOUT_SINGLE_NS;
	r->pp.timeout_ns = r->plan.timeout_ns;
	r->pp.syn_rto_ns = RTO_INIT_NS; /* a fleet's adaptive wait is mostly shorter */
	r->pp.own_reliable = true;
	/* --expect, --send, --banner, --starttls: as parsed, read-only */
	r->app = (struct app_params){ cfg->expect.compiled ? &cfg->expect : NULL, cfg->send,
				      cfg->send_len, cfg->expect_timeout_ns, cfg->starttls_proto };
	r->pp.app = &r->app;
	r->rep.out.timeout_ns = r->plan.timeout_ns;
	r->rep.out.kind = flows_kind(&r->plan, 0);
	r->rep.out.traces = tracing;
	if (cfg->th.min_open > (long long)r->plan.space) {
		diag_error(r->diag, "--min-open: is more than the %llu target:ports to probe",
			   (unsigned long long)r->plan.space);
		return EXIT_USAGE;
	}
	if (cfg->seed_given)
		perm_key_from_seed(&order, cfg->seed);
	else if (cookie_key_random(&order) < 0) {
		diag_error(r->diag, "getrandom: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	perm_init(&r->plan.perm, r->plan.space, &order, cfg->no_shuffle);
	return 0;
}

/* The route to each block (its first address stands for all of it), and
 * the target addresses for the capture filter when there are few. */
static int route_blocks(struct run *r)
{
	const struct config *cfg = r->cfg;
	char err[256], a[64];
	struct tset *ts = &r->plan.targets;
	r->plan.routes = calloc(ts->n, sizeof(*r->plan.routes));
	r->hosts = calloc(FILTER_MAX_HOSTS, sizeof(*r->hosts));
	if (!r->plan.routes || !r->hosts) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	for (size_t k = 0; k < ts->n; k++) {
		struct addr first;
		const char *name;
		size_t block;
		tset_at(ts, ts->cum[k], &first, &name, &block);
		if (route_lookup(&first, cfg->iface, cfg->source, &r->plan.routes[k], err, sizeof(err)) < 0) {
			diag_error(r->diag, "%s: %s", name ? name : addr_str(&first, a, sizeof(a)), err);
			return strstr(err, "source") || strstr(err, "interface") ? EXIT_USAGE
										  : EXIT_SYSTEM;
		}
	}
	if (ts->total <= FILTER_MAX_HOSTS && !cfg->serve) /* --serve: any host of --allow */
		for (uint64_t i = 0; i < ts->total; i++) {
			const char *name;
			size_t block;
			tset_at(ts, i, &r->hosts[r->nhosts++], &name, &block);
		}
	return 0;
}

/* Our source addresses, one each: the guard's and the stray check's. */
static void collect_sources(struct run *r)
{
	for (size_t i = 0; i < r->plan.targets.n && r->nsrcs <= GUARD_MAX_ADDRS; i++) {
		bool have = false;
		for (size_t k = 0; k < r->nsrcs; k++)
			have |= addr_eq(&r->srcs[k], &r->plan.routes[i].src);
		if (!have)
			r->srcs[r->nsrcs++] = r->plan.routes[i].src;
	}
}

/* A value of this run's key that belongs to no 4-tuple (the ports' offset,
 * the guard table's tag), told apart by salt. */
static uint32_t run_keyed(const struct run *r, uint16_t salt, uint32_t no)
{
	struct addr none = { 0 };
	return cookie_isn(&r->key, &none, &none, salt, salt, no);
}

/* The ports we hold (ports.h), a probe slot for each, every slot free. */
static int setup_ports(struct run *r)
{
	char err[160];
	struct port_ask ask;
	if (r->cfg->source_port) {
		ask = (struct port_ask){ (uint16_t)r->cfg->source_port, (uint16_t)r->cfg->source_port,
					 0, 1 };
	} else {
		int elo, ehi;
		route_ephemeral_range(&elo, &ehi);
		route_our_ports(elo, ehi, &ask.lo, &ask.hi);
		size_t range = (size_t)(ask.hi - ask.lo) + 1;
		ask.start = run_keyed(r, 0, 0xffffffffu) % range;
		ask.want = r->cfg->serve ? serve_ports_wanted(r->cfg, range)
				: ports_wanted(r->plan.space, r->plan.count, r->plan.fleet, range);
	}
	if (port_pool_hold(&r->pool, &ask, err, sizeof(err)) < 0) {
		diag_error(r->diag, "%s", err);
		return EXIT_SYSTEM;
	}
	port_pool_trim(&r->pool, GUARD_MAX_RUNS);
	r->nports = r->pool.n;
	r->probes = calloc(r->nports, sizeof(*r->probes));
	r->free_slots = calloc(r->nports, sizeof(*r->free_slots));
	if (!r->probes || !r->free_slots ||
	    port_table_init(&r->ports, r->pool.port[0], r->pool.port[r->nports - 1]) < 0 ||
	    sched_keyed_init(&r->sched, r->nports) < 0) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < r->nports; i++) {
		r->free_slots[i] = (uint32_t)i;
		r->probes[i].sport = r->pool.port[i];
		port_table_set(&r->ports, r->pool.port[i], &r->probes[i]);
	}
	r->free_n = r->nports;
	collect_sources(r);
	return 0;
}

/* The flow scheduler, room for as many target:ports at once as ports;
 * a progress line for a fleet on a terminal. */
static int setup_flows(struct run *r)
{
	size_t max_live = r->nports;
	if (r->cfg->serve && (size_t)r->cfg->max_probes < max_live)
		max_live = (size_t)r->cfg->max_probes;
	if (flows_init(&r->flows, &r->plan, max_live) < 0) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	r->rep.progress = r->plan.fleet && !r->cfg->quiet && isatty(STDERR_FILENO);
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
	for (size_t k = 0; k < r->plan.targets.n; k++)
		fam[r->plan.targets.v[k].family == AF_INET6] = true;
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

/* --tls: one context for every probe, the trust store read once. */
static int setup_tls(struct run *r)
{
	const struct config *cfg = r->cfg;
	char err[320];
	if (!cfg->tls && !cfg->serve) /* --serve: its tls and https modules */
		return 0;
	/* HTTPS speaks HTTP/1.1: offered alone unless --alpn says more */
	const char *alpn = cfg->alpn ? cfg->alpn : cfg->http ? "http/1.1" : NULL;
	struct tls_params tp = { alpn, cfg->tls_min == 13 ? 0x304 : cfg->tls_min == 12 ? 0x303 : 0,
				 0, cfg->ca_file, cfg->insecure };
	if (tls_ctx_init(&r->tls, &tp, err, sizeof(err)) < 0) {
		diag_error(r->diag, "%s", err);
		return EXIT_USAGE;
	}
	r->pp.tls = &r->tls;
	return 0;
}

/* Full mode: the kernel must not reset our connections (see guard.h). The
 * table is built by a child while the captures are set up (start_guard, then
 * open_captures, then finish_guard): each waits in the kernel. */
static int start_guard(struct run *r)
{
	char err[320];
	struct port_run runs[GUARD_MAX_RUNS];
	if (r->cfg->mode != PMODE_FULL && !r->cfg->serve)
		return 0; /* syn mode resets, a flag scan opens nothing */
	if (!privs_have(CAP_NET_ADMIN)) {
		diag_error(r->diag, "firewall guard: full mode needs CAP_NET_ADMIN (-M syn does not)");
		return EXIT_SYSTEM;
	}
	size_t nruns = port_runs(r->pool.port, r->pool.n, runs, GUARD_MAX_RUNS);
	struct guard_spec gs = { (long)getpid(), 0, runs, nruns, r->srcs, r->nsrcs, GUARD_MARK };
	gs.tag = run_keyed(r, 1, 0xfffffffeu);
	if (guard_begin(&r->guard, &gs, err, sizeof(err)) < 0) {
		diag_error(r->diag, "firewall guard: %s", err);
		return EXIT_SYSTEM;
	}
	return 0;
}

static int finish_guard(struct run *r)
{
	char err[320];
	if (r->guard.child < 0)
		return 0; /* none started */
	if (guard_finish(&r->guard, err, sizeof(err)) < 0) {
		diag_error(r->diag, "firewall guard: %s", err);
		return EXIT_SYSTEM;
	}
	if (craft_set_mark(&r->craft, GUARD_MARK) < 0) {
		diag_error(r->diag, "firewall guard: %s", r->craft.err);
		return EXIT_SYSTEM;
	}
	r->guarded = true;
	return 0;
}

/* The kernel ring holds what arrives between two drains of the loop: with
 * the snap length at the headers, 256 KiB is some 700 frames, 1 MiB (from
 * 20000 probes a second, three frames each) some 2900. Whole frames (a
 * kind that reads the payload) take up to some 1600 bytes each on an
 * Ethernet path: a window of 64 KiB in flight is 45 of them, so four
 * times the room. A ring is memory the process keeps: no bigger than the
 * rate needs. */
static int ring_bytes(const struct run *r, bool whole_frames)
{
	if (r->cfg->buffer_kib > 0)
		return r->cfg->buffer_kib << 10;
	int floor = whole_frames ? 4 << 20 : 256 << 10;
	double rate = r->cfg->rate > 0 ? r->cfg->rate : 20000;
	if (!r->plan.fleet)
		return floor;
	/* 20 ms of the run's frames: three a probe, some 176 bytes each in the
	 * ring with its header (192 to be safe), whole ones more */
	double bytes = rate * 3 * (whole_frames ? 1600 : 192) * 0.02;
	int ceiling = whole_frames ? 16 << 20 : 4 << 20;
	return (int)(bytes < floor ? floor : bytes > ceiling ? ceiling : bytes);
}

#define DIRECT_MAX_COUNT 2048
#define DIRECT_MIN_INTERVAL_NS (NS_PER_SEC / 100)

static int open_captures(struct run *r)
{
	char filter[8192], err[PCAP_ERRBUF_SIZE + 128];
	struct filter_spec fs = { r->ports.lo, r->ports.hi, r->hosts, r->nhosts };
	/* a kind that reads the stream (--http) must see every byte: a
	 * segment cut short is taken only as far as it was captured; --serve
	 * may be asked for any kind */
	bool whole = r->cfg->serve || kind_reads_payload(flows_kind(&r->plan, 0));
	/* a health check's probes, or probes a ping's pace apart: no ring to
	 * set up where the kernel stamps frames already (see capture.c,
	 * stamping_on; its grace period and teardown, some 15-25 ms a process,
	 * is what some 3,000 full probes back to back lose reading frames by
	 * system calls instead); more, read from a ring */
	const struct config *c = r->cfg;
	bool few = (c->count > 0 && c->count <= DIRECT_MAX_COUNT) ||
		   c->interval_ns >= DIRECT_MIN_INTERVAL_NS;
	bool direct = !r->plan.fleet && !c->serve && few;
	struct capture_size sz = { whole ? SNAPLEN_WHOLE : SNAPLEN_HEADERS, ring_bytes(r, whole), whole,
				   direct };
	if (capture_filter_text(&fs, filter, sizeof(filter)) < 0) {
		fs.nhosts = 0; /* too many hosts for one program: ports alone */
		capture_filter_text(&fs, filter, sizeof(filter));
	}
	for (size_t i = 0; i < r->plan.targets.n; i++) {
		const char *dev = r->plan.routes[i].ifname;
		bool have = false;
		for (size_t c = 0; c < r->ncaps; c++)
			have |= strcmp(r->caps[c].dev, dev) == 0;
		if (have)
			continue;
		if (r->ncaps == CAPTURE_MAX) {
			diag_error(r->diag, "capture: more than %d interfaces", CAPTURE_MAX);
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

static void engine_schedule(struct run *r, struct event e)
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
	int mss = rt->mtu - tcpip_hdr_len(family);
	return (uint16_t)(mss < 536 ? 536 : mss > 65535 ? 65535 : mss);
}

/* The MSS both ways as --pmtu reports it: our SYN's option as sent, and
 * what the server's interface MTU (--peer-mtu) lets it announce. */
static void pmtu_mss(const struct run *r, const struct flow *f, struct probe *p)
{
	const struct syn_spec *sp = &r->cfg->syn;
	if (sp->mss)
		p->res.pmtu.mss_sent = sp->mss_value ? sp->mss_value : syn_mss(f->rt, f->dst.family);
	/* an IPv6 target with an MTU below its minimum (no -6 refused it) */
	if (r->cfg->peer_mtu >= pmtu_min_mtu(f->dst.family))
		p->res.pmtu.mss_expected =
			(uint16_t)(r->cfg->peer_mtu - tcpip_hdr_len(f->dst.family));
}

/* Our first segment (the first, or one sent again): a SYN with its
 * options and timestamp value, or a flag scan's bare segment. */
static void send_syn(struct run *r, struct probe *p, uint32_t tsval)
{
	const struct flow *f = &r->flows.v[p->flow];
	struct syn_options opt = { .len = 0 };
	if (p->kind->flags & TCPF_SYN)
		craft_syn_options(&opt, &r->cfg->syn, syn_mss(f->rt, f->dst.family), tsval);
	struct tcp_seg s = { .src = &p->src, .dst = &p->dst, .sport = p->sport, .dport = p->dport,
			     .seq = p->isn, .ack = kind_sends_ack(p->kind) ? p->ack0 : 0,
			     .flags = p->kind->flags,
			     .win = p->kind->flags & TCPF_SYN ? WINDOW : SCAN_WINDOW, .opts = opt.b,
			     .optlen = opt.len };
	if (craft_send_syn(&r->craft, &s) < 0) {
		char ep[80];
		endpoint_str(&p->dst, p->dport, ep, sizeof(ep));
		if (!route_iface_up(f->rt->ifname))
			diag_error(r->diag, "send to %s: interface %s went down", ep, f->rt->ifname);
		else
			diag_error(r->diag, "send to %s: %s", ep,
				   r->craft.err_no ? strerror(r->craft.err_no) : r->craft.err);
		/* a prober goes on: this request's SYN never left, its probe says
		 * so (unreachable, no-neighbour) */
		if (!r->serve)
			r->fatal = EXIT_SYSTEM;
	}
}

/* A segment the state machine asked for: timestamps when negotiated (not
 * on a RST, as Linux does), our window, the bytes of its send stream it
 * names. */
static void send_seg(struct run *r, const struct probe *p, const struct seg_out *o)
{
	uint8_t ts[TS_OPT_LEN];
	bool rst = o->flags & TCPF_RST;
	bool with_ts = p->ts_ok && !rst;
	if (with_ts)
		craft_ts_option(ts, o->tsval, p->ts_recent);
	const uint8_t *data = probe_seg_payload(p, o);
	struct tcp_seg s = { .src = &p->src, .dst = &p->dst, .sport = p->sport, .dport = p->dport,
			     .seq = o->seq, .ack = o->ack, .flags = o->flags,
			     .win = rst ? 0 : probe_window(p), .opts = with_ts ? ts : NULL,
			     .optlen = with_ts ? sizeof(ts) : 0, .payload = data,
			     .len = data ? o->data_len : 0 };
	if (craft_send_ctl(&r->craft, &s) < 0)
		diag_error(r->diag, "send: %s", r->craft.err); /* the peer times out; not fatal */
}

/* A RST for a segment that reached one of our ports for no connection:
 * the kernel would send it, but the guard drops the kernel's. */
static void send_closed_reply(struct run *r, const struct segment *seg, const struct seg_out *o)
{
	struct tcp_seg s = { .src = &seg->dst, .dst = &seg->src, .sport = seg->dport,
			     .dport = seg->sport, .seq = o->seq, .ack = o->ack, .flags = o->flags };
	if (craft_send_ctl(&r->craft, &s) < 0)
		diag_error(r->diag, "send: %s", r->craft.err);
}

/* A probe has one timer: arming it again moves it, finishing cancels it,
 * so a timeout that fires is always the probe's current one. */
static void arm_timer(struct run *r, struct probe *p, int64_t at)
{
	if (sched_arm(&r->sched, (uint32_t)(p - r->probes), at) < 0 && !r->fatal) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		r->fatal = EXIT_SYSTEM;
	}
}

static void engine_start_probe(struct run *r, const struct send_req *q, int64_t now);

/* At most one pump waits for the pacer: one event a send, not one a caller. */
static void schedule_pump(struct run *r, int64_t when)
{
	if (r->pump_at && r->pump_at <= when)
		return;
	r->pump_at = when;
	engine_schedule(r, (struct event){ when, EV_PUMP, 0 });
}

static void drain_captures(struct run *r);

/* A burst of sends (or of due events) reads the capture every so many:
 * the ring then holds what a few hundred microseconds bring, not a whole
 * burst's answers (fewer drops from a smaller ring). */
#define DRAIN_EVERY 64

/* Start what the flow scheduler says is due, while ports are free. */
static void pump(struct run *r, int64_t now)
{
	struct flow_step st;
	unsigned started = 0;
	while (!r->fatal) {
		if (++started % DRAIN_EVERY == 0)
			drain_captures(r); /* finished probes only schedule a pump */
		flows_next(&r->flows, now, r->free_n > 0, &st);
		if (st.kind != STEP_SEND) {
			if (st.kind == STEP_WAIT)
				schedule_pump(r, st.at);
			break;
		}
		engine_start_probe(r, &st.q, now);
		if (st.next_at)
			engine_schedule(r, (struct event){ st.next_at, EV_SEND, st.q.flow });
	}
	if (r->flows.nomem && !r->fatal) {
		diag_error(r->diag, "memory: %s", strerror(ENOMEM));
		r->fatal = EXIT_SYSTEM;
	}
}

/* A SYN leaves: the port held longest unused (its last probe stops
 * lingering), a keyed ISN, the probe armed. The scheduler has checked that
 * a port is free. */
static void engine_start_probe(struct run *r, const struct send_req *q, int64_t now)
{
	struct flow *f = &r->flows.v[q->flow];
	struct probe *p = &r->probes[r->free_slots[r->free_head]];
	r->free_head = (r->free_head + 1) % r->nports;
	r->free_n--;
	p->src = f->rt->src;
	p->dst = f->dst;
	p->dport = f->port;
	p->flow = q->flow;
	p->seq = q->seq;
	p->tries = q->tries;
	p->isn = cookie_isn(&r->key, &p->src, &p->dst, p->sport, p->dport,
			    p->seq << 4 | (p->tries & 0xf));
	p->ack0 = cookie_isn(&r->key, &p->src, &p->dst, p->sport, p->dport,
			     (p->seq << 4 | (p->tries & 0xf)) ^ 0x80000000u);
	p->kind = f->kind ? f->kind : flows_kind(&r->plan, p->seq);
	p->req = f->req;
	p->req_len = f->req_len;
	/* TLS speaks to the name as given (--sni, else a name, else the
	 * address: checked against the certificate's IP addresses) */
	p->host = r->cfg->sni ? r->cfg->sni : summary_target(&f->sum);
	int64_t wait = flows_wait(&r->flows, f, q->tries, RTO_FLOOR_NS);
	const struct probe_params *pp = &r->pp;
	if (f->pp) { /* --serve: the request's, kept with the slot */
		r->slot_pp[p - r->probes] = *f->pp;
		r->slot_pp[p - r->probes].deadline_ns = now + f->pp->timeout_ns; /* the whole probe */
		pp = &r->slot_pp[p - r->probes];
	}
	int64_t timer = probe_start(p, pp, wait, now, wall_ns());
	p->route_mtu = (uint16_t)(f->rt->mtu > 65535 ? 65535 : f->rt->mtu > 0 ? f->rt->mtu : 0);
	pmtu_mss(r, f, p);
	r->live++;
	r->rep.sent++;
	send_syn(r, p, p->syn_tsval[0]);
	arm_timer(r, p, timer);
}

/* --trace: every target:port; --trace-on-fail: one filtered or unreachable.
 * Traced once the probes are done, in the order they finished. */
static void queue_trace(struct run *r, const struct flow *f)
{
	enum outcome oc = summary_outcome(&f->sum);
	if (!r->cfg->trace &&
	    !(r->cfg->trace_on_fail && (oc == OUTCOME_FILTERED || oc == OUTCOME_UNREACHABLE)))
		return;
	if (!r->trace_jobs && !(r->trace_jobs = calloc(TRACE_MAX_FLOWS, sizeof(*r->trace_jobs)))) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		r->fatal = EXIT_SYSTEM;
		return;
	}
	if (r->ntrace_jobs == TRACE_MAX_FLOWS) {
		r->traces_skipped++;
		return;
	}
	struct trace_job *j = &r->trace_jobs[r->ntrace_jobs++];
	j->dst = f->dst;
	j->rt = f->rt;
	j->port = f->port;
	j->rtt_ns = f->sum.rtt.n ? (int64_t)(f->sum.rtt.max * 1e3) : 0;
	snprintf(j->target, sizeof(j->target), "%s", summary_target(&f->sum));
}

/* A probe is done: the scheduler reports it; its port goes to the back of
 * the queue and the probe lingers (DONE) until the port is taken again. */
static void finish_probe(struct run *r, struct probe *p, int64_t now)
{
	r->loss_seen |= p->rtx > 0 || p->syns > 1;
	enum done_kind d = flows_done(&r->flows, p);
	if (d != DONE_RETRY) {
		struct flow *f = &r->flows.v[p->flow];
		if (r->serve) {
			serve_probe_done(r, f, p); /* the request waiting for it */
		} else {
			report_perflag(r, f);
			report_probe(r, p);
		}
		if (d == DONE_CLOSED) {
			if (!r->serve) {
				report_flow(r, f);
				queue_trace(r, f);
			}
			flows_close(&r->flows, p->flow);
		}
	}
	sched_cancel(&r->sched, (uint32_t)(p - r->probes));
	probe_release(p); /* its last segments are sent: a stream's memory goes */
	r->live--;
	r->free_slots[(r->free_head + r->free_n++) % r->nports] = (uint32_t)(p - r->probes);
	schedule_pump(r, now); /* from the loop, never from the capture callback */
}

static void act(struct run *r, struct probe *p, const struct probe_actions *a, int64_t now)
{
	for (int i = 0; i < a->n; i++) {
		if (a->out[i].syn) {
			r->retried_syns++;
			send_syn(r, p, a->out[i].tsval);
		} else {
			send_seg(r, p, &a->out[i]);
		}
	}
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

/* A segment to one of our ports that no probe of ours is in: answered as a
 * closed port would answer it (full mode; without the guard the kernel
 * answers itself). */
static void on_stray(struct run *r, const struct segment *seg)
{
	struct seg_out o;
	if (!r->guarded || seg->kind != SEG_TCP || !port_table_get(&r->ports, seg->dport))
		return;
	bool ours = false;
	for (size_t i = 0; i < r->nsrcs && !ours; i++)
		ours = addr_eq(&seg->dst, &r->srcs[i]);
	if (ours && probe_closed_reply(seg, &o))
		send_closed_reply(r, seg, &o);
}

static void trace_wake(struct run *r, int64_t when);

/* A segment of the running trace: the target's SYN/ACK gets our RST, as
 * the syn kind's does (the server keeps nothing), and so does its ACK of a
 * half-open connection a later SYN met. */
static bool trace_frame(struct run *r, const struct segment *seg)
{
	struct seg_out o;
	enum trace_match m = trace_segment(r->trace, seg);
	if (((m == TM_TARGET && (seg->flags & TCPF_SYN)) || m == TM_CHALLENGE) &&
	    probe_closed_reply(seg, &o))
		send_closed_reply(r, seg, &o);
	if (m == TM_HOP || m == TM_TARGET) {
		r->rep.received++;
		trace_wake(r, mono_ns()); /* the window may be settled: see from the loop */
	}
	return m != TM_NONE;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct dispatch_ctx *d = (struct dispatch_ctx *)user;
	struct run *r = d->r;
	struct segment seg;
	enum probe_event ev;
	/* nanosecond precision: tv_usec holds nanoseconds */
	int64_t ts = (int64_t)h->ts.tv_sec * NS_PER_SEC + h->ts.tv_usec;
	if (decode_frame_wire(d->linktype, bytes, h->caplen, h->len, ts, &seg) < 0)
		return;
	if (r->trace && trace_frame(r, &seg))
		return;
	struct probe_actions a;
	struct probe *p = match_segment(&r->ports, &seg, &ev);
	if (!p) {
		on_stray(r, &seg);
		return;
	}
	if ((ev == PEV_LINGER || ev == PEV_STALE) && !r->guarded)
		return; /* no guard: the kernel answers these itself */
	if (ev == PEV_TCP || ev == PEV_ICMP)
		r->rep.received++;
	int64_t now = mono_ns();
	probe_step(p, ev, &seg, now, &a);
	r->loss_seen |= ev == PEV_LINGER && a.n > 0;
	act(r, p, &a, now);
}

/* At most DRAIN_MAX frames a turn of the loop, so deadlines and signals
 * are seen however fast frames come. */
#define DRAIN_MAX 512

static void drain_captures(struct run *r)
{
	for (size_t i = 0; i < r->ncaps; i++) {
		struct dispatch_ctx d = { r, r->caps[i].linktype };
		if (capture_dispatch(&r->caps[i], DRAIN_MAX, on_frame, (u_char *)&d) < 0) {
			diag_error(r->diag, "capture on %s: %s", r->caps[i].dev,
				   capture_error(&r->caps[i]));
			r->fatal = EXIT_SYSTEM;
		}
	}
}

/* ---- traces ------------------------------------------------------------ */

/* The traces run once every probe is done, one at a time, in the event
 * loop: their SYNs and window ends are EV_TRACE events (the one pending at
 * r->trace_at counts), their segments come through on_frame. */

/* The trace's SYNs that are due, each with its TTL or hop limit. */
static void trace_send_due(struct run *r, const struct trace_job *j, struct trace *t, int64_t now)
{
	struct trace_send due[TRACE_WINDOW];
	int n = trace_due(t, now, due, TRACE_WINDOW);
	for (int i = 0; i < n && !r->fatal; i++) {
		struct syn_options opt = { .len = 0 };
		craft_syn_options(&opt, &r->cfg->syn, syn_mss(j->rt, j->dst.family),
				  (uint32_t)(now / 1000000));
		struct tcp_seg s = { .src = &t->src, .dst = &t->dst, .sport = t->sport,
				     .dport = t->dport, .seq = due[i].isn, .flags = TCPF_SYN,
				     .win = WINDOW, .opts = opt.b, .optlen = opt.len, .ttl = due[i].ttl };
		trace_sent(t, due[i].idx, wall_ns());
		if (craft_send_syn(&r->craft, &s) < 0) {
			char ep[80];
			diag_error(r->diag, "send to %s: %s", endpoint_str(&t->dst, t->dport, ep, sizeof(ep)),
				   r->craft.err);
			r->fatal = EXIT_SYSTEM;
		}
		r->rep.sent++;
	}
}

/* The longest a trace may take: every window's rounds (the longest gap)
 * and its wait, and a second to spare; --deadline bounds it too. */
static int64_t trace_end_at(const struct run *r, const struct trace_params *tp, int64_t now)
{
	int windows = (tp->max_hops + TRACE_WINDOW - 1) / TRACE_WINDOW;
	int64_t end = now + windows * (tp->queries * trace_gap(tp, tp->wait_ns) + tp->wait_ns) +
		      NS_PER_SEC;
	if (r->cfg->deadline_ns && r->rep.start_mono + r->cfg->deadline_ns < end)
		end = r->rep.start_mono + r->cfg->deadline_ns;
	return end;
}

static void trace_wake(struct run *r, int64_t when)
{
	if (r->trace_at && r->trace_at <= when)
		return;
	r->trace_at = when;
	engine_schedule(r, (struct event){ when, EV_TRACE, 0 });
}

/* The running trace ends (done, or cut short): reported, the next may go. */
static void trace_close(struct run *r)
{
	trace_finish(r->trace);
	report_trace(r, &r->trace_jobs[r->next_trace], r->trace);
	free(r->trace);
	r->trace = NULL;
	r->trace_at = 0;
	r->next_trace++;
}

/* Send what is due, close a window that is over; the next wake-up. */
static void trace_step(struct run *r, int64_t now)
{
	struct trace *t = r->trace;
	if (now >= r->trace_end) {
		trace_close(r);
		return;
	}
	trace_tick(t, now);
	if (!t->done)
		trace_send_due(r, &r->trace_jobs[r->next_trace], t, now);
	if (t->done) {
		trace_close(r);
		return;
	}
	int64_t wake = trace_next_wake(t);
	trace_wake(r, wake < r->trace_end ? wake : r->trace_end);
}

/* The next trace, once no probe is left, from the port held longest
 * unused (the guard covers it). */
static void trace_start(struct run *r, int64_t now)
{
	const struct trace_job *j = &r->trace_jobs[r->next_trace];
	struct trace_params tp = { .max_hops = r->cfg->max_hops ? r->cfg->max_hops : TRACE_DEFAULT_HOPS,
				   .queries = r->cfg->trace_queries ? r->cfg->trace_queries
								    : TRACE_DEFAULT_QUERIES,
				   .wait_ns = r->plan.timeout_ns, .rtt_ns = j->rtt_ns };
	if (!(r->trace = malloc(sizeof(*r->trace)))) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		r->fatal = EXIT_SYSTEM;
		return;
	}
	uint16_t sport = r->probes[r->free_slots[r->free_head]].sport;
	trace_init(r->trace, &tp, &r->key, &j->rt->src, &j->dst, sport, j->port, now);
	r->trace_end = trace_end_at(r, &tp, now);
	trace_step(r, now);
}

static bool traces_left(const struct run *r)
{
	return r->trace || r->next_trace < r->ntrace_jobs;
}

/* After the loop: a trace cut short by a signal or --deadline is reported
 * with what came in; the rest are not started. */
static void traces_end(struct run *r)
{
	if (r->trace)
		trace_close(r);
	if (r->traces_skipped)
		diag_error(r->diag, "--trace-on-fail: %llu more target:ports not traced (%d at most)",
			   (unsigned long long)r->traces_skipped, TRACE_MAX_FLOWS);
}

/* ---- the loop ---------------------------------------------------------- */

/* Frames come faster than we send: check the capture's drop count now and
 * then; a fleet without --rate halves its pace when the kernel dropped
 * frames, and grows it back slowly while it keeps up. */
static void watch_drops(struct run *r, int64_t now)
{
	uint64_t drops = 0;
	for (size_t i = 0; i < r->ncaps; i++)
		drops += capture_drops(&r->caps[i]);
	bool dropped = drops > r->drops_seen;
	r->drops_seen = drops;
	if (dropped)
		r->pp.own_reliable = false;
	if (r->flows.auto_rate)
		pacer_adapt(&r->flows.pacer, dropped);
	engine_schedule(r, (struct event){ now + WATCH_NS, EV_WATCH, 0 });
}

static void handle_event(struct run *r, const struct event *e, int64_t now)
{
	switch (e->kind) {
	case EV_SEND:
		flows_due(&r->flows, e->id);
		pump(r, now);
		return;
	case EV_PUMP:
		if (e->when_ns == r->pump_at)
			r->pump_at = 0;
		pump(r, now);
		return;
	case EV_PROGRESS:
		report_progress(r, now, false);
		engine_schedule(r, (struct event){ now + PROGRESS_NS, EV_PROGRESS, 0 });
		return;
	case EV_WATCH:
		watch_drops(r, now);
		return;
	case EV_DEADLINE:
		r->deadline_hit = true;
		return;
	case EV_TRACE:
		if (r->trace && e->when_ns == r->trace_at) {
			r->trace_at = 0;
			trace_step(r, now);
		}
		return;
	case EV_TIMEOUT:
		break;
	}
	struct probe *p = &r->probes[e->id];
	struct probe_actions a;
	if (p->state != PS_FREE && p->state != PS_DONE) {
		probe_step(p, PEV_TIMER, NULL, now, &a);
		act(r, p, &a, now);
	}
}

static bool finished(const struct run *r)
{
	return r->fatal || stop_signal || r->rep.write_errno || r->deadline_hit ||
	       (r->live == 0 && flows_finished(&r->flows) && !r->serve && !traces_left(r));
}

int engine_submit(struct run *r, const struct flow_spec *sp)
{
	int slot = flows_add(&r->flows, sp);
	if (slot >= 0)
		pump(r, mono_ns());
	return slot;
}

/* Sleep in poll() exactly until the next deadline, a frame or a signal. */
static void wait_for_work(struct run *r)
{
	struct pollfd pfd[CAPTURE_MAX + 2];
	const struct event *next = sched_peek(&r->sched);
	int64_t d = next ? next->when_ns - mono_ns() : NS_PER_SEC;
	if (r->serve) {
		int64_t sd = serve_timeout_ns(r);
		if (sd >= 0 && sd < d)
			d = sd;
	}
	if (d < 0)
		d = 0;
	struct timespec tmo = { (time_t)(d / NS_PER_SEC), (long)(d % NS_PER_SEC) };
	size_t n = 0;
	for (size_t i = 0; i < r->ncaps; i++)
		pfd[n++] = (struct pollfd){ r->caps[i].fd, POLLIN, 0 };
	pfd[n++] = (struct pollfd){ r->wake_fd[0], POLLIN, 0 };
	if (r->serve)
		pfd[n++] = (struct pollfd){ serve_fd(r), POLLIN, 0 };
	if (stop_signal)
		return;
	if (ppoll(pfd, n, &tmo, NULL) < 0 && errno != EINTR) {
		diag_error(r->diag, "poll: %s", strerror(errno));
		r->fatal = EXIT_SYSTEM;
	}
}

/* The end of a full-mode run on a path that lost segments: linger a
 * while, as TIME-WAIT would, acknowledging the FIN of a server that missed
 * our last ACK (and resetting what else comes); then ACK once more and reset
 * every connection in TIME-WAIT, twice, since on such a path our last ACK may have been lost
 * again and nothing tells us that it arrived (a server that has closed
 * drops the resets silently). A clean path ends at once, and after exit the
 * kernel answers late segments with a RST itself (the guard is gone). */
static void linger(struct run *r)
{
	int64_t end = mono_ns() + LINGER_NS;
	while (!stop_signal && !r->fatal && mono_ns() < end) {
		wait_for_work(r);
		drain_captures(r);
		int64_t now = mono_ns();
		struct event e;
		while (sched_peek(&r->sched) && sched_peek(&r->sched)->when_ns <= now) {
			sched_pop(&r->sched, &e);
			if (e.kind == EV_WATCH)
				engine_schedule(r, (struct event){ now + WATCH_NS, EV_WATCH, 0 });
		}
		if (!sched_peek(&r->sched))
			engine_schedule(r, (struct event){ end, EV_WATCH, 0 });
	}
	for (size_t i = 0; i < r->nports; i++) {
		struct probe *p = &r->probes[i];
		if (p->state == PS_DONE && p->tw) {
			/* our last ACK once more (what a server in LAST-ACK waits
			 * for), then resets: any one of the three that arrives frees
			 * it; on a path losing 10% all three are lost 1 time in 1,000 */
			struct seg_out ack = { .flags = TCPF_ACK, .seq = p->snd_nxt, .ack = p->rcv_nxt,
					       .tsval = probe_tsval(p, mono_ns()) };
			struct seg_out o = { .flags = TCPF_RST, .seq = p->snd_nxt };
			send_seg(r, p, &ack);
			send_seg(r, p, &o);
			send_seg(r, p, &o);
		}
	}
}

static void event_loop(struct run *r)
{
	pump(r, mono_ns());
	if (r->rep.progress)
		engine_schedule(r, (struct event){ r->rep.start_mono + PROGRESS_NS, EV_PROGRESS, 0 });
	engine_schedule(r, (struct event){ r->rep.start_mono + WATCH_NS, EV_WATCH, 0 });
	if (r->cfg->deadline_ns)
		engine_schedule(r, (struct event){ r->rep.start_mono + r->cfg->deadline_ns, EV_DEADLINE,
						   0 });
	while (!finished(r)) {
		wait_for_work(r);
		/* 1. replies first: a frame already captured beats its timeout */
		drain_captures(r);
		/* 2. every due deadline, timeouts before sends at equal times */
		int64_t now = mono_ns();
		struct event e;
		unsigned handled = 0;
		while (!finished(r) && sched_peek(&r->sched) && sched_peek(&r->sched)->when_ns <= now) {
			sched_pop(&r->sched, &e);
			handle_event(r, &e, now);
			if (++handled % DRAIN_EVERY == 0)
				drain_captures(r);
		}
		/* 3. --serve: requests in, answers out */
		if (r->serve && !r->fatal)
			serve_work(r);
		/* 4. every probe done: the next trace */
		if (!r->trace && r->live == 0 && flows_finished(&r->flows) && traces_left(r) &&
		    !finished(r))
			trace_start(r, mono_ns());
	}
}

/* ---- results ----------------------------------------------------------- */

/* The exit-code policy (the same for every format but nagios): a system
 * error, then a quorum met (--min-open), then names, then every open.
 * Nagios: its one line, UNKNOWN on a system error, and its state. */
static int exit_code(const struct run *r)
{
	if (r->cfg->format == FORMAT_NAGIOS)
		return (int)nagios_finish(&r->rep.out, r->fatal ? r->diag->first : NULL);
	if (r->fatal)
		return r->fatal;
	if (r->cfg->th.min_open)
		return r->rep.flows_by[OUTCOME_OPEN] >= (uint64_t)r->cfg->th.min_open ? EXIT_ALL_OPEN
										      : EXIT_NOT_OPEN;
	if (r->plan.targets.unresolved)
		return EXIT_RESOLVE;
	if (r->cfg->require_any) /* one open target:port is enough */
		return r->rep.flows_by[OUTCOME_OPEN] > 0 ? EXIT_ALL_OPEN : EXIT_NOT_OPEN;
	if (r->rep.flows_check_failed) /* open, but its TLS or --expect check failed */
		return EXIT_NOT_OPEN;
	if (r->cfg->th.expecting) /* compliance: every named port in its state */
		return r->rep.flows_done > 0 && r->rep.flows_unexpected == 0 ? EXIT_ALL_OPEN
									       : EXIT_NOT_OPEN;
	if (r->cfg->mode == PMODE_SCAN || r->cfg->mode == PMODE_PERFLAG)
		return r->rep.flows_done > 0 && r->rep.flows_undetermined == 0 ? EXIT_ALL_OPEN : EXIT_NOT_OPEN;
	return r->rep.flows_done > 0 && r->rep.flows_by[OUTCOME_OPEN] == r->rep.flows_done ? EXIT_ALL_OPEN
										 : EXIT_NOT_OPEN;
}

static void report(struct run *r)
{
	report_progress(r, 0, true);
	report_live(r); /* an interrupted run: what its target:ports saw so far */
	const uint64_t *by = r->rep.flows_by;
	struct run_summary rs = { r->rep.sent, r->rep.received, 0,
				  r->flows.retried + r->retried_syns, r->rep.flows_done,
				  by[OUTCOME_OPEN], by[OUTCOME_CLOSED], by[OUTCOME_FILTERED],
				  by[OUTCOME_UNREACHABLE],
				  r->flows.excluded, mono_ns() - r->rep.start_mono, r->rep.start_wall,
				  r->plan.targets.unresolved, r->plan.targets.first_unresolved,
				  by[OUTCOME_UNFILTERED], by[OUTCOME_OPEN_FILTERED], r->cfg->mode };
	for (size_t i = 0; i < r->ncaps; i++)
		rs.pcap_drops += capture_drops(&r->caps[i]);
	r->rep.out.ops->run(&r->rep.out, &rs);
	if ((fflush(r->rep.out.f) != 0 || ferror(r->rep.out.f)) && !r->rep.write_errno)
		r->rep.write_errno = errno ? errno : EIO;
}

/* Where the report goes: stdout, or -o's temporary file. */
static int open_output(struct run *r)
{
	char err[300];
	const struct config *cfg = r->cfg;
	r->rep.out.ops = output_ops_for(cfg->format);
	r->rep.out.f = stdout;
	setvbuf(stdout, NULL, _IOLBF, 0); /* a line as soon as a probe is done */
	r->rep.out.verbose = cfg->verbose;
	r->rep.out.quiet = cfg->quiet;
	r->rep.out.timestamps = cfg->timestamps;
	r->rep.out.only = cfg->only;
	r->rep.out.th = &cfg->th;
	if ((cfg->silent || cfg->smokeping) && !cfg->output && cfg->format != FORMAT_NAGIOS) {
		/* -qq: the exit status alone; the report goes nowhere */
		if (!(r->rep.out.f = fopen("/dev/null", "we"))) {
			diag_error(r->diag, "/dev/null: %s", strerror(errno));
			return EXIT_SYSTEM;
		}
		r->rep.silent_f = r->rep.out.f;
	}
	if (cfg->output) {
		if (output_file_open(&r->rep.file, cfg->output, err, sizeof(err)) < 0) {
			diag_error(r->diag, "%s", err);
			return EXIT_SYSTEM;
		}
		r->rep.out.f = r->rep.file.f;
	}
	return 0;
}

/* -o: rename the finished report into place. A failed write is exit 4;
 * a reader that went away (| head) ends the run quietly. */
static int close_output(struct run *r, int rc)
{
	char err[300];
	/* the last lines (Nagios writes its one line only now) must be out too */
	if ((fflush(r->rep.out.f) != 0 || ferror(r->rep.out.f)) && !r->rep.write_errno)
		r->rep.write_errno = errno ? errno : EIO;
	if (!r->cfg->output) {
		if (r->rep.write_errno == EPIPE)
			return rc;
		if (r->rep.write_errno) {
			diag_error(r->diag, "standard output: %s", r->rep.write_errno == EINTR && stop_signal
				   ? "the reader stalls; the report was cut short"
				   : strerror(r->rep.write_errno));
			return EXIT_SYSTEM;
		}
		return rc;
	}
	if (r->rep.write_errno) {
		diag_error(r->diag, "%s: %s", r->cfg->output, strerror(r->rep.write_errno));
		output_file_abort(&r->rep.file);
		return EXIT_SYSTEM;
	}
	if (output_file_commit(&r->rep.file, err, sizeof(err)) < 0) {
		diag_error(r->diag, "%s", err);
		return EXIT_SYSTEM;
	}
	return rc;
}

/* The guard's socket (the table goes with it) and the capture sockets:
 * their release in the kernel waits out RCU grace periods (some 40 ms in
 * all), left to the kernel to do after we exit. The table can outlive us by
 * that much (the man page says so); it only drops RSTs of ports we no
 * longer hold. Privileges are dropped by now, so it cannot be deleted
 * first: nftables takes only a CAP_NET_ADMIN caller's request. */
static void release_sockets(struct run *r)
{
	int fds[CAPTURE_MAX + 1];
	size_t n = 0;
	if (r->guard.fd >= 0)
		fds[n++] = r->guard.fd;
	for (size_t i = 0; i < r->ncaps; i++)
		if (r->caps[i].fd >= 0)
			fds[n++] = r->caps[i].fd;
	struct release rl;
	(void)release_begin(&rl, fds, n); /* or released by the closes below */
	guard_remove(&r->guard);
	for (size_t i = 0; i < r->ncaps; i++)
		capture_close(&r->caps[i]); /* pcap unmaps the ring: its reference too */
	release_end(&rl);
}

static void teardown(struct run *r)
{
	serve_free(r); /* the listening socket first: no request is taken now */
	release_sockets(r);
	craft_close(&r->craft);
	tls_ctx_free(&r->tls);
	port_pool_release(&r->pool);
	wake_write_fd = -1;
	for (int i = 0; i < 2; i++)
		if (r->wake_fd[i] >= 0)
			close(r->wake_fd[i]);
	port_table_free(&r->ports);
	flows_free(&r->flows);
	sched_free(&r->sched);
	free(r->hosts);
	free(r->plan.routes);
	for (size_t i = 0; r->probes && i < r->nports; i++)
		probe_release(&r->probes[i]); /* the live ones of an interrupted run */
	free(r->probes);
	free(r->slot_pp);
	free(r->trace_jobs);
	free(r->trace);
	free(r->free_slots);
	free(r->rep.out.sums);
	if (r->rep.silent_f)
		fclose(r->rep.silent_f);
	tset_free(&r->plan.targets);
	output_file_abort(&r->rep.file);
}

static int install_signals(struct run *r)
{
	struct sigaction sa;
	if (pipe2(r->wake_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	wake_write_fd = r->wake_fd[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked write returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Stopped by a signal: the summary is attempted once more, every write
 * that blocks interrupted within 100 ms (see on_signal); one that fails
 * ends the report. */
static void bound_writes(struct run *r)
{
	if (!stop_signal)
		return;
	if (r->rep.write_errno == EINTR) {
		r->rep.write_errno = 0;
		clearerr(r->rep.out.f);
	}
}

/* The run could not start: its code, or in nagios format an UNKNOWN line. */
static int not_started(const struct run *r, int code)
{
	if (r->cfg->format != FORMAT_NAGIOS)
		return code;
	fputs("TCPSHAKE UNKNOWN - ", stdout);
	put_plain(stdout, r->diag->first[0] ? r->diag->first : "nothing to probe", true);
	putchar('\n');
	return NAGIOS_UNKNOWN;
}

int engine_run(const struct config *cfg, struct diag *diag)
{
	struct run r;
	memset(&r, 0, sizeof(r));
	r.guard = (struct guard){ .fd = -1, .child = -1, .chan = -1, .errfd = -1 };
	r.wake_fd[0] = r.wake_fd[1] = -1;
	r.cfg = cfg;
	r.plan.cfg = cfg;
	r.diag = diag;
	r.pp = (struct probe_params){ .mode = cfg->mode, .close = cfg->close, .http = cfg->http,
				      .timeout_ns = cfg->timeout_ns, .retries = RETRIES,
				      .wscale = cfg->syn.wscale, .ts = cfg->syn.ts, .window = WINDOW,
				      .own_reliable = true, .middlebox = !cfg->no_middlebox };
	int rc = 0;
	if (cookie_key_random(&r.key) < 0) {
		diag_error(r.diag, "getrandom: %s", strerror(errno));
		return not_started(&r, EXIT_SYSTEM);
	}
	if ((rc = open_output(&r)) != 0 || (rc = load_targets(&r)) != 0 || (rc = make_plan(&r)) != 0 ||
	    (rc = setup_tls(&r)) != 0 ||
	    (rc = route_blocks(&r)) != 0 || (rc = setup_ports(&r)) != 0 ||
	    (rc = setup_flows(&r)) != 0 || (rc = open_raw(&r)) != 0 ||
	    (rc = start_guard(&r)) != 0 || (rc = open_captures(&r)) != 0 ||
	    (rc = finish_guard(&r)) != 0 ||
	    (cfg->serve && (rc = serve_open(&r)) != 0)) {
		teardown(&r);
		return not_started(&r, rc);
	}
	/* every socket, capture handle and the guard are open: no more privilege */
	if (privs_drop_all() < 0) {
		diag_error(r.diag, "dropping capabilities: %s", strerror(errno));
		teardown(&r);
		return not_started(&r, EXIT_SYSTEM);
	}
	if (install_signals(&r) < 0) {
		diag_error(r.diag, "pipe: %s", strerror(errno));
		teardown(&r);
		return not_started(&r, EXIT_SYSTEM);
	}
	r.rep.start_mono = mono_ns();
	r.rep.start_wall = wall_ns();
	if (r.serve) { /* a prober: requests until a signal */
		event_loop(&r);
		serve_stop(&r);
		rc = r.fatal;
		teardown(&r);
		return rc;
	}
	r.rep.out.fleet = r.plan.fleet;
	/* a health check's few lines in the order given; a scan's as they come */
	r.rep.out.ordered = r.plan.fleet && !r.plan.adaptive;
	/* traces follow their target:ports' lines: those as they finish */
	r.rep.out.ordered &= !cfg->trace && !cfg->trace_on_fail;
	if (r.rep.out.ops->begin)
		r.rep.out.ops->begin(&r.rep.out);
	event_loop(&r);
	traces_end(&r);
	bound_writes(&r);
	report(&r);
	if (r.guarded && r.loss_seen && !stop_signal && !r.fatal)
		linger(&r); /* the report is out: only the exit waits */
	rc = close_output(&r, exit_code(&r));
	if (cfg->format == FORMAT_NAGIOS && rc == EXIT_SYSTEM)
		rc = NAGIOS_UNKNOWN; /* the report could not be written: 0-3 still */
	teardown(&r);
	return rc;
}
