/* flows.c - the flow scheduler: which target:port comes next (a keyed
 * permutation of the target x port space, sharded, minus excludes), when
 * its SYNs may go (the pacer, a free source port), sends again of silent
 * probes, and when a target:port is done. State is kept only for the
 * target:ports in flight, so memory does not grow with the target count. */
#include "run.h"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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

int flows_setup(struct run *r)
{
	size_t cap = r->space < r->nports ? (size_t)r->space : r->nports;
	if (cap == 0)
		cap = 1;
	r->nflows = cap;
	r->flows = calloc(cap, sizeof(*r->flows));
	r->free_flows = calloc(cap, sizeof(*r->free_flows));
	r->q_cap = cap + 16;
	r->queue = calloc(r->q_cap, sizeof(*r->queue));
	if (!r->flows || !r->free_flows || !r->queue) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < cap; i++)
		r->free_flows[i] = (uint32_t)(cap - 1 - i);
	r->free_nflows = cap;
	r->rtos = calloc(r->targets.n ? r->targets.n : 1, sizeof(*r->rtos));
	if (!r->rtos) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	r->pacer.gap_ns = r->cfg->rate > 0 ? (int64_t)(1e9 / r->cfg->rate) : 0;
	/* a fleet without --rate is paced by what the capture keeps up with */
	r->auto_rate = r->fleet && r->cfg->rate <= 0;
	if (r->auto_rate)
		r->pacer.gap_ns = INT64_C(1000000000) / PACER_START_PPS;
	r->progress = r->fleet && !r->cfg->quiet && isatty(STDERR_FILENO);
	return 0;
}

static int enqueue(struct run *r, struct send_req q)
{
	if (r->q_n == r->q_cap) {
		size_t cap = r->q_cap * 2;
		struct send_req *v = malloc(cap * sizeof(*v));
		if (!v) {
			diag_error(r->diag, "memory: %s", strerror(errno));
			r->fatal = EXIT_SYSTEM;
			return -1;
		}
		for (size_t i = 0; i < r->q_n; i++)
			v[i] = r->queue[(r->q_head + i) % r->q_cap];
		free(r->queue);
		r->queue = v;
		r->q_cap = cap;
		r->q_head = 0;
	}
	r->queue[(r->q_head + r->q_n++) % r->q_cap] = q;
	return 0;
}

/* Fill a flow slot for target index t, port index pi. */
static int open_flow(struct run *r, uint32_t slot, uint64_t t, size_t pi)
{
	struct flow *f = &r->flows[slot];
	const char *name;
	size_t block;
	memset(f, 0, sizeof(*f));
	tset_at(&r->targets, t, &f->dst, &name, &block);
	f->live = true;
	f->port = r->cfg->ports.v[pi];
	f->rt = &r->routes[block];
	struct flow_summary *s = &f->sum;
	addr_str(&f->dst, s->target_buf, sizeof(s->target_buf));
	s->name = name;
	s->index = t * r->cfg->ports.n + pi;
	s->addr = f->dst;
	s->port = f->port;
	s->mode = r->cfg->mode;
	s->kind = r->cfg->mode == PMODE_PERFLAG ? "flags" : flows_kind(r, 0)->name;
	s->http = r->cfg->http;
	if (r->cfg->http &&
	    !(f->req = http_request(r->cfg, summary_target(s), &f->dst, f->port, &f->req_len))) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		r->fatal = EXIT_SYSTEM;
		return -1;
	}
	return 0;
}

/* The next target:port of the order, as a flow with its first SYN queued. */
static bool admit(struct run *r)
{
	const struct config *cfg = r->cfg;
	if (r->free_nflows == 0)
		return false;
	while (r->pos < r->space) {
		uint64_t i = perm_at(&r->perm, r->pos++);
		if (cfg->shard_n && i % cfg->shard_n != cfg->shard_i)
			continue;
		uint32_t slot = r->free_flows[--r->free_nflows];
		if (open_flow(r, slot, i / cfg->ports.n, (size_t)(i % cfg->ports.n)) < 0)
			return false;
		if (tset_excluded(&r->targets, &r->flows[slot].dst)) {
			r->flows[slot].live = false;
			free(r->flows[slot].req);
			r->free_flows[r->free_nflows++] = slot;
			r->excluded++;
			continue;
		}
		r->live_flows++;
		r->flows[slot].next_seq = 1;
		r->flows[slot].busy = 1;
		return enqueue(r, (struct send_req){ slot, 0, 0 }) == 0;
	}
	return false;
}

