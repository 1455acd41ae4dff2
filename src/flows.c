/* flows.c - the flow scheduler (see flows.h): pure, no I/O. */
#include "flows.h"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The HTTP request for a flow: Host as the user named the target. */
static uint8_t *http_request(const struct config *cfg, const char *path, const char *target,
			     const struct addr *a, uint16_t port, size_t *len)
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
			 cfg->http_method, path, host, PACKAGE_VERSION);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return (uint8_t *)req;
}

int flows_init(struct flows *fs, const struct plan *pl, size_t max_live)
{
	/* --serve has no space: its flows come with the requests */
	size_t cap = pl->space && pl->space < max_live ? (size_t)pl->space : max_live;
	memset(fs, 0, sizeof(*fs));
	fs->plan = pl;
	if (cap == 0)
		cap = 1;
	fs->n = cap;
	fs->v = calloc(cap, sizeof(*fs->v));
	fs->free = calloc(cap, sizeof(*fs->free));
	fs->q_cap = cap + 16;
	fs->queue = calloc(fs->q_cap, sizeof(*fs->queue));
	fs->rtos = calloc(pl->targets.n ? pl->targets.n : 1, sizeof(*fs->rtos));
	if (!fs->v || !fs->free || !fs->queue || !fs->rtos)
		return -1;
	for (size_t i = 0; i < cap; i++)
		fs->free[i] = (uint32_t)(cap - 1 - i);
	fs->nfree = cap;
	fs->pacer.gap_ns = pl->cfg->rate > 0 ? (int64_t)(1e9 / pl->cfg->rate) : 0;
	/* a fleet without --rate is paced by what the capture keeps up with */
	fs->auto_rate = pl->fleet && pl->cfg->rate <= 0;
	if (fs->auto_rate)
		fs->pacer.gap_ns = INT64_C(1000000000) / PACER_START_PPS;
	return 0;
}

void flows_free(struct flows *fs)
{
	for (size_t i = 0; fs->v && i < fs->n; i++) {
		free(fs->v[i].req);
		free(fs->v[i].rtts);
	}
	free(fs->v);
	free(fs->free);
	free(fs->queue);
	free(fs->rtos);
	memset(fs, 0, sizeof(*fs));
}

static void enqueue(struct flows *fs, struct send_req q)
{
	if (fs->q_n == fs->q_cap) {
		size_t cap = fs->q_cap * 2;
		struct send_req *v = malloc(cap * sizeof(*v));
		if (!v) {
			fs->nomem = true;
			return;
		}
		for (size_t i = 0; i < fs->q_n; i++)
			v[i] = fs->queue[(fs->q_head + i) % fs->q_cap];
		free(fs->queue);
		fs->queue = v;
		fs->q_cap = cap;
		fs->q_head = 0;
	}
	fs->queue[(fs->q_head + fs->q_n++) % fs->q_cap] = q;
}

const struct probe_kind *flows_kind(const struct plan *pl, uint32_t seq)
{
	switch (pl->cfg->mode) {
	case PMODE_PERFLAG:
		return perflag_kinds[seq % PERFLAG_KINDS];
	case PMODE_SCAN:
		return pl->cfg->scan;
	case PMODE_SYN:
		return &kind_syn;
	default:
		if (pl->cfg->pmtu)
			return &kind_pmtu;
		if (pl->cfg->starttls)
			return &kind_starttls;
		if (pl->cfg->expect.compiled || pl->cfg->send || pl->cfg->banner)
			return &kind_banner;
		if (pl->cfg->tls)
			return pl->cfg->http ? &kind_https : &kind_tls;
		return pl->cfg->http ? &kind_http : &kind_full;
	}
}

/* Fill a flow slot for target index t, port index pi. */
/* What every flow starts with: its target:port and route, its summary's
 * identity, and the HTTP request when it sends one (path). -1 when out of
 * memory (fs->nomem). */
struct flow_id {
	struct addr dst;
	uint16_t port;
	const struct route *rt;
	const char *name;
	enum probe_mode mode;
	const char *kind;
	bool http;
	const char *path;
};

static int flow_begin(struct flows *fs, struct flow *f, const struct flow_id *id)
{
	memset(f, 0, sizeof(*f));
	f->live = true;
	f->dst = id->dst;
	f->port = id->port;
	f->rt = id->rt;
	struct flow_summary *s = &f->sum;
	addr_str(&f->dst, s->target_buf, sizeof(s->target_buf));
	s->name = id->name;
	s->addr = f->dst;
	s->port = f->port;
	s->mode = id->mode;
	s->kind = id->kind;
	s->http = id->http;
	if (id->http && !(f->req = http_request(fs->plan->cfg, id->path, summary_target(s), &f->dst,
						 f->port, &f->req_len))) {
		fs->nomem = true;
		return -1;
	}
	return 0;
}

