/* kind_banner.c - what a service says: two applications on the byte
 * stream (kind.h) built on banner.h's pure parts.
 *
 *   banner    --expect, --send, --banner: send --send's bytes (if any),
 *             read the answer or the greeting, match --expect against it
 *             as it arrives (banner_match), then our FIN. Without --expect
 *             the reading stops at the first whole line. Its times run
 *             from our --send leaving, or from the SYN/ACK, to the segment
 *             that brought the first byte and the one that completed the
 *             match, all capture timestamps.
 *   starttls  --starttls smtp|imap|pop3: the protocol's plain-text
 *             dialogue (starttls_feed), then on the same stream the TLS
 *             client of kind_tls.c, which does the rest as --tls does. A
 *             dialogue that fails (STARTTLS not offered, refused, a reply
 *             out of place) fails the TLS check with its reason. */
#include "kind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "record.h"

/* ---- banner ------------------------------------------------------------- */

struct banner_app {
	struct banner_match m;
	struct banner_result r;
	bool sent;       /* --send: the times run from it leaving */
	int64_t last_ts; /* the capture time of the last byte read */
};

static void banner_open(struct probe *p)
{
	struct banner_app *b = calloc(1, sizeof(*b));
	if (!b) {
		p->close_wanted = true; /* no memory: the port is open, nothing more is known */
		return;
	}
	const struct app_params *ap = p->pp->app;
	banner_match_init(&b->m, ap ? ap->expect : NULL);
	b->r.expecting = ap && ap->expect;
	b->r.first_byte_ns = b->r.match_ns = -1;
	p->app = b;
	p->res.banner = &b->r;
	if (ap && ap->send && ap->send_len) {
		b->sent = true;
		probe_mark_send(p);
		(void)probe_send(p, ap->send, ap->send_len);
	}
}

/* From our --send leaving (or the SYN/ACK) to the segment at ts; -1 when
 * the start is not known yet (our segment not captured) or after ts. */
static int64_t since_start(const struct probe *p, const struct banner_app *b, int64_t ts)
{
	int64_t t0 = b->sent ? p->mark_wire_ns : p->res.reply_wall_ns;
	return t0 > 0 && ts >= t0 ? ts - t0 : -1;
}

/* The reading is over: the verdict is the matcher's final state. */
static void banner_judge(struct banner_app *b, enum banner_state st)
{
	b->r.judged = true;
	b->r.matched = st == BANNER_MATCHED;
}

static enum app_verdict banner_data(struct probe *p, const struct app_input *in, size_t *consumed)
{
	struct banner_app *b = p->app;
	*consumed = in->len;
	if (!b || b->r.judged)
		return APP_CLOSE; /* a late segment: the verdict stands */
	if (in->len > 0 && b->r.bytes == 0)
		b->r.first_byte_ns = since_start(p, b, in->ts_ns);
	b->r.bytes += in->len;
	if (in->len > 0)
		b->last_ts = in->ts_ns;
	enum banner_state st = banner_match_feed(&b->m, in->data, in->len);
	banner_first_line(b->m.buf, b->m.len, b->r.first_line, sizeof(b->r.first_line));
	if (st == BANNER_NEED_MORE && in->eof)
		st = banner_match_end(&b->m);
	if (st == BANNER_MATCHED)
		b->r.match_ns = since_start(p, b, in->ts_ns);
	if (st != BANNER_NEED_MORE || in->eof) {
		banner_judge(b, st);
		return APP_CLOSE;
	}
	return APP_MORE;
}

/* The deadline (--expect-timeout, or -W): "$" may match at the end now. */
static void banner_timeout(struct probe *p)
{
	struct banner_app *b = p->app;
	if (!b || b->r.judged)
		return;
	enum banner_state st = banner_match_end(&b->m);
	if (st == BANNER_MATCHED && b->r.bytes > 0)
		b->r.match_ns = since_start(p, b, b->last_ts); /* "$": all was there then */
	banner_judge(b, st);
}

static void banner_release(struct probe *p)
{
	p->res.banner = NULL;
	free(p->app);
}

static const struct probe_app banner_app = { .on_open = banner_open, .on_data = banner_data,
					     .on_timeout = banner_timeout,
					     .on_release = banner_release };

static void ms_or_null(struct record *rec, const char *key, int64_t ns)
{
	if (ns >= 0)
		record_fixed3(rec, key, (double)ns / 1e6);
	else
		record_null(rec, key);
}

/* banner.matched is the check (null without --expect); the first line
 * last, as it may hold spaces (the text line's other fields have none). */