const struct probe_kind *flows_kind(const struct run *r, uint32_t seq)
{
	switch (r->cfg->mode) {
	case PMODE_PERFLAG:
		return perflag_kinds[seq % PERFLAG_KINDS];
	case PMODE_SCAN:
		return r->cfg->scan;
	case PMODE_SYN:
		return &kind_syn;
	default:
		return r->cfg->http ? &kind_http : &kind_full;
	}
}

/* The wait before a flow's next probe number: -i, but the five probes of a
 * round of -M flags go one after the other. */
static int64_t next_gap(const struct run *r, uint32_t next_seq)
{
	if (r->cfg->mode == PMODE_PERFLAG && next_seq % PERFLAG_KINDS != 0)
		return 0;
	return r->cfg->interval_ns;
}

/* At most one pump waits for the pacer: one event a send, not one a caller. */
static void schedule_pump(struct run *r, int64_t when)
{
	if (r->pump_at && r->pump_at <= when)
		return;
	r->pump_at = when;
	engine_schedule(r, (struct event){ when, EV_PUMP, 0 });
}

void flows_pump(struct run *r, int64_t now)
{
	while (!r->fatal && r->free_n > 0) {
		if (r->q_n == 0 && !admit(r))
			return;
		int64_t when;
		if (!pacer_ready(&r->pacer, now, &when)) {
			schedule_pump(r, when);
			return;
		}
		struct send_req q = r->queue[r->q_head];
		r->q_head = (r->q_head + 1) % r->q_cap;
		r->q_n--;
		pacer_take(&r->pacer, now);
		engine_start_probe(r, &q, now);
		struct flow *f = &r->flows[q.flow];
		/* the next probe number, an interval after this one started */
		if (q.tries == 0 && q.seq + 1 == f->next_seq &&
		    (r->count == 0 || f->next_seq < r->count))
			engine_schedule(r, (struct event){ now + next_gap(r, f->next_seq), EV_SEND,
							   q.flow });
	}
}

/* A port came free: pump from the loop, not from the capture callback, so
 * a stream of answers cannot keep the loop from its deadlines and signals. */
void flows_wake(struct run *r, int64_t now)
{
	schedule_pump(r, now);
}

void flows_send_due(struct run *r, uint32_t flow, int64_t now)
{
	struct flow *f = &r->flows[flow];
	if (!f->live)
		return;
	f->busy++;
	if (enqueue(r, (struct send_req){ flow, f->next_seq++, 0 }) == 0)
		flows_pump(r, now);
}

/* -M flags: one answer of the round; the round's line once all five are in. */
static void perflag_take(struct run *r, struct flow *f, const struct probe *p)
{
	struct perflag_answer *a = &f->pf[p->seq % PERFLAG_KINDS];
	a->seen = p->res.icmp || p->res.flags != 0;
	a->icmp = p->res.icmp;
	a->flags = p->res.flags;
	f->pf_done++;
	if (f->pf_done % PERFLAG_KINDS == 0) {
		struct perflag_report pr = { summary_target(&f->sum), &f->dst, f->port, f->pf,
					     perflag_verdict(f->pf) };
		if (r->out.ops->perflag)
			r->out.ops->perflag(&r->out, &pr);
		f->verdicts_bad |= pr.verdict != VERDICT_NO_FILTER && pr.verdict != VERDICT_CLOSED;
		memset(f->pf, 0, sizeof(f->pf));
	}
}

static void report_flow(struct run *r, struct flow *f)
{
	r->flows_done++;
	/* a flag scan's state is determined by an answer; -M flags' verdict
	 * finds no filter */
	r->flows_undetermined += r->cfg->mode == PMODE_PERFLAG ? f->verdicts_bad : !f->answered;
	r->flows_by[summary_outcome(&f->sum)]++;
	if (!r->write_errno &&
	    (r->cfg->format > FORMAT_CSV || output_shows(&r->out, summary_outcome(&f->sum))))
		r->out.ops->summary(&r->out, &f->sum);
	if (ferror(r->out.f) && !r->write_errno)
		r->write_errno = errno ? errno : EIO;
}