static int open_flow(struct flows *fs, uint32_t slot, uint64_t t, size_t pi)
{
	const struct plan *pl = fs->plan;
	const struct config *cfg = pl->cfg;
	struct flow *f = &fs->v[slot];
	struct flow_id id = { .port = cfg->ports.v[pi], .mode = cfg->mode, .http = cfg->http,
			      .path = cfg->http_path,
			      .kind = cfg->mode == PMODE_PERFLAG ? "flags" : flows_kind(pl, 0)->name };
	size_t block;
	tset_at(&pl->targets, t, &id.dst, &id.name, &block);
	id.rt = &pl->routes[block];
	if (flow_begin(fs, f, &id) < 0)
		return -1;
	f->sum.index = t * cfg->ports.n + pi;
	if (cfg->smokeping && pl->count) {
		if (!(f->rtts = malloc(pl->count * sizeof(*f->rtts)))) {
			fs->nomem = true;
			return -1;
		}
		for (uint64_t i = 0; i < pl->count; i++)
			f->rtts[i] = -1;
	}
	return 0;
}

/* A flow slot back to the free list, what it held freed. */
static void release(struct flows *fs, uint32_t slot)
{
	struct flow *f = &fs->v[slot];
	free(f->req);
	f->req = NULL;
	free(f->rtts);
	f->rtts = NULL;
	f->live = false;
	fs->free[fs->nfree++] = slot;
}

/* The next target:port of the order, as a flow with its first probe queued. */
static bool admit(struct flows *fs)
{
	const struct plan *pl = fs->plan;
	const struct config *cfg = pl->cfg;
	if (fs->nfree == 0)
		return false;
	while (fs->pos < pl->space) {
		uint64_t i = perm_at(&pl->perm, fs->pos++);
		if (cfg->shard_n && i % cfg->shard_n != cfg->shard_i)
			continue;
		uint32_t slot = fs->free[--fs->nfree];
		if (open_flow(fs, slot, i / cfg->ports.n, (size_t)(i % cfg->ports.n)) < 0)
			return false;
		if (tset_excluded(&pl->targets, &fs->v[slot].dst)) {
			release(fs, slot);
			fs->excluded++;
			continue;
		}
		fs->live++;
		fs->v[slot].next_seq = 1;
		fs->v[slot].busy = 1;
		enqueue(fs, (struct send_req){ slot, 0, 0 });
		return !fs->nomem;
	}
	return false;
}

int flows_add(struct flows *fs, const struct flow_spec *sp)
{
	const struct config *cfg = fs->plan->cfg;
	if (fs->nfree == 0 || fs->nomem)
		return -1;
	uint32_t slot = fs->free[--fs->nfree];
	struct flow *f = &fs->v[slot];
	bool http = sp->kind == &kind_http || sp->kind == &kind_https;
	struct flow_id id = { sp->dst, sp->port, sp->rt, sp->name, sp->pp->mode, sp->kind->name, http,
			      sp->http_path ? sp->http_path : cfg->http_path ? cfg->http_path : "/" };
	if (flow_begin(fs, f, &id) < 0) {
		release(fs, slot);
		return -1;
	}
	f->kind = sp->kind;
	f->pp = sp->pp;
	f->owner = sp->owner;
	/* a number of its own, not 0: the ISN is keyed by it, and a slot's
	 * port comes round to the same target:port again */
	uint32_t seq = fs->serial++ & 0x0fffffffu;
	f->next_seq = seq + 1;
	f->busy = 1;
	enqueue(fs, (struct send_req){ slot, seq, 0 });
	if (fs->nomem) {
		release(fs, slot);
		return -1;
	}
	fs->live++;
	return (int)slot;
}

/* The wait before a flow's next probe number: -i, but the five probes of a
 * round of -M flags go one after the other. */
static int64_t next_gap(const struct plan *pl, uint32_t next_seq)
{
	if (pl->cfg->mode == PMODE_PERFLAG && next_seq % PERFLAG_KINDS != 0)
		return 0;
	return pl->cfg->interval_ns;
}

void flows_next(struct flows *fs, int64_t now, bool port_free, struct flow_step *st)
{
	const struct plan *pl = fs->plan;
	memset(st, 0, sizeof(*st));
	if (fs->nomem || !port_free || (fs->q_n == 0 && !admit(fs)))
		return;
	int64_t when;
	if (!pacer_ready(&fs->pacer, now, &when)) {
		st->kind = STEP_WAIT;
		st->at = when;
		return;
	}
	struct send_req q = fs->queue[fs->q_head];
	fs->q_head = (fs->q_head + 1) % fs->q_cap;
	fs->q_n--;
	pacer_take(&fs->pacer, now);
	st->kind = STEP_SEND;
	st->q = q;
	const struct flow *f = &fs->v[q.flow];
	/* the next probe number, an interval after this one started */
	if (q.tries == 0 && q.seq + 1 == f->next_seq && !f->stop &&
	    (pl->count == 0 || f->next_seq < pl->count))
		st->next_at = now + next_gap(pl, f->next_seq);
}

