/* kind_tls.c - TLS over the crafted connection (--tls), and HTTPS (--tls
 * --http): an application on the byte stream (kind.h) that feeds what the
 * server sends to OpenSSL through memory (tls.h) and queues what OpenSSL
 * wants sent. The handshake's phases are timed from capture timestamps:
 * our ClientHello leaving (the first data segment of ours the capture saw),
 * the segment that completed the ServerHello, the one that completed the
 * handshake, and for HTTPS our request leaving and the first byte of the
 * answer. A check ends as a polite client ends it: close_notify, then the
 * FIN teardown. */
#include "kind.h"

#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "record.h"
#include "tls.h"

#define TLS_CHUNK 16384
#define STATUS_LINE_MAX 256

struct tls_app {
	struct tls_conn *c;
	bool https;
	bool req_queued;
	uint8_t line[STATUS_LINE_MAX]; /* HTTPS: the answer's first bytes */
	size_t line_len;
};

/* What OpenSSL wants sent, onto the stream. */
static void pump_out(struct probe *p, struct tls_app *t)
{
	uint8_t buf[TLS_CHUNK];
	size_t n;
	while (tls_pending_out(t->c) > 0 && (n = tls_take_out(t->c, buf, sizeof(buf))) > 0)
		if (!probe_send(p, buf, n))
			break; /* past the send limit: the peer times out, -W ends it */
}

struct tls_app *tls_app_start(struct probe *p, bool https)
{
	struct tls_app *t = calloc(1, sizeof(*t));
	const struct probe_params *pp = p->pp;
	if (t && pp->tls)
		t->c = tls_conn_new(pp->tls, p->host, (time_t)(p->sent_wall_ns / NS_PER_SEC));
	if (!t || !t->c) {
		free(t);
		return NULL;
	}
	t->https = https;
	p->res.tls = tls_result(t->c);
	/* the phases run from the ClientHello leaving: the first byte sent,
	 * or after a STARTTLS dialogue the first byte after it */
	probe_mark_send(p);
	pump_out(p, t);
	return t;
}

static void tls_open(struct probe *p)
{
	p->app = tls_app_start(p, p->kind == &kind_https);
	if (!p->app) { /* no memory: the port is open, the check not done */
		p->res.tls_early_error = "internal: TLS did not start";
		p->close_wanted = true;
	}
}

/* A phase from our ClientHello leaving to the segment at ts (the mark is
 * the ClientHello's until an HTTPS request, sent once the phases are over,
 * takes it). */
static int64_t since_hello(const struct probe *p, int64_t ts)
{
	return p->mark_wire_ns > 0 && ts >= p->mark_wire_ns ? ts - p->mark_wire_ns : -1;
}

/* HTTPS: the request, once the handshake is done and trusted; its first
 * byte is timed leaving (probe_mark_send) for the time to the first byte. */
static void send_request(struct probe *p, struct tls_app *t)
{
	t->req_queued = true;
	probe_mark_send(p);
	if (tls_write(t->c, p->req, p->req_len) < 0)
		tls_close(t->c);
}

/* HTTPS: the answer's bytes, decrypted: its status line and size. */
static void read_answer(struct probe *p, struct tls_app *t, int64_t ts)
{
	uint8_t buf[TLS_CHUNK];
	size_t n;
	struct http_result *h = &p->res.http;
	while ((n = tls_read(t->c, buf, sizeof(buf))) > 0) {
		if (h->bytes == 0 && p->mark_wire_ns > 0 && ts >= p->mark_wire_ns)
			h->ttfb_ns = ts - p->mark_wire_ns;
		h->bytes += n;
		size_t room = sizeof(t->line) - t->line_len;
		size_t k = n < room ? n : room;
		memcpy(t->line + t->line_len, buf, k);
		t->line_len += k;
		if (h->status == 0 && (memchr(t->line, '\n', t->line_len) ||
				       t->line_len == sizeof(t->line)))
			h->status = http_status(t->line, t->line_len);
	}
}

enum app_verdict tls_app_feed(struct probe *p, struct tls_app *t, const struct app_input *in,
			      size_t *consumed)
{
	if (!t)
		return APP_CLOSE;
	unsigned ev = in->len ? tls_feed(t->c, in->data, in->len) : 0;
	*consumed = in->len;
	if ((ev & TLS_EV_SERVER_HELLO) && p->res.tls_hello_ns < 0)
		p->res.tls_hello_ns = since_hello(p, in->ts_ns);
	if (ev & TLS_EV_ESTABLISHED) {
		p->res.tls_handshake_ns = since_hello(p, in->ts_ns);
		const struct tls_result *res = tls_result(t->c);
		/* HTTP/1.1 only: a server that chose h2 (the user's --alpn)
		 * gets no request; nor does one that is not trusted */
		if (t->https && !res->error[0] && strcmp(res->alpn, "h2") != 0)
			send_request(p, t);
		else
			tls_close(t->c);
	}
	if (ev & TLS_EV_APP_DATA)
		read_answer(p, t, in->ts_ns);
	if (in->eof)
		tls_eof(t->c);
	/* their FIN: the probe closes as a full probe does (ours, LAST_ACK) */
	bool over = ((ev & TLS_EV_CLOSED) || tls_state(t->c) == TLS_FAILED) && !in->eof;
	/* their close_notify is not answered with ours: a server sends it as
	 * it closes its socket (nginx, Connection: close), and bytes reaching
	 * a closed socket draw a reset; our FIN ends it cleanly, as browsers
	 * do. We close first with close_notify, then FIN, when we end it. */
	pump_out(p, t);
	/* without HTTPS the check is over once the handshake is; with it, once
	 * the server has answered and closed (Connection: close) */
	if (over || (tls_state(t->c) == TLS_CLOSED && !in->eof))
		return APP_CLOSE;
	return APP_MORE;
}