static void banner_fields(const struct probe_result *res, struct record *rec)
{
	const struct banner_result *b = res->established ? res->banner : NULL;
	if (b && b->expecting)
		record_bool(rec, "banner.matched", b->matched);
	else
		record_null(rec, "banner.matched");
	ms_or_null(rec, "banner.first_byte_ms", b ? b->first_byte_ns : -1);
	ms_or_null(rec, "banner.match_ms", b && b->matched ? b->match_ns : -1);
	if (b)
		record_uint(rec, "banner.bytes", b->bytes);
	else
		record_null(rec, "banner.bytes");
	record_detail(rec);
	record_str(rec, "banner.first_line", b && b->bytes ? b->first_line : NULL);
}

const struct probe_kind kind_banner = { .name = "banner", .flags = TCPF_SYN, .handshake = true,
					.after = AFTER_APP, .answers = kind_connect_answers,
					.classify = kind_connect_classify, .fields = banner_fields,
					.app = &banner_app };

/* ---- starttls ------------------------------------------------------------ */

struct starttls_app {
	struct starttls st;
	struct tls_app *tls; /* once the server said go */
	char error[STARTTLS_ERROR_MAX];
};

static void starttls_open(struct probe *p)
{
	struct starttls_app *s = calloc(1, sizeof(*s));
	if (!s) {
		p->res.tls_early_error = "internal: out of memory";
		p->close_wanted = true;
		return;
	}
	starttls_init(&s->st, p->pp->app ? p->pp->app->starttls : STARTTLS_SMTP);
	p->app = s; /* the server speaks first */
	/* until TLS starts the check has not passed: a reset, or a close, in
	 * the dialogue leaves this as its reason */
	p->res.tls_early_error = "starttls-incomplete";
}

/* The dialogue failed: its reason, and the line it was judged on when that
 * line is the server's answer ("starttls-refused: 454 TLS not available"). */
static void dialogue_failed(struct probe *p, struct starttls_app *s)
{
	starttls_error_text(&s->st, s->error, sizeof(s->error));
	p->res.tls_early_error = s->error;
}

/* The server's plain text: what the dialogue says to send, until it says
 * go (TLS starts) or fails. */
static enum app_verdict dialogue(struct probe *p, struct starttls_app *s,
				 const struct app_input *in)
{
	size_t off = 0, used;
	enum starttls_status r;
	while ((r = starttls_feed(&s->st, in->data + off, in->len - off, &used)) == STARTTLS_SEND) {
		off += used;
		(void)probe_send(p, s->st.out, s->st.out_len);
	}
	if (r == STARTTLS_MORE && in->eof)
		r = starttls_end(&s->st);
	if (r == STARTTLS_FAIL) {
		dialogue_failed(p, s);
		return APP_CLOSE;
	}
	if (r != STARTTLS_READY)
		return APP_MORE;
	if (!(s->tls = tls_app_start(p, false))) {
		p->res.tls_early_error = "internal: TLS did not start";
		return APP_CLOSE;
	}
	p->res.tls_early_error = NULL; /* TLS's own result says now */
	if (!in->eof)
		return APP_MORE;
	struct app_input end = { .ts_ns = in->ts_ns, .eof = true }; /* FIN after the go */
	size_t none = 0;
	return tls_app_feed(p, s->tls, &end, &none);
}

static enum app_verdict starttls_data(struct probe *p, const struct app_input *in,
				      size_t *consumed)
{
	struct starttls_app *s = p->app;
	if (!s)
		return APP_CLOSE;
	if (s->tls)
		return tls_app_feed(p, s->tls, in, consumed);
	*consumed = in->len;
	return dialogue(p, s, in);
}

/* No go-ahead in time: the check fails, saying where it stopped. */
static void starttls_timeout(struct probe *p)
{
	struct starttls_app *s = p->app;
	if (s && s->tls) {
		tls_app_timeout(s->tls); /* TLS began: its handshake timed out */
		return;
	}
	if (!s || s->st.status == STARTTLS_FAIL)
		return;
	snprintf(s->error, sizeof(s->error), "starttls-timeout: in %s",
		 starttls_phase_name(s->st.phase));
	p->res.tls_early_error = s->error;
}

static void starttls_release(struct probe *p)
{
	struct starttls_app *s = p->app;
	p->res.tls_early_error = NULL;
	if (!s)
		return;
	tls_app_free(p, s->tls);
	free(s);
}

static const struct probe_app starttls_app = { .on_open = starttls_open,
					       .on_data = starttls_data,
					       .on_timeout = starttls_timeout,
					       .on_release = starttls_release };

const struct probe_kind kind_starttls = { .name = "starttls", .flags = TCPF_SYN,
					  .handshake = true, .after = AFTER_APP,
					  .answers = kind_connect_answers,
					  .classify = kind_connect_classify,
					  .fields = tls_fields, .app = &starttls_app };