void flows_due(struct flows *fs, uint32_t flow)
{
	struct flow *f = &fs->v[flow];
	if (!f->live || f->stop)
		return;
	f->busy++;
	enqueue(fs, (struct send_req){ flow, f->next_seq++, 0 });
}

bool probe_silent(const struct probe_result *res)
{
	return !res->icmp && res->flags == 0 && !res->no_neighbour;
}

/* -M flags: one answer of the round; the verdict once all five are in. */
static void perflag_take(struct flow *f, const struct probe *p)
{
	struct perflag_answer *a = &f->pf[p->seq % PERFLAG_KINDS];
	a->seen = p->res.icmp || p->res.flags != 0; /* an answer, not a SYN unsent */
	a->icmp = p->res.icmp;
	a->flags = p->res.flags;
	f->pf_done++;
}

/* A change of state, and the outage it starts or ends. */
static void track_state(struct flow *f, const struct probe *p)
{
	enum outcome oc = p->res.outcome;
	struct flow_summary *s = &f->sum;
	int64_t t = p->res.reply_wall_ns ? p->res.reply_wall_ns : p->sent_wall_ns;
	f->was = f->last != OUTCOME_NONE && f->last != oc ? f->last : OUTCOME_NONE;
	if (oc != OUTCOME_OPEN && f->last == OUTCOME_OPEN)
		s->outage_from_ns = p->sent_wall_ns;
	if (s->outage_from_ns) {
		int64_t d = (oc == OUTCOME_OPEN ? t : p->sent_wall_ns) - s->outage_from_ns;
		if (d > s->outage_ns) {
			s->outage_ns = d;
			s->outage_at_ns = s->outage_from_ns;
		}
		if (oc == OUTCOME_OPEN)
			s->outage_from_ns = 0;
	}
	f->last = oc;
}

enum done_kind flows_done(struct flows *fs, const struct probe *p)
{
	const struct plan *pl = fs->plan;
	struct flow *f = &fs->v[p->flow];
	bool silent = probe_silent(&p->res);
	if (silent && p->tries < pl->retries) {
		fs->retried++; /* silent: send it again before calling it filtered */
		enqueue(fs, (struct send_req){ p->flow, p->seq, (uint8_t)(p->tries + 1) });
		return DONE_RETRY;
	}
	/* the adaptive timeout learns from the target's own TCP answers, taken
	 * on the wire from a SYN that was not sent again (Karn): an ICMP error
	 * from a router on the way says nothing of the target's distance */
	if (pl->adaptive && p->res.rtt_source == RTT_WIRE && p->rtt_clean &&
	    (p->res.outcome == OUTCOME_OPEN || p->res.outcome == OUTCOME_CLOSED))
		rto_sample(&fs->rtos[f->rt - pl->routes], p->res.rtt_ns);
	summary_add(&f->sum, &p->res);
	track_state(f, p);
	if (f->rtts && p->seq < pl->count && p->res.rtt_source != RTT_NONE &&
	    (p->res.outcome == OUTCOME_OPEN || p->res.outcome == OUTCOME_CLOSED))
		f->rtts[p->seq] = (double)p->res.rtt_ns / 1e6;
	f->ever_open |= p->res.outcome == OUTCOME_OPEN;
	f->answered |= !silent;
	if (pl->cfg->mode == PMODE_PERFLAG)
		perflag_take(f, p);
	f->busy--;
	f->done++;
	/* --wait: the first open answer is what was waited for */
	f->stop |= pl->cfg->wait && p->res.outcome == OUTCOME_OPEN;
	return (f->stop || (pl->count && f->done >= pl->count)) && f->busy == 0 ? DONE_CLOSED
										 : DONE_COUNTED;
}

void flows_close(struct flows *fs, uint32_t slot)
{
	release(fs, slot);
	fs->live--;
}

bool flows_finished(const struct flows *fs)
{
	return fs->pos >= fs->plan->space && fs->live == 0 && fs->q_n == 0;
}

int64_t flows_wait(const struct flows *fs, const struct flow *f, int tries, int64_t floor_ns)
{
	const struct plan *pl = fs->plan;
	if (f->pp)
		return f->pp->timeout_ns;
	if (!pl->adaptive)
		return pl->timeout_ns;
	int64_t wait = rto_value(&fs->rtos[f->rt - pl->routes], floor_ns, pl->timeout_ns);
	for (int t = 0; t < tries && wait < pl->timeout_ns; t++)
		wait *= 2; /* backoff: a silent target:port is given longer each time */
	return wait > pl->timeout_ns ? pl->timeout_ns : wait;
}
