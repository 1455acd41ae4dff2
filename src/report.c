/* report.c - what the engine tells the user as probes and target:ports
 * finish, through the output format (output.h), and the progress line. */
#include "run.h"
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The progress line shares the terminal with the results: it goes before
 * a result is written, and comes back at its next tick. */
static void progress_clear(struct report *rep)
{
	if (rep->progress_shown) {
		fputs("\r\033[K", stderr);
		rep->progress_shown = false;
	}
}

/* A write that failed stops the run (the caller sees write_errno). */
static void check_written(struct report *rep)
{
	if (ferror(rep->out.f) && !rep->write_errno)
		rep->write_errno = errno ? errno : EIO;
}

/* What --only lets through, for the formats it filters (output.h). */
static bool shows(const struct run *r, enum outcome oc)
{
	return !r->rep.out.ops->only_filters || output_shows(&r->rep.out, oc);
}

void report_probe(struct run *r, const struct probe *p)
{
	const struct flow *f = &r->flows.v[p->flow];
	struct probe_report pr = { summary_target(&f->sum), &f->dst, f->port, p->sport, p->seq,
				   &p->res, p->phase_deadline - p->sent_mono_ns,
				   p->res.reply_wall_ns ? p->res.reply_wall_ns : p->sent_wall_ns,
				   r->cfg->mode, r->cfg->http, p->kind, f->was };
	if (p->kind->fields) { /* the kind's own numbers, for the summary's formats */
		struct record rec;
		record_probe(&pr, &rec);
		record_keep_extra(&rec, &r->flows.v[p->flow].sum);
	}
	if (!r->rep.write_errno && shows(r, p->res.outcome)) {
		progress_clear(&r->rep);
		r->rep.out.ops->probe(&r->rep.out, &pr);
	}
	check_written(&r->rep);
}

/* -M flags: the round's line once its five answers are in. */
void report_perflag(struct run *r, struct flow *f)
{
	if (r->cfg->mode != PMODE_PERFLAG || f->pf_done == 0 || f->pf_done % PERFLAG_KINDS != 0)
		return;
	struct perflag_report pr = { summary_target(&f->sum), &f->dst, f->port, f->pf,
				     perflag_verdict(f->pf) };
	if (!r->rep.write_errno && r->rep.out.ops->perflag) {
		progress_clear(&r->rep);
		r->rep.out.ops->perflag(&r->rep.out, &pr);
	}
	check_written(&r->rep);
	f->verdicts_bad |= pr.verdict != VERDICT_NO_FILTER && pr.verdict != VERDICT_CLOSED;
	memset(f->pf, 0, sizeof(f->pf));
}

/* -C: "host : 0.12 0.13 - 0.11", fping -C's line, on stderr as fping
 * prints it (SmokePing's FPing probe reads it there). With several ports
 * the port follows the host. */
static void smokeping_line(struct run *r, const struct flow *f)
{
	const char *t = summary_target(&f->sum);
	if (r->cfg->ports.n > 1)
		fprintf(stderr, "%s:%u :", t, f->port);
	else
		fprintf(stderr, "%s :", t);
	for (uint64_t i = 0; i < r->plan.count; i++)
		if (f->rtts[i] < 0)
			fputs(" -", stderr);
		else
			fprintf(stderr, " %.2f", f->rtts[i]);
	fputc('\n', stderr);
}

void report_flow(struct run *r, struct flow *f)
{
	if (f->rtts)
		smokeping_line(r, f);
	struct report *rep = &r->rep;
	enum outcome oc = summary_outcome(&f->sum);
	rep->flows_done++;
	/* a flag scan's state is determined by an answer; -M flags' verdict
	 * finds no filter */
	rep->flows_undetermined += r->cfg->mode == PMODE_PERFLAG ? f->verdicts_bad : !f->answered;
	rep->flows_by[oc]++;
	rep->flows_unexpected += !expect_met(&r->cfg->th, &f->sum);
	rep->flows_check_failed += f->sum.tls.failed > 0 || f->sum.banner.mismatched > 0;
	if (!rep->write_errno && shows(r, oc)) {
		progress_clear(rep);
		rep->out.ops->summary(&rep->out, &f->sum);
	}
	check_written(rep);
}

/* --trace: a target:port's trace, after its probes. */
void report_trace(struct run *r, const struct trace_job *j, const struct trace *t)
{
	struct trace_report tr = { .target = j->target, .addr = &j->dst, .port = j->port, .t = t };
	if (!r->rep.write_errno && r->rep.out.ops->trace) {
		progress_clear(&r->rep);
		r->rep.out.ops->trace(&r->rep.out, &tr);
	}
	check_written(&r->rep);
}

/* An interrupted run: what its target:ports saw so far. */
void report_live(struct run *r)
{
	for (size_t i = 0; i < r->flows.n && !ferror(r->rep.out.f); i++)
		if (r->flows.v[i].live && r->flows.v[i].sum.sent > 0)
			report_flow(r, &r->flows.v[i]);
}

/* The terminal's width, or 80. */
static int term_cols(void)
{
	struct winsize ws;
	return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col : 80;
}

void report_progress(struct run *r, int64_t now, bool last)
{
	struct report *rep = &r->rep;
	char line[256];
	if (!rep->progress)
		return;
	if (last) {
		progress_clear(rep);
		return;
	}
	double secs = (double)(now - rep->start_mono) / 1e9;
	uint64_t total = r->cfg->shard_n ? r->plan.space / r->cfg->shard_n : r->plan.space;
	double rate = secs > 0 ? (double)rep->sent / secs : 0;
	double eta = rate > 0 && total > rep->flows_done ? (double)(total - rep->flows_done) / rate : 0;
	snprintf(line, sizeof(line),
		 "%llu/%llu target:ports, %.0f probes/s, ETA %.0f s: %llu open, %llu closed, "
		 "%llu filtered, %llu unreachable",
		 (unsigned long long)rep->flows_done, (unsigned long long)total, rate, eta,
		 (unsigned long long)rep->flows_by[OUTCOME_OPEN],
		 (unsigned long long)rep->flows_by[OUTCOME_CLOSED],
		 (unsigned long long)rep->flows_by[OUTCOME_FILTERED],
		 (unsigned long long)rep->flows_by[OUTCOME_UNREACHABLE]);
	/* one row: cut to the terminal's width, or it wraps and leaves a stale row */
	fprintf(stderr, "\r\033[K%.*s", term_cols() - 1, line);
	rep->progress_shown = true;
}