static enum app_verdict tls_data(struct probe *p, const struct app_input *in, size_t *consumed)
{
	return tls_app_feed(p, p->app, in, consumed);
}

void tls_app_free(struct probe *p, struct tls_app *t)
{
	p->res.tls = NULL;
	if (!t)
		return;
	tls_conn_free(t->c);
	free(t);
}

static void tls_release(struct probe *p)
{
	tls_app_free(p, p->app);
}

void tls_app_timeout(struct tls_app *t)
{
	if (t)
		tls_timeout(t->c);
}

/* The wait ended with the handshake unfinished: that fails the check. */
static void tls_timeout_hook(struct probe *p)
{
	tls_app_timeout(p->app);
}

static const struct probe_app tls_app = { .on_open = tls_open, .on_data = tls_data,
					  .on_timeout = tls_timeout_hook, .on_release = tls_release };

/* Add a field and mark it a detail (JSON and CSV, not the text line). */
#define DETAIL(call) \
	do { \
		call; \
		record_detail(rec); \
	} while (0)


static void tls_session_fields(const struct probe_result *res, const struct tls_result *t,
			       struct record *rec)
{
	bool up = t != NULL;
	/* a STARTTLS dialogue that failed: TLS never started, and that is
	 * why the check fails */
	const char *error = up && tls_check_error(t) ? tls_check_error(t) : res->tls_early_error;
	record_str(rec, "tls.version", up && t->version[0] ? t->version : NULL);
	DETAIL(record_str(rec, "tls.cipher", up && t->cipher[0] ? t->cipher : NULL));
	record_str(rec, "tls.alpn", up && t->alpn[0] ? t->alpn : NULL);
	DETAIL(record_fixed3_or_null(rec, "tls.hello_ms", up && res->tls_hello_ns >= 0,
				     (double)res->tls_hello_ns / 1e6));
	record_fixed3_or_null(rec, "tls.handshake_ms", up && res->tls_handshake_ns >= 0,
			      (double)res->tls_handshake_ns / 1e6);
	record_str(rec, "tls.error", error);
	DETAIL(record_str(rec, "tls.error_detail", up && t->error_detail[0] ? t->error_detail : NULL));
}



static void tls_cert_fields(const struct tls_result *t, struct record *rec)
{
	bool cert = t && t->cert_present;
	record_int_or_null(rec, "cert.days_left", cert, cert ? t->days_left : 0);
	record_bool_or_null(rec, "cert.verify", cert, cert && t->verify_ok);
	DETAIL(record_str(rec, "cert.problem", cert && t->cert_reason[0] ? t->cert_reason : NULL));
	DETAIL(record_str(rec, "cert.verify_error", cert ? t->verify_error : NULL));
	DETAIL(record_bool_or_null(rec, "cert.hostname_ok", cert && t->hostname_checked,
			    cert && t->hostname_ok));
	DETAIL(record_str(rec, "cert.subject", cert ? t->subject : NULL));
	DETAIL(record_str(rec, "cert.issuer", cert ? t->issuer : NULL));
	DETAIL(record_str(rec, "cert.sans", cert ? t->sans_text : NULL));
	DETAIL(record_str(rec, "cert.key", cert && t->key[0] ? t->key : NULL));
	DETAIL(record_int_or_null(rec, "cert.not_after", cert, cert ? t->not_after : 0));
	DETAIL(record_int_or_null(rec, "cert.not_before", cert, cert ? t->not_before : 0));
	DETAIL(record_int_or_null(rec, "cert.chain_not_after", cert, cert ? t->chain_not_after : 0));
	DETAIL(record_bool_or_null(rec, "cert.ocsp_stapled", cert, cert && t->ocsp_stapled));
}

/* What the handshake found, for every format: the session (tls.*) and the
 * server's certificate (cert.*). */
void tls_fields(const struct probe_result *res, struct record *rec)
{
	const struct tls_result *t = res->established ? res->tls : NULL;
	tls_session_fields(res, t, rec);
	tls_cert_fields(t, rec);
}

const struct probe_kind kind_tls = { .name = "tls", .flags = TCPF_SYN, .handshake = true,
				     .after = AFTER_APP, .answers = kind_connect_answers,
				     .classify = kind_connect_classify, .fields = tls_fields,
				     .app = &tls_app };
const struct probe_kind kind_https = { .name = "https", .flags = TCPF_SYN, .handshake = true,
				       .after = AFTER_APP, .answers = kind_connect_answers,
				       .classify = kind_connect_classify, .fields = tls_fields,
				       .app = &tls_app };