static void close_flow(struct run *r, uint32_t slot)
{
	struct flow *f = &r->flows[slot];
	report_flow(r, f);
	free(f->req);
	f->req = NULL;
	f->live = false;
	r->free_flows[r->free_nflows++] = slot;
	r->live_flows--;
}

void flows_probe_done(struct run *r, struct probe *p, int64_t now)
{
	struct flow *f = &r->flows[p->flow];
	bool silent = !p->res.icmp && p->res.flags == 0 && !p->res.no_neighbour;
	if (silent && p->tries < r->retries) {
		r->retried++; /* silent: send it again before calling it filtered */
		enqueue(r, (struct send_req){ p->flow, p->seq, (uint8_t)(p->tries + 1) });
		return;
	}
	/* the adaptive timeout learns from the target's own TCP answers, taken
	 * on the wire from a SYN that was not sent again (Karn): an ICMP error
	 * from a router on the way says nothing of the target's distance */
	if (r->adaptive && p->res.rtt_source == RTT_WIRE && p->rtt_clean &&
	    (p->res.outcome == OUTCOME_OPEN || p->res.outcome == OUTCOME_CLOSED))
		rto_sample(&r->rtos[f->rt - r->routes], p->res.rtt_ns);
	struct probe_report rep = { summary_target(&f->sum), &f->dst, f->port, p->sport, p->seq, &p->res,
				    p->phase_deadline - p->sent_mono_ns,
				    p->res.reply_wall_ns ? p->res.reply_wall_ns : p->sent_wall_ns,
				    r->cfg->mode, r->cfg->http, p->kind->name };
	summary_add(&f->sum, &p->res);
	f->ever_open |= p->res.outcome == OUTCOME_OPEN;
	f->answered |= !silent;
	if (r->cfg->mode == PMODE_PERFLAG)
		perflag_take(r, f, p);
	if (!r->write_errno && (r->cfg->format > FORMAT_CSV || output_shows(&r->out, p->res.outcome)))
		r->out.ops->probe(&r->out, &rep);
	if (ferror(r->out.f) && !r->write_errno)
		r->write_errno = errno ? errno : EIO;
	f->busy--;
	f->done++;
	if (r->count && f->done >= r->count && f->busy == 0)
		close_flow(r, p->flow);
	(void)now;
}

bool flows_finished(const struct run *r)
{
	return r->pos >= r->space && r->live_flows == 0 && r->q_n == 0;
}

void flows_report_live(struct run *r)
{
	for (size_t i = 0; i < r->nflows && !ferror(r->out.f); i++)
		if (r->flows[i].live && r->flows[i].sum.sent > 0)
			report_flow(r, &r->flows[i]);
}

void flows_progress(struct run *r, int64_t now, bool last)
{
	if (!r->progress)
		return;
	if (last) {
		fputs("\r\033[K", stderr);
		return;
	}
	double secs = (double)(now - r->start_mono) / 1e9;
	uint64_t total = r->cfg->shard_n ? r->space / r->cfg->shard_n : r->space;
	double rate = secs > 0 ? (double)r->sent / secs : 0;
	double eta = rate > 0 && total > r->flows_done ? (double)(total - r->flows_done) / rate : 0;
	fprintf(stderr,
		"\r\033[K%llu/%llu target:ports, %.0f probes/s, ETA %.0f s: %llu open, %llu closed, "
		"%llu filtered, %llu unreachable",
		(unsigned long long)r->flows_done, (unsigned long long)total, rate, eta,
		(unsigned long long)r->flows_by[OUTCOME_OPEN],
		(unsigned long long)r->flows_by[OUTCOME_CLOSED],
		(unsigned long long)r->flows_by[OUTCOME_FILTERED],
		(unsigned long long)r->flows_by[OUTCOME_UNREACHABLE]);
}
